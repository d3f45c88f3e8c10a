"""A day on set with one shared cart tablet (issue 15, part 1): the armorer is
signed in on the registered tablet (1024×768); the 1st AD opens the day and the
safety supervisor acknowledges a complaint on it by badge + PIN, without anyone
signing out. The taps each takes are counted, before (sign out, sign in as
yourself, act, sign out, the armorer signs in again) and after, in the same run.
Screenshots: tests/e2e/screenshots/set-floor-*.png."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import expect
from web_support import PASSWORD, PINS, PROD, Served, Tablet, page_errors

from coldcheck.persistence.store import Store

CART = {"width": 1024, "height": 768}


@dataclass
class Taps:
    """Counts the taps a person makes: a click, choosing in a list, focusing a
    field to type (the typing itself is not a tap)."""

    page: Any
    n: int = 0

    def click(self, loc: Any) -> None:
        self.n += 1
        loc.click()

    def type(self, loc: Any, value: str) -> None:
        self.n += 1
        loc.click()
        loc.fill(value)

    def choose(self, loc: Any, value: str) -> None:
        self.n += 2  # open the list, pick
        loc.select_option(value)


def last_event(served: Served) -> Any:
    store = Store(served.settings.database_url)
    try:
        return store.events(PROD)[-1]
    finally:
        store.dispose()


def sign_in_taps(t: Taps, username: str) -> None:
    p = t.page
    t.type(p.get_by_label("Username"), username)
    t.type(p.get_by_label("Password"), PASSWORD)
    t.click(p.get_by_role("button", name="Sign in"))
    p.wait_for_url(re.compile(r".*/productions$"))
    t.click(p.get_by_role("link", name=re.compile("Dusty|Demo|demo", re.I)).first)


def test_the_first_ad_and_the_supervisor_act_on_the_armorers_cart_tablet(
        new_tablet: Any, web_server: Served) -> None:
    tab: Tablet = new_tablet(CART)
    tab.sign_in("sam")
    tab.register("Cart tablet")
    page = tab.page
    tab.open("")
    people = {"sam": "Sam Reyes", "dana": "Dana Whitfield", "lee": "Lee Okafor"}

    # ---- after: the 1st AD opens the day on Sam's session ------------------------
    t = Taps(page)
    t.click(page.get_by_role("navigation", name="Sections").get_by_role("link", name="Day"))
    form = page.locator("#open-day form")
    expect(form.get_by_label("Badge")).to_have_value(
        re.compile(r"P\d+"))  # the one 1st AD is chosen already; a badge scan changes it
    tab.shot("set-floor-1-open-day-form")
    t.type(form.get_by_label("PIN"), PINS["dana"])
    t.click(form.get_by_role("button", name="Open the shooting day"))
    expect(page.get_by_role("status").filter(has_text="Recorded")).to_be_visible()
    tab.shot("set-floor-2-day-opened")
    ad_after = t.n
    e = last_event(web_server)
    assert e.type == "day.opened"
    dana = e.actor
    assert re.fullmatch(r"device:dev-[0-9a-f]+;session:P\d+", e.device), e.device
    assert page.locator(".whoami").inner_text().startswith(people["sam"])  # still Sam's

    # A complaint waiting for the supervisor (filed by Sam on the same tablet).
    tab.open("complaints")
    page.get_by_label("What is unsafe").fill("Smoke drifts into video village")
    page.get_by_role("button", name=re.compile("File the complaint")).click()
    expect(page.get_by_role("status").filter(has_text="Recorded")).to_be_visible()
    waiting = page.locator("li.complaint.open").first
    cid = re.search(r"C\d+", waiting.locator("h3").inner_text())
    assert cid

    # ---- after: the supervisor acknowledges it on Sam's session ------------------
    tab.open("")
    t = Taps(page)
    t.click(page.get_by_role("navigation", name="Sections").get_by_role("link",
                                                                         name="Complaints"))
    waiting = page.locator("li.complaint.open").first
    expect(waiting.get_by_label("Badge")).to_have_value(re.compile(r"P\d+"))
    tab.shot("set-floor-3-complaint-form")
    t.type(waiting.get_by_label("PIN"), PINS["lee"])
    t.type(waiting.get_by_label(f"Response to {cid.group(0)}"), "Moved the village upwind")
    t.click(waiting.get_by_role("button", name=f"Acknowledge {cid.group(0)}"))
    expect(page.get_by_role("status").filter(has_text="Recorded")).to_be_visible()
    expect(page.get_by_text(f"Answer from {people['lee']}: Moved the village upwind")) \
        .to_be_visible()
    tab.shot("set-floor-4-complaint-acknowledged")
    sup_after = t.n
    e = last_event(web_server)
    assert e.type == "complaint.acknowledged" and e.actor != dana
    assert ";session:" in e.device

    # ---- a wrong PIN: refused and recorded, the form stays --------------------------
    page.get_by_label("What is unsafe").fill("Cart left open")
    page.get_by_role("button", name=re.compile("File the complaint")).click()
    waiting = page.locator("li.complaint.open").first
    waiting.get_by_label("PIN").fill("0000")
    waiting.get_by_label(re.compile("Response to")).fill("ok")
    waiting.get_by_role("button", name=re.compile("Acknowledge")).click()
    expect(page.get_by_text(re.compile("wrong PIN", re.I)).first).to_be_visible()
    tab.shot("set-floor-5-wrong-pin")
    assert last_event(web_server).type == "person.pin_failed"

    # ---- before: the same two steps by switching accounts, counted the same way ---
    before = {}
    for who, act in (("dana", "day"), ("lee", "complaint")):
        t = Taps(page)
        tab.open("")
        t.click(page.get_by_role("button", name="Sign out").first)
        page.wait_for_url(re.compile(r".*/signin$"))
        sign_in_taps(t, who)
        if act == "day":
            t.click(page.get_by_role("navigation", name="Sections").get_by_role(
                "link", name="Day"))
            # (the day is open already in this run: the button would be the one tap)
            t.n += 1
        else:
            t.click(page.get_by_role("navigation", name="Sections").get_by_role(
                "link", name="Complaints"))
            waiting = page.locator("li.complaint.open").first
            t.type(waiting.get_by_label(re.compile("Response to")), "Closed the cart")
            t.click(waiting.get_by_role("button", name=re.compile("Acknowledge")))
            expect(page.get_by_role("status").filter(has_text="Recorded")).to_be_visible()
        t.click(page.get_by_role("button", name="Sign out").first)
        page.wait_for_url(re.compile(r".*/signin$"))
        sign_in_taps(t, "sam")
        before[act] = t.n
    print(f"\nTAPS 1st AD opens the day: before {before['day']}, after {ad_after}; "
          f"supervisor acknowledges a complaint: before {before['complaint']}, "
          f"after {sup_after}")
    assert ad_after < before["day"] and sup_after < before["complaint"]
    assert not page_errors(tab), tab.errors


def test_the_first_ad_pairs_her_phone_and_opens_the_day_from_it(
        new_tablet: Any, web_server: Served) -> None:
    cart: Tablet = new_tablet(CART)
    cart.sign_in("sam")
    cart.register("Cart tablet")
    cart.open("device")
    page = cart.page
    page.get_by_label("Whose phone").select_option(label="Dana Whitfield (1st AD)")
    page.get_by_role("button", name="Show the pairing code").click()
    expect(page.locator("#pair-form figure.qr svg")).to_be_visible()
    cart.shot("set-floor-6-pairing-qr")
    title = page.locator("#pair-form figure.qr svg title").text_content() or ""
    url = re.search(r"/pair/[A-Za-z0-9_-]+", title)
    assert url, title
    phone: Tablet = new_tablet({"width": 390, "height": 844})
    phone.go(url.group(0))
    phone.page.get_by_label("Username").fill("dana")
    phone.page.get_by_label("Password").fill(PASSWORD)
    phone.page.get_by_role("button", name="Sign in and pair this phone").click()
    phone.page.wait_for_url(re.compile(r".*paired=dev-"))
    phone.open("day")
    phone.page.get_by_role("button", name="Open the shooting day").click()
    expect(phone.page.get_by_role("status").filter(has_text="Recorded")).to_be_visible()
    phone.shot("set-floor-7-phone-day-opened")
    e = last_event(web_server)
    assert e.type == "day.opened" and ";session:" not in e.device
    # The code is spent: a second phone gets DEVICE_UNKNOWN.
    other: Tablet = new_tablet({"width": 390, "height": 844})
    other.go(url.group(0))
    expect(other.page.get_by_text("DEVICE_UNKNOWN").first).to_be_visible()
