"""Read-side use cases: the status board and timelines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ..domain.errors import NotFound
from ..domain.events import Event
from ..domain.narrative import describe
from ..domain.production import alerts
from ..domain.state import ProductionState
from ..persistence.store import Store
from .context import Context


def status(ctx: Context, at: datetime | None = None) -> dict[str, Any]:
    from .webhook import failing

    st = ctx.store.state(ctx.production)
    data = board(st, ctx.now(at), signed=signed_size(ctx.store, st))
    data["alerts"] += failing(ctx.store, ctx.production, st)
    return data


def signed_size(store: Store, st: ProductionState,
                conn: Connection | None = None) -> int | None:
    """What ``board`` needs to say whether a signed checkpoint covers the last
    incident or wrap: the latest signed tree size, or None when neither happened
    (no database read then, nor once a checkpoint is known to cover it). May
    read the database (on ``conn`` if given): not on an event loop."""
    due = st.checkpoint_due
    return None if due is None else store.signed_through(st.production, due[0] + 1, conn)


def board(st: ProductionState, at: datetime, *, signed: int | None = None) -> dict[str, Any]:
    """The status board. ``signed``: the latest signed checkpoint's tree size
    (``signed_size``), for the CHECKPOINT_MISSING alert; None leaves it out."""
    people = st.people
    weapons = []
    for w in st.weapons.values():
        weapons.append({
            "id": w.id, "serial": w.serial, "make": w.make, "model": w.model, "kind": w.kind,
            "calibre": w.calibre, "state": w.state,
            "custodian": w.custodian,
            "custodian_name": people[w.custodian].name if w.custodian else None,
            "storage": w.storage, "load": dict(w.load), "issued_at": w.issued_at,
            "due_at": w.due_at, "scene": w.scene, "frozen_by": list(w.frozen_by),
            "duds": len(st.duds_of(weapon=w.id)),
            "fired_since_cleaning": st.cleaning_due(w.id),
            "function_check_due": st.function_check_due(w.id),
            "grounded": st.grounded.get(w.id, {}).get("reason")
            if w.state == "grounded" else None,
            "owner": _owner(st, "weapon", w.id)})
    day = st.day()
    lots = [{"id": lot.id, "kind": lot.kind, "load": lot.load, "calibre": lot.calibre,
             "supplier": lot.supplier, "supplier_lot": lot.supplier_lot,
             "quarantined": lot.quarantined, "balanced": lot.balanced, **lot.summary(),
             "duds": len(st.duds_of(lot=lot.id)),
             "duds_today": len(st.duds_of(lot=lot.id, day=day.id)) if day else 0,
             "owner": _owner(st, "lot", lot.id)}
            for lot in st.lots.values()]
    return {
        "production": st.production, "name": st.name, "events": st.seq,
        "timezone": st.timezone,
        "day": None if day is None else {"id": day.id, "date": day.date,
                                         "meal_break": day.meal_break},
        "weapons": weapons, "lots": lots,
        "incidents": [{"id": i.id, "kind": i.kind, "open": i.open,
                       "description": i.description, "weapons": i.weapons, "lots": i.lots}
                      for i in st.incidents.values()],
        "complaints": [{"id": c.id, "text": c.text, "filed_at": c.filed_at,
                        "acknowledged": c.acknowledged_at is not None}
                       for c in st.complaints.values()],
        "alerts": alerts(st, at, signed),
        "due": due_queues(st),
    }


def _owner(st: ProductionState, kind: str, ident: str) -> dict[str, Any] | None:
    """Who owns a weapon or lot (None: production-owned or unknown, as for
    anything taken in before vendors were recorded)."""
    o = st.owner(kind, ident)
    if o is None:
        return None
    v = st.vendors[o["vendor"]]
    return {"vendor": v["id"], "name": v["name"], "kind": v["kind"],
            "agreement": o["agreement"], "insurance": o["insurance"],
            "due_back": o["due_back"], "receipt": o["receipt"], "returned": o["returned"]}


def due_queues(st: ProductionState) -> dict[str, list[dict[str, Any]]]:
    """The armory's maintenance queues: weapons due for cleaning (blanks fired
    since their last cleaning), weapons whose function check is due before their
    next issue (cleaned or repaired since; CUSTODY_FUNCTION_CHECK_DUE), and
    grounded weapons. Retired weapons are in none."""
    live = [w for w in st.weapons.values() if w.state != "retired"]
    return {
        "cleaning": [{"weapon": w.id, "serial": w.serial, "fired": st.cleaning_due(w.id)}
                     for w in live if st.cleaning_due(w.id)],
        "function_check": [{"weapon": w.id, "serial": w.serial,
                            "because": st.function_check_due(w.id)}
                           for w in live if w.is_firearm and st.function_check_due(w.id)],
        "grounded": [{"weapon": w.id, "serial": w.serial,
                      "reason": st.grounded[w.id]["reason"]}
                     for w in live if w.id in st.grounded and w.state in ("grounded", "frozen")],
    }


def mentions(e: Event, key: str, ident: str) -> bool:
    """Does event ``e`` concern the ``key`` (``weapon``, ``lot``, ``person``,
    ``scene``, ``day`` or ``incident``) ``ident``? The matching rule of every
    timeline (the CLI's, the API's, the web app's), event by event: the full
    scan that the timeline index (``domain.subjects``) must agree with.

    * a person: they are the actor, or a top-level payload value (``armorer``,
      ``performer``, ``witness`` …);
    * anything else: the payload names it in its own field (``weapon``,
      ``lot``, ``scene``, ``day``, ``incident``); an incident lists it
      (``weapons``, ``lots``), a meeting its scene (``scenes``); for a lot,
      rounds were loaded from or unloaded back into it (``load``, ``unloaded``);
    * either: the event's ``subject`` is it (``weapon:W1``: a refused attempt,
      an override), or a refused attempt's ``subjects`` name it (every subject
      its violations name: ``lot:L1`` for unverified dummies)."""
    p = e.payload
    if key == "person":
        if e.actor == ident or ident in p.values():
            return True
    elif p.get(key) == ident:
        return True
    tag = f"{key}:{ident}"
    if p.get("subject") == tag or tag in (p.get("subjects") or ()):
        return True
    if key in ("weapon", "lot", "scene") and ident in (p.get(key + "s") or ()):
        return True
    if key == "lot":
        for field in ("load", "unloaded"):
            v = p.get(field)
            if isinstance(v, dict) and v.get("lot") == ident:
                return True
    return False


TIMELINE_KINDS = ("weapon", "lot", "person", "scene", "day")


def timeline(ctx: Context, *, weapon: str | None = None, lot: str | None = None,
             person: str | None = None, scene: str | None = None,
             day: str | None = None) -> list[dict[str, Any]]:
    """Every event that names the weapon, lot, person, scene or day, in order,
    with who and when. Events about a weapon include the rounds loaded into it
    and the incidents naming it; events about a lot include every load drawn
    from it; refused attempts appear under every subject their violations name.

    An indexed range read (``timeline_index``) plus the events it names: what it
    costs grows with the timeline, not with the production's history."""
    store, prod = ctx.store, ctx.production
    named = [(k, v) for k, v in zip(TIMELINE_KINDS, (weapon, lot, person, scene, day),
                                    strict=True) if v]
    for kind, ident in named:
        if store.entity(prod, kind, ident) is None:
            raise NotFound(kind, ident)
    people = {str(d["id"]): str(d["name"]) for d in map(json.loads,
                                                        store.projection(prod, "person"))}
    events = store.events_at(prod, store.timeline_seqs(prod, named))
    return timeline_entries(events, people)


def timeline_scan(ctx: Context, **named: str | None) -> list[dict[str, Any]]:
    """:func:`timeline` by reading every event and matching it with
    :func:`mentions`: the check of the index (tests, ``bench_scale``), far
    slower on a long production."""
    st = ctx.store.state(ctx.production)
    wanted = [(k, v) for k, v in named.items() if v]
    for kind, ident in wanted:
        if st.entity(kind, ident) is None:
            raise NotFound(kind, ident)
    people = {p.id: p.name for p in st.people.values()}
    return timeline_entries([e for e in ctx.store.events(ctx.production)
                             if any(mentions(e, k, v) for k, v in wanted)], people)


def timeline_entries(events: Iterable[Event], people: Mapping[str, str]) -> list[dict[str, Any]]:
    """Timeline rows for ``events``: who (with their name), when, and a sentence."""
    def names(ident: str | None) -> str:
        name = people.get(ident or "")
        return f"{name} ({ident})" if name is not None else str(ident)

    return [{"seq": e.seq, "at": e.at, "type": e.type, "actor": e.actor,
             "actor_name": people.get(e.actor, e.actor), "device": e.device,
             "payload": dict(e.payload), "text": describe(e.type, e.payload, names)}
            for e in events]
