"""``coldcheck backup``: a consistent copy of a SQLite database, verified before it counts.

A set cart's laptop holds the only copy of the record until someone makes
another: a dropped laptop, a dead disk or a seizure after an incident must not
take the record with it. Copying the file while the server runs is not a
backup (the WAL holds the newest commits, and a copy taken mid-write may be
torn), so this uses SQLite's online backup API: one read snapshot, page by
page, while the server goes on writing.

The copy is then checked as an investigator would check it: SQLite's
``integrity_check``, and ``ledger verify`` of every production in it, with the
verifier key read from the database being copied (not from the copy), so a
copy that differs from the record it came from does not pass. It is written to
a temporary file beside the target, made a single self-contained file
(``journal_mode=DELETE``: no ``-wal`` to carry along), flushed to disk, and only
then given its name, exclusively unless ``force``. Its SHA-256 is reported so
that whoever takes it (a producer, the police) can note what they took.

A copy that does not verify is still kept (it is what the database held), and
the result says so: the CLI exits non-zero.

The signing keys are not copied: they stay in the key folder, to be kept
separately (a backup stolen with its key could sign a forged history).
PostgreSQL has its own tools (``pg_dump``); this refuses it with
``BACKUP_UNSUPPORTED``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..domain.errors import Conflict, InvalidInput
from ..persistence.store import Store, sqlite_file
from .context import context
from .verify import VerifyReport, verify_ledger

__all__ = ["BackupResult", "backup"]

Progress = Callable[[str, int, int], None]  # production, done, total


@dataclass
class BackupResult:
    file: str
    bytes: int
    sha256: str
    reports: list[VerifyReport] = field(default_factory=list)
    integrity: str = "ok"
    key_dir: str = ""

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and all(r.ok for r in self.reports)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "file": self.file, "bytes": self.bytes, "sha256": self.sha256,
            "integrity": self.integrity,
            "productions": [{
                "production": r.production, "entries": r.entries,
                "verified_size": r.verified_size, "ok": r.ok,
                "root_hash": r.to_dict()["root_hash"],
                "first": r.first.to_dict() if r.first else None} for r in self.reports],
            "keys_not_included": self.key_dir,
        }


def _refuse(target: Path, source: Path, force: bool) -> None:
    for own in (source, Path(f"{source}-wal"), Path(f"{source}-shm"),
                Path(f"{source}-journal")):
        with contextlib.suppress(OSError):
            if target.resolve() == own.resolve() or (
                    target.exists() and own.exists() and os.path.samefile(target, own)):
                raise InvalidInput("INVALID_INPUT", f"{target} is the database being backed "
                                   "up (or one of its files): choose another --out")
    if not force and os.path.lexists(target):
        raise Conflict("FILE_EXISTS", f"{target} exists; nothing was written (choose another "
                       "--out, or --force to replace it)")
    if not target.parent.is_dir():
        raise InvalidInput("INVALID_INPUT", f"cannot write {target}: its folder "
                           f"{target.parent} does not exist")


def _copy(source: Path, tmp: Path) -> None:
    """One read snapshot of ``source``, page by page, into ``tmp``."""
    src = sqlite3.connect(str(source), timeout=30)
    try:
        dst = sqlite3.connect(str(tmp))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _settle(tmp: Path) -> str:
    """Make ``tmp`` one self-contained file (no -wal), check its integrity,
    and flush it to disk; return what ``integrity_check`` said."""
    db = sqlite3.connect(str(tmp))
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        said = [str(r[0]) for r in db.execute("PRAGMA integrity_check")]
    finally:
        db.close()
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    return "ok" if said == ["ok"] else "; ".join(said[:5])


def _place(tmp: Path, target: Path, force: bool) -> None:
    """Give the finished copy its name: exclusively unless ``force``."""
    if force:
        os.replace(tmp, target)
    else:
        try:
            os.link(tmp, target)  # fails if anything, a dangling link too, is there
        except FileExistsError:
            raise Conflict("FILE_EXISTS", f"{target} appeared while the backup was "
                           "made; nothing was overwritten") from None
        except OSError:  # no hard links on this file system (a FAT USB stick, say)
            if os.path.lexists(target):
                raise Conflict("FILE_EXISTS", f"{target} exists; nothing was "
                               "overwritten") from None
            os.rename(tmp, target)
        else:
            tmp.unlink()
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def backup(settings: Settings, target: Path, *, force: bool = False,
           progress: Progress | None = None) -> BackupResult:
    """Copy the SQLite database of ``settings`` to ``target`` and verify the copy
    (see the module docstring)."""
    source = sqlite_file(settings.database_url)
    if source is None:
        raise InvalidInput("BACKUP_UNSUPPORTED", "coldcheck backup copies a SQLite database; "
                           "back up PostgreSQL with its own tools (pg_dump), then check a "
                           "restored copy with `coldcheck ledger verify`")
    if not source.exists():
        raise InvalidInput("NOT_INITIALISED", f"{source} does not exist: nothing to back up")
    _refuse(target, source, force)
    store = Store(settings.database_url)
    try:
        # The keys the copy must verify with come from the database being copied.
        keys = {str(p["id"]): str(p["verifier_key"]) for p in store.productions()}
    finally:
        store.dispose()
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)  # mode 0600: the copy holds PIN and password hashes too
    tmp = Path(name)
    try:
        _copy(source, tmp)
        reports = _verify(settings, tmp, keys, progress)
        integrity = _settle(tmp)
        size = tmp.stat().st_size
        _place(tmp, target, force)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
    return BackupResult(str(target), size, _sha256(target), reports, integrity,
                        str(settings.resolved_key_dir()))


def _verify(settings: Settings, copy: Path, keys: dict[str, str],
            progress: Progress | None) -> list[VerifyReport]:
    there = settings.model_copy(update={"database_url": str(copy.resolve()),
                                        "key_dir": copy.parent / ".no-keys-for-a-backup"})
    store = Store(there.database_url)
    try:
        found = [str(p["id"]) for p in store.productions()]
        reports = []
        for production in found:
            ctx = context(there, production, store=store)

            def step(done: int, total: int, production: str = production) -> None:
                if progress is not None:
                    progress(production, done, total)

            reports.append(verify_ledger(ctx, progress=step,
                                         trusted_key=keys.get(production)))
        return reports
    finally:
        store.dispose()
