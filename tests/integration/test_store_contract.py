"""The event store's contract, run once per backend (SQLite and PostgreSQL).

Convention 4: the store guards itself. Numbering is dense, the database refuses
a duplicate entry and any update or delete of the record, events and projections
commit together, a failure leaves nothing behind, and several writers (threads
or processes) never lose or reorder each other's events.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from concurrency import in_threads
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from store_checks import (
    PRODUCTION,
    T0,
    assert_record_intact,
    new_production,
    row_counts,
    stored_entries,
    stored_hashes,
)

from coldcheck.config import Settings
from coldcheck.demo import run_demo
from coldcheck.domain.errors import ColdcheckError
from coldcheck.domain.events import Event, NewEvent, canonical
from coldcheck.ledger import leaf_hash, stored_hash_index
from coldcheck.persistence import tables as t
from coldcheck.persistence.hotpath import projection_data
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services.context import Context, context


def note(text_: str, refers_to: int = 0) -> NewEvent:
    return NewEvent("note.added", {"refers_to": refers_to, "text": text_})


# ---- numbering ------------------------------------------------------------

def test_init_records_the_first_events_and_signs_a_checkpoint(store: Store,
                                                                backend_settings: Settings
                                                                ) -> None:
    ctx, _ = new_production(store, backend_settings)
    assert stored_entries(store)[0][1].startswith(b'{"actor":"system"')
    counts = row_counts(store)
    assert counts["productions"] == 1 and counts["checkpoints"] == 1
    assert assert_record_intact(store) == store.head(ctx.production) > 0


def test_appends_are_numbered_from_zero_without_gaps(store: Store,
                                                     backend_settings: Settings) -> None:
    ctx, person = new_production(store, backend_settings)
    before = store.head(PRODUCTION)
    seen: list[int] = []
    for i in range(5):
        seen += [e.seq for e in a.file_complaint(ctx, by=person, text=f"smoke {i}", at=T0)]
        with store.write(PRODUCTION) as tx:
            seen += [e.seq for e in tx.append([note(f"a {i}"), note(f"b {i}")], actor=person,
                                              device="test", at=T0)]
    assert seen == list(range(before, before + 15))
    assert assert_record_intact(store) == before + 15


def test_the_database_refuses_a_second_entry_with_the_same_number(store: Store,
                                                                 backend_settings: Settings
                                                                 ) -> None:
    new_production(store, backend_settings)
    before = row_counts(store)
    with pytest.raises(IntegrityError), store.engine.begin() as c:
        c.execute(insert(t.events).values(production_id=PRODUCTION, seq=0, type="note.added",
                                          at="2026-11-24T07:00:00.000000Z", actor="x",
                                          device="raw-sql", entry=b"{}"))
    assert row_counts(store) == before
    assert_record_intact(store)


APPEND_ONLY_SQL = {
    ("events", "UPDATE"): "UPDATE events SET actor = 'mallory' WHERE production_id = :p",
    ("events", "DELETE"): "DELETE FROM events WHERE production_id = :p AND seq > 0",
    ("ledger_hashes", "UPDATE"): "UPDATE ledger_hashes SET idx = idx + 1000 "
                                 "WHERE production_id = :p",
    ("ledger_hashes", "DELETE"): "DELETE FROM ledger_hashes WHERE production_id = :p",
    ("checkpoints", "UPDATE"): "UPDATE checkpoints SET note = 'forged' WHERE production_id = :p",
    ("checkpoints", "DELETE"): "DELETE FROM checkpoints WHERE production_id = :p",
}


@pytest.mark.parametrize(("table", "verb"), sorted(APPEND_ONLY_SQL))
def test_the_database_refuses_to_update_or_delete_the_record(store: Store,
                                                             backend_settings: Settings,
                                                             table: str, verb: str) -> None:
    new_production(store, backend_settings)
    before = (stored_entries(store), stored_hashes(store), row_counts(store))
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as c:
        c.execute(text(APPEND_ONLY_SQL[table, verb]), {"p": PRODUCTION})
    assert (stored_entries(store), stored_hashes(store), row_counts(store)) == before


# ---- initialisation -------------------------------------------------------

def test_a_second_init_of_the_same_production_fails_and_writes_nothing(
        store: Store, backend_settings: Settings) -> None:
    new_production(store, backend_settings)
    key_dir = backend_settings.resolved_key_dir()
    keys = {p.name: p.read_bytes() for p in key_dir.iterdir()}
    before = (stored_entries(store), stored_hashes(store), row_counts(store))
    for s in (store, Store(backend_settings.database_url)):  # this process, then another
        with pytest.raises(ColdcheckError) as err:
            a.init_production(store=s, settings=backend_settings, production=PRODUCTION,
                              name="Contract test, again")
        assert err.value.code == "ALREADY_INITIALISED"
        if s is not store:
            s.dispose()
    assert (stored_entries(store), stored_hashes(store), row_counts(store)) == before
    assert {p.name: p.read_bytes() for p in key_dir.iterdir()} == keys


def test_an_empty_database_is_not_initialised(store: Store, backend_settings: Settings) -> None:
    for attempt in (store.require_schema, lambda: context(backend_settings, None, store=store)):
        with pytest.raises(ColdcheckError) as err:
            attempt()
        assert err.value.code == "NOT_INITIALISED"
    assert inspect(store.engine).get_table_names() == []  # asking created nothing
    store.migrate()  # a schema without any production is not initialised either
    with pytest.raises(ColdcheckError) as err:
        context(backend_settings, None, store=store)
    assert err.value.code == "NOT_INITIALISED"


# ---- the record and what is derived from it -------------------------------

def test_the_demo_runs_and_a_rebuild_reproduces_the_live_projections(
        store: Store, backend_settings: Settings) -> None:
    res = run_demo(store, backend_settings)
    p = res.ctx.production
    live = store.projection_rows(p)
    assert len(live) > 20 and res.refusals
    n = assert_record_intact(store, p)
    with store.engine.connect() as c:  # signed after the commits that called for them
        signed = {r: int(size) for size, r in c.execute(
            select(t.checkpoints.c.tree_size, t.checkpoints.c.reason)
            .where(t.checkpoints.c.production_id == p))}
    assert signed.keys() == {"init", "incident", "wrap"} and signed["wrap"] == n
    assert store.rebuild(p) == n
    assert store.projection_rows(p) == live
    fresh = Store(backend_settings.database_url)  # another process rebuilds: same rows
    try:
        assert fresh.rebuild(p) == n
        assert fresh.projection_rows(p) == live
    finally:
        fresh.dispose()


def test_projection_rows_are_the_canonical_json_of_each_entity(store: Store,
                                                               backend_settings: Settings
                                                               ) -> None:
    res = run_demo(store, backend_settings)
    st = store.state(res.ctx.production)
    entities = list(st.all_entities())
    assert {k for k, _, _ in entities} >= {"person", "weapon", "lot", "inspection", "incident"}
    for kind, ident, data in entities:  # the store's fast encoder == canonical(entity())
        assert projection_data(st, kind, ident) == canonical(data).decode()


def test_events_read_back_byte_identical_to_what_was_hashed(store: Store,
                                                            backend_settings: Settings) -> None:
    _, person = new_production(store, backend_settings)
    texts = ["plain", "accents: é, ñ, ü", "emoji 🎬🔫", "quotes \" and \\ and \n newline",
             "x" * 1500]
    with store.write(PRODUCTION) as tx:
        written = tx.append([note(s) for s in texts], actor=person, device="tablet ①", at=T0)
    stored = dict(stored_entries(store))
    hashes = dict(stored_hashes(store))
    for e in written:
        assert stored[e.seq] == e.entry()
        assert Event.from_entry(stored[e.seq]) == e
        assert hashes[stored_hash_index(0, e.seq)] == leaf_hash(e.entry())
    assert [e.payload["text"] for e in store.events(PRODUCTION, written[0].seq)] == texts
    assert_record_intact(store)


# ---- several writers ------------------------------------------------------

def test_two_processes_writing_alternately_see_each_others_events(
        store: Store, backend_settings: Settings) -> None:
    ctx1, person = new_production(store, backend_settings)
    other = Store(backend_settings.database_url)
    try:
        ctx2 = Context(store=other, production=PRODUCTION, settings=backend_settings)
        ids = []
        for i in range(6):
            for ctx in (ctx1, ctx2):
                ids.append(a.file_complaint(ctx, by=person, text=f"take {i}",
                                            at=T0)[0].payload["complaint"])
            with other.write(PRODUCTION) as tx:  # a raw append through the other store
                tx.append([note(f"n {i}")], actor=person, device="other", at=T0)
        assert ids == [f"C{i}" for i in range(1, 13)]  # each saw the other's complaints
        assert_record_intact(store)
        assert store.state(PRODUCTION).complaints.keys() == \
            other.state(PRODUCTION).complaints.keys()
    finally:
        other.dispose()


def test_concurrent_writers_lose_nothing_and_leave_no_gap(store: Store,
                                                          backend_settings: Settings) -> None:
    ctx, person = new_production(store, backend_settings)
    before = store.head(PRODUCTION)
    threads, per_thread = 8, 12
    results: dict[int, list[Event]] = {}

    def worker(n: int) -> None:
        got: list[Event] = []
        for i in range(per_thread):
            if i % 3 == 2:
                got += a.add_note(ctx, refers_to=0, text=f"t{n} {i}", actor=person, at=T0)
            else:
                got += a.file_complaint(ctx, by=person, text=f"t{n} {i}", at=T0)
        results[n] = got

    assert not in_threads(threads, worker)
    seqs = sorted(e.seq for got in results.values() for e in got)
    assert seqs == list(range(before, before + threads * per_thread))
    for got in results.values():  # each writer's own events are in its order
        assert [e.seq for e in got] == sorted(e.seq for e in got)
    complaints = [e.payload["complaint"] for got in results.values() for e in got
                  if e.type == "complaint.filed"]
    assert sorted(complaints, key=lambda c: int(c[1:])) == \
        [f"C{i}" for i in range(1, len(complaints) + 1)]
    assert assert_record_intact(store) == before + threads * per_thread
    # The writers' cached state is the replayed one: the next decision agrees.
    assert a.file_complaint(ctx, by=person, text="after", at=T0)[0].payload["complaint"] == \
        f"C{len(complaints) + 1}"


def test_many_writers_leave_the_connection_pool_to_readers(store: Store,
                                                           backend_settings: Settings) -> None:
    new_production(store, backend_settings)
    names = [f"side-{n}" for n in range(12)]
    for name in names:  # productions of their own: their writers do not share a lock
        store.create_production(production=name, name=name, origin=name, key_name=name,
                                verifier_key="-", first=[NewEvent("production.created", {
                                    "production": name, "name": name, "origin": name,
                                    "key_id": "00000000"})],
                                actor="system", device="test", at=T0)

    def writer(n: int) -> None:
        with store.write(names[n]) as tx:
            tx.append([note(names[n])], actor="system", device="test", at=T0)
            time.sleep(0.01)  # hold the transaction while the others queue for theirs

    assert not in_threads(len(names), writer)
    assert store.engine.pool.checkedout() <= Store.IDLE_WRITERS  # type: ignore[attr-defined]
    assert_record_intact(store)  # reads still get connections
    for name in names:
        assert assert_record_intact(store, name) == 2


# ---- failures -------------------------------------------------------------

def test_a_crash_inside_a_write_leaves_nothing_and_the_next_write_works(
        store: Store, backend_settings: Settings) -> None:
    ctx, person = new_production(store, backend_settings)
    before = (stored_entries(store), stored_hashes(store), row_counts(store))
    with pytest.raises(RuntimeError, match="power cut"), store.write(PRODUCTION) as tx:
        tx.append([NewEvent("complaint.filed", {"complaint": "C1", "by": person,
                                                "text": "lost"})],
                  actor=person, device="test", at=T0)
        tx.append([note("lost too")], actor=person, device="test", at=T0)
        raise RuntimeError("power cut")
    assert (stored_entries(store), stored_hashes(store), row_counts(store)) == before
    # The applied-but-uncommitted events were dropped from the cached state too.
    filed = a.file_complaint(ctx, by=person, text="kept", at=T0)
    assert filed[0].payload["complaint"] == "C1" and filed[0].seq == len(before[0])
    assert_record_intact(store)


CHILD = r"""
import sys
from datetime import UTC, datetime
from coldcheck.domain.events import NewEvent
from coldcheck.persistence.store import Store

store, production, person = Store(sys.argv[1]), sys.argv[2], sys.argv[3]
at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
for i in range(10**6):
    size = 2000 if i % 4 == 3 else 1  # a long batch after three short ones
    with store.write(production) as tx:
        if size > 1:
            print("long", flush=True)
        taken = {}
        batch = [NewEvent("complaint.filed", {"complaint": tx.state.next_id("C", taken),
                                              "by": person, "text": f"child {i}.{k}"})
                 if k % 2 else NewEvent("note.added", {"refers_to": 0, "text": f"{i}.{k}"})
                 for k in range(size)]
        last = tx.append(batch, actor=person, device="child", at=at)[-1].seq
    print("ack", last, flush=True)  # acknowledged: committed with synchronous=FULL
"""


def test_sqlite_a_writer_killed_mid_batch_leaves_the_record_intact(settings: Settings,
                                                                   tmp_path: Path) -> None:
    store = Store(settings.database_url)
    try:
        _, person = new_production(store, settings)
        acked = store.head(PRODUCTION) - 1
        for delay in (0.0, 0.02):  # right after BEGIN; half-way through the batch
            child = subprocess.Popen(  # our own interpreter and script
                [sys.executable, "-c", CHILD, settings.database_url, PRODUCTION, person],
                stdout=subprocess.PIPE, text=True)
            assert child.stdout is not None
            for line in child.stdout:
                word, *rest = line.split()
                if word == "ack":
                    acked = max(acked, int(rest[0]))
                elif word == "long":  # the long batch takes tens of milliseconds
                    threading.Event().wait(delay)
                    child.send_signal(signal.SIGKILL)
                    break
            child.wait(timeout=30)
            assert child.returncode == -signal.SIGKILL
            db = sqlite3.connect(settings.database_url)
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            db.close()
            fresh = Store(settings.database_url)  # a new process opens the database
            try:
                n = assert_record_intact(fresh)
                assert n > acked  # every acknowledged event is there
                with fresh.write(PRODUCTION) as tx:  # and the next write works
                    assert tx.append([note("after the crash")], actor="system",
                                     device="test", at=T0)[0].seq == n
                assert_record_intact(fresh)
            finally:
                fresh.dispose()
    finally:
        store.dispose()


# ---- credentials -------------------------------------------------------------

def test_a_pin_check_reads_the_person_and_the_pin_hash_in_one_statement(
        store: Store, backend_settings: Settings) -> None:
    from sqlalchemy import event

    from coldcheck.services.core import check_pin

    ctx, person = new_production(store, backend_settings)
    assert store.person_with_pin_hash(PRODUCTION, "P404") == (None, None)
    row, pin_hash = store.person_with_pin_hash(PRODUCTION, person)
    assert row is not None and row["id"] == person and pin_hash is None  # no PIN yet
    a.set_pin(ctx, person=person, pin="2468", actor=person, at=T0)
    row, pin_hash = store.person_with_pin_hash(PRODUCTION, person)
    assert row is not None and row["pin_set"] and pin_hash is not None
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        check_pin(ctx, person=person, pin="2468", action="test", at=T0)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
