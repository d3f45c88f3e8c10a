"""The *Rust* failure chain (docs/domain.md, "What went wrong"), replayed link by
link against coldcheck: each failure is attempted and refused with its exact
code, and at the end the revolver's timeline answers who held it, what was
inspected and loaded, and from which lot. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from helpers import QUALIFIED_UNTIL, World, codes, cyl, refusal

from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services.queries import status, timeline

CAST = [
    # The armorer was also assistant props.
    ("armorer", "Casey Dunn", ["armorer", "prop_master"], "props", "4821", QUALIFIED_UNTIL),
    # The 1st AD was also the safety coordinator.
    ("ad", "Drew Hollis", ["first_ad", "safety_supervisor"], "", "2640", None),
    ("supervisor", "Lee Okafor", ["safety_supervisor"], "", "9152", None),
    ("performer", "Avery Lane", ["performer"], "", "5566", None),
    ("performer2", "Sol Grant", ["performer"], "", "6677", None),
    ("producer", "Morgan Hale", ["producer"], "", "3307", None),
]


def exactly(err: ColdcheckError, code: str) -> None:
    """The refusal reports ``code`` and nothing else."""
    assert err.code == code, str(err)
    assert set(codes(err)) == {code}, codes(err)


def alert_codes(w: World, subject: str) -> set[str]:
    return {x["code"] for x in status(w.ctx)["alerts"] if x["subject"] == subject}


def test_the_rust_failure_chain_is_refused_link_by_link(store: Store,
                                                         backend_settings: Settings,
                                                         clock: Any) -> None:
    ctx = a.init_production(store=store, settings=backend_settings, production="rust-2021",
                            name="Rust (replay)", at=clock())
    ctx.clock = clock
    w = World(ctx=ctx, store=store)
    for key, name, roles, dept, pin, expires in CAST:
        ev = a.add_person(ctx, name=name, roles=roles, badge=f"B-{key}", pin=pin,
                          department=dept, qualification_expires=expires)
        w.people[key], w.pins[key] = str(ev[0].payload["person"]), pin
    P = w.people
    arm, ad, sup = P["armorer"], P["ad"], P["supervisor"]
    st = w.state()
    assert st.people[arm].role_conflicts == ["armorer_other_department"]
    assert st.people[ad].role_conflicts == ["first_ad_safety_supervisor"]

    # -- The armorer was also assistant props: warned until the supervisor acknowledges.
    ev = a.add_storage(ctx, name="Prop truck safe", kind="safe", actor=arm)
    w.storage["safe"] = str(ev[0].payload["storage"])
    seq = w.seq()
    err = refusal(a.receive_weapon, ctx, armorer=arm, serial="PIETTA-1873-001", make="Pietta",
                  model="1873 Long Colt", calibre=".45 Colt", kind="firearm", chambers=6,
                  magazine_capacity=0, storage=w.storage["safe"])
    exactly(err, "PEOPLE_ROLE_CONFLICT")
    assert w.types_since(seq) == ["action.refused"]
    assert w.state().weapons == {}
    # The 1st AD, also safety supervisor, cannot acknowledge their own conflict.
    err = refusal(w.override, "PEOPLE_ROLE_CONFLICT", f"person:{ad}", by="ad")
    assert err.code == "OVERRIDE_NOT_ALLOWED"
    w.override("PEOPLE_ROLE_CONFLICT", f"person:{arm}",
               reason="Armorer's props duties reassigned for weapon days; reviewed.")
    for key, serial, cal in (("revolver", "PIETTA-1873-001", ".45 Colt"),
                             ("revolver2", "PIETTA-1873-002", ".45 Colt")):
        ev = a.receive_weapon(ctx, armorer=arm, serial=serial, make="Pietta",
                              model="1873 Long Colt", calibre=cal, kind="firearm", chambers=6,
                              magazine_capacity=0, storage=w.storage["safe"])
        w.weapons[key] = str(ev[0].payload["weapon"])
    W = w.weapons

    # -- Live ammunition reached the set.
    seq = w.seq()
    err = refusal(a.receive_lot, ctx, armorer=arm, kind="live", calibre=".45 Colt",
                  supplier="unknown", supplier_lot="box marked dummies", count=6,
                  storage=w.storage["safe"])
    exactly(err, "AMMO_LIVE_FORBIDDEN")
    assert w.types_since(seq) == ["ammo.intake_refused", "incident.opened"]
    assert all(lot.kind != "live" for lot in w.state().lots.values())
    assert "INCIDENT_OPEN" in {x["code"] for x in status(ctx)["alerts"]}

    # -- Dummies loaded without each round being checked; a live round among them.
    for key, box in (("dummies", "DUM-45-A"), ("suspect", "DUM-45-B")):
        ev = a.receive_lot(ctx, armorer=arm, kind="dummy", calibre=".45 Colt",
                           supplier="Prop supplier", supplier_lot=box, count=50,
                           storage=w.storage["safe"])
        w.lots[key] = str(ev[0].payload["lot"])
    ev = a.receive_lot(ctx, armorer=arm, kind="blank", load="full", calibre=".45 Colt",
                       supplier="Blank Supply Co.", supplier_lot="B45-FULL", count=50,
                       storage=w.storage["safe"])
    w.lots["blanks"] = str(ev[0].payload["lot"])
    L = w.lots
    exactly(refusal(w.inspect, "revolver", content="dummy", n=6, lot="dummies"),
            "AMMO_DUMMY_UNVERIFIED")
    a.verify_rounds(ctx, lot=L["suspect"], count=11, method="shake", armorer=arm,
                    failed_finding="round 12: primer dented, powder inside; it is live")
    assert w.state().lots[L["suspect"]].quarantined
    exactly(refusal(w.inspect, "revolver", content="dummy", n=6, lot="suspect"),
            "AMMO_LOT_QUARANTINED")
    a.verify_rounds(ctx, lot=L["dummies"], count=12, method="drilled", armorer=arm)

    # -- The shooting day: briefings, scenes; nobody calls the safety meeting.
    w.day = str(a.open_day(ctx, date=clock().date().isoformat(), actor=ad)[0].payload["day"])
    for key in ("performer", "performer2"):
        a.brief(ctx, person=P[key], briefed_by=sup, topic="Weapons safety (Bulletin #1)")
    w.plan("take", weapons=["revolver"], performers=["performer"])
    w.plan("rehearsal", rehearsal=True, weapons=["revolver"], performers=["performer"])
    w.plan("pointing", weapons=["revolver"], performers=["performer"], pointing=True,
           pointing_description="Draw and point just below the cinematographer's armpit, "
                                "camera behind")
    w.plan("gunfight", hot=True, weapons=["revolver2"], performers=["performer2"],
           min_distance_m=8)
    ins = w.ready("revolver", "performer", content="dummy", n=6, lot="dummies", scene="take")
    exactly(refusal(w.issue, "revolver", "performer", "take"), "SCENE_SAFETY_MEETING")
    w.hold_meeting(["take", "rehearsal", "pointing", "gunfight"])

    # -- The 1st AD, not the armorer, hands the gun to the performer and calls it cold.
    seq = w.seq()
    err = refusal(a.handoff, ctx, weapon=W["revolver"], from_=ad, to=P["performer"],
                  scene=w.scenes["take"])
    exactly(err, "CUSTODY_DIRECT_HANDOFF")
    (rec,) = w.events_since(seq)
    assert (rec.type, rec.payload["from"], rec.payload["to"]) == (
        "weapon.handoff_refused", ad, P["performer"])
    exactly(refusal(w.inspect, "revolver", armorer="ad", content="dummy", n=6,
                    lot="dummies"), "CUSTODY_ARMORER_ONLY")
    assert w.state().weapons[W["revolver"]].custodian == arm

    # -- The performer was told it was empty and did not check it himself.
    w.inspect("revolver", content="dummy", n=6, lot="dummies", scene="take")
    exactly(refusal(w.issue, "revolver", "performer", "take"), "CUSTODY_WITNESS_REQUIRED")
    # The earlier, superseded inspection cannot be confirmed any more either.
    assert refusal(w.witness, ins, "supervisor").code == "CUSTODY_INSPECTION_REQUIRED"

    # -- The AD remembered three rounds and could not recall the cylinder being turned.
    ev = a.inspect_weapon(ctx, weapon=W["revolver"], armorer=arm,
                          positions=cyl(6, "dummy", loaded=3)[:3], barrel_clear=True,
                          magazine_checked=False, lot=L["dummies"], scene=w.scenes["take"])
    partial = str(ev[0].payload["inspection"])
    assert ev[0].payload["missing"] == ["cylinder 4", "cylinder 5", "cylinder 6"]
    exactly(refusal(w.witness, partial, "ad"), "CUSTODY_INSPECTION_INCOMPLETE")
    err = refusal(w.issue, "revolver", "performer", "take")
    assert err.code == "CUSTODY_INSPECTION_INCOMPLETE"

    # -- A rehearsal, with a real firearm.
    w.ready("revolver", "performer", content="dummy", n=6, lot="dummies", scene="rehearsal")
    exactly(refusal(w.issue, "revolver", "performer", "rehearsal"), "SCENE_REHEARSAL_REPLICA")

    # -- Pointed at a person without an acknowledged plan.
    exactly(refusal(w.issue, "revolver", "performer", "pointing"), "SCENE_POINTING_PLAN")
    a.acknowledge_pointing(ctx, scene=w.scenes["pointing"], person=arm)
    exactly(refusal(w.issue, "revolver", "performer", "pointing"), "SCENE_POINTING_PLAN")
    a.acknowledge_pointing(ctx, scene=w.scenes["pointing"], person=ad)
    w.issue("revolver", "performer", "pointing")  # empty of anything but verified dummies
    w.take_back("revolver", "performer")
    w.put_away("revolver")

    # -- Earlier misfires went unaddressed.
    w.give("revolver2", "performer2", "gunfight", content="blank", n=6, lot="blanks")
    w.take_back("revolver2", "performer2", fired=2,
                misfire="Fired unexpectedly while the performer re-holstered")
    st = w.state()
    inc = next(i for i in st.incidents.values() if i.open and W["revolver2"] in i.weapons)
    assert st.weapons[W["revolver2"]].state == "frozen"
    assert st.lots[L["blanks"]].quarantined
    exactly(refusal(w.inspect, "revolver2"), "CUSTODY_WEAPON_FROZEN")
    err = refusal(w.issue, "revolver2", "performer2", "gunfight")
    assert err.code == "CUSTODY_WEAPON_FROZEN"

    # -- Crew complaints were ignored.
    a.file_complaint(ctx, by=P["performer2"], text="Two misfires this week; nobody has "
                     "looked at the guns")
    clock.t += timedelta(hours=25)
    w.ready("revolver", "performer", content="dummy", n=6, lot="dummies", scene="take")
    exactly(refusal(w.issue, "revolver", "performer", "take"), "COMPLAINT_ACKNOWLEDGE")
    a.acknowledge_complaint(ctx, complaint="C1", by=sup,
                            response="Revolver 2 frozen; armorer and rental house inspect it")
    w.issue("revolver", "performer", "take")

    # -- Weapons left out during the meal break.
    exactly(refusal(a.meal_break, ctx, start=True, actor=ad), "CUSTODY_OVERDUE")
    assert w.state().days[w.day].meal_break is False
    w.take_back("revolver", "performer")
    w.put_away("revolver")
    a.meal_break(ctx, start=True, actor=ad)

    # -- Rounds removed from a frozen gun and thrown away, never examined.
    exactly(refusal(w.put_away, "revolver2"), "INCIDENT_EVIDENCE_PRESERVED")
    exactly(refusal(a.destroy_rounds, ctx, lot=L["blanks"], count=10, reason="clean-up",
                    armorer=arm), "INCIDENT_EVIDENCE_PRESERVED")
    for n in range(1, 5):
        a.record_evidence(ctx, weapon=W["revolver2"], incident=inc.id, position=f"cylinder {n}",
                          description=".45 Colt full-load blank, unfired", armorer=arm)
    st = w.state()
    ev_lot = st.incidents[inc.id].evidence_lot
    assert ev_lot is not None and st.lots[ev_lot].received == 4
    exactly(refusal(a.destroy_rounds, ctx, lot=ev_lot, count=4, reason="thrown away",
                    armorer=arm), "INCIDENT_EVIDENCE_PRESERVED")
    w.put_away("revolver2")

    # -- The 1st AD doubling as safety supervisor stays flagged on every board.
    assert alert_codes(w, f"person:{ad}") == {"PEOPLE_ROLE_CONFLICT"}
    assert alert_codes(w, f"person:{arm}") == set()  # acknowledged by the supervisor

    # -- "Someone is responsible... I can't say who": the timeline says who.
    tl = timeline(ctx, weapon=W["revolver"])
    types = [e["type"] for e in tl]
    assert types[0] == "weapon.received"
    held = [(e["type"], e["payload"]["performer"], e["actor"]) for e in tl
            if e["type"] in ("weapon.issued", "weapon.returned")]
    assert held == [("weapon.issued", P["performer"], arm),
                    ("weapon.returned", P["performer"], arm)] * 2
    inspections = [e for e in tl if e["type"] == "weapon.inspected"]
    assert {e["actor"] for e in inspections} == {arm}
    assert [len(e["payload"]["positions"]) for e in inspections] == [6, 6, 3, 6, 6]
    assert inspections[2]["payload"]["missing"] == ["cylinder 4", "cylinder 5", "cylinder 6"]
    assert {(e["payload"]["load"]["kind"], e["payload"]["load"]["lot"]) for e in inspections} \
        == {("dummy", L["dummies"])}
    witnessed = [(e["payload"]["witness"], e["payload"]["role"]) for e in tl
                 if e["type"] == "inspection.witnessed"]
    assert (P["performer"], "performer") in witnessed and (ad, "first_ad") in witnessed
    # What was attempted and refused is part of the weapon's story too.
    refusals = [(e["type"], e["actor"], e["payload"]["codes"][0]) for e in tl
                if e["type"] in ("weapon.handoff_refused", "action.refused")]
    assert ("weapon.handoff_refused", ad, "CUSTODY_DIRECT_HANDOFF") in refusals
    assert ("action.refused", ad, "CUSTODY_ARMORER_ONLY") in refusals
    assert all(e["actor_name"] for e in tl)

    tl2 = timeline(ctx, weapon=W["revolver2"])
    types2 = [e["type"] for e in tl2]
    assert "incident.opened" in types2 and "weapon.frozen" in types2
    assert types2.count("ammo.evidence_recorded") == 4
    loads = {(e["payload"]["load"]["kind"], e["payload"]["load"]["lot"], e["payload"]["load"][
        "count"]) for e in tl2 if e["type"] == "weapon.inspected"}
    assert loads == {("blank", L["blanks"], 6)}

    lot_tl = timeline(ctx, lot=L["dummies"])
    assert {e["payload"]["weapon"] for e in lot_tl if e["type"] == "weapon.inspected"} \
        == {W["revolver"]}
    assert [e["type"] for e in lot_tl].count("ammo.round_verified") == 12

    # The record still balances: nothing left in any weapon, the day can wrap once the
    # misfire incident is closed with a corrective action (the live-ammo and failed-
    # verification incidents stay open and on the board).
    a.meal_break(ctx, start=False, actor=ad)
    w.close(inc.id, action="Revolver 2 to the rental house; blank lot held as evidence.")
    st = w.state()
    assert all(lot.in_weapons == 0 for lot in st.lots.values())
    a.wrap(ctx, armorer=arm, counts={lid: lot.on_hand for lid, lot in st.lots.items()})
    assert w.state().current_day is None
