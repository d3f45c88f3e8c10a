"""One Settings class, built at start-up (never at import)."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def display_zone(name: str) -> tzinfo:
    """The time zone named ``name`` (an IANA name such as ``America/Denver``), or a
    ValueError that says what to write instead. ``UTC`` needs no time-zone
    database, so the default works on any machine."""
    from .domain.zones import zone

    return zone(name)


class Settings(BaseSettings):
    """Every setting can be given as an environment variable COLDCHECK_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="COLDCHECK_", extra="ignore")

    database_url: str = Field(
        "coldcheck.db",
        description="SQLAlchemy URL or path of the SQLite file (default ./coldcheck.db); "
                    "postgresql://… for a studio server.")
    key_dir: Path | None = Field(
        None,
        description="Folder of the productions' Ed25519 signing keys (files mode 0600). "
                    "Default: beside the SQLite file (<db>.keys/), or ./coldcheck-keys.")
    key_store: Literal["file", "database"] = Field(
        "file",
        description="Where a new production's signing key is kept: a file in key_dir, or "
                    "the database, sealed with the master key (studio servers).")
    master_key_file: Path | None = Field(
        None,
        description="File of the 32-byte master key that seals signing keys kept in the "
                    "database, and alert webhook secrets (mode 0600; `coldcheck ledger "
                    "master-key` makes one).")
    origin_host: str = Field(
        "coldcheck.local",
        description="Host part of each ledger's origin line: <host>/productions/<id>.")
    device: str = Field(
        "cli",
        description="Device name recorded in every event written by this process.")
    argon2_profile: Literal["standard", "fast-insecure-for-tests"] = Field(
        "standard",
        description="argon2id cost for PINs and passwords. The fast profile exists only so "
                    "test suites can hash thousands of PINs; never use it for real data.")

    # ---- the JSON API and `coldcheck serve` ---------------------------------
    api_host: str = Field(
        "127.0.0.1",
        description="Address `coldcheck serve` listens on. Any address but loopback needs "
                    "tls_cert and tls_key, or the --insecure-lan flag.")
    api_port: int = Field(
        8000, ge=1, le=65535, description="TCP port `coldcheck serve` listens on.")
    tls_cert: Path | None = Field(
        None,
        description="PEM certificate (chain) for HTTPS; with tls_key, lets `coldcheck serve` "
                    "listen on a set network address.")
    tls_key: Path | None = Field(
        None, description="PEM private key of tls_cert (keep it mode 0600).")
    max_body_bytes: int = Field(
        65536, ge=1024, le=16 * 1024 * 1024,
        description="Largest request body the API reads, in bytes; a bigger one is refused "
                    "with 413 BODY_TOO_LARGE and nothing is recorded.")
    session_hours: int = Field(
        12, ge=1, le=24 * 14,
        description="How long a browser session lasts after signing in (one shooting day).")
    token_max_hours: int = Field(
        720, ge=1, le=24 * 366,
        description="Longest lifetime a bearer token may be given when it is created.")
    cookie_secure: bool = Field(
        True,
        description="Mark the session cookie Secure, so browsers send it only over HTTPS or "
                    "to localhost. Turn off only on a test rig served with --insecure-lan.")
    idempotency_hours: int = Field(
        24, ge=1, le=24 * 30,
        description="How long an Idempotency-Key and the answer stored under it are kept, "
                    "so a retried request is answered again instead of recorded twice.")
    timezone: str = Field(
        "UTC",
        description="Default IANA time zone (e.g. America/Denver) for productions that have "
                    "not set their own (`coldcheck production timezone`): pages, CLI output "
                    "and PDF reports show times in it with its abbreviation (14:03:27 MST), "
                    "and its calendar dates a day opened without a date. The rules date "
                    "expiries on the production's own zone, UTC until it sets one. What is "
                    "recorded, the API and --json stay in UTC.")

    @field_validator("origin_host")
    @classmethod
    def _usable_origin(cls, host: str) -> str:
        from .ledger.note import is_valid_key_name

        if not host or not is_valid_key_name(f"{host}/productions/x"):
            raise ValueError("the origin host becomes the ledger's key name: no spaces, no "
                             "'+', printable characters only")
        return host

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        display_zone(name)
        return name

    def display_tz(self) -> tzinfo:
        """The server's default time zone (``timezone``), for productions that
        have not set their own."""
        return display_zone(self.timezone)

    def zone_name(self, production_zone: str | None) -> str:
        """The name of the zone a production's times are shown in: its own
        (``production.timezone_set``), else this server's default. A zone this
        machine's database does not know (a ledger moved to a machine without
        tzdata) reads as UTC: every time shown names its zone, so nothing
        misleads."""
        name = production_zone or self.timezone
        try:
            display_zone(name)
        except ValueError:
            return "UTC"
        return name

    def zone_for(self, production_zone: str | None) -> tzinfo:
        """The time zone a production's times are shown in (see zone_name)."""
        return display_zone(self.zone_name(production_zone))

    def resolved_key_dir(self) -> Path:
        if self.key_dir is not None:
            return self.key_dir
        url = self.database_url
        if "://" not in url:
            return Path(url).expanduser().resolve().parent / (Path(url).name + ".keys")
        if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            p = Path(url[len("sqlite:///"):])
            return p.resolve().parent / (p.name + ".keys")
        return Path("coldcheck-keys").resolve()
