"""services.queries.mentions: which events belong to a weapon's or a lot's timeline
(the rule the CLI timeline and the API's indexed timeline share)."""

from __future__ import annotations

from typing import Any

import pytest

from coldcheck.domain.events import Event
from coldcheck.services.queries import mentions


def event(type_: str, **payload: Any) -> Event:
    return Event("p", 0, type_, "2026-11-24T07:00:00.000000Z", "P1", "test", payload)


@pytest.mark.parametrize(("e", "key", "ident"), [
    (event("weapon.issued", weapon="W1", performer="P2"), "weapon", "W1"),
    (event("action.refused", action="weapon.inspect", subject="weapon:W1"), "weapon", "W1"),
    (event("incident.opened", weapons=["W3", "W1"], lots=[]), "weapon", "W1"),
    (event("ammo.round_verified", lot="L1", round=1), "lot", "L1"),
    (event("incident.opened", weapons=[], lots=["L1"]), "lot", "L1"),
    (event("weapon.inspected", weapon="W1", load={"kind": "dummy", "lot": "L1", "count": 6},
           unloaded=None), "lot", "L1"),
    (event("weapon.stored", weapon="W1", unloaded={"lot": "L1", "count": 6}), "lot", "L1"),
])
def test_an_event_naming_the_weapon_or_lot_belongs_to_its_timeline(
        e: Event, key: str, ident: str) -> None:
    assert mentions(e, key, ident)


@pytest.mark.parametrize(("e", "key", "ident"), [
    (event("weapon.issued", weapon="W10", performer="P2"), "weapon", "W1"),
    (event("action.refused", action="ammo.verify", subject="lot:W1"), "weapon", "W1"),
    (event("incident.opened", weapons=[], lots=["W1"]), "weapon", "W1"),
    (event("weapon.inspected", weapon="L1", load={"kind": "empty", "lot": None, "count": 0},
           unloaded=None), "lot", "L1"),
])
def test_an_event_that_only_looks_alike_does_not(e: Event, key: str, ident: str) -> None:
    assert not mentions(e, key, ident)
