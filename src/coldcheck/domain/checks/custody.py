"""Frozen weapons, fresh and complete inspections, weapons back in time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import Violation
from . import produces

if TYPE_CHECKING:
    from ..incidents import Inspection
    from ..scenes import Day
    from ..weapons import Weapon


@produces("CUSTODY_WEAPON_FROZEN")
def not_frozen(weapon: Weapon, action: str) -> list[Violation]:
    """A weapon named by an open incident is neither inspected nor issued
    (``action``: ``inspect`` or ``issue``, each with its own message)."""
    w = weapon
    if w.state != "frozen":
        return []
    if action == "issue":
        return [Violation("CUSTODY_WEAPON_FROZEN", f"weapon {w.id} is frozen by open "
                          f"incident(s) {', '.join(w.frozen_by)}", f"weapon:{w.id}")]
    return [Violation("CUSTODY_WEAPON_FROZEN",
                      f"weapon {w.id} is frozen by incident(s) {', '.join(w.frozen_by)}",
                      f"weapon:{w.id}")]


@produces("CUSTODY_INSPECTION_REQUIRED")
def inspected_before_issue(weapon: Weapon) -> list[Violation]:
    """At issue: a weapon in storage or just returned is inspected first."""
    w = weapon
    if w.state not in ("in_storage", "returned"):
        return []
    return [Violation("CUSTODY_INSPECTION_REQUIRED",
                      f"weapon {w.id} is {w.state}: inspect it (witnessed) before issuing",
                      f"weapon:{w.id}")]


@produces("CUSTODY_INSPECTION_REQUIRED")
def fresh_inspection(weapon: Weapon, inspection: Inspection | None) -> list[Violation]:
    """At issue: the weapon has an inspection recorded since its last custody
    change and not used for an issue yet (``inspection``: that one, or None)."""
    if inspection is not None:
        return []
    return [Violation("CUSTODY_INSPECTION_REQUIRED",
                      f"weapon {weapon.id} has no inspection since its last custody change",
                      f"weapon:{weapon.id}")]


@produces("CUSTODY_INSPECTION_REQUIRED")
def current_inspection(weapon: Weapon, inspection: Inspection) -> list[Violation]:
    """At witnessing: only the weapon's current inspection is confirmed."""
    w, insp = weapon, inspection
    if w.inspection == insp.id and not insp.used and w.last_custody_seq <= insp.seq:
        return []
    return [Violation("CUSTODY_INSPECTION_REQUIRED",
                      f"inspection {insp.id} is no longer the current inspection "
                      f"of weapon {w.id}", f"inspection:{insp.id}")]


@produces("CUSTODY_INSPECTION_INCOMPLETE")
def inspection_complete(inspection: Inspection, subject: str) -> list[Violation]:
    """The inspection covers every position, the barrel and the magazine
    (``subject``: the inspection when witnessing, the weapon at issue)."""
    if inspection.complete:
        return []
    return [Violation("CUSTODY_INSPECTION_INCOMPLETE",
                      f"inspection {inspection.id} does not cover "
                      f"{', '.join(inspection.missing)}", subject)]


@produces("CUSTODY_OVERDUE")
def no_issue_in_meal_break(day: Day) -> list[Violation]:
    """No weapon is issued during a meal break."""
    if not day.meal_break:
        return []
    return [Violation("CUSTODY_OVERDUE", "no weapon is issued during a meal break",
                      f"day:{day.id}")]


@produces("CUSTODY_OVERDUE")
def back_before_meal_break(weapons: Iterable[Weapon], day: str) -> list[Violation]:
    """A meal break starts only once every issued weapon is back."""
    return [Violation("CUSTODY_OVERDUE", f"weapon {w.id} is still issued to {w.custodian}; "
                      "every weapon comes back before a meal break", f"day:{day}")
            for w in weapons if w.state == "issued"]
