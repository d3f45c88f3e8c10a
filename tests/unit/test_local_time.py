"""The display time zone: the COLDCHECK_TIMEZONE setting is an IANA name checked
when the settings are built, and web pages format stored UTC times in it with
the zone's abbreviation, the UTC instant kept beside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from coldcheck.config import Settings, display_zone
from coldcheck.web.http import ENV
from coldcheck.web.present import local_text, time_html, utc_line, zone_abbr, zone_offset

DENVER = ZoneInfo("America/Denver")
WINTER = "2025-01-15T21:03:27.123456Z"  # 14:03:27 MST (UTC-7)
SUMMER = "2025-07-15T20:03:27.000000Z"  # 14:03:27 MDT (UTC-6)
LATE = "2025-07-16T03:30:00.000000Z"  # 21:30 MDT the day before


# ---- the setting -------------------------------------------------------------------
def test_the_time_zone_defaults_to_utc_which_needs_no_time_zone_database(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLDCHECK_TIMEZONE", raising=False)
    s = Settings()
    assert s.timezone == "UTC"
    assert s.display_tz() is UTC
    assert display_zone("UTC") is UTC


def test_the_time_zone_is_read_from_coldcheck_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLDCHECK_TIMEZONE", "America/Denver")
    s = Settings()
    assert s.timezone == "America/Denver"
    assert s.display_tz() == DENVER


@pytest.mark.parametrize("bad", ["America/Denvr", "MDT", "america/denver", "", " UTC",
                                 "../../etc/passwd", "/usr/share/zoneinfo/UTC"])
def test_an_unknown_time_zone_is_refused_with_a_message_saying_what_to_write(
        monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("COLDCHECK_TIMEZONE", bad)
    with pytest.raises(ValidationError) as info:
        Settings()
    (err,) = info.value.errors()
    assert err["loc"] == ("timezone",)
    assert f"unknown time zone {bad!r}" in err["msg"]
    assert "use an IANA name such as America/Denver" in err["msg"]


def test_the_cli_stops_on_a_bad_time_zone_with_one_clear_line_and_exit_code_2(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from coldcheck.cli.app import app

    monkeypatch.setenv("COLDCHECK_TIMEZONE", "Mars/Olympus_Mons")
    result = CliRunner().invoke(app, ["status", "--db", "/nonexistent/never-opened.db"])
    assert result.exit_code == 2
    out = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Invalid setting COLDCHECK_TIMEZONE: unknown time zone 'Mars/Olympus_Mons'" in out
    assert "Traceback" not in out


# ---- formatting ----------------------------------------------------------------------
def test_utc_pages_show_utc_as_before() -> None:
    assert local_text(WINTER) == "21:03:27 UTC"
    assert local_text(WINTER, UTC, date=True) == "2025-01-15 21:03:27 UTC"
    assert local_text(WINTER, UTC, seconds=False) == "21:03 UTC"
    assert utc_line(WINTER, UTC) == ""  # nothing shown twice
    assert str(time_html(WINTER, UTC, date=True, utc_beside=True)) == (
        '<time datetime="2025-01-15T21:03:27Z">2025-01-15 21:03:27 UTC</time>')


def test_denver_shows_mst_in_winter_and_mdt_in_summer() -> None:
    assert local_text(WINTER, DENVER) == "14:03:27 MST"
    assert local_text(SUMMER, DENVER) == "14:03:27 MDT"
    assert local_text(SUMMER, DENVER, date=True, seconds=False) == "2025-07-15 14:03 MDT"
    assert zone_offset(DENVER, datetime(2025, 1, 15, tzinfo=UTC)) == "UTC-07:00"
    assert zone_offset(DENVER, datetime(2025, 7, 15, tzinfo=UTC)) == "UTC-06:00"
    assert zone_offset(UTC, datetime(2025, 7, 15, tzinfo=UTC)) == "UTC"


def test_the_utc_line_carries_the_utc_date_when_it_is_not_the_local_date() -> None:
    assert local_text(LATE, DENVER, date=True) == "2025-07-15 21:30:00 MDT"
    assert utc_line(LATE, DENVER) == "2025-07-16 03:30:00 UTC"
    assert utc_line(SUMMER, DENVER) == "20:03:27 UTC"


def test_a_time_element_keeps_the_utc_instant_in_datetime_and_title() -> None:
    html = str(time_html(WINTER, DENVER, date=True, utc_beside=True))
    assert html == ('<time datetime="2025-01-15T21:03:27Z" title="2025-01-15 21:03:27 UTC">'
                    '2025-01-15 14:03:27 MST</time> <small class="utc">(21:03:27 UTC)</small>')
    assert str(time_html(None, DENVER)) == "" and str(time_html("", DENVER)) == ""


def test_aware_datetimes_are_accepted_and_naive_ones_refused() -> None:
    at = datetime(2025, 1, 15, 21, 3, 27, tzinfo=UTC)
    assert local_text(at, DENVER) == "14:03:27 MST"
    assert local_text(at.astimezone(timezone(timedelta(hours=2))), DENVER) == "14:03:27 MST"
    with pytest.raises(ValueError, match="naive"):
        local_text(datetime(2025, 1, 15, 21, 3, 27), DENVER)


def test_a_zone_without_an_abbreviation_reads_as_a_utc_offset() -> None:
    t = datetime(2025, 1, 15, 12, tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert zone_abbr(t) == "UTC-03"
    assert local_text("2025-01-15T12:00:00.000000Z", ZoneInfo("Asia/Kolkata")) == "17:30:00 IST"


def test_template_filters_use_the_pages_time_zone_and_default_to_utc() -> None:
    tmpl = ENV.from_string("{{ at|when }}|{{ at|hhmm }}|{{ at|clock }}")
    assert tmpl.render(at=WINTER) == (
        '<time datetime="2025-01-15T21:03:27Z">2025-01-15 21:03:27 UTC</time>|'
        '<time datetime="2025-01-15T21:03:27Z">21:03 UTC</time>|'
        '<time datetime="2025-01-15T21:03:27Z">21:03:27 UTC</time>')
    denver = tmpl.render(at=WINTER, tz=DENVER)
    assert '>2025-01-15 14:03:27 MST</time> <small class="utc">(21:03:27 UTC)</small>|' in denver
    assert '>14:03 MST</time>|' in denver and denver.endswith(">14:03:27 MST</time>")
    assert denver.count('title="2025-01-15 21:03:27 UTC"') == 3
