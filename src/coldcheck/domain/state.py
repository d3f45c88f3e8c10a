"""The state of one production, derived from its events only.

:func:`ProductionState.apply` is the single place where events change state.
A weapon's new state is always the one the state machine's table gives
(domain/weapons.py TRANSITIONS, through ``next_state``): no applier names a
state of its own.
It returns the entities it touched so the store can write exactly those
projection rows in the same transaction as the event.

What is not an entity (the production's name and key id, the open day, voided
verifications, the last lot loaded into each weapon, what a checkpoint must
cover, the last restore) is one more row, :data:`STATE_KIND`, written like an
entity when an event changes it. The entity rows and that row are the whole
state: :meth:`ProductionState.loaded` builds from them what a replay of every
event builds (counters, serials and badges are derived from the entities), so
a process pays for the state, not for the history.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from datetime import tzinfo
from typing import Any, Generic, TypeVar

from .ammunition import Lot
from .errors import NotFound
from .events import Event
from .incidents import Complaint, Incident, Inspection, Override
from .people import Person
from .scenes import Day, Meeting, Scene
from .weapons import EMPTY_LOAD, Weapon, next_state
from .zones import zone_or_utc

# Projection kinds, their id prefixes and classes.
KINDS: dict[str, tuple[str, type]] = {
    "person": ("P", Person), "storage": ("ST", dict), "weapon": ("W", Weapon),
    "lot": ("L", Lot), "day": ("D", Day), "scene": ("SC", Scene), "meeting": ("M", Meeting),
    "inspection": ("IN", Inspection), "incident": ("INC", Incident),
    "complaint": ("C", Complaint), "override": ("O", Override),
}
Touched = set[tuple[str, str]]
T = TypeVar("T")


class LazyRows(MutableMapping[str, T], Generic[T]):
    """Entities of one kind as stored rows, each decoded the first time it is
    read: a loaded state holds every inspection ever made (one per custody
    cycle, the bulk of a long production's rows) and needs only the current
    ones. Keys in creation order, as the replay's dict; writes go in as
    objects."""

    __slots__ = ("_build", "_done", "_raw")

    def __init__(self, raw: dict[str, str | None], build: Callable[[dict[str, Any]], T]) -> None:
        self._raw = raw  # id -> the row's JSON (None once set as an object)
        self._done: dict[str, T] = {}
        self._build = build

    def __getitem__(self, key: str) -> T:
        v = self._done.get(key)
        if v is None:
            text = self._raw[key]  # KeyError for an unknown id, as a dict
            if text is None:  # pragma: no cover - set entries are always in _done
                raise KeyError(key)
            v = self._done[key] = self._build(json.loads(text))
        return v

    def __setitem__(self, key: str, value: T) -> None:
        if key not in self._raw:
            self._raw[key] = None
        self._done[key] = value

    def __delitem__(self, key: str) -> None:
        del self._raw[key]
        self._done.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        return key in self._raw

STATE_KIND = "state"
"""Projection kind of the row holding what is not an entity (:meth:`ProductionState.meta`);
its entity id is :data:`STATE_ID`. Not in :data:`ENTITY_TABLES`."""
STATE_ID = "production"
STATE: tuple[str, str] = (STATE_KIND, STATE_ID)


class ProductionState:
    def __init__(self, production: str = "") -> None:
        self.production = production
        self.name = ""
        self.origin = ""
        self.key_id = ""
        # The production's IANA time zone (production.timezone_set), or None: then
        # the server's default (Settings.timezone) applies.
        self.timezone: str | None = None
        self.seq = 0  # number of events applied == next seq
        self.people: dict[str, Person] = {}
        self.storage: dict[str, dict[str, Any]] = {}
        self.weapons: dict[str, Weapon] = {}
        self.lots: dict[str, Lot] = {}
        self.days: dict[str, Day] = {}
        self.scenes: dict[str, Scene] = {}
        self.meetings: dict[str, Meeting] = {}
        self.inspections: MutableMapping[str, Inspection] = {}
        self.incidents: dict[str, Incident] = {}
        self.complaints: dict[str, Complaint] = {}
        self.overrides: dict[str, Override] = {}
        self.current_day: str | None = None
        self.counters: dict[str, int] = {}
        self.serials: dict[str, str] = {}
        self.badges: dict[str, str] = {}
        # Dummy lot -> (seq, incident) of the last ammo.verification_voided: rounds
        # loaded from the lot before it are no longer verified.
        self.voided: dict[str, tuple[int, str]] = {}
        # Weapon -> the lot of the last rounds loaded into it, kept once they are
        # fired or unloaded: a discharge, misfire or squib reported afterwards
        # still names the box they came from (report_incident).
        self.last_lot: dict[str, str] = {}
        # Routine duds (weapon.dud_recorded), in order: seq, weapon, lot, scene,
        # day. Kept here, not on the projected weapon and lot rows, so that
        # ledgers written before duds existed verify unchanged.
        self.duds: list[dict[str, Any]] = []
        # Maintenance, per weapon, kept here for the same reason: blanks fired
        # since the last cleaning ("fired"), why a function check is due before
        # the next issue ("due": "cleaned", "repaired", or None), and when each
        # was last done ("cleaned_at", "checked_at").
        self.maintenance: dict[str, dict[str, Any]] = {}
        # Grounded weapons -> reason, signers and seq of their weapon.grounded,
        # until a weapon.repaired (an incident may freeze one meanwhile).
        self.grounded: dict[str, dict[str, Any]] = {}
        # Fingerprints of the stored sign-in verifiers, by subject (domain/verifiers.py):
        # "person:P3" -> {"pin"}, "account:<name>" -> {"person", "password"},
        # "device:<id>" -> {"key", "revoked"}. Kept here for the same reason as duds.
        self.vouched: dict[str, dict[str, Any]] = {}
        # Handlers' credentials (person -> credential id -> fields) and the classes
        # armorers recorded for weapons: in the state row, so that people's and
        # weapons' rows stay as they were written before credentials existed.
        self.credentials: dict[str, dict[str, dict[str, Any]]] = {}
        self.weapon_classes: dict[str, str] = {}
        # Where weapons come from and go back to (issue 16, part 3), kept in the
        # state row, like duds, so that ledgers written before verify unchanged:
        # vendors (V1 ...), deliveries (RC1 ...: manifest, items checked, signature),
        # the owner of each weapon or lot ("weapon:W1" -> vendor, agreement,
        # insurance, due-back date, receipt, return), kit accessories (AC1 ...),
        # the accessories out with each issued weapon, and returns (VR1 ...).
        self.vendors: dict[str, dict[str, Any]] = {}
        self.receipts: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, dict[str, Any]] = {}
        self.accessories: dict[str, dict[str, Any]] = {}
        self.kits_out: dict[str, list[str]] = {}
        self.vendor_returns: dict[str, dict[str, Any]] = {}
        # Complaints received from someone without an account (complaint.received),
        # by id: what they gave ("name", "role", both "" if anonymous), "via"
        # ("tablet" or "poster") and "device". Their Complaint entity has by "";
        # kept here, like duds, so that ledgers written before verify unchanged.
        self.received: dict[str, dict[str, str]] = {}
        # The QR complaint poster last issued ("poster", "nonce", "by", "at",
        # "revoked_at"), or None: only the last one issued ever works.
        self.poster: dict[str, Any] | None = None
        # The outgoing alert webhook (production.webhook_set): url, secret
        # fingerprint and when it was set; None when none is set or it was cleared.
        self.webhook: dict[str, Any] | None = None
        # (seq, what) of the last event a signed checkpoint must cover (an
        # incident opened, a day wrapped): alerts() says so until one does.
        self.checkpoint_due: tuple[int, str] | None = None
        # (seq, time, payload) of the last restore from a backup (ledger.restored):
        # alerts() shows it for a day, so the board and that day's report say it.
        self.restored: tuple[int, str, dict[str, Any]] | None = None

    # ---- lookups -------------------------------------------------------
    def _get(self, table: Mapping[str, Any], what: str, ident: str) -> Any:
        try:
            return table[ident]
        except KeyError:
            raise NotFound(what, ident) from None

    def person(self, i: str) -> Person:
        return self._get(self.people, "person", i)  # type: ignore[no-any-return]

    def weapon(self, i: str) -> Weapon:
        return self._get(self.weapons, "weapon", i)  # type: ignore[no-any-return]

    def lot(self, i: str) -> Lot:
        return self._get(self.lots, "lot", i)  # type: ignore[no-any-return]

    def scene(self, i: str) -> Scene:
        return self._get(self.scenes, "scene", i)  # type: ignore[no-any-return]

    def incident(self, i: str) -> Incident:
        return self._get(self.incidents, "incident", i)  # type: ignore[no-any-return]

    def inspection(self, i: str) -> Inspection:
        return self._get(self.inspections, "inspection", i)  # type: ignore[no-any-return]

    def complaint(self, i: str) -> Complaint:
        return self._get(self.complaints, "complaint", i)  # type: ignore[no-any-return]

    def complainant(self, c: Complaint, *, ids: bool = False) -> str:
        """Who a complaint is from, in words: the person who filed it (with their
        id if ``ids``), or, for one received without an account, the name and role
        given ("anonymous" if none) and where it was typed."""
        got = self.received.get(c.id)
        if got is None:
            p = self.people.get(c.by)
            if p is None:
                return c.by
            return f"{p.name} ({p.id})" if ids else p.name
        who = got["name"] or "anonymous"
        if got["name"] and got["role"]:
            who += f", {got['role']}"
        elif got["role"]:
            who += f" ({got['role']})"
        where = "cart tablet" if got["via"] == "tablet" else "QR poster"
        return f"{who} (no account, {where})"

    def storage_loc(self, i: str) -> dict[str, Any]:
        return self._get(self.storage, "storage location", i)  # type: ignore[no-any-return]

    @property
    def zone(self) -> tzinfo:
        """The production's own time zone (``production.timezone_set``), from the
        record alone: UTC when it has set none (the server's default zone is a
        setting, not an event, so the rules never read it) or when this machine
        does not know the zone. The rules' calendar: what "today" is on set."""
        return zone_or_utc(self.timezone)

    def day(self) -> Day | None:
        return self.days.get(self.current_day) if self.current_day else None

    def has_override(self, code: str, subject: str) -> bool:
        for o in self.overrides.values():
            if o.rule != code or o.subject != subject:
                continue
            if code == "PEOPLE_ROLE_CONFLICT" or o.day is None or o.day == self.current_day:
                return True
        return False

    def still_verified(self, lot: str, loaded_by: str | None) -> bool:
        """Are the dummies of ``lot`` that inspection ``loaded_by`` loaded into a
        weapon still verified? Not if an incident voided the lot's verification
        after that inspection (or the inspection is unknown, as after a freeze)."""
        void = self.voided.get(lot)
        if void is None:
            return True
        insp = self.inspections.get(loaded_by or "")
        return insp is not None and insp.seq > void[0]

    def duds_of(self, *, weapon: str | None = None, lot: str | None = None,
                day: str | None = None) -> list[dict[str, Any]]:
        """The routine duds recorded for a weapon, a lot and/or a day."""
        return [d for d in self.duds if (weapon is None or d["weapon"] == weapon)
                and (lot is None or d["lot"] == lot) and (day is None or d["day"] == day)]

    def upkeep(self, weapon: str) -> dict[str, Any]:
        """The weapon's maintenance record (created empty on first use)."""
        return self.maintenance.setdefault(weapon, {"fired": 0, "due": None,
                                                    "cleaned_at": None, "checked_at": None})

    def cleaning_due(self, weapon: str) -> int:
        """Blanks fired since the weapon was last cleaned (0: not due)."""
        m = self.maintenance.get(weapon)
        return 0 if m is None else int(m["fired"])

    def function_check_due(self, weapon: str) -> str | None:
        """Why a function check is due before the next issue ("cleaned",
        "repaired"), or None."""
        m = self.maintenance.get(weapon)
        return None if m is None else m["due"]

    def vendor(self, i: str) -> dict[str, Any]:
        return self._get(self.vendors, "vendor", i)  # type: ignore[no-any-return]

    def receipt(self, i: str) -> dict[str, Any]:
        return self._get(self.receipts, "receipt", i)  # type: ignore[no-any-return]

    def accessory(self, i: str) -> dict[str, Any]:
        return self._get(self.accessories, "accessory", i)  # type: ignore[no-any-return]

    def owner(self, kind: str, ident: str) -> dict[str, Any] | None:
        """Who owns weapon or lot ``ident`` (None: not recorded, so production-owned
        or unknown; a record made before vendors existed stays valid)."""
        return self.owners.get(f"{kind}:{ident}")

    def gone_back(self, kind: str, ident: str) -> str | None:
        """The vendor return (VR1 ...) that sent this weapon or lot back, or None."""
        o = self.owners.get(f"{kind}:{ident}")
        return None if o is None else o.get("returned")

    def kit(self, weapon: str) -> list[dict[str, Any]]:
        """The accessories listed on a weapon's kit, in order."""
        return [a for a in self.accessories.values() if a["weapon"] == weapon]

    def _rental(self) -> dict[str, Any]:
        return {"vendors": self.vendors, "receipts": self.receipts, "owners": self.owners,
                "accessories": self.accessories, "kits_out": self.kits_out,
                "returns": self.vendor_returns}

    def next_id(self, prefix: str, taken: dict[str, int] | None = None) -> str:
        n = self.counters.get(prefix, 0) + 1 + (taken or {}).get(prefix, 0)
        if taken is not None:
            taken[prefix] = taken.get(prefix, 0) + 1
        return f"{prefix}{n}"

    def _bump(self, prefix: str, ident: str) -> None:
        n = int(ident[len(prefix):])
        self.counters[prefix] = max(self.counters.get(prefix, 0), n)

    # ---- projections ---------------------------------------------------
    def entity(self, kind: str, ident: str) -> dict[str, Any] | None:
        table: dict[str, Any] = getattr(self, ENTITY_TABLES[kind])
        obj = table.get(ident)
        if obj is None:
            return None
        return dict(obj) if isinstance(obj, dict) else dataclasses.asdict(obj)

    def meta(self) -> dict[str, Any]:
        """Everything of the state that is neither an entity nor derived from
        the entities: the :data:`STATE_KIND` row (lists for tuples, as JSON)."""
        return {"production": self.production, "name": self.name, "origin": self.origin,
                "key_id": self.key_id, "current_day": self.current_day,
                "voided": {k: list(v) for k, v in self.voided.items()},
                "last_lot": dict(self.last_lot),
                "checkpoint_due": None if self.checkpoint_due is None
                else list(self.checkpoint_due),
                "restored": None if self.restored is None else list(self.restored),
                "duds": [dict(d) for d in self.duds],
                "maintenance": {k: dict(v) for k, v in self.maintenance.items()},
                "grounded": {k: dict(v) for k, v in self.grounded.items()},
                # only once set: state rows written before these existed verify
                **({"vouched": {k: dict(v) for k, v in self.vouched.items()}}
                   if self.vouched else {}),
                **({"timezone": self.timezone} if self.timezone is not None else {}),
                **({"credentials": {k: {c: dict(v) for c, v in cs.items()}
                                    for k, cs in self.credentials.items()}}
                   if self.credentials else {}),
                **({"weapon_classes": dict(self.weapon_classes)}
                   if self.weapon_classes else {}),
                **({"received": {k: dict(v) for k, v in self.received.items()}}
                   if self.received else {}),
                **({"poster": dict(self.poster)} if self.poster is not None else {}),
                **({"webhook": dict(self.webhook)} if self.webhook is not None else {}),
                **({"rental": json.loads(json.dumps(self._rental()))}
                   if any(self._rental().values()) else {})}

    @classmethod
    def loaded(cls, production: str, seq: int, meta: dict[str, Any],
               rows: Iterable[tuple[str, str, str]]) -> ProductionState:
        """The state at ``seq`` (the number of events) from its stored rows: the
        :data:`STATE_KIND` row ``meta`` and every entity row ``(kind, id, JSON)``
        (any order). Equal to the replay of the same events (a property test
        holds it to that): entities in creation order (ids are numbered in
        that order), counters, serials and badges derived from them.
        Inspections are decoded when first read (:class:`LazyRows`)."""
        st = cls(production)
        st.seq = seq
        st.production, st.name, st.origin = meta["production"], meta["name"], meta["origin"]
        st.key_id, st.current_day = meta["key_id"], meta["current_day"]
        st.voided = {k: (int(v[0]), str(v[1])) for k, v in meta["voided"].items()}
        st.last_lot = dict(meta["last_lot"])
        due = meta["checkpoint_due"]
        st.checkpoint_due = None if due is None else (int(due[0]), str(due[1]))
        rest = meta["restored"]
        st.restored = None if rest is None else (int(rest[0]), str(rest[1]), dict(rest[2]))
        st.duds = [dict(d) for d in meta.get("duds", [])]
        st.maintenance = {k: dict(v) for k, v in meta.get("maintenance", {}).items()}
        st.grounded = {k: dict(v) for k, v in meta.get("grounded", {}).items()}
        st.vouched = {k: dict(v) for k, v in meta.get("vouched", {}).items()}
        st.timezone = meta.get("timezone")
        st.credentials = {k: {c: dict(v) for c, v in cs.items()}
                          for k, cs in meta.get("credentials", {}).items()}
        st.weapon_classes = dict(meta.get("weapon_classes", {}))
        st.received = {k: dict(v) for k, v in meta.get("received", {}).items()}
        poster = meta.get("poster")
        st.poster = None if poster is None else dict(poster)
        hook = meta.get("webhook")
        st.webhook = None if hook is None else dict(hook)
        rental = meta.get("rental") or {}  # absent: nothing rented or kitted yet
        st.vendors = dict(rental.get("vendors", {}))
        st.receipts = dict(rental.get("receipts", {}))
        st.owners = dict(rental.get("owners", {}))
        st.accessories = dict(rental.get("accessories", {}))
        st.kits_out = dict(rental.get("kits_out", {}))
        st.vendor_returns = dict(rental.get("returns", {}))
        for prefix, held in (("V", st.vendors), ("RC", st.receipts), ("AC", st.accessories),
                              ("VR", st.vendor_returns)):
            if held:
                st.counters[prefix] = max(int(k[len(prefix):]) for k in held)
        if st.credentials:
            st.counters["CR"] = max(int(c[2:]) for cs in st.credentials.values() for c in cs)
        by_kind: dict[str, list[tuple[int, str, str]]] = {k: [] for k in KINDS}
        for kind, ident, data in rows:
            prefix = KINDS[kind][0]
            by_kind[kind].append((int(ident[len(prefix):]), ident, data))
        loads = json.loads
        for kind, found in by_kind.items():
            if not found:
                continue
            prefix, klass = KINDS[kind]
            found.sort(key=lambda x: x[0])
            if kind == "inspection":
                st.inspections = LazyRows({ident: data for _, ident, data in found},
                                          lambda d: Inspection(**d))
            else:
                table: dict[str, Any] = getattr(st, ENTITY_TABLES[kind])
                for _, ident, data in found:
                    d = loads(data)
                    table[ident] = d if klass is dict else klass(**d)
            st.counters[prefix] = found[-1][0]
        for w in st.weapons.values():
            st.serials[w.serial.casefold()] = w.id
        for p in st.people.values():
            st.badges[p.badge] = p.id
        return st

    def all_entities(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for kind, attr in ENTITY_TABLES.items():
            for ident in getattr(self, attr):
                row = self.entity(kind, ident)
                assert row is not None
                yield kind, ident, row

    # ---- applying events ----------------------------------------------
    @classmethod
    def replayed(cls, production: str, events: Iterable[Event]) -> ProductionState:
        """A fresh state with ``events`` (from entry 0, in order) applied."""
        st = cls(production)
        for e in events:
            st.apply(e)
        return st

    def apply(self, ev: Event) -> Touched:
        if ev.seq != self.seq:
            raise ValueError(f"event seq {ev.seq} applied to state at seq {self.seq}")
        handler = _HANDLERS.get(ev.type)
        touched: Touched = set() if handler is None else handler(self, ev, dict(ev.payload))
        if ev.type in META_EVENTS:  # duds, maintenance, grounding live in the state row
            touched.add(STATE)
        self.seq += 1
        return touched


# Events that change what meta() holds beyond the entities: their appliers
# change duds, maintenance or grounded, which the state row carries.
META_EVENTS = frozenset({"weapon.returned", "weapon.cleaned", "weapon.function_checked",
                         "weapon.grounded", "weapon.repaired", "weapon.dud_recorded",
                         "person.pin_set", "account.linked", "device.registered",
                         "device.revoked", "person.credential_added",
                         "person.credential_revoked", "weapon.classified",
                         "vendor.added", "inventory.owner_recorded", "receipt.opened",
                         "receipt.item_checked", "receipt.signed", "accessory.added",
                         "accessory.found", "weapon.kit_issued", "weapon.kit_returned",
                         "vendor.returned", "complaint.received", "complaint.poster_issued",
                         "complaint.poster_revoked"})

ENTITY_TABLES = {"person": "people", "storage": "storage", "weapon": "weapons", "lot": "lots",
           "day": "days", "scene": "scenes", "meeting": "meetings",
           "inspection": "inspections", "incident": "incidents", "complaint": "complaints",
           "override": "overrides"}
"""Projection kind -> the attribute of :class:`ProductionState` holding that kind's
entities. Public: the store writes one projection row per (kind, id)."""

Handler = Callable[[ProductionState, Event, dict[str, Any]], Touched]
_HANDLERS: dict[str, Handler] = {}


def on(event_type: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        _HANDLERS[event_type] = fn
        return fn
    return deco


@on("production.created")
def _production(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.production, s.name, s.origin, s.key_id = p["production"], p["name"], p["origin"], \
        p["key_id"]
    return {STATE}


@on("production.timezone_set")
def _timezone(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.timezone = p["timezone"]
    return {STATE}


@on("production.webhook_set")
def _webhook_set(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.webhook = {"url": p["url"], "secret_fingerprint": p["secret_fingerprint"],
                 "set_at": ev.at}
    return {STATE}


@on("production.webhook_cleared")
def _webhook_cleared(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.webhook = None
    return {STATE}


@on("person.added")
def _person(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("P", p["person"])
    s.people[p["person"]] = Person(id=p["person"], name=p["name"], roles=list(p["roles"]),
                                   badge=p["badge"], department=p["department"],
                                   qualification_expires=p["qualification_expires"])
    s.badges[p["badge"]] = p["person"]
    return {("person", p["person"])}


@on("person.pin_set")
def _pin_set(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    person = s.people[p["person"]]
    person.pin_set, person.pin_failures, person.pin_locked_until = True, 0, None
    person.pin_set_by = ev.actor
    # Older entries carry no fingerprint: the record cannot vouch for that PIN
    # (services/vouch.py notes it), and the state row stays as it was written.
    if p.get("verifier") is not None:
        s.vouched[f"person:{person.id}"] = {"pin": p["verifier"]}
    else:
        s.vouched.pop(f"person:{person.id}", None)
    return {("person", person.id)}


@on("account.linked")
def _account_linked(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.vouched[f"account:{p['account']}"] = {"person": p["person"], "password": p["verifier"]}
    return set()


@on("device.registered")
def _device_registered(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.vouched[f"device:{p['device']}"] = {"key": p["verifier"], "revoked": False}
    return set()


@on("device.revoked")
def _device_revoked(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    d = s.vouched.setdefault(f"device:{p['device']}", {"key": None})
    d["revoked"] = True
    return set()


@on("person.qualification_renewed")
def _renewed(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.people[p["person"]].qualification_expires = p["expires"]
    return {("person", p["person"])}


@on("person.credential_added")
def _credential_added(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("CR", p["credential"])
    s.credentials.setdefault(p["person"], {})[p["credential"]] = {
        "id": p["credential"], "type": p["type"], "issuer": p["issuer"], "number": p["number"],
        "classes": list(p["classes"]), "expires": p["expires"], "revoked": False,
        "recorded_by": ev.actor}
    return set()


@on("person.credential_revoked")
def _credential_revoked(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.credentials[p["person"]][p["credential"]]["revoked"] = True
    return set()


@on("weapon.classified")
def _classified(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.weapon_classes[p["weapon"]] = p["weapon_class"]
    return set()


@on("person.safety_briefed")
def _briefed(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.people[p["person"]].briefed = True
    return {("person", p["person"])}


@on("person.role_conflict_flagged")
def _conflict(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.people[p["person"]].role_conflicts.append(p["conflict"])
    return {("person", p["person"])}


@on("person.pin_failed")
def _pin_failed(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    person = s.people[p["person"]]
    person.pin_failures, person.pin_failed_at = p["failures"], ev.at
    return {("person", p["person"])}


@on("person.pin_locked")
def _pin_locked(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    person = s.people[p["person"]]
    person.pin_locked_until, person.pin_failures = p["until"], 0
    return {("person", person.id)}


@on("storage.added")
def _storage(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("ST", p["storage"])
    s.storage[p["storage"]] = {"id": p["storage"], "name": p["name"], "kind": p["kind"]}
    return {("storage", p["storage"])}


@on("day.opened")
def _day(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("D", p["day"])
    s.days[p["day"]] = Day(id=p["day"], date=p["date"])
    s.current_day = p["day"]
    return {("day", p["day"]), STATE}


@on("day.meal_break_started")
def _meal(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.days[p["day"]].meal_break = True
    return {("day", p["day"])}


@on("day.meal_break_ended")
def _meal_end(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.days[p["day"]].meal_break = False
    return {("day", p["day"])}


@on("day.wrapped")
def _wrapped(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.days[p["day"]].open = False
    s.current_day = None
    s.checkpoint_due = (ev.seq, f"day {p['day']} wrapped")
    return {("day", p["day"]), STATE}


@on("ledger.restored")
def _restored(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.restored = (ev.seq, ev.at, p)
    s.checkpoint_due = (ev.seq, "ledger restored from a backup")
    return {STATE}


@on("weapon.received")
def _weapon(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("W", p["weapon"])
    w = Weapon(id=p["weapon"], serial=p["serial"], make=p["make"], model=p["model"],
               calibre=p["calibre"], kind=p["kind"], chambers=p["chambers"],
               magazine_capacity=p["magazine_capacity"], storage=p["storage"],
               last_custody_seq=ev.seq)
    s.weapons[w.id] = w
    s.serials[w.serial.casefold()] = w.id
    return {("weapon", w.id)}


def _unload_back(s: ProductionState, unloaded: dict[str, Any] | None,
                 loaded_by: str | None) -> Touched:
    """Rounds taken out of a weapon by the armorer go back to their lot. Verified
    dummies stay verified (they never left the armorer's custody), unless an
    incident voided the lot's verification after the inspection ``loaded_by``
    loaded them (or that inspection is unknown, as after a freeze)."""
    if not unloaded or not unloaded.get("count"):
        return set()
    lot = s.lots[unloaded["lot"]]
    lot.returned += unloaded["count"]
    if lot.kind == "dummy" and s.still_verified(lot.id, loaded_by):
        lot.verified_in_stock += unloaded["count"]
    return {("lot", lot.id)}


@on("weapon.inspected")
def _inspected(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    touched: Touched = {("weapon", w.id)}
    touched |= _unload_back(s, p["unloaded"], loaded_by=w.inspection)
    s._bump("IN", p["inspection"])
    load = p["load"]
    if load["count"]:
        lot = s.lots[load["lot"]]
        if s.last_lot.get(w.id) != lot.id:
            s.last_lot[w.id] = lot.id
            touched.add(STATE)
        lot.loaded += load["count"]
        if lot.kind == "dummy":
            lot.verified_in_stock -= load["count"]
        touched.add(("lot", lot.id))
    missing = p.get("missing", [])
    s.inspections[p["inspection"]] = Inspection(
        id=p["inspection"], weapon=w.id, armorer=p["armorer"], scene=p["scene"], seq=ev.seq,
        at=ev.at, positions=list(p["positions"]), barrel_clear=p["barrel_clear"],
        magazine_checked=p["magazine_checked"], load=dict(load),
        complete=not missing, missing=list(missing))
    touched.add(("inspection", p["inspection"]))
    if w.state != "inspected":
        # Taking the weapon out of storage is a custody change.
        w.last_custody_seq = ev.seq
    w.state, w.custodian, w.storage = next_state(w, "inspect"), p["armorer"], None
    w.load = dict(load)
    w.inspection = p["inspection"]
    return touched


@on("inspection.witnessed")
def _witnessed(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    # Who had recorded the PIN the witness confirmed with, as it stood then: a
    # later change of PIN must not make an earlier confirmation look independent
    # (CUSTODY_WITNESS_REQUIRED). Derived from the record, so replay gives it back.
    entry = {"person": p["witness"], "role": p["role"]}
    person = s.people.get(p["witness"])
    if person is not None and person.pin_set_by:
        entry["pin_set_by"] = person.pin_set_by
    s.inspections[p["inspection"]].witnesses.append(entry)
    return {("inspection", p["inspection"])}


@on("weapon.issued")
def _issued(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    w.state, w.custodian = next_state(w, "issue"), p["performer"]
    w.issued_at, w.due_at, w.scene = ev.at, p["due_at"], p["scene"]
    w.last_custody_seq = ev.seq
    s.inspections[p["inspection"]].used = True
    return {("weapon", w.id), ("inspection", p["inspection"])}


@on("weapon.returned")
def _returned(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    touched: Touched = {("weapon", w.id)}
    w.state = next_state(w, "return")  # a frozen weapon stays frozen
    w.custodian = p["armorer"]
    w.issued_at = w.due_at = w.scene = None
    w.last_custody_seq = ev.seq
    if p["lot"] is not None:
        lot = s.lots[p["lot"]]
        lot.fired += p["fired"]
        lot.lost += p["lost"]
        lot.returned += p["returned"]
        touched.add(("lot", lot.id))
        left = w.load_count - p["fired"] - p["lost"] - p["returned"]
        w.load = dict(w.load, count=left) if left else dict(EMPTY_LOAD)
    if p["fired"]:
        s.upkeep(w.id)["fired"] += p["fired"]  # blank residue: due for cleaning
    return touched


@on("weapon.cleaned")
def _cleaned(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    w.state = next_state(w, "clean")
    m = s.upkeep(w.id)
    m["fired"], m["cleaned_at"] = 0, ev.at
    m["due"] = "repaired" if m["due"] == "repaired" else "cleaned"
    return set()


@on("weapon.function_checked")
def _function_checked(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    w.state = next_state(w, "function_check")
    m = s.upkeep(w.id)
    m["due"], m["checked_at"] = None, ev.at
    return set()


@on("weapon.grounded")
def _grounded(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    w.state = next_state(w, "ground")
    w.inspection = None  # an inspection from before it was grounded counts for nothing
    s.grounded[w.id] = {"reason": p["reason"], "armorer": p["armorer"],
                        "supervisor": p["supervisor"], "seq": ev.seq, "at": ev.at}
    return {("weapon", w.id)}


@on("weapon.repaired")
def _repaired(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    w.state = next_state(w, "repair_stored" if w.storage else "repair_held")
    s.grounded.pop(w.id, None)
    s.upkeep(w.id)["due"] = "repaired"
    w.last_custody_seq = ev.seq  # inspected again before use
    return {("weapon", w.id)}


@on("weapon.dud_recorded")
def _dud(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    w.state = next_state(w, "dud")  # it stays issued, not frozen
    s.duds.append({"seq": ev.seq, "weapon": w.id, "lot": p["lot"], "scene": p["scene"],
                   "day": p["day"], "at": ev.at})
    return set()


@on("weapon.stored")
def _stored(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    touched: Touched = {("weapon", w.id)}
    touched |= _unload_back(s, p["unloaded"], loaded_by=w.inspection)
    if p["unloaded"]:
        w.load = dict(EMPTY_LOAD)
    w.state = next_state(w, "store")  # a frozen weapon stays frozen
    w.custodian, w.storage, w.inspection = None, p["storage"], None
    w.last_custody_seq = ev.seq
    return touched


@on("weapon.frozen")
def _frozen(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    w.state = next_state(w, "freeze")
    if p["incident"] not in w.frozen_by:
        w.frozen_by.append(p["incident"])
    w.inspection = None
    return {("weapon", w.id)}


@on("weapon.unfrozen")
def _unfrozen(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    w.frozen_by.remove(p["incident"])
    if not w.frozen_by:  # released by its last open incident
        w.state = next_state(w, "unfreeze_grounded" if w.id in s.grounded else
                             "unfreeze_stored" if w.storage else "unfreeze_held")
    w.last_custody_seq = ev.seq  # released weapons are inspected again before use
    return {("weapon", w.id)}


@on("weapon.retired")
def _retired(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    w = s.weapons[p["weapon"]]
    w.state = next_state(w, "retire")
    return {("weapon", p["weapon"])}


@on("ammo.lot_received")
def _lot(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("L", p["lot"])
    s.lots[p["lot"]] = Lot(id=p["lot"], kind=p["kind"], calibre=p["calibre"],
                           supplier=p["supplier"], supplier_lot=p["supplier_lot"],
                           storage=p["storage"], load=p["load"], received=p["count"])
    return {("lot", p["lot"])}


@on("ammo.round_verified")
def _verified(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    lot = s.lots[p["lot"]]
    lot.verified_total += 1
    lot.verified_in_stock += 1
    return {("lot", lot.id)}


@on("ammo.verification_failed")
def _failed(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    lot = s.lots[p["lot"]]
    lot.verified_total += 1
    lot.failed_verification = True
    return {("lot", lot.id)}


@on("ammo.verification_voided")
def _voided(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    lot = s.lots[p["lot"]]
    lot.verified_in_stock = 0
    s.voided[lot.id] = (ev.seq, p["incident"])
    return {("lot", lot.id), STATE}


@on("ammo.evidence_lot_created")
def _evidence_lot(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("L", p["lot"])
    s.lots[p["lot"]] = Lot(id=p["lot"], kind="evidence", calibre=p["calibre"],
                           supplier="", supplier_lot="", storage=None, incident=p["incident"])
    s.incidents[p["incident"]].evidence_lot = p["lot"]
    return {("lot", p["lot"]), ("incident", p["incident"])}


@on("ammo.evidence_recorded")
def _evidence(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    ev_lot = s.lots[p["lot"]]
    ev_lot.received += 1
    w = s.weapons[p["weapon"]]
    w.state = next_state(w, "record_evidence")
    touched: Touched = {("lot", ev_lot.id), ("weapon", w.id)}
    if w.load_count > 0 and w.load_lot is not None:
        src = s.lots[w.load_lot]
        src.to_evidence += 1
        touched.add(("lot", src.id))
        left = w.load_count - 1
        w.load = dict(w.load, count=left) if left else dict(EMPTY_LOAD)
    return touched


@on("ammo.rounds_destroyed")
def _destroyed(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    lot = s.lots[p["lot"]]
    lot.destroyed += p["count"]
    lot.verified_in_stock = min(lot.verified_in_stock, lot.on_hand)
    return {("lot", lot.id)}


@on("scene.planned")
def _scene(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("SC", p["scene"])
    s.scenes[p["scene"]] = Scene(
        id=p["scene"], day=p["day"], name=p["name"], hot=p["hot"], rehearsal=p["rehearsal"],
        weapons=list(p["weapons"]), performers=list(p["performers"]), pointing=p["pointing"],
        pointing_description=p["pointing_description"], overdue_minutes=p["overdue_minutes"],
        min_distance_m=p["min_distance_m"], shielded=p["shielded"])
    return {("scene", p["scene"])}


@on("scene.pointing_acknowledged")
def _pointing_ack(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.scenes[p["scene"]].pointing_acks[p["role"]] = p["person"]
    return {("scene", p["scene"])}


@on("meeting.held")
def _meeting(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("M", p["meeting"])
    s.meetings[p["meeting"]] = Meeting(id=p["meeting"], day=p["day"], scenes=list(p["scenes"]),
                                       attendees=list(p["attendees"]), led_by=p["led_by"])
    return {("meeting", p["meeting"])}


@on("incident.opened")
def _incident(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("INC", p["incident"])
    s.checkpoint_due = (ev.seq, f"incident {p['incident']} opened")
    s.incidents[p["incident"]] = Incident(
        id=p["incident"], kind=p["kind"], description=p["description"],
        weapons=list(p["weapons"]), lots=list(p["lots"]), reported_by=p["reported_by"],
        opened_at=ev.at)
    touched: Touched = {("incident", p["incident"]), STATE}
    for lot_id in p["lots"]:
        s.lots[lot_id].quarantined_by.append(p["incident"])
        touched.add(("lot", lot_id))
    return touched


@on("incident.closed")
def _incident_closed(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    inc = s.incidents[p["incident"]]
    inc.open, inc.corrective_action, inc.closed_at = False, p["corrective_action"], ev.at
    touched: Touched = {("incident", inc.id)}
    for lot_id in inc.lots:
        s.lots[lot_id].quarantined_by.remove(inc.id)
        touched.add(("lot", lot_id))
    return touched


@on("complaint.filed")
def _complaint(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("C", p["complaint"])
    s.complaints[p["complaint"]] = Complaint(id=p["complaint"], by=p["by"], text=p["text"],
                                             filed_at=ev.at)
    return {("complaint", p["complaint"])}


@on("complaint.received")
def _complaint_received(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("C", p["complaint"])
    s.complaints[p["complaint"]] = Complaint(id=p["complaint"], by="", text=p["text"],
                                             filed_at=ev.at)
    s.received[p["complaint"]] = {"name": p["name"], "role": p["role"], "via": p["via"],
                                  "device": p["device"]}
    return {("complaint", p["complaint"])}


@on("complaint.poster_issued")
def _poster_issued(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.poster = {"poster": p["poster"], "nonce": p["nonce"], "by": p["by"], "at": ev.at,
                "revoked_at": None}
    return set()


@on("complaint.poster_revoked")
def _poster_revoked(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    if s.poster is not None and s.poster["poster"] == p["poster"]:
        s.poster["revoked_at"] = ev.at
    return set()


@on("complaint.acknowledged")
def _complaint_ack(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    c = s.complaints[p["complaint"]]
    c.acknowledged_by, c.acknowledged_at, c.response = p["by"], ev.at, p["response"]
    return {("complaint", c.id)}


@on("rule.overridden")
def _override(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("O", p["override"])
    s.overrides[p["override"]] = Override(id=p["override"], rule=p["rule"],
                                          subject=p["subject"], reason=p["reason"],
                                          supervisor=p["supervisor"], day=p["day"], at=ev.at)
    return {("override", p["override"])}


# ---- where weapons come from and go back to (issue 16, part 3) ---------------

@on("vendor.added")
def _vendor(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("V", p["vendor"])
    s.vendors[p["vendor"]] = {"id": p["vendor"], "name": p["name"], "kind": p["kind"],
                              "contact": p["contact"], "seq": ev.seq}
    return set()


def _own(s: ProductionState, item: str, seq: int, **fields: Any) -> None:
    s.owners[item] = dict(fields, seq=seq, returned=None)


@on("inventory.owner_recorded")
def _owner(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    _own(s, p["item"], ev.seq, vendor=p["vendor"], agreement=p["agreement"],
         insurance=p["insurance"], due_back=p["due_back"], receipt=None)
    return set()


@on("receipt.opened")
def _receipt(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("RC", p["receipt"])
    s.receipts[p["receipt"]] = {
        "id": p["receipt"], "vendor": p["vendor"], "agreement": p["agreement"],
        "insurance": p["insurance"], "due_back": p["due_back"], "armorer": p["armorer"],
        "manifest": [dict(x) for x in p["manifest"]], "checked": [], "signed": None,
        "opened_at": ev.at, "seq": ev.seq}
    return set()


@on("receipt.item_checked")
def _item_checked(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    rc = s.receipts[p["receipt"]]
    rc["checked"].append({k: p[k] for k in (
        "line", "kind", "description", "serial", "count", "condition", "photo_sha256",
        "photo_ref", "difference", "weapon", "lot", "accessory", "armorer")} | {
        "seq": ev.seq, "at": ev.at})
    for kind in ("weapon", "lot", "accessory"):
        if p[kind] is not None:
            _own(s, f"{kind}:{p[kind]}", ev.seq, vendor=rc["vendor"],
                 agreement=rc["agreement"], insurance=rc["insurance"],
                 due_back=rc["due_back"], receipt=rc["id"])
    return set()


@on("receipt.signed")
def _receipt_signed(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.receipts[p["receipt"]]["signed"] = {"armorer": p["armorer"], "at": ev.at,
                                          "seq": ev.seq,
                                          "differences": list(p["differences"])}
    return set()


@on("accessory.added")
def _accessory(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("AC", p["accessory"])
    s.accessories[p["accessory"]] = {
        "id": p["accessory"], "weapon": p["weapon"], "description": p["description"],
        "count": p["count"], "serial": p["serial"], "state": "present"}
    return set()


@on("accessory.found")
def _accessory_found(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.accessories[p["accessory"]]["state"] = "present"
    return set()


@on("weapon.kit_issued")
def _kit_issued(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.kits_out[p["weapon"]] = list(p["accessories"])
    for a in p["accessories"]:
        s.accessories[a]["state"] = "out"
    return set()


@on("weapon.kit_returned")
def _kit_returned(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s.kits_out.pop(p["weapon"], None)
    for a in p["accessories"]:
        s.accessories[a]["state"] = "present"
    for a in p["missing"]:
        s.accessories[a]["state"] = "missing"
    return set()


@on("vendor.returned")
def _vendor_returned(s: ProductionState, ev: Event, p: dict[str, Any]) -> Touched:
    s._bump("VR", p["return"])
    s.vendor_returns[p["return"]] = {
        "id": p["return"], "vendor": p["vendor"], "weapons": list(p["weapons"]),
        "lots": dict(p["lots"]), "accessories": list(p["accessories"]),
        "conditions": dict(p["conditions"]), "rounds": dict(p["rounds"]),
        "incidents": list(p["incidents"]), "armorer": p["armorer"], "at": ev.at,
        "seq": ev.seq}
    touched: Touched = set()
    for kind, ids in (("weapon", p["weapons"]), ("lot", list(p["lots"])),
                      ("accessory", p["accessories"])):
        for ident in ids:
            o = s.owners.get(f"{kind}:{ident}")
            if o is None:  # pragma: no cover - the decision returns owned items only
                continue
            o["returned"] = p["return"]
    for ident in p["accessories"]:
        s.accessories[ident]["state"] = "returned"
    for ident in p["lots"]:
        lot = s.lots[ident]
        lot.storage = None  # the box left the production's storage
        touched.add(("lot", ident))
    return touched
