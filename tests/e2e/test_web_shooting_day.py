"""A whole shooting day through the tablet, in a real browser: sign in, intake,
dummy verification, inspection, witnesses with their PINs, issue, return,
storage and wrap; every refusal of the *Rust* failure chain is shown with its
rule code; and a second tablet's board follows along live, without reloading."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from web_support import LANDSCAPE, PINS, TABLET, Tablet, page_errors

LIVE_WAIT = 8_000  # ms the second tablet's board may take to show a change


def problem(tab: Tablet, code: str) -> Any:
    """The problem box naming ``code``, once it is on screen."""
    box = tab.page.locator(".problem", has_text=code)
    expect(box).to_be_visible()
    return box


def recorded(tab: Tablet, text: str) -> None:
    expect(tab.page.locator(".done")).to_contain_text(text)


def open_day_and_plan(tab: Tablet) -> None:
    tab.sign_in("sam")
    tab.register()
    tab.sign_out()
    tab.sign_in("dana")
    tab.open("day")
    tab.page.get_by_role("button", name="Open the shooting day").click()
    recorded(tab, "Shooting day D2 opened")
    plan = tab.page.locator("#plan-scene")
    plan.get_by_label("Scene", exact=True).fill("Sc. 30: saloon close-up")
    plan.get_by_label("W1 · Colt Single Action Army (blank-adapted) (Firearm)").check()
    plan.get_by_label("Alex Stone").check()
    plan.get_by_label("Weapons come back within (minutes)").fill("20")
    plan.get_by_role("button", name="Plan the scene").click()
    recorded(tab, "Scene SC4 planned: Sc. 30: saloon close-up (cold)")


def test_a_whole_shooting_day_runs_through_the_tablet_and_a_second_board_follows_live(
        new_tablet: Any) -> None:
    tab = new_tablet(TABLET)
    open_day_and_plan(tab)

    # The safety supervisor's tablet watches the board.
    watcher = new_tablet(LANDSCAPE)
    watcher.sign_in("lee")
    watcher.open("")
    expect(watcher.page.locator("#live")).to_contain_text("Live", timeout=LIVE_WAIT)
    watcher.page.evaluate("window.__notReloaded = true")
    w1 = watcher.page.locator("#board-W1")
    expect(w1).to_contain_text("In storage")

    # The 1st AD cannot hand the revolver to the performer (the Rust handoff).
    tab.open("weapons/W1")
    tab.page.get_by_text("Hand W1 to someone else").click()
    tab.page.locator("#handoff-to").select_option("P6")
    tab.page.get_by_role("button", name="Hand over as Dana Whitfield").click()
    problem(tab, "CUSTODY_DIRECT_HANDOFF")
    expect(tab.page.locator("#handoff .next")).to_contain_text("Give the weapon back")
    tab.shot("tablet-refusal-handoff")
    tab.sign_out()

    tab.sign_in("sam")
    # Safety meeting for the scene, attended by the performer and the 1st AD.
    tab.open("day")
    meeting = tab.page.locator("#meeting")
    meeting.get_by_label("SC4 · Sc. 30: saloon close-up").check()
    meeting.get_by_label("Alex Stone").check()
    meeting.get_by_label("Dana Whitfield").check()
    meeting.get_by_role("button", name="Record the safety meeting").click()
    recorded(tab, "Safety meeting M2 led by Sam Reyes")

    # Live rounds at intake: refused, full screen, with the incident it opened.
    tab.open("intake")
    lot = tab.page.locator("#lot-intake")
    lot.get_by_label("LIVE rounds (refused and recorded)").check()
    lot.get_by_label("Calibre").fill(".45 Colt")
    lot.get_by_label("Supplier", exact=True).fill("unknown (box marked dummies)")
    lot.get_by_label("Supplier lot number").fill("none")
    lot.get_by_label("Round count").fill("6")
    lot.get_by_role("button", name="Record the lot").click()
    full = tab.page.locator(".problem.fullscreen")
    expect(full).to_be_visible()
    expect(full).to_contain_text("REFUSED · AMMO_LIVE_FORBIDDEN")
    expect(full).to_contain_text("Remove the live rounds from the property")
    box = full.bounding_box()
    assert box is not None and box["width"] >= TABLET["width"] - 1 and \
        box["height"] >= TABLET["height"] - 1, f"not full screen: {box}"
    tab.page.screenshot(path=str(tab.shot("tablet-refusal-live-ammunition")))  # the viewport
    assert not tab.axe(), tab.axe()
    full.get_by_role("link", name=re.compile(r"INC\d+ · open the incident")).click()
    expect(tab.page.locator("h1")).to_contain_text("Live ammunition found")
    tab.page.go_back()

    # The dummies: intake, then verify fewer than will be loaded.
    tab.open("intake")
    lot = tab.page.locator("#lot-intake")
    lot.get_by_label("Dummy rounds").check()
    lot.get_by_label("Calibre").fill(".45 Colt")
    lot.get_by_label("Supplier", exact=True).fill("Stembridge Gun Rentals")
    lot.get_by_label("Supplier lot number").fill("DUM-45-30")
    lot.get_by_label("Round count").fill("12")
    lot.get_by_role("button", name="Record the lot").click()
    recorded(tab, "received: 12 dummy .45 Colt")
    lot_id = tab.page.url.rsplit("/", 1)[1].split("?")[0]
    tab.page.get_by_text("Record a count instead").click()
    tab.page.get_by_label("Rounds verified good").fill("3")
    tab.page.get_by_role("button", name="Record the count").click()
    recorded(tab, f"verified round 3 of {lot_id}")

    # Loading six unverified dummies is refused (the Rust dummies).
    def inspect_all_dummy() -> None:
        tab.open("weapons/W1/inspect")
        tab.page.get_by_role("button", name="All dummy").click()
        tab.page.get_by_label("Barrel checked clear").check()
        tab.page.get_by_label("Rounds come from lot").select_option(lot_id)
        expect(tab.page.locator("[data-result]")).to_contain_text(f"6 dummy rounds from {lot_id}")
        tab.page.get_by_role("button", name="Record the inspection").click()

    inspect_all_dummy()
    problem(tab, "AMMO_DUMMY_UNVERIFIED")
    tab.shot("tablet-refusal-unverified-dummies")
    tab.open(f"lots/{lot_id}")
    tab.page.get_by_text("Record a count instead").click()
    tab.page.get_by_label("Rounds verified good").fill("3")
    tab.page.get_by_role("button", name="Record the count").click()
    recorded(tab, f"verified round 6 of {lot_id}")
    inspect_all_dummy()
    tab.page.wait_for_url(re.compile(r".*/inspections/IN\d+"))
    recorded(tab, "every position, barrel and magazine checked")
    expect(w1).to_contain_text("Inspected", timeout=LIVE_WAIT)

    # Issuing before the witnesses confirm is refused.
    tab.page.get_by_role("button", name="Issue W1 to the performer").click()
    problem(tab, "CUSTODY_WITNESS_REQUIRED")
    tab.shot("tablet-refusal-no-witnesses")

    # Witnesses on the same tablet, each with their own PIN; a wrong PIN is refused.
    perf = tab.page.locator("#witness-performer")
    expect(perf.get_by_label("Performer", exact=True)).to_have_value("P6")
    perf.get_by_label("Performer's PIN").fill(PINS["alex"])
    perf.get_by_role("button", name="Confirm: I saw every position").click()
    expect(tab.page.locator("#witness-performer")).to_contain_text("Confirmed by Alex Stone")
    ad = tab.page.locator("#witness-ad")
    ad.get_by_label("1st AD or safety supervisor").select_option("P3")
    ad.get_by_label("Their PIN").fill("0000")
    ad.get_by_role("button", name="Confirm: I saw every position").click()
    problem(tab, "PIN_INVALID")
    ad = tab.page.locator("#witness-ad")
    expect(ad.get_by_label("1st AD or safety supervisor")).to_have_value("P3")
    ad.get_by_label("Their PIN").fill(PINS["dana"])
    ad.get_by_role("button", name="Confirm: I saw every position").click()
    expect(tab.page.locator("#witness-ad")).to_contain_text("Confirmed by Dana Whitfield")
    tab.shot("tablet-witnessed")
    assert not tab.axe(), tab.axe()

    tab.page.get_by_role("button", name="Issue W1 to the performer").click()
    tab.page.wait_for_url(re.compile(r".*/weapons/W1\?done="))
    recorded(tab, "handed W1 to Alex Stone (P6) for SC4")
    expect(w1).to_contain_text("Issued", timeout=LIVE_WAIT)
    expect(w1).to_contain_text("with Alex Stone")
    expect(w1).to_contain_text("6 dummies from")
    watcher.shot("landscape-board-live-issued")

    # Back to the armorer, then into the safe: what came back is asked, not assumed.
    tab.page.get_by_label("Rounds back").fill("6")
    tab.page.get_by_label("Rounds lost").fill("0")
    expect(tab.page.locator("[data-return-sum]")).to_contain_text("6 back + 0 fired + 0 lost")
    tab.shot("tablet-return-counts")
    tab.page.get_by_role("button", name="Record the return of W1").click()
    recorded(tab, "Alex Stone (P6) returned W1 to Sam Reyes (P1)")
    expect(w1).to_contain_text("Returned", timeout=LIVE_WAIT)
    tab.page.get_by_label("Lock it in").select_option(label="Weapons safe A")
    tab.page.get_by_role("button", name="Store W1").click()
    recorded(tab, "locked W1 in ST1")
    expect(w1).to_contain_text("In storage", timeout=LIVE_WAIT)
    assert watcher.page.evaluate("window.__notReloaded === true"), "the board reloaded"

    # Wrap: a wrong count is refused and shows exactly what does not balance.
    tab.open("wrap")
    inputs = tab.page.locator("input.count-input")
    for i in range(inputs.count()):
        inputs.nth(i).fill(inputs.nth(i).get_attribute("data-expected") or "")
    tab.page.get_by_label(f"Count of lot {lot_id}").fill("11")
    expect(tab.page.locator("tr.unbalanced")).to_contain_text("counted 1 fewer than the record")
    tab.page.get_by_label("Every weapon is locked away").check()
    tab.page.get_by_role("button", name="Wrap day D2").click()
    box = problem(tab, "WRAP_RECONCILE")
    expect(box).to_contain_text(f"lot {lot_id}: counted 11, the record says 12 on hand")
    expect(tab.page.locator("tr.unbalanced")).to_contain_text(lot_id)
    tab.shot("tablet-refusal-wrap")
    assert not tab.axe(), tab.axe()
    tab.page.get_by_label(f"Count of lot {lot_id}").fill("12")
    tab.page.get_by_label("Every weapon is locked away").check()
    tab.page.get_by_role("button", name="Wrap day D2").click()
    recorded(tab, "Day D2 wrapped")
    tab.shot("tablet-wrapped")
    assert not page_errors(tab), page_errors(tab)
    assert not page_errors(watcher), page_errors(watcher)


def test_a_misfire_freezes_the_weapon_and_the_incident_shows_its_full_timeline(
        new_tablet: Any) -> None:
    tab = new_tablet(TABLET)
    tab.sign_in("sam")
    tab.register()
    # The big button on every page.
    tab.open("armory")
    tab.page.get_by_role("link", name="⚠ Report discharge / misfire").click()
    tab.page.get_by_label("Misfire").check()
    tab.page.get_by_label("W2 · Glock 17 blank-firing").check()
    tab.page.get_by_label("What happened, where, who was there").fill(
        "Pistol clicked on take 3 without firing; muzzle kept down")
    tab.page.get_by_role("button", name="Record and freeze").click()
    tab.page.wait_for_url(re.compile(r".*/incidents/INC\d+\?done="))
    expect(tab.page.locator("h1")).to_contain_text("Misfire")  # in words, the id beside
    expect(tab.page.locator("body")).to_contain_text("Full timeline of the Glock 17 blank-firing")
    expect(tab.page.locator("body")).to_contain_text("W2 FROZEN by")
    expect(tab.page.locator("body")).to_contain_text("Sam Reyes (P1) inspected W2")
    tab.shot("tablet-incident-misfire")
    # A frozen weapon offers no inspection, no issue and no hand-over.
    tab.open("weapons/W2/inspect")
    expect(tab.page.locator("#inspect")).to_contain_text("FROZEN")
    expect(tab.page.get_by_role("button", name="Record the inspection")).to_have_count(0)
    tab.open("weapons/W2")
    expect(tab.page.get_by_text("Hand W2 to someone else")).to_have_count(0)
    expect(tab.page.get_by_role("link", name="Inspect W2")).to_have_count(0)
    tab.shot("tablet-frozen-offers-nothing")
    assert not page_errors(tab), page_errors(tab)
