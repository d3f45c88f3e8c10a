"""Verification is honest (issue 15 part 2): on the tablet the armorer records
dummy rounds one at a time, one tap per round, each its own event with its own
time and number; a failed round quarantines the lot; a count typed instead says
on the page that it records the rounds at one time.

Screenshots: tests/e2e/screenshots/tally-*.png."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from test_web_inspection import ARMORER, armorer_tablet, events, services, state
from web_support import PHONE, Served


def _new_dummy_lot(served: Served, count: int = 6) -> str:
    with services(served) as ctx:
        from coldcheck.services import actions as a

        return str(a.receive_lot(ctx, armorer=ARMORER, kind="dummy", calibre=".45 Colt",
                                 supplier="Stembridge", supplier_lot="TALLY-1", count=count,
                                 storage="ST1")[0].payload["lot"])


def test_each_tap_records_one_round_with_its_own_time_and_number(
        new_tablet: Any, web_server: Served) -> None:
    lot = _new_dummy_lot(web_server)
    tab = armorer_tablet(new_tablet, PHONE)
    page = tab.page
    tab.open(f"lots/{lot}")
    tally = page.locator("#verify .tally")
    expect(tally).to_contain_text("0 verified good on hand · 6 still to check")
    page.get_by_label("How you check each round").select_option("weight")
    before = len(events(web_server))
    for n in (1, 2, 3):
        page.get_by_role("button", name=f"✔ Round {n} is good").click()
        page.wait_for_url(re.compile(rf".*/lots/{lot}\?method=weight&done="))
        expect(tally).to_contain_text(f"{n} verified good on hand · {6 - n} still to check")
        # the method stays chosen for the next round
        expect(page.get_by_label("How you check each round")).to_have_value("weight")
    tab.shot("tally-three-rounds")
    new = [e for e in events(web_server)[before:] if e.type == "ammo.round_verified"]
    assert [e.payload["round"] for e in new] == [1, 2, 3]
    assert {e.payload["method"] for e in new} == {"weight"}
    assert len({e.at for e in new}) == 3, "each round has its own time"
    assert all(e.actor == ARMORER for e in new)
    # A count instead says what it is, and records that many at one time.
    page.get_by_text("Record a count instead").click()
    expect(page.locator("#verify")).to_contain_text("at one time")
    page.get_by_label("Rounds verified good").fill("2")
    page.get_by_role("button", name="Record the count").click()
    page.wait_for_url(re.compile(rf".*/lots/{lot}\?done="))
    counted = [e for e in events(web_server)[before:] if e.type == "ammo.round_verified"][3:]
    assert [e.payload["round"] for e in counted] == [4, 5]
    assert len({e.at for e in counted}) == 1
    expect(tally).to_contain_text("5 verified good on hand · 1 still to check")


def test_a_failed_round_quarantines_the_lot_from_the_tally(
        new_tablet: Any, web_server: Served) -> None:
    lot = _new_dummy_lot(web_server, count=3)
    tab = armorer_tablet(new_tablet)
    page = tab.page
    tab.open(f"lots/{lot}")
    page.get_by_role("button", name="✔ Round 1 is good").click()
    page.wait_for_url(re.compile(rf".*/lots/{lot}\?method=shake&done="))
    page.get_by_text("This round FAILED").click()
    page.get_by_label("What you found").fill("Primer looks live; rattles wrong")
    page.get_by_role("button", name=f"Record the failed round: quarantine {lot}").click()
    page.wait_for_load_state()
    expect(page.locator(".banner.danger").first).to_contain_text("quarantined")
    tab.shot("tally-failed-round")
    expect(page.locator("#verify")).to_contain_text("Verification stops here")
    expect(page.get_by_role("button", name="✔ Round 3 is good")).to_have_count(0)
    assert state(web_server).lot(lot).quarantined
    types = [e.type for e in events(web_server)[-4:]]
    assert "ammo.verification_failed" in types and "incident.opened" in types


def test_a_live_round_found_in_a_box_is_refused_and_quarantines_the_box(
        new_tablet: Any, web_server: Served) -> None:
    lot = _new_dummy_lot(web_server)
    tab = armorer_tablet(new_tablet)
    page = tab.page
    tab.open("intake")
    form = page.locator("#lot-intake")
    form.get_by_label("LIVE rounds (refused and recorded)").check()
    form.get_by_label("Calibre").fill(".45 Colt")
    form.get_by_label("Supplier", exact=True).fill("unknown")
    form.get_by_label("Supplier lot number").fill("found among the dummies")
    form.get_by_label("Round count").fill("1")
    form.get_by_label("LIVE rounds only: found in a box already here?").select_option(lot)
    form.get_by_role("button", name="Record the lot").click()
    expect(page.locator(".problem")).to_contain_text("AMMO_LIVE_FORBIDDEN")
    tab.shot("intake-live-found-in-box")
    assert state(web_server).lot(lot).quarantined
    opened = [e for e in events(web_server) if e.type == "incident.opened"][-1]
    assert opened.payload["lots"] == [lot]
