"""The event store: append-only, one ledger per production, on SQLite or PostgreSQL.

One write transaction per action: lock the production (SQLite ``BEGIN
IMMEDIATE``; PostgreSQL ``SELECT … FOR UPDATE``), bring the cached state up to
the stored head, let the domain decide, then insert the events, their ledger
hashes and the projection rows they touched, move the head, and commit. The
head moves with a compare-and-set and ``(production_id, seq)`` is the primary
key, so two writers can never both append entry *n*. There is no update or
delete path; triggers refuse them inside the database too.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from ..domain.errors import Conflict, InvalidInput
from ..domain.events import Event, NewEvent, utc_text
from ..domain.state import STATE, STATE_KIND, ProductionState
from ..domain.subjects import subjects
from ..ledger import (
    leaf_hash,
    stored_hash_count,
    stored_hashes_batch,
)
from . import tables as t
from .filelock import DatabaseLock
from .hotpath import (
    ENTITY_TABLES,
    CursorHashes,
    Frontier,
    HashCache,
    HotSql,
    projection_data,
    read_entry,
)


def database_url(value: str) -> str:
    """Accept a SQLAlchemy URL, a postgres URL, or a plain path to a SQLite file."""
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser()}"
    if value.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def sqlite_file(value: str) -> Path | None:
    """The file of a SQLite database URL or path (None: another backend, or an
    in-memory or ``file:`` URI database)."""
    url = make_url(database_url(value))
    path = url.database
    if url.get_backend_name() != "sqlite" or not path or path == ":memory:" \
            or path.startswith("file:"):
        return None
    return Path(path)


def _private_file(url: str) -> None:
    """Create a new SQLite database file readable by its owner only: it holds the
    argon2 hashes of short PINs, which an attacker with a copy could try offline.
    SQLite gives the -wal and -shm files the same mode. An existing file is left
    as its owner set it."""
    path = sqlite_file(url)
    if path is None:
        return
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        _private_file(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # INSERT OR REPLACE deletes the row it replaces without firing DELETE
            # triggers unless this is on: the append-only tables' guard holds then.
            cur.execute("PRAGMA recursive_triggers=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("coldcheck_write", False)
            # Straight to the driver: this runs once per transaction, on the hot path.
            conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass
class Tx:
    """A write transaction on one production, holding its lock."""

    store: Store
    conn: Connection
    state: ProductionState
    head: int
    cursor: Any = None  # DBAPI cursor of ``conn`` for the hot statements

    @property
    def production(self) -> str:
        return self.state.production

    def append(self, new: Sequence[NewEvent], *, actor: str, device: str,
               at: datetime) -> list[Event]:
        if not new:
            return []
        st, prod, when = self.state, self.state.production, utc_text(at)
        start = st.seq
        stored: list[Event] = []
        entries: list[bytes] = []
        touched: dict[tuple[str, str], int] = {}
        for ne in new:
            entry = Event(prod, st.seq, ne.type, when, actor, device, ne.payload).entry()
            e = read_entry(entry)  # apply exactly what a replay will read back
            for key in st.apply(e):
                touched[key] = e.seq
            stored.append(e)
            entries.append(entry)
        if self.cursor is None:
            self.cursor = self.conn.connection.cursor()
        cur, sql = self.cursor, self.store.sql
        leaves = [leaf_hash(x) for x in entries]
        front = self.store._frontiers.get(prod)
        if front is not None and front.size == start and len(leaves) == 1:
            base, hashes, self.store._frontiers[prod] = front.push(leaves[0])
        else:
            base = stored_hash_count(start)
            if front is None or front.size != start:
                reader = CursorHashes(cur, sql, prod, remember=True)
                hashes = stored_hashes_batch(start, leaves, reader)
                front = Frontier(start, tuple(reader.last))
            else:
                hashes = stored_hashes_batch(start, leaves, front)
            self.store._frontiers[prod] = front.advanced(base, hashes, len(leaves))
        cur.executemany(sql.event, [(prod, e.seq, e.type, e.at, actor, device, x)
                                    for e, x in zip(stored, entries, strict=True)])
        cur.executemany(sql.hash, [(prod, base + i, h) for i, h in enumerate(hashes)])
        named = [(prod, kind, ident, e.seq) for e in stored for kind, ident in subjects(e)]
        if named:
            cur.executemany(sql.index, named)
        healed = self.store._stateless.pop(prod, None)
        if healed is not None:  # a database from before the state row: write it now
            touched.setdefault(STATE, healed)  # (a rollback forgets; the next load notes it)
        if touched:
            cur.executemany(sql.projection, [(prod, kind, ident, projection_data(st, kind, ident),
                                              seq) for (kind, ident), seq in touched.items()])
        cur.execute(sql.move, (st.seq, prod, start))
        if cur.rowcount != 1:
            raise Conflict("CONCURRENT_UPDATE", "the production changed underneath; retry")
        self.head = st.seq
        return stored


class Store:
    IDLE_WRITERS = 2  # SQLite has one writer at a time: two spare connections are plenty

    def __init__(self, url: str, *, lock: bool = True) -> None:
        self.url = database_url(url)
        # Held while this store is open, so that `coldcheck restore` cannot swap
        # the file under it (persistence.filelock); ``lock=False`` only for the
        # restore itself, which holds it exclusively.
        file = sqlite_file(self.url)
        self._file_lock = DatabaseLock(file, exclusive=False, required=False) \
            if lock and file is not None else None
        self.engine = make_engine(self.url)
        self.dialect = self.engine.dialect.name
        self.sql = HotSql(self.dialect)
        dbapi = self.engine.dialect.loaded_dbapi
        # Hot statements run on the driver's cursor, so its IntegrityError too.
        self._integrity: tuple[type[BaseException], ...] = (IntegrityError,
                                                             dbapi.IntegrityError)
        self._states: dict[str, ProductionState] = {}
        # Productions whose stored rows lack the state row (written before there
        # was one), with the seq of the last event that changed it: the next
        # append writes it (and from then on the state loads from the rows).
        self._stateless: dict[str, int] = {}
        self._frontiers: dict[str, Frontier] = {}  # per production, valid at its size
        self._hash_caches: dict[str, HashCache] = {}  # per production, committed hashes
        self._signed: dict[str, int] = {}  # per production, a signed checkpoint's size
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._idle: list[Connection] = []  # SQLite write connections, see _connect_write

    # ---- schema --------------------------------------------------------
    def migrate(self, to: str = "head") -> None:
        """Bring the schema to this version's, in one transaction (a migration
        that fails leaves the database as it was). On SQLite the transaction
        takes the write lock first (``BEGIN IMMEDIATE``), waiting the busy
        timeout for a running server's commits: one that began as a reader
        could not take it later and would fail at once."""
        from alembic import command
        from alembic.config import Config
        from alembic.util.exc import CommandError

        cfg = Config()
        cfg.set_main_option("script_location", "coldcheck.persistence:migrations")
        with self.engine.connect() as conn:
            conn = conn.execution_options(coldcheck_write=True)
            with conn.begin():
                cfg.attributes["connection"] = conn
                try:
                    command.upgrade(cfg, to)
                except CommandError as e:
                    if "Can't locate revision" not in str(e):
                        raise
                    raise InvalidInput(
                        "SCHEMA_NEWER", f"{self.url} was migrated by a newer coldcheck "
                        f"({e}): upgrade coldcheck to use it; nothing was changed") from None

    def schema_revision(self) -> str | None:
        """The migration the database is at (None: no coldcheck schema yet)."""
        from alembic.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def initialised(self) -> bool:
        return inspect(self.engine).has_table("events")

    def require_schema(self) -> None:
        if not self.initialised():
            raise InvalidInput("NOT_INITIALISED", f"{self.url} has no coldcheck data: run "
                               "`coldcheck init` first")

    def dispose(self) -> None:
        with self._guard:
            idle, self._idle = self._idle, []
        for c in idle:
            c.close()
        self.engine.dispose()
        if self._file_lock is not None:
            self._file_lock.release()

    # ---- productions ---------------------------------------------------
    def productions(self) -> list[dict[str, Any]]:
        self.require_schema()
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(
                select(t.productions).order_by(t.productions.c.created_at))]

    def production(self, production: str | None) -> dict[str, Any]:
        rows = self.productions()
        if production is None:
            if len(rows) == 1:
                return rows[0]
            if not rows:
                raise InvalidInput("NOT_INITIALISED", "no production yet: run `coldcheck init`")
            raise InvalidInput("PRODUCTION_REQUIRED", "several productions share this database: "
                               "name one with --production ("
                               + ", ".join(r["id"] for r in rows) + ")")
        for r in rows:
            if r["id"] == production:
                return r
        raise InvalidInput("NOT_FOUND", f"no production {production!r} in this database")

    def create_production(self, *, production: str, name: str, origin: str, key_name: str,
                          verifier_key: str, first: Sequence[NewEvent], actor: str,
                          device: str, at: datetime,
                          sealed_key: bytes | None = None) -> list[Event]:
        try:
            with self._connect_write() as c, c.begin():
                exists = c.execute(select(t.productions.c.id).where(
                    t.productions.c.id == production)).first()
                if exists:
                    raise Conflict("ALREADY_INITIALISED", f"production {production!r} "
                                   "already exists in this database; nothing was changed")
                c.execute(insert(t.productions).values(
                    id=production, name=name, origin=origin, key_name=key_name,
                    verifier_key=verifier_key, created_at=utc_text(at), head=0))
                if sealed_key is not None:  # key_store=database: with the production
                    c.execute(insert(t.signing_keys).values(
                        production_id=production, sealed=sealed_key, created_at=utc_text(at)))
                tx = Tx(self, c, ProductionState(production), 0)
                out = tx.append(first, actor=actor, device=device, at=at)
        except BaseException:
            self.forget(production)  # the append may have cached an uncommitted frontier
            raise
        self._states[production] = tx.state
        return out

    # ---- writing -------------------------------------------------------
    @contextmanager
    def _connect_write(self) -> Iterator[Connection]:
        """A connection for one write transaction. On SQLite, up to
        ``IDLE_WRITERS`` idle write connections are kept open and reused (there
        is no server to lose them; checking one out per append cost a third of
        an append); the others go back to the pool, which readers share.
        PostgreSQL goes through the pool and its pre-ping every time."""
        if self.dialect != "sqlite":
            with self.engine.connect() as c:
                yield c.execution_options(coldcheck_write=True)
            return
        with self._guard:
            idle = self._idle.pop() if self._idle else None
        c = idle or self.engine.connect().execution_options(coldcheck_write=True)
        clean = False
        try:
            yield c
            clean = not (c.invalidated or c.in_transaction()
                         or c.connection.driver_connection.in_transaction)  # type: ignore[union-attr]
        finally:
            with self._guard:
                keep = clean and len(self._idle) < self.IDLE_WRITERS
                if keep:
                    self._idle.append(c)
            if not keep:  # back to the pool (whose reset rolls back whatever is left)
                c.close()

    def signed_known(self, production: str) -> int:
        """What this process knows of the latest signed checkpoint's size (a lower
        bound; 0 if nothing yet), without reading the database."""
        return self._signed.get(production, 0)

    def signed_through(self, production: str, needed: int,
                       conn: Connection | None = None) -> int:
        """The tree size of the latest signed checkpoint (0: none), read from the
        database (on ``conn`` if given, ending its read transaction) only while
        what this process knows is below ``needed``: a checkpoint is never
        removed, so a size once seen covers at least that much for good, and a
        board asking whether its last incident is covered reads nothing once it
        is."""
        known = self._signed.get(production, 0)
        if known >= needed:
            return known
        query = (select(func.coalesce(func.max(t.checkpoints.c.tree_size), 0))
                 .where(t.checkpoints.c.production_id == production))
        if conn is not None:
            try:
                size = int(conn.execute(query).scalar_one())
            finally:
                conn.rollback()
        else:
            with self.engine.connect() as c:
                size = int(c.execute(query).scalar_one())
        with self._guard:
            self._signed[production] = max(size, self._signed.get(production, 0))
        return size

    def hash_reader(self, conn: Connection, production: str) -> CursorHashes:
        """A ledger ``HashReader`` over the committed stored hashes of ``production``,
        on ``conn``'s own DBAPI cursor (same transaction and snapshot), sharing this
        process's cache of hashes already read (they never change once committed).
        Not for the append path: use it on data that is committed."""
        with self._guard:
            cache = self._hash_caches.setdefault(production, HashCache())
        return CursorHashes(conn.connection.cursor(), self.sql, production, cache)

    def forget(self, production: str) -> None:
        """Drop what this process cached about a production (its state and tree
        frontier may hold applied events that were never committed)."""
        self._states.pop(production, None)
        self._frontiers.pop(production, None)
        self._stateless.pop(production, None)

    def _lock(self, production: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(production, threading.Lock())

    @contextmanager
    def write(self, production: str) -> Iterator[Tx]:
        """Lock the production, yield a Tx over its up-to-date state, commit on exit.
        Any exception rolls back and drops the cached state (it may hold applied,
        uncommitted events)."""
        with self._lock(production), self._connect_write() as c:
            try:
                with c.begin():
                    cur = c.connection.cursor()
                    cur.execute(self.sql.head, (production,))
                    row = cur.fetchone()
                    if row is None:
                        raise InvalidInput("NOT_FOUND", f"no production {production!r}")
                    state = self._catch_up(cur, production, int(row[0]))
                    tx = Tx(self, c, state, int(row[0]), cur)
                    yield tx
            except self._integrity as err:
                self.forget(production)
                raise Conflict("CONCURRENT_UPDATE",
                               "another writer appended at the same moment; retry") from err
            except BaseException:
                self.forget(production)
                raise

    def _catch_up(self, cur: Any, production: str, head: int) -> ProductionState:
        """The production's state at ``head``: the cached one plus the events
        after it, or, in a process that has none, the state loaded from the
        stored rows (written with the events, so current at the head)."""
        st = self._states.get(production)
        if st is None or st.seq > head:
            st = self._load(cur, production, head)
        if st.seq < head:
            for e in self._entries(cur, production, st.seq, head):
                st.apply(e)
        self._states[production] = st
        return st

    def _load(self, cur: Any, production: str, head: int) -> ProductionState:
        """The state at ``head`` from the projection rows (on ``cur``, within its
        transaction), or replayed from the events when they hold no state row
        (a database written before there was one; noted so that the next append
        writes it) or a row says an event at or beyond the head changed it (a
        file rolled back to an older copy of its events: the rows are not its)."""
        cur.execute(self.sql.rows, (production,))
        rows, meta, last = [], None, -1
        loads = json.loads
        while chunk := cur.fetchmany(4096):
            for kind, ident, data, seq in chunk:
                if seq > last:
                    last = seq
                if kind == STATE_KIND:
                    meta = loads(data)
                else:
                    rows.append((kind, ident, data))  # decoded by ProductionState.loaded
        if last >= head:  # rows from beyond the head: a file rolled back under them
            meta = None
        if meta is not None or (head == 0 and last < 0):
            if meta is not None:
                return ProductionState.loaded(production, head, meta, rows)
            return ProductionState(production)
        st, last = ProductionState(production), 0
        for e in self._entries(cur, production, 0, head):
            if STATE in st.apply(e):
                last = int(e.seq)
        with self._guard:
            self._stateless[production] = last
        return st

    def _entries(self, cur: Any, production: str, start: int,
                 end: int = 2**63 - 1) -> Iterator[Event]:
        """Events ``start <= seq < end`` read on a DBAPI cursor, in order."""
        cur.execute(self.sql.entries, (production, start, end))
        while rows := cur.fetchmany(4096):
            for (entry,) in rows:
                yield read_entry(bytes(entry))

    # ---- reading -------------------------------------------------------
    def read_events(self, c: Connection, production: str, start: int = 0,
                    end: int | None = None) -> Iterator[Event]:
        q = select(t.events.c.entry).where(t.events.c.production_id == production,
                                           t.events.c.seq >= start)
        if end is not None:
            q = q.where(t.events.c.seq < end)
        for (entry,) in c.execute(q.order_by(t.events.c.seq)):
            yield read_entry(bytes(entry))

    def events(self, production: str, start: int = 0, end: int | None = None) -> list[Event]:
        with self.engine.connect() as c:
            return list(self.read_events(c, production, start, end))

    def state(self, production: str) -> ProductionState:
        """A fresh state at the stored head (a consistent snapshot), loaded from
        the projection rows: what it costs grows with the entities, not with
        the history. ``replay`` is the check of it."""
        with self.engine.connect() as c:
            if self.dialect == "postgresql":  # the head and the rows from one snapshot
                c = c.execution_options(isolation_level="REPEATABLE READ")
            with c.begin():
                cur = c.connection.cursor()
                cur.execute(self.sql.head_now, (production,))
                row = cur.fetchone()
                head = 0 if row is None else int(row[0])
                return self._load(cur, production, head)

    def replay(self, production: str) -> ProductionState:
        """A fresh state replayed from every stored event (a consistent snapshot):
        what ``state`` must equal (``ledger verify`` and ``rebuild`` replay)."""
        with self.engine.connect() as c, c.begin():
            return ProductionState.replayed(production, self.read_events(c, production))

    def head(self, production: str) -> int:
        with self.engine.connect() as c:
            v = c.execute(select(t.productions.c.head).where(
                t.productions.c.id == production)).scalar_one()
            return int(v)

    # ---- timelines -----------------------------------------------------
    def timeline_seqs(self, production: str, named: Sequence[tuple[str, str]]) -> list[int]:
        """The seqs of the events naming any of ``named`` ((kind, id) pairs), in
        order: a range read of the timeline index per pair."""
        q = self.sql.q("SELECT seq FROM timeline_index WHERE production_id = ? AND kind = ? "
                       "AND subject_id = ? ORDER BY seq")
        found: set[int] = set()
        with self.engine.connect() as c:
            cur = c.connection.cursor()
            for kind, ident in named:
                cur.execute(q, (production, kind, ident))
                found.update(int(r[0]) for r in cur.fetchall())
        return sorted(found)

    def events_at(self, production: str, seqs: Sequence[int]) -> list[Event]:
        """The events at ``seqs`` (sorted), read by primary key a chunk at a time."""
        out: list[Event] = []
        with self.engine.connect() as c:
            cur = c.connection.cursor()
            for i in range(0, len(seqs), 500):
                part = seqs[i:i + 500]
                marks = ", ".join("?" * len(part))
                cur.execute(self.sql.q(f"SELECT entry FROM events WHERE "  # noqa: S608
                                       f"production_id = ? AND seq IN ({marks}) ORDER BY seq"),
                            (production, *part))
                out.extend(read_entry(bytes(r[0])) for r in cur.fetchall())
        return out

    def index_rows(self, production: str) -> set[tuple[str, str, int]]:
        """Every row of the production's timeline index, as (kind, id, seq)."""
        with self.engine.connect() as c:
            return {(str(k), str(i), int(s)) for k, i, s in c.execute(
                select(t.timeline_index.c.kind, t.timeline_index.c.subject_id,
                       t.timeline_index.c.seq)
                .where(t.timeline_index.c.production_id == production))}

    def projection_rows(self, production: str, *,
                        with_state: bool = False) -> dict[tuple[str, str], str]:
        """The entity rows (and, ``with_state``, the state row too)."""
        with self.engine.connect() as c:
            return {(r.kind, r.entity_id): r.data for r in c.execute(
                select(t.projections.c.kind, t.projections.c.entity_id, t.projections.c.data)
                .where(t.projections.c.production_id == production))
                if with_state or r.kind != STATE_KIND}

    def entity(self, production: str, kind: str, ident: str) -> dict[str, Any] | None:
        """One projection row, decoded (for reads that need no full state)."""
        import json

        with self.engine.connect() as c:
            v = c.execute(select(t.projections.c.data).where(
                t.projections.c.production_id == production, t.projections.c.kind == kind,
                t.projections.c.entity_id == ident)).scalar()
        return None if v is None else dict(json.loads(v))

    def projection(self, production: str, kind: str) -> list[str]:
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(
                select(t.projections.c.data).where(t.projections.c.production_id == production,
                                                   t.projections.c.kind == kind))]

    def count_events(self, production: str) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(t.events).where(
                t.events.c.production_id == production)).scalar_one())

    # ---- rebuilding ----------------------------------------------------
    def rebuild(self, production: str) -> int:
        """Replay every event and rewrite the projections and the timeline index
        from scratch, in one transaction. Returns the number of events replayed."""
        with self._lock(production), self._connect_write() as c, c.begin():
            cur, sql = c.connection.cursor(), self.sql
            write = c.connection.cursor()  # the index rows, while ``cur`` reads
            write.execute(sql.q("DELETE FROM timeline_index WHERE production_id = ?"),
                          (production,))
            st = ProductionState(production)
            seqs: dict[tuple[str, str], int] = {}
            apply = st.apply
            rows: list[tuple[str, str, str, int]] = []
            for e in self._entries(cur, production, 0):
                for key in apply(e):
                    seqs[key] = e.seq
                rows.extend((production, kind, ident, e.seq) for kind, ident in subjects(e))
                if len(rows) >= 8192:
                    write.executemany(sql.index, rows)
                    rows.clear()
            if rows:
                write.executemany(sql.index, rows)
            cur.execute(sql.q("DELETE FROM projections WHERE production_id = ?"), (production,))
            cur.executemany(sql.projection, [
                (production, k, i, projection_data(st, k, i), seqs.get((k, i), 0))
                for k, attr in ENTITY_TABLES.items() for i in getattr(st, attr)])
            if st.seq:
                cur.execute(sql.projection, (production, *STATE, projection_data(st, *STATE),
                                             seqs.get(STATE, 0)))
            self.forget(production)
            self._states[production] = st
            return st.seq

    # ---- credentials (never in the record) -----------------------------
    def set_pin_hash(self, c: Connection, production: str, person: str, pin_hash: str) -> None:
        ins = (pg_insert if self.dialect == "postgresql" else sqlite_insert)(t.credentials)
        c.execute(ins.values(production_id=production, person_id=person, pin_hash=pin_hash)
                  .on_conflict_do_update(index_elements=["production_id", "person_id"],
                                         set_={"pin_hash": pin_hash}))

    def person_with_pin_hash(self, production: str,
                             person: str) -> tuple[dict[str, Any] | None, str | None]:
        """A person's projection row, decoded, and their PIN hash, in one statement
        (a PIN check needs both): ``(None, None)`` for an unknown person, ``(row,
        None)`` for one without a PIN."""
        import json

        p, cr = t.projections, t.credentials
        q = (select(p.c.data, cr.c.pin_hash)
             .select_from(p.outerjoin(cr, (cr.c.production_id == p.c.production_id)
                                      & (cr.c.person_id == p.c.entity_id)))
             .where(p.c.production_id == production, p.c.kind == "person",
                    p.c.entity_id == person))
        with self.engine.connect() as c:
            found = c.execute(q).first()
        if found is None:
            return None, None
        data, pin_hash = found
        return dict(json.loads(data)), None if pin_hash is None else str(pin_hash)
