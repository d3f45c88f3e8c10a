"""Scanning: the QR codes coldcheck prints for labels and badges are decoded in
the browser by the vendored decoder (no CDN, no network), from the camera or a
photo; typing the code always works too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from web_support import PROD, page_errors


def test_a_photo_of_a_printed_weapon_label_is_decoded_on_the_tablet_and_opens_the_weapon(
        new_tablet: Any, tmp_path: Path) -> None:
    tab = new_tablet()
    tab.sign_in("sam")
    label = tab.page.request.get(f"{tab.base}/p/{PROD}/labels/weapon/W3.png")
    assert label.status == 200 and label.headers["content-type"] == "image/png"
    photo = tmp_path / "label.png"
    photo.write_bytes(label.body())
    tab.open("scan")
    tab.page.get_by_role("button", name="Scan with the camera").click()
    expect(tab.page.get_by_role("dialog", name="Scan a QR code")).to_be_visible()
    tab.page.locator("#scanner-photo").set_input_files(str(photo))
    tab.page.wait_for_url(re.compile(r".*/weapons/W3$"))
    expect(tab.page.locator("h1")).to_contain_text("W3 · Colt M4 blank-firing")
    assert not page_errors(tab), page_errors(tab)


def test_a_scanned_badge_code_names_its_person_whatever_the_letter_case(
        new_tablet: Any) -> None:
    tab = new_tablet()
    tab.sign_in("sam")
    tab.open("weapons/W1")
    tab.page.get_by_text("Hand W1 to someone else").click()
    found = tab.page.evaluate("""async () => {
        const r = await fetch(location.pathname.replace(/weapons.*/, 'resolve?code=badge-rita'));
        return r.json();
    }""")
    assert found["kind"] == "person" and found["id"] == "P7", found


def test_typing_a_serial_opens_the_weapon_and_an_unknown_code_says_not_found(
        new_tablet: Any) -> None:
    tab = new_tablet()
    tab.sign_in("lee")
    tab.open("scan")
    tab.page.get_by_label(re.compile("Or type it")).fill("gl17-bk-0932")
    tab.page.get_by_role("button", name="Open").click()
    tab.page.wait_for_url(re.compile(r".*/weapons/W2$"))
    tab.open("scan")
    tab.page.get_by_label(re.compile("Or type it")).fill("NO-SUCH-THING")
    tab.page.get_by_role("button", name="Open").click()
    expect(tab.page.locator(".problem")).to_contain_text("NOT_FOUND")
    expect(tab.page.get_by_label(re.compile("Or type it"))).to_have_value("NO-SUCH-THING")
