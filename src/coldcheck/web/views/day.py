"""The shooting day: opening it, scenes with their rehearsal and pointing plans,
safety meetings and briefings, meal breaks, and the wrap reconciliation."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...services import actions as a
from ..access import Outcome, Page, production_page, record, submit
from ..http import Req, flag, integer, many, optional, render, text, view


def day_ctx(page: Page) -> dict[str, Any]:
    st = page.st
    day = st.day()
    scenes = [s for s in st.scenes.values() if day is not None and s.day == day.id]
    meetings = [m for m in st.meetings.values() if day is not None and m.day == day.id]
    attended: set[str] = set()
    for m in meetings:
        attended |= set(m.attendees)
    people = list(st.people.values())
    return {"day": day, "scenes": scenes, "meetings": meetings, "attended": attended,
            "people": people, "performers": [p for p in people if "performer" in p.roles],
            "weapons": [w for w in st.weapons.values() if w.state != "retired"],
            "today": page.today,
            "unbriefed": [p for p in people if "performer" in p.roles and not p.briefed]}


@view
def day_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "day.html", page.ctx(**day_ctx(page)))


def _day_submit(req: Req, attempt: Any, block: str) -> Response:
    prod = req.param("production")
    return submit(req, attempt, template="day.html", block=block, context=day_ctx,
                  success=lambda o: f"/p/{prod}/day")


@view
def open_day(req: Req) -> Response:
    # No date: today in the production's time zone, decided with the state.
    date = (req.form.get("date") or "").strip() or None
    return _day_submit(req, lambda: record(req, "day.open", lambda ctx, call: a.open_day(
        ctx, date=date, actor=call.person)), "open_form")


@view
def meal_break(req: Req) -> Response:
    start = req.form.get("start") == "1"
    return _day_submit(req, lambda: record(req, "day.meal_break", lambda ctx, call:
                                           a.meal_break(ctx, start=start, actor=call.person)),
                       "meal_form")


@view
def plan_scene(req: Req) -> Response:
    f = req.form

    def attempt() -> Outcome:
        pointing = optional(f, "pointing_description")
        distance = optional(f, "min_distance_m")
        overdue = integer(f, "overdue_minutes", "Overdue limit (minutes)", default=30)
        dist = integer(f, "min_distance_m", "Nearest person (m)") if distance else None
        return record(req, "scene.plan", lambda ctx, call: a.plan_scene(
            ctx, actor=call.person, name=text(f, "name", "Scene name"), hot=flag(f, "hot"),
            rehearsal=flag(f, "rehearsal"), weapons=many(f, "weapons"),
            performers=many(f, "performers"), pointing=pointing is not None,
            pointing_description=pointing or "",
            overdue_minutes=overdue, min_distance_m=dist, shielded=flag(f, "shielded")))

    return _day_submit(req, attempt, "scene_form")


@view
def acknowledge(req: Req) -> Response:
    scene = req.param("scene")
    return _day_submit(req, lambda: record(req, "scene.acknowledge_pointing", lambda ctx, call:
                                           a.acknowledge_pointing(ctx, scene=scene,
                                                                  person=call.person)),
                       "scenes")


@view
def meeting(req: Req) -> Response:
    f = req.form
    return _day_submit(req, lambda: record(req, "meeting.hold", lambda ctx, call:
                                           a.hold_meeting(ctx, scenes=many(f, "scenes"),
                                                          attendees=many(f, "attendees"),
                                                          led_by=call.person)),
                       "meeting_form")


@view
def briefing(req: Req) -> Response:
    f = req.form
    return _day_submit(req, lambda: record(req, "person.brief", lambda ctx, call: a.brief(
        ctx, person=text(f, "person", "Person"), briefed_by=call.person,
        topic=text(f, "topic", "Topic"))), "briefing_form")


# ---- wrap -----------------------------------------------------------------------
def wrap_ctx(page: Page) -> dict[str, Any]:
    """What does not balance, before anyone presses Wrap."""
    st = page.st
    out_weapons = [w for w in st.weapons.values()
                   if w.state != "retired" and w.storage is None]
    lots = []
    for lt in st.lots.values():
        counted = page.req.form.get(f"count_{lt.id}", "").strip()
        diff = None
        if counted.isdigit():
            diff = int(counted) - lt.on_hand
        lots.append({"lot": lt, "counted": counted, "diff": diff,
                     "problems": _lot_problems(lt.in_weapons, diff)})
    return {"day": st.day(), "out_weapons": out_weapons, "lots": lots,
            "balanced": not out_weapons and all(not x["problems"] for x in lots)}


def _lot_problems(in_weapons: int, diff: int | None) -> list[str]:
    out = []
    if in_weapons:
        out.append(f"{in_weapons} rounds still in weapons (loaded ≠ fired + returned + lost)")
    if diff:
        out.append(f"counted {abs(diff)} {'more' if diff > 0 else 'fewer'} than the record")
    return out


@view
def wrap_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "wrap.html", page.ctx(**wrap_ctx(page)))


@view
def wrap(req: Req) -> Response:
    f = req.form
    prod = req.param("production")

    def attempt() -> Outcome:
        page = production_page(req)
        counts = {}
        for lt in page.st.lots.values():
            if (f.get(f"count_{lt.id}") or "").strip():
                counts[lt.id] = integer(f, f"count_{lt.id}", f"Count of lot {lt.id}")
        return record(req, "day.wrap", lambda ctx, call: a.wrap(
            ctx, armorer=call.person, counts=counts or None))

    return submit(req, attempt, template="wrap.html", block="wrap_form", context=wrap_ctx,
                  success=lambda o: f"/p/{prod}/wrap")
