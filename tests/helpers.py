"""A small production with everything the custody rules talk about, built
through the services (the same calls the CLI, API and web app make).

``build_world`` returns a :class:`World` holding the context and the ids of
every person, storage location, weapon, lot and scene by a short key, plus
helpers for the common moves (inspect, witness, issue, return, store) and for
checking what a refusal did (``snapshot``, ``events_since``).

Importable from any test as ``from helpers import build_world`` (``tests/`` is
on ``sys.path`` because the root ``conftest.py`` lives there).
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError, RuleViolation
from coldcheck.domain.events import Event
from coldcheck.domain.state import ProductionState
from coldcheck.persistence.store import Store
from coldcheck.security import hasher
from coldcheck.services import actions as a
from coldcheck.services.context import Context

T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
QUALIFIED_UNTIL = "2030-12-31"
EXPIRED_ON = "2025-06-30"

# key, name, roles, department, PIN, qualification expiry, briefed
PEOPLE: list[tuple[str, str, list[str], str, str, str | None, bool]] = [
    ("armorer", "Sam Reyes", ["armorer"], "armory", "4821", QUALIFIED_UNTIL, False),
    ("assistant", "Jo Park", ["assistant_armorer"], "armory", "7315", QUALIFIED_UNTIL, False),
    ("expired", "Ray Holt", ["armorer"], "armory", "1199", EXPIRED_ON, False),
    # Armorer who is also in the props department: PEOPLE_ROLE_CONFLICT until acknowledged.
    ("props_armorer", "Kit Lane", ["armorer", "prop_master"], "props", "3141",
     QUALIFIED_UNTIL, False),
    ("props", "Pat Moss", ["prop_master"], "props", "2718", None, False),
    ("ad", "Dana Whitfield", ["first_ad"], "", "2640", None, False),
    ("supervisor", "Lee Okafor", ["safety_supervisor"], "", "9152", None, False),
    ("producer", "Morgan Hale", ["producer"], "", "3307", None, False),
    ("investigator", "Ines Duarte", ["investigator"], "", "4455", None, False),
    ("alex", "Alex Stone", ["performer"], "", "5566", None, True),
    ("rita", "Rita Vance", ["performer"], "", "6677", None, True),
    ("chris", "Chris Bell", ["performer"], "", "7788", None, True),
    # A performer who never had the weapons-safety briefing.
    ("newbie", "Nico Vale", ["performer"], "", "8899", None, False),
]
PERFORMERS = [p[0] for p in PEOPLE if "performer" in p[2]]

# key, serial, make, model, calibre, kind, chambers, magazine capacity
WEAPONS: list[tuple[str, str, str, str, str, str, int, int]] = [
    ("revolver", "COLT-SAA-5521", "Colt", "SAA blank-adapted", ".45 Colt", "firearm", 6, 0),
    ("revolver2", "COLT-SAA-7734", "Colt", "SAA blank-adapted", ".45 Colt", "firearm", 6, 0),
    ("pistol", "GL17-BK-0932", "Glock", "17 blank-firing", "9mm PAK", "blank_only", 1, 15),
    ("replica", "REP-SAA-001", "Denix", "SAA non-firing replica", ".45 Colt",
     "non_firing_replica", 6, 0),
    ("rubber", "RUB-WIN-003", "Props Inc.", "Winchester rubber", "n/a", "rubber", 1, 0),
    ("airsoft", "AS-M4-004", "Tokyo Marui", "M4 airsoft", "6mm BB", "airsoft", 1, 30),
    ("other", "UNK-38-005", "Unknown", "Break-top .38", ".38 Special", "other", 6, 0),
]
FIREARMS = ("revolver", "revolver2", "pistol", "other")
REPLICAS = ("replica", "rubber", "airsoft")

VERIFIED_DUMMIES = 12


class Clock:
    """Deterministic time (the same as the ``clock`` fixture, for code that cannot
    take fixtures, like a hypothesis state machine): each call moves one minute on."""

    def __init__(self, start: datetime = T0, step: timedelta = timedelta(minutes=1)) -> None:
        self.t, self.step = start, step

    def __call__(self) -> datetime:
        self.t += self.step
        return self.t


def fast_settings(tmp: Path) -> Settings:
    """SQLite in ``tmp`` with fast argon2 (as the ``settings`` fixture)."""
    return Settings(database_url=str(tmp / "coldcheck.db"), key_dir=tmp / "keys",
                    argon2_profile="fast-insecure-for-tests", device="pytest")


def cyl(n: int, content: str = "empty", loaded: int = 0) -> list[dict[str, str]]:
    """Cylinder positions 1..n, the first ``loaded`` holding ``content``."""
    return [{"position": f"cylinder {i}", "content": content if i <= loaded else "empty"}
            for i in range(1, n + 1)]


@dataclass
class World:
    ctx: Context
    store: Store
    people: dict[str, str] = field(default_factory=dict)
    pins: dict[str, str] = field(default_factory=dict)
    storage: dict[str, str] = field(default_factory=dict)
    weapons: dict[str, str] = field(default_factory=dict)
    lots: dict[str, str] = field(default_factory=dict)
    scenes: dict[str, str] = field(default_factory=dict)
    day: str = ""
    meeting: str | None = None
    _positions: dict[str, tuple[list[str], int]] = field(default_factory=dict, repr=False)

    # ---- reading -----------------------------------------------------
    @property
    def production(self) -> str:
        return self.ctx.production

    def state(self) -> ProductionState:
        """A fresh replay of the stored events."""
        return self.store.state(self.production)

    def seq(self) -> int:
        return self.store.head(self.production)

    def events_since(self, seq: int) -> list[Event]:
        return self.store.events(self.production, seq)

    def types_since(self, seq: int) -> list[str]:
        return [e.type for e in self.events_since(seq)]

    def snapshot(self) -> dict[str, Any]:
        """Weapons and lots, as the live projection rows and as a replay."""
        rows = {k: v for k, v in self.store.projection_rows(self.production).items()
                if k[0] in ("weapon", "lot")}
        st = self.store.replay(self.production)  # a replay of every event
        return {"rows": rows,
                "weapons": {i: dataclasses.asdict(w) for i, w in st.weapons.items()},
                "lots": {i: dataclasses.asdict(x) for i, x in st.lots.items()}}

    def person_id(self, key: str) -> str:
        return self.people.get(key, key)

    # ---- common moves ------------------------------------------------
    def positions(self, weapon: str, content: str = "empty", n: int = 0,
                  complete: bool = True) -> tuple[list[dict[str, str]], int]:
        """Positions of a weapon holding ``n`` rounds of ``content``: the chamber or
        cylinder positions first, the rest in the magazine. Returns (positions,
        magazine_rounds)."""
        wid = self.weapons.get(weapon, weapon)
        if wid not in self._positions:  # a weapon's positions never change
            w = self.state().weapon(wid)
            self._positions[wid] = (w.positions(), w.magazine_capacity)
        names, magazine = self._positions[wid]
        if not complete:
            names = names[: max(1, len(names) // 2)]
        pos = [{"position": p, "content": content if i < n else "empty"}
               for i, p in enumerate(names)]
        return pos, max(0, n - len(names)) if magazine else 0

    def inspect(self, weapon: str, *, content: str = "empty", n: int = 0,
                lot: str | None = None, scene: str | None = None, armorer: str = "armorer",
                complete: bool = True, barrel_clear: bool = True,
                magazine_checked: bool = True) -> str:
        pos, mag = self.positions(weapon, content, n, complete)
        ev = a.inspect_weapon(self.ctx, weapon=self.weapons.get(weapon, weapon),
                              armorer=self.person_id(armorer), positions=pos,
                              barrel_clear=barrel_clear, magazine_checked=magazine_checked,
                              lot=self.lots.get(lot, lot) if lot else None,
                              magazine_rounds=mag,
                              scene=self.scenes.get(scene, scene) if scene else None)
        return str(ev[0].payload["inspection"])

    def witness(self, inspection: str, *who: str, pin: str | None = None) -> None:
        for key in who:
            a.witness_inspection(self.ctx, inspection=inspection, witness=self.person_id(key),
                                 pin=pin if pin is not None else self.pins[key])

    def ready(self, weapon: str, performer: str, *, witnesses: Iterable[str] = ("ad",),
              **inspect: Any) -> str:
        """A complete inspection witnessed by the performer and the 1st AD."""
        ins = self.inspect(weapon, **inspect)
        self.witness(ins, performer, *witnesses)
        return ins

    def issue(self, weapon: str, performer: str, scene: str, *,
              armorer: str = "armorer") -> list[Event]:
        return a.issue_weapon(self.ctx, weapon=self.weapons.get(weapon, weapon),
                              armorer=self.person_id(armorer),
                              performer=self.person_id(performer),
                              scene=self.scenes.get(scene, scene))

    def give(self, weapon: str, performer: str, scene: str, **inspect: Any) -> list[Event]:
        """Inspect, witness and issue in one go."""
        self.ready(weapon, performer, scene=scene, **inspect)
        return self.issue(weapon, performer, scene)

    def take_back(self, weapon: str, performer: str, *, fired: int = 0, lost: int = 0,
                  misfire: str | None = None, armorer: str = "armorer") -> list[Event]:
        return a.return_weapon(self.ctx, weapon=self.weapons.get(weapon, weapon),
                               performer=self.person_id(performer),
                               armorer=self.person_id(armorer), fired=fired, lost=lost,
                               misfire=misfire)

    def put_away(self, weapon: str, *, storage: str = "safe",
                 armorer: str = "armorer") -> list[Event]:
        return a.store_weapon(self.ctx, weapon=self.weapons.get(weapon, weapon),
                              storage=self.storage.get(storage, storage),
                              armorer=self.person_id(armorer))

    def override(self, rule: str, subject: str, *, by: str = "supervisor",
                 reason: str = "Acknowledged on set after review with the armorer.") -> list[Event]:
        return a.override(self.ctx, rule=rule, subject=subject, reason=reason,
                          supervisor=self.person_id(by))

    def close(self, incident: str, *, action: str = "Weapon inspected by the rental house; "
              "procedure re-briefed to the whole unit.", armorer: str = "armorer",
              supervisor: str = "supervisor") -> list[Event]:
        return a.close_incident(self.ctx, incident=incident, corrective_action=action,
                                armorer=self.person_id(armorer), armorer_pin=self.pins[armorer],
                                supervisor=self.person_id(supervisor),
                                supervisor_pin=self.pins[supervisor])

    def plan(self, key: str, *, hot: bool = False, rehearsal: bool = False,
             weapons: Iterable[str] | None = None, performers: Iterable[str] | None = None,
             **kw: Any) -> str:
        ws = [self.weapons[k] for k in (weapons if weapons is not None else self.weapons)]
        ps = [self.people[k] for k in (performers if performers is not None else PERFORMERS)]
        ev = a.plan_scene(self.ctx, actor=self.people["ad"], name=f"Scene {key}", hot=hot,
                          rehearsal=rehearsal, weapons=ws, performers=ps, **kw)
        self.scenes[key] = str(ev[0].payload["scene"])
        return self.scenes[key]

    def hold_meeting(self, scenes: Iterable[str], attendees: Iterable[str] | None = None,
                     led_by: str = "armorer") -> str:
        ev = a.hold_meeting(self.ctx, scenes=[self.scenes[s] for s in scenes],
                            attendees=[self.people[k] for k in
                                       (attendees if attendees is not None else self.people)],
                            led_by=self.people[led_by])
        return str(ev[0].payload["meeting"])


def refusal(fn: Callable[..., Any], *args: Any, **kw: Any) -> ColdcheckError:
    """Call ``fn`` and return the ColdcheckError it must raise."""
    try:
        fn(*args, **kw)
    except ColdcheckError as err:
        return err
    raise AssertionError(f"{getattr(fn, '__name__', fn)} was not refused")


def codes(err: ColdcheckError) -> list[str]:
    """Every code an error carries (all violations of a RuleViolation)."""
    if isinstance(err, RuleViolation):
        return [v.code for v in err.violations]
    return [err.code]


def subject_of(err: ColdcheckError, code: str) -> str:
    """The subject of the violation with this code, as an override must name it."""
    assert isinstance(err, RuleViolation), err
    return next(v.subject for v in err.violations if v.code == code)


def build_world(store: Store, settings: Settings, clock: Callable[[], datetime], *,
                production: str = "rules-test", meeting: bool = True,
                verified_dummies: int = VERIFIED_DUMMIES) -> World:
    """People with every role, two storage locations, a weapon of each kind, dummy
    and blank lots, an open day, briefings, four scenes (cold take, hot take,
    rehearsal, pointing) and, unless ``meeting=False``, that day's safety meeting
    naming all four with everyone attending."""
    ctx = a.init_production(store=store, settings=settings, production=production,
                            name="Rules test production", at=clock())
    ctx.clock = clock
    w = World(ctx=ctx, store=store)
    for key, name, roles, dept, pin, expires, _ in PEOPLE:
        ev = a.add_person(ctx, name=name, roles=roles, badge=f"BADGE-{key.upper()}", pin=pin,
                          department=dept, qualification_expires=expires)
        w.people[key], w.pins[key] = str(ev[0].payload["person"]), pin
    arm = w.people["armorer"]
    for key, kind in (("safe", "safe"), ("cart", "cart")):
        ev = a.add_storage(ctx, name=f"Weapons {key}", kind=kind, actor=arm)
        w.storage[key] = str(ev[0].payload["storage"])
    for key, serial, make, model, cal, kind, chambers, mag in WEAPONS:
        ev = a.receive_weapon(ctx, armorer=arm, serial=serial, make=make, model=model,
                              calibre=cal, kind=kind, chambers=chambers,
                              magazine_capacity=mag,
                              storage=w.storage["cart" if kind in REPLICAS else "safe"])
        w.weapons[key] = str(ev[0].payload["weapon"])
    for key, kind, load, cal, n in (("dummies", "dummy", None, ".45 Colt", 50),
                                    ("blanks45", "blank", "full", ".45 Colt", 50),
                                    ("blanks9", "blank", "full", "9mm PAK", 100)):
        ev = a.receive_lot(ctx, armorer=arm, kind=kind, load=load, calibre=cal,
                           supplier="Stembridge", supplier_lot=f"{key.upper()}-2026",
                           count=n, storage=w.storage["safe"])
        w.lots[key] = str(ev[0].payload["lot"])
    if verified_dummies:
        a.verify_rounds(ctx, lot=w.lots["dummies"], count=verified_dummies, method="shake",
                        armorer=arm)
    ev = a.open_day(ctx, date=clock().date().isoformat(), actor=w.people["ad"])
    w.day = str(ev[0].payload["day"])
    for key, *_, briefed in PEOPLE:
        if briefed:
            a.brief(ctx, person=w.people[key], briefed_by=w.people["supervisor"],
                    topic="Weapons safety briefing (Safety Bulletin #1)")
    w.plan("cold")
    w.plan("hot", hot=True, min_distance_m=8)
    w.plan("rehearsal", rehearsal=True)
    w.plan("pointing", pointing=True,
           pointing_description="Performer points past camera left; operator behind a shield")
    if meeting:
        w.meeting = w.hold_meeting(["cold", "hot", "rehearsal", "pointing"])
    return w


@dataclass
class WorldTemplate:
    """A world built once (say per test session) in its own folder; each
    :meth:`clone` is an independent copy of its database and signing keys, so
    tests get a fresh production without paying for building it again."""

    folder: Path
    world: World
    end: datetime  # the template clock's time when the build finished

    @classmethod
    def build(cls, folder: Path, **kw: Any) -> WorldTemplate:
        folder.mkdir(parents=True)
        clock = Clock()
        store = Store(fast_settings(folder).database_url)
        try:
            w = build_world(store, fast_settings(folder), clock, **kw)
        finally:
            store.dispose()  # closes the SQLite file cleanly before it is copied
        return cls(folder, w, clock.t)

    def clone(self, folder: Path, clock: Clock) -> World:
        """A copy in ``folder`` (which must not exist yet); ``clock`` is moved to
        where the template's clock stopped, so time keeps moving forward."""
        shutil.copytree(self.folder, folder)
        settings = fast_settings(folder)
        store = Store(settings.database_url)
        clock.t = self.end
        ctx = Context(store=store, production=self.world.production, settings=settings,
                      device=settings.device, clock=clock, ph=hasher(settings.argon2_profile))
        src = self.world
        return World(ctx=ctx, store=store, people=dict(src.people), pins=dict(src.pins),
                     storage=dict(src.storage), weapons=dict(src.weapons),
                     lots=dict(src.lots), scenes=dict(src.scenes), day=src.day,
                     meeting=src.meeting, _positions=copy.deepcopy(src._positions))
