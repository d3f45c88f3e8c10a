"""The production's time zone (issue 15 part 3), on SQLite and PostgreSQL: the
producer sets it over the API (POST /timezone) or on the tablet's People page;
anyone else is refused with nothing recorded. What "today" is follows it (the
daily report's default day, CUSTODY_QUALIFICATION_EXPIRED) around midnight in
zones far from UTC, while the record keeps UTC."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from api_support import API, PASSWORD, ApiWorld, api_world
from helpers import codes, refusal

from coldcheck.config import Settings
from coldcheck.documents import default_day
from coldcheck.domain.zones import known_zones
from coldcheck.persistence.store import Store
from coldcheck.security import hasher
from coldcheck.services import accounts
from coldcheck.services import actions as a

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
# 11:30 UTC on the 24th is 00:30 on the 25th in Auckland (NZDT, UTC+13);
# 03:30 UTC on the 25th is 19:30 on the 24th in Los Angeles (PST, UTC-8).
NZ_JUST_AFTER_MIDNIGHT = datetime(2026, 11, 24, 11, 30, tzinfo=UTC)
LA_EVENING = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)


@pytest.fixture
def aw(store: Store, backend_settings: Settings, clock: Any) -> Iterator[ApiWorld]:
    with api_world(store, backend_settings, clock, production="tz-test") as aw:
        yield aw


def head(aw: ApiWorld) -> int:
    return aw.world.store.head(aw.production)


# ---- the API ------------------------------------------------------------------------
def test_the_producer_sets_the_zone_over_the_api_and_the_record_stays_utc(
        aw: ApiWorld) -> None:
    r = aw.post("producer", "/timezone", {"timezone": "Pacific/Auckland"})
    assert r.status_code == 200, r.text
    (e,) = r.json()["events"]
    assert e["type"] == "production.timezone_set"
    assert e["payload"] == {"timezone": "Pacific/Auckland", "previous": None}
    assert e["actor"] == aw.person("producer") and e["device"] == f"device:{aw.device}"
    assert RFC3339_UTC.match(e["at"]), e["at"]
    assert aw.get("producer", "/status").json()["timezone"] == "Pacific/Auckland"

    # Changed again, it names the zone it replaces.
    r = aw.post("producer", "/timezone", {"timezone": "America/Los_Angeles"})
    assert r.status_code == 200, r.text
    assert r.json()["events"][0]["payload"] == {"timezone": "America/Los_Angeles",
                                                "previous": "Pacific/Auckland"}
    # The ledger keeps UTC: the stored event, the entry as hashed, the API's events.
    seq = r.json()["events"][0]["seq"]
    stored = aw.world.store.events(aw.production, seq)[0]
    assert stored.type == "production.timezone_set" and RFC3339_UTC.match(stored.at)
    entry = aw.get("producer", f"/ledger/entries/{seq}")
    assert entry.status_code == 200, entry.text
    assert stored.at in entry.text and "-08:00" not in entry.text
    evs = aw.get("producer", "/events", after=seq - 1).json()["events"]
    assert evs[0]["at"] == stored.at


@pytest.mark.parametrize("who", ["armorer", "supervisor", "ad", "alex", "investigator"])
def test_anyone_but_the_producer_is_forbidden_and_nothing_is_recorded(
        aw: ApiWorld, who: str) -> None:
    before = head(aw)
    r = aw.post(who, "/timezone", {"timezone": "Pacific/Auckland"})
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "ACTION_FORBIDDEN"
    assert head(aw) == before
    assert aw.world.store.state(aw.production).timezone is None


def test_a_non_member_gets_404_as_if_the_production_did_not_exist(
        aw: ApiWorld, store: Store, backend_settings: Settings) -> None:
    ctx = a.init_production(store=store, settings=backend_settings, production="elsewhere",
                            name="Elsewhere", at=aw.clock())
    ev = a.add_person(ctx, name="Olga Out", roles=["producer"], badge="OUT-1", pin="1234",
                      at=aw.clock())
    accounts.add_member(store, ph=hasher(backend_settings.argon2_profile),
                        production="elsewhere", person=ev[0].payload["person"],
                        username="outsider", password="outsider-password")
    token, _ = accounts.create_token(
        store, account_id=accounts.account_of_username(store, "outsider"),
        production="elsewhere", name="t", hours=48, max_hours=48, at=aw.clock())
    before = head(aw)
    r = aw.client.post(aw.url("/timezone"), json={"timezone": "Pacific/Auckland"},
                       headers={"Authorization": f"Bearer {token}",
                                "X-Coldcheck-Device": aw.device_key})
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "NOT_FOUND" and r.json()["what"] == "production"
    assert head(aw) == before


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "pacific/auckland", "", "EST5EDT "])
def test_a_name_the_zone_database_does_not_know_is_refused_at_the_edge(
        aw: ApiWorld, zone: str) -> None:
    before = head(aw)
    r = aw.post("producer", "/timezone", {"timezone": zone})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "INVALID_INPUT" and body["errors"][0]["loc"][-1] == "timezone"
    assert zone not in json.dumps(body) or zone == ""  # the input is never echoed
    assert head(aw) == before


def test_the_schema_lists_the_zones_and_the_same_zone_twice_records_nothing(
        aw: ApiWorld) -> None:
    doc = aw.client.get(f"{API}/openapi.json").json()
    prop = doc["components"]["schemas"]["TimezoneIn"]["properties"]["timezone"]
    assert set(prop["enum"]) == known_zones() and "Pacific/Auckland" in prop["enum"]
    op = doc["paths"]["/api/v1/productions/{production}/timezone"]["post"]
    assert op["x-coldcheck-action"] == "production.set_timezone"

    assert aw.post("producer", "/timezone", {"timezone": "UTC"}).status_code == 200
    before = head(aw)
    r = aw.post("producer", "/timezone", {"timezone": "UTC"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "INVALID_INPUT"
    assert r.json()["detail"] == "the time zone is already UTC"
    assert head(aw) == before


# ---- the tablet -----------------------------------------------------------------------
def web_sign_in(aw: ApiWorld, username: str) -> str:
    c = aw.client
    c.cookies.clear()
    c.get("/signin")
    r = c.post("/signin", data={"username": username, "password": PASSWORD,
                                "signin_token": c.cookies.get("coldcheck_signin") or "",
                                "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    c.cookies.set("coldcheck_device", aw.device_key, path=f"/p/{aw.production}/")
    return str(c.cookies.get("coldcheck_csrf"))


def post_zone(aw: ApiWorld, csrf: str, zone: str, **extra: str) -> Any:
    return aw.client.post(f"/p/{aw.production}/timezone",
                          data={"csrf_token": csrf, "idem": uuid.uuid4().hex,
                                "timezone": zone, **extra}, follow_redirects=False)


def test_the_producer_changes_the_zone_on_the_people_page(aw: ApiWorld) -> None:
    csrf = web_sign_in(aw, "producer")
    page = aw.client.get(f"/p/{aw.production}/people")
    assert page.status_code == 200
    assert 'action="/p/tz-test/timezone"' in page.text
    assert '<option value="Pacific/Auckland">' in page.text
    assert "this server&#39;s default" in page.text or "this server's default" in page.text

    r = post_zone(aw, csrf, "  Pacific/Auckland ")
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"/p/{aw.production}/people?done=")
    assert aw.world.store.state(aw.production).timezone == "Pacific/Auckland"
    after = aw.client.get(r.headers["location"])
    assert "Pacific/Auckland (NZ" in after.text and "Time zone set to Pacific/Auckland" \
        in after.text
    (e,) = aw.world.store.events(aw.production, head(aw) - 1)
    assert e.type == "production.timezone_set" and e.actor == aw.person("producer")
    assert RFC3339_UTC.match(e.at)


def test_an_unknown_zone_on_the_form_says_what_to_write_with_its_code(aw: ApiWorld) -> None:
    csrf = web_sign_in(aw, "producer")
    before = head(aw)
    r = post_zone(aw, csrf, "Middle/Earth")
    assert r.status_code == 422, r.text
    assert "INVALID_INPUT" in r.text
    assert "unknown time zone" in r.text and "America/Denver" in r.text
    assert 'value="Middle/Earth"' in r.text  # the form keeps what was typed
    # htmx: only the section comes back, with the problem in it.
    r = aw.client.post(f"/p/{aw.production}/timezone",
                       data={"csrf_token": csrf, "idem": uuid.uuid4().hex, "timezone": ""},
                       headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.status_code == 422 and r.text.lstrip().startswith('<section id="zone"')
    assert "INVALID_FORM" in r.text and "Time zone is required" in r.text
    assert head(aw) == before


def test_the_form_is_the_producers_only_and_needs_the_csrf_token(aw: ApiWorld) -> None:
    csrf = web_sign_in(aw, "armorer")
    page = aw.client.get(f"/p/{aw.production}/people")
    assert page.status_code == 200 and "Time zone" in page.text
    assert 'action="/p/tz-test/timezone"' not in page.text
    before = head(aw)
    r = post_zone(aw, csrf, "Pacific/Auckland")  # a forged post
    assert r.status_code == 403 and "ACTION_FORBIDDEN" in r.text
    csrf = web_sign_in(aw, "producer")
    r = post_zone(aw, "not-the-token", "Pacific/Auckland")
    assert r.status_code in (303, 403), r.text
    assert r.status_code == 403 or "/signin" in r.headers["location"]
    assert head(aw) == before
    assert aw.world.store.state(aw.production).timezone is None


# ---- today, on set --------------------------------------------------------------------
def test_the_boards_report_link_asks_for_today_in_auckland(aw: ApiWorld) -> None:
    w = aw.world
    a.wrap(w.ctx, armorer=w.people["armorer"], at=aw.clock())
    assert aw.post("producer", "/timezone", {"timezone": "Pacific/Auckland"}).status_code \
        == 200
    aw.clock.t = datetime(2026, 11, 27, 11, 30, tzinfo=UTC)  # 00:30 on the 28th there
    web_sign_in(aw, "producer")
    board = aw.client.get(f"/p/{aw.production}/")
    assert board.status_code == 200
    assert "/reports/daily/2026-11-28.pdf" in board.text
    st = w.store.state(aw.production)
    assert default_day(st, aw.clock.t) == "2026-11-28"
    assert default_day(st, aw.clock.t, UTC) == "2026-11-27"


@pytest.mark.parametrize(("zone", "now", "today"), [
    ("Pacific/Auckland", NZ_JUST_AFTER_MIDNIGHT, "2026-11-25"),
    ("America/Los_Angeles", NZ_JUST_AFTER_MIDNIGHT, "2026-11-24"),
    ("Pacific/Auckland", LA_EVENING, "2026-11-25"),
    ("America/Los_Angeles", LA_EVENING, "2026-11-24"),
])
def test_the_default_report_day_and_a_day_opened_without_a_date_are_dated_on_set(
        store: Store, backend_settings: Settings, zone: str, now: datetime,
        today: str) -> None:
    ctx = a.init_production(store=store, settings=backend_settings, production="far-away",
                            name="Far away", timezone=zone, at=now)
    st = store.state("far-away")
    assert st.timezone == zone
    assert default_day(st, now, backend_settings.zone_for(st.timezone)) == today
    ev = a.add_person(ctx, name="Dana Whitfield", roles=["first_ad"], badge="AD-1",
                      pin=None, at=now)
    opened = a.open_day(ctx, date=None, actor=ev[0].payload["person"], at=now)
    assert opened[0].payload["date"] == today
    assert opened[0].at == now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize(("zone", "now", "allowed"), [
    # A qualification until the 24th: over in Auckland at 00:30 on the 25th,
    # though the UTC date is still the 24th ...
    ("Pacific/Auckland", NZ_JUST_AFTER_MIDNIGHT, False),
    (None, NZ_JUST_AFTER_MIDNIGHT, True),
    # ... and still good in Los Angeles at 19:30 on the 24th, though UTC says the 25th.
    ("America/Los_Angeles", LA_EVENING, True),
    (None, LA_EVENING, False),
])
def test_a_qualification_holds_through_its_last_day_on_set(
        store: Store, backend_settings: Settings, zone: str | None, now: datetime,
        allowed: bool) -> None:
    ctx = a.init_production(store=store, settings=backend_settings, production="far-away",
                            name="Far away", timezone=zone, at=now)
    arm = a.add_person(ctx, name="Sam Reyes", roles=["armorer"], badge="ARM-1", pin=None,
                       qualification_expires="2026-11-24", at=now)[0].payload["person"]
    safe = a.add_storage(ctx, name="Safe", kind="safe", actor=arm,
                         at=now)[0].payload["storage"]

    def receive() -> Any:
        return a.receive_weapon(ctx, armorer=arm, serial="S-1", make="Colt", model="SAA",
                                calibre=".45 Colt", kind="firearm", chambers=6,
                                magazine_capacity=0, storage=safe, at=now)

    if allowed:
        assert receive()[0].type == "weapon.received"
    else:
        before = store.head("far-away")
        assert codes(refusal(receive)) == ["CUSTODY_QUALIFICATION_EXPIRED"]
        refused = store.events("far-away", before)
        assert [e.type for e in refused] == ["action.refused"]
        assert RFC3339_UTC.match(refused[0].at)
    # The state row written by the store gives the same answer as a full replay.
    assert store.state("far-away").timezone == store.replay("far-away").timezone == zone
