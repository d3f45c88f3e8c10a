"""A delivery checked in on the tablet (issue 16, part 3): the deliveries list,
each manifest line checked in (condition, storage, the count or serial found) or
marked not delivered, a difference shown on its line, and the receiving
armorer's PIN signature; axe finds nothing serious on either page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from web_support import PINS, PROD, Served, Tablet, dump, page_errors

MANIFEST = [
    {"kind": "weapon", "serial": "RH-92-001", "make": "Beretta", "model": "92FS",
     "calibre": "9mm PAK", "weapon_kind": "blank_only", "magazine_capacity": 15},
    {"kind": "accessory", "description": "Magazine, 15 rounds", "count": 3,
     "for_serial": "RH-92-001"},
    {"kind": "lot", "lot_kind": "blank", "load": "half", "calibre": "9mm PAK",
     "supplier_lot": "RH-B-44", "count": 200},
    {"kind": "accessory", "description": "Shoulder holster"},
]


def delivery(web_server: Served) -> str:
    """A rental house's delivery, opened by the armorer (as the CLI would)."""
    from coldcheck.services import rental as r
    from coldcheck.services.context import context

    store = web_server.app.state.coldcheck.store  # the server's own store and cache
    ctx = context(web_server.settings, PROD, store=store)
    sam = next(p.id for p in store.state(PROD).people.values() if p.name == "Sam Reyes")
    v = r.add_vendor(ctx, name="Stembridge Gun Rentals", kind="rental_house",
                     contact="Burbank counter", actor=sam)[0].payload["vendor"]
    return str(r.open_receipt(ctx, vendor=v, manifest=MANIFEST, armorer=sam,
                              agreement="SGR-2026-118",
                              due_back="2026-12-20")[0].payload["receipt"])


def test_a_delivery_is_checked_in_line_by_line_and_signed_on_the_tablet(
        new_tablet: Any, web_server: Served) -> None:
    rc = delivery(web_server)
    tab: Tablet = new_tablet()
    tab.sign_in("sam")
    tab.register()
    tab.open("")
    tab.page.get_by_role("link", name="Deliveries").click()
    expect(tab.page.locator("ul.cards")).to_contain_text("0 of 4 checked in")
    found = {"receipts": tab.axe()}
    tab.shot("receipts")
    tab.page.get_by_role("link", name="Stembridge Gun Rentals").first.click()
    expect(tab.page.locator("h1")).to_contain_text(f"Delivery {rc}")
    found["receipt"] = tab.axe()
    tab.shot("receipt-open")

    line = tab.page.locator("#line-1")
    line.get_by_label("Condition on arrival").fill("good, light holster wear")
    line.get_by_role("button", name="Check in line 1").click()
    expect(tab.page.locator("#line-1")).to_contain_text("Checked in")
    line = tab.page.locator("#line-2")
    line.get_by_label("Condition on arrival").fill("two magazines only")
    line.get_by_label("Count found").fill("2")
    line.get_by_role("button", name="Check in line 2").click()
    expect(tab.page.locator("#line-2")).to_contain_text("count differs")
    # Signing before every line is checked in is not offered.
    expect(tab.page.locator("#sign")).to_contain_text("Lines 3, 4 are not checked in yet")
    line = tab.page.locator("#line-3")
    line.get_by_label("Condition on arrival").fill("sealed box")
    line.get_by_role("button", name="Check in line 3").click()
    expect(tab.page.locator("#line-3")).to_contain_text("Checked in")
    tab.page.locator("#line-4").get_by_role("button", name="Not delivered").click()
    expect(tab.page.locator("#line-4")).to_contain_text("missing item")

    extra = tab.page.locator("#extra")
    extra.get_by_label("What it is").fill("Cleaning kit")
    extra.get_by_label("Condition on arrival").fill("new, sealed")
    extra.get_by_role("button", name="Check in the extra item").click()
    expect(tab.page.locator("#lines")).to_contain_text("Extra: Cleaning kit")

    sign = tab.page.locator("#sign")
    expect(sign).to_contain_text("3 differences from the manifest")
    sign.get_by_label("Your PIN").fill("0000")
    sign.get_by_role("button", name=f"Sign receipt {rc}").click()
    expect(tab.page.locator("#sign")).to_contain_text("PIN_INVALID")
    tab.page.locator("#sign").get_by_label("Your PIN").fill(PINS["sam"])
    tab.page.locator("#sign").get_by_role("button", name=f"Sign receipt {rc}").click()
    expect(tab.page.locator(".heading")).to_contain_text("Signed")
    expect(tab.page.locator(".done")).to_contain_text("Recorded")
    tab.shot("receipt-signed")
    found["signed"] = tab.axe()
    tab.page.get_by_role("link", name="Deliveries").click()
    expect(tab.page.locator("table")).to_contain_text("Stembridge Gun Rentals")
    bad = {k: v for k, v in found.items() if v}
    assert not bad, "serious accessibility violations:\n" + dump(bad)
    assert not page_errors(tab), page_errors(tab)
