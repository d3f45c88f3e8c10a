"""One error vocabulary for every surface (CLI, API, web).

Every error carries a stable ``code``. Rule violations use the rule codes of the
catalogue verbatim (``CUSTODY_DIRECT_HANDOFF`` …); other errors use the codes
below. Codes are part of the product's interface: never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ColdcheckError(Exception):
    """Base of every expected error. ``kind`` tells a surface how to render it."""

    code: str = "ERROR"
    # invalid | not_found | conflict | refused | forbidden | locked | unavailable
    kind: str = "invalid"

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details
        # Events the domain wants recorded about this refusal (the attempt itself,
        # an incident it opens). The service commits them, then re-raises.
        self.record: list[Any] = []

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


class InvalidInput(ColdcheckError):
    kind = "invalid"


class NotFound(ColdcheckError):
    kind = "not_found"

    def __init__(self, what: str, ident: str) -> None:
        super().__init__("NOT_FOUND", f"no {what} with id {ident!r} in this production",
                         what=what, id=ident)


class UnknownPage(ColdcheckError):
    """A public page's secret address that names nothing (COMPLAINT_PAGE_UNKNOWN):
    answered as a page that does not exist."""

    kind = "not_found"


class Conflict(ColdcheckError):
    kind = "conflict"


class Forbidden(ColdcheckError):
    kind = "forbidden"


class Locked(ColdcheckError):
    kind = "locked"


class Unavailable(ColdcheckError):
    """A fault of the machine, not of the request (services/faults.py)."""

    kind = "unavailable"


@dataclass(frozen=True)
class Violation:
    """One rule that an action would break."""

    code: str
    message: str
    subject: str = ""  # what the rule is about, e.g. "weapon:W1"; overrides name it
    data: dict[str, Any] = field(default_factory=dict)


class RuleViolation(ColdcheckError):
    """An action refused by the rule engine. Carries every violation found."""

    kind = "refused"

    def __init__(self, violations: list[Violation]) -> None:
        first = violations[0]
        super().__init__(first.code, first.message,
                         violations=[{"code": v.code, "message": v.message,
                                      "subject": v.subject} for v in violations])
        self.violations = violations


class InvalidTransition(ColdcheckError):
    """The weapon state machine has no such move from the current state."""

    kind = "conflict"

    def __init__(self, weapon_id: str, state: str, action: str) -> None:
        super().__init__(
            "WEAPON_INVALID_TRANSITION",
            f"weapon {weapon_id} is {state}; '{action}' is not allowed from that state",
            weapon=weapon_id, state=state, action=action,
        )


# Codes that are not rules. Each is documented in docs/errors.md.
ERROR_CODES: dict[str, str] = {
    "NOT_FOUND": "An id that does not exist in this production.",
    "INVALID_INPUT": "Malformed or out-of-range input (dates, counts, names).",
    "ROLE_REQUIRED": "The person named does not hold the role the action needs.",
    "DUPLICATE_SERIAL": "A weapon with this serial number is already on the production.",
    "DUPLICATE_BADGE": "A person with this badge code is already on the production.",
    "ALREADY_INITIALISED": "The database already holds a production with this id.",
    "NOT_INITIALISED": "The database has no coldcheck schema or no production yet.",
    "SCHEMA_NEWER": "The database was migrated by a newer coldcheck than this one.",
    "DATABASE_BUSY": "The database stayed locked by another process; nothing was changed.",
    "DATABASE_UNREADABLE": "The file cannot be opened as a database.",
    "DISK_FULL": "The disk holding the database is full; nothing was recorded.",
    "DISK_IO_ERROR": "The disk holding the database failed a write; nothing was recorded.",
    "READ_ONLY_STORAGE": "The database is on read-only storage; nothing was recorded.",
    "KEY_FOLDER_UNREADABLE": "The key folder cannot be read or written; nothing was signed.",
    "PRODUCTION_REQUIRED": "Several productions share the database: name one.",
    "WEAPON_INVALID_TRANSITION": "The weapon state machine has no such move from its state.",
    "LOT_NOT_USABLE": "The lot cannot be used for this (kind, balance or evidence).",
    "PIN_INVALID": "A witness PIN did not match.",
    "PIN_LOCKED": "Too many wrong PINs: that person's PIN is locked for a while.",
    "PIN_WEAK": "A PIN must be 4 to 12 digits.",
    "OVERRIDE_NOT_ALLOWED": "Hard rules never bend; only the safety supervisor may override.",
    "INCIDENT_CLOSED": "The incident is already closed.",
    "RECEIPT_SIGNED": "The delivery receipt is signed: nothing more is checked in on it.",
    "RECEIPT_LINE_CHECKED": "That manifest line of the receipt is checked in already.",
    "RECEIPT_INCOMPLETE": "Manifest lines are not checked in (or recorded missing) yet.",
    "NOT_FROM_VENDOR": "The weapon or lot is not that vendor's, or went back already.",
    "ACCESSORY_NOT_MISSING": "The accessory is not noted missing.",
    "DAY_NOT_OPEN": "No shooting day is open.",
    "DAY_ALREADY_OPEN": "A shooting day is already open; wrap it first.",
    "SCENE_NOT_PLANNED": "The weapon or performer is not in the scene's plan.",
    "ALREADY_WITNESSED": "The person has already witnessed this inspection.",
    "ALREADY_ACKNOWLEDGED": "The complaint was acknowledged already.",
    "COMPLAINT_PAGE_UNKNOWN": "The complaint page's address is not the production's current "
                              "QR poster (mistyped, revoked or replaced by a newer poster).",
    "POSTER_NOT_ACTIVE": "No QR complaint poster is in use on the production.",
    "KEY_MISSING": "The production's signing key is not in the key folder (or, for a key "
                   "kept in the database, no usable master key file is set).",
    "KEY_MISMATCH": "The key in the key folder (or sealed in the database) is not the key "
                    "the production was created with, or the sealed key does not open.",
    "LEDGER_CORRUPT": "A stored ledger hash is missing or is not a 32-byte hash.",
    "CONCURRENT_UPDATE": "Someone else changed the production at the same moment; retry.",
    "LEDGER_DIVERGED": "The ledger no longer holds what a checkpoint of its key vouched for; "
                       "nothing is signed over it.",
    "FILE_EXISTS": "The output file exists already; nothing was overwritten.",
    "IMPORT_ROWS_INVALID": "An inventory import file has rows that would be refused; nothing "
                           "was imported.",
    "BACKUP_UNSUPPORTED": "coldcheck backup copies SQLite databases; PostgreSQL has pg_dump.",
    "RESTORE_REFUSED": "The backup does not verify, or would drop a production; nothing "
                       "was changed.",
    "RESTORE_UNPROVEN": "Entries of the backup not proven part of the history last signed "
                        "here; nothing was changed.",
}
