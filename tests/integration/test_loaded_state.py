"""What commands read without replaying the history (issue 20, parts 2 and 3).

The state every command starts from is loaded from the stored rows, not
replayed from the history (part 2). For random histories, on SQLite
and PostgreSQL, that state must be exactly the replay of every event: the same
entities in the same order, the same state row, counters, serials and badges;
in this process (which caught up by applying what it appended) and in a fresh
one (which loads the rows). The replay stays the check (``ledger verify``,
``rebuild``).

Timelines are a range read of the timeline index (part 3): for the same random
histories they must equal the scan of every event with ``mentions``."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from helpers import PERFORMERS, Clock, World, build_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_checks import state_view

from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services import queries as q
from coldcheck.services.verify import verify_ledger

_names = itertools.count()
FIREARMS = ["revolver", "revolver2", "pistol", "other", "replica"]
SCENES = ["cold", "hot", "rehearsal", "pointing"]
ARMORERS = ["armorer", "armorer", "assistant", "expired", "props_armorer"]


def _inspect(w: World, d: Any) -> None:
    weapon = d.draw(st.sampled_from(FIREARMS))
    content = d.draw(st.sampled_from(["empty", "dummy", "blank"]))
    lot = {"empty": None, "dummy": "dummies", "blank": "blanks45"}[content]
    if weapon == "pistol" and content == "blank":
        lot = "blanks9"
    w.inspect(weapon, content=content, n=0 if lot is None else d.draw(st.integers(1, 3)),
              lot=lot, scene=d.draw(st.sampled_from(SCENES)),
              armorer=d.draw(st.sampled_from(ARMORERS)),
              complete=d.draw(st.booleans()))


def _witness(w: World, d: Any) -> None:
    s = w.state()
    weapon = w.weapons[d.draw(st.sampled_from(FIREARMS))]
    ins = s.weapons[weapon].inspection
    if ins:
        w.witness(ins, d.draw(st.sampled_from(PERFORMERS)), d.draw(st.sampled_from(["ad"])))


def _issue(w: World, d: Any) -> None:
    w.issue(d.draw(st.sampled_from(FIREARMS)), d.draw(st.sampled_from(PERFORMERS)),
            d.draw(st.sampled_from(SCENES)))


def _take(w: World, d: Any) -> None:
    """Inspect (maybe loading dummies), witness and issue: the happy path."""
    dummies = d.draw(st.booleans())
    w.give(d.draw(st.sampled_from(["revolver", "revolver2", "replica"])),
           d.draw(st.sampled_from(PERFORMERS)), d.draw(st.sampled_from(SCENES)),
           content="dummy" if dummies else "empty", n=2 if dummies else 0,
           lot="dummies" if dummies else None)


def _return(w: World, d: Any) -> None:
    weapon = d.draw(st.sampled_from(FIREARMS))
    holder = w.state().weapons[w.weapons[weapon]].custodian
    performer = next((k for k, v in w.people.items() if v == holder), "alex")
    w.take_back(weapon, performer, fired=d.draw(st.integers(0, 1)),
                misfire=d.draw(st.sampled_from([None, None, None, "click, no bang"])))


def _store(w: World, d: Any) -> None:
    w.put_away(d.draw(st.sampled_from(FIREARMS)),
               armorer=d.draw(st.sampled_from(ARMORERS)))


def _incident(w: World, d: Any) -> None:
    a.report_incident(w.ctx, kind=d.draw(st.sampled_from(["discharge", "other"])),
                      description="A bang on set that nobody planned.",
                      weapons=[w.weapons[d.draw(st.sampled_from(FIREARMS))]],
                      lots=d.draw(st.sampled_from([[], [w.lots["dummies"]]])),
                      reported_by=w.people["ad"])


def _close(w: World, d: Any) -> None:
    open_ = [i for i, x in w.state().incidents.items() if x.open]
    if open_:
        w.close(d.draw(st.sampled_from(open_)))


def _verify(w: World, d: Any) -> None:
    a.verify_rounds(w.ctx, lot=w.lots["dummies"], count=d.draw(st.integers(1, 3)),
                    method="shake", armorer=w.people[d.draw(st.sampled_from(ARMORERS))])


def _meal(w: World, d: Any) -> None:
    a.meal_break(w.ctx, start=d.draw(st.booleans()), actor=w.people["ad"])


def _wrap_or_open(w: World, d: Any) -> None:
    if w.state().current_day is None:
        a.open_day(w.ctx, date="2026-11-25", actor=w.people["ad"])
    else:
        a.wrap(w.ctx, armorer=w.people[d.draw(st.sampled_from(ARMORERS))])


def _override(w: World, d: Any) -> None:
    w.override(d.draw(st.sampled_from(["SCENE_REHEARSAL_REPLICA", "AMMO_DUMMY_UNVERIFIED"])),
               f"scene:{w.scenes['rehearsal']}", by=d.draw(st.sampled_from(["supervisor",
                                                                            "ad"])))


def _pin_fail(w: World, d: Any) -> None:
    weapon = w.weapons[d.draw(st.sampled_from(FIREARMS))]
    ins = w.state().weapons[weapon].inspection
    if ins:
        w.witness(ins, d.draw(st.sampled_from(PERFORMERS)), pin="0000")


MOVES: list[Callable[[World, Any], None]] = [
    _inspect, _inspect, _witness, _issue, _take, _take, _return, _return, _store, _store,
    _incident, _close, _verify, _meal, _wrap_or_open, _override, _pin_fail]


def random_history(w: World, d: Any, steps: int) -> tuple[int, int]:
    """Play ``steps`` random moves (most of them refused, and recorded as such).
    Returns how many were done and how many refused."""
    done = refused = 0
    for _ in range(steps):
        move = d.draw(st.sampled_from(MOVES))
        try:
            move(w, d)
            done += 1
        except ColdcheckError:
            refused += 1
    return done, refused


def new_world(backend_settings: Settings, store: Store) -> World:
    return build_world(store, backend_settings, Clock(),
                       production=f"prop-{next(_names)}", meeting=True)


@pytest.mark.slow
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(d=st.data(), steps=st.integers(5, 30))
def test_the_loaded_state_is_the_replay(backend_settings: Settings, store: Store, d: Any,
                                        steps: int) -> None:
    w = new_world(backend_settings, store)
    random_history(w, d, steps)
    replayed = state_view(store.replay(w.production))
    assert state_view(store.state(w.production)) == replayed  # this process
    fresh = Store(backend_settings.database_url)  # a cold process: the rows
    try:
        assert state_view(fresh.state(w.production)) == replayed
        with fresh.write(w.production) as tx:  # what a write starts from
            assert state_view(tx.state) == replayed
    finally:
        fresh.dispose()


@pytest.mark.slow
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(d=st.data(), steps=st.integers(5, 30))
def test_indexed_timelines_are_the_full_scan(backend_settings: Settings, store: Store, d: Any,
                                             steps: int) -> None:
    """Issue 20, part 3: every timeline read from the index (by weapon, lot,
    person, scene, day, and two at once) equals the scan of every event with
    ``mentions``; ``ledger verify`` finds the index whole."""
    w = new_world(backend_settings, store)
    random_history(w, d, steps)
    s = store.replay(w.production)
    asked = [(k, i) for k, table in (("weapon", s.weapons), ("lot", s.lots),
                                     ("person", s.people), ("scene", s.scenes),
                                     ("day", s.days)) for i in table]
    assert len(asked) > 20
    for kind, ident in asked:
        assert q.timeline(w.ctx, **{kind: ident}) == q.timeline_scan(w.ctx, **{kind: ident})
    weapon, lot = d.draw(st.sampled_from(sorted(s.weapons))), d.draw(st.sampled_from(
        sorted(s.lots)))
    assert q.timeline(w.ctx, weapon=weapon, lot=lot) == q.timeline_scan(w.ctx, weapon=weapon,
                                                                      lot=lot)
    report = verify_ledger(w.ctx)
    assert report.ok, report.failures
    assert report.index_rows == len(store.index_rows(w.production))
