"""Migration 0007 adds the timeline index and fills it from the events already
recorded, without touching them.

The database is the demo day written at revision 0006 (by today's code, with no
index written, as before 0007). After the migration: every entry, hash and
checkpoint as it was; every timeline (by weapon, lot, person, scene, day) read
from the index equals the full scan of the events; the ledger verifies, index
included; and appends go on writing their index rows.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from store_checks import row_counts, stored_entries, stored_hashes
from test_migration_0004 import HEAD, revision, upgrade

from coldcheck.config import Settings
from coldcheck.demo import run_demo
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services import queries as q
from coldcheck.services.context import context
from coldcheck.services.verify import verify_ledger


@pytest.fixture
def demo_at_0006(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, str]:
    store = Store(settings.database_url)
    monkeypatch.setattr(Store, "migrate", lambda self: upgrade(self, "0006"))
    monkeypatch.setattr("coldcheck.persistence.store.subjects", lambda e: set())
    res = run_demo(store, settings)
    monkeypatch.undo()
    return store, res.ctx.production


def db_path(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite:///"))


def every_timeline(ctx: object) -> dict[tuple[str, str], list[dict[str, object]]]:
    st = ctx.store.state(ctx.production)  # type: ignore[attr-defined]
    out = {}
    for kind, table in (("weapon", st.weapons), ("lot", st.lots), ("person", st.people),
                        ("scene", st.scenes), ("day", st.days)):
        for ident in table:
            out[kind, ident] = q.timeline(ctx, **{kind: ident})  # type: ignore[arg-type]
    return out


def test_the_migration_fills_the_index_from_the_events_and_changes_none(
        demo_at_0006: tuple[Store, str], settings: Settings) -> None:
    store, prod = demo_at_0006
    db = db_path(settings)
    assert revision(db) == "0006"
    with sqlite3.connect(db) as c:
        assert not c.execute("SELECT name FROM sqlite_master WHERE name = 'timeline_index'"
                             ).fetchall()
    c.close()
    entries, hashes, counts = stored_entries(store, prod), stored_hashes(store, prod), \
        row_counts(store, prod)

    store.migrate()

    assert revision(db) == HEAD
    assert stored_entries(store, prod) == entries  # the record, byte for byte
    assert stored_hashes(store, prod) == hashes
    assert row_counts(store, prod) == counts
    assert len(store.index_rows(prod)) > len(entries)  # every event names its actor at least
    ctx = context(settings, prod, store=store)
    timelines = every_timeline(ctx)
    assert sum(map(len, timelines.values())) > len(entries)
    for (kind, ident), rows in timelines.items():
        assert rows == q.timeline_scan(ctx, **{kind: ident}), (kind, ident)
    report = verify_ledger(ctx)
    assert report.ok, report.failures
    assert report.index_rows == len(store.index_rows(prod))
    # Appends write their own rows from now on; a rebuild rewrites the same ones.
    before = store.index_rows(prod)
    person = next(iter(store.state(prod).people))
    ev = a.add_note(ctx, refers_to=3, text="after the migration", actor=person)
    assert store.index_rows(prod) - before == {("person", person, ev[0].seq)}
    after = store.index_rows(prod)
    store.rebuild(prod)
    assert store.index_rows(prod) == after
    assert verify_ledger(ctx).ok
