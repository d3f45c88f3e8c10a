"""People on the tablet: the list, adding a person who types their own PIN
twice, briefings, your own PIN, and the permission matrix (a role without the
action neither sees it nor gets it by posting a forged form). Each page is
screenshotted and checked with axe-core."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from web_support import PINS, PROD, Served, Tablet, dump, page_errors

from coldcheck.persistence.store import Store
from coldcheck.security import hasher, verify


def db(served: Served) -> Store:
    return Store(served.settings.database_url)


def events(served: Served) -> int:
    store = db(served)
    try:
        return store.head(PROD)
    finally:
        store.dispose()


def pin_is(served: Served, person: str, pin: str) -> bool:
    store = db(served)
    try:
        _, pin_hash = store.person_with_pin_hash(PROD, person)
    finally:
        store.dispose()
    return verify(hasher(served.settings.argon2_profile), pin_hash, pin)


def ledger_text(served: Served) -> str:
    """Every recorded event, as stored."""
    store = db(served)
    try:
        return dump([[e.type, e.payload] for e in store.events(PROD)])
    finally:
        store.dispose()


def registered(new_tablet: Any, by: str = "sam") -> Tablet:
    """A tablet registered by ``by`` (armorer or producer), then signed out."""
    tab: Tablet = new_tablet()
    tab.sign_in(by)
    tab.register()
    tab.sign_out()
    return tab


def csrf(tab: Tablet) -> str:
    return str(next(c["value"] for c in tab.page.context.cookies()
                    if c["name"] == "coldcheck_csrf"))


def no_serious_axe(tab: Tablet, name: str, *, reload: bool = False) -> None:
    """Screenshot, then axe-core. axe leaves empty ``style`` attributes behind, which
    htmx would copy when it swaps a form's answer in (a CSP error): a page that is
    still to be used is loaded afresh afterwards (``reload``)."""
    tab.shot(name)
    found = tab.axe()
    assert not found, f"{name}: serious accessibility violations:\n" + dump(found)
    if reload:
        tab.page.reload()


def fill_casey(form: Any) -> None:
    form.get_by_label("Full name").fill("Casey Lin")
    form.get_by_label("Performer").check()
    form.get_by_label("Badge code").fill("B-100")


def test_the_producer_adds_a_person_who_types_their_own_pin_twice(
        new_tablet: Any, web_server: Served) -> None:
    tab = registered(new_tablet, "morgan")
    tab.sign_in("morgan")
    tab.open("")
    tab.page.get_by_role("navigation", name="Sections").get_by_role("link",
                                                                    name="People").click()
    tab.page.wait_for_url(re.compile(r".*/people$"))
    expect(tab.page.locator("#person-P6")).to_contain_text("Alex Stone")
    expect(tab.page.locator("#person-P6")).to_contain_text("BADGE-ALEX")
    expect(tab.page.locator("#person-P1")).to_contain_text("✔ Until")  # Sam's qualification
    # The whole list fits the tablet: no sideways scrolling, not even inside the table.
    assert tab.page.evaluate("""() => [document.documentElement, document.querySelector(
        '#people .scroll')].every(e => e.scrollWidth <= e.clientWidth)""")
    no_serious_axe(tab, "tablet-people")
    tab.page.get_by_role("link", name="Add a person").click()
    tab.page.wait_for_url(re.compile(r".*/people/new$"))
    no_serious_axe(tab, "tablet-person-new", reload=True)

    form = tab.page.locator("#person-form")
    # Whoever adds the person is told what recording the PIN in their session means.
    expect(form).to_contain_text("The PIN is recorded in Morgan Hale's session")
    fill_casey(form)
    form.get_by_label("PIN", exact=True).fill("2468")
    form.get_by_label("The same PIN again").fill("2469")
    head = events(web_server)
    tab.page.get_by_role("button", name="Add this person").click()
    problem = tab.page.locator(".problem")
    expect(problem).to_contain_text("INVALID_FORM")
    expect(problem).to_contain_text("The two PINs differ")
    # What the producer typed is kept; the PINs never come back into the page.
    form = tab.page.locator("#person-form")
    expect(form.get_by_label("Full name")).to_have_value("Casey Lin")
    expect(form.get_by_label("Performer")).to_be_checked()
    expect(form.get_by_label("PIN", exact=True)).to_have_value("")
    assert "2468" not in tab.page.content()
    assert events(web_server) == head
    no_serious_axe(tab, "tablet-person-new-problem", reload=True)

    # The browser asks for 4 to 12 digits; without its check the server still refuses.
    form = tab.page.locator("#person-form")
    fill_casey(form)
    tab.page.eval_on_selector("#person-form form", "f => { f.noValidate = true; }")
    form.get_by_label("PIN", exact=True).fill("12")
    form.get_by_label("The same PIN again").fill("12")
    tab.page.get_by_role("button", name="Add this person").click()
    expect(tab.page.locator(".problem")).to_contain_text("PIN_WEAK")
    assert events(web_server) == head

    form = tab.page.locator("#person-form")
    form.get_by_label("PIN", exact=True).fill("2468")
    form.get_by_label("The same PIN again").fill("2468")
    tab.page.get_by_role("button", name="Add this person").click()
    tab.page.wait_for_url(re.compile(r".*/people/P9\?done="))
    done = tab.page.locator(".done")
    expect(done).to_contain_text("Recorded")
    expect(done).to_contain_text("Casey Lin")
    # Typed in the producer's session: it says so (it cannot sign a closure with her).
    expect(tab.page.locator("dl.facts")).to_contain_text("✔ Set in Morgan Hale's session")
    expect(tab.page.locator("dl.facts")).to_contain_text("✖ not yet")  # briefing
    # The producer may add people but not brief them: no briefing form here.
    expect(tab.page.get_by_role("button", name=re.compile("Record the briefing"))).to_have_count(0)
    no_serious_axe(tab, "tablet-person-added")
    assert pin_is(web_server, "P9", "2468")
    assert "2468" not in ledger_text(web_server)  # the PIN is hashed, never recorded
    tab.open("people")
    expect(tab.page.locator("#person-P9")).to_contain_text("B-100")
    expect(tab.page.locator("#person-P9")).to_contain_text("✖ Not yet")
    expect(tab.page.locator(".banner.warn")).to_contain_text("Casey Lin")
    assert not page_errors(tab), page_errors(tab)


def test_the_armorer_records_briefings_from_the_list_and_from_a_persons_page(
        new_tablet: Any, web_server: Served) -> None:
    tab = new_tablet()
    tab.sign_in("sam")
    tab.register()
    tab.open("people")
    row = tab.page.locator("#person-P3")  # Dana, the 1st AD: not briefed in the demo
    expect(row).to_contain_text("Not yet")
    row.get_by_role("button", name="Record briefing").click()
    tab.page.wait_for_url(re.compile(r".*/people\?done="))
    expect(tab.page.locator(".done")).to_contain_text("Dana Whitfield")
    expect(tab.page.locator("#person-P3")).to_contain_text("✔ Briefed")
    expect(tab.page.locator("#person-P3").get_by_role("button")).to_have_count(0)
    tab.shot("tablet-people-briefed")

    tab.open("people/P4")  # Lee, from their page, with the topic given
    tab.page.get_by_label("Topic").fill("Blank-fire safety: 6 m, shields, misfires")
    tab.page.get_by_role("button", name="Record the briefing of Lee Okafor").click()
    tab.page.wait_for_url(re.compile(r".*/people/P4\?done="))
    expect(tab.page.locator(".done")).to_contain_text("Lee Okafor (P4) received the weapons-"
                                                       "safety briefing from Sam Reyes (P1)")
    assert "Blank-fire safety: 6 m, shields, misfires" in ledger_text(web_server)
    expect(tab.page.locator("dl.facts")).to_contain_text("✔ received")
    no_serious_axe(tab, "tablet-person-briefed")
    assert not page_errors(tab), page_errors(tab)


def test_a_person_sets_their_own_pin_after_a_wrong_current_one_is_recorded(
        new_tablet: Any, web_server: Served) -> None:
    tab = registered(new_tablet)
    tab.sign_in("alex")
    tab.open("people")
    tab.page.get_by_role("link", name="My PIN").click()
    tab.page.wait_for_url(re.compile(r".*/me/pin$"))
    no_serious_axe(tab, "tablet-my-pin", reload=True)
    tab.page.get_by_label("Current PIN").fill("0000")
    tab.page.get_by_label("New PIN (4 to 12 digits)").fill("86420")
    tab.page.get_by_label("The same new PIN again").fill("86420")
    tab.page.get_by_role("button", name="Change my PIN").click()
    expect(tab.page.locator(".problem")).to_contain_text("PIN_INVALID")
    expect(tab.page.get_by_label("Current PIN")).to_have_value("")
    assert '"person.pin_failed"' in ledger_text(web_server)  # counted towards the lock
    tab.shot("tablet-my-pin-wrong")
    tab.page.get_by_label("Current PIN").fill("5566")
    tab.page.get_by_label("New PIN (4 to 12 digits)").fill("86420")
    tab.page.get_by_label("The same new PIN again").fill("86420")
    tab.page.get_by_role("button", name="Change my PIN").click()
    tab.page.wait_for_url(re.compile(r".*/me/pin\?done="))
    expect(tab.page.locator(".done")).to_contain_text("Recorded")
    assert pin_is(web_server, "P6", "86420") and not pin_is(web_server, "P6", "5566")
    assert "86420" not in ledger_text(web_server)
    assert not page_errors(tab), page_errors(tab)


def test_a_role_without_the_action_sees_no_button_and_a_forged_post_is_refused(
        new_tablet: Any, web_server: Served) -> None:
    tab = registered(new_tablet)
    tab.sign_in("alex")  # a performer: may neither add people nor brief them
    tab.open("people")
    expect(tab.page.locator("#person-P3")).to_contain_text("Not yet")
    expect(tab.page.get_by_role("link", name="Add a person")).to_have_count(0)
    expect(tab.page.get_by_role("button", name=re.compile("Record briefing"))).to_have_count(0)
    tab.open("people/P3")
    expect(tab.page.locator("#briefing")).to_have_count(0)
    resp = tab.open("people/new")
    assert resp.status == 403
    expect(tab.page.locator(".problem")).to_contain_text("ACTION_FORBIDDEN")
    tab.shot("tablet-person-new-forbidden")

    head = events(web_server)
    forged = {"csrf_token": csrf(tab), "idem": "forged-1", "name": "Eve Mallory",
              "roles": "armorer", "badge": "B-666", "qualification_expires": "2030-01-01",
              "pin": "1111", "pin_again": "1111"}
    resp = tab.page.request.post(f"{tab.base}/p/{PROD}/people", form=forged,
                                 headers={"Origin": tab.base}, max_redirects=0)
    assert resp.status == 403 and "ACTION_FORBIDDEN" in resp.text(), resp.text()
    assert "person.add" in resp.text()
    resp = tab.page.request.post(
        f"{tab.base}/p/{PROD}/people/P3/briefing", headers={"Origin": tab.base},
        form={"csrf_token": csrf(tab), "idem": "forged-2", "topic": "x", "back": "list"},
        max_redirects=0)
    assert resp.status == 403 and "ACTION_FORBIDDEN" in resp.text(), resp.text()
    assert events(web_server) == head

    # The producer adds people but does not brief: the same answer for a forged briefing.
    tab.open("people")
    tab.sign_out()
    tab.sign_in("morgan")
    tab.open("people")
    expect(tab.page.get_by_role("link", name="Add a person")).to_have_count(1)
    expect(tab.page.get_by_role("button", name=re.compile("Record briefing"))).to_have_count(0)
    resp = tab.page.request.post(
        f"{tab.base}/p/{PROD}/people/P3/briefing", headers={"Origin": tab.base},
        form={"csrf_token": csrf(tab), "idem": "forged-3", "topic": "x"}, max_redirects=0)
    assert resp.status == 403 and "person.brief" in resp.text(), resp.text()
    assert events(web_server) == head


def test_a_role_conflict_is_flagged_in_the_list_until_the_safety_supervisor_acknowledges(
        new_tablet: Any, web_server: Served) -> None:
    tab = registered(new_tablet, "morgan")
    tab.sign_in("lee")  # the safety supervisor: may add people and acknowledge conflicts
    tab.open("people/new")
    form = tab.page.locator("#person-form")
    form.get_by_label("Full name").fill("Pat Ruiz")
    form.get_by_label("Armorer", exact=True).check()
    form.get_by_label("Prop master", exact=True).check()
    form.get_by_label("Badge code").fill("B-200")
    form.get_by_label("Armorer qualification valid until").fill("2099-12-31")
    tab.page.get_by_role("button", name="Add this person").click()  # no PIN: not here yet
    tab.page.wait_for_url(re.compile(r".*/people/P9\?done="))
    expect(tab.page.locator(".done")).to_contain_text("Role conflict flagged")
    expect(tab.page.locator("dl.facts")).to_contain_text("✖ Not set")
    tab.open("people")
    row = tab.page.locator("#person-P9")
    expect(row).to_contain_text("Armorer with another department's role")
    expect(row).to_contain_text("✔ Until 2099-12-31")
    no_serious_axe(tab, "tablet-people-conflict")
    row.get_by_role("link", name=re.compile("Acknowledge")).click()
    tab.page.wait_for_url(re.compile(r".*/overrides\?rule=PEOPLE_ROLE_CONFLICT"))
    expect(tab.page.get_by_label("For (kind:id)")).to_have_value("person:P9")
    tab.page.get_by_label("Reason").fill("Small unit: Pat runs props only on non-weapon days")
    tab.page.get_by_label(re.compile("take responsibility")).check()
    tab.page.get_by_role("button", name="Record the override").click()
    tab.page.wait_for_url(re.compile(r".*/overrides\?done="))
    tab.open("people")
    expect(tab.page.locator("#person-P9")).to_contain_text("✔ Conflict acknowledged")
    expect(tab.page.locator(".banner.warn", has_text="Role conflicts")).to_have_count(0)
    assert not page_errors(tab), page_errors(tab)


def test_a_pin_the_other_witness_recorded_confirms_nothing_on_the_tablet(
        new_tablet: Any, web_server: Served) -> None:
    """The safety supervisor typed Alex's PIN in (their own session), then
    witnesses the inspection: Alex's confirmation would be the supervisor's
    second one. The tablet refuses it, says why, and the person's page says
    where the PIN was set (CUSTODY_WITNESS_REQUIRED)."""
    from coldcheck.services import actions as a
    from coldcheck.services.context import context

    store = web_server.app.state.coldcheck.store  # the server's own store and cache
    ctx = context(web_server.settings, PROD, store=store)
    st = store.state(PROD)
    who = {p.name: p.id for p in st.people.values()}
    alex, sup, sam = who["Alex Stone"], who["Lee Okafor"], who["Sam Reyes"]
    revolver = next(w for w in st.weapons.values()
                    if w.state == "in_storage" and w.is_firearm and not w.magazine_capacity)
    a.set_pin(ctx, person=alex, pin="86420", actor=sup)
    ins = a.inspect_weapon(ctx, weapon=revolver.id, armorer=sam, barrel_clear=True,
                           magazine_checked=False,
                           positions=[{"position": x, "content": "empty"}
                                      for x in revolver.positions()])
    ins_id = ins[0].payload["inspection"]

    tab = registered(new_tablet)
    tab.sign_in("sam")
    tab.open(f"inspections/{ins_id}")
    ad = tab.page.locator("#witness-ad")
    ad.get_by_label("1st AD or safety supervisor").select_option(sup)
    ad.get_by_label("Their PIN").fill(PINS["lee"])
    ad.get_by_role("button", name="Confirm: I saw every position").click()
    expect(tab.page.locator("#witness-ad")).to_contain_text("Confirmed by Lee Okafor")
    perf = tab.page.locator("#witness-performer")
    perf.get_by_label("Performer", exact=True).select_option(alex)
    perf.get_by_label("Performer's PIN").fill("86420")
    perf.get_by_role("button", name="Confirm: I saw every position").click()
    problem = tab.page.locator("#witness-performer .problem")
    expect(problem).to_contain_text("CUSTODY_WITNESS_REQUIRED")
    expect(problem).to_contain_text("Alex Stone's PIN was recorded by Lee Okafor")
    no_serious_axe(tab, "tablet-witness-pin-not-their-own")
    assert '"inspection.witness"' in ledger_text(web_server)  # the refusal is recorded
    tab.open(f"people/{alex}")
    expect(tab.page.locator("main")).to_contain_text("Set in Lee Okafor's session")
    assert not page_errors(tab), page_errors(tab)
