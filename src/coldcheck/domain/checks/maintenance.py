"""Maintenance: function checks before use, and grounding a weapon that is
damaged or suspect (signed by an armorer and the safety supervisor)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .. import rules
from ..errors import Violation
from . import produces
from .people import armorer as armorer_checks

if TYPE_CHECKING:
    from ..people import Person
    from ..state import ProductionState
    from ..weapons import Weapon


@produces("CUSTODY_FUNCTION_CHECK_DUE")
def function_checked(s: ProductionState, weapon: Weapon) -> list[Violation]:
    """At issue: a firearm cleaned or repaired since its last function check is
    function-checked first (``ProductionState.function_check_due``)."""
    w = weapon
    why = s.function_check_due(w.id) if w.is_firearm else None
    if why is None:
        return []
    return [Violation("CUSTODY_FUNCTION_CHECK_DUE",
                      f"weapon {w.id} was {why} since its last function check: "
                      "function-check it before it is issued", f"weapon:{w.id}")]


@produces("CUSTODY_WEAPON_GROUNDED")
def not_grounded(s: ProductionState, weapon: Weapon) -> list[Violation]:
    """A grounded weapon is neither inspected nor issued until it is repaired."""
    w = weapon
    g = s.grounded.get(w.id)
    if w.state != "grounded" or g is None:
        return []
    return [Violation("CUSTODY_WEAPON_GROUNDED",
                      f"weapon {w.id} is grounded ({g['reason']}): it stays out of use until "
                      "a repair is recorded", f"weapon:{w.id}")]


@produces("CUSTODY_WEAPON_GROUNDED")
def grounding_signed(s: ProductionState, armorer: Person, supervisor: Person, at: datetime,
                     subject: str) -> list[Violation]:
    """Grounding is signed by a qualified armorer and the safety supervisor: two
    people, neither one's PIN recorded by the other."""
    a, sup = armorer, supervisor
    out: list[Violation] = []
    if not a.is_armorer or rules.blocking(s, armorer_checks(a, at, s.zone)):
        out.append(Violation("CUSTODY_WEAPON_GROUNDED",
                             f"{a.name} ({a.id}) cannot sign as armorer", subject))
    if "safety_supervisor" not in sup.roles:
        out.append(Violation("CUSTODY_WEAPON_GROUNDED",
                             f"{sup.name} ({sup.id}) is not the safety supervisor", subject))
    if a.id == sup.id:
        out.append(Violation("CUSTODY_WEAPON_GROUNDED", "the armorer and the safety "
                             "supervisor grounding a weapon must be two people", subject))
    else:
        out += [Violation("CUSTODY_WEAPON_GROUNDED",
                          f"{signer.name}'s PIN was recorded by {other.name}, the other "
                          f"signer: {signer.name} sets their own PIN (My PIN) before signing",
                          subject)
                for signer, other in ((a, sup), (sup, a)) if signer.pin_set_by == other.id]
    return out


@produces("CUSTODY_WEAPON_GROUNDED")
def grounding_pins_entered(pins_checked: bool, refused_otherwise: bool,
                           subject: str) -> list[Violation]:
    """A grounding that would pass is refused unless both signers' PINs were
    checked (the service skips them only where it expects a refusal)."""
    if pins_checked or refused_otherwise:
        return []
    return [Violation("CUSTODY_WEAPON_GROUNDED",
                      "both signers' PINs must be entered and checked", subject)]
