"""The incident page and the labels page in the browser, as a person reads them.

The incident page heads with what happened in plain English ("Misfire"), its id
and rule code small beside the words, never as the headline; its timelines read
role names as words ("as 1st AD") and refusals as sentences, their codes apart;
it links the evidence package to those allowed to export it. The labels page
prints one label or a chosen set at a sticker size, as PDF. Screenshots go to
tests/e2e/screenshots/ for review."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from web_support import TABLET, page_errors

CODE = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")  # a rule code such as AMMO_LOT_QUARANTINED


def test_the_incident_page_reads_as_plain_english_and_links_its_evidence(
        new_tablet: Any) -> None:
    tab = new_tablet(TABLET)
    tab.sign_in("sam")
    assert tab.open("incidents/INC2").status == 200
    tab.shot("paper-incident")
    h1 = tab.page.locator("h1")
    assert h1.inner_text().startswith("Misfire")
    assert h1.locator("small.code").inner_text() == "INC2"  # the id small, beside
    assert "·" not in h1.inner_text()
    facts = tab.page.locator("dl.facts").inner_text()
    assert "Rifle failed to fire on take 4" in facts
    assert tab.page.locator("dl.facts small.code").inner_text() == "INCIDENT_DISCHARGE"
    # Timelines: roles as words, and refusals as sentences with their codes apart.
    sentences = tab.page.locator("ol.timeline .tl-text").all_inner_texts()
    assert sentences
    joined = "\n".join(sentences)
    assert "as 1st AD" in joined and "first_ad" not in joined
    assert "REFUSED" not in joined and "INCIDENT INC2" not in joined
    assert "Sam Reyes could not inspect W3: weapon W3 is frozen" in joined
    assert "Incident opened: Misfire. Rifle failed to fire" in joined
    for s in sentences:
        assert not CODE.search(s), f"a code inside the sentence: {s!r}"
    codes = tab.page.locator("ol.timeline small.code").all_inner_texts()
    assert {"CUSTODY_WEAPON_FROZEN", "AMMO_LOT_QUARANTINED", "INCIDENT_DISCHARGE"} <= set(codes)
    # The evidence package, one click away, and it is the ZIP.
    link = tab.page.get_by_role("link", name="Download the evidence package (ZIP)")
    href = link.get_attribute("href")
    assert href == "/api/v1/productions/dusty-trails/incidents/INC2/evidence.zip"
    r = tab.page.request.get(tab.base + href)
    assert r.status == 200 and r.headers["content-type"] == "application/zip"
    assert r.body()[:2] == b"PK"
    assert not page_errors(tab)


def test_the_incident_list_heads_each_card_in_words(new_tablet: Any) -> None:
    tab = new_tablet(TABLET)
    tab.sign_in("sam")
    tab.open("incidents")
    heads = tab.page.locator(".cards h2").all_inner_texts()
    assert any(h.startswith("Live ammunition found") for h in heads), heads
    assert all("_" not in h and "·" not in h for h in heads), heads


def test_who_may_not_export_sees_no_evidence_link(new_tablet: Any) -> None:
    tab = new_tablet(TABLET)
    tab.sign_in("alex")  # a performer: incident.export is not theirs
    assert tab.open("incidents/INC2").status == 200
    assert tab.page.get_by_role("link", name=re.compile("evidence package")).count() == 0


def test_the_labels_page_prints_a_chosen_set_at_a_sticker_size(new_tablet: Any,
                                                              tmp_path: Path) -> None:
    if not (shutil.which("pdfinfo") and shutil.which("zbarimg") and shutil.which("pdftoppm")):
        pytest.skip("poppler-utils and zbar-tools are not installed")
    tab = new_tablet(TABLET)
    tab.sign_in("sam")
    tab.open("labels")
    tab.shot("paper-labels")
    captions = tab.page.locator("figcaption").all_inner_texts()
    for c in captions:  # no separator hangs at the end or start of a line
        for line in c.splitlines():
            assert not line.strip().startswith("·") and not line.strip().endswith("·"), c
    tab.page.get_by_label("Choose W1").check()
    tab.page.get_by_label("Choose L2").check()
    tab.page.get_by_label("Sticker size").select_option("62mm")
    with tab.page.expect_popup() as popup:
        tab.page.get_by_role("button", name="Open the labels as PDF").click()
    url = popup.value.url
    assert re.search(r"/labels\.pdf\?size=62mm&id=W1&id=L2$", url), url
    pdf = tmp_path / "chosen.pdf"
    r = tab.page.request.get(url)
    assert r.status == 200 and r.headers["content-type"] == "application/pdf"
    pdf.write_bytes(r.body())
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9", str(pdf)], capture_output=True,
                          text=True, check=True).stdout
    sizes = re.findall(r"Page +\d+ size: +([0-9.]+) x ([0-9.]+) pts", info)
    assert [(round(float(w)), round(float(h))) for w, h in sizes] == [(176, 82), (176, 82)]
    subprocess.run(["pdftoppm", "-png", "-r", "300", str(pdf), str(tmp_path / "p")],
                   check=True)
    got = [subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable",
                           str(p)], capture_output=True, text=True).stdout.strip()
           for p in sorted(tmp_path.glob("p*.png"))]
    assert got == ["weapon:W1", "lot:L2"]
    # One label alone: the link beside it.
    one = tab.page.get_by_role("link", name="2 × 1 in sticker of W3 (PDF)")
    assert one.get_attribute("href") == \
        "/api/v1/productions/dusty-trails/labels.pdf?id=W3&size=2x1in"
    assert not page_errors(tab)
