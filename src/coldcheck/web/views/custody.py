"""Custody: intake, dummy verification, inspection, witnesses, issue, return,
storage, evidence and handoffs. Each POST calls one service through the API's
Writer (access.record) and ends with POST-redirect-GET or its form again."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...domain.ammunition import BLANK_LOADS
from ...domain.common import same_calibre
from ...domain.custody import VERIFY_METHODS, WITNESS_ROLES
from ...domain.weapons import KINDS, Weapon
from ...services import actions as a
from ..access import Outcome, Page, production_page, record, submit
from ..http import FormError, Req, flag, integer, optional, render, text, view
from .board import lot_ctx, weapon_ctx


# ---- intake ------------------------------------------------------------------------
def intake_ctx(page: Page) -> dict[str, Any]:
    return {"storage": list(page.st.storage.values()), "loads": BLANK_LOADS, "kinds": KINDS,
            "lots": list(page.st.lots.values())}


@view
def intake(req: Req) -> Response:
    page = production_page(req)
    return render(req, "intake.html", page.ctx(**intake_ctx(page)))


@view
def intake_lot(req: Req) -> Response:
    f = req.form
    prod = req.param("production")

    def attempt() -> Outcome:
        kind = text(f, "kind", "Kind")
        count = integer(f, "count", "Round count")
        return record(req, "lot.receive", lambda ctx, call: a.receive_lot(
            ctx, armorer=call.person, kind=kind, calibre=text(f, "calibre", "Calibre"),
            supplier=text(f, "supplier", "Supplier"),
            supplier_lot=text(f, "supplier_lot", "Supplier lot"), count=count,
            storage=text(f, "storage", "Storage"),
            load=optional(f, "load") if kind == "blank" else None,
            found_in=optional(f, "found_in") if kind == "live" else None))

    return submit(req, attempt, template="intake.html", block="lot_form", context=intake_ctx,
                  success=lambda o: f"/p/{prod}/lots/{o.payload('ammo.lot_received', 'lot')}")


@view
def intake_weapon(req: Req) -> Response:
    f = req.form
    prod = req.param("production")

    def attempt() -> Outcome:
        chambers = integer(f, "chambers", "Chambers or cylinder positions")
        mag = integer(f, "magazine_capacity", "Magazine capacity", default=0)
        return record(req, "weapon.receive", lambda ctx, call: a.receive_weapon(
            ctx, armorer=call.person, serial=text(f, "serial", "Serial number"),
            make=text(f, "make", "Make"), model=text(f, "model", "Model"),
            calibre=text(f, "calibre", "Calibre"), kind=text(f, "kind", "Kind"),
            chambers=chambers, magazine_capacity=mag, storage=text(f, "storage", "Storage")))

    return submit(req, attempt, template="intake.html", block="weapon_form",
                  context=intake_ctx,
                  success=lambda o: f"/p/{prod}/weapons/"
                                    f"{o.payload('weapon.received', 'weapon')}")


# ---- dummy verification ---------------------------------------------------------------
@view
def verify(req: Req) -> Response:
    f = req.form
    prod, lot = req.param("production"), req.param("lot")

    def attempt() -> Outcome:
        finding = optional(f, "finding")
        count = integer(f, "count", "Rounds verified", default=0 if finding else None)
        return record(req, "lot.verify", lambda ctx, call: a.verify_rounds(
            ctx, lot=lot, count=count, method=text(f, "method", "Method"),
            armorer=call.person, failed_finding=finding), subjects=[lot])

    # Round by round (``tally``): back to the tally with the method kept, so the
    # next tap is the next round.
    method = f.get("method") or ""
    keep = f"?method={method}" if f.get("tally") and method in VERIFY_METHODS else ""
    return submit(req, attempt, template="lot.html", block="verify_form",
                  context=lambda p: {**lot_ctx(p, lot), "methods": VERIFY_METHODS,
                                     "method": method},
                  success=lambda o: f"/p/{prod}/lots/{lot}{keep}")


# ---- inspection -----------------------------------------------------------------------
def inspect_ctx(page: Page, weapon: str) -> dict[str, Any]:
    w = page.st.weapon(weapon)
    # Only lots that could go in: the weapon's calibre, dummies or blanks, not
    # quarantined (the page shows only the kind the positions say: app.js). A
    # forced other lot is refused: AMMO_CALIBRE_MISMATCH, AMMO_LOT_QUARANTINED,
    # LOT_NOT_USABLE.
    lots = [lt for lt in page.st.lots.values() if lt.kind in ("dummy", "blank")
            and same_calibre(lt.calibre, w.calibre) and not lt.quarantined]
    scenes = [s for s in page.st.scenes.values()
              if s.day == page.st.current_day and w.id in s.weapons]
    return {"w": w, "positions": w.positions(), "lots": lots, "scenes": scenes,
            "seen": page.version(w.id)}


@view
def inspect_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "inspect.html", page.ctx(**inspect_ctx(page, req.param("weapon"))))


@view
def inspect(req: Req) -> Response:
    f = req.form
    prod, weapon = req.param("production"), req.param("weapon")

    def attempt() -> Outcome:
        page = production_page(req)
        w = page.st.weapon(weapon)
        positions = []
        for i, name in enumerate(w.positions()):
            content = f.get(f"pos{i}") or ""
            if content:
                positions.append({"position": name, "content": content})
        rounds = integer(f, "magazine_rounds", "Rounds in the magazine", default=0)
        return record(req, "weapon.inspect", lambda ctx, call: a.inspect_weapon(
            ctx, weapon=weapon, armorer=call.person, positions=positions,
            barrel_clear=flag(f, "barrel_clear"), magazine_checked=flag(f, "magazine_checked"),
            lot=optional(f, "lot"), magazine_rounds=rounds, scene=optional(f, "scene")),
            subjects=[weapon])

    return submit(req, attempt, template="inspect.html", block="inspect_form",
                  context=lambda p: inspect_ctx(p, weapon),
                  success=lambda o: f"/p/{prod}/inspections/"
                                    f"{o.payload('weapon.inspected', 'inspection')}")


def inspection_ctx(page: Page, inspection: str) -> dict[str, Any]:
    insp = page.st.inspection(inspection)
    w = page.st.weapon(insp.weapon)
    scene = page.st.scenes.get(insp.scene or "")
    by = {x["person"]: x["role"] for x in insp.witnesses}
    performers = [p for p in page.st.people.values() if p.receives]
    if scene is not None:
        performers = [p for p in performers if p.id in scene.performers] or performers
    supervisors = [p for p in page.st.people.values()
                   if {"first_ad", "safety_supervisor"} & set(p.roles)]
    performer_done = next((p for p, r in by.items() if r == "performer"), None)
    ad_done = next((p for p, r in by.items() if r in ("first_ad", "safety_supervisor")), None)
    current = w.inspection == insp.id and not insp.used
    return {"insp": insp, "w": w, "scene": scene, "performers": performers,
            "supervisors": supervisors, "performer_done": performer_done, "ad_done": ad_done,
            "current": current, "seen": page.version(w.id), "roles": WITNESS_ROLES,
            "ready": current and insp.complete and performer_done and ad_done,
            "scenes": [s for s in page.st.scenes.values()
                       if s.day == page.st.current_day and w.id in s.weapons]}


@view
def inspection_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "inspection.html",
                  page.ctx(**inspection_ctx(page, req.param("inspection"))))


@view
def witness(req: Req) -> Response:
    """One witness enters their own PIN on this tablet."""
    f = req.form
    prod, inspection = req.param("production"), req.param("inspection")
    block = "witness_performer" if f.get("slot") == "performer" else "witness_ad"

    def attempt() -> Outcome:
        who = text(f, "witness", "Witness")
        pin = text(f, "pin", "PIN")
        role = optional(f, "role")
        return record(req, "inspection.witness", lambda ctx, call: a.witness_inspection(
            ctx, inspection=inspection, witness=who, pin=pin, role=role))

    return submit(req, attempt, template="inspection.html", block=block,
                  context=lambda p: inspection_ctx(p, inspection),
                  success=lambda o: f"/p/{prod}/inspections/{inspection}")


@view
def issue(req: Req) -> Response:
    f = req.form
    prod, weapon = req.param("production"), req.param("weapon")
    inspection = f.get("inspection") or ""

    def attempt() -> Outcome:
        performer = text(f, "performer", "Performer")
        scene = text(f, "scene", "Scene")
        return record(req, "weapon.issue", lambda ctx, call: a.issue_weapon(
            ctx, weapon=weapon, armorer=call.person, performer=performer, scene=scene),
            subjects=[weapon])

    if inspection:
        return submit(req, attempt, template="inspection.html", block="issue_form",
                      context=lambda p: inspection_ctx(p, inspection),
                      success=lambda o: f"/p/{prod}/weapons/{weapon}")
    return submit(req, attempt, template="weapon.html", block="next_step",
                  context=lambda p: weapon_ctx(p, weapon),
                  success=lambda o: f"/p/{prod}/weapons/{weapon}")


def _weapon_submit(req: Req, attempt: Any, block: str) -> Response:
    prod, weapon = req.param("production"), req.param("weapon")
    return submit(req, attempt, template="weapon.html", block=block,
                  context=lambda p: weapon_ctx(p, weapon),
                  success=lambda o: f"/p/{prod}/weapons/{weapon}")


def returned_counts(w: Weapon, f: Any) -> tuple[int, int]:
    """What came back, as the armorer counted it: rounds back, fired (blanks only)
    and lost must add up to what went out; nothing is assumed. (fired, lost)."""
    if not w.load_count:
        return 0, 0
    back = integer(f, "back", "Rounds back")
    fired = integer(f, "fired", "Blanks fired") if w.load_kind == "blank" else 0
    lost = integer(f, "lost", "Rounds lost")
    if min(back, fired, lost) < 0 or back + fired + lost != w.load_count:
        raise FormError(f"{w.id} went out with {w.load_count} round"
                        f"{'s' if w.load_count != 1 else ''}: {back} back + {fired} fired + "
                        f"{lost} lost is {back + fired + lost}. Count again; every round is "
                        "accounted for")
    return fired, lost


@view
def return_weapon(req: Req) -> Response:
    f = req.form
    weapon = req.param("weapon")

    def attempt() -> Outcome:
        misfire = optional(f, "misfire")
        fired, lost = returned_counts(production_page(req).st.weapon(weapon), f)
        return record(req, "weapon.return", lambda ctx, call: a.return_weapon(
            ctx, weapon=weapon, performer=text(f, "performer", "Performer"),
            armorer=call.person, fired=fired, lost=lost, misfire=misfire),
            subjects=[weapon])

    return _weapon_submit(req, attempt, "next_step")


@view
def record_dud(req: Req) -> Response:
    f = req.form
    weapon = req.param("weapon")
    return _weapon_submit(req, lambda: record(req, "weapon.dud", lambda ctx, call:
                                              a.record_dud(ctx, weapon=weapon,
                                                           armorer=call.person,
                                                           description=optional(
                                                               f, "description") or ""),
                                              subjects=[weapon]), "next_step")


@view
def clean(req: Req) -> Response:
    f = req.form
    weapon = req.param("weapon")
    return _weapon_submit(req, lambda: record(req, "weapon.clean", lambda ctx, call:
                                              a.clean_weapon(ctx, weapon=weapon,
                                                             armorer=call.person,
                                                             notes=optional(f, "notes") or ""),
                                              subjects=[weapon]), "maintenance")


@view
def function_check(req: Req) -> Response:
    weapon = req.param("weapon")
    return _weapon_submit(req, lambda: record(req, "weapon.function_check", lambda ctx, call:
                                              a.function_check(ctx, weapon=weapon,
                                                               armorer=call.person),
                                              subjects=[weapon]), "maintenance")


@view
def ground(req: Req) -> Response:
    f = req.form
    weapon = req.param("weapon")

    def attempt() -> Outcome:
        return record(req, "weapon.ground", lambda ctx, call: a.ground_weapon(
            ctx, weapon=weapon, reason=text(f, "reason", "What is wrong"),
            armorer=text(f, "armorer", "Armorer"), armorer_pin=f.get("armorer_pin") or None,
            supervisor=text(f, "supervisor", "Safety supervisor"),
            supervisor_pin=f.get("supervisor_pin") or None), subjects=[weapon])

    return _weapon_submit(req, attempt, "maintenance")


@view
def repair(req: Req) -> Response:
    f = req.form
    weapon = req.param("weapon")
    return _weapon_submit(req, lambda: record(req, "weapon.repair", lambda ctx, call:
                                              a.repair_weapon(ctx, weapon=weapon,
                                                              armorer=call.person,
                                                              repair=text(f, "repair",
                                                                          "Repair")),
                                              subjects=[weapon]), "maintenance")


@view
def store(req: Req) -> Response:
    f = req.form
    weapon = req.param("weapon")
    return _weapon_submit(req, lambda: record(req, "weapon.store", lambda ctx, call:
                                              a.store_weapon(ctx, weapon=weapon,
                                                             storage=text(f, "storage",
                                                                          "Storage"),
                                                             armorer=call.person),
                                              subjects=[weapon]), "next_step")


@view
def evidence(req: Req) -> Response:
    f = req.form
    weapon = req.param("weapon")
    return _weapon_submit(req, lambda: record(req, "weapon.record_evidence", lambda ctx, call:
                                              a.record_evidence(
                                                  ctx, weapon=weapon,
                                                  incident=text(f, "incident", "Incident"),
                                                  position=text(f, "position", "Position"),
                                                  description=text(f, "description",
                                                                   "Description"),
                                                  armorer=call.person),
                                              subjects=[weapon]), "next_step")


@view
def handoff(req: Req) -> Response:
    """Anyone may *try* to hand a weapon over; only armorer → performer and
    performer → armorer pass, every other attempt is refused and recorded."""
    f = req.form
    weapon = req.param("weapon")
    return _weapon_submit(req, lambda: record(req, "weapon.handoff", lambda ctx, call:
                                              a.handoff(ctx, weapon=weapon, from_=call.person,
                                                        to=text(f, "to", "Hand to"),
                                                        scene=optional(f, "scene"))),
                          "handoff_form")
