"""Duds versus misfires (INCIDENT_DISCHARGE, issue 16 part 2), through the
services, on SQLite and PostgreSQL: one blank that fails to fire in a planned
take is a routine dud (recorded, nothing frozen, counts exact); a second dud
from that lot the same day, a failure to fire with dummies, an empty weapon or
outside a take opens a misfire incident that freezes the weapon and its lot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import World, build_world, refusal

from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services.queries import status
from coldcheck.services.verify import verify_ledger


@pytest.fixture
def w(store: Store, backend_settings: Settings, clock: Any) -> Iterator[World]:
    yield build_world(store, backend_settings, clock)


def dud(w: World, weapon: str, **kw: Any) -> list[Any]:
    return a.record_dud(w.ctx, weapon=w.weapons[weapon], armorer=w.people["armorer"], **kw)


def test_a_blank_dud_in_a_take_is_recorded_without_freezing(w: World) -> None:
    w.give("revolver", "alex", "hot", content="blank", n=6, lot="blanks45")
    ev = dud(w, "revolver", description="cylinder 3 clicked")
    assert [e.type for e in ev] == ["weapon.dud_recorded"]
    p = ev[0].payload
    assert (p["weapon"], p["lot"], p["description"]) == (
        w.weapons["revolver"], w.lots["blanks45"], "cylinder 3 clicked")
    st = w.state()
    wp, lot = st.weapons[w.weapons["revolver"]], st.lots[w.lots["blanks45"]]
    assert (wp.state, wp.frozen_by, wp.load_count) == ("issued", [], 6)
    assert not lot.quarantined and st.incidents == {}
    assert len(st.duds_of(lot=lot.id)) == 1
    # The dud cannot be counted fired; the rest can, and the lot balances.
    err = refusal(w.take_back, "revolver", "alex", fired=6)
    assert err.code == "INVALID_INPUT" and "duds" in str(err)
    w.take_back("revolver", "alex", fired=5)
    lot = w.state().lots[w.lots["blanks45"]]
    assert (lot.fired, lot.returned, lot.in_weapons, lot.balanced) == (5, 1, 0, True)
    # The board names the dud.
    board = status(w.ctx)
    row = next(r for r in board["lots"] if r["id"] == w.lots["blanks45"])
    assert row["duds_today"] == 1
    r = verify_ledger(w.ctx)
    assert r.ok, [f.line() for f in r.failures]


def test_a_second_dud_from_the_same_lot_that_day_is_a_misfire(w: World) -> None:
    w.give("revolver", "alex", "hot", content="blank", n=6, lot="blanks45")
    dud(w, "revolver")
    ev = dud(w, "revolver", description="second click")
    assert [e.type for e in ev] == ["incident.opened", "weapon.frozen"]
    inc = ev[0].payload
    assert (inc["kind"], inc["rule"], inc["lots"]) == (
        "misfire", "INCIDENT_DISCHARGE", [w.lots["blanks45"]])
    assert "second dud from lot" in inc["description"]
    st = w.state()
    assert st.weapons[w.weapons["revolver"]].state == "frozen"
    assert st.lots[w.lots["blanks45"]].quarantined


@pytest.mark.parametrize(("weapon", "scene", "content", "lot", "why"), [
    ("revolver", "cold", "dummy", "dummies", "loaded with dummy rounds"),
    ("revolver", "cold", "empty", None, "holds no blanks"),
])
def test_a_failure_to_fire_with_dummies_or_empty_is_a_misfire(
        w: World, weapon: str, scene: str, content: str, lot: str | None, why: str) -> None:
    n = 2 if lot else 0
    w.give(weapon, "alex", scene, content=content, n=n, **({"lot": lot} if lot else {}))
    ev = dud(w, weapon)
    assert [e.type for e in ev][:2] == ["incident.opened", "weapon.frozen"]
    assert why in ev[0].payload["description"]
    assert w.state().weapons[w.weapons[weapon]].state == "frozen"


def test_a_failure_to_fire_outside_a_take_is_a_misfire(w: World) -> None:
    w.inspect("revolver", content="blank", n=2, lot="blanks45", scene="hot")
    ev = dud(w, "revolver")
    assert [e.type for e in ev] == ["incident.opened", "weapon.frozen"]
    assert "not out in a planned take" in ev[0].payload["description"]


def test_only_an_armorer_records_a_dud_and_the_refusal_is_recorded(w: World) -> None:
    w.give("revolver", "alex", "hot", content="blank", n=6, lot="blanks45")
    seq = w.seq()
    err = refusal(a.record_dud, w.ctx, weapon=w.weapons["revolver"],
                  armorer=w.people["ad"])
    assert err.code == "CUSTODY_ARMORER_ONLY"
    assert w.types_since(seq) == ["action.refused"]
    assert w.events_since(seq)[0].payload["action"] == "weapon.dud"
    assert w.state().duds == []


@pytest.fixture
def aw(store: Store, backend_settings: Settings, clock: Any) -> Iterator[Any]:
    from api_support import api_world
    with api_world(store, backend_settings, clock, production="duds-api") as aw:
        yield aw


def test_the_dud_route_records_a_dud_for_armorers_only(aw: Any) -> None:
    w = aw.world
    w.give("revolver", "alex", "hot", content="blank", n=6, lot="blanks45")
    wid = w.weapons["revolver"]
    r = aw.post("ad", f"/weapons/{wid}/dud", {"description": "click"})
    # The 1st AD may not: a rule, not a permission, so the attempt reaches the rule
    # engine and is recorded (docs/permissions.md, issue 19 part 1).
    assert r.status_code == 409 and r.json()["code"] == "CUSTODY_ARMORER_ONLY", r.text
    r = aw.post("armorer", f"/weapons/{wid}/dud", {"description": "cylinder 2 clicked"})
    assert r.status_code == 200, r.text
    assert [e["type"] for e in r.json()["events"]] == ["weapon.dud_recorded"]
    board = aw.get("armorer", "/status").json()
    assert next(x for x in board["weapons"] if x["id"] == wid)["duds"] == 1
    assert next(x for x in board["lots"] if x["id"] == w.lots["blanks45"])["duds_today"] == 1
    r = aw.post("armorer", f"/weapons/{wid}/dud", {"description": "another click"})
    assert r.status_code == 200, r.text
    assert [e["type"] for e in r.json()["events"]] == ["incident.opened", "weapon.frozen"]
