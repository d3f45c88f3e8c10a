"""CUSTODY_WITNESS_REQUIRED: an inspection is confirmed by the receiving
performer and by the 1st AD or safety supervisor, each with their own PIN;
nobody witnesses their own action."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import Violation
from . import produces

if TYPE_CHECKING:
    from ..incidents import Inspection
    from ..people import Person
    from ..weapons import Weapon

CODE = "CUSTODY_WITNESS_REQUIRED"


def _name(people: Mapping[str, Person], ident: str) -> str:
    return people[ident].name if ident in people else ident


def recorded_in_chain(entries: list[dict[str, str]],
                      armorers: set[str]) -> list[tuple[dict[str, str], str]]:
    """(confirmation, who recorded its PIN) for each of ``entries`` whose PIN, as
    it stood when it was given, was recorded by one of ``armorers`` or by another
    witness among ``entries``: someone who knows that PIN and could have
    confirmed in the witness's name ("each with their own PIN")."""
    people = {e["person"] for e in entries}
    out = []
    for e in entries:
        by = e.get("pin_set_by")
        if by and by != e["person"] and (by in armorers or by in people):
            out.append((e, by))
    return out


def independent_witnesses(people: Mapping[str, Person], insp: Inspection, *,
                          armorer: str) -> list[str]:
    """Why the confirmations of ``insp`` are not each their witness's own, at
    issue: as recorded when each witness confirmed, against each other and
    against the armorer handing the weapon over (who may not be the one who
    inspected). Empty when they are independent."""
    return [f"{_name(people, e['person'])} confirmed inspection {insp.id} with a PIN "
            f"recorded by {_name(people, by)}"
            for e, by in recorded_in_chain(insp.witnesses, {insp.armorer, armorer})]


@produces(CODE)
def not_own_inspection(inspection: Inspection, witness: Person) -> list[Violation]:
    """At witnessing: nobody witnesses their own inspection."""
    if witness.id != inspection.armorer:
        return []
    return [Violation("CUSTODY_WITNESS_REQUIRED", "nobody witnesses their own inspection",
                      f"inspection:{inspection.id}")]


@produces(CODE)
def own_pin_at_witnessing(people: Mapping[str, Person], inspection: Inspection,
                          witness: Person) -> list[Violation]:
    """At witnessing: ``witness``'s confirmation must not rest on a PIN the
    inspecting armorer or the other witness recorded, nor the other witness's on
    a PIN ``witness`` recorded (as it stood when they confirmed: changing a PIN
    later does not undo a confirmation)."""
    insp, p, subj = inspection, witness, f"inspection:{inspection.id}"
    mine: dict[str, str] = {"person": p.id}
    if p.pin_set_by:
        mine["pin_set_by"] = p.pin_set_by
    how = (f": {p.name} sets their own PIN (My PIN), or has it set in the session of "
           "someone who is neither the inspecting armorer nor a witness of this inspection; "
           "or another 1st AD or safety supervisor confirms instead")
    out: list[Violation] = []
    for e, by in recorded_in_chain([*insp.witnesses, mine], {insp.armorer}):
        who = _name(people, by)
        if e is mine:
            did = "made" if by == insp.armorer else "already witnessed"
            out.append(Violation("CUSTODY_WITNESS_REQUIRED",
                                 f"{p.name}'s PIN was recorded by {who}, who {did} inspection "
                                 f"{insp.id}" + how, subj))
        elif by == p.id:
            other = _name(people, e["person"])
            out.append(Violation("CUSTODY_WITNESS_REQUIRED",
                                 f"{other} confirmed inspection {insp.id} with a PIN "
                                 f"recorded by {p.name}: the two confirmations must come from "
                                 "two people's own PINs; another 1st AD or safety supervisor "
                                 "confirms instead, or the inspection is made again", subj))
    return out


@produces(CODE)
def performer_confirmed(weapon: Weapon, inspection: Inspection,
                        performer: Person) -> list[Violation]:
    """At issue: the receiving performer confirmed the inspection."""
    by = {x["person"]: x["role"] for x in inspection.witnesses}
    if by.get(performer.id) in ("performer", "stand_in"):
        return []
    return [Violation("CUSTODY_WITNESS_REQUIRED",
                      f"{performer.name} ({performer.id}) has not confirmed inspection "
                      f"{inspection.id} with their PIN", f"weapon:{weapon.id}")]


@produces(CODE)
def safety_witness(weapon: Weapon, inspection: Inspection) -> list[Violation]:
    """At issue: the 1st AD or the safety supervisor confirmed the inspection."""
    by = {x["person"]: x["role"] for x in inspection.witnesses}
    if any(r in ("first_ad", "safety_supervisor") for r in by.values()):
        return []
    return [Violation("CUSTODY_WITNESS_REQUIRED",
                      f"inspection {inspection.id} needs the 1st AD or the safety "
                      "supervisor as witness", f"weapon:{weapon.id}")]


@produces(CODE)
def own_pins_at_issue(people: Mapping[str, Person], weapon: Weapon, inspection: Inspection,
                      armorer: Person) -> list[Violation]:
    """At issue: each confirmation was its witness's own (see
    :func:`independent_witnesses`)."""
    return [Violation("CUSTODY_WITNESS_REQUIRED", why + ": not that witness's own "
                      "confirmation; inspect again and have it confirmed", f"weapon:{weapon.id}")
            for why in independent_witnesses(people, inspection, armorer=armorer.id)]
