"""Live rounds, dummy verification, quarantined lots, calibre."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common import same_calibre
from ..errors import Violation
from . import produces

if TYPE_CHECKING:
    from ..ammunition import Lot
    from ..incidents import Inspection
    from ..state import ProductionState
    from ..weapons import Weapon


@produces("AMMO_LIVE_FORBIDDEN")
def live_forbidden(kind: str, *, count: int, calibre: str, supplier: str, supplier_lot: str,
                   incident: str) -> list[Violation]:
    """At intake: live ammunition is never accepted (``incident``: the one the
    attempt opens)."""
    if kind != "live":
        return []
    return [Violation("AMMO_LIVE_FORBIDDEN",
                      f"live ammunition is never accepted on a production: {count} rounds of "
                      f"{calibre} from {supplier} lot {supplier_lot} refused; incident "
                      f"{incident} opened. Remove it from the property.", "intake")]


@produces("AMMO_LIVE_FORBIDDEN")
def live_listed(kind: str, *, supplier_lot: str) -> list[Violation]:
    """In an inventory file (``coldcheck import lots``): a line of live ammunition
    refuses the whole import. No incident: a line of a file is not ammunition
    presented on set; live rounds actually on the property go through intake."""
    if kind != "live":
        return []
    return [Violation("AMMO_LIVE_FORBIDDEN", "live ammunition is never accepted on a "
                      "production: the whole import is refused. Remove the line; live rounds "
                      "actually on the property are presented with `coldcheck ammo intake`, "
                      "which records the refusal and opens an incident",
                      f"supplier_lot:{supplier_lot}")]


@produces("AMMO_LOT_QUARANTINED")
def not_quarantined(lot: Lot) -> list[Violation]:
    """A lot named by an open incident or a failed verification is not used."""
    if not lot.quarantined:
        return []
    why = ("failed dummy verification" if lot.failed_verification
           else f"named by open incident(s) {', '.join(lot.quarantined_by)}")
    return [Violation("AMMO_LOT_QUARANTINED", f"lot {lot.id} is quarantined: {why}",
                      f"lot:{lot.id}")]


@produces("AMMO_CALIBRE_MISMATCH")
def calibre_matches(lot: Lot, weapon: Weapon) -> list[Violation]:
    """At inspection: the rounds loaded match the weapon's calibre."""
    if same_calibre(lot.calibre, weapon.calibre):
        return []
    return [Violation("AMMO_CALIBRE_MISMATCH",
                      f"lot {lot.id} is {lot.calibre}; weapon {weapon.id} takes "
                      f"{weapon.calibre}", f"weapon:{weapon.id}")]


@produces("AMMO_DUMMY_UNVERIFIED")
def dummies_verified(lot: Lot, content: str, count: int, verified: int) -> list[Violation]:
    """At inspection: no more dummies are loaded than the lot's verified ones
    (``verified``: those on hand plus those this inspection puts back)."""
    if content != "dummy" or count <= verified:
        return []
    return [Violation("AMMO_DUMMY_UNVERIFIED",
                      f"lot {lot.id} has {verified} verified dummies on hand; "
                      f"{count} cannot be loaded until each round is verified",
                      f"lot:{lot.id}")]


@produces("AMMO_DUMMY_UNVERIFIED")
def loaded_dummies_still_verified(s: ProductionState, weapon: Weapon,
                                  inspection: Inspection | None) -> list[Violation]:
    """At issue: the dummies in the weapon were not loaded (by ``inspection``)
    before an incident voided their lot's verification."""
    w, lot = weapon, weapon.load_lot
    if w.load_kind != "dummy" or not lot or inspection is None or \
            s.still_verified(lot, inspection.id):
        return []
    inc = s.voided[lot][1]
    return [Violation("AMMO_DUMMY_UNVERIFIED",
                      f"the {w.load_count} dummies in weapon {w.id} were loaded before "
                      f"incident {inc} voided the verification of lot {lot}: "
                      "inspect the weapon again (its rounds go back unverified), "
                      "verify them and load verified rounds", f"lot:{lot}")]
