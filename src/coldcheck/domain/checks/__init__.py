"""The rule checks: one small pure function per rule and situation.

A check takes the entities it is about (a person, a weapon, a lot, an
inspection, a scene …; the production's state only where the rule reads
across entities) and returns the :class:`~coldcheck.domain.errors.Violation`
it finds, or ``[]`` when the rule holds. It decides nothing: the decisions
(domain/custody.py, domain/production.py) list the checks they apply, in the
order their violations are reported, and hand what was found to the rule
engine (domain/rules.py), which decides what refuses the action.

Each check produces the code of one rule and is registered for it with
:func:`produces`; docs/rules.md names, for every rule, each check that
produces its code, and a docs test holds the two in step. Modules, by concept:

- :mod:`.people`: who may act as armorer, and who may be issued a firearm;
- :mod:`.handoff`: the armorer → performer → armorer chain;
- :mod:`.custody`: frozen weapons, fresh and complete inspections, overdue weapons;
- :mod:`.witness`: the two independent confirmations of an inspection;
- :mod:`.ammo`: live rounds, dummy verification, quarantine, calibre;
- :mod:`.scene`: hot scenes, safety meetings, pointing plans, distances, rehearsals;
- :mod:`.incident`: discharge reports and duds, evidence, closing an incident;
- :mod:`.maintenance`: function checks before use, grounding a weapon;
- :mod:`.rental`: what may go back to its vendor;
- :mod:`.complaint`: acknowledging safety complaints;
- :mod:`.wrap`: reconciling weapons and lots at the end of the day.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

CHECKS: dict[str, list[Callable[..., Any]]] = {}
"""Rule code -> the checks that produce it, in the order they are defined."""


def produces(code: str) -> Callable[[F], F]:
    """Register the decorated check as one that produces rule ``code``."""
    def deco(fn: F) -> F:
        CHECKS.setdefault(code, []).append(fn)
        return fn
    return deco


# The modules register their checks when imported; importing the package
# imports them all, so CHECKS is complete.
from . import (  # noqa: E402
    ammo,
    complaint,
    custody,
    handoff,
    incident,
    maintenance,
    people,
    rental,
    scene,
    witness,
    wrap,
)

__all__ = [
    "CHECKS",
    "ammo",
    "complaint",
    "custody",
    "handoff",
    "incident",
    "maintenance",
    "people",
    "produces",
    "rental",
    "scene",
    "witness",
    "wrap",
]
