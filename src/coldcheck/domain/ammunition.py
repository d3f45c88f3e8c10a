"""Ammunition lots. Counts move only by events."""

from __future__ import annotations

from dataclasses import dataclass, field

LOT_KINDS = ("dummy", "blank", "live")
BLANK_LOADS = ("full", "half", "quarter")


@dataclass
class Lot:
    id: str
    kind: str  # dummy | blank | evidence
    calibre: str
    supplier: str
    supplier_lot: str
    storage: str | None
    load: str | None = None  # blanks: full | half | quarter
    received: int = 0
    verified_total: int = 0  # rounds ever verified (numbering of round-by-round checks)
    verified_in_stock: int = 0  # verified rounds on hand, loadable as dummies
    loaded: int = 0
    fired: int = 0
    returned: int = 0
    lost: int = 0
    destroyed: int = 0
    to_evidence: int = 0
    failed_verification: bool = False
    quarantined_by: list[str] = field(default_factory=list)
    incident: str | None = None  # evidence lots: the incident they belong to

    @property
    def on_hand(self) -> int:
        """Rounds in the lot's box: received, minus those loaded, plus those returned."""
        return self.received - self.loaded + self.returned - self.destroyed

    @property
    def in_weapons(self) -> int:
        return self.loaded - self.returned - self.fired - self.lost - self.to_evidence

    @property
    def balanced(self) -> bool:
        """WRAP_RECONCILE: loaded = fired + returned + recorded lost (+ kept as evidence)."""
        return self.in_weapons == 0

    @property
    def quarantined(self) -> bool:
        return self.failed_verification or bool(self.quarantined_by)

    def summary(self) -> dict[str, int]:
        return {"received": self.received, "on_hand": self.on_hand,
                "verified_in_stock": self.verified_in_stock, "loaded": self.loaded,
                "fired": self.fired, "returned": self.returned, "lost": self.lost,
                "destroyed": self.destroyed, "evidence": self.to_evidence,
                "in_weapons": self.in_weapons}
