"""Which production day each ledger entry belongs to (documents/daily.py): the
entries of a shooting day stay together even when a night, or a time zone
behind UTC, carries the day past midnight UTC; everything else goes by its UTC
date. Every entry lands in exactly one day's report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coldcheck.documents.daily import default_day, parse_day, report_dates, shooting_days
from coldcheck.domain.errors import InvalidInput
from coldcheck.domain.events import Event
from coldcheck.domain.state import ProductionState


def ev(seq: int, at: str, type_: str = "note.added", **payload: str) -> Event:
    return Event("p", seq, type_, f"{at}:00.000000Z", "P1", "cli", payload)


# A Los Angeles shoot (UTC-8): prep in the morning, the day opened at 07:00 local
# (15:00Z) dated the 24th, wrapped at 19:00 local (03:00Z on the 25th), a complaint
# acknowledged that evening (03:30Z), the next day opened on the 25th at 15:00Z.
LA = [
    ev(0, "2026-11-24T09:00"),
    ev(1, "2026-11-24T15:00", "day.opened", day="D1", date="2026-11-24"),
    ev(2, "2026-11-24T23:59"),
    ev(3, "2026-11-25T00:30"),
    ev(4, "2026-11-25T03:00", "day.wrapped", day="D1"),
    ev(5, "2026-11-25T03:30"),
    ev(6, "2026-11-25T15:00", "day.opened", day="D2", date="2026-11-25"),
    ev(7, "2026-11-26T01:00"),
]


def test_a_shooting_day_keeps_its_entries_past_midnight_utc() -> None:
    days = shooting_days(LA)
    assert [(d.id, d.opened_seq, d.wrapped_seq) for d in days] == [("D1", 1, 4),
                                                                    ("D2", 6, None)]
    assert report_dates(LA, days) == ["2026-11-24"] * 5 + ["2026-11-25"] * 3


def test_entries_outside_shooting_days_go_by_their_utc_date() -> None:
    events = [ev(0, "2026-11-23T23:00"), ev(1, "2026-11-24T01:00")]
    assert report_dates(events, shooting_days(events)) == ["2026-11-23", "2026-11-24"]


def test_without_a_day_named_the_report_is_for_the_open_or_the_last_shooting_day() -> None:
    st = ProductionState("p")
    for e in LA[:5]:
        st.apply(e)
    # D1 wrapped at 03:00Z on the 25th; that evening in LA it is still the day to report.
    assert default_day(st, datetime(2026, 11, 25, 3, 30, tzinfo=UTC)) == "2026-11-24"
    assert default_day(st, datetime(2026, 11, 27, 9, 0, tzinfo=UTC)) == "2026-11-27"


def test_without_a_day_named_today_is_the_date_on_set_not_the_utc_date() -> None:
    """Around midnight: at 11:30Z on the 24th it is already the 25th in Auckland;
    at 03:30Z on the 25th it is still the 24th in Los Angeles. Given no zone,
    the production's own (from the record), else UTC."""
    from zoneinfo import ZoneInfo

    from coldcheck.domain.events import utc_text

    st = ProductionState("p")
    nz_midnight = datetime(2026, 11, 24, 11, 30, tzinfo=UTC)
    la_evening = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)
    assert default_day(st, nz_midnight) == "2026-11-24"
    assert default_day(st, nz_midnight, ZoneInfo("Pacific/Auckland")) == "2026-11-25"
    assert default_day(st, la_evening) == "2026-11-25"
    assert default_day(st, la_evening, ZoneInfo("America/Los_Angeles")) == "2026-11-24"
    st.apply(Event("p", 0, "production.timezone_set", utc_text(nz_midnight), "P1", "cli",
                   {"timezone": "Pacific/Auckland", "previous": None}))
    assert default_day(st, nz_midnight) == "2026-11-25"


@pytest.mark.parametrize("day", ["2026-11-31", "2026-1-04", "20261124", "2026-11-24T00:00",
                                 "٢٠٢٦-١١-٢٤", "", "today"])
def test_only_a_real_yyyy_mm_dd_date_is_a_day(day: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_day(day)
    assert e.value.code == "INVALID_INPUT"
