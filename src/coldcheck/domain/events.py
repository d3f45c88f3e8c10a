"""Events: the only way anything changes.

Each event has a stable, past-tense type string that is part of the stored
format (it is hashed into the ledger) and never changes when code is renamed.
The catalogue below lists every type with the payload fields it carries;
docs/events.md documents each one and a test keeps the two in step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class EventType:
    name: str
    fields: tuple[str, ...]
    text: str


def _e(name: str, fields: str, text: str) -> tuple[str, EventType]:
    return name, EventType(name, tuple(fields.split()), text)


EVENT_TYPES: dict[str, EventType] = dict([
    _e("production.created", "production name origin key_id",
       "A production and its ledger were created."),
    _e("production.timezone_set", "timezone previous",
       "The production's time zone (an IANA name) was set: what local time and today mean."),
    _e("production.webhook_set", "url secret_fingerprint previous_url",
       "The producer set the production's outgoing alert webhook (its secret is never in "
       "events: only a fingerprint)."),
    _e("production.webhook_cleared", "url",
       "The producer removed the production's outgoing alert webhook."),
    _e("person.added", "person name roles badge department qualification_expires",
       "A person joined the production with roles (PIN hashes are never in events)."),
    _e("person.pin_set", "person verifier", "A person's witness PIN was set or changed."),
    _e("person.qualification_renewed", "person expires",
       "An armorer's qualification was renewed to a new expiry date."),
    _e("person.credential_added", "person credential type issuer number classes expires",
       "A handler's credential (permit, certificate) was recorded: the weapon classes it "
       "covers and its expiry (CUSTODY_CREDENTIAL_NOT_COVERED)."),
    _e("person.credential_revoked", "person credential reason",
       "A handler's credential was revoked: it covers nothing from now on."),
    _e("person.safety_briefed", "person briefed_by topic",
       "A person received the weapons-safety briefing (PEOPLE_TRAINING_REQUIRED)."),
    _e("person.role_conflict_flagged", "person conflict",
       "A role combination that PEOPLE_ROLE_CONFLICT warns about was recorded."),
    _e("person.pin_failed", "person failures action",
       "A wrong witness PIN was entered for this person."),
    _e("person.pin_locked", "person until",
       "Too many wrong PINs: the person's PIN is locked until the given time."),
    _e("account.linked", "account person verifier",
       "A sign-in account was linked to a person of the production."),
    _e("device.registered", "device name verifier",
       "A device (cart tablet, phone) was registered to write for the production."),
    _e("device.revoked", "device", "A registered device was revoked."),
    _e("storage.added", "storage name kind", "A safe or lockable cart was registered."),
    _e("day.opened", "day date", "A shooting day started."),
    _e("day.meal_break_started", "day", "A meal break started (no weapon may be out)."),
    _e("day.meal_break_ended", "day", "The meal break ended."),
    _e("day.wrapped", "day lots weapons",
       "The day wrapped: every weapon stored, every lot balanced."),
    _e("weapon.received", "weapon serial make model calibre kind chambers magazine_capacity "
       "storage", "A weapon was taken into the production's inventory, into storage."),
    _e("weapon.inspected", "inspection weapon armorer scene positions barrel_clear "
       "magazine_checked load unloaded missing",
       "The armorer's show-clear inspection, position by position, with the resulting load."),
    _e("inspection.witnessed", "inspection weapon witness role",
       "A witness confirmed an inspection with their own PIN."),
    _e("weapon.issued", "weapon inspection armorer performer scene due_at overrides",
       "A weapon passed from the armorer to a performer."),
    _e("weapon.returned", "weapon performer armorer lot fired lost returned",
       "A weapon came back from the performer to the armorer, and was unloaded."),
    _e("weapon.stored", "weapon storage armorer unloaded", "A weapon was locked in storage."),
    _e("weapon.handoff_refused", "weapon action from to codes messages subjects",
       "A handoff (issue, return, or any other transfer) was refused by the rules."),
    _e("weapon.frozen", "weapon incident", "An open incident froze the weapon."),
    _e("weapon.unfrozen", "weapon incident", "The incident closed; the weapon is released."),
    _e("weapon.classified", "weapon weapon_class",
       "The armorer recorded a weapon's class (handgun, long gun, full-auto), which a "
       "handler's credential must cover."),
    _e("weapon.retired", "weapon reason", "The weapon left service for good."),
    _e("weapon.cleaned", "weapon armorer notes",
       "The weapon was cleaned after use; a function check is due before its next issue."),
    _e("weapon.function_checked", "weapon armorer notes",
       "The weapon passed its before-use function check."),
    _e("weapon.grounded", "weapon reason armorer supervisor",
       "A damaged or suspect weapon was grounded, signed by armorer and safety supervisor."),
    _e("weapon.repaired", "weapon armorer repair",
       "A repair was recorded: the grounded weapon is back in service."),
    _e("weapon.dud_recorded", "weapon lot scene day armorer description",
       "A blank failed to fire in a planned take: a routine dud, the weapon not frozen."),
    _e("ammo.lot_received", "lot kind load calibre supplier supplier_lot count storage",
       "An ammunition lot (dummy or blank) was taken into inventory."),
    _e("ammo.intake_refused", "kind calibre supplier supplier_lot count codes incident",
       "An ammunition intake was refused (live ammunition opens an incident)."),
    _e("ammo.round_verified", "lot round method verified_by",
       "One dummy round was verified inert, with the method used."),
    _e("ammo.verification_failed", "lot round method finding verified_by incident",
       "A dummy round failed verification: the lot is quarantined, an incident opened."),
    _e("ammo.verification_voided", "lot incident count",
       "An incident named a dummy lot: none of its rounds counts as verified any more."),
    _e("ammo.evidence_lot_created", "lot incident weapon calibre",
       "An evidence lot was opened to hold rounds unloaded from a frozen weapon."),
    _e("ammo.evidence_recorded", "lot incident weapon position description recorded_by",
       "One round unloaded from a frozen weapon was recorded into the evidence lot."),
    _e("ammo.rounds_destroyed", "lot count reason armorer", "Rounds were destroyed."),
    _e("vendor.added", "vendor name kind contact",
       "An owner of weapons or ammunition was recorded: a rental house, or the production."),
    _e("inventory.owner_recorded", "item vendor agreement insurance due_back",
       "Who owns a weapon or lot already in inventory (no receipt): vendor, rental agreement, "
       "certificate of insurance, due-back date."),
    _e("receipt.opened", "receipt vendor agreement insurance due_back manifest armorer",
       "A delivery from a vendor arrived with its manifest (weapons, accessories, lots)."),
    _e("receipt.item_checked", "receipt line kind description serial count condition "
       "photo_sha256 photo_ref difference weapon lot accessory armorer",
       "One item of a delivery was checked in (or found missing, or extra), with its "
       "condition and any difference from the manifest."),
    _e("receipt.signed", "receipt armorer lines differences",
       "The receiving armorer signed the delivery with their PIN, differences and all."),
    _e("accessory.added", "accessory weapon description count serial",
       "An accessory (holster, magazines, sling …) was listed on a weapon's kit."),
    _e("accessory.found", "accessory weapon armorer",
       "An accessory noted missing from a kit was found and is back with its weapon."),
    _e("weapon.kit_issued", "weapon performer accessories",
       "The accessories of a weapon's kit that went out with it at issue."),
    _e("weapon.kit_returned", "weapon performer accessories missing",
       "The accessories that came back with a weapon, and those that did not."),
    _e("vendor.returned", "return vendor weapons lots accessories conditions rounds "
       "incidents armorer",
       "Weapons, lots and accessories went back to their vendor, with condition out, "
       "rounds used and incidents (the return manifest)."),
    _e("scene.planned", "scene day name hot rehearsal weapons performers pointing "
       "pointing_description overdue_minutes min_distance_m shielded",
       "A scene was planned: hot or cold, rehearsal, weapons, performers, pointing plan."),
    _e("scene.pointing_acknowledged", "scene person role",
       "The armorer or 1st AD acknowledged a scene's pointing plan."),
    _e("meeting.held", "meeting day scenes attendees led_by",
       "A safety meeting was held, with attendance."),
    _e("incident.opened", "incident kind description weapons lots reported_by rule",
       "An incident opened; it freezes the weapons and lots it names."),
    _e("incident.closed", "incident corrective_action armorer supervisor",
       "An incident closed with a corrective action signed by armorer and supervisor."),
    _e("complaint.filed", "complaint by text", "A safety complaint was filed."),
    _e("complaint.acknowledged", "complaint by response", "A safety complaint was acknowledged."),
    _e("complaint.received", "complaint text name role via device",
       "A safety complaint from someone without an account (cart tablet or QR poster), "
       "anonymous or named."),
    _e("complaint.poster_issued", "poster nonce by",
       "A QR poster for complaints without an account was issued; it replaces any before it."),
    _e("complaint.poster_revoked", "poster by",
       "The QR complaint poster was revoked: its page no longer takes complaints."),
    _e("rule.overridden", "override rule subject reason supervisor day",
       "The safety supervisor bent a soft rule for a subject, with a reason."),
    _e("action.refused", "action subject codes messages subjects",
       "An action was refused by the rule engine (the attempt is part of the record)."),
    _e("ledger.restored", "backup_sha256 entries proven_entries replaced_entries "
       "superseded_checkpoint reason decided_by",
       "The database was restored from a backup: what followed it is not in this ledger."),
    _e("note.added", "refers_to text",
       "A correction or remark about an earlier event (events are never edited)."),
])


def utc_text(at: datetime) -> str:
    """RFC 3339 UTC with microseconds and a Z, the only time format in entries."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: every time in coldcheck is timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class NewEvent:
    """An event decided by the domain, not yet stored (no seq, time or actor yet)."""

    type: str
    payload: Mapping[str, Any]

    def __post_init__(self) -> None:
        spec = EVENT_TYPES.get(self.type)
        if spec is None:
            raise ValueError(f"unknown event type {self.type!r}")
        if set(self.payload) != set(spec.fields):
            missing = set(spec.fields) - set(self.payload)
            extra = set(self.payload) - set(spec.fields)
            raise ValueError(f"{self.type}: payload fields differ (missing {sorted(missing)}, "
                             f"extra {sorted(extra)})")


@dataclass(frozen=True)
class Event:
    """A stored event: ledger entry ``seq`` (0-based) of one production."""

    production: str
    seq: int
    type: str
    at: str  # RFC 3339 UTC, see utc_text
    actor: str
    device: str
    payload: Mapping[str, Any] = field(default_factory=dict)

    def entry(self) -> bytes:
        """The canonical bytes hashed into the ledger (keys sorted, no spaces)."""
        return canonical({
            "seq": self.seq, "production": self.production, "type": self.type,
            "at": self.at, "actor": self.actor, "device": self.device,
            "payload": self.payload,
        })

    @classmethod
    def from_entry(cls, data: bytes) -> Event:
        d = json.loads(data)
        return cls(production=d["production"], seq=d["seq"], type=d["type"], at=d["at"],
                   actor=d["actor"], device=d["device"], payload=d["payload"])


def canonical(obj: object) -> bytes:
    """UTF-8 JSON, keys sorted, no insignificant whitespace. Payloads hold only
    strings, integers, booleans, null, lists and objects (no floats), so this is
    the RFC 8785 form."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")
