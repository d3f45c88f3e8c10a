"""Secrets at rest: the database file, the server secret, and argon2's memory."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from concurrency import Gauge, together

from coldcheck import security
from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.services.authorise import load_secret


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_are_readable_by_the_owner_only(
        tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask would make them 0644
    try:
        store = Store(str(tmp_path / "set.db"))
        store.migrate()
        store.dispose()
    finally:
        os.umask(old)
    files = sorted(tmp_path.glob("set.db*"))
    assert files and {mode(f) for f in files} == {0o600}, [(f.name, oct(mode(f))) for f in files]


def test_an_existing_database_file_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    Store(str(path)).dispose()
    assert mode(path) == 0o640


def test_the_server_secret_is_made_once_and_refused_when_others_can_read_it(
        settings: Settings) -> None:
    first = load_secret(settings)
    assert len(first) == 32 and load_secret(settings) == first
    path = settings.resolved_key_dir() / "api.secret"
    assert mode(path) == 0o600
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        load_secret(settings)
    os.chmod(path, 0o600)
    path.write_bytes(b"")  # as a crash mid-write used to leave it
    with pytest.raises(ValueError, match="32-byte"):
        load_secret(settings)


def test_no_more_than_four_argon2_checks_run_at_once() -> None:
    gauge = Gauge()

    class SlowHasher:
        def verify(self, stored: str, secret: str) -> bool:
            with gauge.inside():
                return True

    ph: Any = SlowHasher()
    assert together(12, lambda _: str(security.verify(ph, "h", "pw"))) == {"True": 12}
    assert 1 < gauge.peak <= 4
