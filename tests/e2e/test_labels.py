"""QR labels as PDF (documents/labels.py): the whole sheet by default, or one
label or a chosen set at a sticker size, from the CLI (``coldcheck report
labels``) and the API (``GET /labels.pdf``). Page sizes are read with poppler's
``pdfinfo``, every page's QR code is decoded with ``zbarimg`` and must name the
label printed on that page. Without those tools the tests skip; with CI=true
they fail."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_support import api_world
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.demo import run_demo
from coldcheck.documents.labels import SEP, SHEET, all_labels, choose, joined
from coldcheck.domain.errors import NotFound
from coldcheck.persistence.store import Store

IN_CI = os.environ.get("CI", "").lower() == "true"
NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
# pdfinfo's page size in points: 2 x 1 in = 144 x 72; 62 x 29 mm = 175.748 x 82.2047
SIZES_PT = {"2x1in": (144.0, 72.0), "62mm": (175.748, 82.205), "sheet": (595.276, 841.89)}


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        msg = f"{name} is not installed (scripts/test installs it from Debian's packages)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return found


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run([tool("pdfinfo"), "-f", "1", "-l", "9999", str(pdf)], check=True,
                          capture_output=True, text=True).stdout
    return [(float(w), float(h)) for w, h in
            re.findall(r"Page +\d+ size: +([0-9.]+) x ([0-9.]+) pts", info)]


def codes_per_page(pdf: Path, tmp: Path) -> list[list[str]]:
    """The QR codes zbarimg reads on each page, in page order."""
    tool("zbarimg")
    out = tmp / pdf.stem
    out.mkdir()
    subprocess.run([tool("pdftoppm"), "-png", "-r", "300", str(pdf), str(out / "p")],
                   check=True)
    found = []
    for png in sorted(out.glob("p*.png")):
        r = subprocess.run(["zbarimg", "--quiet", "-Sdisable", "-Sqrcode.enable", str(png)],
                           capture_output=True, text=True)
        assert r.returncode in (0, 4), r.stderr  # 4: no code found on that page
        found.append(sorted(x.removeprefix("QR-Code:") for x in r.stdout.splitlines()))
    return found


def sheet_codes(pdf: Path, tmp: Path) -> list[str]:
    """The QR code of each cell of a sheet's grid, in reading order, page by page."""
    from PIL import Image

    tool("zbarimg")
    out = tmp / "cells"
    out.mkdir()
    subprocess.run([tool("pdftoppm"), "-png", "-r", "300", str(pdf), str(out / "p")],
                   check=True)
    g, dpmm = SHEET, 300 / 25.4
    found = []
    for png in sorted(out.glob("p*.png")):
        page = Image.open(png)
        width_mm, height_mm = page.width / dpmm, page.height / dpmm
        cols = int((width_mm - 2 * g["margin"] + g["gap"]) // (g["width"] + g["gap"]))
        rows = int((height_mm - 2 * g["margin"] + g["gap"]) // (g["height"] + g["gap"]))
        for r in range(rows):
            for c in range(cols):
                x = g["margin"] + c * (g["width"] + g["gap"])
                y = g["margin"] + r * (g["height"] + g["gap"])
                cell = out / f"{png.stem}-{r}-{c}.png"
                page.crop((int(x * dpmm), int(y * dpmm), int((x + g["width"]) * dpmm),
                           int((y + g["height"]) * dpmm))).save(cell)
                res = subprocess.run(["zbarimg", "--quiet", "-Sdisable", "-Sqrcode.enable",
                                      str(cell)], capture_output=True, text=True)
                codes = [x.removeprefix("QR-Code:") for x in res.stdout.splitlines()]
                assert len(codes) <= 1, f"{cell.name}: {codes}"
                found += codes
    return found


def approx(size: tuple[float, float], want: tuple[float, float]) -> bool:
    return abs(size[0] - want[0]) < 0.5 and abs(size[1] - want[1]) < 0.5


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    tmp = tmp_path_factory.mktemp("labels")
    s = Settings(database_url=str(tmp / "demo.db"), key_dir=tmp / "keys",
                 argon2_profile="fast-insecure-for-tests", device="pytest")
    store = Store(s.database_url)
    run_demo(store, s, now=NOW)
    store.dispose()
    yield s


def cli(s: Settings, *args: str) -> Any:
    return CliRunner().invoke(app, ["report", "labels", "--db", s.database_url, *args])


@pytest.mark.parametrize("size", ["2x1in", "62mm"])
def test_a_chosen_set_prints_one_sticker_per_page_at_the_size_asked(
        demo: Settings, tmp_path: Path, size: str) -> None:
    pdf = tmp_path / f"set-{size}.pdf"
    r = cli(demo, "--id", "W1", "--id", "lot:L2", "--id", "P3", "--size", size,
            "--out", str(pdf), "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["size"] == size and [x["id"] for x in got["labels"]] == ["W1", "L2", "P3"]
    sizes = page_sizes(pdf)
    assert len(sizes) == 3, f"one page per label, got {len(sizes)}"
    assert all(approx(p, SIZES_PT[size]) for p in sizes), sizes
    # Each page's QR code names that page's label, in the order asked.
    assert codes_per_page(pdf, tmp_path) == [["weapon:W1"], ["lot:L2"], ["BADGE-AD"]]


def test_one_label_is_one_page(demo: Settings, tmp_path: Path) -> None:
    pdf = tmp_path / "one.pdf"
    r = cli(demo, "--id", "w3", "--size", "2x1in", "--out", str(pdf))
    assert r.exit_code == 0, r.output
    assert [approx(p, SIZES_PT["2x1in"]) for p in page_sizes(pdf)] == [True]
    assert codes_per_page(pdf, tmp_path) == [["weapon:W3"]]


def test_the_whole_sheet_is_still_the_default(demo: Settings, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = cli(demo)
    assert r.exit_code == 0, r.output
    pdf = tmp_path / "dusty-trails-labels-sheet.pdf"
    sizes = page_sizes(pdf)
    assert sizes and all(approx(p, SIZES_PT["sheet"]) for p in sizes)
    store = Store(demo.database_url)
    try:
        every = [lb.data for lb in all_labels(store.state("dusty-trails"))]
    finally:
        store.dispose()
    assert len(every) == 6 + 4 + 8  # the demo's weapons, lots (one evidence) and people
    # zbar misses codes on a page holding many: each cell of the sheet's grid is
    # cut out and read alone, left to right then top to bottom, as printed.
    assert sheet_codes(pdf, tmp_path) == every


def test_an_unknown_id_or_size_is_refused_and_writes_nothing(demo: Settings,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    r = cli(demo, "--id", "W99", "--out", str(out), "--json")
    assert r.exit_code != 0 and json.loads(r.output)["error"]["code"] == "NOT_FOUND"
    r = cli(demo, "--size", "4x6in", "--out", str(out), "--json")
    assert r.exit_code == 2 and json.loads(r.output)["error"]["code"] == "INVALID_INPUT"
    assert not out.exists()


def test_labels_never_print_a_dangling_separator(demo: Settings) -> None:
    assert joined("L1", "", None, "  ", "DUM-45") == f"L1{SEP}DUM-45"
    assert joined("", "9mm PAK", "") == "9mm PAK" and joined(None, "") == ""
    store = Store(demo.database_url)
    try:
        st = store.state("dusty-trails")
        for lb in all_labels(st):
            for text in (lb.title, *lb.lines):
                assert not text.startswith(SEP.strip()) and not text.endswith(SEP.strip()), \
                    f"{lb.id}: {text!r}"
                assert SEP * 2 not in text and f"{SEP.strip()}{SEP.strip()}" not in text
        # A replica's second line says what it is, with no calibre and no separator.
        w4 = next(lb for lb in all_labels(st) if lb.id == "W4")
        assert w4.lines[2] == "non-firing replica"
        # The serial on its own line, whole (a sticker never breaks it beside the id).
        assert w4.title == "W4" and w4.lines[0] == "S/N REP-SAA-001"
        assert [lb.id for lb in choose(st, ["L1", "l1", "lot:L1"])] == ["L1"]
        with pytest.raises(NotFound):
            choose(st, ["person:W1"])
    finally:
        store.dispose()


@pytest.fixture
def aw(sqlite_store: Store, settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(sqlite_store, settings, clock, production="labels-test") as aw:
        yield aw


def test_the_api_prints_the_chosen_labels_at_the_size_asked(aw: Any, tmp_path: Path) -> None:
    url = aw.url("/labels.pdf")
    r = aw.client.get(url, params=[("id", "W1"), ("id", "L1"), ("size", "62mm")],
                      headers=aw.h("alex", device=False))  # any member may read
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert 'filename="labels-test-labels-62mm.pdf"' in r.headers["content-disposition"]
    pdf = tmp_path / "api.pdf"
    pdf.write_bytes(r.content)
    assert [approx(p, SIZES_PT["62mm"]) for p in page_sizes(pdf)] == [True, True]
    assert codes_per_page(pdf, tmp_path) == [["weapon:W1"], ["lot:L1"]]
    r = aw.client.get(url, params={"id": "W404"}, headers=aw.h("alex", device=False))
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND", r.text
    r = aw.client.get(url, params={"size": "a5"}, headers=aw.h("alex", device=False))
    assert r.status_code == 422 and r.json()["code"] == "INVALID_INPUT", r.text
    assert aw.client.get(url).status_code == 401
