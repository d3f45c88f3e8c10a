"""Checks shared by the store contract and group-commit suites: is the record of
a production whole, and do its derived tables agree with it?"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from coldcheck.config import Settings
from coldcheck.domain.events import Event, canonical
from coldcheck.domain.state import ProductionState
from coldcheck.ledger import build_stored_hashes, leaf_hashes
from coldcheck.persistence import tables as t
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services.context import Context

PRODUCTION = "contract-test"
T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def new_production(store: Store, settings: Settings) -> tuple[Context, str]:
    """A production with one person (who files complaints and notes)."""
    ctx = a.init_production(store=store, settings=settings, production=PRODUCTION,
                            name="Contract test", at=T0)
    person = a.add_person(ctx, name="Robin Ash", roles=["performer"], badge="B-1", pin=None,
                          at=T0)[0].payload["person"]
    return ctx, person


def stored_entries(store: Store, production: str = PRODUCTION) -> list[tuple[int, bytes]]:
    with store.engine.connect() as c:
        return [(int(s), bytes(e)) for s, e in c.execute(
            select(t.events.c.seq, t.events.c.entry)
            .where(t.events.c.production_id == production).order_by(t.events.c.seq))]


def stored_hashes(store: Store, production: str = PRODUCTION) -> list[tuple[int, bytes]]:
    with store.engine.connect() as c:
        return [(int(i), bytes(h)) for i, h in c.execute(
            select(t.ledger_hashes.c.idx, t.ledger_hashes.c.hash)
            .where(t.ledger_hashes.c.production_id == production)
            .order_by(t.ledger_hashes.c.idx))]


def row_counts(store: Store, production: str = PRODUCTION) -> dict[str, int]:
    out = {}
    with store.engine.connect() as c:
        for table in (t.events, t.ledger_hashes, t.checkpoints, t.projections, t.productions):
            col = table.c.id if table is t.productions else table.c.production_id
            out[table.name] = int(c.execute(
                select(func.count()).select_from(table).where(col == production)).scalar_one())
    return out


def replayed_projections(store: Store, production: str = PRODUCTION) -> dict[tuple[str, str], str]:
    st = store.replay(production)  # every event replayed, not the state loaded from the rows
    return {(k, i): canonical(d).decode() for k, i, d in st.all_entities()}


def state_view(st: ProductionState) -> dict[str, Any]:
    """Everything a state holds, comparable with ``==``: its entities in their
    order, the state row, and what is derived from the entities."""
    return {"seq": st.seq, "meta": canonical(st.meta()).decode(), "counters": st.counters,
            "serials": st.serials, "badges": st.badges,
            "entities": [(k, i, canonical(d).decode()) for k, i, d in st.all_entities()]}


def assert_loaded_state_is_the_replay(store: Store, production: str = PRODUCTION) -> None:
    """The state loaded from the stored rows (``Store.state``, in this process and
    in a fresh one) is the state a replay of every event derives."""
    replayed = state_view(store.replay(production))
    assert state_view(store.state(production)) == replayed
    fresh = Store(store.url)
    try:
        assert state_view(fresh.state(production)) == replayed
    finally:
        fresh.dispose()


def assert_record_intact(store: Store, production: str = PRODUCTION) -> int:
    """Events 0..n-1 with no gap, each entry naming its own seq and production;
    the head is n; the stored hashes are exactly those the entries produce
    (RFC 9162 leaves, Go tlog layout), no more, no fewer; the projection rows are
    the ones a replay derives. Returns n."""
    rows = stored_entries(store, production)
    n = len(rows)
    assert [s for s, _ in rows] == list(range(n))
    for seq, entry in rows:
        d = json.loads(entry)
        assert (d["seq"], d["production"]) == (seq, production)
        assert Event.from_entry(entry).entry() == entry  # canonical form, as hashed
    assert store.head(production) == n
    expected = build_stored_hashes(leaf_hashes([e for _, e in rows]))
    hashes = stored_hashes(store, production)
    assert [i for i, _ in hashes] == list(range(len(expected)))
    assert [h for _, h in hashes] == expected
    assert store.projection_rows(production) == replayed_projections(store, production)
    assert_loaded_state_is_the_replay(store, production)
    return n
