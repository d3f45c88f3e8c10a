"""The board at a glance (issue 15 part 3): the summary strip (weapons out, hot,
frozen, overdue) first, then the weapon cards, then the alerts, with alerts from
wrapped days or closed incidents folded into an "earlier" section; the menu
behind a button on a phone; a newly overdue or frozen weapon flashes and sounds
once, and the mute button is remembered. Screenshots go to tests/e2e/screenshots/.

Every check waits for what the page shows or does, never for a length of time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect
from web_support import PHONE, PINS, PROD, TABLET, Served, Tablet, page_errors


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
