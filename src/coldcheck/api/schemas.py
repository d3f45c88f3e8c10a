"""Request and response shapes (the first of the three validation tiers: shape
at the edge; the domain checks rules, the database checks constraints).

Request bodies forbid unknown fields and bound every string, list and number,
so a malformed request fails here with 422 INVALID_INPUT and writes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from ..domain import bounds
from ..domain.ammunition import BLANK_LOADS, LOT_KINDS
from ..domain.bounds import Bound
from ..domain.credentials import CREDENTIAL_TYPES, WEAPON_CLASSES
from ..domain.custody import CONTENTS, VERIFY_METHODS, WITNESS_ROLES
from ..domain.incidents import INCIDENT_KINDS
from ..domain.people import ROLES
from ..domain.production import STORAGE_KINDS
from ..domain.rental import VENDOR_KINDS
from ..domain.rules import RULES
from ..domain.weapons import KINDS as WEAPON_KINDS
from ..domain.zones import known_zones
from ..security import PIN_RE
from ..services.accounts import MAX_PASSWORD, MIN_PASSWORD

# A character the rules do not trim: Python's str.strip() also takes the four
# ASCII separators U+001C to U+001F as blank, which a regex's \s does not, and
# NEL (U+0085), which the server's regex engine counts in \s and a JSON Schema
# (ECMAScript) \s does not: named, so that both read the pattern alike.
_KEPT = r"[^\s\x1c-\x1f\x85]"


def words(bound: Bound) -> StringConstraints:
    """Free text within ``bound`` once trimmed, as the rules count it (domain/bounds.py):
    at least ``bound.low`` characters from the first to the last that is not blank."""
    inner = "" if bound.low <= 1 else f"[\\s\\S]{{{bound.low - 2},}}{_KEPT}"
    return StringConstraints(min_length=bound.low, max_length=bound.high,
                             pattern=_KEPT + inner)


def within(bound: Bound) -> Any:
    """A whole number within ``bound`` (domain/bounds.py)."""
    return Field(ge=bound.low, le=bound.high)


def _calendar_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("not a calendar date") from None
    return value


Id = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Name = Annotated[str, words(bounds.NAME)]
Text = Annotated[str, words(bounds.TEXT)]
Pin = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ISO_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
IsoDate = Annotated[str, StringConstraints(pattern=ISO_DATE["pattern"]),
                    AfterValidator(_calendar_date), WithJsonSchema(ISO_DATE)]
Count = Annotated[int, within(bounds.ROUNDS)]
Role = Literal["armorer", "assistant_armorer", "prop_master", "first_ad", "performer",
               "safety_supervisor", "producer", "investigator", "assistant_prop_master",
               "stand_in"]
WitnessRole = Literal["performer", "stand_in", "first_ad", "safety_supervisor"]
CredentialType = Literal["entertainment_firearms_permit", "dangerous_weapons_permit",
                         "training_certificate", "federal_firearms_licence", "other"]
WeaponClass = Literal["handgun", "long_gun", "full_auto", "blank_only", "replica"]
StorageKind = Literal["safe", "cart", "vault", "locker"]
WeaponKind = Literal["firearm", "blank_only", "non_firing_replica", "rubber", "airsoft", "other"]
LotKind = Literal["dummy", "blank", "live"]  # live is refused by the rules, and recorded
BlankLoad = Literal["full", "half", "quarter"]
VerifyMethod = Literal["visual", "shake", "weight", "xray", "drilled", "other"]
Content = Literal["empty", "dummy", "blank"]
IncidentKind = Literal["discharge", "misfire", "squib", "live_ammunition",
                       "failed_verification", "count_discrepancy", "complaint", "other"]

# The enums of the API are the domain's: they cannot drift apart.
for _lit, _dom in ((Role, ROLES), (WitnessRole, WITNESS_ROLES), (StorageKind, STORAGE_KINDS),
                   (WeaponKind, WEAPON_KINDS), (LotKind, LOT_KINDS), (BlankLoad, BLANK_LOADS),
                   (VerifyMethod, VERIFY_METHODS), (Content, CONTENTS),
                   (IncidentKind, INCIDENT_KINDS), (CredentialType, CREDENTIAL_TYPES),
                   (WeaponClass, WEAPON_CLASSES)):
    if set(_lit.__args__) != set(_dom):  # type: ignore[attr-defined]
        raise AssertionError(f"api/schemas.py is out of step with the domain: {_dom}")


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# ---- accounts, sessions, tokens, devices ---------------------------------------
class LoginIn(In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class MembershipOut(Out):
    production: str
    name: str
    person: str
    roles: list[str]


class SessionOut(Out):
    username: str
    via: Literal["session", "token"]
    csrf_token: str | None = None
    expires_at: str | None = None
    productions: list[MembershipOut]


class TokenIn(In):
    name: Name
    expires_in_hours: Annotated[int, Field(ge=1, le=24 * 366)] = 12


class TokenOut(Out):
    id: str
    name: str
    created_at: str
    expires_at: str
    revoked_at: str | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The bearer token. Shown once: only its hash is kept.")


class DeviceIn(In):
    name: Name


class DeviceOut(Out):
    id: str
    name: str
    registered_at: str
    revoked_at: str | None


class DeviceKeyOut(DeviceOut):
    key: str = Field(description="What the device sends in X-Coldcheck-Device with every "
                                 "write: `<id>.<secret>`. Shown once, stored hashed; the id "
                                 "alone is refused.")


class MemberIn(In):
    # services/accounts.USERNAME, after trimming and lowering.
    username: Annotated[str, StringConstraints(
        min_length=2, max_length=64, pattern=r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{1,63}\s*$")]
    person: Id
    # The length is declared here and checked by the service (PASSWORD_WEAK).
    password: Annotated[str | None, Field(
        default=None, min_length=1, max_length=MAX_PASSWORD,
        json_schema_extra={"minLength": MIN_PASSWORD},
        description="Needed only when the username is new (the account is created).")]


class MemberOut(Out):
    username: str
    person_id: str
    created_at: str


class AddedMemberOut(Out):
    username: str
    person: str
    production: str
    created_account: bool


# ---- people and set-up -----------------------------------------------------------
# A PIN being set: the shape is declared here and checked by the service, which
# answers PIN_WEAK (a PIN typed to confirm is only ever right or wrong: Pin).
NewPin = Annotated[str, StringConstraints(min_length=1, max_length=64), WithJsonSchema(
    {"type": "string", "pattern": PIN_RE.pattern})]


class PersonIn(In):
    name: Name
    roles: Annotated[list[Role], Field(min_length=1, max_length=8)]
    badge: Annotated[str, words(bounds.BADGE)]
    department: Annotated[str, StringConstraints(max_length=200)] = ""
    qualification_expires: IsoDate | None = None
    pin: NewPin | None = None


class BriefingIn(In):
    topic: Name = "Weapons safety briefing"


class QualificationIn(In):
    expires: IsoDate


class CredentialIn(In):
    type: CredentialType
    issuer: Name
    number: Name
    classes: Annotated[list[WeaponClass], Field(min_length=1, max_length=5)] = Field(
        description="The weapon classes the credential covers.")
    expires: IsoDate


class RevokeCredentialIn(In):
    reason: Text


class ClassifyIn(In):
    weapon_class: WeaponClass = Field(description="handgun, long_gun or full_auto for a "
                                      "firearm; blank_only and replica follow from the kind.")


class PinIn(In):
    pin: NewPin
    current_pin: Pin | None = Field(
        default=None, description="Your current PIN, needed when one is set.")


def _zone_names(schema: dict[str, Any]) -> None:
    """The OpenAPI enum of a time zone: every IANA name this server's time zone
    database knows (read when the document is built, not at import)."""
    schema["enum"] = sorted(known_zones())


def _known_zone(value: str) -> str:
    if value not in known_zones():
        raise ValueError("not an IANA time zone this server knows (e.g. America/Denver, "
                         "Europe/London, UTC)")
    return value


class WebhookIn(In):
    url: Annotated[str, StringConstraints(
        min_length=8, max_length=2000,
        pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s\x85/@]+(/[^\s\x85]*)?$")] = Field(
        description="Where coldcheck posts the production's alerts (an incident opened, a "
                    "weapon overdue, a complaint unacknowledged for 24 hours): an http:// "
                    "or https:// address, without a user name or password in it.")
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200,
                                             pattern=r"^[!-~]+$")] = Field(
        description="The secret each post is signed with (HMAC-SHA256, header "
                    "Coldcheck-Signature): 16 to 200 printable ASCII characters, no spaces. "
                    "Kept outside the record and never answered: "
                    "the event carries its fingerprint only.")


class TimezoneIn(In):
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64),
                        AfterValidator(_known_zone)] = Field(
        description="An IANA time zone name, exactly as the time zone database spells "
                    "it (America/Los_Angeles, Pacific/Auckland, UTC): the production's "
                    "pages, CLI output and today's date follow it; the record and the "
                    "API stay in UTC.",
        json_schema_extra=_zone_names)


class StorageIn(In):
    name: Name
    kind: StorageKind


class WeaponIn(In):
    serial: Annotated[str, words(bounds.SERIAL)]
    make: Name
    model: Name
    calibre: Annotated[str, words(bounds.CALIBRE)]
    kind: WeaponKind
    chambers: Annotated[int, within(bounds.CHAMBERS)] = 1
    magazine_capacity: Annotated[int, within(bounds.MAGAZINE_CAPACITY)] = 0
    storage: Id


class LotIn(In):
    kind: LotKind
    calibre: Annotated[str, words(bounds.CALIBRE)]
    supplier: Name
    supplier_lot: Name
    count: Annotated[int, within(bounds.LOT_ROUNDS)]
    storage: Id
    load: BlankLoad | None = None
    found_in: Id | None = Field(default=None, description="Live rounds only: the lot (box) "
                                "they were found in; the incident names it and quarantines it.")


class VerifyIn(In):
    count: Count
    method: VerifyMethod
    failed_finding: Text | None = None


class DestroyIn(In):
    count: Annotated[int, within(bounds.LOT_ROUNDS)]
    reason: Text


class DayIn(In):
    date: IsoDate | None = Field(default=None,
                                 description="Default: today in the production's time zone.")


class MealBreakIn(In):
    start: bool


class SceneIn(In):
    name: Name
    hot: bool = False
    rehearsal: bool = False
    weapons: Annotated[list[Id], Field(max_length=100)] = []
    performers: Annotated[list[Id], Field(max_length=200)] = []
    pointing_description: Text | None = Field(
        default=None, description="Any pointing at or near a person (camera crew included): "
                                  "who is pointed at, from where. Makes it a pointing scene.")
    overdue_minutes: Annotated[int, within(bounds.OVERDUE_MINUTES)] = 30
    min_distance_m: Annotated[int, within(bounds.MIN_DISTANCE_M)] | None = None
    shielded: bool = False


class MeetingIn(In):
    scenes: Annotated[list[Id], Field(max_length=100)] = []
    attendees: Annotated[list[Id], Field(min_length=1, max_length=500)]


# ---- custody -----------------------------------------------------------------
class PositionIn(In):
    position: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    content: Content


class InspectionIn(In):
    positions: Annotated[list[PositionIn], Field(min_length=1, max_length=128)]
    barrel_clear: bool
    magazine_checked: bool = False
    lot: Id | None = None
    magazine_rounds: Annotated[int, within(bounds.MAGAZINE_CAPACITY)] = 0
    scene: Id | None = None


class WitnessIn(In):
    witness: Id = Field(description="The person confirming; their own PIN proves it is them.")
    pin: Pin
    role: WitnessRole | None = None


class IssueIn(In):
    performer: Id
    scene: Id


class ReturnIn(In):
    performer: Id
    fired: Count = 0
    lost: Count = 0
    misfire: Text | None = Field(default=None, description="Report a misfire: what happened "
                                 "(opens an incident, freezes the weapon).")
    missing_accessories: Annotated[list[Id], Field(max_length=100)] = Field(
        default=[], description="Accessories of the weapon's kit that did not come back "
                                "(KIT_ACCESSORY_MISSING).")


class DudIn(In):
    description: Annotated[str, StringConstraints(max_length=bounds.TEXT.high)] = Field(
        default="", description="What happened (default: failed to fire).")


class MaintenanceIn(In):
    notes: Annotated[str, StringConstraints(max_length=bounds.TEXT.high)] = Field(
        default="", description="What was done (a default sentence if empty).")


class GroundIn(In):
    reason: Annotated[str, words(bounds.OVERRIDE_REASON)]
    armorer: Id
    armorer_pin: Pin
    supervisor: Id
    supervisor_pin: Pin


class RepairIn(In):
    repair: Text


class HandoffIn(In):
    to: Id
    scene: Id | None = None


class StoreIn(In):
    storage: Id


class EvidenceIn(In):
    incident: Id
    position: Annotated[str, words(bounds.POSITION)]
    description: Text


class IncidentIn(In):
    kind: IncidentKind
    description: Text
    weapons: Annotated[list[Id], Field(max_length=100)] = []
    lots: Annotated[list[Id], Field(max_length=100)] = []


class CloseIncidentIn(In):
    corrective_action: Text
    armorer: Id
    armorer_pin: Pin
    supervisor: Id
    supervisor_pin: Pin


class ComplaintIn(In):
    text: Text


class AcknowledgeIn(In):
    response: Text


def _catalogued(code: str) -> str:
    if code not in RULES:
        raise ValueError("not a rule of the catalogue (docs/rules.md)")
    return code


class OverrideIn(In):
    rule: Annotated[str, AfterValidator(_catalogued), WithJsonSchema(
        {"type": "string", "enum": sorted(RULES), "description": "A rule code of the "
         "catalogue; only soft rules bend."})]
    subject: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    reason: Annotated[str, words(bounds.OVERRIDE_REASON)]


class WrapIn(In):
    counts: Annotated[dict[Id, Count], Field(max_length=500)] | None = None


class NoteIn(In):
    refers_to: Annotated[int, Field(ge=0, le=2**53)]
    text: Text


# ---- rentals: vendors, owners, deliveries, kits, returns (issue 16, part 3) ------
VendorKind = Literal["rental_house", "production"]
if set(VendorKind.__args__) != set(VENDOR_KINDS):  # type: ignore[attr-defined]
    raise AssertionError("api/schemas.py is out of step with the domain: vendor kinds")
ItemRef = Annotated[str, StringConstraints(min_length=3, max_length=40,
                                           pattern=r"^(weapon|lot):[A-Za-z0-9]+$")]
Terms = Annotated[str, StringConstraints(max_length=bounds.NAME.high)]
Short = Annotated[str, StringConstraints(max_length=bounds.SERIAL.high)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Serial = Annotated[str, words(bounds.SERIAL)]
Calibre = Annotated[str, words(bounds.CALIBRE)]


class VendorIn(In):
    name: Name
    kind: VendorKind = "rental_house"
    contact: Terms = ""


class OwnerIn(In):
    item: ItemRef = Field(description="The weapon or lot: weapon:W1 or lot:L2.")
    vendor: Id
    agreement: Terms = ""
    insurance: Terms = ""
    due_back: IsoDate | None = None


class WeaponLine(In):
    kind: Literal["weapon"]
    serial: Serial
    make: Name
    model: Name
    calibre: Calibre
    weapon_kind: WeaponKind = "firearm"
    chambers: Annotated[int, within(bounds.CHAMBERS)] = 1
    magazine_capacity: Annotated[int, within(bounds.MAGAZINE_CAPACITY)] = 0


class AccessoryLine(In):
    kind: Literal["accessory"]
    description: Name
    count: Annotated[int, within(bounds.LOT_ROUNDS)] = 1
    serial: Short = ""
    for_serial: Short = Field(default="", description="The weapon's serial whose kit it "
                              "joins (that line checked in first).")


class LotLine(In):
    kind: Literal["lot"]
    lot_kind: LotKind
    load: BlankLoad | None = None
    calibre: Calibre
    supplier_lot: Name
    count: Annotated[int, within(bounds.LOT_ROUNDS)]


ManifestLine = Annotated[WeaponLine | AccessoryLine | LotLine, Field(discriminator="kind")]


class ReceiptIn(In):
    vendor: Id
    manifest: Annotated[list[ManifestLine], Field(min_length=1, max_length=500)]
    agreement: Terms = ""
    insurance: Terms = ""
    due_back: IsoDate | None = None


class Photo(In):
    photo_sha256: Sha256 | None = Field(default=None, description="SHA-256 of a photo of "
                                        "the item (the photo itself is kept elsewhere).")
    photo_ref: Terms = Field(default="", description="Where the photo is kept.")


class CheckLineIn(Photo):
    condition: Text = Field(description="Its condition on arrival.")
    storage: Id | None = Field(default=None, description="Where a weapon or lot goes.")
    serial: Serial | None = Field(default=None, description="The serial on the weapon, if "
                                  "not the manifest's (serial_differs).")
    count: Annotated[int, within(bounds.LOT_ROUNDS)] | None = Field(
        default=None, description="How many arrived, if not the manifest's (count_differs).")


class MissingLineIn(Photo):
    condition: Annotated[str, StringConstraints(max_length=bounds.TEXT.high)] = Field(
        default="", description="What was said about it (default: not delivered).")


class ExtraItemIn(Photo):
    item: ManifestLine
    condition: Text
    storage: Id | None = None
    count: Annotated[int, within(bounds.LOT_ROUNDS)] | None = None


class SignIn(In):
    pin: Pin = Field(description="The receiving armorer's (the caller's) own PIN.")


class VendorReturnIn(In):
    pin: Pin = Field(description="The returning armorer's (the caller's) own PIN.")
    conditions: Annotated[dict[Id, Text], Field(max_length=1000)] = Field(
        default={}, description="Condition out of each weapon (needed) and lot (default: "
                                "as counted), by id.")
    weapons: Annotated[list[Id], Field(max_length=500)] | None = Field(
        default=None, description="Only these weapons go back (default: all still here, "
                                  "or none when only lots are named).")
    lots: Annotated[list[Id], Field(max_length=500)] | None = Field(
        default=None, description="Only these lots go back (default: all still here, or "
                                  "none when only weapons are named).")


class AccessoryIn(In):
    description: Name
    count: Annotated[int, within(bounds.LOT_ROUNDS)] = 1
    serial: Short = ""


class VendorOut(Out):
    id: str
    name: str
    kind: str
    contact: str
    still_here: dict[str, list[str]]
    receipts: list[str]
    returns: list[str]


class ReceiptOut(Out):
    id: str
    vendor: str
    vendor_name: str
    agreement: str
    insurance: str
    due_back: str | None
    armorer: str
    opened_at: str
    lines: list[dict[str, Any]]
    extras: list[dict[str, Any]]
    open_lines: list[int]
    differences: list[dict[str, Any]]
    signed: dict[str, Any] | None


# ---- answers -------------------------------------------------------------------
class EventOut(Out):
    seq: int
    type: str
    at: str
    actor: str
    device: str
    payload: dict[str, Any]


class Recorded(Out):
    events: list[EventOut]


class EventsOut(Out):
    events: list[EventOut]
    head: int


class TimelineEntry(EventOut):
    actor_name: str
    text: str


class PersonOut(Out):
    id: str
    name: str
    roles: list[str]
    badge: str
    department: str
    briefed: bool
    qualification_expires: str | None
    pin_set: bool
    pin_locked_until: str | None
    role_conflicts: list[str]


class ProductionOut(Out):
    id: str
    name: str
    origin: str
    verifier_key: str
    head: int
    person: str
    roles: list[str]


class DayOut(Out):
    id: str
    date: str
    meal_break: bool


class WeaponRow(Out):
    id: str
    serial: str
    kind: str
    state: str
    custodian: str | None
    custodian_name: str | None
    storage: str | None
    load: dict[str, Any]
    due_at: str | None
    frozen_by: list[str]
    duds: int = Field(default=0, description="Routine duds recorded in this weapon.")
    fired_since_cleaning: int = Field(default=0, description="Blanks fired since its last "
                                      "cleaning (more than 0: due for cleaning).")
    function_check_due: str | None = Field(default=None, description="Why a function check "
                                           "is due before its next issue (cleaned, repaired).")
    grounded: str | None = Field(default=None, description="Why it is grounded, if it is.")


class LotRow(Out):
    id: str
    kind: str
    calibre: str
    quarantined: bool
    balanced: bool
    on_hand: int
    duds: int = Field(default=0, description="Routine duds recorded from this lot.")
    duds_today: int = Field(default=0, description="Of those, on the open shooting day "
                            "(a second one is a misfire incident).")


class Alert(Out):
    code: str
    subject: str
    message: str


class DueQueues(Out):
    cleaning: list[dict[str, Any]] = Field(description="Due for cleaning: weapon, serial, "
                                           "blanks fired since the last cleaning.")
    function_check: list[dict[str, Any]] = Field(description="Function check before next "
                                                 "issue: weapon, serial, because.")
    grounded: list[dict[str, Any]] = Field(description="Grounded: weapon, serial, reason.")


class BoardOut(Out):
    production: str
    name: str
    events: int
    day: DayOut | None
    weapons: list[WeaponRow]
    lots: list[LotRow]
    incidents: list[dict[str, Any]]
    complaints: list[dict[str, Any]]
    alerts: list[Alert]
    due: DueQueues | None = None
    timezone: str | None = Field(default=None, description="The production's IANA time zone "
                                 "(null: the server's default); every time here is UTC.")


class CheckpointOut(Out):
    tree_size: int
    note: str = Field(description="The signed C2SP checkpoint note, exactly as signed.")


class InclusionOut(Out):
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


class ConsistencyOut(Out):
    old_size: int
    old_root: str
    tree_size: int
    root_hash: str
    proof: list[str]


class HealthOut(Out):
    status: Literal["ok"]
    version: str


class ProblemOut(Out):
    """RFC 9457 problem details; extension members carry the error's details."""

    type: str = Field(description="/api/v1/problems/<code>")
    title: str = Field(description="What the code means (its catalogue text).")
    status: int
    detail: str = Field(description="What happened this time.")
    code: str = Field(description="The rule or error code (docs/rules.md, docs/errors.md, "
                                  "docs/api.md).")
    instance: str | None = None


class CodeOut(Out):
    code: str
    title: str
