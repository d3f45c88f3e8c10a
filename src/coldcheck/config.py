"""One Settings class, built at start-up (never at import)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
