"""What a screen offers: only what the person looking at it can do (issue 15).

Two things decide it, neither written into the templates:

- **who may do it**: the permission matrix (services/permissions.py) says who
  may *ask*; where the domain's rules are narrower (a custody move is the
  armorer's, CUSTODY_ARMORER_ONLY; a safety meeting is led by an armorer or the
  safety supervisor, ROLE_REQUIRED), the domain's own roles narrow it again,
  so a 1st AD is never shown a form that her role cannot get recorded;
- **what the thing allows now**: a weapon's state and the state machine
  (domain/weapons.py: TRANSITIONS, REFUSED_MOVES): a frozen or grounded weapon
  offers no inspection, no issue and no hand-over, because a rule refuses each.

The server still decides every request on its own (a forced form is refused
and recorded); this only keeps the screens from offering what would be refused.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.people import ARMORER_ROLES
from ..domain.production import MEETING_LEADERS
from ..domain.weapons import REFUSED_MOVES, TRANSITIONS, Weapon
from ..services.permissions import allowed

# The roles the domain's decisions accept, where narrower than who may ask.
DOERS: dict[str, frozenset[str]] = {
    **{a: ARMORER_ROLES for a in (
        "weapon.receive", "lot.receive", "lot.verify", "lot.destroy", "weapon.inspect",
        "weapon.issue", "weapon.return", "weapon.store", "weapon.record_evidence",
        "weapon.dud", "weapon.clean", "weapon.function_check", "weapon.repair", "day.wrap",
        "storage.add", "receipt.open", "receipt.check", "receipt.sign", "accessory.add",
        "accessory.found", "vendor.return")},
    "meeting.hold": frozenset(MEETING_LEADERS),
}

# Rules that refuse every custody move of a weapon in this state: nothing but
# bringing it back and keeping it (return, store, evidence) is offered.
BLOCKING = frozenset({"CUSTODY_WEAPON_FROZEN", "CUSTODY_WEAPON_GROUNDED"})


def offered(action: str, roles: Iterable[str]) -> bool:
    """May someone holding ``roles`` do ``action`` and have it pass the role
    rules? (The matrix, narrowed by the domain's roles for the action.)"""
    held = set(roles)
    return allowed(action, held) and bool(DOERS.get(action, held) & held)


def moves(w: Weapon) -> frozenset[str]:
    """The moves the state machine allows ``w`` from its state now."""
    return frozenset(a for (s, a) in TRANSITIONS if s == w.state)


def blocked(w: Weapon) -> str | None:
    """The rule that refuses any issue of ``w`` (frozen, grounded), if one does."""
    code = REFUSED_MOVES.get((w.state, "issue"))
    return code if code in BLOCKING else None


def can_move(w: Weapon, move: str) -> bool:
    """Is ``move`` (inspect, issue, return, store, handoff, ...) one to offer for
    ``w`` now? A hand-over is offered while the weapon can still go out or come
    back in the ordinary way (attempts the rules refuse are recorded: that is
    why anyone may try one), never for a frozen, grounded or retired weapon."""
    if move == "handoff":
        return w.state != "retired" and blocked(w) is None
    return move in moves(w)


MENU: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # (path, label, actions: shown to whoever may do any of them)
    ("", "Board", ("read",)),
    ("armory", "Armory", ("read",)),
    ("intake", "Intake", ("lot.receive", "weapon.receive")),
    ("receipts", "Deliveries", ("receipt.check",)),
    ("day", "Day", ("read",)),
    ("people", "People", ("read",)),
    ("incidents", "Incidents", ("read",)),
    ("complaints", "Complaints", ("read",)),
    ("overrides", "Overrides", ("rule.override", "incident.export")),
    ("wrap", "Wrap", ("day.wrap",)),
    ("scan", "Scan", ("read",)),
    ("labels", "Labels", ("weapon.receive", "lot.receive")),
    ("device", "This tablet", ("device.manage",)),
)


def menu(roles: Iterable[str]) -> list[tuple[str, str]]:
    """The sections a person holding ``roles`` sees in the menu."""
    held = set(roles)
    return [(path, label) for path, label, actions in MENU
            if any(offered(a, held) for a in actions)]
