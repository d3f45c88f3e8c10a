"""Screens that never mislead (issue 15 part 2), in a real browser: the show-clear
checklist will not go until every position, the barrel and the magazine are
checked, and an incomplete record forced past it is shown INCOMPLETE with nothing
to confirm or issue from; lot pickers offer only the weapon's calibre and the
kind the positions hold, and a forced other lot is refused; a new answer clears
the old "Recorded" banner and brings its problem into view; the return asks
what came back; the wrap count is blind and only for the lots touched today;
after wrap, the signed checkpoint, the day's report and "Back up now".

Setting up (a day, a scene, a loaded weapon) goes through the services on the
served database, as the CLI would: the served app reads what they append.
Screenshots: tests/e2e/screenshots/inspect-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from web_support import PHONE, PINS, PROD, Served, Tablet, page_errors

from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services.context import Context, context

CART = {"width": 1024, "height": 768}
ARMORER, AD, SUPERVISOR, ALEX, RITA = "P1", "P3", "P4", "P6", "P7"


@contextmanager
def services(served: Served) -> Iterator[Context]:
    """The services on the served database (as `coldcheck` on the same machine)."""
    store = Store(served.settings.database_url)
    try:
        yield context(served.settings, PROD, store=store)
    finally:
        store.dispose()


def events(served: Served) -> list[Any]:
    store = Store(served.settings.database_url)
    try:
        return list(store.events(PROD))
    finally:
        store.dispose()


def state(served: Served) -> Any:
    store = Store(served.settings.database_url)
    try:
        return store.state(PROD)
    finally:
        store.dispose()


def armorer_tablet(new_tablet: Any, viewport: dict[str, int] | None = None) -> Tablet:
    tab: Tablet = new_tablet(viewport or CART)
    tab.sign_in("sam")
    tab.register("Cart tablet")
    return tab


_keys = iter(range(10**6))


def force(tab: Tablet, path: str, fields: dict[str, str], *, htmx: bool = False) -> Any:
    """POST ``fields`` to ``path`` as this tablet's browser would, whatever its page
    offers (the session's cookies, its CSRF token, a fresh idempotency key)."""
    csrf = next(c["value"] for c in tab.page.context.cookies()
                if c["name"] == "coldcheck_csrf")
    headers = {"HX-Request": "true"} if htmx else {}
    return tab.page.request.post(tab.base + tab.url(path), headers=headers, form={
        "csrf_token": csrf, "idem": f"forced-{next(_keys)}-{id(tab)}", **fields})


def day_with_scene(served: Served, *, weapons: list[str], performers: list[str],
                   hot: bool = False) -> str:
    """Day D2 open, one scene planned for ``weapons`` and ``performers``, its safety
    meeting held; the scene's id."""
    with services(served) as ctx:
        a.open_day(ctx, date=None, actor=AD)
        sc = a.plan_scene(ctx, actor=AD, name="Sc. 40: alley" + (" (hot)" if hot else ""),
                          hot=hot, rehearsal=False, weapons=weapons, performers=performers,
                          min_distance_m=8 if hot else None,
                          overdue_minutes=45)[0].payload["scene"]
        a.hold_meeting(ctx, scenes=[sc], attendees=[AD, SUPERVISOR, *performers],
                       led_by=ARMORER)
    return str(sc)


def visible_lots(tab: Tablet) -> list[str]:
    """The lots the inspect form's picker offers now (not hidden, not disabled)."""
    return list(tab.page.evaluate("""() => Array.from(document.querySelectorAll(
        '#i-lot option')).filter(o => o.value && !o.hidden && !o.disabled)
        .map(o => o.value)"""))


# ---- the checklist ------------------------------------------------------------------
def test_the_inspect_form_is_not_sent_until_every_position_barrel_and_magazine_is_checked(
        new_tablet: Any, web_server: Served) -> None:
    tab = armorer_tablet(new_tablet)
    page = tab.page
    before = len(events(web_server))
    tab.open("weapons/W2/inspect")  # the Glock: a chamber and a magazine
    missing = page.locator("[data-missing]")
    expect(missing).to_contain_text("Not checked yet: chamber, barrel, magazine")
    result = page.locator("[data-result]")
    record = page.get_by_role("button", name="Record the inspection")
    record.click()
    expect(missing).to_contain_text("chamber, barrel, magazine")
    page.get_by_label("○ Empty").check()
    expect(missing).to_contain_text("Not checked yet: barrel, magazine")
    page.get_by_label("Barrel checked clear").check()
    expect(missing).to_contain_text("Not checked yet: magazine")
    expect(result).to_contain_text("so far empty")  # not "cold" while anything is unchecked
    expect(result).not_to_contain_text("(cold)")
    record.click()
    expect(page).to_have_url(re.compile(r".*/weapons/W2/inspect$"))
    assert len(events(web_server)) == before, "an incomplete checklist was sent"
    tab.shot("inspect-checklist-blocked")
    page.get_by_label("Magazine checked").check()
    expect(missing).to_contain_text("✔ Every position, the barrel and the magazine recorded")
    expect(result).to_have_text("empty (cold)")
    record.click()
    page.wait_for_url(re.compile(r".*/inspections/IN\d+\?done="))
    expect(page.locator("h1")).not_to_contain_text("INCOMPLETE")
    inspected = [e for e in events(web_server)[before:] if e.type == "weapon.inspected"]
    assert len(inspected) == 1 and inspected[0].payload["missing"] == []
    assert not page_errors(tab), tab.errors


@pytest.mark.parametrize("viewport", [CART, PHONE], ids=["cart", "phone"])
def test_an_incomplete_record_forced_past_the_form_is_incomplete_and_offers_nothing(
        new_tablet: Any, web_server: Served, viewport: dict[str, int]) -> None:
    scene = day_with_scene(web_server, weapons=["W1"], performers=[ALEX])
    tab = armorer_tablet(new_tablet, viewport)
    page = tab.page
    # Five of the revolver's six chambers, no barrel: the browser would not send it.
    fields = {f"pos{i}": "empty" for i in range(5)}
    answer = force(tab, "weapons/W1/inspect", {**fields, "scene": scene})
    assert answer.ok, answer.text()
    inspected = events(web_server)[-1]
    assert inspected.type == "weapon.inspected"
    assert len(inspected.payload["missing"]) == 2 and \
        inspected.payload["missing"][-1] == "barrel", inspected.payload
    insp = inspected.payload["inspection"]

    tab.open(f"inspections/{insp}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("INCOMPLETE")
    expect(page.locator(".label-incomplete").first).to_be_visible()
    expect(page.get_by_role("alert").first).to_contain_text("CUSTODY_INSPECTION_INCOMPLETE")
    expect(page.locator("input[type=password]")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Confirm|Issue"))).to_have_count(0)
    again = page.get_by_role("link", name="Inspect again")
    expect(again).to_be_visible()
    shot = "inspect-incomplete-" + ("cart" if viewport == CART else "phone")
    tab.shot(shot)
    assert not tab.axe(), tab.axe()

    # The weapon's own page says so too, and offers no "Witnesses and issue".
    tab.open("weapons/W1")
    expect(page.locator("#next-step")).to_contain_text("INCOMPLETE")
    expect(page.get_by_role("link", name="Witnesses and issue")).to_have_count(0)
    expect(page.locator("#next-step").get_by_role("link", name="Inspect again")).to_be_visible()

    # Forced witness and issue: refused, recorded, and the answer (the whole page
    # or htmx's part of it) still offers no PIN form and no Issue button.
    for slot, block_id in (("performer", "witness-performer"), ("ad", "witness-ad")):
        who = ALEX if slot == "performer" else AD
        pin = PINS["alex"] if slot == "performer" else PINS["dana"]
        for htmx in (False, True):
            n = len(events(web_server))
            answer = force(tab, f"inspections/{insp}/witness",
                           {"slot": slot, "witness": who, "pin": pin}, htmx=htmx)
            assert answer.status == 409, (answer.status, answer.text())
            html = answer.text()
            assert "CUSTODY_INSPECTION_INCOMPLETE" in html
            assert 'type="password"' not in html and "Confirm: I saw" not in html
            assert "Inspect again" in html
            if htmx:
                assert f'id="{block_id}"' in html and "<html" not in html
            new = [e.type for e in events(web_server)[n:]]
            assert "inspection.witnessed" not in new and "action.refused" in new, new
    for htmx in (False, True):
        n = len(events(web_server))
        answer = force(tab, "weapons/W1/issue", {"inspection": insp, "performer": ALEX,
                                                 "scene": scene}, htmx=htmx)
        assert answer.status == 409, (answer.status, answer.text())
        html = answer.text()
        assert "CUSTODY_INSPECTION_INCOMPLETE" in html and "Inspect again" in html
        assert 'name="performer"' not in html and 'type="password"' not in html
        assert "weapon.issued" not in [e.type for e in events(web_server)[n:]]
    assert state(web_server).weapons["W1"].state == "inspected"

    # Inspect again: the full checklist, and the new record can be witnessed.
    tab.open(f"inspections/{insp}")
    page.get_by_role("link", name="Inspect again").click()
    page.get_by_role("button", name="All empty").click()
    page.get_by_label("Barrel checked clear").check()
    page.get_by_role("button", name="Record the inspection").click()
    page.wait_for_url(re.compile(r".*/inspections/IN\d+\?done="))
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("INCOMPLETE")
    expect(page.locator("#witness-performer input[type=password]")).to_have_count(1)
    assert not page_errors(tab), tab.errors


# ---- lot pickers ----------------------------------------------------------------------
def test_the_lot_picker_offers_only_the_weapons_calibre_and_the_kind_loaded(
        new_tablet: Any, web_server: Served) -> None:
    scene = day_with_scene(web_server, weapons=["W1"], performers=[ALEX], hot=True)
    with services(web_server) as ctx:  # a .45 Colt blank lot and a 9mm dummy lot beside
        colt_blanks = a.receive_lot(ctx, armorer=ARMORER, kind="blank", load="full",
                                    calibre=".45 Colt", supplier="Blank Supply Co.",
                                    supplier_lot="B45-FULL-1", count=24,
                                    storage="ST1")[0].payload["lot"]
        nine_dummies = a.receive_lot(ctx, armorer=ARMORER, kind="dummy", calibre="9mm PAK",
                                     supplier="Stembridge Gun Rentals",
                                     supplier_lot="DUM-9-1", count=20,
                                     storage="ST1")[0].payload["lot"]
        a.verify_rounds(ctx, lot=nine_dummies, count=20, method="shake", armorer=ARMORER)
    lots = state(web_server).lots
    colt = sorted(lt.id for lt in lots.values()
                  if lt.calibre == ".45 Colt" and lt.kind in ("dummy", "blank"))
    assert colt == sorted(["L1", colt_blanks]), colt
    tab = armorer_tablet(new_tablet)
    page = tab.page
    tab.open("weapons/W1/inspect")
    offered = tab.page.evaluate(
        "() => Array.from(document.querySelectorAll('#i-lot option')).map(o => o.value)")
    assert sorted(v for v in offered if v) == colt, offered  # never L2-L4 or the 9mm dummies
    page.get_by_role("button", name="All dummy").click()
    assert visible_lots(tab) == ["L1"]
    page.get_by_label("Rounds come from lot").select_option("L1")
    page.get_by_role("button", name="All blank").click()
    assert visible_lots(tab) == [colt_blanks]
    expect(page.get_by_label("Rounds come from lot")).to_have_value("")  # the dummy lot went
    expect(page.locator("[data-result]")).to_contain_text("HOT")
    tab.shot("inspect-lot-picker-blanks")

    # A forced lot the picker would not offer: refused, and nothing is loaded.
    all_blank = {f"pos{i}": "blank" for i in range(6)}
    all_dummy = {f"pos{i}": "dummy" for i in range(6)}
    cases = [
        ("a dummy lot for blank positions", {**all_blank, "lot": "L1"}, "LOT_NOT_USABLE"),
        ("a blank lot for dummy positions", {**all_dummy, "lot": colt_blanks},
         "LOT_NOT_USABLE"),
        ("9mm blanks in a .45 revolver", {**all_blank, "lot": "L2"}, "AMMO_CALIBRE_MISMATCH"),
        ("9mm dummies in a .45 revolver", {**all_dummy, "lot": nine_dummies},
         "AMMO_CALIBRE_MISMATCH"),
    ]
    for what, fields, code in cases:
        n = len(events(web_server))
        answer = force(tab, "weapons/W1/inspect",
                       {**fields, "barrel_clear": "1", "scene": scene})
        assert answer.status in (409, 422), (what, answer.status)
        assert code in answer.text(), (what, code, answer.text()[:2000])
        new = events(web_server)[n:]
        assert "weapon.inspected" not in [e.type for e in new], what
        w1 = state(web_server).weapons["W1"]
        assert w1.state == "in_storage" and not w1.load_count, (what, w1.load)
    assert not page_errors(tab), tab.errors


# ---- answers: the old banner goes, the problem comes into view ---------------------
def test_a_new_problem_clears_the_old_recorded_banner_and_is_focused_a_pin_problem_first(
        new_tablet: Any, web_server: Served) -> None:
    day_with_scene(web_server, weapons=["W1"], performers=[ALEX])
    tab = armorer_tablet(new_tablet, PHONE)  # a small screen: the boxes are far apart
    page = tab.page
    tab.open("weapons/W1/inspect")
    page.get_by_role("button", name="All empty").click()
    page.get_by_label("Barrel checked clear").check()
    page.get_by_role("button", name="Record the inspection").click()
    page.wait_for_url(re.compile(r".*/inspections/IN\d+\?done="))
    done = page.locator(".done")
    expect(done).to_contain_text("Recorded")
    # Another tablet inspects W1 again: this record is no longer the current one.
    with services(web_server) as ctx:
        a.inspect_weapon(ctx, weapon="W1", armorer=ARMORER,
                         positions=[{"position": p, "content": "empty"}
                                    for p in state(web_server).weapons["W1"].positions()],
                         barrel_clear=True, magazine_checked=False)
    perf = page.locator("#witness-performer")
    perf.get_by_label("Performer's PIN").fill(PINS["alex"])
    perf.get_by_role("button", name="Confirm: I saw every position").click()
    first = page.locator("#witness-performer .problem")
    expect(first).to_contain_text("CUSTODY_INSPECTION_REQUIRED")
    expect(done).to_have_count(0)  # "Recorded" spoke of the inspection, not of this
    expect(first).to_be_focused()
    expect(first).to_be_in_viewport()
    # A wrong PIN next: its box is focused and scrolled to, though the first one is
    # still on the page above it.
    ad = page.locator("#witness-ad")
    ad.get_by_label("1st AD or safety supervisor").select_option(AD)
    ad.get_by_label("Their PIN").fill("0000")
    page.evaluate("window.scrollTo(0, 0)")
    ad.get_by_role("button", name="Confirm: I saw every position").click()
    pin = page.locator("#witness-ad .problem")
    expect(pin).to_contain_text("PIN_INVALID")
    expect(page.locator(".problem")).to_have_count(2)
    expect(pin).to_be_focused()
    expect(pin).to_be_in_viewport()
    tab.shot("inspect-pin-problem-focused")
    assert not page_errors(tab), tab.errors


# ---- return, wrap, after wrap --------------------------------------------------------
def issued_glock(served: Served) -> str:
    """W2 out with Rita: one blank in the chamber, five in the magazine (L2)."""
    scene = day_with_scene(served, weapons=["W2"], performers=[RITA], hot=True)
    with services(served) as ctx:
        ins = a.inspect_weapon(ctx, weapon="W2", armorer=ARMORER,
                               positions=[{"position": "chamber", "content": "blank"}],
                               barrel_clear=True, magazine_checked=True, lot="L2",
                               magazine_rounds=5, scene=scene)[0].payload["inspection"]
        a.witness_inspection(ctx, inspection=ins, witness=RITA, pin=PINS["rita"])
        a.witness_inspection(ctx, inspection=ins, witness=SUPERVISOR, pin=PINS["lee"])
        a.issue_weapon(ctx, weapon="W2", armorer=ARMORER, performer=RITA, scene=scene)
    return scene


def test_the_return_asks_what_came_back_and_the_wrap_count_is_blind_then_back_up(
        new_tablet: Any, web_server: Served) -> None:
    issued_glock(web_server)
    on_hand_before = state(web_server).lots["L2"].on_hand
    tab = armorer_tablet(new_tablet)
    page = tab.page
    tab.open("weapons/W2")
    form = page.locator("form[data-return]")
    expect(form).to_contain_text("It went out with")
    total = page.locator("[data-return-sum]")
    expect(total).to_contain_text("6 went out: enter what came back")
    form.get_by_label("Rounds back").fill("2")
    form.get_by_label("Blanks fired").fill("3")
    form.get_by_label("Rounds lost").fill("0")
    expect(total).to_contain_text("✖ 2 back + 3 fired + 0 lost = 5 of the 6 that went out")
    n = len(events(web_server))
    form.get_by_role("button", name="Record the return of W2").click()
    expect(page).to_have_url(re.compile(r".*/weapons/W2$"))
    assert len(events(web_server)) == n, "a return that does not add up was sent"
    # Forced past the page: the server counts again, and records nothing.
    answer = force(tab, "weapons/W2/return", {"performer": RITA, "back": "2", "fired": "3",
                                              "lost": "0",
                                              "seen": form.locator("[name=seen]")
                                              .get_attribute("value") or ""})
    assert answer.status == 422 and "Count again" in answer.text(), answer.status
    assert len(events(web_server)) == n
    form.get_by_label("Rounds lost").fill("1")
    expect(total).to_contain_text("✔ 2 back + 3 fired + 1 lost = 6 of the 6 that went out")
    tab.shot("inspect-return-counts")
    form.get_by_role("button", name="Record the return of W2").click()
    page.wait_for_url(re.compile(r".*/weapons/W2\?done="))
    returned = next(e for e in events(web_server)[n:] if e.type == "weapon.returned")
    assert (returned.payload["fired"], returned.payload["lost"],
            returned.payload["returned"]) == (3, 1, 2), returned.payload
    assert state(web_server).lots["L2"].on_hand == on_hand_before + 2
    page.get_by_label("Lock it in").select_option(label="Weapons safe A")
    page.get_by_role("button", name="Store W2").click()
    expect(page.locator(".done")).to_contain_text("locked W2 in ST1")

    # Wrap: only the lot touched today is asked for, and its record comes after.
    st = state(web_server)
    tab.open("wrap")
    counts = page.locator("input.count-input")
    expect(counts).to_have_count(1)
    expect(page.get_by_label("Count of lot L2")).to_be_visible()
    expect(page.locator("#count-help")).to_contain_text(
        f"{len(st.lots) - 1} other lots not opened today are not recounted")
    row = page.locator("tr", has=page.get_by_label("Count of lot L2"))
    record = row.locator("[data-record]")
    on_hand = st.lots["L2"].on_hand
    expect(record).to_have_text("after your count")
    expect(row.locator("[data-balance]")).to_have_text("—")
    assert str(on_hand) not in (row.inner_text().replace("L2", "")), row.inner_text()
    tab.shot("inspect-wrap-blind")
    page.set_viewport_size(PHONE)
    tab.shot("inspect-wrap-blind-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], \
        "the wrap count scrolls sideways on a phone"
    page.set_viewport_size(CART)
    page.get_by_label("Count of lot L2").fill(str(on_hand - 1))
    expect(record).to_have_text(str(on_hand))
    expect(row.locator("[data-balance]")).to_contain_text("counted 1 fewer than the record")
    page.get_by_label("Count of lot L2").fill(str(on_hand))
    expect(row.locator("[data-balance]")).to_contain_text("matches")
    page.get_by_label("Every weapon is locked away").check()
    page.get_by_role("button", name="Wrap day D2").click()
    page.wait_for_url(re.compile(r".*/wrap\?done="))
    expect(page.locator(".done")).to_contain_text("Day D2 wrapped")
    wrapped = next(e for e in events(web_server) if e.type == "day.wrapped"
                   and e.payload["day"] == "D2")
    assert wrapped.payload["lots"], wrapped.payload

    # After wrap: the signed checkpoint, the day's report, and "Back up now".
    expect(page.get_by_role("status").filter(has_text="is wrapped")).to_be_visible()
    expect(page.get_by_label("The signed checkpoint")).to_be_visible()
    checkpoint = page.get_by_label("The signed checkpoint").inner_text()
    assert checkpoint.strip(), "an empty checkpoint"
    report = page.get_by_role("link", name=re.compile("The day's report"))
    date = st.days["D2"].date
    expect(report).to_have_attribute("href", re.compile(rf"/reports/daily/{date}\.pdf$"))
    tab.shot("inspect-wrapped")
    folder = Path(web_server.settings.database_url).parent
    assert not list(folder.glob("*.backups/*.db"))
    page.get_by_role("button", name="Back up now").click()
    ok = page.locator("#backup [role=status]")
    expect(ok).to_contain_text("Backed up and verified")
    expect(ok).to_be_focused()
    backups = list(folder.glob("*.backups/*.db"))
    assert len(backups) == 1 and backups[0].name in ok.inner_text(), (backups, ok.inner_text())
    tab.shot("inspect-backed-up")
    page.set_viewport_size(PHONE)
    tab.shot("inspect-backed-up-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], \
        "the wrapped page scrolls sideways on a phone"
    assert not page_errors(tab), tab.errors

    # The 1st AD sees the wrapped day and its checkpoint, not the backup.
    other: Tablet = new_tablet(PHONE)
    other.sign_in("dana")
    other.open("wrap")
    expect(other.page.get_by_label("The signed checkpoint")).to_be_visible()
    expect(other.page.get_by_role("button", name="Back up now")).to_have_count(0)
