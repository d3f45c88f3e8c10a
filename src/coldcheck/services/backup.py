"""``coldcheck backup``: a consistent copy of a SQLite database, verified before it counts.

A set cart's laptop holds the only copy of the record until someone makes
another: a dropped laptop, a dead disk or a seizure after an incident must not
take the record with it. Copying the file while the server runs is not a
backup (the WAL holds the newest commits, and a copy taken mid-write may be
torn), so this uses SQLite's online backup API: one read snapshot, page by
page, while the server goes on writing.

The copy is then checked as an investigator would check it: SQLite's
``integrity_check``, and ``ledger verify`` of every production in it, trusting
the public half of each production's key file (as ``ledger verify`` does on
the original), so a database whose history was rewritten and re-signed with
another key does not pass. It is written to a temporary file beside the
target, made a single self-contained file (``journal_mode=DELETE``: no ``-wal``
to carry along), flushed to disk, and only then given its name, exclusively
unless ``force``. Its SHA-256 is reported so that whoever takes it (a producer,
the police) can note what they took.

A copy that does not verify is still kept (it is what the database held), but
never under the name asked for, so ``--force`` can never put it over
yesterday's good backup: it is named ``<target>.unverified-<UTC time>``, and the
result says so (the CLI exits non-zero).

Key files are not copied: they stay in the key folder, to be kept separately
(a backup stolen with its key could sign a forged history). A key kept in the
database travels with the copy, sealed: useless without the master key file,
which is never in the database.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..domain.errors import ColdcheckError, Conflict, InvalidInput
from ..persistence.store import Store, sqlite_file
from .context import context
from .verify import VerifyReport, verify_ledger

__all__ = ["BackupResult", "backup", "place_file", "settle", "sha256_file", "verify_copy"]

Progress = Callable[[str, int, int], None]  # production, done, total


@dataclass
class BackupResult:
    file: str
    bytes: int
    sha256: str
    reports: list[VerifyReport] = field(default_factory=list)
    integrity: str = "ok"
    key_dir: str = ""
    unusable: str | None = None  # why the copy could not be verified at all

    @property
    def ok(self) -> bool:
        return (self.integrity == "ok" and self.unusable is None
                and all(r.ok for r in self.reports))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "file": self.file, "bytes": self.bytes, "sha256": self.sha256,
            "integrity": self.integrity, "unusable": self.unusable,
            "productions": [{
                "production": r.production, "entries": r.entries,
                "verified_size": r.verified_size, "ok": r.ok,
                "root_hash": r.to_dict()["root_hash"], "key_source": r.key_source,
                "warnings": list(r.warnings),
                "first": r.first.to_dict() if r.first else None} for r in self.reports],
            "keys_not_included": self.key_dir,
        }


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _refuse(target: Path, source: Path, key_dir: Path, force: bool) -> None:
    # SQLite names its -wal after the file a link points to: both names count.
    for base in {source, source.resolve()}:
        for own in (base, *(Path(f"{base}{x}") for x in ("-wal", "-shm", "-journal"))):
            with contextlib.suppress(OSError):
                if target.resolve() == own.resolve() or (
                        target.exists() and own.exists() and os.path.samefile(target, own)):
                    raise InvalidInput("INVALID_INPUT", f"{target} is the database being "
                                       "backed up (or one of its files): choose another --out")
    if _inside(target, key_dir):
        raise InvalidInput("INVALID_INPUT", f"{target} is inside the key folder {key_dir}: "
                           "a backup never goes beside the signing keys (one stolen stick "
                           "would hold both); choose another --out")
    if target.is_dir():
        raise InvalidInput("INVALID_INPUT", f"{target} is a folder: give a file name")
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


def settle(tmp: Path, *, check: bool) -> str:
    """Make ``tmp`` one self-contained file (no -wal) flushed to disk; with
    ``check``, return what SQLite's ``integrity_check`` says of it."""
    db = sqlite3.connect(str(tmp))
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        said = [str(r[0]) for r in db.execute("PRAGMA integrity_check")] if check else ["ok"]
    finally:
        db.close()
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    return "ok" if said == ["ok"] else "; ".join(said[:5])


def place_file(tmp: Path, target: Path, force: bool) -> None:
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


def sha256_file(path: Path) -> str:
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
    key_dir = settings.resolved_key_dir()
    _refuse(target, source, key_dir, force)
    store = Store(settings.database_url)
    try:
        store.productions()  # not a coldcheck database: its code now, before any copy
    finally:
        store.dispose()
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)  # mode 0600: the copy holds PIN and password hashes too
    tmp = Path(name)
    try:
        _copy(source, tmp)
        integrity = settle(tmp, check=True)
        reports: list[VerifyReport] = []
        unusable = None
        try:
            if integrity == "ok":
                reports = verify_copy(settings, tmp, key_dir, progress)
        except ColdcheckError as e:
            unusable = f"{e.code}: {e.message}"
        except Exception as e:  # a copy verify cannot even read: kept, and said so
            unusable = f"{type(e).__name__}: {e}"
        settle(tmp, check=False)  # verifying opened it in WAL mode: one file again
        size = tmp.stat().st_size
        result = BackupResult(str(target), size, "", reports, integrity, str(key_dir),
                              unusable)
        if not result.ok:
            # Never over the name asked for: --force must not put a copy that
            # does not verify over yesterday's good one.
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            result.file = f"{target}.unverified-{stamp}"
            place_file(tmp, Path(result.file), False)
        else:
            place_file(tmp, target, force)
    finally:
        for leftover in (tmp, *(Path(f"{tmp}{x}") for x in ("-wal", "-shm", "-journal"))):
            leftover.unlink(missing_ok=True)
    result.sha256 = sha256_file(Path(result.file))
    return result


def verify_copy(settings: Settings, copy: Path, key_dir: Path,
                progress: Progress | None = None) -> list[VerifyReport]:
    # The key folder is the original's: verify trusts each production's key file
    # and checks the copy's stored verifier key against it, as `ledger verify`
    # does on the original (a re-keyed, re-signed history fails here).
    there = settings.model_copy(update={"database_url": str(copy.resolve()),
                                        "key_dir": key_dir})
    store = Store(there.database_url, lock=False)  # a private temporary file
    try:
        reports = []
        for production in [str(p["id"]) for p in store.productions()]:
            ctx = context(there, production, store=store)

            def step(done: int, total: int, production: str = production) -> None:
                if progress is not None:
                    progress(production, done, total)

            # Not against the server's kept checkpoint: the live ledger may have
            # signed past this copy since it was taken.
            reports.append(verify_ledger(ctx, progress=step, use_kept=False))
        return reports
    finally:
        store.dispose()
