"""The weapon state machine is data (domain/weapons.py TRANSITIONS).

Every state can be reached from storage, `retired` is final, a move the table
lacks is either refused by the rule REFUSED_MOVES names or raises one error,
WEAPON_INVALID_TRANSITION, naming the weapon's state and the action.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

import pytest

from coldcheck.domain import custody
from coldcheck.domain.checks import CHECKS
from coldcheck.domain.errors import ColdcheckError, InvalidTransition
from coldcheck.domain.events import Event, NewEvent, utc_text
from coldcheck.domain.rules import RULES
from coldcheck.domain.state import ProductionState
from coldcheck.domain.weapons import (
    REFUSED_MOVES,
    STATES,
    TRANSITIONS,
    Weapon,
    next_state,
    refused_move,
)

ACTIONS = sorted({action for (_, action) in TRANSITIONS})
AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def weapon_in(state: str) -> Weapon:
    return Weapon(id="W7", serial="SAA-0007", make="Colt", model="SAA", calibre=".45 Colt",
                  kind="firearm", chambers=6, magazine_capacity=0, state=state)


def reachable(start: str) -> set[str]:
    seen, todo = {start}, deque([start])
    while todo:
        here = todo.popleft()
        for (src, _), dst in TRANSITIONS.items():
            if src == here and dst not in seen:
                seen.add(dst)
                todo.append(dst)
    return seen


def test_table_uses_only_known_states() -> None:
    used = {s for (s, _) in TRANSITIONS} | set(TRANSITIONS.values())
    assert used <= set(STATES), f"unknown states in TRANSITIONS: {used - set(STATES)}"


def test_every_state_is_reachable_from_storage() -> None:
    assert reachable("in_storage") == set(STATES)


def test_the_custody_loop_returns_to_storage() -> None:
    state = "in_storage"
    for action in ("inspect", "issue", "return", "store"):
        state = next_state(weapon_in(state), action)
    assert state == "in_storage"


def test_retired_has_no_exits() -> None:
    assert [key for key in TRANSITIONS if key[0] == "retired"] == []
    assert reachable("retired") == {"retired"}


def test_every_state_but_retired_can_leave_or_be_frozen() -> None:
    for state in STATES:
        if state in ("retired", "frozen"):
            continue
        assert TRANSITIONS.get((state, "freeze")) == "frozen", f"{state} cannot be frozen"


# That applying events moves weapons where the table says is a property test over
# random decisions: tests/unit/test_state_machine_applied.py.


def test_refused_moves_are_rules_for_moves_the_table_lacks() -> None:
    assert not set(REFUSED_MOVES) & set(TRANSITIONS)
    assert set(REFUSED_MOVES.values()) <= set(RULES) & set(CHECKS)  # each has its check
    for (state, action), code in REFUSED_MOVES.items():
        assert refused_move(weapon_in(state), action) == code
        with pytest.raises(InvalidTransition):
            next_state(weapon_in(state), action)  # the appliers never make such a move
    for state, action in TRANSITIONS:
        assert refused_move(weapon_in(state), action) is None


ILLEGAL = [(s, a) for s in STATES for a in ACTIONS
           if (s, a) not in TRANSITIONS and (s, a) not in REFUSED_MOVES]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_a_move_missing_from_the_table_raises_one_error_naming_state_and_action(
        state: str, action: str) -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_state(weapon_in(state), action)
    with pytest.raises(InvalidTransition):
        refused_move(weapon_in(state), action)
    err = caught.value
    assert isinstance(err, ColdcheckError)
    assert err.code == "WEAPON_INVALID_TRANSITION"
    assert err.kind == "conflict"
    assert state in err.message and f"'{action}'" in err.message and "W7" in err.message
    assert err.details == {"weapon": "W7", "state": state, "action": action}
    assert str(err).startswith("WEAPON_INVALID_TRANSITION: ")


def test_an_unknown_action_is_refused_too() -> None:
    with pytest.raises(InvalidTransition, match="'polish'"):
        next_state(weapon_in("in_storage"), "polish")


def test_a_retired_weapon_cannot_be_inspected_back_into_service() -> None:
    """Through the domain decision, not only the table: the refusal comes from
    the state machine, before any rule runs."""
    state = ProductionState("sm-test")
    for type_, payload in [
        ("production.created", {"production": "sm-test", "name": "SM", "origin": "o",
                                "key_id": "00000000"}),
        ("person.added", {"person": "P1", "name": "Sam Reyes", "roles": ["armorer"],
                          "badge": "B1", "department": "armory",
                          "qualification_expires": "2030-01-01"}),
        ("storage.added", {"storage": "ST1", "name": "Safe A", "kind": "safe"}),
        ("weapon.received", {"weapon": "W1", "serial": "S1", "make": "Colt", "model": "SAA",
                             "calibre": ".45 Colt", "kind": "firearm", "chambers": 6,
                             "magazine_capacity": 0, "storage": "ST1"}),
        ("weapon.retired", {"weapon": "W1", "reason": "cracked frame"}),
    ]:
        NewEvent(type_, payload)  # the payload matches the catalogue
        state.apply(Event("sm-test", state.seq, type_, utc_text(AT), "P1", "pytest", payload))
    positions = [{"position": f"cylinder {i}", "content": "empty"} for i in range(1, 7)]
    with pytest.raises(InvalidTransition) as caught:
        custody.inspect(state, weapon="W1", armorer="P1", positions=positions,
                        barrel_clear=True, magazine_checked=False, at=AT)
    assert caught.value.details == {"weapon": "W1", "state": "retired", "action": "inspect"}
