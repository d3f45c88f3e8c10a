"""Who may act as armorer, and who may be issued a firearm."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from ..errors import Violation
from ..people import handles_weapons, in_force
from . import produces

if TYPE_CHECKING:
    from ..people import Person


@produces("CUSTODY_ARMORER_ONLY")
def armorer_only(person: Person) -> list[Violation]:
    """The person named as armorer holds an armorer or assistant armorer role."""
    if person.is_armorer:
        return []
    return [Violation("CUSTODY_ARMORER_ONLY",
                      f"{person.name} ({person.id}) is not an armorer of this production; "
                      "only the armorer handles weapons", f"person:{person.id}")]


@produces("CUSTODY_ARMORER_ONLY")
def lawful_handler(person: Person, creds: Mapping[str, Mapping[str, Any]]) -> list[Violation]:
    """The person handling a weapon or ammunition is an armorer, or a property
    master (or assistant) holding a credential that is not revoked."""
    if handles_weapons(person, creds):
        return []
    extra = (": a property master handles weapons only with a recorded credential"
             if person.is_prop else "; only the armorer handles weapons")
    return [Violation("CUSTODY_ARMORER_ONLY",
                      f"{person.name} ({person.id}) is not an armorer of this production"
                      + extra, f"person:{person.id}")]


@produces("CUSTODY_CREDENTIAL_NOT_COVERED")
def credential_covers(person: Person, creds: Mapping[str, Mapping[str, Any]], at: datetime,
                      tz: tzinfo, weapon: str | None,
                      weapon_class: str | None) -> list[Violation]:
    """A property master's current credential covers the weapon's class (any
    current credential, for ammunition: ``weapon`` None); a full-automatic
    weapon needs a credential covering ``full_auto`` whoever handles it. An
    armorer's qualification covers every other class. A credential holds
    through its expiry day on set (the date in ``tz``, the production's zone)."""
    if person.is_armorer and weapon_class != "full_auto":
        return []
    now = in_force(creds, at.astimezone(tz).date())
    if weapon is None and now:
        return []
    if weapon is not None and weapon_class is not None \
            and any(weapon_class in c["classes"] for c in now):
        return []
    who = f"{person.name} ({person.id})"
    if weapon is not None and weapon_class is None:
        why = (f"weapon {weapon} has no recorded class: the armorer records whether it is a "
               "handgun, a long gun or full-auto (coldcheck weapon classify) before a "
               "property master handles it")
    elif not now:
        why = f"{who} holds no credential in force today (expired or revoked)"
    else:
        held = sorted({k for c in now for k in c["classes"]})
        why = (f"{who}'s credentials cover {', '.join(held)}, not "
               f"{(weapon_class or '').replace('_', ' ')} (weapon {weapon})")
    return [Violation("CUSTODY_CREDENTIAL_NOT_COVERED", why, f"person:{person.id}")]


@produces("CUSTODY_QUALIFICATION_EXPIRED")
def qualification_current(person: Person, at: datetime, tz: tzinfo) -> list[Violation]:
    """The armorer's qualification has not expired on the day of ``at`` on set:
    the calendar date in ``tz``, the production's zone (``ProductionState.zone``);
    none recorded counts as expired. A qualification "until 2026-11-24" holds
    through that day on set, whatever the UTC date is there."""
    exp = person.qualification_expires
    if exp is not None and date.fromisoformat(exp) >= at.astimezone(tz).date():
        return []
    return [Violation("CUSTODY_QUALIFICATION_EXPIRED",
                      f"armorer {person.name} ({person.id}) has no valid qualification "
                      f"(expiry {exp or 'not recorded'})", f"person:{person.id}")]


@produces("PEOPLE_ROLE_CONFLICT")
def role_conflict(person: Person) -> list[Violation]:
    """The person holds no conflicting roles (the rule engine lets an
    acknowledgement, an override of ``person:<id>``, bend it)."""
    if not person.role_conflicts:
        return []
    return [Violation("PEOPLE_ROLE_CONFLICT",
                      f"{person.name} ({person.id}) holds conflicting roles "
                      f"({', '.join(person.role_conflicts)}); the safety supervisor "
                      "must acknowledge", f"person:{person.id}")]


def armorer(person: Person, at: datetime, tz: tzinfo) -> list[Violation]:
    """Can this person act as armorer right now (``at``, dated in ``tz``, the
    production's zone)? Someone who is no armorer is refused as such (and only
    as such); an armorer's qualification and role conflicts are checked next."""
    return armorer_only(person) or qualification_current(person, at, tz) \
        + role_conflict(person)


def handler(person: Person, at: datetime, tz: tzinfo, creds: Mapping[str, Mapping[str, Any]],
            weapon: str | None = None, weapon_class: str | None = None) -> list[Violation]:
    """Can this person handle this weapon (or, ``weapon`` None, ammunition) right
    now? An armorer as :func:`armorer`; a property master with a credential, if
    a current one covers the weapon's class; anyone else is refused as no
    armorer. A full-auto weapon needs a credential covering it in every hands."""
    if person.is_armorer:
        return armorer(person, at, tz) + (
            credential_covers(person, creds, at, tz, weapon, weapon_class)
            if weapon_class == "full_auto" else [])
    return lawful_handler(person, creds) or credential_covers(person, creds, at, tz, weapon,
                                                                weapon_class)


@produces("PEOPLE_TRAINING_REQUIRED")
def briefed(performer: Person) -> list[Violation]:
    """The performer receiving a firearm had the weapons-safety briefing."""
    if performer.briefed:
        return []
    return [Violation("PEOPLE_TRAINING_REQUIRED",
                      f"{performer.name} ({performer.id}) has had no recorded weapons-safety "
                      "briefing", f"person:{performer.id}")]
