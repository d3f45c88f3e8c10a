"""Decisions about weapons and ammunition: intake, verification, inspection,
witnessing, issue, return, storage, evidence. Pure functions of the state:
they return the events to record or raise (refusals carry events to record).

Each decision validates its input, asks the state machine whether the move
exists (domain/weapons.py), and lists the rule checks it applies
(:mod:`coldcheck.domain.checks`), in the order their violations are reported;
it builds no violation itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from . import bounds, checks, rules
from .ammunition import BLANK_LOADS, LOT_KINDS, Lot
from .common import (
    count,
    ev,
    refuse_or_pass,
    refused_action,
    same_pins,
    text,
)
from .credentials import handler, is_handler
from .errors import Conflict, InvalidInput, Violation
from .events import NewEvent, utc_text
from .people import Person
from .state import ProductionState
from .weapons import KINDS, Weapon, next_state, refused_move

VERIFY_METHODS = ("visual", "shake", "weight", "xray", "drilled", "other")
CONTENTS = ("empty", "dummy", "blank")


def _handoff_refusal(w: Weapon, action: str, frm: str | None,
                     to: str | None) -> tuple[str, dict[str, Any]]:
    return "weapon.handoff_refused", {"weapon": w.id, "action": action, "from": frm, "to": to}


def receive_weapon(s: ProductionState, *, serial: str, make: str, model: str, calibre: str,
                   kind: str, chambers: int, magazine_capacity: int, storage: str,
                   armorer: str, at: datetime) -> list[NewEvent]:
    serial = text(serial, "serial", bound=bounds.SERIAL)
    if serial.casefold() in s.serials:
        raise InvalidInput("DUPLICATE_SERIAL", f"serial {serial!r} is already weapon "
                           f"{s.serials[serial.casefold()]}", serial=serial)
    if kind not in KINDS:
        raise InvalidInput("INVALID_INPUT", f"weapon kind must be one of {', '.join(KINDS)}")
    count(chambers, "chambers", bound=bounds.CHAMBERS)
    count(magazine_capacity, "magazine capacity", bound=bounds.MAGAZINE_CAPACITY)
    s.storage_loc(storage)
    a = s.person(armorer)
    wid = s.next_id("W")
    refuse_or_pass(s, handler(s, a, at),
                   refusal=refused_action("weapon.receive", f"serial:{serial}"))
    return [ev("weapon.received", weapon=wid, serial=serial,
               make=text(make, "make", bound=bounds.NAME),
               model=text(model, "model", bound=bounds.NAME),
               calibre=text(calibre, "calibre", bound=bounds.CALIBRE),
               kind=kind, chambers=chambers, magazine_capacity=magazine_capacity,
               storage=storage)]


def receive_lot(s: ProductionState, *, kind: str, calibre: str, supplier: str,
                supplier_lot: str, count_: int, storage: str, armorer: str, at: datetime,
                load: str | None = None, found_in: str | None = None) -> list[NewEvent]:
    """Take a lot into inventory. Live rounds are refused and open an incident;
    ``found_in`` names the lot (the box) they were found in, which the incident
    names too, so that box is quarantined until the incident is closed."""
    if kind not in LOT_KINDS:
        raise InvalidInput("INVALID_INPUT", f"lot kind must be one of {', '.join(LOT_KINDS)}")
    count(count_, "round count", bound=bounds.LOT_ROUNDS)
    calibre = text(calibre, "calibre", bound=bounds.CALIBRE)
    supplier = text(supplier, "supplier", bound=bounds.NAME)
    supplier_lot = text(supplier_lot, "supplier lot", bound=bounds.NAME)
    s.storage_loc(storage)
    a = s.person(armorer)
    box = s.lot(found_in) if found_in else None
    if box is not None and kind != "live":
        raise InvalidInput("INVALID_INPUT", "found in names the box live rounds were found "
                           "in; other rounds are taken in as a lot of their own")
    inc = s.next_id("INC")
    live = checks.ammo.live_forbidden(kind, count=count_, calibre=calibre,
                                      supplier=supplier, supplier_lot=supplier_lot,
                                      incident=inc)
    if live:
        refuse_or_pass(s, live, record=[
            ev("ammo.intake_refused", kind=kind, calibre=calibre, supplier=supplier,
               supplier_lot=supplier_lot, count=count_, codes=[v.code for v in live],
               incident=inc),
            ev("incident.opened", incident=inc, kind="live_ammunition",
               description=f"Live ammunition presented at intake by {a.name}: {count_} x "
                           f"{calibre}, {supplier} lot {supplier_lot}"
                           + (f", found in lot {box.id} ({box.kind}, {box.supplier} lot "
                              f"{box.supplier_lot})" if box is not None else ""),
               weapons=[], lots=[box.id] if box is not None else [], reported_by=armorer,
               rule=live[0].code)])
    if kind == "blank" and load not in BLANK_LOADS:
        raise InvalidInput("INVALID_INPUT", f"blanks need a load: {', '.join(BLANK_LOADS)}")
    if kind == "dummy" and load is not None:
        raise InvalidInput("INVALID_INPUT", "dummies have no load")
    lid = s.next_id("L")
    refuse_or_pass(s, handler(s, a, at),
                   refusal=refused_action("ammo.intake", f"supplier_lot:{supplier_lot}"))
    return [ev("ammo.lot_received", lot=lid, kind=kind, load=load, calibre=calibre,
               supplier=supplier, supplier_lot=supplier_lot, count=count_, storage=storage)]


def _lot_usable(s: ProductionState, lot: Lot) -> list[Violation]:
    """Evidence of an open incident first; otherwise, is the lot quarantined?"""
    return checks.incident.evidence_lot_sealed(s, lot) or checks.ammo.not_quarantined(lot)


def verify_rounds(s: ProductionState, *, lot: str, count_: int, method: str, armorer: str,
                  at: datetime, failed_finding: str | None = None) -> list[NewEvent]:
    """Round-by-round dummy verification: one event per round. ``failed_finding``
    records one more round, after the good ones, that failed."""
    lt = s.lot(lot)
    if lt.kind != "dummy":
        raise InvalidInput("LOT_NOT_USABLE", f"lot {lot} holds {lt.kind}s; only dummies "
                           "are verified round by round")
    if method not in VERIFY_METHODS:
        raise InvalidInput("INVALID_INPUT", f"method must be one of {', '.join(VERIFY_METHODS)}")
    total = count_ + (1 if failed_finding else 0)
    unverified = lt.on_hand - lt.verified_in_stock
    count(count_, "rounds verified", low=0 if failed_finding else 1, high=bounds.ROUNDS.high)
    if total > unverified:
        raise InvalidInput("INVALID_INPUT", f"lot {lot} has {unverified} unverified rounds on "
                           f"hand; cannot verify {total}", unverified=unverified)
    a = s.person(armorer)
    refuse_or_pass(s, handler(s, a, at) + _lot_usable(s, lt),
                   refusal=refused_action("ammo.verify", f"lot:{lot}"))
    out = [ev("ammo.round_verified", lot=lot, round=lt.verified_total + i + 1, method=method,
              verified_by=armorer) for i in range(count_)]
    if failed_finding:
        inc = s.next_id("INC")
        out += [ev("ammo.verification_failed", lot=lot, round=lt.verified_total + count_ + 1,
                   method=method, finding=text(failed_finding, "finding"), verified_by=armorer,
                   incident=inc),
                ev("incident.opened", incident=inc, kind="failed_verification",
                   description=f"Dummy round failed verification in lot {lot}: "
                               f"{failed_finding}",
                   weapons=(loaded := loaded_from(s, [lot])), lots=[lot], reported_by=armorer,
                   rule="AMMO_LOT_QUARANTINED")]
        # The weapons already loaded from the box hold rounds as suspect as the
        # failed one (the Rust pattern): frozen, so recalled and never issued.
        out += _freeze(s, loaded, inc)
        # No ammo.verification_voided: a failed round quarantines the lot for good,
        # so none of it is ever loaded again, verified or not.
    return out


def inspect(s: ProductionState, *, weapon: str, armorer: str, positions: list[dict[str, str]],
            barrel_clear: bool, magazine_checked: bool, at: datetime, lot: str | None = None,
            magazine_rounds: int = 0, scene: str | None = None) -> list[NewEvent]:
    """The armorer's show-clear record, position by position, declaring the load."""
    w = s.weapon(weapon)
    a = s.person(armorer)
    sc = s.scene(scene) if scene else None
    iid = s.next_id("IN")
    refused_move(w, "inspect")  # a frozen weapon: CUSTODY_WEAPON_FROZEN, below
    violations = [*handler(s, a, at, w),
                  *checks.handoff.inspector_holds(w, a),
                  *checks.custody.not_frozen(w, "inspect"),
                  *checks.maintenance.not_grounded(s, w)]
    expected = w.positions()
    seen: dict[str, str] = {}
    for pos in positions:
        name, content = str(pos.get("position", "")), str(pos.get("content", ""))
        if name not in expected:
            raise InvalidInput("INVALID_INPUT", f"weapon {w.id} has no position {name!r}; "
                               f"its positions are {', '.join(expected)}")
        if content not in CONTENTS:
            raise InvalidInput("INVALID_INPUT", f"position {name}: content must be one of "
                               f"{', '.join(CONTENTS)}")
        if name in seen:
            raise InvalidInput("INVALID_INPUT", f"position {name} recorded twice")
        seen[name] = content
    count(magazine_rounds, "magazine rounds", low=0, high=max(w.magazine_capacity, 0))
    missing = [p for p in expected if p not in seen]
    if not barrel_clear:
        missing.append("barrel")
    if w.magazine_capacity and not magazine_checked:
        missing.append("magazine")
    kinds = {c for c in seen.values() if c != "empty"}
    n = sum(1 for c in seen.values() if c != "empty") + magazine_rounds
    if len(kinds) > 1:
        raise InvalidInput("INVALID_INPUT", "a weapon is loaded from one lot: dummies and "
                           "blanks cannot be mixed")
    if magazine_rounds and not kinds:
        raise InvalidInput("INVALID_INPUT", "say what the magazine rounds are: give at least the "
                           "chamber content or use --lot with a loaded position")
    unloaded = ({"lot": w.load_lot, "count": w.load_count} if w.load_count else None)
    load: dict[str, object] = {"kind": "empty", "lot": None, "count": 0}
    if n:
        content = kinds.pop()
        if not w.is_firearm:
            raise InvalidInput("INVALID_INPUT", f"weapon {w.id} is a {w.kind}; it takes no rounds")
        if lot is None:
            raise InvalidInput("INVALID_INPUT", "loaded positions need the lot the rounds came "
                               "from")
        lt = s.lot(lot)
        if s.gone_back("lot", lt.id):
            raise InvalidInput("LOT_NOT_USABLE", f"lot {lot} went back to its vendor "
                               f"({s.gone_back('lot', lt.id)})")
        if lt.kind not in (content, "evidence"):
            raise InvalidInput("LOT_NOT_USABLE", f"lot {lot} holds {lt.kind}s, not {content}s")
        violations += _lot_usable(s, lt)
        # Evidence is never loaded: refused (and recorded) by a blocking rule while
        # its incident is open, refused here otherwise. Never decided on "no
        # violations": an overridden soft rule must not let evidence through.
        if lt.kind == "evidence" and not rules.blocking(s, violations):
            raise InvalidInput("LOT_NOT_USABLE", f"lot {lot} is an evidence lot")
        violations += checks.ammo.calibre_matches(lt, w)
        # Rounds this inspection takes out go back first; dummies among them count
        # as verified unless an incident voided their lot's verification since.
        back = unloaded["count"] if unloaded and unloaded["lot"] == lot and (
            lt.kind != "dummy" or s.still_verified(lot, w.inspection)) else 0
        assert isinstance(back, int)
        violations += checks.ammo.dummies_verified(lt, content, n, lt.verified_in_stock + back)
        if content == "blank" and n > lt.on_hand + back:
            raise InvalidInput("LOT_NOT_USABLE", f"lot {lot} has only {lt.on_hand + back} "
                               "rounds on hand")
        if content == "blank" and sc is None:
            raise InvalidInput("INVALID_INPUT", "blanks are loaded for a scene: name the hot "
                               "scene (--scene)")
        if sc is not None:
            violations += checks.scene.blanks_loaded_for_hot(sc, content)
        load = {"kind": content, "lot": lot, "count": n}
    elif lot is not None:
        s.lot(lot)
    refuse_or_pass(s, violations, refusal=refused_action("weapon.inspect", f"weapon:{w.id}"))
    return [ev("weapon.inspected", inspection=iid, weapon=w.id, armorer=armorer, scene=scene,
               positions=[{"position": p, "content": seen[p]} for p in expected if p in seen],
               barrel_clear=barrel_clear, magazine_checked=magazine_checked, load=load,
               unloaded=unloaded, missing=missing)]


WITNESS_ROLES = ("performer", "stand_in", "first_ad", "safety_supervisor")


def witness_role(p: Person, role: str | None = None) -> str:
    """The role ``p`` witnesses an inspection in (``role`` if given and held);
    ROLE_REQUIRED if none. The service asks this before it checks the PIN."""
    roles = [r for r in WITNESS_ROLES if r in p.roles]
    if role is not None:
        if role not in roles:
            raise InvalidInput("ROLE_REQUIRED", f"{p.name} ({p.id}) is not a {role}")
        return role
    if not roles:
        raise InvalidInput("ROLE_REQUIRED", f"{p.name} ({p.id}) is not a performer, stand-in, "
                           "1st AD or safety supervisor and cannot witness an inspection")
    return roles[0]


def witness(s: ProductionState, *, inspection: str, witness_: str, at: datetime,
            role: str | None = None,
            pins: dict[str, str | None] | None = None) -> list[NewEvent]:
    """A witness confirms a complete inspection (the PIN is checked by the service;
    ``pins``: who had recorded the PIN it checked, see ``same_pins``)."""
    insp = s.inspection(inspection)
    w = s.weapon(insp.weapon)
    p = s.person(witness_)
    same_pins(s, pins)
    roles = [witness_role(p, role)]
    subj = f"inspection:{insp.id}"
    violations = [*checks.custody.inspection_complete(insp, subj),
                  *(checks.witness.not_own_inspection(insp, p)
                    or checks.witness.own_pin_at_witnessing(s.people, insp, p)),
                  *checks.custody.current_inspection(w, insp)]
    if any(x["person"] == p.id for x in insp.witnesses):
        raise Conflict("ALREADY_WITNESSED", f"{p.name} already witnessed inspection {insp.id}")
    refuse_or_pass(s, violations, refusal=refused_action("inspection.witness", subj))
    return [ev("inspection.witnessed", inspection=insp.id, weapon=w.id, witness=p.id,
               role=roles[0])]


def issue(s: ProductionState, *, weapon: str, armorer: str, performer: str, scene: str,
          at: datetime) -> list[NewEvent]:
    w = s.weapon(weapon)
    a = s.person(armorer)
    p = s.person(performer)
    sc = s.scene(scene)
    refusal = _handoff_refusal(w, "issue", armorer, performer)
    # Handing on a weapon someone else holds: the hand-off violation is the
    # refusal, and it is recorded (review: it was lost to the state check).
    if not (w.state == "issued" and w.custodian != armorer):
        refused_move(w, "issue")  # frozen, in storage or returned: refused below
    v = [*handler(s, a, at, w),
         *checks.handoff.to_performer(w, p),
         *checks.handoff.issuer_holds(w, a),
         *checks.custody.not_frozen(w, "issue"),
         *checks.maintenance.not_grounded(s, w),
         *checks.custody.inspected_before_issue(w)]
    if s.current_day is None or sc.day != s.current_day:
        raise InvalidInput("DAY_NOT_OPEN", f"scene {sc.id} is not on the open shooting day")
    # A non-performer is never in a plan; that attempt is CUSTODY_DIRECT_HANDOFF
    # (recorded), not a planning error.
    if w.id not in sc.weapons or (p.receives and p.id not in sc.performers):
        raise InvalidInput("SCENE_NOT_PLANNED", f"scene {sc.id} plans weapons "
                           f"{', '.join(sc.weapons) or 'none'} and performers "
                           f"{', '.join(sc.performers) or 'none'}")
    v += checks.custody.no_issue_in_meal_break(s.days[sc.day])
    insp = s.inspections.get(w.inspection or "")
    if insp is not None and (insp.used or insp.seq < w.last_custody_seq):
        insp = None  # not a current inspection: it counts for nothing below
    if w.is_firearm and w.state == "inspected":
        v += checks.maintenance.function_checked(s, w)
        v += checks.custody.fresh_inspection(w, insp)
        if insp is not None:
            v += [*checks.custody.inspection_complete(insp, f"weapon:{w.id}"),
                  *checks.witness.performer_confirmed(w, insp, p),
                  *checks.witness.safety_witness(w, insp),
                  *checks.witness.own_pins_at_issue(s.people, w, insp, a)]
        v += [*checks.people.briefed(p),
              *checks.scene.safety_meeting(s, sc, checks.scene.in_scene(
                  sc, armorer=a.id, performer=p.id, inspection=insp)),
              *checks.scene.blanks_issued_for_hot(w, sc),
              *checks.scene.blank_distance(w, sc),
              *checks.scene.rehearsal_replica(sc),
              *(_lot_usable(s, s.lots[w.load_lot]) if w.load_lot else []),
              *checks.ammo.loaded_dummies_still_verified(s, w, insp),
              *checks.complaint.acknowledged_in_time(s.complaints.values(), at)]
    v += [*checks.scene.pointing_acknowledged(sc),
          *checks.scene.pointing_without_blanks(w, sc)]
    bent = refuse_or_pass(s, v, refusal=refusal)
    due = at + timedelta(minutes=sc.overdue_minutes)
    return [ev("weapon.issued", weapon=w.id, inspection=w.inspection, armorer=armorer,
               performer=p.id, scene=sc.id, due_at=utc_text(due), overrides=bent),
            *kit_out(s, w.id, p.id)]


def return_weapon(s: ProductionState, *, weapon: str, performer: str, armorer: str,
                  at: datetime, fired: int = 0, lost: int = 0,
                  misfire: str | None = None,
                  missing_accessories: list[str] | None = None) -> list[NewEvent]:
    """The performer hands the weapon back to the armorer, who unloads it and counts;
    the accessories that went out with it come back, but for those noted missing."""
    w = s.weapon(weapon)
    a = s.person(armorer)
    p = s.person(performer)
    # A weapon frozen in an armorer's hands stays with them (they store it); a
    # "return" must not pass it to another armorer: to_performer.
    held = checks.handoff.returner_holds(w, p) or checks.handoff.to_performer(w, p)
    if not held:
        next_state(w, "return")
    v = [*handler(s, a, at, w), *held]
    count(fired, "rounds fired", high=w.load_count)
    count(lost, "rounds lost", high=w.load_count - fired)
    duds = len([d for d in s.duds_of(weapon=w.id) if d["seq"] > w.last_custody_seq])
    if duds and fired > w.load_count - duds:
        raise InvalidInput("INVALID_INPUT", f"weapon {w.id} held {w.load_count} rounds and "
                           f"{duds} of them failed to fire (recorded duds): at most "
                           f"{w.load_count - duds} fired")
    # Rounds in a frozen weapon, or in one that misfired, are evidence: they stay
    # in it until each is recorded (record_evidence), never written off.
    v += (checks.incident.frozen_rounds_not_written_off(w, fired, lost)
          or checks.incident.misfire_rounds_kept(w, misfire, lost))
    if fired and w.load_kind != "blank":
        raise InvalidInput("INVALID_INPUT", f"weapon {w.id} held {w.load_kind} rounds, which "
                           "cannot fire: if it discharged, report an incident "
                           "(`coldcheck incident report --kind discharge`)")
    refuse_or_pass(s, v, refusal=_handoff_refusal(w, "return", performer, armorer))
    keep = w.state == "frozen" or misfire is not None  # rounds stay in as evidence
    returned = 0 if keep else w.load_count - fired - lost
    out = [ev("weapon.returned", weapon=w.id, performer=p.id, armorer=armorer,
              lot=w.load_lot, fired=fired, lost=lost, returned=returned),
           *kit_back(s, w.id, p.id, missing_accessories)]
    if misfire is not None:
        out += open_incident(s, kind="misfire", description=text(misfire, "misfire report"),
                             weapons=[w.id], lots=[w.load_lot] if w.load_lot else [],
                             reported_by=armorer)
    return out


# ---- kits: a weapon's accessories go out and come back with it ---------------

def kit_out(s: ProductionState, weapon: str, performer: str) -> list[NewEvent]:
    """At issue: the accessories of the weapon's kit go out with it."""
    ids = [a["id"] for a in s.kit(weapon) if a["state"] == "present"]
    return [ev("weapon.kit_issued", weapon=weapon, performer=performer,
               accessories=ids)] if ids else []


def kit_back(s: ProductionState, weapon: str, performer: str,
             missing: list[str] | None) -> list[NewEvent]:
    """At return: the accessories that went out come back, but for ``missing``."""
    out_ = s.kits_out.get(weapon)
    missing = sorted(set(missing or []))
    if out_ is None:
        if missing:
            raise InvalidInput("INVALID_INPUT", f"no accessories went out with weapon {weapon}")
        return []
    unknown = [m for m in missing if m not in out_]
    if unknown:
        raise InvalidInput("INVALID_INPUT", f"accessory {', '.join(unknown)} did not go out "
                           f"with weapon {weapon} (out: {', '.join(out_)})")
    return [ev("weapon.kit_returned", weapon=weapon, performer=performer,
               accessories=[x for x in out_ if x not in missing], missing=missing)]



def record_dud(s: ProductionState, *, weapon: str, armorer: str, at: datetime,
               description: str = "") -> list[NewEvent]:
    """A round failed to fire. In a planned take, one blank from a lot in a day is
    routine (wait, clear, reload): ``weapon.dud_recorded``, nothing frozen, the
    round stays counted in the weapon until its return. Anything else
    (INCIDENT_DISCHARGE, ``dud_is_routine``) opens a misfire incident that
    freezes the weapon and its lot, like a misfire reported on return."""
    w = s.weapon(weapon)
    a = s.person(armorer)
    if w.state == "retired" or not w.is_firearm:
        raise InvalidInput("INVALID_INPUT", f"weapon {w.id} "
                           f"({'retired' if w.state == 'retired' else w.kind}) fires nothing")
    note = text(description or "failed to fire", "description")
    refuse_or_pass(s, handler(s, a, at, w),
                   refusal=refused_action("weapon.dud", f"weapon:{w.id}"))
    sc = s.scenes.get(w.scene or "") if w.state == "issued" else None
    misfire = checks.incident.dud_is_routine(s, w, sc)
    if misfire:
        lot = w.load_lot or s.last_lot.get(w.id)
        return open_incident(s, kind="misfire", description=f"{note} ({misfire[0].message})",
                             weapons=[w.id], lots=[lot] if lot else [], reported_by=armorer)
    assert sc is not None
    next_state(w, "dud")
    return [ev("weapon.dud_recorded", weapon=w.id, lot=w.load_lot, scene=sc.id, day=sc.day,
               armorer=armorer, description=note)]


def store(s: ProductionState, *, weapon: str, storage: str, armorer: str,
          at: datetime) -> list[NewEvent]:
    w = s.weapon(weapon)
    a = s.person(armorer)
    s.storage_loc(storage)
    held = checks.handoff.storer_holds(w, a)
    if not held:
        next_state(w, "store")
    v = [*handler(s, a, at, w), *held, *checks.incident.frozen_weapon_emptied(w)]
    refuse_or_pass(s, v, refusal=refused_action("weapon.store", f"weapon:{w.id}"))
    unloaded = ({"lot": w.load_lot, "count": w.load_count}
                if w.load_count and w.state != "frozen" else None)
    return [ev("weapon.stored", weapon=w.id, storage=storage, armorer=armorer,
               unloaded=unloaded)]


def handoff(s: ProductionState, *, weapon: str, from_: str, to: str, at: datetime,
            scene: str | None = None) -> list[NewEvent]:
    """Any transfer of a weapon between two people. Only armorer → performer (an
    issue) and performer → armorer (a return) exist; everything else is refused."""
    w = s.weapon(weapon)
    f, t = s.person(from_), s.person(to)
    if is_handler(s, f) and t.receives:
        if scene is None:
            raise InvalidInput("INVALID_INPUT", "an issue to a performer names the scene")
        return issue(s, weapon=weapon, armorer=from_, performer=to, scene=scene, at=at)
    if f.receives and is_handler(s, t):
        return return_weapon(s, weapon=weapon, performer=from_, armorer=to, at=at)
    refuse_or_pass(s, checks.handoff.issue_or_return_only(w, f, t, is_handler(s, f),
                                                          is_handler(s, t)),
                   refusal=_handoff_refusal(w, "handoff", from_, to))
    raise AssertionError("unreachable: a hard rule always refuses")


def open_incident(s: ProductionState, *, kind: str, description: str, weapons: list[str],
                  lots: list[str], reported_by: str, rule: str = "INCIDENT_DISCHARGE",
                  taken: dict[str, int] | None = None) -> list[NewEvent]:
    # A lot under suspicion is suspect in the weapons already loaded from it too:
    # they are frozen with it (and so recalled: a frozen weapon still comes back).
    weapons = list(weapons)
    weapons += [wid for wid in loaded_from(s, lots) if wid not in weapons]
    inc = s.next_id("INC", taken)
    frozen = _freeze(s, weapons, inc)
    out = [ev("incident.opened", incident=inc, kind=kind, description=description,
              weapons=weapons, lots=lots, reported_by=reported_by, rule=rule)]
    return out + frozen + void_verification(s, lots, inc)


def _freeze(s: ProductionState, weapons: list[str], incident: str) -> list[NewEvent]:
    """``weapon.frozen`` for each of ``weapons`` (refused if one cannot be)."""
    for wid in weapons:
        next_state(s.weapon(wid), "freeze")
    return [ev("weapon.frozen", weapon=wid, incident=incident) for wid in weapons]


def loaded_from(s: ProductionState, lots: list[str]) -> list[str]:
    """The weapons (not retired) holding rounds from any of ``lots``, in the order
    they were received (the state's order, the same on every replay)."""
    return [wid for wid, w in s.weapons.items()
            if w.load_count and w.load_lot in lots and w.state != "retired"]


def void_verification(s: ProductionState, lots: list[str], incident: str) -> list[NewEvent]:
    """An incident that names a dummy lot makes its whole box suspect: none of its
    rounds counts as verified any more, those on hand and those loaded before now.
    Once the incident is closed they are verified again, round by round, before
    any is loaded (AMMO_DUMMY_UNVERIFIED)."""
    return [ev("ammo.verification_voided", lot=lid, incident=incident,
               count=s.lots[lid].verified_in_stock)
            for lid in lots if s.lots[lid].kind == "dummy"]


def record_evidence(s: ProductionState, *, weapon: str, incident: str, position: str,
                    description: str, armorer: str, at: datetime) -> list[NewEvent]:
    """INCIDENT_EVIDENCE_PRESERVED: each round out of a frozen weapon, one by one."""
    w = s.weapon(weapon)
    inc = s.incident(incident)
    a = s.person(armorer)
    if w.id not in inc.weapons or not inc.open:
        raise InvalidInput("INVALID_INPUT", f"incident {inc.id} is not an open incident naming "
                           f"weapon {w.id}")
    next_state(w, "record_evidence")
    v = [*checks.people.armorer(a, at, s.zone), *checks.handoff.evidence_taker_holds(w, a)]
    refuse_or_pass(s, v,
                   refusal=refused_action("ammo.evidence", f"weapon:{w.id}"))
    out: list[NewEvent] = []
    lot = inc.evidence_lot
    if lot is None:
        lot = s.next_id("L")
        out.append(ev("ammo.evidence_lot_created", lot=lot, incident=inc.id, weapon=w.id,
                      calibre=w.calibre))
    out.append(ev("ammo.evidence_recorded", lot=lot, incident=inc.id, weapon=w.id,
                  position=text(position, "position", bound=bounds.POSITION),
                  description=text(description, "round description"), recorded_by=armorer))
    return out


def destroy_rounds(s: ProductionState, *, lot: str, count_: int, reason: str, armorer: str,
                   at: datetime) -> list[NewEvent]:
    lt = s.lot(lot)
    a = s.person(armorer)
    count(count_, "rounds destroyed", low=1, high=max(lt.on_hand, 1))
    if count_ > lt.on_hand:
        raise InvalidInput("INVALID_INPUT", f"lot {lot} has {lt.on_hand} rounds on hand")
    v = [*handler(s, a, at), *checks.incident.not_destroyed(s, lt)]
    refuse_or_pass(s, v, refusal=refused_action("ammo.destroy", f"lot:{lot}"))
    return [ev("ammo.rounds_destroyed", lot=lot, count=count_, reason=text(reason, "reason"),
               armorer=armorer)]


def retire(s: ProductionState, *, weapon: str, reason: str, armorer: str,
           at: datetime) -> list[NewEvent]:
    """A weapon leaves service for good (sold, returned to the rental house,
    destroyed). Only from storage (a grounded one too); the record of it stays."""
    w = s.weapon(weapon)
    a = s.person(armorer)
    next_state(w, "retire")
    if w.storage is None:
        raise InvalidInput("INVALID_INPUT", f"weapon {w.id} is with {w.custodian}: store it "
                           "before it is retired")
    refuse_or_pass(s, checks.people.armorer(a, at, s.zone),
                   refusal=refused_action("weapon.retire", f"weapon:{w.id}"))
    return [ev("weapon.retired", weapon=w.id, reason=text(reason, "reason"))]


# ---- maintenance -------------------------------------------------------------

def _maintained(s: ProductionState, w: Weapon, a: Person, action: str,
                at: datetime) -> None:
    """Cleaning and function checks: by an armorer, on a weapon in storage or in
    their hands, never while it is out, loaded for a scene, or frozen."""
    next_state(w, action)
    refuse_or_pass(s, [*handler(s, a, at, w), *checks.handoff.inspector_holds(w, a)],
                   refusal=refused_action(f"weapon.{action}", f"weapon:{w.id}"))


def clean(s: ProductionState, *, weapon: str, armorer: str, at: datetime,
          notes: str = "") -> list[NewEvent]:
    """After-use cleaning (blank residue is corrosive). It takes the weapon apart:
    a function check is due before its next issue (CUSTODY_FUNCTION_CHECK_DUE)."""
    w, a = s.weapon(weapon), s.person(armorer)
    notes = text(notes or "cleaned", "notes")
    _maintained(s, w, a, "clean", at)
    return [ev("weapon.cleaned", weapon=w.id, armorer=a.id, notes=notes)]


def function_check(s: ProductionState, *, weapon: str, armorer: str, at: datetime,
                   notes: str = "") -> list[NewEvent]:
    """Before-use function check, passed (one that fails: ground the weapon)."""
    w, a = s.weapon(weapon), s.person(armorer)
    notes = text(notes or "action, safety, trigger and cylinder/feed work", "notes")
    _maintained(s, w, a, "function_check", at)
    return [ev("weapon.function_checked", weapon=w.id, armorer=a.id, notes=notes)]


def ground(s: ProductionState, *, weapon: str, reason: str, armorer: str, supervisor: str,
           at: datetime, pins_checked: bool = True,
           pins: dict[str, str | None] | None = None) -> list[NewEvent]:
    """Take a damaged or suspect weapon out of use until a repair is recorded,
    signed by an armorer and the safety supervisor. Both PINs are checked by the
    service first; ``pins_checked`` and ``pins`` as for ``close_incident``."""
    w = s.weapon(weapon)
    a, sup = s.person(armorer), s.person(supervisor)
    same_pins(s, pins)
    reason = text(reason, "reason", bound=bounds.OVERRIDE_REASON)
    next_state(w, "ground")
    subj = f"weapon:{w.id}"
    v = [*checks.maintenance.grounding_signed(s, a, sup, at, subj),
         *checks.handoff.inspector_holds(w, a)]
    v += checks.maintenance.grounding_pins_entered(pins_checked, bool(v), subj)
    refuse_or_pass(s, v, refusal=refused_action("weapon.ground", subj))
    return [ev("weapon.grounded", weapon=w.id, reason=reason, armorer=a.id,
               supervisor=sup.id)]


def repair(s: ProductionState, *, weapon: str, armorer: str, repair_: str,
           at: datetime) -> list[NewEvent]:
    """A recorded repair returns a grounded weapon to service; it is
    function-checked (and inspected) before its next issue."""
    w, a = s.weapon(weapon), s.person(armorer)
    repair_ = text(repair_, "repair")
    next_state(w, "repair_stored" if w.storage else "repair_held")
    refuse_or_pass(s, [*handler(s, a, at, w), *checks.handoff.inspector_holds(w, a)],
                   refusal=refused_action("weapon.repair", f"weapon:{w.id}"))
    return [ev("weapon.repaired", weapon=w.id, armorer=a.id, repair=repair_)]
