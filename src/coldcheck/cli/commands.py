"""Custody commands: thin wrappers that parse options and call services."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..domain.errors import InvalidInput, NotFound
from .app import group
from .common import (
    DbOpt,
    ForceOpt,
    JsonOpt,
    ProdOpt,
    ctx_for,
    guarded,
    local,
    out,
    read_pin,
    refuse_existing,
    run,
    settings,
    show_events,
    shown_zone,
    table,
    write_file,
)

Req = typer.Option
Many = Annotated[list[str] | None, typer.Option()]

person = group("People on the production: roles, badges, PINs, briefings.")
storage = group("Safes and lockable carts.")
weapon = group("Weapons: intake into storage.")
ammo = group("Ammunition lots: intake, round-by-round dummy verification, destruction, "
             "evidence.")
day = group("Shooting days and meal breaks.")
scene = group("Scenes: hot or cold, rehearsal, weapons, performers, pointing plan.")
meeting = group("Safety meetings with attendance.")
incident = group("Incidents: report (freezes what it names) and close.")
complaint = group("Safety complaints: file and acknowledge.")
production_group = group("The production's own settings: its time zone.")

# The demo's production id (coldcheck.demo.DEMO_PRODUCTION, which a test compares):
# written out so that the option's default costs no import of the demo.
DEMO_PRODUCTION = "dusty-trails"


def _lines(values: list[str] | None) -> list[str]:
    return [v for v in (values or []) if v]


# ---------------------------------------------------------------- init & demo
def init(production: Annotated[str, Req(help="Production id, e.g. dusty-trails.")],
         name: Annotated[str, Req(help="Production title.")],
         timezone: Annotated[str | None, Req(
             help="The set's IANA time zone, e.g. America/New_York: times are shown in it "
                  "and its calendar says what today is (default: COLDCHECK_TIMEZONE, UTC). "
                  "The producer can change it later (coldcheck production timezone).")] = None,
         db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Create the database schema (if needed), a production, its signing key and ledger."""
    from ..persistence.store import Store
    from ..services import actions as a

    s = settings(db)

    def go() -> dict[str, Any]:
        store = Store(s.database_url)
        ctx = a.init_production(store=store, settings=s, production=production, name=name,
                                timezone=timezone)
        p = store.production(ctx.production)
        own = store.state(ctx.production).timezone
        return {"production": p["id"], "name": p["name"], "origin": p["origin"],
                "timezone": own, "shown_in": s.zone_name(own),
                "verifier_key": p["verifier_key"],
                "key_file": None if s.key_store == "database"
                else str(s.resolved_key_dir() / f"{production}.ed25519"),
                "key_store": s.key_store}

    def show(r: dict[str, Any]) -> None:
        out.print(f"[green]✔[/] production [bold]{r['production']}[/] created; times shown in "
                  f"{r['shown_in']}" + ("" if r["timezone"] else " (the server's default)")
                  + "; ledger key:", soft_wrap=True)
        # Keys and notes are printed whole, never wrapped: they are copied as printed.
        out.print(r["verifier_key"], soft_wrap=True, markup=False, highlight=False)
        if r["key_file"] is None:
            out.print("  private key: in the database, sealed with the master key "
                      "(COLDCHECK_MASTER_KEY_FILE: keep a copy of it offline)", soft_wrap=True)
        else:
            out.print(f"  private key: {r['key_file']} (mode 0600, keep it safe)",
                      soft_wrap=True)

    run(as_json, go, show)


def demo(db: DbOpt = None, production: Annotated[str, Req(help="Demo production id.")] =
         DEMO_PRODUCTION, as_json: JsonOpt = False) -> None:
    """Build a realistic shooting day (people, weapons, lots, scenes, witnessed
    handoffs, refused violations, a misfire, a wrap) in a fresh database."""
    from ..demo import run_demo, summary
    from ..persistence.store import Store
    from ..services import accounts

    s = settings(db)

    def go() -> dict[str, Any]:
        store = Store(s.database_url)
        out_ = summary(run_demo(store, s, production=production))
        out_["accounts"] = accounts.create_demo_accounts(store, s, production=production)
        out_["demo_password"] = accounts.DEMO_PASSWORD
        return out_

    def show(r: dict[str, Any]) -> None:
        out.print(f"[bold]{r['name']}[/] ({r['production']}): {r['events']} events recorded\n")
        table("People (demo PINs for trying the witness steps)", ["id", "name", "roles", "PIN"],
              [[p["id"], p["name"], ", ".join(p["roles"]), p["demo_pin"]] for p in r["people"]])
        table("Weapons at wrap", ["id", "serial", "kind", "state"],
              [[w["id"], w["serial"], w["kind"], w["state"]] for w in r["weapons"]])
        table("Lots at wrap", ["id", "kind", "calibre", "received", "on hand", "fired",
                               "evidence"],
              [[x["id"], x["kind"], x["calibre"], x["received"], x["on_hand"], x["fired"],
                x["evidence"]] for x in r["lots"]])
        table("Attempted violations, refused and recorded", ["attempt", "rule"],
              [[x["attempt"], x["code"]] for x in r["refused_attempts"]])
        out.print("Signed checkpoint at wrap:")
        out.print(r["checkpoint"] or "", soft_wrap=True, markup=False, highlight=False, end="")
        out.print(f"Sign-in for the tablet app (`coldcheck serve`): usernames "
                  f"{', '.join(x['username'] for x in r['accounts'])}; demo password "
                  f"{r['demo_password']!r}")

    run(as_json, go, show)


# ---------------------------------------------------------------- people
@person.command("add")
def person_add(name: Annotated[str, Req()],
               role: Annotated[list[str], Req(help="Role (repeat): armorer, assistant_armorer, "
                                              "prop_master, first_ad, performer, "
                                              "safety_supervisor, producer, investigator.")],
               badge: Annotated[str, Req(help="Badge code (printed as QR).")],
               department: str = "",
               qualification_expires: Annotated[str | None, Req(
                   help="Armorer qualification expiry, YYYY-MM-DD.")] = None,
               no_pin: Annotated[bool, Req(help="Add without a PIN (set it later).")] = False,
               by: str = "system", db: DbOpt = None, production: ProdOpt = None,
               as_json: JsonOpt = False) -> None:
    """Add a person; their PIN is prompted (or read from standard input)."""
    from ..services import actions as a

    def go() -> Any:
        ctx = ctx_for(db, production)
        pin = None if no_pin else read_pin(f"PIN for {name}")
        return a.add_person(ctx, name=name, roles=role, badge=badge, pin=pin,
                            department=department, qualification_expires=qualification_expires,
                            actor=by)
    run(as_json, go)


@person.command("pin")
def person_pin(person_id: str, by: Annotated[str, Req()], db: DbOpt = None,
               production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Set or change a person's witness PIN (prompted)."""
    from ..services import actions as a

    def go() -> Any:
        ctx = ctx_for(db, production)
        return a.set_pin(ctx, person=person_id, pin=read_pin(f"new PIN for {person_id}"),
                         actor=by)
    run(as_json, go)


@person.command("brief")
def person_brief(person_id: str, by: Annotated[str, Req()],
                 topic: str = "Weapons safety briefing", db: DbOpt = None,
                 production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Record a weapons-safety briefing (PEOPLE_TRAINING_REQUIRED)."""
    from ..services import actions as a

    run(as_json, lambda: a.brief(ctx_for(db, production), person=person_id, briefed_by=by,
                                 topic=topic))


@person.command("renew")
def person_renew(person_id: str, expires: Annotated[str, Req(help="New expiry, YYYY-MM-DD.")],
                 by: Annotated[str, Req(help="Who records it: the producer or the safety "
                                        "supervisor (ROLE_REQUIRED otherwise).")],
                 db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Record an armorer's renewed qualification (by the producer or safety supervisor)."""
    from ..services import actions as a

    run(as_json, lambda: a.renew_qualification(ctx_for(db, production), person=person_id,
                                               expires=expires, actor=by))


@person.command("credential")
def person_credential(
        person_id: str,
        type_: Annotated[str, Req("--type", help="entertainment_firearms_permit, "
                                  "dangerous_weapons_permit, training_certificate, "
                                  "federal_firearms_licence or other.")],
        issuer: Annotated[str, Req(help="Who issued it, e.g. California DOJ.")],
        number: Annotated[str, Req(help="Its number.")],
        classes: Annotated[list[str], Req("--class", help="A weapon class it covers (repeat): "
                                          "handgun, long_gun, full_auto, blank_only, "
                                          "replica.")],
        expires: Annotated[str, Req(help="Expiry, YYYY-MM-DD.")],
        by: Annotated[str, Req(help="Who records it: the producer or the safety supervisor "
                               "(ROLE_REQUIRED otherwise).")],
        db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Record a handler's credential (permit, certificate): the weapon classes it
    covers and its expiry. A property master handles weapons only with one."""
    from ..services import actions as a

    run(as_json, lambda: a.add_credential(ctx_for(db, production), person=person_id,
                                          type_=type_, issuer=issuer, number=number,
                                          classes=list(classes), expires=expires, actor=by))


@person.command("credential-revoke")
def person_credential_revoke(
        person_id: str, credential: str,
        reason: Annotated[str, Req(help="Why it no longer counts.")],
        by: Annotated[str, Req(help="The producer or the safety supervisor.")],
        db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Revoke a handler's credential: it covers nothing from now on."""
    from ..services import actions as a

    run(as_json, lambda: a.revoke_credential(ctx_for(db, production), person=person_id,
                                             credential=credential, reason=reason, actor=by))


@person.command("list")
def person_list(db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """People, roles and warnings."""
    def go() -> Any:
        st = ctx_for(db, production)
        s = st.store.state(st.production)
        return [{"id": p.id, "name": p.name, "roles": p.roles, "badge": p.badge,
                 "briefed": p.briefed, "qualification_expires": p.qualification_expires,
                 "role_conflicts": p.role_conflicts} for p in s.people.values()]
    run(as_json, go, lambda r: table("People", ["id", "name", "roles", "briefed", "qualified to",
                                                "conflicts"],
                                     [[p["id"], p["name"], ", ".join(p["roles"]), p["briefed"],
                                       p["qualification_expires"], ", ".join(p["role_conflicts"])]
                                      for p in r]))


@storage.command("add")
def storage_add(name: Annotated[str, Req()], kind: Annotated[str, Req(
                help="safe, cart, vault or locker")], by: Annotated[str, Req()],
                db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Register a safe or lockable cart."""
    from ..services import actions as a

    run(as_json, lambda: a.add_storage(ctx_for(db, production), name=name, kind=kind, actor=by))


# ---------------------------------------------------------------- weapons & ammo
@weapon.command("add")
def weapon_add(serial: Annotated[str, Req()], make: Annotated[str, Req()],
               model: Annotated[str, Req()], calibre: Annotated[str, Req()],
               kind: Annotated[str, Req(help="firearm, blank_only, non_firing_replica, "
                                        "rubber, airsoft, other")],
               storage_id: Annotated[str, Req("--storage")], armorer: Annotated[str, Req()],
               chambers: Annotated[int, Req(help="Cylinder positions, or 1.")] = 1,
               magazine: Annotated[int, Req(help="Magazine capacity, 0 if none.")] = 0,
               db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Take a weapon into inventory, into storage."""
    from ..services import actions as a

    run(as_json, lambda: a.receive_weapon(
        ctx_for(db, production), armorer=armorer, serial=serial, make=make, model=model,
        calibre=calibre, kind=kind, chambers=chambers, magazine_capacity=magazine,
        storage=storage_id))


@weapon.command("classify")
def weapon_classify(weapon_id: str,
                    weapon_class: Annotated[str, Req("--class", help="handgun, long_gun or "
                                                     "full_auto.")],
                    armorer: Annotated[str, Req()], db: DbOpt = None,
                    production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Record a firearm's class, which a property master's credential must cover."""
    from ..services import actions as a

    run(as_json, lambda: a.classify_weapon(ctx_for(db, production), weapon=weapon_id,
                                           weapon_class=weapon_class, armorer=armorer))


@weapon.command("retire")
def weapon_retire(weapon_id: str, reason: Annotated[str, Req()], armorer: Annotated[str, Req()],
                  db: DbOpt = None, production: ProdOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Take a stored weapon out of service for good (its record stays)."""
    from ..services import actions as a

    run(as_json, lambda: a.retire_weapon(ctx_for(db, production), weapon=weapon_id,
                                         reason=reason, armorer=armorer))


@weapon.command("dud")
def weapon_dud(weapon_id: str, armorer: Annotated[str, Req()],
               description: Annotated[str, Req(help="What happened (default: failed to "
                                               "fire).")] = "",
               db: DbOpt = None, production: ProdOpt = None,
               as_json: JsonOpt = False) -> None:
    """A round failed to fire. The first blank dud from a lot in a day, in a planned
    take, is recorded without freezing; any other failure to fire opens a misfire
    incident and freezes the weapon and its lot."""
    from ..services import actions as a

    run(as_json, lambda: a.record_dud(ctx_for(db, production), weapon=weapon_id,
                                      armorer=armorer, description=description))


@weapon.command("clean")
def weapon_clean(weapon_id: str, armorer: Annotated[str, Req()],
                 notes: Annotated[str, Req(help="What was done.")] = "",
                 db: DbOpt = None, production: ProdOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Record the after-use cleaning of a weapon in storage or in your hands (a
    function check is then due before its next issue)."""
    from ..services import actions as a

    run(as_json, lambda: a.clean_weapon(ctx_for(db, production), weapon=weapon_id,
                                        armorer=armorer, notes=notes))


@weapon.command("check")
def weapon_check(weapon_id: str, armorer: Annotated[str, Req()],
                 notes: Annotated[str, Req(help="What was checked.")] = "",
                 db: DbOpt = None, production: ProdOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Record a passed before-use function check (one that fails: ground the weapon)."""
    from ..services import actions as a

    run(as_json, lambda: a.function_check(ctx_for(db, production), weapon=weapon_id,
                                          armorer=armorer, notes=notes))


@weapon.command("ground")
def weapon_ground(weapon_id: str, reason: Annotated[str, Req(help="Damaged or suspect: "
                                                           "what is wrong.")],
                  armorer: Annotated[str, Req()], supervisor: Annotated[str, Req()],
                  db: DbOpt = None, production: ProdOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Ground a damaged or suspect weapon until a repair is recorded: signed by the
    armorer and the safety supervisor (both PINs prompted, armorer first)."""
    from ..services import actions as a

    def go() -> Any:
        ctx = ctx_for(db, production)
        ap = read_pin(f"{armorer} (armorer), your PIN to sign")
        sp = read_pin(f"{supervisor} (safety supervisor), your PIN to sign")
        return a.ground_weapon(ctx, weapon=weapon_id, reason=reason, armorer=armorer,
                               armorer_pin=ap, supervisor=supervisor, supervisor_pin=sp)
    run(as_json, go)


@weapon.command("repair")
def weapon_repair(weapon_id: str, repair: Annotated[str, Req(help="What was repaired, by "
                                                           "whom.")],
                  armorer: Annotated[str, Req()], db: DbOpt = None,
                  production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Record the repair of a grounded weapon: back in service, function-checked and
    inspected before its next issue."""
    from ..services import actions as a

    run(as_json, lambda: a.repair_weapon(ctx_for(db, production), weapon=weapon_id,
                                         armorer=armorer, repair=repair))


@ammo.command("intake")
def ammo_intake(kind: Annotated[str, Req(help="dummy or blank (live is refused)")],
                calibre: Annotated[str, Req()], supplier: Annotated[str, Req()],
                supplier_lot: Annotated[str, Req()], count: Annotated[int, Req()],
                storage_id: Annotated[str, Req("--storage")], armorer: Annotated[str, Req()],
                load: Annotated[str | None, Req(help="Blanks: full, half or quarter.")] = None,
                found_in: Annotated[str | None, Req(
                    help="Live rounds found in a box already here: that lot (L1). The "
                         "incident names it, so it is quarantined.")] = None,
                db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Take an ammunition lot into inventory. Live ammunition is refused and opens an
    incident."""
    from ..services import actions as a

    run(as_json, lambda: a.receive_lot(
        ctx_for(db, production), armorer=armorer, kind=kind, calibre=calibre,
        supplier=supplier, supplier_lot=supplier_lot, count=count, storage=storage_id,
        load=load, found_in=found_in))


@ammo.command("verify")
def ammo_verify(lot: str, count: Annotated[int, Req(help="Rounds verified good.")],
                method: Annotated[str, Req(help="visual, shake, weight, xray, drilled, other")],
                armorer: Annotated[str, Req()],
                failed: Annotated[str | None, Req(help="One more round FAILED: what was found "
                                                  "(quarantines the lot, opens an incident).")]
                = None,
                db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Verify dummy rounds one by one (one event per round)."""
    from ..services import actions as a

    run(as_json, lambda: a.verify_rounds(ctx_for(db, production), lot=lot, count=count,
                                         method=method, armorer=armorer,
                                         failed_finding=failed))


@ammo.command("destroy")
def ammo_destroy(lot: str, count: Annotated[int, Req()], reason: Annotated[str, Req()],
                 armorer: Annotated[str, Req()], db: DbOpt = None, production: ProdOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Destroy rounds from a lot (never evidence of an open incident)."""
    from ..services import actions as a

    run(as_json, lambda: a.destroy_rounds(ctx_for(db, production), lot=lot, count=count,
                                          reason=reason, armorer=armorer))


@ammo.command("evidence")
def ammo_evidence(weapon_id: str, incident_id: Annotated[str, Req("--incident")],
                  position: Annotated[str, Req()], description: Annotated[str, Req()],
                  armorer: Annotated[str, Req()], db: DbOpt = None, production: ProdOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Record one round unloaded from a frozen weapon into the incident's evidence lot."""
    from ..services import actions as a

    run(as_json, lambda: a.record_evidence(ctx_for(db, production), weapon=weapon_id,
                                           incident=incident_id, position=position,
                                           description=description, armorer=armorer))


# ---------------------------------------------------------------- the production
@production_group.command("timezone")
def production_timezone(
        zone: Annotated[str, typer.Argument(help="IANA time zone, e.g. America/New_York, "
                                            "Europe/London or UTC.")],
        by: Annotated[str, Req(help="The producer's person id.")],
        db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Set the production's time zone (the producer only; recorded as an event). Pages,
    CLI output and PDFs show times in it, and its calendar says what today is; the
    ledger, the API and --json keep UTC."""
    from ..services import actions as a

    run(as_json, lambda: a.set_timezone(ctx_for(db, production), timezone=zone, actor=by))


# ---------------------------------------------------------------- days, scenes, meetings
@day.command("open")
def day_open(by: Annotated[str, Req()], date: Annotated[str | None, Req(
             help="YYYY-MM-DD (default today in the production's time zone)")] = None,
             db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Open a shooting day."""
    from ..services import actions as a

    run(as_json, lambda: a.open_day(ctx_for(db, production), date=date, actor=by))


@day.command("meal-break")
def day_meal(action: Annotated[str, typer.Argument(help="start or end")],
             by: Annotated[str, Req()], db: DbOpt = None, production: ProdOpt = None,
             as_json: JsonOpt = False) -> None:
    """Start or end a meal break (no weapon may be out: CUSTODY_OVERDUE)."""
    from ..services import actions as a

    def go() -> Any:
        if action not in ("start", "end"):
            raise InvalidInput("INVALID_INPUT", "meal-break takes 'start' or 'end'")
        return a.meal_break(ctx_for(db, production), start=action == "start", actor=by)
    run(as_json, go)


@scene.command("add")
def scene_add(name: Annotated[str, Req()], by: Annotated[str, Req()],
              weapon_ids: Annotated[list[str] | None, Req("--weapon")] = None,
              performer: Many = None,
              hot: Annotated[bool, Req(help="Blanks allowed (a hot scene).")] = False,
              rehearsal: bool = False,
              pointing: Annotated[str | None, Req(
                  help="Describe any pointing at or near a person (camera crew included).")]
              = None,
              overdue_minutes: int = 30,
              min_distance: Annotated[int | None, Req(
                  help="Metres from the muzzle to the nearest person in the line of fire.")]
              = None,
              shielded: bool = False, db: DbOpt = None, production: ProdOpt = None,
              as_json: JsonOpt = False) -> None:
    """Plan a scene on the open day (repeat --weapon W1 --performer P6 as needed)."""
    from ..services import actions as a

    run(as_json, lambda: a.plan_scene(
        ctx_for(db, production), actor=by, name=name, hot=hot, rehearsal=rehearsal,
        weapons=_lines(weapon_ids), performers=_lines(performer), pointing=pointing is not None,
        pointing_description=pointing or "", overdue_minutes=overdue_minutes,
        min_distance_m=min_distance, shielded=shielded))


@scene.command("ack-pointing")
def scene_ack(scene_id: str, by: Annotated[str, Req()], db: DbOpt = None,
              production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Armorer or 1st AD acknowledges a scene's pointing plan."""
    from ..services import actions as a

    run(as_json, lambda: a.acknowledge_pointing(ctx_for(db, production), scene=scene_id,
                                                person=by))


@meeting.command("record")
def meeting_record(led_by: Annotated[str, Req()], attendee: Many = None,
                   scene_ids: Annotated[list[str] | None, Req(
                       "--scene", help="Hot scenes the meeting covers (repeat).")] = None,
                   db: DbOpt = None, production: ProdOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Record a safety meeting with its attendance."""
    from ..services import actions as a

    run(as_json, lambda: a.hold_meeting(ctx_for(db, production), scenes=_lines(scene_ids),
                                        attendees=_lines(attendee), led_by=led_by))


# ---------------------------------------------------------------- the handoff
def inspect(weapon_id: str, armorer: Annotated[str, Req()],
            position: Annotated[list[str] | None, Req(
                help="POSITION=CONTENT, e.g. 'cylinder 3=dummy' (repeat for each).")] = None,
            all_: Annotated[str | None, Req("--all", help="Same content in every position: "
                                            "empty, dummy or blank.")] = None,
            barrel_clear: Annotated[bool, Req("--barrel-clear/--barrel-not-checked")] = False,
            magazine_checked: bool = False,
            lot: Annotated[str | None, Req(help="Lot the loaded rounds come from.")] = None,
            magazine_rounds: int = 0, scene_id: Annotated[str | None, Req("--scene")] = None,
            witness: Annotated[list[str] | None, Req(
                help="Witness confirming now (repeat); their PINs are prompted in order.")]
            = None,
            db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Record the armorer's show-clear inspection, position by position, with the
    resulting load; optionally collect the witnesses' PINs straight away."""
    from ..domain.weapons import positions as weapon_positions
    from ..services import actions as a

    def go() -> Any:
        ctx = ctx_for(db, production)
        # The weapon's projection row is all this needs (no replay of the ledger);
        # the decision itself still runs against the full state.
        row = ctx.store.entity(ctx.production, "weapon", weapon_id)
        if row is None:
            raise NotFound("weapon", weapon_id)
        names = weapon_positions(int(row["chambers"]), int(row["magazine_capacity"]))
        positions = []
        if all_:
            positions = [{"position": p, "content": all_} for p in names]
        for spec in position or []:
            name, sep, content = spec.rpartition("=")
            if not sep:
                raise InvalidInput("INVALID_INPUT", f"--position takes POSITION=CONTENT, not "
                                   f"{spec!r}; positions of {row['id']}: {', '.join(names)}")
            positions = [p for p in positions if p["position"] != name.strip()]
            positions.append({"position": name.strip(), "content": content.strip()})
        events = a.inspect_weapon(ctx, weapon=weapon_id, armorer=armorer, positions=positions,
                                  barrel_clear=barrel_clear, magazine_checked=magazine_checked,
                                  lot=lot, magazine_rounds=magazine_rounds, scene=scene_id)
        insp = events[0].payload["inspection"]
        for who in _lines(witness):
            events += a.witness_inspection(ctx, inspection=insp, witness=who,
                                           pin=read_pin(f"{who}, your PIN to witness {insp}"))
        return events
    run(as_json, go)


def witness_cmd(inspection_id: str, by: Annotated[str, Req()],
                role: Annotated[str | None, Req(help="performer, first_ad or "
                                                "safety_supervisor")] = None,
                db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """A witness confirms an inspection with their own PIN (prompted)."""
    from ..services import actions as a

    def go() -> Any:
        ctx = ctx_for(db, production)
        return a.witness_inspection(ctx, inspection=inspection_id, witness=by, role=role,
                                    pin=read_pin(f"{by}, your PIN to witness {inspection_id}"))
    run(as_json, go)


def issue(weapon_id: str, to: Annotated[str, Req(help="The performer.")],
          armorer: Annotated[str, Req()], scene_id: Annotated[str, Req("--scene")],
          db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Armorer → performer, after a witnessed inspection."""
    from ..services import actions as a

    run(as_json, lambda: a.issue_weapon(ctx_for(db, production), weapon=weapon_id,
                                        armorer=armorer, performer=to, scene=scene_id))


def return_(weapon_id: str, from_: Annotated[str, Req("--from", help="The performer.")],
            armorer: Annotated[str, Req()], fired: int = 0, lost: int = 0,
            misfire: Annotated[str | None, Req(help="Report a misfire: what happened (opens "
                                               "an incident and freezes the weapon).")] = None,
            missing_accessory: Annotated[list[str] | None, Req(
                "--missing-accessory", help="An accessory of the weapon's kit that did not "
                                            "come back (repeat; KIT_ACCESSORY_MISSING).")]
            = None,
            db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Performer → armorer; the armorer unloads and counts what came back, and the
    weapon's kit comes back with it (but for accessories noted missing)."""
    from ..services import actions as a

    run(as_json, lambda: a.return_weapon(ctx_for(db, production), weapon=weapon_id,
                                         performer=from_, armorer=armorer, fired=fired,
                                         lost=lost, misfire=misfire,
                                         missing_accessories=_lines(missing_accessory)
                                         or None))


def handoff(weapon_id: str, from_: Annotated[str, Req("--from")], to: Annotated[str, Req()],
            scene_id: Annotated[str | None, Req("--scene")] = None, db: DbOpt = None,
            production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Any transfer between two people: only armorer → performer and performer →
    armorer exist; anything else is refused and recorded."""
    from ..services import actions as a

    run(as_json, lambda: a.handoff(ctx_for(db, production), weapon=weapon_id, from_=from_,
                                   to=to, scene=scene_id))


def store_cmd(weapon_id: str, storage_id: Annotated[str, Req("--storage")],
              armorer: Annotated[str, Req()], db: DbOpt = None, production: ProdOpt = None,
              as_json: JsonOpt = False) -> None:
    """Lock a weapon in storage (unloading it back to its lot)."""
    from ..services import actions as a

    run(as_json, lambda: a.store_weapon(ctx_for(db, production), weapon=weapon_id,
                                        storage=storage_id, armorer=armorer))


# ---------------------------------------------------------------- incidents etc.
@incident.command("report")
def incident_report(kind: Annotated[str, Req(help="discharge, misfire, squib, "
                                             "live_ammunition, failed_verification, "
                                             "count_discrepancy, complaint, other")],
                    description: Annotated[str, Req()], by: Annotated[str, Req()],
                    weapon_ids: Annotated[list[str] | None, Req("--weapon")] = None,
                    lot: Many = None, db: DbOpt = None, production: ProdOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Open an incident; it freezes the weapons and lots it names."""
    from ..services import actions as a

    run(as_json, lambda: a.report_incident(ctx_for(db, production), kind=kind,
                                           description=description,
                                           weapons=_lines(weapon_ids), lots=_lines(lot),
                                           reported_by=by))


@incident.command("close")
def incident_close(incident_id: str, action: Annotated[str, Req(help="The corrective action.")],
                   armorer: Annotated[str, Req()], supervisor: Annotated[str, Req()],
                   db: DbOpt = None, production: ProdOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Close an incident: corrective action signed by armorer and safety supervisor
    (both PINs prompted, armorer first)."""
    from ..services import actions as a

    def go() -> Any:
        ctx = ctx_for(db, production)
        ap = read_pin(f"{armorer} (armorer), your PIN to sign")
        sp = read_pin(f"{supervisor} (safety supervisor), your PIN to sign")
        return a.close_incident(ctx, incident=incident_id, corrective_action=action,
                                armorer=armorer, armorer_pin=ap, supervisor=supervisor,
                                supervisor_pin=sp)
    run(as_json, go)


@incident.command("export")
def incident_export(incident_id: str,
                    out_file: Annotated[str | None, typer.Option(
                        "--out", metavar="FILE.zip",
                        help="Where to write the package (default "
                             "./<production>-<incident>-evidence.zip).")] = None,
                    force: ForceOpt = False,
                    db: DbOpt = None, production: ProdOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Write an incident's evidence package (ZIP): the exact ledger entries about the
    incident, what it names and who it names, each with its inclusion proof in a
    signed checkpoint (signed first if the ledger grew), every earlier checkpoint
    with its consistency proof to that one, the verifier key, a timeline and
    instructions to check it all with independent tools."""
    def go() -> dict[str, Any]:
        from pathlib import Path

        from ..documents import evidence_package  # imported here: other commands start faster

        ctx = ctx_for(db, production)
        target = Path(out_file or f"{ctx.production}-{incident_id}-evidence.zip")
        refuse_existing(str(target), force=force)  # before the package is built
        pkg = evidence_package(ctx, incident_id, at=ctx.now())
        write_file(str(target), pkg.data, force=force)
        return {"file": str(target), **pkg.to_dict()}

    def show(r: dict[str, Any]) -> None:
        out.print(f"[green]✔[/] evidence of incident [bold]{r['incident']}[/] written to "
                  f"{r['file']}: {r['entries']} entries (#{r['first_seq']} to "
                  f"#{r['last_seq']}), proven against the checkpoint of tree size "
                  f"{r['tree_size']}" + (" (signed now)" if r["signed_now"] else "")
                  + f", with {r['earlier_checkpoints']} earlier checkpoint(s) and their "
                  "consistency proofs", soft_wrap=True)
        if r["warning"]:
            out.print(f"  [bold]note:[/] {r['warning']}", soft_wrap=True)
    run(as_json, go, show)


@complaint.command("file")
def complaint_file(by: Annotated[str, Req()], text: Annotated[str, Req()], db: DbOpt = None,
                   production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """File a safety complaint (must be acknowledged within 24 h)."""
    from ..services import actions as a

    run(as_json, lambda: a.file_complaint(ctx_for(db, production), by=by, text=text))


@complaint.command("ack")
def complaint_ack(complaint_id: str, by: Annotated[str, Req()],
                  response: Annotated[str, Req()], db: DbOpt = None, production: ProdOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Acknowledge a safety complaint (safety supervisor or producer)."""
    from ..services import actions as a

    run(as_json, lambda: a.acknowledge_complaint(ctx_for(db, production),
                                                 complaint=complaint_id, by=by,
                                                 response=response))


def override(rule: str, subject: Annotated[str, Req(help="kind:id, e.g. scene:SC2")],
             reason: Annotated[str, Req()], by: Annotated[str, Req()], db: DbOpt = None,
             production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Safety supervisor bends a SOFT rule for one subject, with a reason."""
    from ..services import actions as a

    run(as_json, lambda: a.override(ctx_for(db, production), rule=rule, subject=subject,
                                    reason=reason, supervisor=by))


def wrap(armorer: Annotated[str, Req()],
         count: Annotated[list[str] | None, Req(help="Physical count LOT=N (repeat).")] = None,
         db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Wrap the day: every weapon stored, every lot balanced and counted."""
    from ..services import actions as a

    def go() -> Any:
        counts: dict[str, int] = {}
        for c in count or []:
            lot, sep, n = c.partition("=")
            if not sep or not n.strip().lstrip("-").isdigit():
                raise InvalidInput("INVALID_INPUT", f"--count takes LOT=N, not {c!r}")
            counts[lot.strip()] = int(n)
        return a.wrap(ctx_for(db, production), armorer=armorer, counts=counts or None)
    run(as_json, go)


def note(seq: int, text: Annotated[str, Req()], by: Annotated[str, Req()], db: DbOpt = None,
         production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Add a correction or remark about an earlier event (events are never edited)."""
    from ..services import actions as a

    run(as_json, lambda: a.add_note(ctx_for(db, production), refers_to=seq, text=text, actor=by))


# ---------------------------------------------------------------- reading
def status(db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """The board: every weapon's state, custodian and load; lots; alerts."""
    from ..services import queries as q

    def show(r: dict[str, Any]) -> None:
        from ..domain.zones import localise

        d = r["day"]
        name, tz = shown_zone()
        out.print(f"[bold]{r['name']}[/] ({r['production']}) · {r['events']} events · "
                  + (f"day {d['id']} {d['date']}" + (" · MEAL BREAK" if d["meal_break"] else "")
                     if d else "no day open") + f" · times in {name}", soft_wrap=True)
        table("Weapons", ["id", "serial", "kind", "state", "custodian / storage", "load", "due"],
              [[w["id"], w["serial"], w["kind"], w["state"].upper(),
                w["custodian_name"] or w["storage"],
                f"{w['load']['count']} {w['load']['kind']} {w['load']['lot'] or ''}"
                if w["load"]["count"] else "empty", local(w["due_at"], date=False, seconds=False)]
               for w in r["weapons"]])
        table("Lots", ["id", "kind", "calibre", "on hand", "verified", "in weapons", "fired",
                       "status"],
              [[x["id"], x["kind"], x["calibre"], x["on_hand"], x["verified_in_stock"],
                x["in_weapons"], x["fired"], "QUARANTINED" if x["quarantined"] else "ok"]
               for x in r["lots"]])
        if r["alerts"]:
            table("ALERTS", ["code", "about", "message"],
                  [[x["code"], x["subject"], localise(x["message"], tz)] for x in r["alerts"]])
        else:
            out.print("[green]No alerts.[/]")
    run(as_json, lambda: q.status(ctx_for(db, production)), show)


def timeline(weapon_id: Annotated[str | None, Req("--weapon")] = None,
             lot: str | None = None, person_id: Annotated[str | None, Req("--person")] = None,
             scene: str | None = None, day: str | None = None,
             db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Every event about a weapon, lot, person, scene or day: who, what, when, from which lot."""
    from ..services import queries as q

    def go() -> Any:
        if not (weapon_id or lot or person_id or scene or day):
            raise InvalidInput("INVALID_INPUT", "name --weapon, --lot, --person, --scene or --day")
        return q.timeline(ctx_for(db, production), weapon=weapon_id, lot=lot, person=person_id,
                          scene=scene, day=day)
    run(as_json, go, lambda r: table(
        f"Timeline (times in {shown_zone()[0]})", ["#", "at", "event", "what happened"],
        [[e["seq"], local(e["at"]), e["type"], e["text"]] for e in r]))


def rebuild(db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Rebuild every projection and the timeline index from the events, and report whether
    they matched."""
    def go() -> dict[str, Any]:
        ctx = ctx_for(db, production)
        before = ctx.store.projection_rows(ctx.production, with_state=True)
        index_before = ctx.store.index_rows(ctx.production)
        n = ctx.store.rebuild(ctx.production)
        after = ctx.store.projection_rows(ctx.production, with_state=True)
        index_after = ctx.store.index_rows(ctx.production)
        differ = sorted(f"{k}:{i}" for (k, i) in set(before) | set(after)
                        if before.get((k, i)) != after.get((k, i)))
        return {"events": n, "rows": len(after), "differed": differ,
                "index_rows": len(index_after), "index_differed": len(index_before ^ index_after)}
    run(as_json, go, lambda r: out.print(
        f"[green]✔[/] replayed {r['events']} events into {r['rows']} projection rows"
        + (f"; [yellow]{len(r['differed'])} rows had differed and were rewritten: "
           f"{', '.join(r['differed'][:20])}[/]" if r["differed"] else "; all matched")
        + f"; timeline index: {r['index_rows']} rows"
        + (f", [yellow]{r['index_differed']} had differed[/]" if r["index_differed"]
           else ", all matched")))


def migrate(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Bring an existing database's schema to this version of coldcheck (the
    server does it when it starts). Events are never changed."""
    from ..persistence.store import Store, sqlite_file

    s = settings(db)

    def go() -> dict[str, Any]:
        path = sqlite_file(s.database_url)
        if path is not None and not path.exists():
            # Opening it would create an empty file: migrate is for existing data.
            raise InvalidInput("NOT_INITIALISED", f"{path} does not exist: nothing to "
                               "migrate (`coldcheck init` creates a database)")
        store = Store(s.database_url)
        try:
            store.require_schema()
            before = store.schema_revision()
            store.migrate()
            return {"from": before, "to": store.schema_revision()}
        finally:
            store.dispose()

    run(as_json, go, lambda r: out.print(
        f"[green]✔[/] schema already current ({r['to']})" if r["from"] == r["to"]
        else f"[green]✔[/] schema migrated from {r['from']} to {r['to']}"))


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(migrate)
    app.command()(demo)
    for name, sub in [("person", person), ("storage", storage), ("weapon", weapon),
                      ("ammo", ammo), ("day", day), ("scene", scene), ("meeting", meeting),
                      ("incident", incident), ("complaint", complaint),
                      ("production", production_group)]:
        app.add_typer(sub, name=name)
    app.command()(inspect)
    app.command("witness")(witness_cmd)
    app.command()(issue)
    app.command("return")(return_)
    app.command()(handoff)
    app.command("store")(store_cmd)
    app.command()(override)
    app.command()(wrap)
    app.command()(note)
    app.command()(status)
    app.command()(timeline)
    app.command()(rebuild)


__all__ = ["guarded", "register", "show_events"]
