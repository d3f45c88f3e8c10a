"""People and their roles on a production."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .errors import InvalidInput

ROLES = ("armorer", "assistant_armorer", "prop_master", "first_ad", "performer",
         "safety_supervisor", "producer", "investigator",
         # Added later, so at the end (roles are listed in this order in events).
         "assistant_prop_master", "stand_in")
ARMORER_ROLES = frozenset({"armorer", "assistant_armorer"})
# Property masters are lawful handlers only with a current credential for the
# weapon's class (California Labor Code §9153 and US practice).
PROP_ROLES = frozenset({"prop_master", "assistant_prop_master"})
# Who is issued a weapon and confirms its inspection as the one who receives it:
# a performer, or a stand-in (a cast or crew member standing in for a performer).
RECEIVER_ROLES = ("performer", "stand_in")
# Who records an armorer's renewed qualification: never an armorer (nobody vouches
# for their own). The API's permission matrix uses the same roles.
QUALIFICATION_RENEWERS = ("producer", "safety_supervisor")
PIN_MAX_FAILURES = 5
PIN_LOCK_MINUTES = 15


@dataclass
class Person:
    id: str
    name: str
    roles: list[str]
    badge: str
    department: str = ""
    qualification_expires: str | None = None  # ISO date, armorers only
    briefed: bool = False
    pin_set: bool = False
    pin_failures: int = 0
    pin_locked_until: str | None = None
    pin_failed_at: str | None = None  # last wrong PIN; older failures stop counting
    pin_set_by: str | None = None  # who recorded the PIN now in force (the event's actor)
    role_conflicts: list[str] = field(default_factory=list)

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_armorer(self) -> bool:
        return bool(ARMORER_ROLES & set(self.roles))

    @property
    def is_prop(self) -> bool:
        return bool(PROP_ROLES & set(self.roles))

    @property
    def receives(self) -> bool:
        """A performer or a stand-in: someone a weapon is issued to."""
        return any(r in self.roles for r in RECEIVER_ROLES)


def handles_weapons(person: Person, creds: Mapping[str, Mapping[str, Any]]) -> bool:
    """A lawful handler: an armorer, or a property master holding a credential
    that is not revoked (``creds``: theirs). Whether one covers a given weapon
    today is CUSTODY_CREDENTIAL_NOT_COVERED's question (:func:`in_force`)."""
    return person.is_armorer or (person.is_prop and any(not c["revoked"]
                                                        for c in creds.values()))


def in_force(creds: Mapping[str, Mapping[str, Any]], day: date) -> list[Mapping[str, Any]]:
    """The credentials in force on ``day`` (on set): not revoked, not expired."""
    return [c for c in creds.values()
            if not c["revoked"] and date.fromisoformat(c["expires"]) >= day]


def validate_roles(roles: list[str]) -> list[str]:
    if not roles:
        raise InvalidInput("INVALID_INPUT", "a person needs at least one role",
                           allowed=list(ROLES))
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise InvalidInput("INVALID_INPUT", f"unknown role(s) {', '.join(bad)}; "
                           f"roles are {', '.join(ROLES)}", allowed=list(ROLES))
    return sorted(set(roles), key=ROLES.index)


def role_conflicts(roles: list[str], department: str = "") -> list[str]:
    """The combinations PEOPLE_ROLE_CONFLICT warns about."""
    found: list[str] = []
    rs = set(roles)
    other = rs - ARMORER_ROLES - {"investigator"}
    dept = department.strip().lower()
    if rs & ARMORER_ROLES and (other or dept not in ("", "armory", "armoury", "weapons")):
        found.append("armorer_other_department")
    if {"first_ad", "safety_supervisor"} <= rs:
        found.append("first_ad_safety_supervisor")
    return found


def require_role(person: Person, *roles: str) -> None:
    if not set(roles) & set(person.roles):
        raise InvalidInput("ROLE_REQUIRED",
                           f"{person.name} ({person.id}) is not a {' or '.join(roles)}",
                           person=person.id, needed=list(roles))
