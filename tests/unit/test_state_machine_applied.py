"""The state machine's table is what applying events does to a weapon.

Random sequences of domain decisions (inspect, witness, issue, return, store,
hand over, report and close incidents, record evidence, retire) run against a
pure :class:`ProductionState`, no database. Every event they decide, and every
event a refusal records, is applied one at a time, and after each:

* a weapon that the event moves is in the state ``TRANSITIONS`` gives for
  (its state before, the move the event type stands for); no other weapon, and
  no weapon at all for an event that moves none, changes state;
* every weapon's state agrees with its custody facts, which the appliers set
  independently of the table (who holds it, whether it is in storage, which
  incidents froze it): so a wrong row in the table fails here too.

A scripted run at the end checks that the harness reaches every row of the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldcheck.domain import custody, production
from coldcheck.domain.errors import ColdcheckError
from coldcheck.domain.events import Event, NewEvent, utc_text
from coldcheck.domain.state import ProductionState
from coldcheck.domain.weapons import TRANSITIONS

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ARMORERS = ("P1", "P5")
PERFORMER, FIRST_AD, SUPERVISOR = "P2", "P3", "P4"
WEAPONS = ("W1", "W2")  # a six-shot revolver and a non-firing replica

# The move each weapon-moving event type stands for (weapon.unfrozen: see below).
MOVES = {"weapon.inspected": "inspect", "weapon.issued": "issue",
         "weapon.returned": "return", "weapon.stored": "store", "weapon.frozen": "freeze",
         "weapon.retired": "retire", "ammo.evidence_recorded": "record_evidence",
         "weapon.dud_recorded": "dud", "weapon.cleaned": "clean",
         "weapon.function_checked": "function_check", "weapon.grounded": "ground"}


def _apply(s: ProductionState, events: Iterable[NewEvent],
           covered: set[tuple[str, str]] | None = None) -> None:
    """Apply ``events`` one by one, checking each against the table."""
    for ne in events:
        before = {wid: w.state for wid, w in s.weapons.items()}
        moved: dict[str, str] = {}
        p = ne.payload
        if ne.type in MOVES:
            moved[p["weapon"]] = MOVES[ne.type]
        elif ne.type == "weapon.unfrozen":
            w = s.weapons[p["weapon"]]
            if w.frozen_by == [p["incident"]]:  # its last open incident releases it
                moved[w.id] = ("unfreeze_grounded" if w.id in s.grounded else
                               "unfreeze_stored" if w.storage else "unfreeze_held")
        elif ne.type == "weapon.repaired":
            w = s.weapons[p["weapon"]]
            moved[w.id] = "repair_stored" if w.storage else "repair_held"
        s.apply(Event(s.production, s.seq, ne.type, utc_text(AT), "admin", "pytest",
                      dict(p)))
        for wid, old in before.items():
            new = s.weapons[wid].state
            if wid not in moved:
                assert new == old, f"{ne.type} moved {wid} from {old} to {new}"
                continue
            key = (old, moved[wid])
            assert key in TRANSITIONS, f"{ne.type} was applied to {wid} in {old}: no such move"
            assert new == TRANSITIONS[key], (
                f"{ne.type} took {wid} from {old} to {new}; the table says {TRANSITIONS[key]}")
            if covered is not None:
                covered.add(key)
        for w in s.weapons.values():
            _agrees_with_custody(s, w.id)


def _agrees_with_custody(s: ProductionState, wid: str) -> None:
    w = s.weapons[wid]
    facts = (f"{wid} is {w.state}: custodian {w.custodian}, storage {w.storage}, "
             f"frozen by {w.frozen_by}")
    assert (w.state == "frozen") == bool(w.frozen_by), facts
    if w.state not in ("frozen", "retired"):
        assert (w.state == "grounded") == (wid in s.grounded), facts
    if w.state in ("in_storage", "retired"):
        assert w.custodian is None and w.storage is not None, facts
    elif w.state in ("inspected", "returned"):
        assert w.custodian in ARMORERS and w.storage is None, facts
    elif w.state == "issued":
        assert w.custodian == PERFORMER and w.storage is None and w.due_at, facts
    elif w.state in ("frozen", "grounded"):
        assert (w.custodian is None) != (w.storage is None), facts
    else:
        raise AssertionError(f"unknown state: {facts}")


def world() -> ProductionState:
    s = ProductionState("sm-applied")
    _apply(s, production.create_production(production="sm-applied", name="SM",
                                           origin="o", key_id="00000000"))
    for name, roles, dept in [("Sam Reyes", ["armorer"], "armory"),
                              ("Alex Cole", ["performer"], "cast"),
                              ("Dana Hall", ["first_ad"], "ad"),
                              ("Kim Park", ["safety_supervisor"], "safety"),
                              ("Lee Moss", ["assistant_armorer"], "armory")]:
        _apply(s, production.add_person(s, name=name, roles=roles, badge=name,
                                        department=dept, pin_verifier="sha256:" + "0" * 64,
                                        qualification_expires="2030-01-01"
                                        if "armor" in roles[0] else None))
    _apply(s, production.brief(s, person=PERFORMER, briefed_by="P1", topic="weapons safety"))
    _apply(s, production.add_storage(s, name="Safe A", kind="safe"))
    for serial, kind, chambers in [("SAA-1", "firearm", 6), ("REP-1", "non_firing_replica", 1)]:
        _apply(s, custody.receive_weapon(s, serial=serial, make="Colt", model="SAA",
                                         calibre=".45 Colt", kind=kind, chambers=chambers,
                                         magazine_capacity=0, storage="ST1", armorer="P1",
                                         at=AT))
    _apply(s, custody.receive_lot(s, kind="dummy", calibre=".45 Colt", supplier="Acme",
                                  supplier_lot="A-1", count_=40, storage="ST1", armorer="P1",
                                  at=AT))
    _apply(s, custody.verify_rounds(s, lot="L1", count_=30, method="shake", armorer="P1",
                                    at=AT))
    _apply(s, custody.receive_lot(s, kind="blank", calibre=".45 Colt", supplier="Acme",
                                  supplier_lot="B-1", count_=40, storage="ST1", armorer="P1",
                                  at=AT, load="full"))
    _apply(s, production.open_shooting_day(s, date="2026-11-24"))
    _apply(s, production.plan_scene(s, name="Saloon", hot=False, rehearsal=False,
                                    weapons=list(WEAPONS), performers=[PERFORMER]))
    _apply(s, production.plan_scene(s, name="Gunfight", hot=True, rehearsal=False,
                                    weapons=list(WEAPONS), performers=[PERFORMER],
                                    min_distance_m=10))
    _apply(s, production.hold_meeting(s, scenes=["SC1", "SC2"], led_by="P1",
                                      attendees=["P1", "P2", "P3", "P4", "P5"]))
    return s


def _open_incident_of(s: ProductionState, wid: str) -> str | None:
    return next((i.id for i in s.incidents.values() if i.open and wid in i.weapons), None)


def step(s: ProductionState, action: str, wid: str, n: int,
         covered: set[tuple[str, str]] | None = None) -> None:
    """Decide ``action`` on weapon ``wid`` (``n`` picks who and how much), then
    apply what was decided, or what its refusal records. ``take`` is inspect,
    two witnesses and issue in a row."""
    w = s.weapons[wid]
    # Mostly the armorer who holds it (else the hand-off rule refuses nearly all).
    armorer = w.custodian if w.custodian in ARMORERS and n % 4 else ARMORERS[n % 2]
    try:
        if action == "inspect":
            loaded = (n // 2) % 3 if w.is_firearm and w.state != "frozen" else 0
            names = w.positions()
            positions = [{"position": p, "content": "dummy" if i < loaded else "empty"}
                         for i, p in enumerate(names) if n % 7 != 6 or i + 1 < len(names)]
            events = custody.inspect(s, weapon=wid, armorer=armorer, positions=positions,
                                     barrel_clear=True, magazine_checked=False, at=AT,
                                     lot="L1" if loaded else None)
        elif action == "witness":
            events = custody.witness(s, inspection=w.inspection or "IN0",
                                     witness_=(PERFORMER, FIRST_AD, SUPERVISOR)[n % 3], at=AT)
        elif action == "issue":
            events = custody.issue(s, weapon=wid, armorer=armorer, performer=PERFORMER,
                                   scene="SC1", at=AT)
        elif action == "return":
            events = custody.return_weapon(s, weapon=wid, performer=PERFORMER,
                                           armorer=armorer, at=AT,
                                           misfire="click, no bang" if n % 4 == 3 else None)
        elif action == "store":
            events = custody.store(s, weapon=wid, storage="ST1",
                                   armorer=w.custodian or armorer, at=AT)
        elif action == "handoff":
            people = (*ARMORERS, PERFORMER, FIRST_AD)
            events = custody.handoff(s, weapon=wid, from_=people[n % 4],
                                     to=people[(n // 4) % 4], at=AT, scene="SC1")
        elif action == "incident":
            events = production.report_incident(s, kind="discharge", description="a bang",
                                                weapons=[wid], lots=[], reported_by="P1")
        elif action == "evidence":
            events = custody.record_evidence(s, weapon=wid,
                                             incident=_open_incident_of(s, wid) or "INC0",
                                             position="cylinder 1", description="a dummy",
                                             armorer=w.custodian or armorer, at=AT)
        elif action == "close":
            events = production.close_incident(s, incident=_open_incident_of(s, wid) or "INC0",
                                               corrective_action="new cylinder pin fitted",
                                               armorer="P1", supervisor=SUPERVISOR, at=AT)
        elif action == "dud":
            events = custody.record_dud(s, weapon=wid, armorer=armorer, at=AT)
        elif action == "hot":  # a take with blanks: inspect, two witnesses, issue
            if w.is_firearm and w.state != "frozen":
                events = custody.inspect(s, weapon=wid, armorer=armorer, positions=[
                    {"position": p, "content": "blank"} for p in w.positions()],
                    barrel_clear=True, magazine_checked=False, at=AT, lot="L2", scene="SC2")
                _apply(s, events, covered)
                for m in (0, 1 + n % 2):
                    step(s, "witness", wid, m, covered)
                w = s.weapons[wid]
                events = custody.issue(s, weapon=wid, armorer=w.custodian or armorer,
                                       performer=PERFORMER, scene="SC2", at=AT)
            else:
                events = custody.issue(s, weapon=wid, armorer=armorer, performer=PERFORMER,
                                       scene="SC2", at=AT)
        elif action == "clean":
            events = custody.clean(s, weapon=wid, armorer=armorer, at=AT)
        elif action == "check":
            events = custody.function_check(s, weapon=wid, armorer=armorer, at=AT)
        elif action == "ground":
            events = custody.ground(s, weapon=wid, reason="cracked frame", armorer=armorer,
                                    supervisor=SUPERVISOR if n % 5 else FIRST_AD, at=AT)
        elif action == "repair":
            events = custody.repair(s, weapon=wid, armorer=armorer, repair_="new frame",
                                    at=AT)
        elif action == "verify":
            events = custody.verify_rounds(s, lot="L1", count_=1 + n % 6, method="weight",
                                           armorer=armorer, at=AT)
        elif action == "take":  # the happy path to an issue, step by step
            for then, m in (("inspect", n), ("witness", 0), ("witness", 1 + n % 2),
                            ("issue", n)):
                step(s, then, wid, m, covered)
            return
        elif action == "retire":
            events = custody.retire(s, weapon=wid, reason="cracked frame", armorer=armorer,
                                    at=AT)
        else:
            raise AssertionError(action)
    except ColdcheckError as err:
        events = err.record
    _apply(s, events, covered)


# Weighted towards the custody loop, so that runs get past storage; retiring
# ends a weapon's story, so it is rare. Three times out of four a step is
# inspect, witness or issue anyway, as part of a take.
ACTIONS = ("inspect", "witness", "issue", "handoff", "verify", "retire") + (
    "take", "return", "store", "incident", "evidence", "close", "hot", "dud", "clean",
    "check", "ground", "repair") * 3
STEPS = st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from(WEAPONS),
                           st.integers(0, 59)), max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_applied_events_move_weapons_where_the_table_says(steps: list[tuple[str, str, int]],
                                                          ) -> None:
    s = world()
    for action, wid, n in steps:
        step(s, action, wid, n)


def test_the_harness_reaches_every_row_of_the_table() -> None:
    """Not a tautology guard for the table but for the harness above: the random
    runs can only fail on rows their decisions reach."""
    s, covered = world(), set[tuple[str, str]]()
    script = [
        ("inspect", "W1", 0), ("inspect", "W1", 2), ("witness", "W1", 0),
        ("witness", "W1", 1), ("issue", "W1", 0), ("return", "W1", 0),
        ("inspect", "W1", 0), ("store", "W1", 0),            # inspected -> in_storage
        ("inspect", "W1", 0), ("witness", "W1", 0), ("witness", "W1", 1),
        ("issue", "W1", 0), ("return", "W1", 0), ("store", "W1", 0),  # returned -> stored
        ("incident", "W1", 0), ("incident", "W1", 0),        # in_storage, frozen -> frozen
        ("close", "W1", 0), ("close", "W1", 0),              # unfreeze_stored
        ("inspect", "W1", 1), ("incident", "W1", 0),         # inspected -> frozen
        ("evidence", "W1", 0), ("store", "W1", 0), ("close", "W1", 0),
        ("inspect", "W1", 0), ("witness", "W1", 0), ("witness", "W1", 1),
        ("issue", "W1", 0), ("incident", "W1", 0),           # issued -> frozen
        ("return", "W1", 0), ("close", "W1", 0),             # frozen return, unfreeze_held
        ("incident", "W1", 0),                               # returned -> frozen
        ("store", "W1", 0), ("close", "W1", 0),
        ("hot", "W1", 0), ("dud", "W1", 0),                  # issued -> issued (a dud)
        ("return", "W1", 0), ("clean", "W1", 0), ("check", "W1", 0),  # returned
        ("ground", "W1", 1), ("repair", "W1", 0),            # returned -> grounded, held
        ("store", "W1", 0), ("clean", "W1", 0), ("check", "W1", 0),   # in storage
        ("ground", "W1", 1), ("clean", "W1", 0),             # in_storage -> grounded
        ("incident", "W1", 0), ("close", "W1", 0),           # grounded -> frozen -> grounded
        ("repair", "W1", 0),                                 # repair_stored
        ("inspect", "W1", 0), ("ground", "W1", 1),           # inspected -> grounded
        ("store", "W1", 0), ("retire", "W1", 0),             # grounded -> retired
        ("retire", "W2", 0),                                 # in_storage -> retired
    ]
    for action, wid, n in script:
        step(s, action, wid, n, covered)
    assert covered == set(TRANSITIONS), f"rows never reached: {set(TRANSITIONS) - covered}"
