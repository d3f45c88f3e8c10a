"""The shooting day: opening it, scenes with their rehearsal and pointing plans,
safety meetings and briefings, meal breaks, and the wrap reconciliation."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

from starlette.responses import Response

from ...domain.errors import ColdcheckError, InvalidInput
from ...persistence.store import sqlite_file
from ...services import actions as a
from ...services.backup import backup
from ...services.context import context
from ...services.ledger import latest_checkpoint
from ..access import Outcome, Page, authorised, production_page, record, signed_in, submit
from ..errors import Problem
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
            "people": people, "performers": [p for p in people if p.receives],
            "weapons": [w for w in st.weapons.values() if w.state != "retired"],
            "today": page.today,
            "unbriefed": [p for p in people if p.receives and not p.briefed]}


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
    day = st.day()
    lots = []
    for lt in wrap_lots(page):
        counted = page.req.form.get(f"count_{lt.id}", "").strip()
        diff = None
        if counted.isdigit():
            diff = int(counted) - lt.on_hand
        lots.append({"lot": lt, "counted": counted, "diff": diff,
                     "problems": _lot_problems(lt.in_weapons, diff)})
    return {"day": day, "out_weapons": out_weapons, "lots": lots,
            "untouched": len(st.lots) - len(lots),
            "balanced": not out_weapons and all(not x["problems"] for x in lots)}


def wrap_lots(page: Page) -> list[Any]:
    """The lots the wrap count asks for: those used or moved since the day opened
    (any event names them: received, verified, loaded, returned, fired, lost,
    destroyed) and any with rounds still in weapons. A box nobody opened today is
    not recounted."""
    st = page.st
    day = st.day()
    opened = page.seqs(day.id)[0] if day is not None and page.seqs(day.id) else None
    out = []
    for lt in st.lots.values():
        seqs = page.seqs(lt.id)
        moved = opened is not None and bool(seqs) and seqs[-1] >= opened
        if lt.in_weapons or moved:
            out.append(lt)
    return out


def _lot_problems(in_weapons: int, diff: int | None) -> list[str]:
    out = []
    if in_weapons:
        out.append(f"{in_weapons} rounds still in weapons (loaded ≠ fired + returned + lost)")
    if diff:
        out.append(f"counted {abs(diff)} {'more' if diff > 0 else 'fewer'} than the record")
    return out


def wrapped_ctx(page: Page) -> dict[str, Any]:
    """After wrap: the day just wrapped, the signed checkpoint that covers it, the
    day's report and (for those who manage the machine) a backup."""
    st = page.st
    last = max((d for d in st.days.values() if not d.open), key=lambda d: int(d.id[1:]),
               default=None)
    if st.day() is not None or last is None:
        return {"wrapped": None}
    cp = latest_checkpoint(context(page.req.state.settings, page.production,
                                   store=page.call.state.store))
    report = (f"/api/v1/productions/{page.production}/reports/daily/{last.date}.pdf"
              if page.can("report.daily") else None)
    return {"wrapped": last, "checkpoint": cp, "report_url": report,
            "backups": backup_dir(page.req.state.settings)}


def backup_dir(settings: Any) -> Path | None:
    """Where "Back up now" writes: ``<database>.backups/`` beside a SQLite file;
    None for PostgreSQL (pg_dump is its tool)."""
    db = sqlite_file(settings.database_url)
    return None if db is None else db.parent / (db.name + ".backups")


@view
def wrap_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "wrap.html", page.ctx(**wrap_ctx(page), **wrapped_ctx(page)))


@view
def backup_now(req: Req) -> Response:
    """"Back up now": services.backup, as `coldcheck backup` does (a verified copy
    of the SQLite database), for those who manage the production's machines
    (device.manage: the armorer, the producer). It records no event."""
    signed_in(req, csrf=True)
    page = production_page(req)
    authorised(req, signed_in(req), "device.manage")
    folder = backup_dir(req.state.settings)
    result: dict[str, Any] | None = None
    problem = None
    try:
        if folder is None:
            raise InvalidInput("BACKUP_UNSUPPORTED", "this server keeps its record in "
                               "PostgreSQL: back it up with pg_dump")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = req.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        db = sqlite_file(req.state.settings.database_url)
        assert db is not None
        result = backup(req.state.settings, folder / f"{db.stem}-backup-{stamp}.db").to_dict()
    except ColdcheckError as err:
        problem = Problem.from_error(err)
    ctx = page.ctx(**wrap_ctx(page), **wrapped_ctx(page))
    ctx.update(backup_result=result, problem=problem, failed="backup" if problem else None)
    return render(req, "wrap.html", ctx, block="backup_form",
                  status=problem.status if problem else 200)


@view
def wrap(req: Req) -> Response:
    f = req.form
    prod = req.param("production")

    def attempt() -> Outcome:
        page = production_page(req)
        counts = {}
        for lt in wrap_lots(page):
            if (f.get(f"count_{lt.id}") or "").strip():
                counts[lt.id] = integer(f, f"count_{lt.id}", f"Count of lot {lt.id}")
        return record(req, "day.wrap", lambda ctx, call: a.wrap(
            ctx, armorer=call.person, counts=counts or None))

    return submit(req, attempt, template="wrap.html", block="wrap_form", context=wrap_ctx,
                  success=lambda o: f"/p/{prod}/wrap")
