"""``coldcheck restore``: put a verified backup back in place, and say so in the ledger.

A restore is the one time a set cart's record goes backwards: the disk died,
or the database no longer verifies, and the last good copy is yesterday's
backup. Whatever was recorded after it is not in it. That must never happen
silently, and never by hand: the printed daily reports and the checkpoint kept
beside the key vouch for entries the copy does not hold, and an investigator
who holds one must be able to read, in the ledger itself, when the record was
restored, from which copy, by whose decision, why, and how much it lost.

So, on SQLite, with the server and every other coldcheck command stopped
(each holds a shared lock on ``<database>.lock`` while it has the database open,
see persistence.filelock; the restore needs it exclusively):

1. The backup's bytes are copied beside the database, hashed on the way (the
   SHA-256 recorded is of exactly what is restored; the backup is only read,
   and one with a -wal beside it is refused), and checked as ``coldcheck
   backup`` checks its copies: ``integrity_check`` and ``ledger verify`` of
   every production against its key file or sealed key. A production of the
   database that the copy does not hold is refused: restoring would drop its
   whole record.
2. Every entry restored must be proven part of the history this server last
   signed. The kept checkpoint (the last one it signed) must, if the copy
   holds its size, hash to its root (else it is another history,
   ``LEDGER_DIVERGED``), and with the copy's own checkpoints proves what they
   cover. If the copy is shorter, the checkpoint is *superseded*, and only
   the database being replaced, its entries hashed again, when it can still
   be read, shows the copy is an earlier state of what it signed (a
   comparison that fails is ``LEDGER_DIVERGED``). Entries not proven are refused
   (``RESTORE_UNPROVEN``) unless accepted by name.
3. Into the checked copy go each production's ``ledger.restored`` event (the
   backup's SHA-256, how many entries it held and how many of them are
   proven, how many the replaced database held, the superseded checkpoint
   exactly as signed, the reason and who decided) and a checkpoint signed over
   it.
4. Each production's kept checkpoint is replaced, whole, by that one; a
   superseded one is first copied aside as
   ``<production>.last-checkpoint.replaced-<UTC time>`` (it is evidence).
5. The database it replaces is kept, never deleted: its -wal folded in, then
   renamed ``<database>.replaced-<UTC time>`` (with any -wal left), and the
   checked copy takes its name and its file mode. If a rename fails, the
   renames and the kept checkpoints are undone.

A restore killed between 4 and 5 leaves the old database under a kept
checkpoint it does not match: nothing is signed over it (``LEDGER_DIVERGED``)
until the restore is run again (with ``--accept-unproven``: the kept
checkpoint is now the copy's, which the old database cannot prove; the
superseded one is in the ``.replaced-<time>`` file beside it). Killed during 5,
the database's name may be empty with ``<database>.replaced-<time>`` beside it:
the next restore refuses until it is renamed back, and then needs
``--accept-unproven`` for the same reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import Settings
from ..domain import bounds
from ..domain.common import text
from ..domain.errors import ColdcheckError, Conflict, InvalidInput
from ..domain.events import NewEvent
from ..ledger import (
    Checkpoint,
    NoteError,
    leaf_hash,
    open_checkpoint,
    root_from_leaves,
    tree_hash,
)
from ..ledger.keys import replace_file
from ..persistence import index as timeline_index
from ..persistence import schema
from ..persistence.filelock import DatabaseLock, lock_path
from ..persistence.store import Store, sqlite_file
from .backup import place_file, settle, verify_copy
from .context import context, utc_now
from .ledger import held_checkpoint_path, read_held, sign_checkpoint, signer
from .verify import VerifyReport

__all__ = ["RestoreResult", "restore"]

SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass
class Restored:
    production: str
    entries: int  # in the backup; the restore event is entry ``entries``
    proven: int  # of those, how many are proven part of the history last signed here
    replaced_entries: int | None  # in the database it replaced (None: not readable)
    superseded: int | None  # size of the kept checkpoint the copy is behind
    kept_aside: str | None = None  # where that checkpoint file was moved
    checkpoint: int = 0  # size of the checkpoint signed after the restore event
    root: bytes = b""  # the root of the ``entries`` entries as verified

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
                                 "proven_entries": p.proven,
                                 "replaced_entries": p.replaced_entries,
                                 "superseded_checkpoint": p.superseded,
                                 "checkpoint_kept_aside": p.kept_aside,
                                 "restore_event": p.entries, "lost": p.lost,
                                 "checkpoint": p.checkpoint}
                                for p in self.productions]}


def _copy_raw(source: Path, tmp: Path) -> str:
    """Copy the backup's bytes into ``tmp``, hashing them on the way: the digest
    recorded is that of exactly what is restored. The backup is evidence: it is
    only read. A backup with a -wal or journal beside it is a database in use,
    whose newest commits are not in its file: refused."""
    for x in ("-wal", "-journal"):
        side = Path(f"{source}{x}")
        with contextlib.suppress(OSError):
            if side.stat().st_size > 0:
                raise Conflict("RESTORE_REFUSED", f"{side} is beside the backup: it is a "
                               "database in use, not a closed copy, and what is restored would "
                               "not be its file alone. Restore a copy `coldcheck backup` made; "
                               "nothing was changed")
    h = hashlib.sha256()
    try:
        with open(source, "rb") as f, open(tmp, "wb") as out:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    except OSError as e:
        raise InvalidInput("DATABASE_UNREADABLE", f"{source} cannot be read ({e}); nothing "
                           "was changed") from None
    return h.hexdigest()


def _read_only(path: Path) -> sqlite3.Connection:
    """``path`` opened read-only: the replaced database and the backup's bytes
    are evidence, only ever read."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)


def _live(database: Path) -> dict[str, int] | None:
    """Each production's entries in the database about to be replaced, counted
    (not its head column), or None if it cannot be read or is not there: a
    dead database is the usual reason to restore."""
    if not database.exists():
        return None
    try:
        with contextlib.closing(_read_only(database)) as db:
            counts = dict(db.execute("SELECT production_id, count(*) FROM events "
                                     "GROUP BY production_id"))
            return {str(p): int(counts.get(p, 0)) for (p,) in
                    db.execute("SELECT id FROM productions")}
    except sqlite3.Error:
        return None


def _prefix_proven(database: Path, production: str, cp: Checkpoint, n: int,
                   root: bytes) -> bool | None:
    """Whether the backup's first ``n`` entries (root ``root``) are the first
    ``n`` of the history the superseded checkpoint ``cp`` signed, as the
    entries of the database being replaced show it. Its entries are hashed
    again, not its stored hashes read: those may be what is damaged. None if
    it cannot say (unreadable, or its entries no longer hash to ``cp``)."""
    try:
        with contextlib.closing(_read_only(database)) as db:
            leaves = [leaf_hash(bytes(e)) for (e,) in db.execute(
                "SELECT entry FROM events WHERE production_id = ? AND seq < ? ORDER BY seq",
                (production, cp.size))]
    except (sqlite3.Error, TypeError, ValueError):
        return None
    if len(leaves) != cp.size or root_from_leaves(leaves) != cp.root_hash:
        return None
    return root_from_leaves(leaves[:n]) == root


def _vouch(settings: Settings, copy: Store, live: Path | None, report: VerifyReport,
           accept_unproven: bool) -> tuple[Restored, str | None]:
    """How many of the backup's entries are proven part of the history this
    server last signed, and the kept checkpoint if the backup is behind it
    (superseded).

    With no kept checkpoint, the backup's own signed checkpoints prove what
    they cover. If the backup holds the kept checkpoint's size, its entries
    must hash to its root (else it is another history: LEDGER_DIVERGED), and
    those entries, and what the backup's checkpoints cover, are proven. If the
    backup is shorter, only the database being replaced (its entries hashed
    again: their root the checkpoint's, their first ones the backup's) shows
    the backup is an earlier state of what was signed (a comparison that
    fails is LEDGER_DIVERGED); without it nothing is proven, whatever the
    backup's own signatures: an older database abandoned by an earlier
    restore is signed too. Entries not proven are refused (RESTORE_UNPROVEN)
    unless ``accept_unproven``, and the event records how many were."""
    production, n = report.production, report.entries
    proven, superseded, size = report.verified_size, None, None
    note = read_held(held_checkpoint_path(settings, production))
    with copy.engine.connect() as c:
        reader = copy.hash_reader(c, production)
        root = tree_hash(n, reader)  # of the copy as verified: checked again before signing
        if note is not None:
            ctx = context(settings, production, store=copy)
            try:
                cp = open_checkpoint(note, signer(ctx).verifier(),
                                     copy.production(production)["origin"])
            except NoteError as e:
                raise Conflict("LEDGER_DIVERGED", f"the last checkpoint kept for "
                               f"{production!r} does not open with its key ({e}); nothing "
                               "was changed") from None
            if cp.size <= n:
                if tree_hash(cp.size, reader) != cp.root_hash:
                    raise Conflict("LEDGER_DIVERGED", f"the backup's first {cp.size} entries "
                                   f"of {production!r} do not hash to the last checkpoint "
                                   "this server signed: it is a copy of another history; "
                                   "nothing was changed")
                proven = max(proven, cp.size)
            else:
                superseded, size = note, cp.size
                prefix = None if live is None else _prefix_proven(live, production, cp, n,
                                                                  root)
                if prefix is False:
                    raise Conflict("LEDGER_DIVERGED", f"the backup's {n} entries of "
                                   f"{production!r} are not a prefix of the history the last "
                                   "checkpoint this server signed covers, as the database "
                                   "being replaced holds it: one of the two was changed; "
                                   "nothing was changed")
                proven = n if prefix else 0
    if proven < n and not accept_unproven:
        if superseded is not None:
            why = (f"the last checkpoint this server signed covers {size} entries and the "
                   f"backup {n}; only the database being replaced could show, its entries "
                   "hashed again, that the backup is an earlier state of that ledger, and it "
                   "is missing, unreadable, or no longer holds it: a copy of a forged or "
                   "abandoned history would look the same")
        else:
            why = (f"entries {proven}..{n - 1} come after the backup's last signed checkpoint: "
                   "whoever could write to the backup could have written them")
        raise Conflict("RESTORE_UNPROVEN", f"{production!r}: {why}. Restore a backup taken "
                       "right after a checkpoint was signed on the database (every wrap signs "
                       "one), or, if you know where this copy comes from, pass "
                       "--accept-unproven: the restore event records how many entries were "
                       "proven; nothing was changed")
    return Restored(production, n, proven, None, size, root=root), superseded


def restore(settings: Settings, backup_file: Path, *, reason: str, decided_by: str,
            accept_unproven: bool = False, at: datetime | None = None) -> RestoreResult:
    """Replace the SQLite database of ``settings`` by the backup ``backup_file``
    (see the module docstring)."""
    reason, decided_by = text(reason, "reason"), text(decided_by, "decided_by", bound=bounds.NAME)
    named = sqlite_file(settings.database_url)
    if named is None:
        raise InvalidInput("BACKUP_UNSUPPORTED", "coldcheck restore puts back a SQLite "
                           "backup; restore PostgreSQL with its own tools (pg_restore), then "
                           "check it with `coldcheck ledger verify`")
    if not backup_file.is_file():
        raise InvalidInput("INVALID_INPUT", f"{backup_file} is not a file")
    database = named.resolve()  # a link's target is the database (and names its -wal)
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
    # The key folder is the one the server uses: worked out from the database's
    # name as given (a link's, say), once, and fixed in every copy of the
    # settings below, the temporary copy's included.
    here = settings.model_copy(update={"database_url": str(database),
                                       "key_dir": settings.resolved_key_dir()})
    with DatabaseLock(database, exclusive=True):
        owner = database.stat() if database.exists() else None
        if owner is None or owner.st_size == 0:  # an empty one: made by a command since
            left = sorted(p.name for p in database.parent.glob(f"{database.name}.replaced-*")
                          if not p.name.endswith(("-wal", "-journal")))
            if left:
                raise Conflict("RESTORE_REFUSED", f"{database} is missing and {left[-1]} is "
                               "beside it: a restore was cut short while it swapped the "
                               "files. Rename it back to the database's name (with its -wal, "
                               "if any), then restore again (if it is from an earlier restore "
                               "that finished, move it elsewhere); nothing was changed")
        else:
            _give(lock_path(database), owner)  # a root restore leaves it usable
        fd, name = tempfile.mkstemp(dir=database.parent, prefix=f".{database.name}.",
                                    suffix=".restore")
        os.close(fd)  # mode 0600, as the database's own file
        tmp = Path(name)
        raw = Path(f"{tmp}.raw")  # the backup's bytes, only ever read from
        try:
            sha = _copy_raw(backup_file, raw)
            plans = _prepare(here, backup_file, raw, tmp, database, accept_unproven)
            # The event and the checkpoint over it go into the copy before it
            # takes the database's name: a restored ledger never goes without
            # them, and the kept checkpoint is never missing.
            _record(here, tmp, plans, sha, reason, decided_by, at)
            if owner is not None:
                # The copy as private as the file it replaces, and, for a
                # restore run as root, still the server's to open.
                os.chmod(tmp, owner.st_mode & 0o777)
                _give(tmp, owner)
            kept: Kept = []
            try:
                _keep(here, plans, stamp, kept)
                replaced = _swap(database, tmp, stamp, owner is not None)
            except BaseException:
                _unkeep(kept)  # nothing restored: the guard is what it was
                raise
        finally:
            for leftover in (tmp, raw, *(Path(f"{f}{x}") for f in (tmp, raw)
                                         for x in SIDE_FILES)):
                leftover.unlink(missing_ok=True)
    return RestoreResult(str(database), str(backup_file), sha, replaced,
                         [plan.restored for plan in plans])


@dataclass
class _Plan:
    restored: Restored
    note: str | None  # the superseded kept checkpoint, as signed
    signed: str = ""  # the checkpoint signed over the copy, its restore event included


def _prepare(settings: Settings, backup_file: Path, raw: Path, tmp: Path, database: Path,
             accept_unproven: bool) -> list[_Plan]:
    """Check the backup's bytes (``raw``), copy its rows into a freshly migrated
    ``tmp`` and check that; refuse (nothing changed) unless it verifies, loses
    no production and is proven part of the history signed here."""
    try:
        integrity = settle(raw, check=True)
    except sqlite3.DatabaseError as e:
        raise InvalidInput("DATABASE_UNREADABLE", f"{backup_file} cannot be read as a SQLite "
                           f"database ({e}); nothing was changed") from None
    if integrity != "ok":
        raise Conflict("RESTORE_REFUSED", f"{backup_file} fails SQLite's integrity check "
                       f"({integrity}); nothing was changed")
    _refuse_foreign_schema(backup_file, raw)
    _rebuild(backup_file, raw, tmp)
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
    live = _live(database)
    held = {} if live is not None else {  # the database cannot say: its kept checkpoints do
        p.name[:-len(".last-checkpoint")]: p for p in key_dir.glob("*.last-checkpoint")}
    dropped = sorted((set(live or {}) | set(held)) - {r.production for r in reports})
    if dropped:
        where = "which the database holds" if live is not None else (
            "whose last checkpoint is kept in the key folder, and the database cannot be "
            "read to say otherwise (if it belongs to another database sharing this key "
            "folder, give this one a key folder of its own)")
        raise Conflict("RESTORE_REFUSED", f"{backup_file} does not hold production(s) "
                       f"{', '.join(dropped)}, {where}: restoring it would drop their whole "
                       "record; nothing was changed")
    there = settings.model_copy(update={"database_url": str(tmp.resolve())})
    copy = Store(there.database_url, lock=False)
    try:
        plans = []
        for r in reports:
            known = live is not None and r.production in live  # never create the file
            restored, note = _vouch(there, copy, database if known else None, r,
                                    accept_unproven)
            restored.replaced_entries = None if live is None else live.get(r.production, 0)
            plans.append(_Plan(restored, note))
    finally:
        copy.dispose()
    return plans


def _swap(database: Path, tmp: Path, stamp: str, exists: bool) -> str | None:
    """Keep the database being replaced under another name, with its -wal, then
    give the checked copy its name; each an atomic rename on one file system,
    the folder flushed after. If a step fails after the first rename, the
    renames are undone.

    Its -wal is first folded into it (a checkpoint), so that the renames carry
    no commit between them; a -wal or journal at the database's name with no
    database beside it is refused rather than let SQLite replay it into the
    restored copy."""
    side = [Path(f"{database}{x}") for x in ("-wal", "-journal")]
    if not exists:
        stray = [str(p) for p in side if p.exists()]
        if stray:
            raise Conflict("RESTORE_REFUSED", f"{', '.join(stray)} is there without its "
                           f"database {database}: move it beside the database it belongs "
                           "to (same name plus -wal), then restore again; nothing was changed")
        place_file(tmp, database, False)
        return None
    with contextlib.suppress(sqlite3.Error):
        db = sqlite3.connect(str(database), timeout=5)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
    replaced = f"{database}.replaced-{stamp}"
    if os.path.lexists(replaced):
        raise Conflict("FILE_EXISTS", f"{replaced} exists; nothing was changed")
    moved = [(database, Path(replaced))] + [
        (p, Path(f"{replaced}{p.name[len(database.name):]}")) for p in side
        if os.path.lexists(p)]
    done: list[tuple[Path, Path]] = []
    try:
        for src, dst in moved:
            os.rename(src, dst)
            done.append((src, dst))
        Path(f"{database}-shm").unlink(missing_ok=True)  # an index SQLite rebuilds
        place_file(tmp, database, False)
    except BaseException:
        for src, dst in reversed(done):
            with contextlib.suppress(OSError):
                os.rename(dst, src)
        raise
    return replaced


def _record(settings: Settings, tmp: Path, plans: list[_Plan], sha: str, reason: str,
            decided_by: str, at: datetime) -> None:
    """Append each production's ledger.restored event to the checked copy and
    sign a checkpoint over it there, then make the copy one self-contained
    file again."""
    there = settings.model_copy(update={"database_url": str(tmp.resolve())})
    store = Store(there.database_url, lock=False)  # a private temporary file
    try:
        for plan in plans:
            r = plan.restored
            with store.write(r.production) as tx:
                tx.append([NewEvent("ledger.restored", {
                    "backup_sha256": sha, "entries": r.entries, "proven_entries": r.proven,
                    "replaced_entries": r.replaced_entries,
                    "superseded_checkpoint": plan.note, "reason": reason,
                    "decided_by": decided_by})],
                    actor="system", device=settings.device, at=at)
            _rehash(store, r)
            ctx = context(there, r.production, store=store)
            # Not against the kept checkpoint: this copy's proof against it was
            # made in _prepare; restore writes the kept checkpoint itself.
            r.checkpoint, plan.signed = sign_checkpoint(ctx, reason="restore", at=at,
                                                        keep=False)
    finally:
        store.dispose()
    settle(tmp, check=False)


Kept = list[tuple[Path, str | None, Path | None]]  # kept file, what it held, set aside as


def _rehash(store: Store, r: Restored) -> None:
    """Before the key signs the copy: its entries, hashed again, must still give
    the root verified in _prepare, and with the restore event the root its
    stored hashes give. Nothing in the copy may have changed since it was
    checked, whatever ran when the event was appended."""
    with store.engine.connect() as c:
        leaves = [leaf_hash(bytes(e)) for (e,) in c.exec_driver_sql(
            "SELECT entry FROM events WHERE production_id = ? ORDER BY seq",
            (r.production,))]
        stored = tree_hash(r.entries + 1, store.hash_reader(c, r.production))
        head = c.exec_driver_sql("SELECT head FROM productions WHERE id = ?",
                                 (r.production,)).scalar()
    # The head is the size the key will sign: it must be these entries, no more.
    if len(leaves) != r.entries + 1 or head != r.entries + 1 \
            or root_from_leaves(leaves[:r.entries]) != r.root \
            or root_from_leaves(leaves) != stored:
        raise Conflict("RESTORE_REFUSED", f"the copy of {r.production!r} changed while the "
                       "restore wrote its event into it; nothing was signed or changed")


def _refuse_foreign_schema(backup_file: Path, raw: Path) -> None:
    """Refuse a backup whose schema is not what coldcheck's migrations create
    at its revision (persistence.schema): a trigger, view or changed table in
    it is evidence of tampering, whatever the rebuild would make of it."""
    with contextlib.closing(_read_only(raw)) as db:
        said = schema.check(db)
    if said:
        raise Conflict("RESTORE_REFUSED", f"{backup_file} is not a coldcheck database as its "
                       f"migrations leave it ({'; '.join(said)}): it was altered; nothing was "
                       "changed")


def _rebuild(backup_file: Path, raw: Path, tmp: Path) -> None:
    """Copy the rows of the backup's bytes (``raw``) into ``tmp``, a database
    freshly migrated to the latest revision: none of the backup's own SQL
    (triggers, views, table definitions, whatever ``sqlite_master`` says)
    survives into the file the key will sign and put in place. What the rows
    are is then verified on ``tmp`` alone."""
    store = Store(str(tmp.resolve()), lock=False)
    try:
        store.migrate()
    finally:
        store.dispose()
    db = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        db.execute("ATTACH DATABASE ? AS b", (f"{raw.resolve().as_uri()}?mode=ro",))
        tables = [str(n) for (n,) in db.execute(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE "
            "'sqlite_%' AND name != 'alembic_version' ORDER BY name")]
        theirs = {str(n) for (n,) in db.execute(
            "SELECT name FROM b.sqlite_master WHERE name NOT LIKE 'sqlite_%'")}
        db.execute("BEGIN IMMEDIATE")
        for table in tables:
            if table not in theirs:  # added by a later migration: starts empty
                continue
            cols = [str(r[1]) for r in db.execute(f'PRAGMA main.table_info("{table}")')]
            have = {str(r[1]) for r in db.execute(f'PRAGMA b.table_info("{table}")')}
            shared = ", ".join(f'"{c}"' for c in cols if c in have)
            # Table and column names are the fresh schema's own, not the backup's.
            db.execute(f'INSERT INTO main."{table}" ({shared}) SELECT {shared} '  # noqa: S608
                       f'FROM b."{table}"')
        if "timeline_index" not in theirs:  # a backup from before migration 0007
            timeline_index.fill(db.cursor(), "sqlite")
        db.execute("COMMIT")
        db.execute("DETACH DATABASE b")
    except sqlite3.Error as e:
        raise Conflict("RESTORE_REFUSED", f"{backup_file} cannot be read as a coldcheck "
                       f"database ({e}); nothing was changed") from None
    finally:
        db.close()


def _keep(settings: Settings, plans: list[_Plan], stamp: str, done: Kept) -> None:
    """Replace each production's kept checkpoint, whole, by the one signed over
    the copy, just before the swap; a superseded one is first kept aside
    (``<production>.last-checkpoint.replaced-<time>``: it is evidence). Adds to
    ``done``, as it goes, what to put back if this or the swap fails."""
    for plan in plans:
        held = held_checkpoint_path(settings, plan.restored.production)
        old = read_held(held)
        aside = None
        if plan.note is not None and old is not None:
            aside = Path(f"{held}.replaced-{stamp}")
            replace_file(aside, old.encode("utf-8"))
            plan.restored.kept_aside = str(aside)
        held.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        done.append((held, old, aside))
        replace_file(held, plan.signed.encode("utf-8"))
        with contextlib.suppress(OSError):  # a root restore leaves the server able to sign
            _give(held, held.parent.stat())


def _unkeep(done: Kept) -> None:
    for held, old, aside in done:
        with contextlib.suppress(OSError):
            if old is None:
                held.unlink(missing_ok=True)
            else:
                replace_file(held, old.encode("utf-8"))
            if aside is not None:
                aside.unlink(missing_ok=True)


def _give(path: Path, owner: os.stat_result) -> None:
    """Run as root, hand ``path`` to ``owner``'s user and group."""
    if os.geteuid() == 0 and (owner.st_uid, owner.st_gid) != (0, 0) and path.exists():
        os.chown(path, owner.st_uid, owner.st_gid)
