"""Every page at tablet size: it renders, it is screenshotted for review (CI
artifacts in tests/e2e/screenshots/), axe-core finds no serious or critical
accessibility violation, and the browser logs no error (a Content Security
Policy violation would be one)."""

from __future__ import annotations

from typing import Any

from web_support import LANDSCAPE, PHONE, TABLET, Tablet, dump, page_errors


def _open_day_with_a_scene(tab: Tablet) -> None:
    """The armorer registers the tablet; the 1st AD opens a day and plans a scene."""
    tab.sign_in("sam")
    tab.register()
    tab.sign_out()
    tab.sign_in("dana")
    tab.open("day")
    tab.page.get_by_role("button", name="Open the shooting day").click()
    tab.page.wait_for_selector("text=Recorded")
    plan = tab.page.locator("#plan-scene")
    plan.get_by_label("Scene", exact=True).fill("Sc. 21: barn standoff")
    plan.get_by_label("W1 · Colt Single Action Army (blank-adapted) (Firearm)").check()
    plan.get_by_label("Alex Stone").check()
    plan.get_by_label("Pointing at or near a person").fill(
        "Alex points past camera left; operator behind a shield")
    tab.page.get_by_role("button", name="Plan the scene").click()
    tab.page.wait_for_selector("text=Scene SC4 planned")
    tab.sign_out()


PAGES = [
    ("board", ""), ("armory", "armory"), ("intake", "intake"), ("day", "day"),
    ("weapon", "weapons/W1"), ("inspect", "weapons/W1/inspect"), ("lot", "lots/L1"),
    ("frozen-weapon-history", "weapons/W3"), ("incidents", "incidents"),
    ("incident", "incidents/INC2"), ("report", "report"), ("complaints", "complaints"),
    ("overrides", "overrides"), ("wrap", "wrap"), ("scan", "scan"), ("labels", "labels"),
    ("device", "device"), ("person", "people/P6"), ("people", "people"), ("my-pin", "me/pin"),
]


def test_every_page_renders_at_tablet_size_without_serious_accessibility_violations(
        new_tablet: Any) -> None:
    tab = new_tablet(TABLET)
    tab.go("/signin")
    found: dict[str, Any] = {}
    tab.shot("tablet-signin")
    found["signin"] = tab.axe()
    _open_day_with_a_scene(tab)
    tab.sign_in("sam")
    tab.shot("tablet-productions")
    found["productions"] = tab.axe()
    for name, path in PAGES:
        resp = tab.open(path)
        assert resp.status == 200, f"{path}: HTTP {resp.status}"
        tab.shot(f"tablet-{name}")
        found[name] = tab.axe()
    bad = {k: v for k, v in found.items() if v}
    assert not bad, "serious accessibility violations:\n" + dump(bad)
    assert not page_errors(tab), page_errors(tab)


def test_the_board_fits_landscape_tablets_and_phones_without_sideways_scrolling(
        new_tablet: Any) -> None:
    for label, size in (("landscape", LANDSCAPE), ("phone", PHONE)):
        tab = new_tablet(size)
        tab.sign_in("lee")
        for name, path in (("board", ""), ("weapon", "weapons/W3"), ("wrap", "wrap")):
            tab.open(path)
            tab.shot(f"{label}-{name}")
            overflow = tab.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{label} {path}: {overflow}px of sideways scrolling"
        assert not page_errors(tab), page_errors(tab)
