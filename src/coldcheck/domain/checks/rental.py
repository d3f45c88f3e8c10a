"""Returning rented weapons and lots to their vendor (RENTAL_RETURN_HELD)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Violation
from . import produces

if TYPE_CHECKING:
    from ..ammunition import Lot
    from ..state import ProductionState
    from ..weapons import Weapon


@produces("RENTAL_RETURN_HELD")
def weapon_returnable(s: ProductionState, weapon: Weapon) -> list[Violation]:
    """A weapon goes back to its vendor only from storage (a grounded one too,
    once it is stored): never frozen, never named by an open incident, never out
    with a performer or in an armorer's hands (perhaps loaded)."""
    w = weapon
    subj = f"weapon:{w.id}"
    open_named = sorted(i.id for i in s.incidents.values() if i.open and w.id in i.weapons)
    if w.state == "frozen" or open_named:
        by = ", ".join(sorted(set(w.frozen_by) | set(open_named)))
        return [Violation("RENTAL_RETURN_HELD",
                          f"weapon {w.id} is held by open incident {by}: it stays until the "
                          "incident is closed", subj)]
    if w.state == "issued":
        return [Violation("RENTAL_RETURN_HELD",
                          f"weapon {w.id} is out with {w.custodian}: it comes back to the "
                          "armorer and into storage first", subj)]
    if w.storage is None or w.state not in ("in_storage", "grounded"):
        return [Violation("RENTAL_RETURN_HELD",
                          f"weapon {w.id} is {w.state} with {w.custodian or 'nobody'}: "
                          "store it, unloaded, before it goes back", subj)]
    return []


@produces("RENTAL_RETURN_HELD")
def lot_returnable(s: ProductionState, lot: Lot) -> list[Violation]:
    """A lot goes back only when none of its rounds is in a weapon and no open
    incident names it (its rounds may be evidence)."""
    subj = f"lot:{lot.id}"
    if lot.quarantined_by:
        return [Violation("RENTAL_RETURN_HELD",
                          f"lot {lot.id} is named by open incident "
                          f"{', '.join(lot.quarantined_by)}: it stays until it is closed",
                          subj)]
    if lot.in_weapons:
        return [Violation("RENTAL_RETURN_HELD",
                          f"{lot.in_weapons} rounds of lot {lot.id} are still in weapons: "
                          "unload them first", subj)]
    return []
