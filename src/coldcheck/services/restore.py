"""``coldcheck restore``: put a verified backup back in place, and say so in the ledger.

A restore is the one time a set cart's record goes backwards: the disk died,
or the database no longer verifies, and the last good copy is yesterday's
backup. Whatever was recorded after it is not in it. That must never happen
silently, and never by hand: the printed daily reports and the checkpoint kept
beside the key vouch for entries the copy does not hold, and an investigator
who holds one must be able to read, in the ledger itself, when the record was
restored, from which copy, by whose decision, why, and how much it lost.

So, on SQLite, with the server stopped (``serve`` holds a shared lock on
``<database>.lock`` and the restore needs it exclusively):

1. The backup is copied, read-only, through SQLite's backup API into a file
   beside the database, and checked as ``coldcheck backup`` checks its copies:
   ``integrity_check`` and ``ledger verify`` of every production against its
   key file or sealed key. A copy that does not verify is refused.
2. Each production's kept checkpoint (the last one this server signed) is
   compared with the copy. If the copy holds that many entries, they must hash
   to its root (a copy of another history is refused, ``LEDGER_DIVERGED``). If
   the copy is shorter, the checkpoint is *superseded*: the restore goes on and
   records it. A production of the database that the copy does not hold at all
   is refused: restoring would drop its whole record.
3. The database it replaces is kept, never deleted: renamed
   ``<database>.replaced-<UTC time>`` (with its ``-wal``), next to the restored
   file that takes its name.
4. Each production records a ``ledger.restored`` event (the backup's SHA-256,
   how many entries it held, how many the replaced database held, the
   superseded checkpoint exactly as signed, the reason and who decided), the
   superseded kept checkpoint is renamed ``<production>.last-checkpoint.replaced-
   <UTC time>`` (kept, it is evidence), and a checkpoint is signed over the
   restored ledger with that event in it.

A crash between 3 and 4 leaves the restored copy in place without its event:
the kept checkpoint then still refuses any signature (``LEDGER_DIVERGED``) and
running the same restore again finishes it (the database it replaces is kept
again).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..domain.common import text
from ..domain.errors import ColdcheckError, Conflict, InvalidInput
from ..domain.events import NewEvent
from ..ledger import NoteError, open_checkpoint, tree_hash
from ..persistence.store import Store, sqlite_file
from .backup import place_file, settle, sha256_file, verify_copy
from .context import context, utc_now
from .ledger import held_checkpoint_path, read_held, sign_checkpoint, signer

__all__ = ["RestoreResult", "database_lock", "restore"]

SIDE_FILES = ("-wal", "-shm", "-journal")


@contextlib.contextmanager
def database_lock(database: Path, *, exclusive: bool) -> Iterator[None]:
    """An advisory lock on ``<database>.lock``: shared for a server for as long
    as it runs, exclusive for a restore, which must not swap the file under a
    running server (its caches would go on from the replaced ledger).
    DATABASE_BUSY if it cannot be had at once."""
    import fcntl

    path = Path(f"{database}.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            if exclusive:
                raise Conflict("DATABASE_BUSY", f"a coldcheck server is running on {database} "
                               f"(it holds {path}): stop it, then restore; nothing was "
                               "changed") from None
            raise Conflict("DATABASE_BUSY", f"{database} is being restored (it holds "
                           f"{path}); start the server when the restore has finished") \
                from None
        yield
    finally:
        os.close(fd)  # releases the lock


@dataclass
class Restored:
    production: str
    entries: int  # in the backup; the restore event is entry ``entries``
    replaced_entries: int | None  # in the database it replaced (None: not readable)
    superseded: int | None  # size of the kept checkpoint the copy is behind
    kept_aside: str | None  # where that checkpoint file was moved
    checkpoint: int = 0  # size of the checkpoint signed after the restore event

    @property
    def lost(self) -> int:
        """Entries the replaced database or the superseded checkpoint held beyond
        the backup (at least: an unreadable database may have held more)."""
        return max(0, (self.replaced_entries or 0) - self.entries,
                   (self.superseded or 0) - self.entries)


@dataclass
class RestoreResult:
    database: str
    backup: str
    sha256: str
    replaced: str | None  # where the database it replaced now is
    productions: list[Restored] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"database": self.database, "backup": self.backup, "sha256": self.sha256,
                "replaced": self.replaced,
                "productions": [{"production": p.production, "entries": p.entries,
                                 "replaced_entries": p.replaced_entries,
                                 "superseded_checkpoint": p.superseded,
                                 "checkpoint_kept_aside": p.kept_aside,
                                 "restore_event": p.entries, "lost": p.lost,
                                 "checkpoint": p.checkpoint}
                                for p in self.productions]}


def _copy_read_only(source: Path, tmp: Path) -> None:
    """One read snapshot of the backup into ``tmp``; the backup is evidence and
    is opened read-only (never rolled back, checkpointed or written)."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(str(tmp))
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.DatabaseError as e:
        raise InvalidInput("DATABASE_UNREADABLE", f"{source} cannot be read as a SQLite "
                           f"database ({e}); nothing was changed") from None
    finally:
        src.close()


def _heads(database: Path) -> dict[str, int] | None:
    """Each production's entry count in the database about to be replaced, or
    None if it cannot be read (a dead database is the usual reason to restore)."""
    if not database.exists():
        return {}
    try:
        db = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return {str(p): int(h) for p, h in db.execute("SELECT id, head FROM productions")}
        finally:
            db.close()
    except sqlite3.Error:
        return None


def _superseded(settings: Settings, copy: Store, production: str) -> tuple[str | None, int]:
    """The kept checkpoint if the copy is behind it, with its size; LEDGER_DIVERGED
    if it does not open with the production's key or the copy holds its size
    with other entries."""
    note = read_held(held_checkpoint_path(settings, production))
    if note is None:
        return None, 0
    ctx = context(settings, production, store=copy)
    prod = copy.production(production)
    try:
        cp = open_checkpoint(note, signer(ctx).verifier(), prod["origin"])
    except NoteError as e:
        raise Conflict("LEDGER_DIVERGED", f"the last checkpoint kept for {production!r} "
                       f"does not open with its key ({e}); nothing was changed") from None
    head = copy.head(production)
    if cp.size > head:
        return note, cp.size
    with copy.engine.connect() as c:
        root = tree_hash(cp.size, copy.hash_reader(c, production))
    if root != cp.root_hash:
        raise Conflict("LEDGER_DIVERGED", f"the backup's first {cp.size} entries of "
                       f"{production!r} do not hash to the last checkpoint this server signed: "
                       "it is a copy of another history; nothing was changed")
    return None, cp.size


def restore(settings: Settings, backup_file: Path, *, reason: str, decided_by: str,
            at: datetime | None = None) -> RestoreResult:
    """Replace the SQLite database of ``settings`` by the backup ``backup_file``
    (see the module docstring)."""
    reason, decided_by = text(reason, "reason"), text(decided_by, "decided_by", max_len=200)
    database = sqlite_file(settings.database_url)
    if database is None:
        raise InvalidInput("BACKUP_UNSUPPORTED", "coldcheck restore puts back a SQLite "
                           "backup; restore PostgreSQL with its own tools (pg_restore), then "
                           "check it with `coldcheck ledger verify`")
    if not backup_file.is_file():
        raise InvalidInput("INVALID_INPUT", f"{backup_file} is not a file")
    for own in (database, *(Path(f"{database}{x}") for x in SIDE_FILES)):
        with contextlib.suppress(OSError):
            if own.exists() and os.path.samefile(backup_file, own):
                raise InvalidInput("INVALID_INPUT", f"{backup_file} is the database itself "
                                   "(or one of its files): name the backup to put back")
    if not database.parent.is_dir():
        raise InvalidInput("INVALID_INPUT", f"the database's folder {database.parent} does "
                           "not exist")
    at = at or utc_now()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")  # names, not the record
    with database_lock(database, exclusive=True):
        sha = sha256_file(backup_file)
        fd, name = tempfile.mkstemp(dir=database.parent, prefix=f".{database.name}.",
                                    suffix=".restore")
        os.close(fd)  # mode 0600, as the database's own file
        tmp = Path(name)
        try:
            plans = _prepare(settings, backup_file, tmp, database)
            replaced = _swap(database, tmp, stamp)
        finally:
            for leftover in (tmp, *(Path(f"{tmp}{x}") for x in SIDE_FILES)):
                leftover.unlink(missing_ok=True)
        result = RestoreResult(str(database), str(backup_file), sha, replaced)
        store = Store(settings.database_url)
        try:
            for plan in plans:
                result.productions.append(_record(settings, store, plan, sha, reason,
                                                  decided_by, at, stamp))
        finally:
            store.dispose()
    return result


@dataclass
class _Plan:
    restored: Restored
    note: str | None  # the superseded kept checkpoint, as signed


def _prepare(settings: Settings, backup_file: Path, tmp: Path, database: Path) -> list[_Plan]:
    """Copy and check the backup into ``tmp``; refuse (nothing changed) unless it
    verifies and loses no production."""
    _copy_read_only(backup_file, tmp)
    integrity = settle(tmp, check=True)
    if integrity != "ok":
        raise Conflict("RESTORE_REFUSED", f"{backup_file} fails SQLite's integrity check "
                       f"({integrity}); nothing was changed")
    key_dir = settings.resolved_key_dir()
    try:
        reports = verify_copy(settings, tmp, key_dir)
    except ColdcheckError as e:
        raise Conflict("RESTORE_REFUSED", f"{backup_file} cannot be verified ({e.code}: "
                       f"{e.message}); nothing was changed") from None
    for r in reports:
        if not r.ok and r.first is not None:
            f = r.first
            where = f" at entry {f.entry}" if f.entry is not None else ""
            raise Conflict("RESTORE_REFUSED", f"{backup_file} does not verify: production "
                           f"{r.production!r}{where}: {f.code}: {f.message}; nothing was "
                           "changed")
    if not reports:
        raise Conflict("RESTORE_REFUSED", f"{backup_file} holds no production; nothing was "
                       "changed")
    live = _heads(database)
    dropped = sorted(set(live or {}) - {r.production for r in reports})
    if dropped:
        raise Conflict("RESTORE_REFUSED", f"{backup_file} does not hold production(s) "
                       f"{', '.join(dropped)}, which the database does: restoring it would "
                       "drop their whole record; nothing was changed")
    there = settings.model_copy(update={"database_url": str(tmp.resolve()), "key_dir": key_dir})
    copy = Store(there.database_url)
    try:
        plans = []
        for r in reports:
            note, size = _superseded(there, copy, r.production)
            plans.append(_Plan(Restored(r.production, r.entries, None if live is None else
                                        live.get(r.production), size if note else None,
                                        None), note))
    finally:
        copy.dispose()
    settle(tmp, check=False)  # verifying opened it in WAL mode: one file again
    return plans


def _swap(database: Path, tmp: Path, stamp: str) -> str | None:
    """Keep the database being replaced under another name (with its -wal), then
    give the checked copy its name; both on one file system, each an atomic
    rename, the folder flushed after."""
    replaced = None
    if os.path.lexists(database):
        replaced = f"{database}.replaced-{stamp}"
        if os.path.lexists(replaced):
            raise Conflict("FILE_EXISTS", f"{replaced} exists; nothing was changed (wait a "
                           "second and restore again)")
        os.rename(database, replaced)
        for x in ("-wal", "-journal"):
            if os.path.lexists(f"{database}{x}"):
                os.rename(f"{database}{x}", f"{replaced}{x}")
        Path(f"{database}-shm").unlink(missing_ok=True)  # an index SQLite rebuilds
    place_file(tmp, database, False)
    return replaced


def _record(settings: Settings, store: Store, plan: _Plan, sha: str, reason: str,
            decided_by: str, at: datetime, stamp: str) -> Restored:
    r = plan.restored
    ctx = context(settings, r.production, store=store)
    with store.write(r.production) as tx:
        tx.append([NewEvent("ledger.restored", {
            "backup_sha256": sha, "entries": r.entries,
            "replaced_entries": r.replaced_entries, "superseded_checkpoint": plan.note,
            "reason": reason, "decided_by": decided_by})],
            actor="system", device=settings.device, at=at)
    if plan.note is not None:
        held = held_checkpoint_path(settings, r.production)
        aside = Path(f"{held}.replaced-{stamp}")
        if read_held(held) == plan.note:  # not already moved by an earlier attempt
            os.replace(held, aside)
            r.kept_aside = str(aside)
    r.checkpoint, _ = sign_checkpoint(ctx, reason="restore", at=at)
    return r
