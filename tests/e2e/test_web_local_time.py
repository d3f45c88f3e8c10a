"""Local time on the tablet: with COLDCHECK_TIMEZONE set, pages show times in
the set's zone with its abbreviation and keep the UTC instant (``datetime``,
``title`` and, on timelines, a small UTC line); the API and the record stay
UTC. Without it, pages show UTC as before."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from web_support import PROD, Served, dump, page_errors

DENVER = ZoneInfo("America/Denver")


def at_of(event: dict[str, Any]) -> datetime:
    return datetime.strptime(event["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@pytest.mark.parametrize("web_settings", [{"timezone": "America/Denver"}])
def test_pages_show_denver_time_with_its_abbreviation_and_keep_utc_beside_it(
        new_tablet: Any, web_server: Served) -> None:
    tab = new_tablet()
    tab.sign_in("sam")
    # The API is untouched: RFC 3339 UTC, as stored.
    api = tab.page.request.get(f"{tab.base}/api/v1/productions/{PROD}/events?limit=1000")
    assert api.ok, api.text()
    evs = api.json()["events"]
    assert all(e["at"].endswith("Z") for e in evs)
    first_w1 = next(e for e in evs if e["payload"].get("weapon") == "W1")
    when = at_of(first_w1)
    local = when.astimezone(DENVER)
    assert local.tzname() in ("MST", "MDT")

    tab.open("weapons/W1")
    item = tab.page.locator(".timeline li", has_text=f"#{first_w1['seq']} ").first
    time = item.locator("time")
    expect(time).to_have_text(local.strftime("%Y-%m-%d %H:%M:%S ") + local.tzname())
    expect(time).to_have_attribute("datetime", when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    expect(time).to_have_attribute("title", when.strftime("%Y-%m-%d %H:%M:%S UTC"))
    utc_line = when.strftime("%H:%M:%S UTC") if when.date() == local.date() \
        else when.strftime("%Y-%m-%d %H:%M:%S UTC")
    expect(item.locator("small.utc")).to_have_text(f"({utc_line})")
    expect(tab.page.locator("footer.tzline")).to_contain_text("America/Denver (M")
    tab.shot("tablet-weapon-denver")
    found = tab.axe()
    assert not found, dump(found)

    tab.open("")
    updated = tab.page.locator(".dayline time").first
    expect(updated).to_have_text(re.compile(r"^\d\d:\d\d:\d\d M[SD]T$"))
    expect(updated).to_have_attribute("title", re.compile(r" UTC$"))
    tab.shot("tablet-board-denver")
    assert not page_errors(tab), page_errors(tab)


def test_without_a_time_zone_pages_show_utc_and_nothing_twice(
        new_tablet: Any, web_server: Served) -> None:
    tab = new_tablet()
    tab.sign_in("sam")
    tab.open("weapons/W1")
    time = tab.page.locator(".timeline time").first
    expect(time).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    expect(tab.page.locator(".timeline small.utc")).to_have_count(0)
    expect(tab.page.locator("footer.tzline")).to_have_count(0)
    assert time.get_attribute("title") is None


def test_the_producer_sets_the_time_zone_on_the_people_page(
        new_tablet: Any, web_server: Served) -> None:
    """An unknown name is refused with INVALID_INPUT, saying what to write; a
    known one is recorded and the pages follow it at once."""
    tab = new_tablet()
    tab.sign_in("sam")
    tab.register()
    tab.sign_out()
    tab.sign_in("morgan")
    tab.open("people")
    zone = tab.page.locator("#zone")
    expect(zone).to_contain_text("this server's default")
    field = zone.get_by_label("Set the production's time zone")
    field.fill("Auckland")
    zone.get_by_role("button", name="Set the time zone").click()
    problem = tab.page.locator("#zone .problem")
    expect(problem).to_contain_text("INVALID_INPUT")
    expect(problem).to_contain_text("unknown time zone 'Auckland'")
    tab.shot("tablet-people-zone-refused")
    tab.page.reload()

    tab.page.locator("#zone").get_by_label("Set the production's time zone").fill(
        "Pacific/Auckland")
    tab.page.locator("#zone").get_by_role("button", name="Set the time zone").click()
    expect(tab.page.locator(".done")).to_contain_text("Time zone set to Pacific/Auckland")
    expect(tab.page.locator("#zone")).to_contain_text("Pacific/Auckland (NZ")
    expect(tab.page.locator("footer.tzline")).to_contain_text("Pacific/Auckland (NZ")
    tab.shot("tablet-people-zone-set")
    found = tab.axe()
    assert not found, dump(found)
    assert not page_errors(tab), page_errors(tab)


def test_only_the_producer_is_offered_the_time_zone_form(
        new_tablet: Any, web_server: Served) -> None:
    tab = new_tablet()
    tab.sign_in("sam")
    tab.open("people")
    expect(tab.page.locator("#zone")).to_contain_text("Times are shown in")
    expect(tab.page.locator("#zone form")).to_have_count(0)
