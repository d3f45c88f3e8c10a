"""The safety supervisor leads the safety meeting on the armorer's cart tablet, by
badge + PIN, without signing anyone out (issue 15 part 1): the meeting is
recorded as led by the supervisor, on the armorer's session and device."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from test_web_inspection import AD, ALEX, SUPERVISOR, armorer_tablet, events, services
from web_support import PINS, Served

from coldcheck.services import actions as a


def test_the_supervisor_leads_the_meeting_on_the_armorers_tablet(
        new_tablet: Any, web_server: Served) -> None:
    with services(web_server) as ctx:
        a.open_day(ctx, date=None, actor=AD)
        scene = a.plan_scene(ctx, actor=AD, name="Sc. 41: stairwell", hot=False,
                             rehearsal=False, weapons=["W1"], performers=[ALEX],
                             overdue_minutes=30)[0].payload["scene"]
    tab = armorer_tablet(new_tablet)
    page = tab.page
    tab.open("day")
    meeting = page.locator("#meeting")
    meeting.get_by_label(f"{scene} · Sc. 41: stairwell").check()
    meeting.get_by_label("Alex Stone").check()
    meeting.get_by_label("Sam Reyes").check()  # the armorer attends, the supervisor leads
    meeting.get_by_label("Led by").select_option(SUPERVISOR)
    # A wrong PIN is refused, and nothing is recorded.
    before = len(events(web_server))
    meeting.get_by_label(re.compile("^Their own PIN")).fill("0000")
    meeting.get_by_role("button", name="Record the safety meeting").click()
    expect(page.locator("#meeting .problem")).to_contain_text("PIN")
    assert not [e for e in events(web_server)[before:] if e.type == "meeting.held"]
    meeting = page.locator("#meeting")
    meeting.get_by_label("Led by").select_option(SUPERVISOR)
    meeting.get_by_label(re.compile("^Their own PIN")).fill(PINS["lee"])
    meeting.get_by_role("button", name="Record the safety meeting").click()
    expect(page.get_by_role("status").filter(has_text="Recorded")).to_be_visible()
    tab.shot("meeting-led-by-supervisor-on-cart")
    held = [e for e in events(web_server)[before:] if e.type == "meeting.held"]
    assert len(held) == 1
    e = held[0]
    assert e.actor == SUPERVISOR and e.payload["led_by"] == SUPERVISOR
    assert {ALEX, SUPERVISOR, "P1"} <= set(e.payload["attendees"])
    assert re.fullmatch(r"device:dev-[0-9a-f]+;session:P1", e.device or ""), e.device
