"""The board at a glance (issue 15 part 3): the summary strip (weapons out, hot,
frozen, overdue) first, then the weapon cards, then the alerts, with alerts from
wrapped days or closed incidents folded into an "earlier" section; the menu
behind a button on a phone; a newly overdue or frozen weapon flashes and sounds
once, and the mute button is remembered. Screenshots go to tests/e2e/screenshots/.

Every check waits for what the page shows or does, never for a length of time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect
from web_support import PHONE, PINS, PROD, TABLET, Served, Tablet, dump, page_errors


def busy_day(web_server: Served) -> dict[str, str]:
    """A second shooting day on the demo, built through the services: the Glock
    loaded with blanks and issued to Rita an hour ago for a 30-minute hot scene
    (out, hot, overdue); the SAA replica issued to Alex as long ago (out, overdue);
    the 1911 replica issued to Chris a minute ago (out); a complaint filed today.
    Left from the demo day: incident INC1 (live rounds at intake), still open.
    Returns the weapon ids by key."""
    from coldcheck.services import actions as a
    from coldcheck.services.context import context

    store = web_server.app.state.coldcheck.store  # the server's own store and cache
    ctx = context(web_server.settings, PROD, store=store)
    st = store.state(PROD)
    who = {p.name: p.id for p in st.people.values()}
    sam, ad, sup, rita, alex, chris = (who[n] for n in (
        "Sam Reyes", "Dana Whitfield", "Lee Okafor", "Rita Vance", "Alex Stone", "Chris Bell"))
    serial = {w.serial: w.id for w in st.weapons.values()}
    pistol, saa, m1911 = serial["GL17-BK-0932"], serial["REP-SAA-001"], serial["REP-1911-002"]
    lot = next(x.id for x in st.lots.values() if x.supplier_lot == "B9-FULL-8841")
    now = datetime.now(UTC)
    t = [now - timedelta(minutes=70)]

    def at() -> datetime:
        t[0] += timedelta(seconds=20)
        return t[0]

    a.open_day(ctx, date=now.date().isoformat(), actor=ad, at=at())
    hot = a.plan_scene(ctx, actor=ad, at=at(), name="Sc. 30: corral (hot)", hot=True,
                       rehearsal=False, weapons=[pistol], performers=[rita],
                       min_distance_m=8, overdue_minutes=30)[0].payload["scene"]
    rehearsal = a.plan_scene(ctx, actor=ad, at=at(), name="Sc. 31 rehearsal: porch",
                             hot=False, rehearsal=True, weapons=[saa, m1911],
                             performers=[alex, chris], overdue_minutes=30)[0].payload["scene"]
    a.hold_meeting(ctx, scenes=[hot], led_by=sam, attendees=[ad, sup, rita], at=at())
    ins = a.inspect_weapon(ctx, weapon=pistol, armorer=sam, at=at(),
                           positions=[{"position": "chamber", "content": "blank"}],
                           barrel_clear=True, magazine_checked=True, lot=lot,
                           magazine_rounds=9, scene=hot)[0].payload["inspection"]
    a.witness_inspection(ctx, inspection=ins, witness=rita, pin=PINS["rita"], at=at())
    a.witness_inspection(ctx, inspection=ins, witness=sup, pin=PINS["lee"], at=at())
    a.issue_weapon(ctx, weapon=pistol, armorer=sam, performer=rita, scene=hot, at=at())
    empty6 = [{"position": f"cylinder {i}", "content": "empty"} for i in range(1, 7)]
    a.inspect_weapon(ctx, weapon=saa, armorer=sam, positions=empty6, barrel_clear=True,
                     magazine_checked=False, at=at())
    a.issue_weapon(ctx, weapon=saa, armorer=sam, performer=alex, scene=rehearsal, at=at())
    a.file_complaint(ctx, by=chris, text="The porch is too dark to see the cart.", at=at())
    t[0] = now - timedelta(minutes=2)
    a.inspect_weapon(ctx, weapon=m1911, armorer=sam, at=at(), barrel_clear=True,
                     positions=[{"position": "chamber", "content": "empty"}],
                     magazine_checked=True)
    a.issue_weapon(ctx, weapon=m1911, armorer=sam, performer=chris, scene=rehearsal, at=at())
    return {"pistol": pistol, "saa": saa, "m1911": m1911, "revolver": serial["COLT-SAA-5521"],
            "sam": sam, "ad": ad}


def services(web_server: Served) -> Any:
    from coldcheck.services.context import context

    return context(web_server.settings, PROD, store=web_server.app.state.coldcheck.store)


def freeze(web_server: Served, weapon: str, by: str) -> None:
    from coldcheck.services import actions as a

    a.report_incident(services(web_server), kind="other", description=f"{weapon}: cracked frame",
                      weapons=[weapon], lots=[], reported_by=by)


def note(web_server: Served, by: str) -> int:
    """A note on the last event: the board refreshes; returns the event count after it."""
    from coldcheck.services import actions as a

    ctx = services(web_server)
    head = ctx.store.state(PROD).seq
    a.add_note(ctx, refers_to=head - 1, text="checked by the board test", actor=by)
    return head + 1


def registered_phone(new_tablet: Any) -> Tablet:
    """A phone the armorer registered, then the safety supervisor signed in."""
    tab: Tablet = new_tablet(PHONE)
    tab.sign_in("sam")
    tab.register("Lee's phone")
    tab.sign_out()
    tab.sign_in("lee")
    return tab


def cls(name: str) -> re.Pattern[str]:
    """Matches a class attribute holding the class ``name``."""
    return re.compile(rf"(^|\s){name}(\s|$)")


def tile(tab: Tablet, name: str) -> Any:
    return tab.page.locator(f".strip .tile[data-count={name}]")


def test_the_strip_counts_first_then_the_cards_then_the_alerts_with_earlier_ones_folded(
        new_tablet: Any, web_server: Served) -> None:
    ids = busy_day(web_server)
    tab: Tablet = new_tablet(TABLET)
    tab.sign_in("lee")
    tab.open("")
    for name, n in (("out", 3), ("hot", 1), ("frozen", 0), ("overdue", 2)):
        expect(tile(tab, name).locator(".n")).to_have_text(str(n))
    expect(tile(tab, "hot")).to_contain_text("blanks loaded")
    expect(tile(tab, "overdue")).to_have_class(cls("on"))  # in alarm colours
    expect(tile(tab, "frozen")).not_to_have_class(cls("on"))
    # In the page and on the screen: the strip, then every weapon card, then the alerts.
    order = tab.page.evaluate("""() => {
        const strip = document.querySelector('.strip'), cards = document.querySelector('.weapons'),
              alerts = document.querySelector('section.alerts');
        const after = (a, b) => !!(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
        const top = el => el.getBoundingClientRect().top;
        const bottom = el => el.getBoundingClientRect().bottom;
        return {dom: after(strip, cards) && after(cards, alerts),
                screen: bottom(strip) <= top(cards) && bottom(cards) <= top(alerts)};
    }""")
    assert order == {"dom": True, "screen": True}, order
    # Today's alerts show; incident INC1 (opened on the wrapped demo day) is folded away.
    now = tab.page.locator("ul.alerts-now")
    expect(tab.page.locator("#alerts-h")).to_have_text("Alerts (3)")
    expect(now.locator("li")).to_have_count(3)
    expect(now).to_contain_text(f"{ids['pistol']} Glock 17 blank-firing is overdue: with Rita")
    expect(now).to_contain_text(f"{ids['saa']} Denix SAA non-firing replica is overdue")
    expect(now).to_contain_text("COMPLAINT_ACKNOWLEDGE")
    expect(now).not_to_contain_text("INC1")
    earlier = tab.page.locator("details.earlier")
    expect(earlier).not_to_have_attribute("open", "")
    expect(earlier.locator("summary")).to_contain_text("Earlier (1)")
    inc1 = earlier.locator("li", has_text="INCIDENT_OPEN")
    expect(inc1).to_be_hidden()
    earlier.locator("summary").click()
    expect(inc1).to_be_visible()
    expect(inc1.get_by_role("link", name="Open INC1")).to_be_visible()
    tab.shot("tablet-board-strip")
    assert not tab.axe(), dump(tab.axe())
    # The board refreshes by itself: the earlier section stays open.
    seq = note(web_server, ids["ad"])
    expect(tab.page.locator(".dayline")).to_contain_text(f"{seq} events")
    expect(tab.page.locator("details.earlier")).to_have_attribute("open", "")
    assert not page_errors(tab), page_errors(tab)


def test_a_phone_shows_the_strip_and_the_first_cards_with_the_menu_behind_a_button(
        new_tablet: Any, web_server: Served) -> None:
    busy_day(web_server)
    tab = registered_phone(new_tablet)
    tab.open("")
    page = tab.page
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_contain_text("Board")  # where you are
    sections = page.get_by_role("navigation", name="Sections")
    expect(sections).to_be_hidden()
    # The first screen (390 × 844): the report button, the whole strip, the first card.
    expect(page.get_by_role("link", name="⚠ Report discharge / misfire")).to_be_in_viewport()
    expect(page.locator(".strip ul")).to_be_in_viewport(ratio=1)
    expect(page.locator(".weapons > li").first).to_be_in_viewport()
    tab.shot("phone-board-strip")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow}px of sideways scrolling"
    # Open, every section is a big target; choosing one goes there.
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sections).to_be_visible()
    link = sections.get_by_role("link", name="Incidents")
    box = link.bounding_box()
    assert box is not None and box["height"] >= 48 and box["width"] >= 120, box
    tab.shot("phone-board-menu-open")
    assert not tab.axe(), dump(tab.axe())
    link.click()
    page.wait_for_url(f"**/p/{PROD}/incidents")
    expect(page.get_by_role("button", name="Menu")).to_contain_text("Incidents")
    expect(page.get_by_role("navigation", name="Sections")).to_be_hidden()
    assert not page_errors(tab), page_errors(tab)


def test_a_newly_frozen_weapon_flashes_and_sounds_once_and_the_mute_is_remembered(
        new_tablet: Any, web_server: Served) -> None:
    ids = busy_day(web_server)
    tab: Tablet = new_tablet(TABLET)
    tab.sign_in("lee")
    tab.open("")
    page = tab.page
    sound = page.get_by_role("button", name="Mute alarms")
    expect(sound).to_have_attribute("aria-pressed", "false")
    # First sight of the two overdue weapons: they flash, and one alarm sounds.
    expect(page.locator(f"#board-{ids['pistol']} .flag.overdue")).to_have_class(cls("flash"))
    expect(tile(tab, "overdue")).to_have_class(cls("flash"))
    expect(sound).to_have_attribute("data-alarms", "1")
    # Browsers let a page play sound only after a tap on it: the board says so.
    hint = page.locator(".sound-hint")
    expect(hint).to_have_text("Tap once to allow the alarm sound.")
    page.locator("h1").click()
    expect(hint).to_be_hidden()
    # A weapon frozen while the board is open: it flashes and sounds, once.
    freeze(web_server, ids["revolver"], ids["sam"])
    flag = page.locator(f"#board-{ids['revolver']} .flag.frozen")
    expect(flag).to_have_class(cls("flash"))
    expect(tile(tab, "frozen").locator(".n")).to_have_text("1")
    expect(tile(tab, "frozen")).to_have_class(cls("flash"))
    expect(sound).to_have_attribute("data-alarms", "2")
    animation = flag.evaluate("el => getComputedStyle(el).animationName")
    assert animation == "alarm-flash", animation
    seq = note(web_server, ids["ad"])  # the board refreshes: no new alarm
    expect(page.locator(".dayline")).to_contain_text(f"{seq} events")
    expect(sound).to_have_attribute("data-alarms", "2")
    tab.shot("tablet-board-frozen-flash")
    # Muted, and still muted after a reload; what was seen does not sound again.
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "true")
    page.reload()
    sound = page.get_by_role("button", name="Mute alarms")
    expect(sound).to_have_attribute("aria-pressed", "true")
    expect(tile(tab, "frozen").locator(".n")).to_have_text("1")
    expect(page.locator(f"#board-{ids['revolver']} .flag.frozen")).not_to_have_class(cls("flash"))
    # Muted, a new frozen weapon still flashes, silently.
    freeze(web_server, ids["m1911"], ids["sam"])
    expect(page.locator(f"#board-{ids['m1911']} .flag.frozen")).to_have_class(cls("flash"))
    assert sound.get_attribute("data-alarms") is None  # no alarm since the reload
    assert page.evaluate("localStorage.getItem('coldcheck.board.muted')") == "1"
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "false")
    assert not page_errors(tab), page_errors(tab)


def test_with_reduced_motion_a_new_alarm_is_ringed_not_flashed(
        new_tablet: Any, web_server: Served) -> None:
    ids = busy_day(web_server)
    tab: Tablet = new_tablet(TABLET)
    tab.page.emulate_media(reduced_motion="reduce")
    tab.sign_in("lee")
    tab.open("")
    flag = tab.page.locator(f"#board-{ids['pistol']} .flag.overdue")
    expect(flag).to_have_class(cls("flash"))
    style = flag.evaluate("el => { const s = getComputedStyle(el);"
                          " return [s.animationName, s.outlineStyle]; }")
    assert style == ["none", "solid"], style
    assert not page_errors(tab), page_errors(tab)


def test_without_javascript_the_phone_menu_stays_open_and_no_mute_button_shows(
        chromium: Any, web_server: Served) -> None:
    ctx = chromium.new_context(viewport=PHONE, base_url=web_server.url,
                               java_script_enabled=False)
    try:
        tab = Tablet(ctx.new_page(), web_server.url)
        tab.sign_in("lee")
        tab.open("")
        sections = tab.page.get_by_role("navigation", name="Sections")
        expect(sections.get_by_role("link", name="Incidents")).to_be_visible()
        expect(tab.page.locator(".menu-toggle")).to_be_hidden()
        expect(tab.page.locator("#alarm-sound")).to_be_hidden()
        expect(tile(tab, "out").locator(".n")).to_have_text("0")
    finally:
        ctx.close()
