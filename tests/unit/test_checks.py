"""Each rule check on its own: built from entities in memory, no database.

For every check in ``coldcheck.domain.checks.CHECKS`` there is a case below: a
situation the rule forbids (the check returns violations, each with the rule's
code and the expected subject) and the nearest situation it allows (the check
returns nothing). A check with no case fails the coverage test at the end. The
exact wording of every message is asserted, through the decisions that use the
checks, by tests/integration/test_rules.py.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from coldcheck.domain.ammunition import Lot
from coldcheck.domain.checks import (
    CHECKS,
    ammo,
    complaint,
    custody,
    handoff,
    incident,
    maintenance,
    people,
    rental,
    scene,
    witness,
    wrap,
)
from coldcheck.domain.errors import Violation
from coldcheck.domain.incidents import Complaint, Incident, Inspection, Override
from coldcheck.domain.people import Person
from coldcheck.domain.scenes import Day, Meeting, Scene
from coldcheck.domain.state import ProductionState
from coldcheck.domain.weapons import Weapon

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def person(pid: str = "P1", *roles: str, **kw: Any) -> Person:
    kw.setdefault("qualification_expires", "2030-01-01")
    return Person(id=pid, name=f"Name {pid}", roles=list(roles or ("armorer",)), badge=pid,
                  **kw)


def weapon(**kw: Any) -> Weapon:
    return Weapon(**{"id": "W1", "serial": "S1", "make": "Colt", "model": "SAA",
                     "calibre": ".45 Colt", "kind": "firearm", "chambers": 6,
                     "magazine_capacity": 0, **kw})


def lot(**kw: Any) -> Lot:
    return Lot(**{"id": "L1", "kind": "dummy", "calibre": ".45 Colt", "supplier": "Acme",
                  "supplier_lot": "A1", "storage": "ST1", **kw})


def inspection(**kw: Any) -> Inspection:
    return Inspection(**{"id": "IN1", "weapon": "W1", "armorer": "P1", "scene": None,
                         "seq": 5, "at": "2026-11-24T09:00:00Z", "positions": [],
                         "barrel_clear": True, "magazine_checked": False, "load": {},
                         "complete": True, "missing": [], **kw})


def a_scene(**kw: Any) -> Scene:
    return Scene(**{"id": "SC1", "day": "D1", "name": "Saloon", "hot": False,
                    "rehearsal": False, "weapons": ["W1"], "performers": ["P2"], **kw})


def blanks(**kw: Any) -> Weapon:
    return weapon(load={"kind": "blank", "lot": "L2", "count": 6}, **kw)


def dummies(n: int = 6, **kw: Any) -> Weapon:
    return weapon(load={"kind": "dummy", "lot": "L1", "count": n}, **kw)


def state(*, incidents: Sequence[Incident] = (), people_: Sequence[Person] = (),
          meetings: Sequence[Meeting] = (), inspections: Sequence[Inspection] = (),
          overrides: Sequence[Override] = (),
          voided: dict[str, tuple[int, str]] | None = None) -> ProductionState:
    s = ProductionState("checks")
    s.incidents = {i.id: i for i in incidents}
    s.people = {p.id: p for p in people_}
    s.meetings = {m.id: m for m in meetings}
    s.inspections = {i.id: i for i in inspections}
    s.overrides = {o.id: o for o in overrides}
    s.voided = dict(voided or {})
    s.current_day = "D1"
    return s


def with_dud(lot_id: str, day: str) -> ProductionState:
    """A state with one routine dud recorded from ``lot_id`` on ``day``."""
    s = state()
    s.duds = [{"seq": 3, "weapon": "W2", "lot": lot_id, "scene": "SC1", "day": day,
               "at": "2026-11-24T08:30:00.000000Z"}]
    return s


def upkept(due: str | None = None, grounded: bool = False) -> ProductionState:
    """A state whose W1 has a function check due (``due``) and/or is grounded."""
    s = state()
    s.maintenance = {"W1": {"fired": 0, "due": due, "cleaned_at": None, "checked_at": None}}
    if grounded:
        s.grounded = {"W1": {"reason": "cracked frame", "armorer": "P1", "supervisor": "P4",
                             "seq": 7, "at": "2026-11-24T08:00:00.000000Z"}}
    return s


def open_incident(iid: str = "INC1", **kw: Any) -> Incident:
    return Incident(**{"id": iid, "kind": "discharge", "description": "bang", "weapons": [],
                       "lots": [], "reported_by": "P1", "opened_at": "2026-11-24T08:00:00Z",
                       **kw})


PERFORMER = person("P2", "performer", briefed=True)
AD = person("P3", "first_ad")
SUPERVISOR = person("P4", "safety_supervisor")


@dataclass(frozen=True)
class Case:
    check: Callable[..., list[Violation]]
    refuses: Callable[[], list[Violation]]
    allows: Callable[[], list[Violation]]
    subject: str
    count: int = 1  # violations expected in the refused situation

    def __str__(self) -> str:
        return f"{self.check.__module__.rsplit('.', 1)[-1]}.{self.check.__name__}"


INC = "incident:INC1"
CRED = {"id": "CR1", "type": "entertainment_firearms_permit", "issuer": "CA DOJ",
        "number": "EFP-1", "classes": ["handgun"], "expires": "2030-01-01", "revoked": False}
CASES = [
    # ---- people ----
    Case(people.armorer_only, lambda: people.armorer_only(person("P9", "prop_master")),
         lambda: people.armorer_only(person("P9", "assistant_armorer")), "person:P9"),
    Case(people.lawful_handler, lambda: people.lawful_handler(person("P9", "prop_master"), {}),
         lambda: people.lawful_handler(person("P9", "prop_master"), {"CR1": CRED}),
         "person:P9"),
    Case(people.credential_covers,
         lambda: people.credential_covers(person("P9", "prop_master"), {"CR1": CRED}, AT, UTC, "W1",
                                          "long_gun"),
         lambda: people.credential_covers(person("P9", "prop_master"), {"CR1": CRED}, AT, UTC, "W1",
                                          "handgun"), "person:P9"),
    Case(people.qualification_current,
         lambda: people.qualification_current(person(qualification_expires="2026-11-23"), AT, UTC),
         lambda: people.qualification_current(person(qualification_expires="2026-11-24"), AT, UTC),
         "person:P1"),
    Case(people.role_conflict,
         lambda: people.role_conflict(person(role_conflicts=["armorer_other_department"])),
         lambda: people.role_conflict(person()), "person:P1"),
    Case(people.briefed, lambda: people.briefed(person("P2", "performer")),
         lambda: people.briefed(PERFORMER), "person:P2"),
    # ---- handoff ----
    Case(handoff.to_performer, lambda: handoff.to_performer(weapon(), AD),
         lambda: handoff.to_performer(weapon(), PERFORMER), "weapon:W1"),
    Case(handoff.issuer_holds,
         lambda: handoff.issuer_holds(weapon(state="inspected", custodian="P5"), person()),
         lambda: handoff.issuer_holds(weapon(state="returned", custodian="P5"), person()),
         "weapon:W1"),
    Case(handoff.returner_holds,
         lambda: handoff.returner_holds(weapon(state="issued", custodian="P7"), PERFORMER),
         lambda: handoff.returner_holds(weapon(state="frozen", custodian="P2"), PERFORMER),
         "weapon:W1"),
    Case(handoff.inspector_holds,
         lambda: handoff.inspector_holds(weapon(state="inspected", custodian="P5"), person()),
         lambda: handoff.inspector_holds(weapon(state="issued", custodian="P2"), person()),
         "weapon:W1"),
    Case(handoff.storer_holds, lambda: handoff.storer_holds(weapon(), person()),
         lambda: handoff.storer_holds(weapon(state="returned", custodian="P1"), person()),
         "weapon:W1"),
    Case(handoff.evidence_taker_holds,
         lambda: handoff.evidence_taker_holds(weapon(state="frozen", custodian="P2"), person()),
         lambda: handoff.evidence_taker_holds(weapon(state="frozen"), person()), "weapon:W1"),
    Case(handoff.issue_or_return_only,
         lambda: handoff.issue_or_return_only(weapon(), AD, PERFORMER),
         lambda: handoff.issue_or_return_only(weapon(), PERFORMER, person()), "weapon:W1"),
    # ---- custody ----
    Case(custody.not_frozen,
         lambda: custody.not_frozen(weapon(state="frozen", frozen_by=["INC1"]), "issue"),
         lambda: custody.not_frozen(weapon(state="inspected"), "issue"), "weapon:W1"),
    Case(custody.inspected_before_issue,
         lambda: custody.inspected_before_issue(weapon(state="returned")),
         lambda: custody.inspected_before_issue(weapon(state="inspected")), "weapon:W1"),
    Case(custody.fresh_inspection, lambda: custody.fresh_inspection(weapon(), None),
         lambda: custody.fresh_inspection(weapon(), inspection()), "weapon:W1"),
    Case(custody.current_inspection,
         lambda: custody.current_inspection(weapon(inspection="IN1", last_custody_seq=6),
                                            inspection()),
         lambda: custody.current_inspection(weapon(inspection="IN1", last_custody_seq=5),
                                            inspection()), "inspection:IN1"),
    Case(custody.inspection_complete,
         lambda: custody.inspection_complete(inspection(complete=False, missing=["barrel"]),
                                             "inspection:IN1"),
         lambda: custody.inspection_complete(inspection(), "inspection:IN1"), "inspection:IN1"),
    Case(custody.no_issue_in_meal_break,
         lambda: custody.no_issue_in_meal_break(Day("D1", "2026-11-24", meal_break=True)),
         lambda: custody.no_issue_in_meal_break(Day("D1", "2026-11-24")), "day:D1"),
    Case(custody.back_before_meal_break,
         lambda: custody.back_before_meal_break(
             [weapon(state="issued", custodian="P2"), weapon(id="W2", state="issued"),
              weapon(id="W3")], "D1"),
         lambda: custody.back_before_meal_break([weapon(state="returned")], "D1"), "day:D1",
         count=2),
    # ---- witness ----
    Case(witness.not_own_inspection, lambda: witness.not_own_inspection(inspection(), person()),
         lambda: witness.not_own_inspection(inspection(), AD), "inspection:IN1"),
    Case(witness.own_pin_at_witnessing,
         lambda: witness.own_pin_at_witnessing({}, inspection(),
                                                person("P3", "first_ad", pin_set_by="P1")),
         lambda: witness.own_pin_at_witnessing({}, inspection(),
                                                person("P3", "first_ad", pin_set_by="P3")),
         "inspection:IN1"),
    Case(witness.performer_confirmed,
         lambda: witness.performer_confirmed(weapon(), inspection(witnesses=[
             {"person": "P2", "role": "first_ad"}]), PERFORMER),
         lambda: witness.performer_confirmed(weapon(), inspection(witnesses=[
             {"person": "P2", "role": "performer"}]), PERFORMER), "weapon:W1"),
    Case(witness.safety_witness,
         lambda: witness.safety_witness(weapon(), inspection(witnesses=[
             {"person": "P2", "role": "performer"}])),
         lambda: witness.safety_witness(weapon(), inspection(witnesses=[
             {"person": "P4", "role": "safety_supervisor"}])), "weapon:W1"),
    Case(witness.own_pins_at_issue,
         lambda: witness.own_pins_at_issue({}, weapon(), inspection(witnesses=[
             {"person": "P2", "role": "performer", "pin_set_by": "P5"}]), person("P5")),
         lambda: witness.own_pins_at_issue({}, weapon(), inspection(witnesses=[
             {"person": "P2", "role": "performer", "pin_set_by": "P2"}]), person("P5")),
         "weapon:W1"),
    # ---- ammo ----
    Case(ammo.live_listed, lambda: ammo.live_listed("live", supplier_lot="A1"),
         lambda: ammo.live_listed("blank", supplier_lot="A1"), "supplier_lot:A1"),
    Case(ammo.live_forbidden,
         lambda: ammo.live_forbidden("live", count=5, calibre=".45 Colt", supplier="Acme",
                                     supplier_lot="A1", incident="INC1"),
         lambda: ammo.live_forbidden("dummy", count=5, calibre=".45 Colt", supplier="Acme",
                                     supplier_lot="A1", incident="INC1"), "intake"),
    Case(ammo.not_quarantined, lambda: ammo.not_quarantined(lot(quarantined_by=["INC1"])),
         lambda: ammo.not_quarantined(lot()), "lot:L1"),
    Case(ammo.calibre_matches, lambda: ammo.calibre_matches(lot(calibre="9mm"), weapon()),
         lambda: ammo.calibre_matches(lot(calibre="45 colt"), weapon()), "weapon:W1"),
    Case(ammo.dummies_verified, lambda: ammo.dummies_verified(lot(), "dummy", 4, 3),
         lambda: ammo.dummies_verified(lot(), "dummy", 3, 3), "lot:L1"),
    Case(ammo.loaded_dummies_still_verified,
         lambda: ammo.loaded_dummies_still_verified(
             state(voided={"L1": (7, "INC1")}, inspections=[inspection(seq=5)]), dummies(),
             inspection(seq=5)),
         lambda: ammo.loaded_dummies_still_verified(
             state(voided={"L1": (7, "INC1")}, inspections=[inspection(seq=8)]), dummies(),
             inspection(seq=8)), "lot:L1"),
    # ---- scene ----
    Case(scene.blanks_loaded_for_hot, lambda: scene.blanks_loaded_for_hot(a_scene(), "blank"),
         lambda: scene.blanks_loaded_for_hot(a_scene(hot=True), "blank"), "scene:SC1"),
    Case(scene.blanks_issued_for_hot, lambda: scene.blanks_issued_for_hot(blanks(), a_scene()),
         lambda: scene.blanks_issued_for_hot(dummies(), a_scene()), "scene:SC1"),
    Case(scene.safety_meeting,
         lambda: scene.safety_meeting(
             state(people_=[person(), PERFORMER],
                   meetings=[Meeting("M1", "D1", [], ["P1"], "P1")]),
             a_scene(), {"P1", "P2"}),
         lambda: scene.safety_meeting(
             state(meetings=[Meeting("M1", "D1", [], ["P1", "P2"], "P1")]),
             a_scene(), {"P1", "P2"}), "scene:SC1"),
    Case(scene.blank_distance,
         lambda: scene.blank_distance(blanks(), a_scene(hot=True, min_distance_m=5)),
         lambda: scene.blank_distance(blanks(), a_scene(hot=True, min_distance_m=6)),
         "scene:SC1"),
    Case(scene.rehearsal_replica, lambda: scene.rehearsal_replica(a_scene(rehearsal=True)),
         lambda: scene.rehearsal_replica(a_scene()), "scene:SC1"),
    Case(scene.pointing_acknowledged,
         lambda: scene.pointing_acknowledged(a_scene(pointing=True,
                                                     pointing_acks={"armorer": "P1"})),
         lambda: scene.pointing_acknowledged(a_scene(
             pointing=True, pointing_acks={"armorer": "P1", "first_ad": "P3"})), "scene:SC1"),
    Case(scene.pointing_without_blanks,
         lambda: scene.pointing_without_blanks(blanks(), a_scene(pointing=True)),
         lambda: scene.pointing_without_blanks(blanks(kind="non_firing_replica"),
                                               a_scene(pointing=True)), "scene:SC1"),
    # ---- complaint ----
    Case(complaint.acknowledged_in_time,
         lambda: complaint.acknowledged_in_time(
             [Complaint("C1", "P2", "smoke", "2026-11-23T08:59:00.000000Z")], AT),
         lambda: complaint.acknowledged_in_time(
             [Complaint("C1", "P2", "smoke", "2026-11-23T09:00:00.000000Z")], AT), "complaint:C1"),
    # ---- incident ----
    Case(incident.discharge_names_weapons,
         lambda: incident.discharge_names_weapons("squib", []),
         lambda: incident.discharge_names_weapons("complaint", []), "incident"),
    # A second dud from one lot on one day is a misfire; the first (another day's
    # dud does not count) is routine.
    Case(incident.dud_is_routine,
         lambda: incident.dud_is_routine(with_dud("L2", "D1"), blanks(state="issued"),
                                         a_scene(hot=True)),
         lambda: incident.dud_is_routine(with_dud("L2", "D0"), blanks(state="issued"),
                                         a_scene(hot=True)), "weapon:W1"),
    Case(incident.evidence_lot_sealed,
         lambda: incident.evidence_lot_sealed(state(incidents=[open_incident()]),
                                              lot(kind="evidence", incident="INC1")),
         lambda: incident.evidence_lot_sealed(state(incidents=[open_incident(open=False)]),
                                              lot(kind="evidence", incident="INC1")),
         "lot:L1"),
    Case(incident.frozen_rounds_not_written_off,
         lambda: incident.frozen_rounds_not_written_off(weapon(state="frozen"), 0, 1),
         lambda: incident.frozen_rounds_not_written_off(weapon(state="issued"), 0, 1),
         "weapon:W1"),
    Case(incident.misfire_rounds_kept,
         lambda: incident.misfire_rounds_kept(weapon(), "click", 1),
         lambda: incident.misfire_rounds_kept(weapon(), None, 1), "weapon:W1"),
    Case(incident.frozen_weapon_emptied,
         lambda: incident.frozen_weapon_emptied(dummies(2, state="frozen")),
         lambda: incident.frozen_weapon_emptied(weapon(state="frozen")), "weapon:W1"),
    Case(incident.not_destroyed,
         lambda: incident.not_destroyed(state(incidents=[open_incident()]),
                                        lot(quarantined_by=["INC1"])),
         lambda: incident.not_destroyed(state(incidents=[open_incident(open=False)]),
                                        lot(kind="evidence", incident="INC1")), "lot:L1"),
    Case(incident.emptied_before_close, lambda: incident.emptied_before_close(dummies(1), INC),
         lambda: incident.emptied_before_close(weapon(), INC), INC),
    Case(incident.corrective_action, lambda: incident.corrective_action(" fixed it ", INC),
         lambda: incident.corrective_action("fixed the pin", INC), INC),
    Case(incident.armorer_signs,
         lambda: incident.armorer_signs(state(), person(role_conflicts=["x"]), AT, INC),
         lambda: incident.armorer_signs(
             state(overrides=[Override("O1", "PEOPLE_ROLE_CONFLICT", "person:P1", "r", "P4",
                                       None, "t")]),
             person(role_conflicts=["x"]), AT, INC), INC),
    Case(incident.supervisor_signs, lambda: incident.supervisor_signs(AD, INC),
         lambda: incident.supervisor_signs(SUPERVISOR, INC), INC),
    Case(incident.two_signers,
         lambda: incident.two_signers(person(pin_set_by="P4"),
                                      person("P4", "safety_supervisor", pin_set_by="P1"), INC),
         lambda: incident.two_signers(person(pin_set_by="P1"), SUPERVISOR, INC), INC, count=2),
    Case(incident.weapon_back,
         lambda: incident.weapon_back({"P2": PERFORMER}, weapon(custodian="P2"), INC),
         lambda: incident.weapon_back({"P1": person()}, weapon(custodian="P1"), INC), INC),
    Case(incident.pins_entered, lambda: incident.pins_entered(False, False, INC),
         lambda: incident.pins_entered(False, True, INC), INC),
    # ---- rental ----
    Case(rental.weapon_returnable,
         lambda: rental.weapon_returnable(state(), weapon(state="issued", custodian="P2")),
         lambda: rental.weapon_returnable(state(), weapon(storage="ST1")), "weapon:W1"),
    Case(rental.lot_returnable,
         lambda: rental.lot_returnable(state(), Lot(id="L1", kind="blank", calibre="9mm",
                                                    supplier="S", supplier_lot="X",
                                                    storage="ST1", quarantined_by=["INC1"])),
         lambda: rental.lot_returnable(state(), Lot(id="L1", kind="blank", calibre="9mm",
                                                    supplier="S", supplier_lot="X",
                                                    storage="ST1")), "lot:L1"),
    # ---- maintenance ----
    Case(maintenance.function_checked,
         lambda: maintenance.function_checked(upkept(due="cleaned"), weapon()),
         lambda: maintenance.function_checked(upkept(due=None), weapon()), "weapon:W1"),
    Case(maintenance.not_grounded,
         lambda: maintenance.not_grounded(upkept(grounded=True),
                                          weapon(state="grounded", storage="ST1")),
         lambda: maintenance.not_grounded(upkept(), weapon(storage="ST1")), "weapon:W1"),
    # A 1st AD signing as armorer, and a PIN set by the other signer: two faults.
    Case(maintenance.grounding_signed,
         lambda: maintenance.grounding_signed(state(), AD,
                                              person("P4", "safety_supervisor",
                                                     pin_set_by="P3"), AT, "weapon:W1"),
         lambda: maintenance.grounding_signed(state(), person(), SUPERVISOR, AT, "weapon:W1"),
         "weapon:W1", count=2),
    Case(maintenance.grounding_pins_entered,
         lambda: maintenance.grounding_pins_entered(False, False, "weapon:W1"),
         lambda: maintenance.grounding_pins_entered(True, False, "weapon:W1"), "weapon:W1"),
    # ---- wrap ----
    Case(wrap.weapons_stored,
         lambda: wrap.weapons_stored([weapon(state="returned", custodian="P1"),
                                      weapon(id="W2", state="retired"),
                                      weapon(id="W3", storage="ST1")]),
         lambda: wrap.weapons_stored([weapon(storage="ST1")]), "weapon:W1"),
    Case(wrap.lots_balanced,
         lambda: wrap.lots_balanced([lot(received=10, loaded=6, returned=5)]),
         lambda: wrap.lots_balanced([lot(received=10, loaded=6, returned=5, fired=1)]),
         "lot:L1"),
    Case(wrap.count_matches, lambda: wrap.count_matches(lot(received=10), 9),
         lambda: wrap.count_matches(lot(received=10), 10), "lot:L1"),
]
CODE_OF = {fn: code for code, fns in CHECKS.items() for fn in fns}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_check_refuses_with_its_rules_code_and_allows_the_nearest_case(
        case: Case) -> None:
    found = case.refuses()
    assert len(found) == case.count, found
    for v in found:
        assert v.code == CODE_OF[case.check], v
        assert v.subject == case.subject, v
        assert v.message
    assert case.allows() == []


def test_every_registered_check_has_a_case() -> None:
    cased = [c.check for c in CASES]
    missing = [f"{f.__module__}.{f.__name__}" for f in CODE_OF if f not in cased]
    assert not missing, f"checks with no case here: {missing}"
    assert len(cased) == len(set(cased)), "one case per check"


def test_the_armorer_checks_compose_as_the_decisions_need() -> None:
    """Someone who is no armorer is refused as such, and only as such; an
    armorer's qualification and role conflicts are both reported."""
    no = person("P9", "prop_master", qualification_expires=None, role_conflicts=["x"])
    assert [v.code for v in people.armorer(no, AT, UTC)] == ["CUSTODY_ARMORER_ONLY"]
    both = dataclasses.replace(person(qualification_expires=None), role_conflicts=["x"])
    assert [v.code for v in people.armorer(both, AT, UTC)] == [
        "CUSTODY_QUALIFICATION_EXPIRED", "PEOPLE_ROLE_CONFLICT"]
    assert people.armorer(person(), AT, UTC) == []


def test_checks_are_pure() -> None:
    """Same input, same answer, and the entities are left as they were."""
    w = weapon(state="frozen", frozen_by=["INC1"], custodian="P2")
    before = dataclasses.asdict(w)
    first = handoff.returner_holds(w, AD) + custody.not_frozen(w, "inspect")
    assert first == handoff.returner_holds(w, AD) + custody.not_frozen(w, "inspect")
    assert dataclasses.asdict(w) == before


def test_no_violation_is_built_outside_the_checks() -> None:
    """Where is rule X enforced: in domain/checks/, and nowhere else."""
    src = Path(__file__).resolve().parents[2] / "src" / "coldcheck"
    outside = []
    for path in sorted(src.rglob("*.py")):
        if path.parent.name == "checks" and path.parent.parent.name == "domain":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and (
                    getattr(node.func, "id", None) == "Violation"
                    or getattr(node.func, "attr", None) == "Violation"):
                outside.append(f"{path.relative_to(src)}:{node.lineno}")
    assert not outside, f"Violation built outside coldcheck.domain.checks: {outside}"


@pytest.mark.parametrize(("w", "sc", "why"), [
    (dummies(state="issued"), a_scene(hot=True), "loaded with dummy rounds"),
    (weapon(state="issued"), a_scene(hot=True), "holds no blanks"),
    (blanks(state="issued"), a_scene(hot=False), "is cold"),
    (blanks(state="issued"), a_scene(hot=True, rehearsal=True), "a rehearsal"),
    (blanks(state="inspected"), None, "not out in a planned take"),
])
def test_a_failure_to_fire_outside_a_blank_take_is_a_misfire(w: Weapon, sc: Scene | None,
                                                              why: str) -> None:
    found = incident.dud_is_routine(state(), w, sc)
    assert [v.code for v in found] == ["INCIDENT_DISCHARGE"]
    assert why in found[0].message
    assert incident.dud_is_routine(state(), blanks(state="issued"), a_scene(hot=True)) == []


def test_a_qualification_holds_through_its_last_day_on_set_not_in_utc() -> None:
    """CUSTODY_QUALIFICATION_EXPIRED dates ``at`` in the production's zone: at
    10:30 UTC on the 24th it is already the 25th in Auckland (expired) and still
    the 24th in Los Angeles (valid), whatever the UTC date says."""
    from zoneinfo import ZoneInfo

    until_24 = person(qualification_expires="2026-11-24")
    late = datetime(2026, 11, 24, 11, 30, tzinfo=UTC)  # 00:30 on the 25th in Auckland
    assert people.qualification_current(until_24, late, UTC) == []
    assert [v.code for v in people.qualification_current(
        until_24, late, ZoneInfo("Pacific/Auckland"))] == ["CUSTODY_QUALIFICATION_EXPIRED"]
    early = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 19:00 on the 24th in Los Angeles
    assert people.qualification_current(until_24, early, ZoneInfo("America/Los_Angeles")) == []
    assert people.qualification_current(until_24, early, UTC) != []
