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
from sqlalchemy.exc import IntegrityError

from ..domain.errors import ColdcheckError, Conflict, InvalidInput
from ..domain.events import Event, NewEvent, canonical, utc_text
from ..domain.state import ProductionState
from ..ledger import leaf_hash, stored_hash_count, stored_hashes_batch
from . import tables as t


def database_url(value: str) -> str:
    """Accept a SQLAlchemy URL, a postgres URL, or a plain path to a SQLite file."""
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser()}"
    if value.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def make_engine(url: str) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("coldcheck_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


class DbHashes:
    """A ledger HashReader over the stored hashes of one production."""

    def __init__(self, conn: Connection, production: str) -> None:
        self.conn, self.production = conn, production

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        if not indexes:
            return []
        rows = self.conn.execute(
            select(t.ledger_hashes.c.idx, t.ledger_hashes.c.hash).where(
                t.ledger_hashes.c.production_id == self.production,
                t.ledger_hashes.c.idx.in_(sorted(set(indexes))))).all()
        found = {int(r[0]): bytes(r[1]) for r in rows}
        try:
            return [found[i] for i in indexes]
        except KeyError as missing:
            raise ColdcheckError("LEDGER_CORRUPT",
                                 f"stored ledger hash {missing} is missing") from None


@dataclass
class Tx:
    """A write transaction on one production, holding its lock."""

    store: Store
    conn: Connection
    state: ProductionState
    head: int

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
            e = Event.from_entry(entry)  # apply exactly what a replay will read back
            for key in st.apply(e):
                touched[key] = e.seq
            stored.append(e)
            entries.append(entry)
        leaves = [leaf_hash(x) for x in entries]
        hashes = stored_hashes_batch(start, leaves, DbHashes(self.conn, prod))
        base = stored_hash_count(start)
        c = self.conn
        c.execute(insert(t.events), [
            {"production_id": prod, "seq": e.seq, "type": e.type, "at": e.at, "actor": actor,
             "device": device, "entry": x} for e, x in zip(stored, entries, strict=True)])
        c.execute(insert(t.ledger_hashes), [
            {"production_id": prod, "idx": base + i, "hash": h} for i, h in enumerate(hashes)])
        self.store.write_projections(c, st, touched)
        moved = c.execute(t.productions.update().where(
            t.productions.c.id == prod, t.productions.c.head == start).values(head=st.seq))
        if moved.rowcount != 1:
            raise Conflict("CONCURRENT_UPDATE", "the production changed underneath; retry")
        self.head = st.seq
        return stored


class Store:
    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self.dialect = self.engine.dialect.name
        self._states: dict[str, ProductionState] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # ---- schema --------------------------------------------------------
    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", "coldcheck.persistence:migrations")
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def initialised(self) -> bool:
        return inspect(self.engine).has_table("events")

    def require_schema(self) -> None:
        if not self.initialised():
            raise InvalidInput("NOT_INITIALISED", f"{self.url} has no coldcheck data: run "
                               "`coldcheck init` first")

    def dispose(self) -> None:
        self.engine.dispose()

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
                          device: str, at: datetime) -> list[Event]:
        with self._connect_write() as c, c.begin():
            exists = c.execute(select(t.productions.c.id).where(
                t.productions.c.id == production)).first()
            if exists:
                raise Conflict("ALREADY_INITIALISED", f"production {production!r} already "
                               "exists in this database; nothing was changed")
            c.execute(insert(t.productions).values(
                id=production, name=name, origin=origin, key_name=key_name,
                verifier_key=verifier_key, created_at=utc_text(at), head=0))
            tx = Tx(self, c, ProductionState(production), 0)
            try:
                out = tx.append(first, actor=actor, device=device, at=at)
            except BaseException:
                self._states.pop(production, None)
                raise
        self._states[production] = tx.state
        return out

    # ---- writing -------------------------------------------------------
    @contextmanager
    def _connect_write(self) -> Iterator[Connection]:
        with self.engine.connect() as c:
            yield c.execution_options(coldcheck_write=True)

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
                    q = select(t.productions.c.head).where(t.productions.c.id == production)
                    if self.dialect == "postgresql":
                        q = q.with_for_update()
                    row = c.execute(q).first()
                    if row is None:
                        raise InvalidInput("NOT_FOUND", f"no production {production!r}")
                    state = self._catch_up(c, production, int(row[0]))
                    tx = Tx(self, c, state, int(row[0]))
                    yield tx
            except IntegrityError as err:
                self._states.pop(production, None)
                raise Conflict("CONCURRENT_UPDATE",
                               "another writer appended at the same moment; retry") from err
            except BaseException:
                self._states.pop(production, None)
                raise

    def _catch_up(self, c: Connection, production: str, head: int) -> ProductionState:
        st = self._states.get(production)
        if st is None or st.seq > head:
            st = ProductionState(production)
        if st.seq < head:
            for e in self.read_events(c, production, st.seq, head):
                st.apply(e)
        self._states[production] = st
        return st

    def write_projections(self, c: Connection, st: ProductionState,
                          touched: dict[tuple[str, str], int]) -> None:
        rows = []
        for (kind, ident), seq in touched.items():
            data = st.entity(kind, ident)
            assert data is not None
            rows.append({"production_id": st.production, "kind": kind, "entity_id": ident,
                         "data": canonical(data).decode(), "seq": seq})
        if not rows:
            return
        ins = (pg_insert if self.dialect == "postgresql" else sqlite_insert)(t.projections)
        stmt = ins.on_conflict_do_update(
            index_elements=["production_id", "kind", "entity_id"],
            set_={"data": ins.excluded.data, "seq": ins.excluded.seq})
        c.execute(stmt, rows)

    # ---- reading -------------------------------------------------------
    def read_events(self, c: Connection, production: str, start: int = 0,
                    end: int | None = None) -> Iterator[Event]:
        q = select(t.events.c.entry).where(t.events.c.production_id == production,
                                           t.events.c.seq >= start)
        if end is not None:
            q = q.where(t.events.c.seq < end)
        for (entry,) in c.execute(q.order_by(t.events.c.seq)):
            yield Event.from_entry(bytes(entry))

    def events(self, production: str, start: int = 0, end: int | None = None) -> list[Event]:
        with self.engine.connect() as c:
            return list(self.read_events(c, production, start, end))

    def state(self, production: str) -> ProductionState:
        """A fresh state replayed from the stored events (a consistent snapshot)."""
        with self.engine.connect() as c, c.begin():
            st = ProductionState(production)
            for e in self.read_events(c, production):
                st.apply(e)
            return st

    def head(self, production: str) -> int:
        with self.engine.connect() as c:
            v = c.execute(select(t.productions.c.head).where(
                t.productions.c.id == production)).scalar_one()
            return int(v)

    def projection_rows(self, production: str) -> dict[tuple[str, str], str]:
        with self.engine.connect() as c:
            return {(r.kind, r.entity_id): r.data for r in c.execute(
                select(t.projections.c.kind, t.projections.c.entity_id, t.projections.c.data)
                .where(t.projections.c.production_id == production))}

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
        """Replay every event and rewrite the projections from scratch, in one
        transaction. Returns the number of events replayed."""
        with self._lock(production), self._connect_write() as c, c.begin():
            st = ProductionState(production)
            seqs: dict[tuple[str, str], int] = {}
            for e in self.read_events(c, production):
                for key in st.apply(e):
                    seqs[key] = e.seq
            c.execute(t.projections.delete().where(t.projections.c.production_id == production))
            rows = [{"production_id": production, "kind": k, "entity_id": i,
                     "data": canonical(d).decode(), "seq": seqs.get((k, i), 0)}
                    for k, i, d in st.all_entities()]
            if rows:
                c.execute(insert(t.projections), rows)
            self._states[production] = st
            return st.seq

    # ---- credentials (never in the record) -----------------------------
    def set_pin_hash(self, c: Connection, production: str, person: str, pin_hash: str) -> None:
        ins = (pg_insert if self.dialect == "postgresql" else sqlite_insert)(t.credentials)
        c.execute(ins.values(production_id=production, person_id=person, pin_hash=pin_hash)
                  .on_conflict_do_update(index_elements=["production_id", "person_id"],
                                         set_={"pin_hash": pin_hash}))

    def pin_hash(self, production: str, person: str) -> str | None:
        with self.engine.connect() as c:
            v = c.execute(select(t.credentials.c.pin_hash).where(
                t.credentials.c.production_id == production,
                t.credentials.c.person_id == person)).scalar()
            return None if v is None else str(v)
