"""Incidents, complaints, inspections' records and overrides."""

from __future__ import annotations

from dataclasses import dataclass, field

INCIDENT_KINDS = ("discharge", "misfire", "squib", "live_ammunition", "failed_verification",
                  "count_discrepancy", "complaint", "other")
DISCHARGE_KINDS = frozenset({"discharge", "misfire", "squib"})
COMPLAINT_ACK_HOURS = 24
# How a complaint from someone without an account came in (complaint.received).
COMPLAINT_VIA = ("tablet", "poster")
# The id prefix of the QR complaint posters (complaint.poster_issued): QR1, QR2 ...
POSTER_PREFIX = "QR"


@dataclass
class Incident:
    id: str
    kind: str
    description: str
    weapons: list[str]
    lots: list[str]
    reported_by: str
    opened_at: str
    open: bool = True
    corrective_action: str | None = None
    closed_at: str | None = None
    evidence_lot: str | None = None


@dataclass
class Complaint:
    id: str
    by: str
    text: str
    filed_at: str
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    response: str | None = None


@dataclass
class Inspection:
    id: str
    weapon: str
    armorer: str
    scene: str | None
    seq: int
    at: str
    positions: list[dict[str, str]]
    barrel_clear: bool
    magazine_checked: bool
    load: dict[str, object]
    complete: bool
    missing: list[str]
    witnesses: list[dict[str, str]] = field(default_factory=list)
    used: bool = False


@dataclass
class Override:
    id: str
    rule: str
    subject: str
    reason: str
    supervisor: str
    day: str | None
    at: str
