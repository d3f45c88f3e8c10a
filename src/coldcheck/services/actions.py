"""The custody use cases, one verb each, keyword-only arguments.

Each returns the events it recorded. Witness and signer PINs are checked here,
outside the write transaction (argon2 is deliberately slow), then the decision
runs in one transaction against the then-current state.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..config import Settings
from ..domain import credentials, custody
from ..domain import production as prod
from ..domain.common import text
from ..domain.errors import InvalidInput, NotFound
from ..domain.events import Event, NewEvent
from ..domain.people import Person
from ..domain.state import ProductionState
from ..domain.zones import local_date
from ..persistence.store import Store
from ..security import check_pin_format, hasher
from .context import Context, utc_now
from .core import check_pin, execute
from .ledger import new_production_key, sign_checkpoint
from .vouch import fingerprint

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def init_production(*, store: Store, settings: Settings, production: str, name: str,
                    timezone: str | None = None, at: datetime | None = None) -> Context:
    """Create the schema if needed, the production, its signing key, and its first
    event and checkpoint; with ``timezone`` (an IANA name), the production's time
    zone too (``production.timezone_set``, right after ``production.created``)."""
    if not SLUG.match(production):
        raise InvalidInput("INVALID_INPUT", "a production id is 2-63 lowercase letters, digits "
                           "and dashes, like 'rust-2021'")
    at = at or utc_now()
    store.migrate()
    if any(r["id"] == production for r in store.productions()):
        raise InvalidInput("ALREADY_INITIALISED", f"production {production!r} already exists "
                           "in this database; nothing was changed")
    origin = f"{settings.origin_host}/productions/{production}"
    # Everything that can be refused is refused before the key file is written:
    # a stray key would make the retry fail with ALREADY_INITIALISED.
    name = text(name, "name")
    zone_events = ([] if timezone is None else
                   prod.set_timezone(ProductionState(production), timezone=timezone, by=None))
    key, sealed = new_production_key(settings, production, origin)
    store.create_production(
        production=production, name=name, origin=origin, key_name=origin,
        verifier_key=key.verifier_key(), sealed_key=sealed,
        first=prod.create_production(production=production, name=name, origin=origin,
                                     key_id=key.key_id.hex()) + zone_events,
        actor="system", device=settings.device, at=at)
    ctx = Context(store=store, production=production, settings=settings,
                  device=settings.device, ph=hasher(settings.argon2_profile))
    sign_checkpoint(ctx, reason="init", at=at)
    return ctx


def set_timezone(ctx: Context, *, timezone: str, actor: str,
                 at: datetime | None = None) -> list[Event]:
    """The producer (``actor``) sets the production's time zone (ROLE_REQUIRED)."""
    return _run(ctx, actor, at, prod.set_timezone, timezone=timezone, by=actor)


def add_person(ctx: Context, *, name: str, roles: list[str], badge: str, pin: str | None,
               department: str = "", qualification_expires: str | None = None,
               actor: str = "system", at: datetime | None = None) -> list[Event]:
    at = ctx.now(at)
    pin_hash = ctx.ph.hash(check_pin_format(pin)) if pin is not None else None
    with ctx.store.write(ctx.production) as tx:
        new = prod.add_person(tx.state, name=name, roles=roles, badge=badge,
                              department=department,
                              qualification_expires=qualification_expires,
                              pin_verifier=None if pin_hash is None
                              else fingerprint("pin", pin_hash))
        events = tx.append(new, actor=actor, device=ctx.device, at=at)
        if pin_hash is not None:
            ctx.store.set_pin_hash(tx.conn, ctx.production, events[0].payload["person"],
                                   pin_hash)
    return events


def set_pin(ctx: Context, *, person: str, pin: str, actor: str,
            at: datetime | None = None) -> list[Event]:
    at = ctx.now(at)
    pin_hash = ctx.ph.hash(check_pin_format(pin))
    with ctx.store.write(ctx.production) as tx:
        tx.state.person(person)
        events = tx.append([NewEvent("person.pin_set", {
            "person": person, "verifier": fingerprint("pin", pin_hash)})], actor=actor,
            device=ctx.device, at=at)
        ctx.store.set_pin_hash(tx.conn, ctx.production, person, pin_hash)
    return events


def set_own_pin(ctx: Context, *, person: str, pin: str, current_pin: str | None,
                at: datetime | None = None) -> list[Event]:
    """``person`` sets their own witness PIN (the API's POST /me/pin and the
    tablet's My PIN page). Changing a PIN that is set needs the current one,
    checked like a witness's: a wrong one is recorded, and five lock the PIN."""
    row = ctx.store.entity(ctx.production, "person", person) or {}
    if row.get("pin_set"):
        check_pin(ctx, person=person, pin=current_pin, action="change PIN", at=ctx.now(at))
    return set_pin(ctx, person=person, pin=pin, actor=person, at=at)


def _run(ctx: Context, actor: str, at: datetime | None, fn: Callable[..., list[NewEvent]],
         **kw: Any) -> list[Event]:
    """Run a domain decision; decisions that depend on the time get ``at``."""
    when = ctx.now(at)
    if "at" in inspect.signature(fn).parameters:
        kw["at"] = when
    return execute(ctx, lambda s: fn(s, **kw), actor=actor, at=when)


def renew_qualification(ctx: Context, *, person: str, expires: str, actor: str,
                        at: datetime | None = None) -> list[Event]:
    """``actor`` must be the producer or the safety supervisor (ROLE_REQUIRED)."""
    return _run(ctx, actor, at, prod.renew_qualification, person=person, expires=expires,
                by=actor)


def brief(ctx: Context, *, person: str, briefed_by: str, topic: str,
          at: datetime | None = None) -> list[Event]:
    return _run(ctx, briefed_by, at, prod.brief, person=person, briefed_by=briefed_by,
                topic=topic)


def add_storage(ctx: Context, *, name: str, kind: str, actor: str,
                at: datetime | None = None) -> list[Event]:
    return _run(ctx, actor, at, prod.add_storage, name=name, kind=kind)


def open_day(ctx: Context, *, date: str | None, actor: str,
             at: datetime | None = None) -> list[Event]:
    """Open a shooting day dated ``date``, or, with None, today on set: the date at
    this instant in the production's time zone (else the server's default)."""
    when = ctx.now(at)

    def decide(s: ProductionState) -> list[NewEvent]:
        day = date or local_date(when, ctx.settings.zone_for(s.timezone))
        return prod.open_shooting_day(s, date=day)
    return execute(ctx, decide, actor=actor, at=when)


def meal_break(ctx: Context, *, start: bool, actor: str,
               at: datetime | None = None) -> list[Event]:
    return _run(ctx, actor, at, prod.meal_break, start=start, by=actor)


def plan_scene(ctx: Context, *, actor: str, at: datetime | None = None,
               **kw: object) -> list[Event]:
    return _run(ctx, actor, at, prod.plan_scene, **kw)


def acknowledge_pointing(ctx: Context, *, scene: str, person: str,
                         at: datetime | None = None) -> list[Event]:
    return _run(ctx, person, at, prod.acknowledge_pointing, scene=scene, person=person)


def hold_meeting(ctx: Context, *, scenes: list[str], attendees: list[str], led_by: str,
                 at: datetime | None = None) -> list[Event]:
    return _run(ctx, led_by, at, prod.hold_meeting, scenes=scenes, attendees=attendees,
                led_by=led_by)


def receive_weapon(ctx: Context, *, armorer: str, at: datetime | None = None,
                   **kw: object) -> list[Event]:
    return _run(ctx, armorer, at, custody.receive_weapon, armorer=armorer, **kw)


def receive_lot(ctx: Context, *, armorer: str, count: int, at: datetime | None = None,
                **kw: object) -> list[Event]:
    return _run(ctx, armorer, at, custody.receive_lot, armorer=armorer, count_=count, **kw)


def verify_rounds(ctx: Context, *, lot: str, count: int, method: str, armorer: str,
                  failed_finding: str | None = None, at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.verify_rounds, lot=lot, count_=count, method=method,
                armorer=armorer, failed_finding=failed_finding)


def inspect_weapon(ctx: Context, *, weapon: str, armorer: str,
                   positions: list[dict[str, str]], barrel_clear: bool,
                   magazine_checked: bool, lot: str | None = None, magazine_rounds: int = 0,
                   scene: str | None = None, at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.inspect, weapon=weapon, armorer=armorer,
                positions=positions, barrel_clear=barrel_clear,
                magazine_checked=magazine_checked, lot=lot, magazine_rounds=magazine_rounds,
                scene=scene)


def _existing(ctx: Context, kind: str, ident: str) -> dict[str, Any]:
    """The committed projection row of an entity, or NOT_FOUND: what the service
    checks before asking for a PIN (the domain checks it again in the transaction)."""
    row = ctx.store.entity(ctx.production, kind, ident)
    if row is None:
        raise NotFound(kind, ident)
    return row


def witness_inspection(ctx: Context, *, inspection: str, witness: str, pin: str | None,
                       role: str | None = None, at: datetime | None = None) -> list[Event]:
    when = ctx.now(at)
    # What the PIN is entered for must exist, and the witness must be one, before
    # the PIN is checked: a made-up inspection must not serve to guess (and lock)
    # anyone's PIN. The domain checks all of it again in the transaction.
    _existing(ctx, "inspection", inspection)
    custody.witness_role(Person(**_existing(ctx, "person", witness)), role)
    by = check_pin(ctx, person=witness, pin=pin, action=f"witness {inspection}", at=when)
    return _run(ctx, witness, when, custody.witness, inspection=inspection, witness_=witness,
                role=role, pins={witness: by})


def issue_weapon(ctx: Context, *, weapon: str, armorer: str, performer: str, scene: str,
                 at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.issue, weapon=weapon, armorer=armorer,
                performer=performer, scene=scene)


def return_weapon(ctx: Context, *, weapon: str, performer: str, armorer: str, fired: int = 0,
                  lost: int = 0, misfire: str | None = None,
                  missing_accessories: list[str] | None = None,
                  at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.return_weapon, weapon=weapon, performer=performer,
                armorer=armorer, fired=fired, lost=lost, misfire=misfire,
                missing_accessories=missing_accessories)


def record_dud(ctx: Context, *, weapon: str, armorer: str, description: str = "",
               at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.record_dud, weapon=weapon, armorer=armorer,
                description=description)


def clean_weapon(ctx: Context, *, weapon: str, armorer: str, notes: str = "",
                 at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.clean, weapon=weapon, armorer=armorer, notes=notes)


def function_check(ctx: Context, *, weapon: str, armorer: str, notes: str = "",
                   at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.function_check, weapon=weapon, armorer=armorer,
                notes=notes)


def ground_weapon(ctx: Context, *, weapon: str, reason: str, armorer: str,
                  armorer_pin: str | None, supervisor: str, supervisor_pin: str | None,
                  at: datetime | None = None) -> list[Event]:
    """Grounding is signed like an incident's closure: both PINs are checked here,
    outside the transaction, and only for signers who can sign (others are
    refused by the domain, and that refusal is recorded)."""
    when = ctx.now(at)
    # What the PINs are entered for must exist before they are checked: a made-up
    # weapon must not serve to guess (and lock) anyone's PIN.
    _existing(ctx, "weapon", weapon)
    signers = {ident: Person(**_existing(ctx, "person", ident)) for ident in (armorer, supervisor)}
    pins = signers[armorer].is_armorer and "safety_supervisor" in signers[supervisor].roles \
        and armorer != supervisor
    checked: dict[str, str | None] = {}
    if pins:
        checked[armorer] = check_pin(ctx, person=armorer, pin=armorer_pin,
                                     action=f"ground {weapon}", at=when)
        checked[supervisor] = check_pin(ctx, person=supervisor, pin=supervisor_pin,
                                        action=f"ground {weapon}", at=when)
    return _run(ctx, supervisor, when, custody.ground, weapon=weapon, reason=reason,
                armorer=armorer, supervisor=supervisor, pins_checked=pins, pins=checked)


def repair_weapon(ctx: Context, *, weapon: str, armorer: str, repair: str,
                  at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.repair, weapon=weapon, armorer=armorer,
                repair_=repair)


def handoff(ctx: Context, *, weapon: str, from_: str, to: str, scene: str | None = None,
            at: datetime | None = None) -> list[Event]:
    return _run(ctx, from_, at, custody.handoff, weapon=weapon, from_=from_, to=to,
                scene=scene)


def add_credential(ctx: Context, *, person: str, type_: str, issuer: str, number: str,
                   classes: list[str], expires: str, actor: str,
                   at: datetime | None = None) -> list[Event]:
    """``actor`` (the producer or the safety supervisor) records a handler's
    credential (ROLE_REQUIRED otherwise)."""
    return _run(ctx, actor, at, credentials.add_credential, person=person, type_=type_,
                issuer=issuer, number=number, classes=classes, expires=expires, by=actor)


def revoke_credential(ctx: Context, *, person: str, credential: str, reason: str,
                      actor: str, at: datetime | None = None) -> list[Event]:
    return _run(ctx, actor, at, credentials.revoke_credential, person=person,
                credential=credential, reason=reason, by=actor)


def classify_weapon(ctx: Context, *, weapon: str, weapon_class: str, armorer: str,
                    at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, credentials.classify, weapon=weapon, class_=weapon_class,
                armorer=armorer)


def retire_weapon(ctx: Context, *, weapon: str, reason: str, armorer: str,
                  at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.retire, weapon=weapon, reason=reason,
                armorer=armorer)


def store_weapon(ctx: Context, *, weapon: str, storage: str, armorer: str,
                 at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.store, weapon=weapon, storage=storage,
                armorer=armorer)


def record_evidence(ctx: Context, *, weapon: str, incident: str, position: str,
                    description: str, armorer: str, at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.record_evidence, weapon=weapon, incident=incident,
                position=position, description=description, armorer=armorer)


def destroy_rounds(ctx: Context, *, lot: str, count: int, reason: str, armorer: str,
                   at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, custody.destroy_rounds, lot=lot, count_=count,
                reason=reason, armorer=armorer)


def report_incident(ctx: Context, *, kind: str, description: str, weapons: list[str],
                    lots: list[str], reported_by: str,
                    at: datetime | None = None) -> list[Event]:
    return _run(ctx, reported_by, at, prod.report_incident, kind=kind,
                description=description, weapons=weapons, lots=lots, reported_by=reported_by)


def close_incident(ctx: Context, *, incident: str, corrective_action: str, armorer: str,
                   armorer_pin: str | None, supervisor: str, supervisor_pin: str | None,
                   at: datetime | None = None) -> list[Event]:
    when = ctx.now(at)
    # What the PINs are entered for must exist before they are checked: a made-up
    # incident must not serve to guess (and lock) anyone's PIN.
    inc = _existing(ctx, "incident", incident)
    signers = {ident: Person(**_existing(ctx, "person", ident)) for ident in (armorer, supervisor)}
    # Signers who cannot sign are refused by the domain below, and that refusal is
    # recorded; their PINs are not asked for (nor guessable) through this route.
    pins = bool(inc.get("open")) and signers[armorer].is_armorer and \
        "safety_supervisor" in signers[supervisor].roles
    checked: dict[str, str | None] = {}
    if pins:
        checked[armorer] = check_pin(ctx, person=armorer, pin=armorer_pin,
                                     action=f"close {incident}", at=when)
        checked[supervisor] = check_pin(ctx, person=supervisor, pin=supervisor_pin,
                                        action=f"close {incident}", at=when)
    return _run(ctx, supervisor, when, prod.close_incident, incident=incident,
                corrective_action=corrective_action, armorer=armorer, supervisor=supervisor,
                pins_checked=pins, pins=checked)


def file_complaint(ctx: Context, *, by: str, text: str,
                   at: datetime | None = None) -> list[Event]:
    return _run(ctx, by, at, prod.file_complaint, by=by, text_=text)


def acknowledge_complaint(ctx: Context, *, complaint: str, by: str, response: str,
                          at: datetime | None = None) -> list[Event]:
    return _run(ctx, by, at, prod.acknowledge_complaint, complaint=complaint, by=by,
                response=response)


def override(ctx: Context, *, rule: str, subject: str, reason: str, supervisor: str,
             at: datetime | None = None) -> list[Event]:
    return _run(ctx, supervisor, at, prod.override, rule=rule, subject=subject,
                reason=reason, supervisor=supervisor)


def wrap(ctx: Context, *, armorer: str, counts: dict[str, int] | None = None,
         at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, prod.wrap, armorer=armorer, counts=counts)


def add_note(ctx: Context, *, refers_to: int, text: str, actor: str,
             at: datetime | None = None) -> list[Event]:
    return _run(ctx, actor, at, prod.add_note, refers_to=refers_to, text_=text)
