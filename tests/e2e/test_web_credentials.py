"""The producer records and revokes a handler's credential on the tablet (issue 16
part 1): the person page lists it with its state, and revoking it needs a reason."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from test_web_inspection import events, state
from web_support import Served, Tablet


def test_the_producer_records_and_revokes_a_credential_on_the_person_page(
        new_tablet: Any, web_server: Served) -> None:
    tab: Tablet = new_tablet({"width": 1024, "height": 768})
    tab.sign_in("morgan")
    tab.register("Production office tablet")
    page = tab.page
    tab.open("people/P1")
    form = page.locator("#credentials")
    form.get_by_label("Credential").select_option("federal_firearms_licence")
    form.get_by_label("Issued by").fill("ATF")
    form.get_by_label("Number").fill("FFL-9-99-999")
    form.get_by_label("full auto").check()
    form.get_by_label("Expires").fill("2031-05-31")
    form.get_by_role("button", name="Record the credential of Sam Reyes").click()
    page.wait_for_url(re.compile(r".*/people/P1\?done="))
    expect(page.locator("dl.facts")).to_contain_text(
        "Federal firearms licence FFL-9-99-999 (ATF), covers full auto")
    added = [e for e in events(web_server) if e.type == "person.credential_added"]
    assert len(added) == 1 and added[0].payload["classes"] == ["full_auto"]
    assert added[0].actor == "P5"  # the producer, not the holder
    tab.shot("credential-recorded")
    cred = added[0].payload["credential"]
    page.get_by_label(re.compile(rf"^Revoke .*\({cred}\): why")).fill("Licence lapsed")
    page.get_by_role("button", name=f"Revoke {cred}").click()
    page.wait_for_url(re.compile(r".*/people/P1\?done="))
    expect(page.locator("dl.facts")).to_contain_text("✖ Revoked")
    assert state(web_server).credentials["P1"][cred]["revoked"] is True


def test_the_armorer_sees_credentials_but_no_form_to_record_their_own(
        new_tablet: Any, web_server: Served) -> None:
    tab: Tablet = new_tablet({"width": 1024, "height": 768})
    tab.sign_in("sam")
    tab.register("Cart tablet")
    tab.open("people/P1")
    expect(tab.page.locator("#credentials")).to_have_count(0)
