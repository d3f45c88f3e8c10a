"""Random sequences of custody actions against a real SQLite store, with the
invariants checked after every step.

Actions: inspections with random loads (complete or not, from any lot, for any
scene), witnesses with right and wrong PINs, issues, returns with rounds fired,
lost or misfired, storage, handoffs between random people, incidents, evidence,
closures, verification, intake (live included), destruction, meal breaks,
overrides, clock jumps, wraps and new days. Most attempts are refused; what
matters is that refused or not, the record stays coherent:

* every non-retired weapon is either with a custodian or in storage, never both;
* no lot of live ammunition ever exists;
* every lot count is non-negative and the rounds are conserved:
  ``received = on_hand + in_weapons + fired + lost + to_evidence + destroyed``,
  where ``in_weapons`` equals the rounds the weapons actually hold from that lot
  and the received/fired/evidence totals equal what the test itself recorded;
* ``0 <= verified_in_stock <= on_hand``;
* frozen weapons and quarantined lots are exactly those named by open incidents;
* every firearm issued had a complete inspection confirmed by the receiving
  performer and the 1st AD or safety supervisor, after its last custody change;
* a refused action records only refusal events and changes no weapon or lot;
* the live projection rows equal a replay of the events, and ``rebuild`` rewrites
  them identically.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from helpers import (
    PEOPLE,
    PERFORMERS,
    WEAPONS,
    Clock,
    World,
    WorldTemplate,
    build_world,
    fast_settings,
)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from store_checks import state_view

from coldcheck.domain.errors import ColdcheckError
from coldcheck.domain.events import Event, canonical
from coldcheck.domain.state import ProductionState
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a

WEAPON_KEYS = [k for k, *_ in WEAPONS]
FIREARMS: tuple[str, ...] = ("revolver", "revolver2", "pistol", "other")
PERSON_KEYS = [k for k, *_ in PEOPLE]
ARMORERS = ["armorer", "armorer", "assistant", "expired", "props_armorer", "ad"]
SCENES = ["cold", "hot", "rehearsal", "pointing", None]
SOFT_OVERRIDES = ["SCENE_REHEARSAL_REPLICA", "PEOPLE_ROLE_CONFLICT", "CUSTODY_OVERDUE"]
REFUSAL_RECORDS = {"action.refused", "weapon.handoff_refused", "ammo.intake_refused",
                   "incident.opened", "ammo.verification_voided", "person.pin_failed",
                   "person.pin_locked", "weapon.frozen"}
REBUILD_EVERY = 10

# One take of the happy path: a load that suits the weapon and the scene, witnesses
# (sometimes sloppy), the issue, then keep it out, bring it back, or misfire.
TAKE = st.fixed_dictionaries({
    "weapon": st.sampled_from((*FIREARMS, "replica")),
    "performer": st.sampled_from(["alex", "rita", "chris"] * 3 + ["newbie"]),
    "scene": st.sampled_from(["cold", "hot", "pointing"] * 3 + ["rehearsal"]),
    "loaded": st.integers(0, 5).map(lambda n: n != 0),
    "n": st.integers(1, 6),
    "lot": st.integers(0, 20),
    "second": st.sampled_from(["ad", "supervisor"]),
    "sloppy": st.sampled_from([None] * 15 + ["no performer", "no ad", "wrong performer"]),
    "then": st.sampled_from(["keep", "return", "misfire", "misfire+evidence"]),
    "fired": st.integers(0, 6),
    "lost": st.integers(0, 1),
})

# What the runs did, across all examples: a guard against a machine whose every
# attempt is refused (which would make the invariants vacuous).
DONE: Counter[str] = Counter()
REFUSED: Counter[str] = Counter()

weapons = st.sampled_from(WEAPON_KEYS)
people = st.sampled_from(PERSON_KEYS)
performers = st.sampled_from(PERFORMERS)
armorers = st.sampled_from(ARMORERS)
scenes = st.sampled_from(SCENES)
picks = st.integers(0, 20)  # an index into whatever exists when the rule runs
mostly = st.integers(0, 5).map(lambda n: n != 0)  # True five times out of six


def scratch_dir() -> Path:
    # A RAM disk when there is one: the store syncs every commit to disk.
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="coldcheck-stateful-",
                                 dir=shm if shm.is_dir() else None))


class CustodyMachine(RuleBasedStateMachine):
    # The world every example starts from, built once per run (see the test below).
    template: ClassVar[WorldTemplate | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.tmp = scratch_dir()
        self.clock = Clock()
        if self.template is None:
            settings = fast_settings(self.tmp)
            self.w: World = build_world(Store(settings.database_url), settings, self.clock,
                                        production="stateful")
        else:
            self.w = self.template.clone(self.tmp / "world", self.clock)
        self.store = self.w.store
        for k in ("armorer", "ad"):
            a.acknowledge_pointing(self.w.ctx, scene=self.w.scenes["pointing"],
                                   person=self.pid(k))
        st0 = self.s = self.w.state()
        # The test's own books, to check the store's against.
        self.received: dict[str, int] = {i: x.received for i, x in st0.lots.items()}
        self.fired = 0
        self.lost = 0
        self.evidence_recorded = 0
        self.evidence_from_loaded = 0
        self.steps = 0
        self.last_rows: dict[str, dict[str, dict[str, Any]]] | None = None

    # ---- helpers --------------------------------------------------------
    @property
    def ctx(self) -> Any:
        return self.w.ctx

    def state(self) -> ProductionState:
        """The state as of the last invariant check, i.e. when the current rule began
        (rules use it only to choose their arguments)."""
        return self.s

    def pid(self, key: str) -> str:
        return self.w.people[key]

    def wid(self, key: str) -> str:
        return self.w.weapons[key]

    def pick(self, items: list[str], n: int) -> str | None:
        return sorted(items)[n % len(items)] if items else None

    def rows(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Weapons and lots as their live projection rows (the invariant checks that
        these equal a replay)."""
        out: dict[str, dict[str, dict[str, Any]]] = {"weapons": {}, "lots": {}}
        for (kind, ident), data in self.store.projection_rows(self.w.production).items():
            if kind in ("weapon", "lot"):
                out[kind + "s"][ident] = json.loads(data)
        return out

    def attempt(self, name: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        before = self.last_rows if self.last_rows is not None else self.rows()
        self.last_rows = None
        seq = self.w.seq()
        try:
            out = fn(*args, **kw)
        except ColdcheckError as err:
            REFUSED[err.code] += 1
            REFUSED[f"{name}:{err.code}"] += 1
            recorded = self.w.events_since(seq)
            types = {e.type for e in recorded}
            assert types <= REFUSAL_RECORDS, f"{name} refused ({err}) but recorded {types}"
            after = self.last_rows = self.rows()
            opened = [e for e in recorded if e.type == "incident.opened"]
            if opened and err.code == "WRAP_RECONCILE":
                # A wrap count that differs opens an incident that quarantines the lot
                # (and voids a dummy lot's verification): the only change a refusal may
                # make to a lot.
                named = {lot for e in opened for lot in e.payload["lots"]}
                voided = {e.payload["lot"] for e in recorded
                          if e.type == "ammo.verification_voided"}
                assert voided == {lid for lid in named if after["lots"][lid]["kind"] == "dummy"}
                for lid, lot in after["lots"].items():
                    was = dict(before["lots"][lid])
                    if lid in named:
                        was["quarantined_by"] = lot["quarantined_by"]
                    if lid in voided:
                        assert lot["verified_in_stock"] == 0
                        was["verified_in_stock"] = 0
                    assert lot == was
                # ...and it freezes the weapons still loaded from that lot (their
                # rounds are as suspect as the box): nothing else about a weapon.
                frozen = {wid for e in opened for wid in e.payload["weapons"]}
                assert frozen == {wid for wid, x in before["weapons"].items()
                                  if x["load"]["count"] and x["load"]["lot"] in named
                                  and x["state"] != "retired"}
                assert {e.payload["weapon"] for e in recorded
                        if e.type == "weapon.frozen"} == frozen
                for wid, x in after["weapons"].items():
                    was = dict(before["weapons"][wid])
                    if wid in frozen:
                        assert x["state"] == "frozen"
                        # Frozen: its inspection no longer counts.
                        was["state"], was["frozen_by"] = x["state"], x["frozen_by"]
                        was["inspection"] = None
                    assert x == was
            else:
                assert not any(e.payload.get("lots") or e.payload.get("weapons")
                               for e in opened), f"{name}: a refusal froze something"
                assert after == before, f"{name} refused ({err}) but changed weapons or lots"
            return None
        types = self.w.types_since(seq)
        assert types, f"{name} succeeded without recording anything"
        assert not {"action.refused", "weapon.handoff_refused"} & set(types)
        DONE[name] += 1
        for e in self.w.events_since(seq):
            if e.type == "weapon.issued":
                self.check_issue(e)
        return out

    def check_issue(self, e: Event) -> None:
        """The hard rules held for this issue, whatever led up to it."""
        s = self.w.state()
        w = s.weapons[e.payload["weapon"]]
        perf = s.people[e.payload["performer"]]
        sc = s.scenes[e.payload["scene"]]
        assert "performer" in perf.roles
        assert s.people[e.payload["armorer"]].is_armorer
        assert w.id in sc.weapons and perf.id in sc.performers
        insp = s.inspections[e.payload["inspection"]]
        assert insp.weapon == w.id and insp.used
        if w.is_firearm:
            assert insp.complete, insp
            by = {x["person"]: x["role"] for x in insp.witnesses}
            assert by.get(perf.id) == "performer", insp
            assert {"first_ad", "safety_supervisor"} & set(by.values()), insp
            assert perf.briefed
            load = insp.load
            if load["kind"] == "blank":
                assert sc.hot
            if load["count"]:
                assert s.lots[str(load["lot"])].kind == load["kind"]
        if sc.pointing:
            assert {"armorer", "first_ad"} <= set(sc.pointing_acks)

    # ---- rules ------------------------------------------------------------
    @rule(weapon=weapons, armorer=armorers, content=st.sampled_from(["empty", "dummy", "blank"]),
          n=st.integers(1, 8), lot=picks, complete=mostly, scene=scenes)
    def inspect(self, weapon: str, armorer: str, content: str, n: int, lot: int,
                complete: bool, scene: str | None) -> None:
        s = self.state()
        # Mostly a lot of the right kind, sometimes any lot at all.
        lots = [i for i, x in s.lots.items() if x.kind == content] if lot % 4 else list(s.lots)
        self.attempt("inspect", self.w.inspect, weapon, armorer=armorer, content=content,
                     n=0 if content == "empty" else n,
                     lot=None if content == "empty" else self.pick(lots, lot),
                     complete=complete, scene=scene)

    @rule(weapon=weapons, witness=people, right_pin=mostly, stale=picks)
    def witness(self, weapon: str, witness: str, right_pin: bool, stale: int) -> None:
        s = self.state()
        ins = s.weapons[self.wid(weapon)].inspection
        if ins is None or stale == 0:
            ins = self.pick(list(s.inspections), stale)
        if ins is None:
            return
        self.attempt("witness", self.w.witness, ins, witness,
                     pin=None if right_pin else "0000")

    @rule(weapon=weapons, performer=people, scene=scenes, armorer=armorers)
    def issue(self, weapon: str, performer: str, scene: str | None, armorer: str) -> None:
        self.attempt("issue", self.w.issue, weapon, performer, scene or "cold",
                     armorer=armorer)

    @rule(takes=st.lists(TAKE, min_size=1, max_size=3))
    def shoot(self, takes: list[dict[str, Any]]) -> None:
        """One to three takes, each the whole happy path (see ``take``)."""
        for t in takes:
            self.take(**t)

    def take(self, weapon: str, performer: str, scene: str, loaded: bool, n: int,
             lot: int, second: str, sloppy: str | None, then: str, fired: int,
             lost: int) -> None:
        """The whole happy path, with a load that suits the weapon and the scene (blanks
        for a hot scene, dummies otherwise); any step may still be refused."""
        sc = scene
        s = self.state()
        w = s.weapons[self.wid(weapon)]
        content = "blank" if s.scenes[self.w.scenes[sc]].hot else "dummy"
        lots = [i for i, x in s.lots.items() if x.kind == content
                and x.calibre.casefold() == w.calibre.casefold()]
        if not (loaded and lots and w.is_firearm):
            content, n = "empty", 0
        ins = self.attempt("inspect", self.w.inspect, weapon, content=content, n=n,
                           lot=self.pick(lots, lot) if n else None, scene=sc)
        if ins is None:
            return
        witnesses = {None: [performer, second], "no performer": [second],
                     "no ad": [performer],
                     "wrong performer": ["alex" if performer != "alex" else "rita", second],
                     }[sloppy]
        for who in witnesses:
            self.attempt("witness", self.w.witness, ins, who)
        if not self.attempt("issue", self.w.issue, weapon, performer, sc) or then == "keep":
            return
        fired = min(fired, n) if content == "blank" else 0
        lost = min(lost, n - fired)
        if not self.attempt("return", self.w.take_back, weapon, performer, fired=fired,
                            lost=lost,
                            misfire=None if then == "return" else "Round failed to fire"):
            return
        self.fired += fired
        self.lost += lost
        if then == "misfire+evidence":
            # Each round left in the frozen weapon becomes evidence, one by one; then
            # the weapon is stored and the incident closed.
            now = self.w.state()
            inc = next(i for i, x in now.incidents.items() if x.open
                       and self.wid(weapon) in x.weapons)
            for _ in range(now.weapons[self.wid(weapon)].load_count):
                if self.attempt("record_evidence", a.record_evidence, self.ctx,
                                weapon=self.wid(weapon), incident=inc, position="chamber",
                                description="round as found", armorer=self.pid("armorer")):
                    self.evidence_recorded += 1
                    self.evidence_from_loaded += 1
            self.attempt("store", self.w.put_away, weapon)
            self.attempt("close", self.w.close, inc)
        else:
            self.attempt("store", self.w.put_away, weapon)

    @rule(weapon=weapons, fired=st.integers(0, 8), misfire=st.integers(0, 6).map(
        lambda n: n == 0), storage=st.sampled_from(["safe", "cart"]))
    def bring_back(self, weapon: str, fired: int, misfire: bool, storage: str) -> None:
        """The holder gives the weapon back to the armorer, who stores it."""
        w = self.state().weapons[self.wid(weapon)]
        if w.custodian is not None and not self.state().people[w.custodian].is_armorer:
            holder = next(k for k, v in self.w.people.items() if v == w.custodian)
            fired = min(fired, w.load_count) if w.load_kind == "blank" else 0
            if self.attempt("return", self.w.take_back, weapon, holder, fired=fired,
                            misfire="Round failed to fire" if misfire else None):
                self.fired += fired
        self.attempt("store", self.w.put_away, weapon, storage=storage)

    @rule(weapon=weapons, who=st.one_of(st.just("holder"), people), armorer=armorers,
          fired=st.integers(0, 8), lost=st.integers(0, 2),
          misfire=st.integers(0, 6).map(lambda n: n == 0))
    def take_back(self, weapon: str, who: str, armorer: str, fired: int, lost: int,
                  misfire: bool) -> None:
        w = self.state().weapons[self.wid(weapon)]
        if who == "holder":
            holder = w.custodian or self.pid("alex")
            who = next((k for k, v in self.w.people.items() if v == holder), "alex")
        if w.load_kind == "blank":
            fired = min(fired, w.load_count)
        lost = min(lost, max(w.load_count - fired, 0))
        if self.attempt("return", self.w.take_back, weapon, who, armorer=armorer, fired=fired,
                        lost=lost, misfire="Round failed to fire" if misfire else None):
            self.fired += fired
            self.lost += lost

    @rule(weapon=weapons, armorer=armorers, storage=st.sampled_from(["safe", "cart"]))
    def put_away(self, weapon: str, armorer: str, storage: str) -> None:
        self.attempt("store", self.w.put_away, weapon, armorer=armorer, storage=storage)

    @rule(weapon=weapons, frm=people, to=people, scene=scenes)
    def handoff(self, weapon: str, frm: str, to: str, scene: str | None) -> None:
        self.attempt("handoff", a.handoff, self.ctx, weapon=self.wid(weapon),
                     from_=self.pid(frm), to=self.pid(to),
                     scene=self.w.scenes[scene] if scene else None)

    @rule(kind=st.sampled_from(["discharge", "misfire", "other", "complaint"]),
          named=st.lists(weapons, max_size=2), lot=st.one_of(st.none(), picks), by=people)
    def report(self, kind: str, named: list[str], lot: int | None, by: str) -> None:
        lots = list(self.state().lots)
        self.attempt("report", a.report_incident, self.ctx, kind=kind,
                     description=f"{kind} reported on set",
                     weapons=[self.wid(k) for k in named],
                     lots=[] if lot is None else [self.pick(lots, lot)], reported_by=self.pid(by))

    @rule(weapon=weapons, incident=picks, armorer=armorers)
    def record_evidence(self, weapon: str, incident: int, armorer: str) -> None:
        s = self.state()
        open_incs = [i for i, x in s.incidents.items() if x.open and self.wid(weapon) in x.weapons]
        inc = self.pick(open_incs or list(s.incidents), incident)
        if inc is None:
            return
        loaded = s.weapons[self.wid(weapon)].load_count > 0
        if self.attempt("record_evidence", a.record_evidence, self.ctx, weapon=self.wid(weapon),
                        incident=inc, position="chamber", description="round as found",
                        armorer=self.pid(armorer)):
            self.evidence_recorded += 1
            self.evidence_from_loaded += loaded

    @rule(incident=picks, armorer=armorers, supervisor=st.sampled_from(["supervisor", "ad"]),
          good=mostly, right_pins=mostly)
    def close(self, incident: int, armorer: str, supervisor: str, good: bool,
              right_pins: bool) -> None:
        s = self.state()
        inc = self.pick([i for i, x in s.incidents.items() if x.open], incident)
        if inc is None:
            return
        self.attempt("close", a.close_incident, self.ctx, incident=inc,
                     corrective_action="Weapon checked by the rental house; crew re-briefed"
                     if good else "ok", armorer=self.pid(armorer),
                     armorer_pin=self.w.pins[armorer], supervisor=self.pid(supervisor),
                     supervisor_pin=self.w.pins[supervisor] if right_pins else "0000")

    @rule(lot=picks, count=st.integers(1, 6), fail=st.integers(0, 8).map(lambda n: n == 0),
          armorer=armorers)
    def verify(self, lot: int, count: int, fail: bool, armorer: str) -> None:
        self.attempt("verify", a.verify_rounds, self.ctx, lot=self.pick(list(self.state().lots),
                                                                         lot),
                     count=count, method="shake", armorer=self.pid(armorer),
                     failed_finding="primer present" if fail else None)

    @rule(kind=st.sampled_from(["dummy", "blank", "live"]), count=st.integers(1, 30),
          calibre=st.sampled_from([".45 Colt", "9mm PAK"]), armorer=armorers)
    def intake(self, kind: str, count: int, calibre: str, armorer: str) -> None:
        ev = self.attempt("intake", a.receive_lot, self.ctx, armorer=self.pid(armorer),
                          kind=kind, load="full" if kind != "dummy" else None, calibre=calibre,
                          supplier="Supplier", supplier_lot=f"S{self.steps}", count=count,
                          storage=self.w.storage["safe"])
        if ev:
            self.received[ev[0].payload["lot"]] = count

    @rule(lot=picks, count=st.integers(1, 10), armorer=armorers)
    def destroy(self, lot: int, count: int, armorer: str) -> None:
        self.attempt("destroy", a.destroy_rounds, self.ctx,
                     lot=self.pick(list(self.state().lots), lot), count=count,
                     reason="damaged", armorer=self.pid(armorer))


    @rule(code=st.sampled_from(SOFT_OVERRIDES), by=st.sampled_from(["supervisor", "ad"]))
    def override(self, code: str, by: str) -> None:
        subject = {"SCENE_REHEARSAL_REPLICA": f"scene:{self.w.scenes['rehearsal']}",
                   "PEOPLE_ROLE_CONFLICT": f"person:{self.pid('props_armorer')}",
                   "CUSTODY_OVERDUE": f"day:{self.w.day}"}[code]
        self.attempt("override", self.w.override, code, subject, by=by)

    @rule(minutes=st.integers(1, 26 * 60), meal=st.sampled_from([None, True, False]))
    def time_passes(self, minutes: int, meal: bool | None) -> None:
        """Time goes by (complaints age, PIN locks lapse, weapons fall overdue);
        perhaps a meal break starts or ends."""
        self.clock.t += timedelta(minutes=minutes)
        if meal is not None:
            self.attempt("meal_break", a.meal_break, self.ctx, start=meal,
                         actor=self.pid("ad"))

    @rule(miscount=st.integers(0, 4).map(lambda n: n == 0))
    def wrap(self, miscount: bool) -> None:
        s = self.state()
        counts = {i: x.on_hand + (1 if miscount else 0) for i, x in s.lots.items()}
        if self.attempt("wrap", a.wrap, self.ctx, armorer=self.pid("armorer"), counts=counts):
            self.last_rows = None
            ev = a.open_day(self.ctx, date=self.clock().date().isoformat(), actor=self.pid("ad"))
            self.w.day = str(ev[0].payload["day"])
            self.w.plan("cold")
            self.w.plan("hot", hot=True, min_distance_m=8)
            self.w.plan("rehearsal", rehearsal=True)
            self.w.plan("pointing", pointing=True, pointing_description="past camera left")
            self.w.hold_meeting(["cold", "hot", "rehearsal", "pointing"])
            for k in ("armorer", "ad"):
                a.acknowledge_pointing(self.ctx, scene=self.w.scenes["pointing"],
                                       person=self.pid(k))

    # ---- invariants ---------------------------------------------------------
    @invariant()
    def the_record_is_coherent(self) -> None:
        self.steps += 1
        s = self.s = self.store.replay(self.w.production)  # every event replayed
        # Live projection rows == a replay of the events.
        rows = self.store.projection_rows(self.w.production)
        replayed = {(k, i): canonical(d).decode() for k, i, d in s.all_entities()}
        assert rows == replayed
        # The state loaded from the rows (what commands start from) == the replay.
        assert state_view(self.w.state()) == state_view(s)
        open_incs = {i: x for i, x in s.incidents.items() if x.open}
        holding: Counter[str] = Counter()
        for w in s.weapons.values():
            if w.state == "retired":
                continue
            assert (w.custodian is None) != (w.storage is None), w
            assert w.load_count >= 0
            if w.load_count:
                holding[str(w.load_lot)] += w.load_count
                assert w.is_firearm and w.storage is None, w
                assert s.lots[str(w.load_lot)].kind == w.load_kind, w
            if w.state == "in_storage":
                assert w.storage is not None
            elif w.state in ("inspected", "returned"):
                assert w.custodian is not None and s.people[w.custodian].is_armorer, w
            elif w.state == "issued":
                assert w.custodian is not None and "performer" in s.people[w.custodian].roles
            named_by = sorted(i for i, x in open_incs.items() if w.id in x.weapons)
            assert sorted(w.frozen_by) == named_by, w
            assert (w.state == "frozen") == bool(named_by), w
        evidence_received = to_evidence = fired = lost = 0
        for lot in s.lots.values():
            assert lot.kind in ("dummy", "blank", "evidence"), lot  # never live
            summary = lot.summary()
            assert min(summary.values()) >= 0, (lot.id, summary)
            assert summary["received"] == sum(summary[k] for k in (
                "on_hand", "in_weapons", "fired", "lost", "evidence", "destroyed"))
            assert lot.in_weapons == holding[lot.id], (lot.id, summary, holding)
            assert 0 <= lot.verified_in_stock <= lot.on_hand
            assert lot.verified_in_stock <= lot.verified_total
            if lot.kind != "dummy":
                assert lot.verified_in_stock == 0 and lot.verified_total == 0
            named_by = sorted(i for i, x in open_incs.items() if lot.id in x.lots)
            assert sorted(lot.quarantined_by) == named_by, lot
            if lot.kind == "evidence":
                assert lot.loaded == 0 and lot.incident in s.incidents
                evidence_received += lot.received
            else:
                assert lot.received == self.received[lot.id]
                to_evidence += lot.to_evidence
                fired += lot.fired
                lost += lot.lost
        assert set(self.received) == {i for i, x in s.lots.items() if x.kind != "evidence"}
        assert evidence_received == self.evidence_recorded
        assert to_evidence == self.evidence_from_loaded
        assert fired == self.fired
        assert lost == self.lost
        if self.steps % REBUILD_EVERY == 0:
            self.check_rebuild()

    def check_rebuild(self) -> None:
        self.last_rows = None
        before = self.store.projection_rows(self.w.production)
        n = self.store.rebuild(self.w.production)
        assert n == self.w.seq()
        assert self.store.projection_rows(self.w.production) == before

    def teardown(self) -> None:
        try:
            self.check_rebuild()
        finally:
            self.store.dispose()
            shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.mark.slow
def test_random_custody_sequences_keep_every_invariant() -> None:
    DONE.clear()
    REFUSED.clear()
    folder = scratch_dir()
    CustodyMachine.template = WorldTemplate.build(folder / "template", production="stateful")
    try:
        run_state_machine_as_test(CustodyMachine, settings=settings(
            max_examples=25, stateful_step_count=30, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]))
    finally:
        CustodyMachine.template = None
        shutil.rmtree(folder, ignore_errors=True)
    # The runs did real work, not just a long list of refusals.
    for action in ("inspect", "witness", "issue", "return", "store"):
        assert DONE[action] > 0, (DONE, REFUSED)
    assert sum(REFUSED.values()) > 0 and sum(DONE.values()) > 0
