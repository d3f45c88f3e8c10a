"""WRAP_RECONCILE: the day wraps only with every weapon stored and every lot
balanced."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import Violation
from . import produces

if TYPE_CHECKING:
    from ..ammunition import Lot
    from ..weapons import Weapon

CODE = "WRAP_RECONCILE"


@produces(CODE)
def weapons_stored(weapons: Iterable[Weapon]) -> list[Violation]:
    """Every weapon that is not retired is in storage (a frozen one counts once
    it is locked away)."""
    return [Violation("WRAP_RECONCILE", f"weapon {w.id} ({w.serial}) is {w.state}"
                      + (f", with {w.custodian}" if w.custodian else "")
                      + "; store it before wrap", f"weapon:{w.id}")
            for w in weapons if w.state != "retired" and w.storage is None]


@produces(CODE)
def lots_balanced(lots: Iterable[Lot]) -> list[Violation]:
    """Every round loaded is accounted for: fired, returned, lost or evidence."""
    return [Violation("WRAP_RECONCILE", f"lot {lot.id}: {lot.in_weapons} rounds "
                      "unaccounted for (loaded ≠ fired + returned + lost)", f"lot:{lot.id}")
            for lot in lots if not lot.balanced]


@produces(CODE)
def count_matches(lot: Lot, counted: int) -> list[Violation]:
    """A physical count given at wrap equals the rounds the record says are on hand."""
    if counted == lot.on_hand:
        return []
    return [Violation("WRAP_RECONCILE", f"lot {lot.id}: counted {counted}, the "
                      f"record says {lot.on_hand} on hand", f"lot:{lot.id}")]
