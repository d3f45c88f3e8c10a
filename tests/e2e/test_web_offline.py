"""When the tablet loses the cart (issue 17 part 3): the page says so at once,
the board stays, marked stale with its time; a form sent while the cart cannot
be reached is kept and sent again with its idempotency key when the connection
is back, and the cart's answer is shown; nothing is decided on the tablet.

Screenshots: tests/e2e/screenshots/offline-*.png."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Route, expect
from test_web_inspection import armorer_tablet, events
from web_support import PHONE, Served


def _cleanings(served: Served, before: int) -> list[Any]:
    return [e for e in events(served)[before:] if e.type == "weapon.cleaned"]


def test_the_board_says_at_once_it_lost_the_cart_and_marks_itself_stale(
        new_tablet: Any, web_server: Served) -> None:
    tab = armorer_tablet(new_tablet, PHONE)
    page = tab.page
    tab.open("")
    expect(page.locator("#board")).to_be_visible()
    page.context.set_offline(True)
    banner = page.locator("#net-banner")
    expect(banner).to_contain_text("No connection to the cart since")
    expect(page.locator("#board")).to_have_class(re.compile(r"\bstale\b"))
    expect(page.locator("#live")).to_contain_text("Offline")
    expect(page.locator("[data-stale]")).to_contain_text("STALE: the board as of")
    tab.shot("offline-board-stale")
    page.context.set_offline(False)
    expect(banner).to_be_hidden(timeout=10000)
    expect(page.locator("[data-stale]")).to_have_count(0, timeout=10000)


def test_a_form_sent_offline_is_kept_and_sent_when_the_cart_is_back(
        new_tablet: Any, web_server: Served) -> None:
    tab = armorer_tablet(new_tablet)
    page = tab.page
    tab.open("weapons/W1")
    before = len(events(web_server))
    page.context.set_offline(True)
    expect(page.locator("#net-banner")).to_be_visible()
    page.get_by_label("Cleaning: what was done").fill("bore, cylinder, oiled")
    page.get_by_role("button", name="Record cleaning of W1").click()
    expect(page.locator("form.clean .pending")).to_contain_text("Not sent yet")
    expect(page.locator("#net-banner")).to_contain_text("1 action is waiting")
    # what was typed is still there, and the cart has recorded nothing
    expect(page.get_by_label("Cleaning: what was done")).to_have_value("bore, cylinder, oiled")
    tab.shot("offline-form-waiting")
    assert _cleanings(web_server, before) == []
    page.context.set_offline(False)
    page.wait_for_url(re.compile(r".*/weapons/W1\?done="), timeout=15000)
    expect(page.locator(".done")).to_contain_text("clean")
    done = _cleanings(web_server, before)
    assert len(done) == 1 and done[0].payload["notes"] == "bore, cylinder, oiled"


def test_an_answer_lost_on_the_way_back_is_recorded_once(
        new_tablet: Any, web_server: Served) -> None:
    """The cart recorded the cleaning but its answer never reached the tablet: the
    resend carries the same idempotency key, and the cart answers with what it
    recorded the first time instead of recording it twice."""
    tab = armorer_tablet(new_tablet)
    page = tab.page
    tab.open("weapons/W1")
    before = len(events(web_server))
    lost = {"n": 0}

    def drop_the_answer(route: Route) -> None:
        if lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # the cart gets it and records it ...
            route.abort("internetdisconnected")  # ... and the answer is lost
        else:
            route.continue_()

    page.route("**/weapons/W1/clean", drop_the_answer)
    page.get_by_label("Cleaning: what was done").fill("after take 4")
    page.get_by_role("button", name="Record cleaning of W1").click()
    expect(page.locator("form.clean .pending")).to_be_visible()
    assert len(_cleanings(web_server, before)) == 1  # recorded on the first send
    page.wait_for_url(re.compile(r".*/weapons/W1\?.*done="), timeout=15000)
    assert len(_cleanings(web_server, before)) == 1, "the resend recorded it again"
