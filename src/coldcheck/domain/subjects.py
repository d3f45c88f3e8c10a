"""What an event is about: every (kind, id) it names, for the timeline index.

The store writes one index row per pair in the same transaction as the event
(``persistence.tables.timeline_index``); a timeline is then a range read of
that index plus the events it names. ``services.queries.mentions`` states the
same matching rule event by event (the full scan), and a property test holds
the two equal. ``ledger verify`` recomputes the index from the events.

An event names:

* ``person``: its actor, and every top-level payload value that is a person id
  (``armorer``, ``performer``, ``witness``, ``by`` …);
* ``weapon``, ``lot``, ``scene``, ``day``, ``incident``: the payload field of
  that name; the ids in ``weapons``, ``lots``, ``scenes`` (a list of ids, or an
  object keyed by id, as ``day.wrapped`` gives every weapon's state and every
  lot's balance); the lot of a ``load`` or ``unloaded`` object;
* whatever ``subject`` and each of ``subjects`` name as ``kind:id`` (a refused
  attempt and every subject its violations name; an override's subject), of
  any kind (``inspection:IN3``, ``serial:COLT-1``, ``supplier_lot:X-7`` …).
"""

from __future__ import annotations

import re

from .events import Event

__all__ = ["FIELDS", "LISTS", "PERSON_ID", "subjects"]

PERSON_ID = re.compile(r"P[0-9]+")
FIELDS = ("weapon", "lot", "scene", "day", "incident")
LISTS = (("weapon", "weapons"), ("lot", "lots"), ("scene", "scenes"))
_ROUNDS = ("load", "unloaded")
_match = PERSON_ID.fullmatch


def subjects(e: Event) -> set[tuple[str, str]]:
    """Every (kind, id) event ``e`` names (see the module docstring)."""
    p = e.payload
    out = {("person", e.actor)}
    for v in p.values():
        if v.__class__ is str and _match(v):
            out.add(("person", v))
    for kind in FIELDS:
        v = p.get(kind)
        if isinstance(v, str):
            out.add((kind, v))
    for kind, name in LISTS:
        v = p.get(name)
        if isinstance(v, list | dict):  # a list of ids, or an object keyed by id
            out.update((kind, x) for x in v if isinstance(x, str))
    for name in _ROUNDS:
        v = p.get(name)
        if isinstance(v, dict):
            lot = v.get("lot")
            if isinstance(lot, str):
                out.add(("lot", lot))
    named = p.get("subjects")
    for s in [p.get("subject"), *(named if isinstance(named, list) else ())]:
        if isinstance(s, str):
            kind, sep, ident = s.partition(":")
            if sep and kind and ident:
                out.add((kind, ident))
    return out
