"""Discharge reports and duds, evidence kept intact, and closing an incident."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from .. import rules
from ..errors import Violation
from ..incidents import DISCHARGE_KINDS
from . import produces
from .people import armorer as armorer_checks

if TYPE_CHECKING:
    from ..ammunition import Lot
    from ..people import Person
    from ..scenes import Scene
    from ..state import ProductionState
    from ..weapons import Weapon


@produces("INCIDENT_DISCHARGE")
def discharge_names_weapons(kind: str, weapons: list[str]) -> list[Violation]:
    """A discharge, misfire or squib report names the weapons involved, so they
    are frozen."""
    if kind not in DISCHARGE_KINDS or weapons:
        return []
    return [Violation("INCIDENT_DISCHARGE", f"a {kind} report names the weapon(s) involved so "
                      "they are frozen", "incident")]


@produces("INCIDENT_DISCHARGE")
def dud_is_routine(s: ProductionState, weapon: Weapon,
                   scene: Scene | None) -> list[Violation]:
    """A failure to fire is a routine dud only for a blank, in a weapon issued
    for a planned take (a hot scene, not a rehearsal), and the first from its
    lot that day; any other is a misfire incident (``scene``: the scene the
    weapon is issued for, None if it is not issued)."""
    w = weapon
    if scene is None or w.state != "issued":
        problem = f"weapon {w.id} is not out in a planned take ({w.state})"
    elif w.load_kind != "blank" or not w.load_count:
        problem = (f"weapon {w.id} holds no blanks" if not w.load_count else
                   f"weapon {w.id} is loaded with {w.load_kind} rounds")
    elif scene.rehearsal or not scene.hot:
        problem = f"scene {scene.id} is {'a rehearsal' if scene.rehearsal else 'cold'}, " \
                  "not a planned take with blanks"
    else:
        earlier = s.duds_of(lot=w.load_lot, day=scene.day)
        if not earlier:
            return []
        problem = (f"a second dud from lot {w.load_lot} today (the first: "
                   f"{earlier[0]['weapon']} in {earlier[0]['scene']})")
    return [Violation("INCIDENT_DISCHARGE", f"a failure to fire is a misfire, not a dud: "
                      f"{problem}", f"weapon:{w.id}")]


# ---- INCIDENT_EVIDENCE_PRESERVED ----------------------------------------------------

@produces("INCIDENT_EVIDENCE_PRESERVED")
def evidence_lot_sealed(s: ProductionState, lot: Lot) -> list[Violation]:
    """An evidence lot is not used (verified, loaded) while its incident is open."""
    inc = s.incidents.get(lot.incident or "") if lot.kind == "evidence" else None
    if inc is None or not inc.open:
        return []
    return [Violation("INCIDENT_EVIDENCE_PRESERVED",
                      f"lot {lot.id} holds evidence for open incident {inc.id}", f"lot:{lot.id}")]


@produces("INCIDENT_EVIDENCE_PRESERVED")
def frozen_rounds_not_written_off(weapon: Weapon, fired: int, lost: int) -> list[Violation]:
    """At return: no round of a frozen weapon is counted fired or lost; they stay
    in it until each is recorded as evidence."""
    w = weapon
    if w.state != "frozen" or not (fired or lost):
        return []
    return [Violation("INCIDENT_EVIDENCE_PRESERVED",
                      f"weapon {w.id} is frozen by incident(s) {', '.join(w.frozen_by)}: "
                      "its rounds stay in it until each is recorded as evidence; none "
                      "can be counted fired or lost on its return", f"weapon:{w.id}")]


@produces("INCIDENT_EVIDENCE_PRESERVED")
def misfire_rounds_kept(weapon: Weapon, misfire: str | None, lost: int) -> list[Violation]:
    """At return with a misfire: no round is counted lost; they are evidence."""
    if misfire is None or not lost:
        return []
    return [Violation("INCIDENT_EVIDENCE_PRESERVED",
                      f"a misfire keeps the rounds in weapon {weapon.id} as evidence: none can "
                      "be counted lost on its return (say what is missing in the "
                      "incident)", f"weapon:{weapon.id}")]


@produces("INCIDENT_EVIDENCE_PRESERVED")
def frozen_weapon_emptied(weapon: Weapon) -> list[Violation]:
    """At storage: a frozen weapon is stored only once each round in it is
    recorded as evidence."""
    w = weapon
    if w.state != "frozen" or not w.load_count:
        return []
    return [Violation("INCIDENT_EVIDENCE_PRESERVED",
                      f"frozen weapon {w.id} still holds {w.load_count} rounds: record "
                      "each one as evidence first", f"weapon:{w.id}")]


@produces("INCIDENT_EVIDENCE_PRESERVED")
def not_destroyed(s: ProductionState, lot: Lot) -> list[Violation]:
    """Nothing is destroyed from an evidence lot, or from any lot named by an
    open incident."""
    open_incs = [i for i in ([lot.incident] if lot.incident else []) + lot.quarantined_by
                 if s.incidents[i].open]
    if not open_incs:
        return []
    return [Violation("INCIDENT_EVIDENCE_PRESERVED",
                      f"lot {lot.id} is evidence for open incident(s) {', '.join(open_incs)}; "
                      "nothing in it may be destroyed", f"lot:{lot.id}")]


@produces("INCIDENT_EVIDENCE_PRESERVED")
def emptied_before_close(weapon: Weapon, subject: str) -> list[Violation]:
    """At closing: a weapon the incident froze holds no rounds (closing would
    unfreeze it, and storing it put them back in their lot, unexamined)."""
    if not weapon.load_count:
        return []
    return [Violation("INCIDENT_EVIDENCE_PRESERVED",
                      f"weapon {weapon.id} still holds {weapon.load_count} round(s): record "
                      "each as evidence before the incident closes", subject)]


# ---- INCIDENT_CLOSE_NEEDS_ACTION ----------------------------------------------------

@produces("INCIDENT_CLOSE_NEEDS_ACTION")
def corrective_action(action: str, subject: str) -> list[Violation]:
    """The corrective action is described (at least 10 characters)."""
    if len(action.strip()) >= 10:
        return []
    return [Violation("INCIDENT_CLOSE_NEEDS_ACTION",
                      "describe the corrective action (at least 10 characters)", subject)]


@produces("INCIDENT_CLOSE_NEEDS_ACTION")
def armorer_signs(s: ProductionState, armorer: Person, at: datetime,
                  subject: str) -> list[Violation]:
    """The armorer signing passes the armorer checks; only what still blocks
    counts (an acknowledged role conflict does not stop a signature)."""
    a = armorer
    if a.is_armorer and not rules.blocking(s, armorer_checks(a, at, s.zone)):
        return []
    return [Violation("INCIDENT_CLOSE_NEEDS_ACTION",
                      f"{a.name} ({a.id}) cannot sign as armorer", subject)]


@produces("INCIDENT_CLOSE_NEEDS_ACTION")
def supervisor_signs(supervisor: Person, subject: str) -> list[Violation]:
    """The supervisor signing holds the safety supervisor role."""
    sup = supervisor
    if "safety_supervisor" in sup.roles:
        return []
    return [Violation("INCIDENT_CLOSE_NEEDS_ACTION",
                      f"{sup.name} ({sup.id}) is not the safety supervisor", subject)]


@produces("INCIDENT_CLOSE_NEEDS_ACTION")
def two_signers(armorer: Person, supervisor: Person, subject: str) -> list[Violation]:
    """Two signatures mean two people: not one person signing as both, and
    neither signer's PIN recorded by the other (for example an "armorer" added
    with a PIN the supervisor chose)."""
    a, sup = armorer, supervisor
    if a.id == sup.id:
        return [Violation("INCIDENT_CLOSE_NEEDS_ACTION",
                          "the armorer and the safety supervisor signing must be two people",
                          subject)]
    return [Violation("INCIDENT_CLOSE_NEEDS_ACTION",
                      f"{signer.name}'s PIN was recorded by {other.name}, the other signer: "
                      f"{signer.name} sets their own PIN (My PIN) before signing", subject)
            for signer, other in ((a, sup), (sup, a)) if signer.pin_set_by == other.id]


@produces("INCIDENT_CLOSE_NEEDS_ACTION")
def weapon_back(people: Mapping[str, Person], weapon: Weapon,
                subject: str) -> list[Violation]:
    """Every weapon the incident names is back with an armorer or in storage."""
    w = weapon
    if w.custodian is None or people[w.custodian].is_armorer:
        return []
    return [Violation("INCIDENT_CLOSE_NEEDS_ACTION",
                      f"weapon {w.id} is still with {w.custodian}: return it first", subject)]


@produces("INCIDENT_CLOSE_NEEDS_ACTION")
def pins_entered(pins_checked: bool, refused_otherwise: bool,
                 subject: str) -> list[Violation]:
    """A closure that would pass is refused unless both signers' PINs were
    checked (the service skips them only where it expects a refusal)."""
    if pins_checked or refused_otherwise:
        return []
    return [Violation("INCIDENT_CLOSE_NEEDS_ACTION",
                      "both signers' PINs must be entered and checked", subject)]
