"""The daily report prints times as the set lives them: in the production's
time zone, with the zone's abbreviation, while the ledger (and ``--json``) stay
UTC. The demo's day (09:00-12:40 UTC) is reported for a production in Denver
(MST, UTC-07:00) and one in Auckland (NZDT, UTC+13:00), where the day's last
entries fall after local midnight and say which date they are on.

Pages are read with poppler's ``pdftotext``; without it the tests skip (with
CI=true they fail)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_daily_pages import flat
from test_daily_pages import pages_of as daily_pages_of

from coldcheck.config import Settings
from coldcheck.demo import run_demo
from coldcheck.documents import DailyReport, daily_report, render_html, render_pdf
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a

DAY = "2026-11-24"
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # the demo runs 09:00-12:40 UTC


def pages_of(pdf: Path) -> list[str]:
    """Each page's text, its whitespace folded (test_daily_pages reads the PDF)."""
    return [flat(p) for p in daily_pages_of(pdf)]


def report_in(zone: str | None, tmp: Path) -> tuple[DailyReport, Path]:
    s = Settings(database_url=str(tmp / "demo.db"), key_dir=tmp / "keys",
                 argon2_profile="fast-insecure-for-tests", device="pytest")
    store = Store(s.database_url)
    try:
        res = run_demo(store, s, now=NOW)
        if zone is not None:
            a.set_timezone(res.ctx, timezone=zone, actor=res.people["producer"], at=NOW)
        r = daily_report(res.ctx, day=DAY, at=NOW)
        pdf = tmp / "daily.pdf"
        pdf.write_bytes(render_pdf(r))
    finally:
        store.dispose()
    return r, pdf


@pytest.fixture(scope="module")
def denver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DailyReport, Path]]:
    yield report_in("America/Denver", tmp_path_factory.mktemp("denver"))


def local(at: str, zone: str, fmt: str) -> str:
    t = datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return t.astimezone(ZoneInfo(zone)).strftime(fmt)


def test_times_are_denver_time_with_the_zone_and_the_ledger_stays_utc(
        denver: tuple[DailyReport, Path]) -> None:
    r, pdf = denver
    pages = pages_of(pdf)
    one, text = pages[0], " ".join(pages)
    assert r.zone == "America/Denver"
    assert "times in America/Denver (MST, UTC-07:00); the ledger records them in UTC" in one
    day = r.shooting_days[0]
    opened = local(day.opened_at, "America/Denver", "%Y-%m-%d %H:%M")
    assert f"Shooting day D1 opened at {opened} MST (#{day.opened_seq})" in one
    assert f"Generated {local(r.generated_at, 'America/Denver', '%Y-%m-%d %H:%M')} MST" in one
    # Page 1's turns and the sign-off boxes name the zone once.
    assert "out and back MST" in one and "Date and time (MST)" in one
    w1 = next(h for h in r.handled if h["weapon"] == "W1")["turns"][0]
    out, back = (local(w1[k], "America/Denver", "%H:%M") for k in ("out", "back"))
    assert f"Alex Stone (SC3, {out}–{back}, 0 fired)" in one
    # The tables: the zone in the column head, each row's time local.
    assert "Time, MST" in text
    html = render_html(r)
    for e in r.timeline[:3] + r.timeline[-3:]:
        assert f'<td class="seq">{local(e["at"], "America/Denver", "%H:%M:%S")}</td>' in html
    # The narrative's due times too ("due back 11:21 UTC" in the record).
    issued = next(e for e in r.custody if e["type"] == "weapon.issued")
    assert re.search(r"due back \d\d:\d\d MST", issued["text"]), issued["text"]
    assert " UTC" not in issued["text"]
    # No time on paper is left in UTC; the JSON (and the ledger) are.
    assert not re.search(r"\d\d:\d\d(:\d\d)? UTC", text)
    assert r.to_dict()["generated_at"].endswith("Z") and r.to_dict()["timezone"] == \
        "America/Denver"


def test_a_production_without_a_zone_reads_utc(tmp_path: Path) -> None:
    r, pdf = report_in(None, tmp_path)
    one = pages_of(pdf)[0]
    assert r.zone == "UTC" and "times in UTC" in one and "the ledger records" not in one
    assert "Time, UTC" in " ".join(pages_of(pdf))


def test_entries_after_local_midnight_say_their_date(tmp_path: Path) -> None:
    r, pdf = report_in("Pacific/Auckland", tmp_path)  # UTC+13 in November
    html = render_html(r)
    late = [e for e in r.timeline
            if local(e["at"], "Pacific/Auckland", "%Y-%m-%d") != DAY]
    assert late, "the demo's last entries should fall on Nov 25 in Auckland"
    for e in late[:3]:
        at = local(e["at"], "Pacific/Auckland", "%H:%M:%S")
        assert f'{at}<br><span class="muted">Nov 25</span></td>' in html
    assert "times in Pacific/Auckland (NZDT, UTC+13:00)" in pages_of(pdf)[0]


def test_a_day_that_changes_to_winter_time_names_the_zone_on_each_time() -> None:
    # 2026-11-01 in Denver: 01:30 MDT, then the clocks go back; 02:30 MST.
    from types import SimpleNamespace

    from coldcheck.documents.pdf import _env

    r = SimpleNamespace(tz=ZoneInfo("America/Denver"), day="2026-11-01")
    got = _env.from_string("{{ a|hms }}|{{ b|hm }}|{{ c|hm }}").render(
        r=r, zone_abbr=None, a="2026-11-01T07:30:00.000000Z", b="2026-11-01T09:30:00.000000Z",
        c="2026-11-02T07:05:00.000000Z")
    assert got == '01:30:00<br><span class="muted">MDT</span>|02:30 MST|00:05 MST, Nov 2'
