"""The armory's own pages in the browser (issue 16): a dud recorded on the
weapon page in a hot take keeps the weapon out and says so; a second dud from
the same box that day opens a misfire incident and freezes the weapon.
Screenshots go to tests/e2e/screenshots/ for review."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from web_support import PINS, PROD, Served, Tablet, page_errors


def registered(new_tablet: Any, by: str = "sam") -> Tablet:
    tab: Tablet = new_tablet()
    tab.sign_in(by)
    tab.register()
    return tab


def hot_take(web_server: Served) -> tuple[str, str]:
    """A second shooting day on the demo: the Glock loaded with full-load blanks
    and issued to Rita for a hot scene. Returns (weapon, lot)."""
    from coldcheck.services import actions as a
    from coldcheck.services.context import context

    store = web_server.app.state.coldcheck.store  # the server's own store and cache
    ctx = context(web_server.settings, PROD, store=store)
    st = store.state(PROD)
    who = {p.name: p.id for p in st.people.values()}
    sam, ad, sup, rita = (who[n] for n in ("Sam Reyes", "Dana Whitfield", "Lee Okafor",
                                           "Rita Vance"))
    pistol = next(w for w in st.weapons.values() if w.serial == "GL17-BK-0932")
    lot = next(x for x in st.lots.values() if x.supplier_lot == "B9-FULL-8841")
    a.open_day(ctx, date="2026-12-01", actor=ad)
    scene = a.plan_scene(ctx, actor=ad, name="Sc. 20: alley (hot)", hot=True,
                         rehearsal=False, weapons=[pistol.id], performers=[rita],
                         min_distance_m=8)[0].payload["scene"]
    a.hold_meeting(ctx, scenes=[scene], led_by=sam, attendees=[ad, sup, rita])
    ins = a.inspect_weapon(ctx, weapon=pistol.id, armorer=sam,
                           positions=[{"position": "chamber", "content": "blank"}],
                           barrel_clear=True, magazine_checked=True, lot=lot.id,
                           magazine_rounds=9, scene=scene)[0].payload["inspection"]
    a.witness_inspection(ctx, inspection=ins, witness=rita, pin=PINS["rita"])
    a.witness_inspection(ctx, inspection=ins, witness=sup, pin=PINS["lee"])
    a.issue_weapon(ctx, weapon=pistol.id, armorer=sam, performer=rita, scene=scene)
    return pistol.id, lot.id


def test_a_dud_on_the_tablet_keeps_the_weapon_out_and_a_second_freezes_it(
        new_tablet: Any, web_server: Served) -> None:
    pistol, lot = hot_take(web_server)
    tab = registered(new_tablet)
    tab.open(f"weapons/{pistol}")
    form = tab.page.locator("form.dud")
    expect(form).to_contain_text("Failed to fire?")
    form.get_by_label("What happened").fill("round 3 clicked, cleared")
    form.get_by_role("button", name=f"Record a dud in {pistol}").click()
    expect(tab.page.locator("dl.facts")).to_contain_text(f"1 recorded (last from {lot}")
    expect(tab.page.locator(".heading")).to_contain_text("issued", ignore_case=True)
    expect(tab.page.locator(".banner.danger")).to_have_count(0)
    tab.shot("armory-dud-recorded")
    tab.open(f"lots/{lot}")
    expect(tab.page.locator("main")).to_contain_text("Duds (not fired)")
    # A second dud from the same box that day: a misfire, the weapon frozen.
    tab.open(f"weapons/{pistol}")
    tab.page.locator("form.dud").get_by_role("button",
                                             name=f"Record a dud in {pistol}").click()
    expect(tab.page.locator(".banner.danger")).to_contain_text("FROZEN")
    expect(tab.page.locator(".banner.danger")).to_contain_text("misfire")
    tab.shot("armory-second-dud-frozen")
    assert not page_errors(tab), page_errors(tab)


def test_cleaning_function_check_grounding_and_repair_on_the_tablet(
        new_tablet: Any, web_server: Served) -> None:
    from coldcheck.services import actions as a
    from coldcheck.services.context import context

    pistol, _lot = hot_take(web_server)
    store = web_server.app.state.coldcheck.store
    ctx = context(web_server.settings, PROD, store=store)
    who = {p.name: p.id for p in store.state(PROD).people.values()}
    a.return_weapon(ctx, weapon=pistol, performer=who["Rita Vance"],
                    armorer=who["Sam Reyes"], fired=7)
    tab = registered(new_tablet)
    tab.open("")
    queues = tab.page.locator("section.due")
    expect(queues.locator("ul.due-cleaning")).to_contain_text(f"{pistol} ")
    # 6 fired on the demo day, 7 today: never cleaned in between.
    expect(queues.locator("ul.due-cleaning")).to_contain_text(f"{pistol} Glock 17 blank-firing: "
                                                              "13 blanks fired")
    tab.shot("armory-board-due-for-cleaning")
    tab.open(f"weapons/{pistol}")
    maint = tab.page.locator("#maintenance")
    maint.get_by_label("Cleaning: what was done").fill("bore, slide, oiled")
    maint.get_by_role("button", name=f"Record cleaning of {pistol}").click()
    expect(tab.page.locator("#maintenance")).to_contain_text("Function check before next issue")
    tab.open("")
    expect(tab.page.locator("section.due ul.due-check")).to_contain_text(
        f"{pistol} Glock 17 blank-firing: cleaned since its last function check")
    tab.open(f"weapons/{pistol}")
    tab.page.locator("#maintenance").get_by_role(
        "button", name=f"{pistol} passed its function check").click()
    expect(tab.page.locator("#maintenance")).to_contain_text("No function check due.")
    # Grounding: both PINs; a wrong supervisor PIN first is refused and said so.
    maint = tab.page.locator("#maintenance")
    maint.get_by_text(f"Ground {pistol} (damaged or suspect)").click()
    maint.get_by_label("What is wrong").fill("Slide stop cracked, found at the function check")
    maint.get_by_label("Armorer", exact=True).select_option(who["Sam Reyes"])
    maint.get_by_label("Armorer's PIN").fill(PINS["sam"])
    maint.get_by_label("Safety supervisor").select_option(who["Lee Okafor"])
    maint.get_by_label("Supervisor's PIN").fill("0000")
    maint.get_by_role("button", name=f"Ground {pistol}").click()
    expect(tab.page.locator("#maintenance .problem")).to_contain_text("PIN_INVALID")
    maint = tab.page.locator("#maintenance")
    maint.get_by_label("Armorer's PIN").fill(PINS["sam"])
    maint.get_by_label("Supervisor's PIN").fill(PINS["lee"])
    maint.get_by_role("button", name=f"Ground {pistol}").click()
    expect(tab.page.locator("#maintenance")).to_contain_text("Grounded: Slide stop cracked")
    tab.page.reload()
    expect(tab.page.locator(".heading")).to_contain_text("Grounded")
    tab.shot("armory-weapon-grounded")
    tab.open("")
    expect(tab.page.locator("section.due ul.due-grounded")).to_contain_text("Slide stop")
    tab.open(f"weapons/{pistol}")
    maint = tab.page.locator("#maintenance")
    maint.get_by_label("Repair: what was done, by whom").fill("Slide stop replaced by Sam")
    maint.get_by_role("button", name=f"Record the repair of {pistol}").click()
    expect(tab.page.locator("#maintenance")).to_contain_text("repaired since its last check")
    tab.page.reload()
    expect(tab.page.locator(".heading")).to_contain_text("Returned")
    tab.shot("armory-weapon-repaired")
    assert not page_errors(tab), page_errors(tab)
