"""The one error vocabulary, rendered as an HTML fragment.

The web app shows exactly what the API answers (same codes, same titles, same
details, built by services/problems.py), plus the one thing a person on set needs
next: what to do about it. Every rule code and every error code has a next
step here; a test keeps this table complete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..domain.errors import ColdcheckError
from ..domain.rules import RULES, Strength
from ..services.problems import catalogue, error_body

NEXT_STEPS: dict[str, str] = {
    # rules
    "AMMO_LIVE_FORBIDDEN": "Stop. Do not open the box. Remove the live rounds from the property "
                           "now, tell the safety supervisor, and follow the incident below.",
    "AMMO_DUMMY_UNVERIFIED": "Verify more dummy rounds of this lot (Armory → the lot → Verify "
                             "rounds), or load fewer. Rounds an incident voided: show the "
                             "weapon clear again first, then verify them.",
    "AMMO_LOT_QUARANTINED": "Use another lot. This one stays quarantined until its incident is "
                            "closed.",
    "AMMO_CALIBRE_MISMATCH": "Pick a lot of the weapon's calibre.",
    "CUSTODY_ARMORER_ONLY": "Call the armorer: only the armorer or assistant armorer (or a "
                            "property master with a recorded credential) handles weapons.",
    "CUSTODY_CREDENTIAL_NOT_COVERED": "Call the armorer, or have the producer or safety "
                                      "supervisor record a current credential covering this "
                                      "weapon's class; an unclassified firearm is classified "
                                      "by the armorer first.",
    "CUSTODY_QUALIFICATION_EXPIRED": "The producer or safety supervisor records the armorer's "
                                     "renewed qualification; until then another armorer acts.",
    "CUSTODY_DIRECT_HANDOFF": "Give the weapon back to the armorer. Weapons pass only armorer → "
                              "performer → armorer.",
    "CUSTODY_INSPECTION_REQUIRED": "The armorer inspects the weapon again (Inspect), with the "
                                   "witnesses, then issues it.",
    "CUSTODY_INSPECTION_INCOMPLETE": "Record a new inspection that covers every position, the "
                                     "barrel and the magazine.",
    "CUSTODY_WITNESS_REQUIRED": "The performer and the 1st AD (or safety supervisor) each enter "
                                "their own PIN on the inspection page. A PIN recorded in the "
                                "inspecting armorer's or the other witness's session does not "
                                "count: have another 1st AD or safety supervisor confirm, or "
                                "have the PIN set again (My PIN, or by a producer), then "
                                "inspect again.",
    "CUSTODY_FUNCTION_CHECK_DUE": "Function-check the weapon first: it was cleaned or "
                                  "repaired since its last check.",
    "CUSTODY_WEAPON_GROUNDED": "Use another weapon. This one is grounded until a repair is "
                               "recorded; grounding needs the armorer's and the safety "
                               "supervisor's PINs.",
    "CUSTODY_WEAPON_FROZEN": "Use another weapon. This one is frozen until its incident is "
                             "closed.",
    "CUSTODY_OVERDUE": "Bring every issued weapon back to the armorer now. Only the safety "
                       "supervisor can override this, with a reason.",
    "SCENE_BLANKS_NEED_HOT": "Load dummies or nothing, or have the 1st AD plan the scene as hot.",
    "SCENE_SAFETY_MEETING": "Hold today's safety meeting with everyone in the scene: its "
                            "performers, the armorer and the inspection's witnesses (Day → "
                            "Safety meeting), naming the scene if it is hot.",
    "SCENE_POINTING_PLAN": "The armorer and the 1st AD acknowledge the pointing plan (Day → the "
                           "scene); the weapon must be empty or hold verified dummies.",
    "SCENE_BLANK_DISTANCE": "Move people to 6 m (20 ft) or put them behind a shield, then replan; "
                            "or the safety supervisor overrides with a reason.",
    "SCENE_REHEARSAL_REPLICA": "Rehearse with a non-firing replica or rubber weapon; or the "
                               "safety supervisor overrides with a reason.",
    "INCIDENT_DISCHARGE": "Name the weapon(s) involved so they are frozen.",
    "INCIDENT_EVIDENCE_PRESERVED": "Record each round from the frozen weapon as evidence, one by "
                                   "one, before storing it. Nothing is thrown away.",
    "INCIDENT_CLOSE_NEEDS_ACTION": "Describe the corrective action; the armorer and the safety "
                                   "supervisor both sign with their PINs, and every named "
                                   "weapon is back with the armorer.",
    "COMPLAINT_ACKNOWLEDGE": "The safety supervisor or producer acknowledges the complaint "
                             "(Complaints).",
    "WRAP_RECONCILE": "Store every weapon and recount the lots listed; a difference stays on "
                      "record as an incident.",
    "PEOPLE_TRAINING_REQUIRED": "The armorer or safety supervisor gives and records the "
                                "weapons-safety briefing first (Day → Briefing).",
    "PEOPLE_ROLE_CONFLICT": "The safety supervisor reviews the role conflict and acknowledges it "
                            "(Overrides).",
    # errors
    "NOT_FOUND": "Check the id or scan the label again.",
    "INVALID_INPUT": "Correct the field named above and submit again.",
    "ROLE_REQUIRED": "Choose a person who holds that role.",
    "DUPLICATE_SERIAL": "This weapon is already in the inventory: find it in the Armory.",
    "DUPLICATE_BADGE": "Use the person's own badge code.",
    "ALREADY_INITIALISED": "Nothing to do: the production exists.",
    "NOT_INITIALISED": "Create the production first (coldcheck init).",
    "SCHEMA_NEWER": "Whoever runs the server upgrades coldcheck: this database was made by a "
                    "newer version.",
    "DATABASE_BUSY": "Nothing was recorded: wait a moment, then submit again. If it keeps "
                     "happening, tell whoever runs the server that another program holds "
                     "the database.",
    "DATABASE_UNREADABLE": "Call whoever runs the server: the database file cannot be opened.",
    "DISK_FULL": "Nothing was recorded by this tap, and what was recorded before is safe. "
                 "Tell whoever runs the server that its disk is full; once space is freed, "
                 "submit again.",
    "DISK_IO_ERROR": "Nothing was recorded by this tap, and what was recorded before is "
                     "safe. Tell whoever runs the server that its disk failed a write (it "
                     "may be full); once it is checked, submit again.",
    "READ_ONLY_STORAGE": "Nothing was recorded by this tap, and what was recorded before is "
                         "safe. Tell whoever runs the server: its storage has become "
                         "read-only. Keep a paper note until it is fixed.",
    "KEY_FOLDER_UNREADABLE": "Tell whoever runs the server: the signing-key folder cannot be "
                             "read. Recording goes on; checkpoints are signed once it is "
                             "fixed.",
    "PRODUCTION_REQUIRED": "Choose a production.",
    "WEAPON_INVALID_TRANSITION": "Look at the weapon's state above: do the step it is waiting "
                                 "for instead.",
    "LOT_NOT_USABLE": "Choose a lot of the right kind with rounds on hand.",
    "RENTAL_RETURN_HELD": "Bring the weapon back, store it and close its incident first; "
                          "only then can it go back to the rental house.",
    "RECEIPT_INCOMPLETE": "Check in, or mark missing, every line of the manifest, then sign.",
    "RECEIPT_LINE_CHECKED": "That line is already checked in: pick the next one.",
    "RECEIPT_SIGNED": "This delivery is signed and closed: record a note for any change.",
    "NOT_FROM_VENDOR": "Only items this rental house delivered can go back to it.",
    "ACCESSORY_NOT_MISSING": "That accessory is not missing: nothing to record.",
    "PIN_INVALID": "The person named enters their own PIN again. Five wrong PINs lock it for 15 "
                   "minutes.",
    "PIN_LOCKED": "Wait until the time shown, or have another eligible witness confirm.",
    "PIN_WEAK": "A PIN is 4 to 12 digits.",
    "OVERRIDE_NOT_ALLOWED": "Hard rules never bend: fix what the rule asks for instead.",
    "INCIDENT_CLOSED": "Nothing to do: the incident is closed.",
    "DAY_NOT_OPEN": "The 1st AD or producer opens today's shooting day (Day).",
    "DAY_ALREADY_OPEN": "Wrap the open day first.",
    "SCENE_NOT_PLANNED": "Choose a scene that plans this weapon and performer, or have the 1st AD "
                         "plan one.",
    "ALREADY_WITNESSED": "Nothing to do: that witness already confirmed.",
    "ALREADY_ACKNOWLEDGED": "Nothing to do: the complaint is acknowledged.",
    "COMPLAINT_PAGE_UNKNOWN": "Scan the poster on set again, or ask the armorer to file it on "
                              "the cart tablet (Complaints → File a safety complaint): this "
                              "poster may have been replaced.",
    "POSTER_NOT_ACTIVE": "Nothing to revoke: make a new poster if one is needed.",
    "KEY_MISSING": "Restore the production's signing key file (or the master key file, for "
                   "keys kept in the database) on the server.",
    "KEY_MISMATCH": "Restore the production's own signing key file (or the master key file "
                    "its key was sealed with) on the server.",
    "LEDGER_CORRUPT": "Stop recording and call whoever runs the server: coldcheck ledger verify.",
    "LEDGER_DIVERGED": "Stop recording and call whoever runs the server: the record was "
                       "changed or rolled back (coldcheck ledger verify).",
    "CONCURRENT_UPDATE": "The page now shows the current state: check it, then submit again if "
                         "it still applies.",
    "FILE_EXISTS": "Nothing was overwritten: choose another file name, or replace it on "
                   "purpose.",
    "IMPORT_ROWS_INVALID": "Correct the lines listed (each with its reason), check the file "
                           "again with --dry-run, then import it: nothing was recorded.",
    "BACKUP_UNSUPPORTED": "Back up a PostgreSQL server with pg_dump, then check the restored "
                          "copy with `coldcheck ledger verify`.",
    "RESTORE_REFUSED": "Nothing was changed: find a backup that verifies (coldcheck ledger "
                       "verify --db <backup> --backup).",
    "RESTORE_UNPROVEN": "Nothing was changed: restore a backup taken right after a checkpoint, "
                        "or accept its unproven entries by name.",
    # access
    "AUTH_REQUIRED": "Sign in.",
    "LOGIN_FAILED": "Check the username and password and try again.",
    "ACCOUNT_LOCKED": "Wait until the time shown, then sign in again.",
    "LOGIN_RATE_LIMITED": "Wait a few minutes before trying again.",
    "PIN_RATE_LIMITED": "Too many wrong PINs from this account: wait a few minutes.",
    "COMPLAINT_RATE_LIMITED": "Wait a few minutes and send it again, or file it on the cart "
                              "tablet with the armorer.",
    "SESSION_EXPIRED": "Sign in again. Your form is kept: submit it again afterwards.",
    "CSRF_FAILED": "Reload the page and submit again.",
    "ACTION_FORBIDDEN": "Ask someone who holds the role this action needs.",
    "DEVICE_REQUIRED": "Nothing can be recorded from this phone or tablet until it is "
                       "registered: the armorer or producer registers a tablet on its This "
                       "tablet page, or pairs your phone there with a one-time QR code that "
                       "you scan with the phone.",
    "DEVICE_UNKNOWN": "The armorer or producer registers this tablet again (This tablet).",
    "DEVICE_REVOKED": "This tablet was revoked: the armorer or producer registers it again.",
    "IDEMPOTENCY_KEY_REUSED": "Reload the page and enter it again.",
    "IDEMPOTENCY_KEY_INVALID": "Reload the page and enter it again.",
    "TOKEN_INVALID": "Sign in on the tablet instead of using a token.",
    "TOKEN_EXPIRED": "Create a new token, or sign in.",
    "TOKEN_REVOKED": "Create a new token, or sign in.",
    "INTERNAL_ERROR": "Check the timeline for what was recorded, then try again; if it happens "
                      "again, tell whoever runs the server.",
    "IDEMPOTENCY_KEY_IN_PROGRESS": "Wait a moment: your first tap is still being recorded.",
    "IDEMPOTENCY_OUTCOME_UNKNOWN": "Check the timeline for what was recorded, then reload the "
                                   "page.",
    "USERNAME_INVALID": "Use lowercase letters, digits, dots or dashes.",
    "USERNAME_TAKEN": "Choose another username.",
    "PASSWORD_WEAK": "Use 10 to 256 characters.",
    "PERSON_HAS_ACCOUNT": "That person already has an account.",
    "ALREADY_MEMBER": "Nothing to do: the account is a member.",
    "INVALID_FORM": "Correct the field named above and submit again.",
}

# Codes only this web app produces.
WEB_CODES: dict[str, str] = {
    "INVALID_FORM": "A form field is missing or not valid.",
}

FULL_SCREEN = frozenset({"AMMO_LIVE_FORBIDDEN"})
SIGN_IN_AGAIN = frozenset({"AUTH_REQUIRED", "SESSION_EXPIRED"})


@dataclass
class Problem:
    """An error as the person on set sees it."""

    code: str
    title: str
    detail: str
    status: int
    violations: list[dict[str, str]] = field(default_factory=list)
    recorded: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False
    incidents: list[str] = field(default_factory=list)  # incidents the refusal opened

    @classmethod
    def from_body(cls, body: dict[str, Any], *, replayed: bool = False) -> Problem:
        known = {"type", "title", "status", "detail", "code", "instance", "violations",
                 "recorded"}
        return cls(code=str(body.get("code", "ERROR")), title=str(body.get("title", "")),
                   detail=str(body.get("detail", "")), status=int(body.get("status", 422)),
                   violations=list(body.get("violations") or []),
                   recorded=[int(x) for x in body.get("recorded") or []],
                   extra={k: v for k, v in body.items() if k not in known}, replayed=replayed)

    @classmethod
    def from_error(cls, err: ColdcheckError) -> Problem:
        return cls.from_body(error_body(err))

    @classmethod
    def from_json(cls, raw: bytes, *, replayed: bool = False) -> Problem:
        return cls.from_body(json.loads(raw), replayed=replayed)

    @classmethod
    def invalid(cls, detail: str) -> Problem:
        return cls("INVALID_FORM", WEB_CODES["INVALID_FORM"], detail, 422)

    @property
    def next_step(self) -> str:
        return NEXT_STEPS.get(self.code, "Check the details above, then try again.")

    @property
    def full_screen(self) -> bool:
        return self.code in FULL_SCREEN

    @property
    def sign_in_again(self) -> bool:
        return self.code in SIGN_IN_AGAIN

    @property
    def rule(self) -> str | None:
        """"hard" or "soft" for a rule code, else None."""
        r = RULES.get(self.code)
        return None if r is None else ("hard" if r.strength is Strength.HARD else "soft")

    def all_violations(self) -> list[dict[str, str]]:
        """Each rule broken, with its own next step (the first is the headline)."""
        out = []
        for v in self.violations:
            code = str(v.get("code", ""))
            r = RULES.get(code)
            out.append({"code": code, "message": str(v.get("message", "")),
                        "strength": "" if r is None else r.strength.value,
                        "next": NEXT_STEPS.get(code, "")})
        return out


def known_codes() -> set[str]:
    """Every code the web app may show."""
    return set(catalogue()) | set(WEB_CODES)
