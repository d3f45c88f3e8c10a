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
    record = page.get_by_role("button", name="Record the inspection")
    record.click()
    expect(missing).to_contain_text("chamber, barrel, magazine")
    page.get_by_label("○ Empty").check()
    expect(missing).to_contain_text("Not checked yet: barrel, magazine")
    page.get_by_label("Barrel checked clear").check()
    expect(missing).to_contain_text("Not checked yet: magazine")
    record.click()
    expect(page).to_have_url(re.compile(r".*/weapons/W2/inspect$"))
    assert len(events(web_server)) == before, "an incomplete checklist was sent"
    tab.shot("inspect-checklist-blocked")
    page.get_by_label("Magazine checked").check()
    expect(missing).to_contain_text("✔ Every position, the barrel and the magazine recorded")
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
