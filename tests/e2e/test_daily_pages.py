"""The daily report's pages, read one by one the way a person reads paper.

Page 1 is the human summary (who handled what, incidents, open complaints, the
counts at wrap) with sign-off lines for the armorer, the 1st AD and the safety
supervisor, and it stays one page however busy the day was; the checkpoint, the
verifier key and the verification command are on the last page only; no row of
a table splits a weapon across two pages. A busy day (46 weapons, 8 incidents,
6 open complaints, 13 lots) is built on the demo so the tables span pages.

Pages are read with poppler's ``pdftotext -f N -l N``; without it the tests skip
(with CI=true they fail)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coldcheck.config import Settings
from coldcheck.demo import SteppingClock, run_demo
from coldcheck.documents import DailyReport, daily_report, render_html, render_pdf
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a

IN_CI = os.environ.get("CI", "").lower() == "true"
DAY = "2026-11-24"
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
EXTRA_WEAPONS = 40
SIGN_OFF = ("Armorer", "1st AD", "Safety supervisor")


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        msg = f"{name} is not installed (scripts/test installs it from Debian's packages)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return found


def pages_of(pdf: Path) -> list[str]:
    """The text of each page, in order."""
    text = subprocess.run([tool("pdftotext"), "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    pages = text.split("\f")
    assert pages[-1].strip() == ""  # pdftotext ends every page with a form feed
    return pages[:-1]


def flat(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Busy:
    report: DailyReport
    pdfs: dict[str, Path]
    serials: list[str]
    models: list[str]


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Busy]:
    tmp = tmp_path_factory.mktemp("busy")
    s = Settings(database_url=str(tmp / "demo.db"), key_dir=tmp / "keys",
                 argon2_profile="fast-insecure-for-tests", device="pytest")
    store = Store(s.database_url)
    res = run_demo(store, s, now=NOW)
    ctx, people = res.ctx, res.people
    ctx.clock = SteppingClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC), timedelta(seconds=5))
    arm = people["armorer"]
    safe = next(iter(ctx.store.state(ctx.production).storage))
    serials, models, weapons = [], [], []
    for n in range(EXTRA_WEAPONS):
        serials.append(f"SN-{n:03d}-REP")
        # Long enough that each weapon's row takes three lines.
        models.append(f"Model-{n:03d} long-barrel stage revolver replica with engraved grips")
        ev = a.receive_weapon(ctx, armorer=arm, serial=serials[-1], make="Prop Workshop",
                              model=models[-1], calibre=".45 Colt", kind="non_firing_replica",
                              chambers=6, magazine_capacity=0, storage=safe)
        weapons.append(ev[0].payload["weapon"])
    for w in weapons[:14]:
        a.inspect_weapon(ctx, weapon=w, armorer=arm, barrel_clear=True, magazine_checked=False,
                         positions=[{"position": f"cylinder {i}", "content": "empty"}
                                    for i in range(1, 7)])
        a.store_weapon(ctx, weapon=w, storage=safe, armorer=arm)
    for n in range(6):
        a.report_incident(ctx, kind="other", weapons=[], lots=[], reported_by=people["ad"],
                          description=f"Hazard {n}: a sandbag fell from the grip truck onto "
                                      "the cart lid while the armory was packed for the night")
        a.file_complaint(ctx, by=people["chris"],
                         text=f"Complaint {n}: the smoke machine runs next to the armory cart "
                              "and nobody checks the lid; please move it away from the weapons")
    for n in range(9):
        a.receive_lot(ctx, armorer=arm, kind="dummy", calibre=".45 Colt",
                      supplier="Stembridge Gun Rentals", supplier_lot=f"DUM-{n}", count=20,
                      storage=safe)
    report = daily_report(ctx, day=DAY, at=NOW + timedelta(hours=5))
    pdfs = {}
    for paper in ("a4", "letter"):
        pdfs[paper] = tmp / f"busy-{paper}.pdf"
        pdfs[paper].write_bytes(render_pdf(report, paper=paper))
    yield Busy(report, pdfs, serials, models)
    store.dispose()


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_page_one_is_the_whole_human_summary_with_sign_off_lines(busy: Busy,
                                                                 paper: str) -> None:
    pages = pages_of(busy.pdfs[paper])
    assert len(pages) > 5, "the busy day should take many pages"
    one = flat(pages[0])
    assert "Production day 2026-11-24" in one
    for heading in ("Who handled what", "Incidents", "Open safety complaints",
                    "Counts at wrap"):
        assert heading in one, f"page 1 lacks {heading!r}"
    # Who handled what: the performers by name, with their scene and rounds fired.
    assert "Alex Stone (SC3" in one and "Chris Bell (SC2" in one and "3 fired" in one
    assert "Sam Reyes" in one  # the armorer
    # Counts at wrap, in words people use ("dummies", not "dummy lot").
    assert f"Weapons: {6 + EXTRA_WEAPONS} on the production" in one
    assert "Dummies, .45 Colt" in one
    # The three sign-off lines, all on page 1, and nothing of page 1 spills onto page 2.
    # (pdftotext reads the three boxes row by row: the roles, then the names...)
    signoff = one[one.index("Each signs at wrap"):]
    for role in SIGN_OFF:
        assert role in signoff, f"no sign-off for {role}"
    for field in ("Name", "Signature", "Date and time"):
        assert signoff.count(field) == len(SIGN_OFF), field
    assert "Signature" not in flat("".join(pages[1:]))
    assert "Who handled what" not in flat(pages[1]) and "Counts at wrap" not in flat(pages[1])
    # What did not fit says where the rest is; the caps keep it to one page.
    assert "6 of the 18 weapons that moved" in one
    assert "3 of 8; all in “Incidents”" in one
    # It says on which page the checkpoint is, and that page is the last one.
    assert f"on the last page (page {len(pages)})" in one


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_the_checkpoint_key_and_command_are_on_the_last_page_only(busy: Busy,
                                                                 paper: str) -> None:
    pages = pages_of(busy.pdfs[paper])
    cp = busy.report.checkpoint
    assert cp is not None
    last = pages[-1]
    for line in cp.note.splitlines():
        if line:
            assert line in last.splitlines(), f"note line not on the last page: {line!r}"
    assert busy.report.verifier_key in last.splitlines()
    assert "coldcheck ledger verify --checkpoint note.txt --key KEY" in last
    for n, page in enumerate(pages[:-1], start=1):
        assert busy.report.verifier_key not in page, f"verifier key on page {n}"
        assert "ledger verify" not in page, f"verification command on page {n}"
        assert cp.note.splitlines()[2] not in page, f"the tree hash on page {n}"


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_no_weapon_row_is_split_across_pages(busy: Busy, paper: str) -> None:
    pages = pages_of(busy.pdfs[paper])
    start = next(i for i, p in enumerate(pages) if "Weapons at the end of the day" in p)
    end = next(i for i, p in enumerate(pages)  # page 1 names the section too
               if i >= start and "Ammunition lots at the end of the day" in p)
    assert end - start >= 2, "the weapons table should span at least three pages"
    section = []
    for i in range(start, end + 1):
        text = pages[i]
        if i == start:
            text = text[text.index("Weapons at the end of the day"):]
        if i == end:
            text = text[:text.index("Ammunition lots at the end of the day")]
        section.append(flat(text))
    for serial, model in zip(busy.serials, busy.models, strict=True):
        # A row holds the id and serial (first cell) and the make, model, kind and
        # calibre (second cell): all of it is on one page.
        on = [i for i, text in enumerate(section) if serial in text]
        assert len(on) == 1, f"{serial} is on {len(on)} pages of the weapons table"
        text = section[on[0]]
        row = re.search(re.escape(serial) + r".{0,40}?" + re.escape("Prop Workshop " + model)
                        + r".{0,60}?non-firing replica, \.45 Colt", text)
        assert row, f"the row of {serial} is split: {text[text.index(serial):][:300]!r}"


def test_the_incident_sentences_and_roles_read_as_plain_english(busy: Busy) -> None:
    text = flat("".join(pages_of(busy.pdfs["a4"])))
    assert "Live ammunition found" in text and "Misfire" in text
    assert "as 1st AD" in text and "as safety supervisor" in text
    assert "first_ad" not in text and "safety_supervisor" not in text
    assert "CUSTODY_DIRECT_HANDOFF" in text and "AMMO_LIVE_FORBIDDEN" in text
    # A refusal reads as a sentence, its rule code printed small after it, never
    # before it as a heading (checked in the HTML: text extraction reorders sizes).
    html = " ".join(render_html(busy.report).split())
    assert ("cannot hand weapon W4 to Dana Whitfield (1st AD): weapons pass only armorer "
            "→ performer → armorer <span class=\"id\">CUSTODY_DIRECT_HANDOFF</span>") in html
    assert "CUSTODY_DIRECT_HANDOFF</span>:" not in html
    # Alerts: the sentence first, then the code.
    assert re.search(r"<li>incident INC1 \(live ammunition\) open: [^<]*"
                     r"<span class=\"id\">INCIDENT_OPEN</span></li>", html)
