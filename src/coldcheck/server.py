"""Running the API with uvicorn: ``coldcheck serve``.

It listens on 127.0.0.1 unless told otherwise, and refuses any other address
without TLS (``--tls-cert``/``--tls-key``) or an explicit ``--insecure-lan``,
which prints a warning: on a set network, anyone on the Wi-Fi could otherwise
read PINs and session cookies off the air.
"""

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path
from typing import Any

from .config import Settings
from .domain.errors import InvalidInput

INSECURE_WARNING = (
    "WARNING: serving {host}:{port} over plain HTTP (--insecure-lan). Everyone on this "
    "network can read passwords, witness PINs, tokens and custody data in transit. Browsers "
    "send the Secure session cookie only over HTTPS (or set COLDCHECK_COOKIE_SECURE=false on "
    "a test rig). Use --tls-cert/--tls-key on set.")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, port: int, *, tls_cert: Path | None, tls_key: Path | None,
               insecure_lan: bool) -> str | None:
    """Refuse an unsafe address; return the warning to print, if any."""
    if (tls_cert is None) != (tls_key is None):
        raise InvalidInput("INVALID_INPUT", "--tls-cert and --tls-key go together")
    for p in (tls_cert, tls_key):
        if p is not None and not p.is_file():
            raise InvalidInput("INVALID_INPUT", f"TLS file {p} does not exist")
    if is_loopback(host) or tls_cert is not None:
        return None
    if not insecure_lan:
        raise InvalidInput("INVALID_INPUT", f"refusing to listen on {host} without TLS: give "
                           "--tls-cert and --tls-key (or COLDCHECK_TLS_CERT/KEY), or "
                           "--insecure-lan to accept plain HTTP on this network")
    return INSECURE_WARNING.format(host=host, port=port)


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus coldcheck's own loggers (sign-ins, server failures)."""
    from uvicorn.config import LOGGING_CONFIG

    cfg = copy.deepcopy(LOGGING_CONFIG)
    cfg["loggers"]["coldcheck"] = {"handlers": ["default"], "level": "INFO",
                                   "propagate": False}
    return cfg


def serve(settings: Settings, *, host: str, port: int, tls_cert: Path | None = None,
          tls_key: Path | None = None, insecure_lan: bool = False) -> None:
    """Check the address, build the app, run uvicorn until interrupted."""
    import uvicorn

    from .asgi import create_app

    warning = check_bind(host, port, tls_cert=tls_cert, tls_key=tls_key,
                         insecure_lan=insecure_lan)
    import sys

    if warning:
        print(warning, file=sys.stderr)
    if settings.argon2_profile != "standard":
        print("WARNING: COLDCHECK_ARGON2_PROFILE is the test profile: PINs and passwords set "
              "now are hashed so cheaply that a copy of the database gives them away. Never "
              "run a production on it.", file=sys.stderr)
    from sqlalchemy.engine import make_url

    from .persistence.store import database_url

    scheme = "https" if tls_cert is not None else "http"
    shown = make_url(database_url(settings.database_url)).render_as_string(hide_password=True)
    print(f"coldcheck API on {scheme}://{host}:{port}/api/v1 (database {shown})",
          file=sys.stderr)
    if tls_cert is not None:
        settings = settings.model_copy(update={"tls_cert": tls_cert, "tls_key": tls_key})
    import contextlib

    from .persistence.filelock import DatabaseLock
    from .persistence.store import sqlite_file

    # Held for as long as the server runs, from before it first reads the
    # database: `coldcheck restore` must not swap the file under it (its cached
    # state and hashes would go on from the replaced ledger).
    file = sqlite_file(settings.database_url)
    lock = contextlib.ExitStack()
    if file is not None and file.parent.is_dir():
        lock.enter_context(DatabaseLock(file, exclusive=False))
    app = create_app(settings)
    from .persistence.store import Store
    from .services.ledger import key_problems
    from .services.vouch import mismatches
    from .web.welcome import welcome

    store = Store(settings.database_url)
    try:
        # Witness PINs, passwords and devices as the record vouches for them: a
        # PIN hash copied onto another person's row, a device planted by hand,
        # and the server would accept them. It does not start on such a database.
        found = mismatches(store)
        if found:
            for line in found:
                print(f"ERROR: {line}", file=sys.stderr)
            print("coldcheck will not serve a database whose credentials differ from what "
                  "its ledger vouches for. Run `coldcheck ledger verify` to see each one; "
                  "have the person set their PIN again (`coldcheck person pin`), revoke "
                  "and register the device again, or restore a verified backup.",
                  file=sys.stderr)
            raise SystemExit(5)
        print(welcome(store, f"{scheme}://{host}:{port}"), file=sys.stderr)
        for problem in key_problems(store, settings):
            where = f"key folder: {settings.resolved_key_dir()}"
            if settings.key_store == "database" or settings.master_key_file is not None:
                where += f"; master key file: {settings.master_key_file or 'not set'}"
            print(f"WARNING: no checkpoint can be signed for {problem}. Incidents and wraps "
                  "are still recorded, and the board shows CHECKPOINT_MISSING until one is "
                  f"signed ({where}).", file=sys.stderr)
    finally:
        store.dispose()
    from .services.webhook import Worker

    # The alert webhook's deliveries, in a thread of their own: a slow or dead
    # receiver delays nothing the server answers.
    worker = Worker(settings).start()
    with lock, contextlib.closing(worker):
        uvicorn.run(app, host=host, port=port, log_config=log_config(), server_header=False,
                    proxy_headers=False, timeout_graceful_shutdown=5,
                    ssl_certfile=str(tls_cert) if tls_cert else None,
                    ssl_keyfile=str(tls_key) if tls_key else None)
