"""The read side the API serves from: one in-memory replay per production, kept
current by reading only the events appended since it was last read.

``services.queries.status`` and ``timeline`` replay the whole ledger on every
call, which is right for a CLI command and far too slow for a board that
thirty tablets poll. Here each request costs one indexed query (the
production's head); new events, whoever wrote them (this server, another
worker, the CLI), are read and applied incrementally. The board is rendered
with ``services.queries.board`` and cached as JSON bytes for the current head
and second; timelines use an index from every id an event mentions to its
seqs, then the exact matching rule of ``services.queries.timeline``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ..domain.errors import InvalidInput
from ..domain.events import Event
from ..domain.narrative import describe
from ..domain.state import ProductionState
from ..persistence import accounts as repo
from ..persistence.store import Store
from .queries import board, mentions


def event_json(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "type": e.type, "at": e.at, "actor": e.actor, "device": e.device,
            "payload": dict(e.payload)}


def _ids(e: Event) -> set[str]:
    """Every id-like string an event names (a superset of what a timeline asks):
    payload strings, the strings in its lists and objects, and the id of a
    ``kind:id`` subject."""
    found = {e.actor}
    for v in e.payload.values():
        if isinstance(v, str):
            found.add(v)
        elif isinstance(v, list):
            found.update(x for x in v if isinstance(x, str))
        elif isinstance(v, dict):
            found.update(x for x in v.values() if isinstance(x, str))
    return found | {x.partition(":")[2] for x in found if ":" in x}


@dataclass
class Replica:
    production: str
    state: ProductionState
    events: list[Event] = field(default_factory=list)
    index: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _board: tuple[int, int, int | None, tuple[Any, ...], bytes] | None = None
    _timelines: dict[tuple[str | None, ...], tuple[int, bytes]] = field(default_factory=dict)

    @property
    def seq(self) -> int:
        return len(self.events)

    def add(self, events: list[Event]) -> None:
        for e in events:
            if e.seq != len(self.events):  # another thread got here first
                continue
            self.state.apply(e)
            self.events.append(e)
            for ident in _ids(e):
                self.index.setdefault(ident, []).append(e.seq)

    # ---- the status board ----------------------------------------------------------
    def board_json(self, at: datetime, signed: int | None = None,
                   extra: list[dict[str, str]] | None = None) -> bytes:
        """The board of services.queries.board as JSON, cached per head, second
        (overdue alerts depend on the time), signed checkpoint size
        (``services.queries.signed_size``, read by the caller: it may query) and
        ``extra`` alerts read by the caller (``services.webhook.failing``)."""
        second = int(at.timestamp())
        more = tuple(tuple(sorted(a.items())) for a in extra or ())
        with self.lock:
            cached = self._board
            if cached is not None and cached[:4] == (self.seq, second, signed, more):
                return cached[4]
            data = board(self.state, at, signed=signed)
            data["alerts"] += [dict(a) for a in extra or ()]
            raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
            self._board = (self.seq, second, signed, more, raw)
            return raw

    # ---- timelines -----------------------------------------------------------------
    def timeline(self, *, weapon: str | None = None, lot: str | None = None,
                 person: str | None = None) -> list[dict[str, Any]]:
        """Exactly services.queries.timeline, from the index."""
        if not (weapon or lot or person):
            raise InvalidInput("INVALID_INPUT", "name a weapon, lot or person")
        with self.lock:
            st = self.state
            if weapon:
                st.weapon(weapon)
            if lot:
                st.lot(lot)
            if person:
                st.person(person)
            seqs: set[int] = set()
            for ident in (weapon, lot, person):
                if ident:
                    seqs.update(self.index.get(ident, ()))
            people = dict(st.people)
            events = [self.events[s] for s in sorted(seqs)]

        def names(ident: str | None) -> str:
            p = people.get(ident or "")
            return f"{p.name} ({p.id})" if p else str(ident)

        out = []
        for e in events:
            hit = ((weapon and mentions(e, "weapon", weapon))
                   or (lot and mentions(e, "lot", lot))
                   or (person and mentions(e, "person", person)))
            if hit:
                out.append({"seq": e.seq, "at": e.at, "type": e.type, "actor": e.actor,
                            "actor_name": people[e.actor].name if e.actor in people
                            else e.actor, "device": e.device, "payload": dict(e.payload),
                            "text": describe(e.type, e.payload, names)})
        return out

    def timeline_json(self, *, weapon: str | None = None, lot: str | None = None,
                      person: str | None = None) -> bytes:
        """:meth:`timeline` as JSON, cached until the next event."""
        key = (weapon, lot, person)
        hit = self._timelines.get(key)
        if hit is not None and hit[0] == self.seq:
            return hit[1]
        seq = self.seq
        data = json.dumps(self.timeline(weapon=weapon, lot=lot, person=person),
                          ensure_ascii=False).encode()
        if len(self._timelines) >= 1000:
            self._timelines.clear()
        self._timelines[key] = (seq, data)
        return data

    def since(self, after: int, limit: int) -> list[Event]:
        """Events with seq > after, at most ``limit`` of them."""
        with self.lock:
            return self.events[max(after + 1, 0): max(after + 1, 0) + limit]

    def person_roles(self, person: str) -> list[str]:
        with self.lock:
            p = self.state.people.get(person)
            return list(p.roles) if p else []

    def people(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"id": p.id, "name": p.name, "roles": list(p.roles), "badge": p.badge,
                     "department": p.department, "briefed": p.briefed,
                     "qualification_expires": p.qualification_expires, "pin_set": p.pin_set,
                     "pin_locked_until": p.pin_locked_until,
                     "role_conflicts": list(p.role_conflicts)}
                    for p in self.state.people.values()]


class ReadModel:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._replicas: dict[str, Replica] = {}
        self._guard = threading.Lock()

    def get(self, production: str, conn: Connection | None = None) -> Replica:
        """The production's replica, caught up with the stored head (read on
        ``conn`` if given, ending its read transaction)."""
        with self._guard:
            rep = self._replicas.get(production)
            if rep is None:
                rep = self._replicas[production] = Replica(production,
                                                           ProductionState(production))
        if conn is not None:
            try:
                head = repo.head(conn, production) or 0
            finally:
                conn.rollback()
        else:
            with self.store.engine.connect() as c:
                head = repo.head(c, production) or 0
        if head > rep.seq:
            start = rep.seq
            if conn is not None:
                try:
                    raw = repo.entries(conn, production, start, head)
                finally:
                    conn.rollback()
            else:
                with self.store.engine.connect() as c:
                    raw = repo.entries(c, production, start, head)
            new = [Event.from_entry(x) for x in raw]
            with rep.lock:
                rep.add(new)
        return rep

    def cached(self, production: str) -> Replica | None:
        """The replica as it is, without asking the database (for the stream)."""
        with self._guard:
            return self._replicas.get(production)
