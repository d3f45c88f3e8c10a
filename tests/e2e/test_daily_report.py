"""The daily report (PDF) read the way a person and a scanner read it.

The demo production's day, plus an override and an open safety complaint, is
rendered once for the module; the tests read the PDF's text with poppler's
``pdftotext``, render page 1 with ``pdftoppm`` and decode its QR code with
``zbarimg`` (Debian's poppler-utils and zbar-tools, which scripts/test
installs), then verify the decoded note with the production's verifier key.
Without those tools the tests skip; with CI=true they fail instead."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_support import API, api_world
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.demo import run_demo
from coldcheck.documents import DailyReport, daily_report, render_pdf
from coldcheck.domain.errors import InvalidInput
from coldcheck.ledger import Verifier, open_checkpoint
from coldcheck.persistence.store import Store
from coldcheck.security import hasher
from coldcheck.services import accounts
from coldcheck.services import actions as a
from coldcheck.services.context import Context
from coldcheck.services.ledger import latest_checkpoint

IN_CI = os.environ.get("CI", "").lower() == "true"
DAY = "2026-11-24"
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)  # the demo runs 09:00-12:40 UTC
COMPLAINT = "Crew were asked to stand within 6 m of the blanks on Sc. 14; nobody stopped it."
REASON = "Kit runs the armory cart only; Sam Reyes signs for every weapon action today."


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        msg = f"{name} is not installed (scripts/test installs it from Debian's packages)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return found


def text_of(pdf: Path) -> str:
    return subprocess.run([tool("pdftotext"), "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


@dataclass
class Demo:
    settings: Settings
    ctx: Context
    report: DailyReport
    pdf: Path
    text: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("daily")
    s = Settings(database_url=str(tmp / "demo.db"), key_dir=tmp / "keys",
                 argon2_profile="fast-insecure-for-tests", device="pytest")
    store = Store(s.database_url)
    res = run_demo(store, s, now=NOW)
    ctx, people = res.ctx, res.people
    # After the wrap, the same day: an armorer who is also in props (the role
    # conflict of the Rust set), acknowledged by the supervisor; a complaint left open.
    kit = a.add_person(ctx, name="Kit Lane", roles=["armorer", "prop_master"], badge="B-KIT",
                       pin="3141", department="props", qualification_expires="2030-01-01")
    a.override(ctx, rule="PEOPLE_ROLE_CONFLICT", subject=f"person:{kit[0].payload['person']}",
               reason=REASON, supervisor=people["supervisor"])
    a.file_complaint(ctx, by=people["chris"], text=COMPLAINT)
    report = daily_report(ctx, day=DAY, at=NOW, generated_by="Morgan Hale (P5)")
    pdf = tmp / "daily.pdf"
    pdf.write_bytes(render_pdf(report))
    yield Demo(s, ctx, report, pdf, text_of(pdf))
    store.dispose()


def test_the_report_signs_a_checkpoint_for_the_entries_it_lists(demo: Demo) -> None:
    cp = demo.report.checkpoint
    assert cp is not None and cp.signed_now and cp.covers_report and cp.warning is None
    assert cp.tree_size == demo.report.head == demo.report.last_seq + 1  # type: ignore[operator]
    assert latest_checkpoint(demo.ctx) == (cp.tree_size, cp.note)
    with sqlite3.connect(demo.settings.database_url) as db:
        reason = db.execute("SELECT reason FROM checkpoints WHERE tree_size = ?",
                            (cp.tree_size,)).fetchone()
    assert reason == ("report",)
    again = daily_report(demo.ctx, day=DAY, at=NOW)  # nothing new: nothing signed
    assert again.checkpoint is not None and not again.checkpoint.signed_now
    assert again.checkpoint.note == cp.note


def test_the_pdf_prints_every_line_of_the_signed_note_and_the_verifier_key(demo: Demo) -> None:
    cp = demo.report.checkpoint
    assert cp is not None
    lines = demo.text.splitlines()
    for line in cp.note.splitlines():
        if line:  # the note's empty line is printed too, but text extraction drops it
            assert line in lines, f"checkpoint line missing or broken: {line!r}"
    assert demo.report.verifier_key in lines


def test_the_qr_code_holds_exactly_the_note_and_it_verifies_with_the_verifier_key(
        demo: Demo, tmp_path: Path) -> None:
    tool("zbarimg")
    last = demo.text.count("\f")  # the checkpoint is on the last page
    subprocess.run([tool("pdftoppm"), "-png", "-r", "150", "-f", str(last), "-l", str(last),
                    str(demo.pdf), str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    found = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sbinary", "-Sqrcode.enable",
                            str(png)], capture_output=True, check=True).stdout
    cp = demo.report.checkpoint
    assert cp is not None
    assert found == cp.note.encode("utf-8")
    verifier = Verifier.from_key(demo.report.verifier_key)
    checked = open_checkpoint(found, verifier, origin=demo.report.origin)
    assert checked.size == cp.tree_size


def test_the_pdf_shows_the_open_complaint_the_override_the_incidents_and_refusals(
        demo: Demo) -> None:
    flat = " ".join(demo.text.split())
    assert "Open safety complaints (1)" in flat
    assert COMPLAINT in flat
    assert "PEOPLE_ROLE_CONFLICT" in flat and REASON in flat
    assert "Lee Okafor (P4)" in flat  # who overrode
    # The misfire: what it froze, and how it was closed.
    assert "INC2" in flat and "Rifle failed to fire on take 4" in flat
    assert "weapons W3" in flat and "lots L3" in flat
    assert "switch to full loads" in flat
    for code in ("AMMO_LIVE_FORBIDDEN", "CUSTODY_DIRECT_HANDOFF", "AMMO_DUMMY_UNVERIFIED",
                 "SCENE_POINTING_PLAN"):
        assert code in flat
    # Witnessed inspections, the safety meeting, the timeline with seq numbers.
    assert "Dana Whitfield (P3) as 1st AD" in flat
    assert "Safety meeting M1 led by Sam Reyes (P1), 7 attending" in flat
    assert "Day D1 wrapped" in flat
    assert "Production day 2026-11-24" in flat


def test_no_secret_reaches_the_report(demo: Demo) -> None:
    pem = (demo.settings.resolved_key_dir() / "dusty-trails.ed25519").read_text()
    body = "".join(x for x in pem.splitlines() if x and not x.startswith("-----"))
    raw = base64.b64decode(body)[-32:]  # the Ed25519 private key itself
    assert body[-20:] not in demo.text and raw not in demo.pdf.read_bytes()
    for pin in ("4821", "2640", "9152", "3141"):  # witness PINs of the demo
        assert pin not in demo.text


def test_a_day_without_entries_says_so_and_still_lists_every_open_complaint(
        demo: Demo) -> None:
    r = daily_report(demo.ctx, day="2026-11-25", at=NOW)
    assert r.timeline == [] and r.first_seq is None
    assert [c["text"] for c in r.complaints_open] == [COMPLAINT]
    assert r.checkpoint is not None and not r.checkpoint.signed_now
    before = daily_report(demo.ctx, day="2026-11-01", at=NOW)  # before the production
    assert before.timeline == [] and before.weapons == [] and before.complaints_open == []


@pytest.mark.parametrize("day", ["2026-11-31", "24/11/2026"])
def test_a_day_that_is_not_a_date_is_invalid_input(demo: Demo, day: str) -> None:
    with pytest.raises(InvalidInput) as e:
        daily_report(demo.ctx, day=day, at=NOW)
    assert e.value.code == "INVALID_INPUT"


def test_the_cli_writes_the_pdf_and_a_bad_day_exits_2(demo: Demo, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLDCHECK_KEY_DIR", str(demo.settings.resolved_key_dir()))
    monkeypatch.delenv("COLDCHECK_DATABASE_URL", raising=False)
    runner = CliRunner()
    out = tmp_path / "day25.pdf"
    r = runner.invoke(app, ["report", "daily", "--db", demo.settings.database_url, "--day",
                            "2026-11-25", "--out", str(out), "--paper", "letter", "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["file"] == str(out) and got["entries"] == 0 and got["paper"] == "letter"
    assert got["open_complaints"] and got["checkpoint"]["tree_size"] == demo.report.head
    assert out.read_bytes().startswith(b"%PDF-")
    flat = " ".join(text_of(out).split())
    assert "No ledger entries were recorded on this day." in flat
    assert COMPLAINT in flat
    r = runner.invoke(app, ["report", "daily", "--db", demo.settings.database_url, "--day",
                            "2026-02-30", "--out", str(tmp_path / "bad.pdf"), "--json"])
    assert r.exit_code == 2
    assert json.loads(r.output)["error"]["code"] == "INVALID_INPUT"
    assert not (tmp_path / "bad.pdf").exists()


def test_the_cli_never_overwrites_a_file_or_follows_a_link_without_force(
        demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLDCHECK_KEY_DIR", str(demo.settings.resolved_key_dir()))
    monkeypatch.delenv("COLDCHECK_DATABASE_URL", raising=False)
    runner = CliRunner()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "link.pdf"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.pdf"
    dangling.symlink_to(tmp_path / "nowhere")

    def report(target: Path, *more: str) -> Any:
        return runner.invoke(app, ["report", "daily", "--db", str(copy),
                                   "--day", "2026-11-25", "--out", str(target), "--json",
                                   *more])

    # A copy of the demo with an entry since its last checkpoint: building the
    # report would sign one, so a refusal must come before it.
    copy = tmp_path / "copy.db"
    src, dst = sqlite3.connect(demo.settings.database_url), sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    r = runner.invoke(app, ["note", "1", "--text", "Cart 1 relocked after lunch", "--by", "P1",
                            "--db", str(copy), "--json"])
    assert r.exit_code == 0, r.output

    def checkpoints() -> list[tuple[int, str]]:
        db = sqlite3.connect(copy)
        try:
            return db.execute("SELECT tree_size, note FROM checkpoints ORDER BY tree_size")\
                .fetchall()
        finally:
            db.close()

    signed = checkpoints()
    for target in (victim, link, dangling):
        r = report(target)
        assert r.exit_code == 4, r.output
        assert json.loads(r.output)["error"]["code"] == "FILE_EXISTS"
    assert victim.read_text() == "keep me" and not (tmp_path / "nowhere").exists()
    # Nor a file in a folder that does not exist, nor a folder.
    for target, force in ((tmp_path / "no-such-folder" / "d.pdf", False), (tmp_path, True)):
        r = report(target, *(["--force"] if force else []))
        assert r.exit_code == 2, r.output
        assert json.loads(r.output)["error"]["code"] == "INVALID_INPUT"
    assert checkpoints() == signed, "a refused report must not sign anything"
    # --force replaces the link itself, never what it points at.
    r = report(link, "--force")
    assert r.exit_code == 0, r.output
    assert not link.is_symlink() and link.read_bytes().startswith(b"%PDF-")
    assert victim.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.fixture
def aw(sqlite_store: Store, settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(sqlite_store, settings, clock, production="report-test") as aw:
        yield aw


def test_the_api_answers_the_pdf_to_permitted_roles_only(aw: Any) -> None:
    day = aw.world.ctx.clock().date().isoformat()
    url = aw.url(f"/reports/daily/{day}.pdf")
    r = aw.client.get(url, headers=aw.h("investigator", device=False))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert f'filename="report-test-daily-{day}.pdf"' in r.headers["content-disposition"]
    r = aw.client.get(url, headers=aw.h("alex", device=False))
    assert r.status_code == 403 and r.json()["code"] == "ACTION_FORBIDDEN"
    # A member of another production only: as if this one did not exist.
    ctx = a.init_production(store=aw.world.store, settings=aw.world.ctx.settings,
                            production="elsewhere", name="Elsewhere", at=aw.clock())
    olga = a.add_person(ctx, name="Olga Out", roles=["producer"], badge="OUT-1", pin="1234",
                        at=aw.clock())[0].payload["person"]
    accounts.add_member(aw.world.store, ph=hasher("fast-insecure-for-tests"),
                        production="elsewhere", person=olga, username="outsider",
                        password="outsider-password")
    token, _ = accounts.create_token(
        aw.world.store, account_id=accounts.account_of_username(aw.world.store, "outsider"),
        production="elsewhere", name="t", hours=1, max_hours=48, at=aw.clock())
    for where in (url, url.replace("report-test", "no-such-production")):
        r = aw.client.get(where, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND", r.text
    for bad in ("2026-13-01", "yesterday"):
        r = aw.client.get(aw.url(f"/reports/daily/{bad}.pdf"),
                          headers=aw.h("producer", device=False))
        assert r.status_code == 422 and r.json()["code"] == "INVALID_INPUT", r.text
    r = aw.client.get(url, params={"paper": "legal"}, headers=aw.h("producer", device=False))
    assert r.status_code == 422 and r.json()["code"] == "INVALID_INPUT"
    assert aw.client.get(f"{API}/productions/report-test/reports/daily/{day}.pdf").status_code \
        == 401


def test_the_board_links_the_producer_to_the_days_report_and_shows_performers_none(
        new_tablet: Any) -> None:
    from web_support import TABLET

    tab = new_tablet(TABLET)
    tab.sign_in("morgan")
    tab.open("")
    name = re.compile(r"^Daily report \d{4}-\d{2}-\d{2} \(PDF\)$")
    link = tab.page.get_by_role("link", name=name)
    href = link.get_attribute("href")
    assert href is not None and href.endswith(".pdf")
    r = tab.page.request.get(tab.base + href)  # the browser's own session cookie
    assert r.status == 200 and r.headers["content-type"] == "application/pdf"
    assert r.body().startswith(b"%PDF-")
    tab.sign_out()
    tab.sign_in("alex")
    tab.open("")
    assert tab.page.get_by_text("Daily report").count() == 0
