"""Who may act as armorer, and who may be issued a firearm."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

from ..errors import Violation
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


@produces("PEOPLE_TRAINING_REQUIRED")
def briefed(performer: Person) -> list[Violation]:
    """The performer receiving a firearm had the weapons-safety briefing."""
    if performer.briefed:
        return []
    return [Violation("PEOPLE_TRAINING_REQUIRED",
                      f"{performer.name} ({performer.id}) has had no recorded weapons-safety "
                      "briefing", f"person:{performer.id}")]
