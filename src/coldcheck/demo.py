"""`coldcheck demo`: a realistic shooting day in a fresh database.

Everything goes through the same services as the CLI, API and web app, so the
demo is also a walk through the rules: the attempted violations at the end of
each block are refused and recorded exactly as they would be on set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .config import Settings
from .domain.errors import ColdcheckError
from .persistence.store import Store
from .services import actions as a
from .services.context import Context
from .services.ledger import latest_checkpoint

DEMO_PRODUCTION = "dusty-trails"
DEMO_PEOPLE: list[dict[str, Any]] = [
    {"key": "armorer", "name": "Sam Reyes", "roles": ["armorer"], "pin": "4821",
     "department": "armory"},
    {"key": "assistant", "name": "Jo Park", "roles": ["assistant_armorer"], "pin": "7315",
     "department": "armory"},
    {"key": "ad", "name": "Dana Whitfield", "roles": ["first_ad"], "pin": "2640"},
    {"key": "supervisor", "name": "Lee Okafor", "roles": ["safety_supervisor"], "pin": "9152"},
    {"key": "producer", "name": "Morgan Hale", "roles": ["producer"], "pin": "3307"},
    {"key": "alex", "name": "Alex Stone", "roles": ["performer"], "pin": "5566"},
    {"key": "rita", "name": "Rita Vance", "roles": ["performer"], "pin": "6677"},
    {"key": "chris", "name": "Chris Bell", "roles": ["performer"], "pin": "7788"},
]


class SteppingClock:
    """Demo time: starts in the past and moves a few minutes per action."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        self.t, self.step = start, step

    def __call__(self) -> datetime:
        self.t += self.step
        return self.t


@dataclass
class DemoResult:
    ctx: Context
    people: dict[str, str]
    weapons: dict[str, str]
    lots: dict[str, str]
    refusals: list[dict[str, str]] = field(default_factory=list)
    pins: dict[str, str] = field(default_factory=dict)


def _cyl(n: int, content: str) -> list[dict[str, str]]:
    return [{"position": f"cylinder {i}", "content": content} for i in range(1, n + 1)]


def run_demo(store: Store, settings: Settings, *, production: str = DEMO_PRODUCTION,
             now: datetime | None = None) -> DemoResult:
    now = now or datetime.now(UTC)
    clock = SteppingClock(now - timedelta(hours=9), timedelta(minutes=3))
    ctx = a.init_production(store=store, settings=settings, production=production,
                            name="Dusty Trails (demo production)", at=clock())
    ctx.clock = clock
    res = DemoResult(ctx, {}, {}, {})

    def refused(what: str, fn: Any, **kw: Any) -> None:
        try:
            fn(ctx, **kw)
        except ColdcheckError as err:
            res.refusals.append({"attempt": what, "code": err.code, "message": err.message})
        else:  # pragma: no cover - the demo is wrong if this happens
            raise AssertionError(f"demo: {what} was not refused")

    expires = (now.date() + timedelta(days=365)).isoformat()
    for p in DEMO_PEOPLE:
        ev = a.add_person(ctx, name=p["name"], roles=p["roles"], badge=f"BADGE-{p['key'].upper()}",
                          pin=p["pin"], department=p.get("department", ""),
                          qualification_expires=expires if "armor" in p["roles"][0] else None)
        res.people[p["key"]] = ev[0].payload["person"]
        res.pins[p["key"]] = p["pin"]
    P = res.people
    arm, ad, sup = P["armorer"], P["ad"], P["supervisor"]

    safe = a.add_storage(ctx, name="Weapons safe A", kind="safe",
                         actor=arm)[0].payload["storage"]
    cart = a.add_storage(ctx, name="Armory cart 1", kind="cart",
                         actor=arm)[0].payload["storage"]
    arsenal = [
        ("revolver", "COLT-SAA-5521", "Colt", "Single Action Army (blank-adapted)", ".45 Colt",
         "firearm", 6, 0, safe),
        ("pistol", "GL17-BK-0932", "Glock", "17 blank-firing", "9mm PAK", "blank_only", 1, 15,
         safe),
        ("rifle", "M4-BF-11873", "Colt", "M4 blank-firing", "5.56 blank", "blank_only", 1, 30,
         safe),
        ("replica_revolver", "REP-SAA-001", "Denix", "SAA non-firing replica", ".45 Colt",
         "non_firing_replica", 6, 0, cart),
        ("replica_pistol", "REP-1911-002", "Denix", "1911 non-firing replica", ".45 ACP",
         "non_firing_replica", 1, 7, cart),
        ("rubber_rifle", "RUB-WIN-003", "Props Inc.", "Winchester rubber stunt rifle", "n/a",
         "rubber", 1, 0, cart),
    ]
    for key, serial, make, model, cal, kind, ch, mag_cap, where in arsenal:
        ev = a.receive_weapon(ctx, armorer=arm, serial=serial, make=make, model=model,
                              calibre=cal, kind=kind, chambers=ch, magazine_capacity=mag_cap,
                              storage=where)
        res.weapons[key] = ev[0].payload["weapon"]
    W = res.weapons

    res.lots["dummies"] = a.receive_lot(
        ctx, armorer=arm, kind="dummy", calibre=".45 Colt", supplier="Stembridge Gun Rentals",
        supplier_lot="DUM-45-2026-11", count=50, storage=safe)[0].payload["lot"]
    res.lots["pistol_blanks"] = a.receive_lot(
        ctx, armorer=arm, kind="blank", load="full", calibre="9mm PAK",
        supplier="Blank Supply Co.", supplier_lot="B9-FULL-8841", count=100,
        storage=safe)[0].payload["lot"]
    res.lots["rifle_blanks"] = a.receive_lot(
        ctx, armorer=arm, kind="blank", load="half", calibre="5.56 blank",
        supplier="Blank Supply Co.", supplier_lot="B556-HALF-1207", count=60,
        storage=safe)[0].payload["lot"]
    L = res.lots
    refused("a box of live .45 Colt rounds arrives with the dummies", a.receive_lot,
            armorer=arm, kind="live", calibre=".45 Colt", supplier="unknown (mixed box)",
            supplier_lot="none", count=6, storage=safe)

    a.verify_rounds(ctx, lot=L["dummies"], count=4, method="shake", armorer=arm)

    a.open_day(ctx, date=clock().date().isoformat(), actor=ad)
    for key in ("alex", "rita", "chris"):
        a.brief(ctx, person=P[key], briefed_by=sup, topic="Weapons safety briefing "
                "(Safety Bulletin #1): treat every weapon as loaded")
    rehearsal = a.plan_scene(ctx, actor=ad, name="Sc. 12 rehearsal: saloon blocking",
                             hot=False, rehearsal=True,
                             weapons=[W["replica_revolver"], W["replica_pistol"]],
                             performers=[P["alex"], P["rita"]])[0].payload["scene"]
    shootout = a.plan_scene(ctx, actor=ad, name="Sc. 14: street shootout (hot)", hot=True,
                            rehearsal=False, weapons=[W["pistol"], W["rifle"]],
                            performers=[P["rita"], P["chris"]], min_distance_m=8,
                            overdue_minutes=45)[0].payload["scene"]
    closeup = a.plan_scene(ctx, actor=ad, name="Sc. 15: revolver close-up toward camera",
                           hot=False, rehearsal=False, weapons=[W["revolver"]],
                           performers=[P["alex"]], pointing=True,
                           pointing_description="Alex points the revolver past camera left, "
                                                "operator behind a shield",
                           overdue_minutes=20)[0].payload["scene"]
    a.hold_meeting(ctx, scenes=[shootout, closeup], led_by=arm,
                   attendees=[P[k] for k in ("assistant", "ad", "supervisor", "alex", "rita",
                                             "chris")])

    # Rehearsal with replicas: custody is tracked, firearm rules do not apply.
    a.inspect_weapon(ctx, weapon=W["replica_revolver"], armorer=arm,
                     positions=_cyl(6, "empty"), barrel_clear=True, magazine_checked=False)
    a.issue_weapon(ctx, weapon=W["replica_revolver"], armorer=arm, performer=P["alex"],
                   scene=rehearsal)
    refused("the performer passes the replica to the 1st AD between set-ups", a.handoff,
            weapon=W["replica_revolver"], from_=P["alex"], to=ad)
    a.return_weapon(ctx, weapon=W["replica_revolver"], performer=P["alex"], armorer=arm)
    a.store_weapon(ctx, weapon=W["replica_revolver"], storage=cart, armorer=arm)

    # The close-up: dummies, each round verified first; pointing plan acknowledged.
    refused("loading six dummies when only four are verified", a.inspect_weapon,
            weapon=W["revolver"], armorer=arm, positions=_cyl(6, "dummy"), barrel_clear=True,
            magazine_checked=False, lot=L["dummies"], scene=closeup)
    a.verify_rounds(ctx, lot=L["dummies"], count=8, method="shake", armorer=arm)
    ins = a.inspect_weapon(ctx, weapon=W["revolver"], armorer=arm,
                           positions=_cyl(6, "dummy"), barrel_clear=True,
                           magazine_checked=False, lot=L["dummies"],
                           scene=closeup)[0].payload["inspection"]
    refused("the 1st AD takes the revolver off the cart and hands it to the performer",
            a.handoff, weapon=W["revolver"], from_=ad, to=P["alex"], scene=closeup)
    a.witness_inspection(ctx, inspection=ins, witness=P["alex"], pin=res.pins["alex"])
    a.witness_inspection(ctx, inspection=ins, witness=ad, pin=res.pins["ad"])
    refused("issuing before the pointing plan is acknowledged", a.issue_weapon,
            weapon=W["revolver"], armorer=arm, performer=P["alex"], scene=closeup)
    a.acknowledge_pointing(ctx, scene=closeup, person=arm)
    a.acknowledge_pointing(ctx, scene=closeup, person=ad)
    a.issue_weapon(ctx, weapon=W["revolver"], armorer=arm, performer=P["alex"], scene=closeup)
    a.return_weapon(ctx, weapon=W["revolver"], performer=P["alex"], armorer=arm)
    a.store_weapon(ctx, weapon=W["revolver"], storage=safe, armorer=arm)

    # The hot scene: blanks, witnessed, fired, counted back.
    mag = [{"position": "chamber", "content": "blank"}]
    ins = a.inspect_weapon(ctx, weapon=W["pistol"], armorer=arm, positions=mag,
                           barrel_clear=True, magazine_checked=True, lot=L["pistol_blanks"],
                           magazine_rounds=9, scene=shootout)[0].payload["inspection"]
    a.witness_inspection(ctx, inspection=ins, witness=P["rita"], pin=res.pins["rita"])
    a.witness_inspection(ctx, inspection=ins, witness=sup, pin=res.pins["supervisor"])
    a.issue_weapon(ctx, weapon=W["pistol"], armorer=arm, performer=P["rita"], scene=shootout)
    ins = a.inspect_weapon(ctx, weapon=W["rifle"], armorer=arm, positions=mag,
                           barrel_clear=True, magazine_checked=True, lot=L["rifle_blanks"],
                           magazine_rounds=9, scene=shootout)[0].payload["inspection"]
    a.witness_inspection(ctx, inspection=ins, witness=P["chris"], pin=res.pins["chris"])
    a.witness_inspection(ctx, inspection=ins, witness=ad, pin=res.pins["ad"])
    a.issue_weapon(ctx, weapon=W["rifle"], armorer=arm, performer=P["chris"], scene=shootout)
    a.file_complaint(ctx, by=P["chris"], text="Blank smoke drifts into video village on "
                     "take 2; please move the monitors.")
    refused("calling a meal break while two weapons are out", a.meal_break, start=True,
            actor=ad)
    a.return_weapon(ctx, weapon=W["pistol"], performer=P["rita"], armorer=arm, fired=6)
    # A misfire: the rifle and its lot are frozen, the rounds left in it are evidence.
    a.return_weapon(ctx, weapon=W["rifle"], performer=P["chris"], armorer=arm, fired=3,
                    misfire="Rifle failed to fire on take 4, round 4; performer kept muzzle "
                            "down, armorer cleared")
    st = store.state(ctx.production)
    inc = next(i.id for i in st.incidents.values() if i.open and W["rifle"] in i.weapons)
    refused("re-inspecting the rifle to use it after the misfire", a.inspect_weapon,
            weapon=W["rifle"], armorer=arm, positions=mag, barrel_clear=True,
            magazine_checked=True, lot=L["rifle_blanks"], magazine_rounds=9, scene=shootout)
    for n in range(st.weapons[W["rifle"]].load_count):
        a.record_evidence(ctx, weapon=W["rifle"], incident=inc,
                          position="chamber" if n == 0 else f"magazine {n}",
                          description="5.56 half-load blank, crimp intact", armorer=arm)
    a.store_weapon(ctx, weapon=W["pistol"], storage=safe, armorer=arm)
    a.store_weapon(ctx, weapon=W["rifle"], storage=safe, armorer=arm)
    a.acknowledge_complaint(ctx, complaint="C1", by=sup,
                            response="Monitors moved 10 m upwind for the rest of the day.")
    a.close_incident(ctx, incident=inc, armorer=arm, armorer_pin=res.pins["armorer"],
                     supervisor=sup, supervisor_pin=res.pins["supervisor"],
                     corrective_action="Rifle sent to the rental house for inspection; the "
                                       "half-load lot stays in evidence; switch to full loads.")
    st = store.state(ctx.production)
    a.wrap(ctx, armorer=arm, counts={lid: st.lots[lid].on_hand for lid in L.values()})
    return res


def summary(res: DemoResult) -> dict[str, Any]:
    st = res.ctx.store.state(res.ctx.production)
    cp = latest_checkpoint(res.ctx)
    names = {v: k for k, v in res.people.items()}
    return {
        "production": st.production, "name": st.name, "events": st.seq,
        "people": [{"id": p.id, "name": p.name, "roles": p.roles,
                    "demo_pin": res.pins[names[p.id]]} for p in st.people.values()],
        "weapons": [{"id": w.id, "serial": w.serial, "kind": w.kind, "state": w.state}
                    for w in st.weapons.values()],
        "lots": [{"id": lot.id, "kind": lot.kind, "calibre": lot.calibre, **lot.summary()}
                 for lot in st.lots.values()],
        "refused_attempts": res.refusals,
        "incidents": [{"id": i.id, "kind": i.kind, "open": i.open} for i in
                      st.incidents.values()],
        "checkpoint": cp[1] if cp else None,
    }


def today() -> date:
    return datetime.now(UTC).date()
