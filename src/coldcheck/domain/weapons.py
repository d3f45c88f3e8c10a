"""Weapons and their state machine.

The state machine is data: :data:`TRANSITIONS` maps (state, action) to the next
state, and :data:`REFUSED_MOVES` names the rule that refuses a move the table
lacks. Any other move raises one error naming both the state and the action.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InvalidTransition

KINDS = ("firearm", "blank_only", "non_firing_replica", "rubber", "airsoft", "other")
# Replicas, rubber and airsoft are tracked but not subject to the firearm rules.
# `other` is unknown, so it is treated as a firearm: the safe reading.
NON_FIREARM_KINDS = frozenset({"non_firing_replica", "rubber", "airsoft"})
STATES = ("in_storage", "inspected", "issued", "returned", "frozen", "grounded", "retired")

TRANSITIONS: dict[tuple[str, str], str] = {
    ("in_storage", "inspect"): "inspected",
    ("inspected", "inspect"): "inspected",
    ("returned", "inspect"): "inspected",
    ("inspected", "issue"): "issued",
    ("issued", "return"): "returned",
    ("issued", "dud"): "issued",
    ("returned", "store"): "in_storage",
    ("inspected", "store"): "in_storage",
    ("in_storage", "retire"): "retired",
    ("in_storage", "freeze"): "frozen",
    ("inspected", "freeze"): "frozen",
    ("issued", "freeze"): "frozen",
    ("returned", "freeze"): "frozen",
    ("frozen", "freeze"): "frozen",
    ("frozen", "return"): "frozen",
    ("frozen", "store"): "frozen",
    ("frozen", "record_evidence"): "frozen",
    ("frozen", "unfreeze_stored"): "in_storage",
    ("frozen", "unfreeze_held"): "returned",
    # Maintenance (cleaning and function checks happen with the armorer or in the
    # safe, never while the weapon is out, loaded for a scene, or frozen).
    ("in_storage", "clean"): "in_storage",
    ("returned", "clean"): "returned",
    ("grounded", "clean"): "grounded",
    ("in_storage", "function_check"): "in_storage",
    ("returned", "function_check"): "returned",
    # Grounding: damaged or suspect, out of use until a recorded repair (or it
    # leaves for good: retired from storage).
    ("in_storage", "ground"): "grounded",
    ("inspected", "ground"): "grounded",
    ("returned", "ground"): "grounded",
    ("grounded", "store"): "grounded",
    ("grounded", "freeze"): "frozen",
    ("frozen", "unfreeze_grounded"): "grounded",
    ("grounded", "repair_stored"): "in_storage",
    ("grounded", "repair_held"): "returned",
    ("grounded", "retire"): "retired",
}


# Moves the table lacks that a rule refuses, rather than the state machine: the
# refusal carries the rule's code and is recorded like any rule's
# (action.refused, weapon.handoff_refused), where WEAPON_INVALID_TRANSITION is not.
REFUSED_MOVES: dict[tuple[str, str], str] = {
    ("frozen", "inspect"): "CUSTODY_WEAPON_FROZEN",
    ("frozen", "issue"): "CUSTODY_WEAPON_FROZEN",
    ("grounded", "inspect"): "CUSTODY_WEAPON_GROUNDED",
    ("grounded", "issue"): "CUSTODY_WEAPON_GROUNDED",
    ("in_storage", "issue"): "CUSTODY_INSPECTION_REQUIRED",
    ("returned", "issue"): "CUSTODY_INSPECTION_REQUIRED",
}


def next_state(weapon: Weapon, action: str) -> str:
    """The state ``action`` moves ``weapon`` to; InvalidTransition if the table
    has no such move. The decisions ask it before deciding, the appliers
    (domain/state.py) take the new state from it."""
    try:
        return TRANSITIONS[(weapon.state, action)]
    except KeyError:
        raise InvalidTransition(weapon.id, weapon.state, action) from None


def refused_move(weapon: Weapon, action: str) -> str | None:
    """None if the table allows ``action`` from the weapon's state; the code of
    the rule that refuses it if :data:`REFUSED_MOVES` names one (the decision
    records that rule's violation); otherwise InvalidTransition."""
    code = REFUSED_MOVES.get((weapon.state, action))
    if code is None:
        next_state(weapon, action)
    return code


EMPTY_LOAD: dict[str, object] = {"kind": "empty", "lot": None, "count": 0}


@dataclass
class Weapon:
    id: str
    serial: str
    make: str
    model: str
    calibre: str
    kind: str
    chambers: int  # cylinder positions, or 1 for a chamber
    magazine_capacity: int  # 0 when the weapon has no magazine
    state: str = "in_storage"
    custodian: str | None = None
    storage: str | None = None
    load: dict[str, object] = field(default_factory=lambda: dict(EMPTY_LOAD))
    last_custody_seq: int = 0
    inspection: str | None = None
    issued_at: str | None = None
    due_at: str | None = None
    scene: str | None = None
    frozen_by: list[str] = field(default_factory=list)

    @property
    def is_firearm(self) -> bool:
        return self.kind not in NON_FIREARM_KINDS

    @property
    def load_kind(self) -> str:
        return str(self.load["kind"])

    @property
    def load_count(self) -> int:
        c = self.load["count"]
        assert isinstance(c, int)
        return c

    @property
    def load_lot(self) -> str | None:
        lot = self.load["lot"]
        return None if lot is None else str(lot)

    def positions(self) -> list[str]:
        """The positions an inspection must cover, in order."""
        return positions(self.chambers, self.magazine_capacity)


def positions(chambers: int, magazine_capacity: int) -> list[str]:
    """The positions an inspection of a weapon with this capacity must cover, in
    order (also for readers that hold only a weapon's projection row)."""
    if magazine_capacity > 0:
        return ["chamber"] if chambers == 1 else [
            f"chamber {i}" for i in range(1, chambers + 1)]
    return [f"cylinder {i}" for i in range(1, chambers + 1)] if chambers > 1 else ["chamber"]
