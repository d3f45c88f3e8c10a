"""The rule catalogue (docs/rules.md) and the engine that applies it.

Hard rules never bend. Soft rules bend only for the safety supervisor, who
records a reason (event ``rule.overridden``) naming the rule and its subject;
the override stands until the shooting day in which it was given wraps
(``PEOPLE_ROLE_CONFLICT`` acknowledgements stand for good).

The checks themselves are pure functions in the :mod:`coldcheck.domain.checks`
package, one per rule and situation, each returning the :class:`Violation` it
finds; the decisions list the checks they apply, and :func:`enforce` decides
which of the violations found refuse the action. docs/rules.md names each
rule's checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from .errors import RuleViolation, Violation

if TYPE_CHECKING:
    from .state import ProductionState


class Strength(StrEnum):
    HARD = "hard"
    SOFT = "soft"


@dataclass(frozen=True)
class Rule:
    code: str
    strength: Strength
    text: str


def _r(code: str, strength: Strength, text: str) -> tuple[str, Rule]:
    return code, Rule(code, strength, text)


H, S = Strength.HARD, Strength.SOFT

RULES: dict[str, Rule] = dict([
    _r("AMMO_LIVE_FORBIDDEN", H,
       "Live ammunition is never accepted; the attempt opens an incident."),
    _r("AMMO_DUMMY_UNVERIFIED", H,
       "Dummy rounds can be loaded only up to the number verified in their lot."),
    _r("AMMO_LOT_QUARANTINED", H,
       "A lot named by an open incident or a failed verification cannot be used."),
    _r("AMMO_CALIBRE_MISMATCH", H, "Rounds must match the weapon's calibre."),
    _r("CUSTODY_ARMORER_ONLY", H,
       "Only a qualified armorer (or assistant armorer) of the production, or a property "
       "master (or assistant) holding a credential, inspects, loads, unloads, declares "
       "cold/hot, issues and receives weapons."),
    _r("CUSTODY_QUALIFICATION_EXPIRED", H,
       "An armorer with an expired qualification cannot act as armorer."),
    _r("CUSTODY_CREDENTIAL_NOT_COVERED", H,
       "A property master or assistant property master handles a weapon only with a "
       "current credential covering its class; a full-automatic weapon needs a credential "
       "covering full-auto, an armorer's too."),
    _r("CUSTODY_DIRECT_HANDOFF", H,
       "A weapon passes only armorer → performer → armorer; nobody in between."),
    _r("CUSTODY_INSPECTION_REQUIRED", H,
       "Every issue needs a fresh inspection of that weapon, recorded after its last "
       "custody change."),
    _r("CUSTODY_INSPECTION_INCOMPLETE", H,
       "An inspection covers every chamber or cylinder position the weapon has, its barrel "
       "and its magazine; an incomplete record can be neither witnessed nor used to issue."),
    _r("CUSTODY_WITNESS_REQUIRED", H,
       "The inspection is confirmed by the receiving performer and by the 1st AD or safety "
       "supervisor, each with their own PIN; nobody witnesses their own action."),
    _r("CUSTODY_WEAPON_FROZEN", H, "A weapon named by an open incident cannot be issued."),
    _r("CUSTODY_FUNCTION_CHECK_DUE", H,
       "A weapon cleaned or repaired since its last function check is function-checked "
       "before its next issue."),
    _r("CUSTODY_WEAPON_GROUNDED", H,
       "A weapon grounded as damaged or suspect, by an armorer and the safety supervisor each "
       "with their own PIN, is neither inspected nor issued until a repair is recorded."),
    _r("RENTAL_RETURN_HELD", H,
       "A weapon goes back to its vendor only from storage, unloaded: never while it is "
       "frozen, named by an open incident, or out with a performer or armorer; a lot only "
       "when no rounds of it are in a weapon and no open incident names it."),
    _r("CUSTODY_OVERDUE", S,
       "An issued weapon must come back within the scene's limit (default 30 min) and before "
       "any meal break; overdue weapons alert."),
    _r("SCENE_BLANKS_NEED_HOT", H, "Blanks may be loaded only for a scene declared hot."),
    _r("SCENE_SAFETY_MEETING", H,
       "Any scene that uses a firearm, rehearsal or take, cold or hot, needs a safety meeting "
       "the same day attended by everyone in the scene; for a hot scene the meeting names "
       "that scene."),
    _r("SCENE_POINTING_PLAN", H,
       "Pointing at or near a person needs the plan acknowledged by armorer and 1st AD and a "
       "weapon inspected empty or with verified dummies, or a replica."),
    _r("SCENE_BLANK_DISTANCE", S,
       "With blanks, nobody in the line of fire closer than 6 m (20 ft) unless behind a "
       "shield."),
    _r("SCENE_REHEARSAL_REPLICA", S,
       "Rehearsals use non-firing replicas or rubber weapons."),
    _r("INCIDENT_DISCHARGE", H,
       "Any discharge outside a planned take, any squib, any misfire with dummies or an empty "
       "weapon, and a second dud from one lot in a day open an incident and freeze what they "
       "name; one blank that fails to fire in a planned take is a dud, recorded, not frozen."),
    _r("INCIDENT_EVIDENCE_PRESERVED", H,
       "Rounds unloaded from a frozen weapon are recorded individually into an evidence lot "
       "that can be neither loaded nor destroyed while the incident is open."),
    _r("INCIDENT_CLOSE_NEEDS_ACTION", H,
       "An incident closes only with a corrective action, signed by armorer and safety "
       "supervisor."),
    _r("COMPLAINT_ACKNOWLEDGE", S,
       "A safety complaint must be acknowledged within 24 h; open complaints show on every "
       "daily report."),
    _r("WRAP_RECONCILE", H,
       "The day wraps only when every weapon is in storage and every lot balances (loaded = "
       "fired + returned + recorded lost); any difference opens an incident."),
    _r("PEOPLE_TRAINING_REQUIRED", H,
       "Nobody is issued a firearm before a recorded weapons-safety briefing on this "
       "production."),
    _r("PEOPLE_ROLE_CONFLICT", S,
       "Armorer with another department role, or 1st AD as safety supervisor, warns until the "
       "safety supervisor acknowledges."),
])


def rule(code: str) -> Rule:
    return RULES[code]


def is_soft(code: str) -> bool:
    return RULES[code].strength is Strength.SOFT


def blocking(state: ProductionState, violations: Iterable[Violation]) -> list[Violation]:
    """The violations that refuse the action: every hard one, and each soft one that
    no standing override covers. Hard rules come first so the reported code is the
    most serious."""
    hard: list[Violation] = []
    soft: list[Violation] = []
    for v in violations:
        if RULES[v.code].strength is Strength.HARD:
            hard.append(v)
        elif not state.has_override(v.code, v.subject):
            soft.append(v)
    return hard + soft


def enforce(state: ProductionState, violations: Iterable[Violation]) -> list[Violation]:
    """Raise :class:`RuleViolation` if anything blocks; return the overridden soft
    violations (so the action can cite the overrides it relied on)."""
    found = list(violations)
    refused = blocking(state, found)
    if refused:
        raise RuleViolation(refused)
    return [v for v in found if RULES[v.code].strength is Strength.SOFT]
