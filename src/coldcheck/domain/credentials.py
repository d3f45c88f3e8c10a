"""Who may lawfully handle which weapons: credentials per person, a class per weapon.

Armorers and assistant armorers hold their qualification (CUSTODY_QUALIFICATION_
EXPIRED); property masters and assistant property masters are lawful handlers
only with a current credential covering the weapon's class (California Labor
Code §9153 and US practice: an entertainment firearms permit, a dangerous-weapons
permit…). A full-automatic weapon needs a credential covering ``full_auto`` in
anyone's hands, an armorer's too. CUSTODY_CREDENTIAL_NOT_COVERED refuses the rest.

Nothing here rewrites history: a weapon received before classes existed has the
class its ``kind`` implies (``blank_only``, ``replica``) or none until the armorer
records one (``weapon.classified``); credentials live in the state row.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from . import bounds, checks
from .common import ev, iso_date, refuse_or_pass, refused_action, text
from .errors import InvalidInput, NotFound
from .people import (
    ARMORER_ROLES,
    PROP_ROLES,
    QUALIFICATION_RENEWERS,
    handles_weapons,
    require_role,
)
from .weapons import NON_FIREARM_KINDS

if TYPE_CHECKING:
    from datetime import datetime

    from .errors import Violation
    from .events import NewEvent
    from .people import Person
    from .state import ProductionState
    from .weapons import Weapon

CREDENTIAL_TYPES = ("entertainment_firearms_permit", "dangerous_weapons_permit",
                    "training_certificate", "federal_firearms_licence", "other")
WEAPON_CLASSES = ("handgun", "long_gun", "full_auto", "blank_only", "replica")
# Days before expiry the board starts to warn, and then warns again, louder.
EXPIRY_NOTICE_DAYS = (30, 7)


def implied_class(kind: str) -> str | None:
    """The class a weapon's kind implies; None for a firearm (or an unknown
    weapon) until the armorer records whether it is a handgun, long gun…"""
    if kind == "blank_only":
        return "blank_only"
    if kind in NON_FIREARM_KINDS:
        return "replica"
    return None


def weapon_class(s: ProductionState, w: Weapon) -> str | None:
    return s.weapon_classes.get(w.id) or implied_class(w.kind)


def is_handler(s: ProductionState, p: Person) -> bool:
    """One end of armorer → performer → armorer: a lawful handler
    (:func:`~.people.handles_weapons`)."""
    return handles_weapons(p, s.credentials.get(p.id, {}))


def handler(s: ProductionState, p: Person, at: datetime,
            w: Weapon | None = None) -> list[Violation]:
    """The handler checks for ``p`` acting on ``w`` (or on ammunition, ``w``
    None): CUSTODY_ARMORER_ONLY, CUSTODY_QUALIFICATION_EXPIRED,
    CUSTODY_CREDENTIAL_NOT_COVERED, PEOPLE_ROLE_CONFLICT (checks.people.handler)."""
    return checks.people.handler(p, at, s.zone, s.credentials.get(p.id, {}),
                                 w.id if w is not None else None,
                                 weapon_class(s, w) if w is not None else None)


def _classes(values: list[str]) -> list[str]:
    bad = [c for c in values if c not in WEAPON_CLASSES]
    if bad or not values:
        raise InvalidInput("INVALID_INPUT", f"weapon classes are {', '.join(WEAPON_CLASSES)}"
                           + (f" (not {', '.join(bad)})" if bad else "; name at least one"),
                           allowed=list(WEAPON_CLASSES))
    return sorted(set(values), key=WEAPON_CLASSES.index)


def add_credential(s: ProductionState, *, person: str, type_: str, issuer: str, number: str,
                   classes: list[str], expires: str, by: str) -> list[NewEvent]:
    """``by`` records it: the producer or the safety supervisor (nobody vouches for
    their own), for an armorer or a property master."""
    p = s.person(person)
    require_role(p, *sorted(ARMORER_ROLES | PROP_ROLES))
    require_role(s.person(by), *QUALIFICATION_RENEWERS)
    if type_ not in CREDENTIAL_TYPES:
        raise InvalidInput("INVALID_INPUT", f"credential types are {', '.join(CREDENTIAL_TYPES)}",
                           allowed=list(CREDENTIAL_TYPES))
    return [ev("person.credential_added", person=p.id, credential=s.next_id("CR"),
               type=type_, issuer=text(issuer, "issuer", bound=bounds.NAME),
               number=text(number, "number", bound=bounds.NAME), classes=_classes(classes),
               expires=iso_date(expires, "credential expiry"))]


def revoke_credential(s: ProductionState, *, person: str, credential: str, reason: str,
                      by: str) -> list[NewEvent]:
    p = s.person(person)
    require_role(s.person(by), *QUALIFICATION_RENEWERS)
    c = s.credentials.get(p.id, {}).get(credential)
    if c is None:
        raise NotFound("credential", credential)
    if c["revoked"]:
        raise InvalidInput("INVALID_INPUT", f"credential {credential} is already revoked")
    return [ev("person.credential_revoked", person=p.id, credential=credential,
               reason=text(reason, "reason"))]


def classify(s: ProductionState, *, weapon: str, class_: str, armorer: str,
             at: datetime) -> list[NewEvent]:
    """The armorer records a weapon's class: a property master's credential must
    cover it (an armorer's own qualification is what vouches for the reading)."""
    w = s.weapon(weapon)
    (c,) = _classes([class_])
    refuse_or_pass(s, checks.people.armorer(s.person(armorer), at, s.zone),
                   refusal=refused_action("weapon.classify", f"weapon:{w.id}"))
    implied = implied_class(w.kind)
    if implied is not None and c != implied:
        raise InvalidInput("INVALID_INPUT", f"weapon {w.id} is a {w.kind}; its class is "
                           f"{implied}")
    if implied is None and c in ("blank_only", "replica"):
        raise InvalidInput("INVALID_INPUT", f"weapon {w.id} is a {w.kind}: its class is "
                           "handgun, long_gun or full_auto")
    return [ev("weapon.classified", weapon=w.id, weapon_class=c)]


def expiring(s: ProductionState, day: date) -> list[tuple[Person, dict[str, Any], int]]:
    """Credentials in force that expire within the first notice period, with the
    days left (0: the last day), soonest first; and those already expired and
    not revoked (days left negative), which the board keeps showing."""
    out = []
    for pid, creds in s.credentials.items():
        for c in creds.values():
            if c["revoked"]:
                continue
            left = (date.fromisoformat(c["expires"]) - day).days
            if left <= EXPIRY_NOTICE_DAYS[0]:
                out.append((s.people[pid], c, left))
    return sorted(out, key=lambda x: (x[2], x[0].id, x[1]["id"]))
