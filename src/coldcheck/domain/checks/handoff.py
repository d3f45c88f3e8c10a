"""CUSTODY_DIRECT_HANDOFF: a weapon passes only armorer → performer → armorer.

One check per situation, each with its own message; every one is about the
weapon (subject ``weapon:<id>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Violation
from . import produces

if TYPE_CHECKING:
    from ..people import Person
    from ..weapons import Weapon

CODE = "CUSTODY_DIRECT_HANDOFF"


@produces(CODE)
def to_performer(weapon: Weapon, person: Person) -> list[Violation]:
    """At issue and at return: the other end of the hand-off is a performer (or a
    stand-in for one)."""
    if person.receives:
        return []
    return [Violation("CUSTODY_DIRECT_HANDOFF",
                      f"{person.name} ({person.id}) is not a performer or stand-in: weapons "
                      "pass only "
                      "armorer → performer → armorer", f"weapon:{weapon.id}")]


@produces(CODE)
def issuer_holds(weapon: Weapon, armorer: Person) -> list[Violation]:
    """At issue: the weapon is with the issuing armorer, or nobody holds it (in
    storage, frozen or not) or it has just been returned."""
    w = weapon
    if w.custodian is None or w.custodian == armorer.id or w.state in ("in_storage",
                                                                         "returned"):
        return []
    return [Violation("CUSTODY_DIRECT_HANDOFF",
                      f"weapon {w.id} is held by {w.custodian}, not by {armorer.name}",
                      f"weapon:{w.id}")]


@produces(CODE)
def returner_holds(weapon: Weapon, performer: Person) -> list[Violation]:
    """At return: the weapon is issued to (or frozen while with) the person
    handing it back."""
    w = weapon
    if w.custodian == performer.id and w.state in ("issued", "frozen"):
        return []
    return [Violation("CUSTODY_DIRECT_HANDOFF",
                      f"weapon {w.id} is not held by {performer.name} ({performer.id}); it is "
                      f"{w.state}" + (f" with {w.custodian}" if w.custodian else ""),
                      f"weapon:{w.id}")]


@produces(CODE)
def inspector_holds(weapon: Weapon, armorer: Person) -> list[Violation]:
    """At inspection: an armorer inspects a weapon in storage or one they hold;
    one with another armorer is stored by that armorer first. (Someone who is
    no armorer is refused as such: CUSTODY_ARMORER_ONLY.)"""
    w = weapon
    if not (armorer.is_armorer or armorer.is_prop) or w.custodian is None \
            or w.custodian == armorer.id \
            or w.state == "issued":
        return []
    return [Violation("CUSTODY_DIRECT_HANDOFF",
                      f"weapon {w.id} is held by {w.custodian}, not by {armorer.name}: "
                      "the armorer who holds it stores it before another takes it out",
                      f"weapon:{w.id}")]


@produces(CODE)
def storer_holds(weapon: Weapon, armorer: Person) -> list[Violation]:
    """At storage: the weapon is with the armorer who stores it."""
    w = weapon
    if w.custodian == armorer.id:
        return []
    return [Violation("CUSTODY_DIRECT_HANDOFF",
                      f"weapon {w.id} is held by {w.custodian or 'storage'}, not {armorer.name}",
                      f"weapon:{w.id}")]


@produces(CODE)
def evidence_taker_holds(weapon: Weapon, armorer: Person) -> list[Violation]:
    """Recording evidence: rounds come out of a weapon in storage or with the
    armorer taking them out."""
    w = weapon
    if w.custodian is None or w.custodian == armorer.id:
        return []
    return [Violation("CUSTODY_DIRECT_HANDOFF",
                      f"weapon {w.id} is with {w.custodian}: it comes back to the armorer "
                      "before rounds are taken out", f"weapon:{w.id}")]


@produces(CODE)
def issue_or_return_only(weapon: Weapon, frm: Person, to: Person,
                         frm_handles: bool | None = None,
                         to_handles: bool | None = None) -> list[Violation]:
    """Any transfer between two people is an issue (armorer, or a property
    master with a credential: ``*_handles``, to a performer or stand-in) or a
    return (back to them); nothing else exists."""
    fh = frm.is_armorer if frm_handles is None else frm_handles
    th = to.is_armorer if to_handles is None else to_handles
    if (fh and to.receives) or (frm.receives and th):
        return []
    return [Violation("CUSTODY_DIRECT_HANDOFF",
                      f"{frm.name} ({', '.join(frm.roles)}) cannot hand weapon {weapon.id} to "
                      f"{to.name} ({', '.join(to.roles)}): weapons pass only armorer → "
                      "performer → armorer", f"weapon:{weapon.id}")]
