"""Maintenance (issue 16 part 4) on SQLite and PostgreSQL, through the services
and the API: due queues on the board, the function check before issue, and
grounding signed with two PINs until a recorded repair."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_support import api_world
from helpers import refusal

from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services.verify import verify_ledger


@pytest.fixture
def aw(store: Store, backend_settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(store, backend_settings, clock, production="upkeep") as aw:
        yield aw


def test_cleaning_and_function_checks_over_the_api_move_the_board_queues(aw: Any) -> None:
    w = aw.world
    wid = w.weapons["revolver"]
    w.give("revolver", "alex", "hot", content="blank", n=6, lot="blanks45")
    w.take_back("revolver", "alex", fired=4)
    board = aw.get("armorer", "/status").json()
    assert [x["weapon"] for x in board["due"]["cleaning"]] == [wid]
    row = next(x for x in board["weapons"] if x["id"] == wid)
    assert row["fired_since_cleaning"] == 4 and row["function_check_due"] is None
    r = aw.post("ad", f"/weapons/{wid}/cleanings", {})  # a rule refusal, recorded
    assert r.status_code == 409 and r.json()["code"] == "CUSTODY_ARMORER_ONLY", r.text
    r = aw.post("armorer", f"/weapons/{wid}/cleanings", {"notes": "bore, cylinder, oiled"})
    assert r.status_code == 200, r.text
    board = aw.get("armorer", "/status").json()
    assert board["due"]["cleaning"] == []
    assert board["due"]["function_check"] == [
        {"weapon": wid, "serial": row["serial"], "because": "cleaned"}]
    r = aw.post("armorer", f"/weapons/{wid}/function-checks", {})
    assert r.status_code == 200, r.text
    assert [e["type"] for e in r.json()["events"]] == ["weapon.function_checked"]
    assert aw.get("armorer", "/status").json()["due"]["function_check"] == []
    rep = verify_ledger(w.ctx)
    assert rep.ok, [f.line() for f in rep.failures]


def test_grounding_over_the_api_takes_both_pins_and_holds_until_a_repair(aw: Any) -> None:
    w = aw.world
    wid = w.weapons["revolver"]
    body = {"reason": "Hammer slips off the sear at the function check",
            "armorer": w.people["armorer"], "armorer_pin": w.pins["armorer"],
            "supervisor": w.people["supervisor"], "supervisor_pin": "0000"}
    r = aw.post("ad", f"/weapons/{wid}/grounding", body)  # reaches the rules: the PINs
    assert r.status_code == 422 and r.json()["code"] == "PIN_INVALID", r.text
    r = aw.post("armorer", f"/weapons/{wid}/grounding", body)
    assert r.status_code == 422 and r.json()["code"] == "PIN_INVALID", r.text
    assert w.state().weapons[wid].state == "in_storage"
    r = aw.post("supervisor", f"/weapons/{wid}/grounding",
                {**body, "supervisor_pin": w.pins["supervisor"]})
    assert r.status_code == 200, r.text
    assert [e["type"] for e in r.json()["events"]] == ["weapon.grounded"]
    board = aw.get("armorer", "/status").json()
    assert [x["weapon"] for x in board["due"]["grounded"]] == [wid]
    assert next(x for x in board["weapons"] if x["id"] == wid)["state"] == "grounded"
    err = refusal(w.inspect, "revolver", scene="cold")
    assert err.code == "CUSTODY_WEAPON_GROUNDED"
    r = aw.post("armorer", f"/weapons/{wid}/repairs", {"repair": "Sear replaced, tested"})
    assert r.status_code == 200, r.text
    board = aw.get("armorer", "/status").json()
    assert board["due"]["grounded"] == []
    assert board["due"]["function_check"][0]["because"] == "repaired"
    a.function_check(w.ctx, weapon=wid, armorer=w.people["armorer"])
    w.give("revolver", "alex", "cold")
    assert w.state().weapons[wid].state == "issued"
    rep = verify_ledger(w.ctx)
    assert rep.ok, [f.line() for f in rep.failures]


def test_the_demo_shows_weapons_due_for_cleaning(tmp_path: Any) -> None:
    """The demo's shooting day fires blanks from the Glock and the M4: both come
    back due for cleaning (no event needed: the returns say so)."""
    from demo_db import demo_copy

    from coldcheck.demo import DEMO_PRODUCTION
    from coldcheck.services.context import context
    from coldcheck.services.queries import status

    s = demo_copy(tmp_path / "demo")
    store = Store(s.database_url)
    try:
        due = status(context(s, DEMO_PRODUCTION, store=store))["due"]
    finally:
        store.dispose()
    assert [(x["serial"], x["fired"]) for x in due["cleaning"]] == [
        ("GL17-BK-0932", 6), ("M4-BF-11873", 3)]
    assert due["function_check"] == [] and due["grounded"] == []
