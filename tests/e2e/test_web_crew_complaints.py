"""Safety complaints from crew without an account (issue 15, part 5), in the
browser: the cart tablet's "File a safety complaint" page (anonymous and named,
the number shown big), acknowledging such a complaint by badge + PIN on the
armorer's session, the printable QR poster, and the poster's public page on a
phone that never signed in (anonymous and named, the number, the limit per
address, a bad or retired address answered 404). Pages are screenshotted and
checked with axe-core."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from web_support import PHONE, PINS, PROD, Served, Tablet, page_errors

from coldcheck.persistence.store import Store


def last_event(served: Served) -> Any:
    store = Store(served.settings.database_url)
    try:
        return list(store.events(PROD))[-1]
    finally:
        store.dispose()


def number_shown(tab: Tablet) -> str:
    big = tab.page.locator(".ticket-number")
    expect(big).to_be_visible()
    size = float(big.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert size >= 64, f"the complaint number is {size}px: too small to write down"
    return str(big.inner_text()).strip()


def test_the_cart_tablet_files_complaints_for_crew_without_an_account(
        new_tablet: Any, web_server: Served) -> None:
    tab: Tablet = new_tablet()
    tab.sign_in("sam")
    tab.register()
    tab.open("complaints")
    tab.page.get_by_role("link", name="File a safety complaint on this tablet").click()
    expect(tab.page.get_by_role("heading", name="File a safety complaint")).to_be_visible()
    tab.shot("crew-complaint-form")
    assert tab.axe() == []
    # Anonymous: the name typed is dropped, the armorer is not the author.
    tab.page.get_by_label("What is unsafe").fill("Squibs stored next to the craft table")
    tab.page.get_by_label("Your name (optional)").fill("Should not be kept")
    tab.page.get_by_label("Send it anonymously").check()
    tab.page.get_by_role("button", name="File the complaint").click()
    tab.page.wait_for_url(re.compile(r".*complaints/crew\?done="))
    anon = number_shown(tab)
    tab.shot("crew-complaint-number")
    assert tab.axe() == []
    e = last_event(web_server)
    assert e.type == "complaint.received" and e.payload["complaint"] == anon
    assert e.payload["name"] == "" and e.actor == "crew" and ";session:" not in e.device
    # Named, with a job.
    tab.page.get_by_role("link", name="File another complaint").click()
    tab.page.get_by_label("What is unsafe").fill("No eye protection for the crew at the window")
    tab.page.get_by_label("Your name (optional)").fill("Kim Ortiz")
    tab.page.get_by_label("Your job on set (optional)").fill("set dresser")
    tab.page.get_by_role("button", name="File the complaint").click()
    tab.page.wait_for_url(re.compile(r".*complaints/crew\?done="))
    named = number_shown(tab)
    assert named != anon
    # On the board while unacknowledged.
    tab.open("")
    expect(tab.page.get_by_text(f"complaint {named} not acknowledged")).to_be_visible()
    # The safety supervisor acknowledges the anonymous one on the armorer's session.
    tab.open("complaints")
    card = tab.page.locator("li.complaint", has_text=f"{anon} ·")
    expect(card).to_contain_text("anonymous (no account, cart tablet)")
    badge = card.get_by_label("Badge")
    badge.select_option(badge.locator("option", has_text="Lee Okafor").get_attribute("value"))
    card.get_by_label("PIN").fill(PINS["lee"])
    card.get_by_label(f"Response to {anon}").fill("Squibs moved to the magazine box")
    card.get_by_role("button", name=f"Acknowledge {anon}").click()
    card = tab.page.locator("li.complaint", has_text=f"{anon} ·")
    expect(card).to_contain_text("Answer from Lee Okafor: Squibs moved to the magazine box")
    tab.shot("crew-complaint-list")
    ack = last_event(web_server)
    assert ack.type == "complaint.acknowledged" and ack.payload["complaint"] == anon
    assert page_errors(tab) == []


def test_the_qr_poster_and_its_public_page(new_tablet: Any, web_server: Served) -> None:
    cart: Tablet = new_tablet()
    cart.sign_in("sam")
    cart.register()
    cart.sign_out()
    cart.sign_in("lee")  # the safety supervisor, on the registered cart tablet
    cart.open("complaints/poster")
    cart.page.get_by_role("button", name="Make a poster").click()
    qr = cart.page.locator(".poster-qr svg")
    expect(qr).to_be_visible()
    url = cart.page.locator(".poster-url").inner_text().strip()
    assert re.fullmatch(re.escape(web_server.url) + r"/complaint/[A-Za-z0-9_-]{32}", url), url
    assert qr.locator("title").text_content() == url  # the code says the address
    assert cart.axe() == []
    cart.page.emulate_media(media="print")
    cart.shot("crew-complaint-poster-print")
    cart.page.emulate_media(media="screen")

    # A phone that never signed in: anonymous, then named.
    phone: Tablet = new_tablet(PHONE)
    phone.page.goto(url)
    expect(phone.page.get_by_role("heading", name=re.compile("Safety complaint"))).to_be_visible()
    assert phone.axe() == []
    phone.shot("crew-complaint-public-form")
    phone.page.get_by_label("What is unsafe").fill("Someone dry-fired the prop gun at lunch")
    phone.page.get_by_label("Send it anonymously").check()
    phone.page.get_by_role("button", name="File the complaint").click()
    first = number_shown(phone)
    phone.shot("crew-complaint-public-number")
    e = last_event(web_server)
    assert e.payload == {"complaint": first, "text": "Someone dry-fired the prop gun at lunch",
                         "name": "", "role": "", "via": "poster", "device": ""}
    assert e.device.startswith("poster:QR")
    phone.page.get_by_role("link", name="File another complaint").click()
    phone.page.get_by_label("What is unsafe").fill("The fire exit is blocked by the dolly")
    phone.page.get_by_label("Your name (optional)").fill("Ana Lima")
    phone.page.get_by_label("Your job on set (optional)").fill("PA")
    phone.page.get_by_role("button", name="File the complaint").click()
    second = number_shown(phone)
    assert second != first and last_event(web_server).payload["name"] == "Ana Lima"
    # Both are on the complaints list for the supervisor.
    cart.open("complaints")
    expect(cart.page.locator("li.complaint", has_text=f"{second} ·")).to_contain_text(
        "Ana Lima, PA (no account, QR poster)")

    # A made-up address: 404, the stable code.
    resp = phone.page.goto(web_server.url + "/complaint/not-the-poster")
    assert resp is not None and resp.status == 404
    expect(phone.page.get_by_text("COMPLAINT_PAGE_UNKNOWN")).to_be_visible()

    # The limit per address: every post counts (two already).
    phone.page.goto(url)
    token = phone.page.locator("input[name=form_token]").get_attribute("value") or ""
    limit = web_server.app.state.coldcheck.complaint_limiter.limit
    for i in range(limit - 2):
        r = phone.page.request.post(url, form={"text": f"flood {i}", "form_token": token},
                                    headers={"Origin": web_server.url})
        assert r.status == 200, r.text()
    phone.page.get_by_label("What is unsafe").fill("one too many")
    phone.page.get_by_role("button", name="File the complaint").click()
    expect(phone.page.get_by_text("COMPLAINT_RATE_LIMITED")).to_be_visible()
    phone.shot("crew-complaint-public-limited")

    # A new poster retires the old address at once; revoking leaves none.
    cart.open("complaints/poster")
    cart.page.get_by_role("button", name=re.compile("Make a new poster")).click()
    expect(cart.page.locator(".poster-url")).not_to_have_text(url)
    resp = phone.page.goto(url)
    assert resp is not None and resp.status == 404
    cart.page.get_by_role("button", name="Revoke the poster").click()
    expect(cart.page.get_by_text("No QR complaint poster is in use")).to_be_visible()
    assert page_errors(cart) == []
