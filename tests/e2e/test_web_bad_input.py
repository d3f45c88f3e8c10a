"""Bad input on a real tablet: double taps, a page submitted again after the back
button, a page gone stale because another tablet changed the lot, a session
that expires mid-form, a person without the role, a wrong password. Never a
double record; always a clear message with the rule's code; the form kept."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from web_support import PROD, Served, Tablet, page_errors

from coldcheck.persistence.store import Store
from coldcheck.services import accounts


def verified(served: Served, lot: str = "L1") -> int:
    """Rounds of ``lot`` verified so far, straight from the database."""
    store = Store(served.settings.database_url)
    try:
        return store.state(PROD).lots[lot].verified_total
    finally:
        store.dispose()


def events(served: Served) -> int:
    store = Store(served.settings.database_url)
    try:
        return store.head(PROD)
    finally:
        store.dispose()


def armorer(new_tablet: Any) -> Tablet:
    tab: Tablet = new_tablet()
    tab.sign_in("sam")
    tab.register()
    return tab


def form_fields(tab: Tablet, selector: str) -> dict[str, str]:
    return dict(tab.page.evaluate(
        "s => Array.from(new FormData(document.querySelector(s)).entries())", selector))


def test_a_double_tap_and_a_resubmitted_page_record_the_verification_once(
        new_tablet: Any, web_server: Served) -> None:
    tab = armorer(new_tablet)
    before = verified(web_server)
    tab.open("lots/L1")
    tab.page.get_by_text("Record a count instead").click()
    tab.page.get_by_label("Rounds verified good").fill("2")
    fields = form_fields(tab, "#verify form:has(#v-count)")
    tab.page.get_by_role("button", name="Record the count").dblclick()
    tab.page.wait_for_url(re.compile(r".*/lots/L1\?done="))
    assert verified(web_server) == before + 2
    # The same form sent again (a tap that got through, or Back and submit again):
    # the server answers with the first answer and records nothing.
    head = events(web_server)
    resp = tab.page.request.post(f"{tab.base}/p/{PROD}/lots/L1/verify", form=fields,
                                 headers={"Origin": tab.base}, max_redirects=0)
    assert resp.status == 303, resp.text()
    assert "again=1" in resp.headers["location"]
    assert verified(web_server) == before + 2 and events(web_server) == head
    tab.go(resp.headers["location"])
    expect(tab.page.locator(".done")).to_contain_text("Already recorded")
    expect(tab.page.locator(".done")).to_contain_text("nothing was recorded twice")
    tab.shot("tablet-already-recorded")
    assert not page_errors(tab), page_errors(tab)


def test_a_stale_page_says_what_changed_records_nothing_and_keeps_the_form(
        new_tablet: Any, web_server: Served) -> None:
    tab = armorer(new_tablet)
    tab.open("lots/L1")
    other = tab.page.context.new_page()  # a second screen changes the lot meanwhile
    other.goto(f"{tab.base}/p/{PROD}/lots/L1")
    other.get_by_role("button", name=re.compile(r"Round \d+ is good")).click()  # one tap
    other.wait_for_url(re.compile(r".*done="))
    before = verified(web_server)
    tab.page.get_by_text("Record a count instead").click()
    tab.page.get_by_label("Rounds verified good").fill("3")
    tab.page.get_by_label("Method", exact=True).select_option("weight")
    tab.page.get_by_role("button", name="Record the count").click()
    box = tab.page.locator(".problem", has_text="CONCURRENT_UPDATE")
    expect(box).to_be_visible()
    expect(box).to_contain_text("Nothing was recorded")
    expect(box).to_contain_text("verified round")
    assert verified(web_server) == before
    expect(tab.page.get_by_label("Rounds verified good")).to_have_value("3")
    expect(tab.page.get_by_label("Method", exact=True)).to_have_value("weight")
    tab.shot("tablet-stale-page")
    # Having looked, the armorer submits again: now it is recorded, once.
    tab.page.get_by_role("button", name="Record the count").click()
    tab.page.wait_for_url(re.compile(r".*done="))
    assert verified(web_server) == before + 3


def test_a_session_that_expires_mid_form_keeps_the_form_and_records_once_after_signing_in(
        new_tablet: Any, web_server: Served) -> None:
    tab = armorer(new_tablet)
    tab.open("complaints")
    text = "Cart left unattended by the trailers at 14:10"
    tab.page.get_by_label("What is unsafe").fill(text)
    token = next(c["value"] for c in tab.page.context.cookies()
                 if c["name"] == "coldcheck_session")
    api = web_server.app.state.coldcheck
    accounts.logout(api.store, session_token=token, at=api.clock())  # the session ends
    head = events(web_server)
    tab.page.get_by_role("button", name="File the complaint as Sam Reyes").click()
    dialog = tab.page.get_by_role("dialog", name="Your session ended")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("SESSION_EXPIRED")
    tab.shot("tablet-session-expired")
    assert events(web_server) == head
    dialog.get_by_label("Username").fill("sam")
    dialog.get_by_label("Password").fill(accounts.DEMO_PASSWORD)
    dialog.get_by_role("button", name="Sign in").click()
    tab.page.get_by_role("button", name="Back to the form").click()
    expect(tab.page.get_by_label("What is unsafe")).to_have_value(text)
    tab.page.get_by_role("button", name="File the complaint as Sam Reyes").click()
    expect(tab.page.locator(".done")).to_contain_text(text)
    store = Store(web_server.settings.database_url)
    try:
        filed = [c for c in store.state(PROD).complaints.values() if c.text == text]
    finally:
        store.dispose()
    assert len(filed) == 1


def test_a_performer_sees_no_override_form_and_a_forced_override_is_refused_by_the_matrix(
        new_tablet: Any, web_server: Served) -> None:
    tab = new_tablet()
    tab.sign_in("alex")
    tab.open("overrides")
    expect(tab.page.locator("main")).to_contain_text("Only the safety supervisor can override")
    expect(tab.page.get_by_role("button", name="Record the override")).to_have_count(0)
    csrf = next(c["value"] for c in tab.page.context.cookies()
                if c["name"] == "coldcheck_csrf")
    head = events(web_server)
    resp = tab.page.request.post(
        f"{tab.base}/p/{PROD}/overrides", headers={"Origin": tab.base},
        form={"csrf_token": csrf, "idem": "k1", "rule": "SCENE_REHEARSAL_REPLICA",
              "subject": "scene:SC1", "reason": "I would like to use the real one"})
    assert resp.status == 403
    assert "ACTION_FORBIDDEN" in resp.text()
    assert events(web_server) == head


def test_a_form_posted_from_another_site_or_without_the_csrf_token_is_refused(
        new_tablet: Any, web_server: Served) -> None:
    tab = armorer(new_tablet)
    head = events(web_server)
    form = {"text": "forged complaint", "idem": "k2"}
    resp = tab.page.request.post(f"{tab.base}/p/{PROD}/complaints", form=form,
                                 headers={"Origin": "http://evil.example"})
    assert resp.status == 403
    resp = tab.page.request.post(f"{tab.base}/p/{PROD}/complaints", form=form,
                                 headers={"Origin": tab.base})
    assert resp.status == 403 and "CSRF_FAILED" in resp.text()
    assert events(web_server) == head


def test_an_opaque_origin_a_tokenless_dialog_sign_in_and_a_forged_sign_out_are_refused(
        new_tablet: Any, web_server: Served) -> None:
    """A sandboxed frame posts with ``Origin: null``; the session-expired dialog
    must not sign a tablet into someone else's account without the sign-in
    token; a forged sign-out must not end a session mid-scene."""
    tab = armorer(new_tablet)
    head = events(web_server)
    csrf = next(c["value"] for c in tab.page.context.cookies() if c["name"] == "coldcheck_csrf")
    resp = tab.page.request.post(f"{tab.base}/p/{PROD}/complaints",
                                 form={"text": "forged", "idem": "k3", "csrf_token": csrf},
                                 headers={"Origin": "null"})
    assert resp.status == 403
    assert events(web_server) == head
    other = new_tablet()
    resp = other.page.request.post(f"{other.base}/signin", headers={"Origin": other.base},
                                   form={"dialog": "1", "username": "sam",
                                         "password": accounts.DEMO_PASSWORD})
    assert resp.status == 403 and "CSRF_FAILED" in resp.text()
    assert "coldcheck_session" not in {c["name"] for c in other.page.context.cookies()}
    resp = tab.page.request.post(f"{tab.base}/signout", headers={"Origin": tab.base},
                                 form={}, max_redirects=0)
    assert resp.status == 403 and "CSRF_FAILED" in resp.text()
    tab.open("complaints")  # still signed in
    expect(tab.page.get_by_label("What is unsafe")).to_be_visible()
    tab.sign_out()  # the real button carries the token
    expect(tab.page.get_by_label("Username")).to_be_visible()


def test_a_device_id_copied_into_a_cookie_does_not_make_a_tablet_the_armory_tablet(
        new_tablet: Any, web_server: Served) -> None:
    """The device page shows every device id; the cookie holds the device's key."""
    tab = armorer(new_tablet)
    cookie = next(c for c in tab.page.context.cookies() if c["name"] == "coldcheck_device")
    ident, _, secret = cookie["value"].partition(".")
    assert ident.startswith("dev-") and len(secret) >= 32 and cookie["httpOnly"]
    tab.open("device")
    expect(tab.page.locator("main")).to_contain_text(ident)
    expect(tab.page.locator("main")).not_to_contain_text(secret)
    other = new_tablet()
    other.sign_in("alex")
    head = events(web_server)
    other.page.context.add_cookies([{**cookie, "value": ident}])  # the id alone
    csrf = next(c["value"] for c in other.page.context.cookies()
                if c["name"] == "coldcheck_csrf")
    resp = other.page.request.post(f"{other.base}/p/{PROD}/complaints",
                                   headers={"Origin": other.base},
                                   form={"text": "as if from the armory", "idem": "k4",
                                         "csrf_token": csrf})
    assert resp.status == 403 and "DEVICE_UNKNOWN" in resp.text()
    assert events(web_server) == head
    # Nothing kept the key: not the idempotency store, which keeps answers.
    store = Store(web_server.settings.database_url)
    try:
        with store.engine.connect() as c:
            kept = " ".join(str(v) for row in c.exec_driver_sql(
                "SELECT * FROM idempotency_keys") for v in row)
    finally:
        store.dispose()
    assert secret not in kept


def test_sign_out_works_from_the_productions_page_and_after_a_dialog_sign_in(
        new_tablet: Any, web_server: Served) -> None:
    tab = new_tablet()
    tab.sign_in("sam")  # lands on the productions page
    tab.sign_out()
    tab.sign_in("sam")
    tab.open("complaints")
    token = next(c["value"] for c in tab.page.context.cookies()
                 if c["name"] == "coldcheck_session")
    api = web_server.app.state.coldcheck
    accounts.logout(api.store, session_token=token, at=api.clock())
    tab.page.get_by_label("What is unsafe").fill("Loose sandbag on the dolly track")
    tab.page.get_by_role("button", name="File the complaint as Sam Reyes").click()
    dialog = tab.page.get_by_role("dialog", name="Your session ended")
    dialog.get_by_label("Username").fill("sam")
    dialog.get_by_label("Password").fill(accounts.DEMO_PASSWORD)
    dialog.get_by_role("button", name="Sign in").click()
    tab.page.get_by_role("button", name="Back to the form").click()
    tab.sign_out()  # the page's hidden token is the old session's; the new one is sent


def test_a_wrong_password_says_so_and_keeps_the_username(new_tablet: Any) -> None:
    tab = new_tablet()
    tab.go("/signin")
    tab.page.get_by_label("Username").fill("sam")
    tab.page.get_by_label("Password").fill("not-the-password")
    tab.page.get_by_role("button", name="Sign in").click()
    expect(tab.page.locator(".problem")).to_contain_text("LOGIN_FAILED")
    expect(tab.page.get_by_label("Username")).to_have_value("sam")
    tab.shot("tablet-signin-failed")
