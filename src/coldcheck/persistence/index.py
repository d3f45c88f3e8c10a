"""The timeline index (``tables.timeline_index``): its rows for an event, and
filling it from the events already recorded (migration 0007, a restore from a
backup older than it, ``Store.rebuild``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..domain.events import Event
from ..domain.subjects import subjects

__all__ = ["INSERT", "fill", "rows"]

INSERT = "INSERT INTO timeline_index (production_id, kind, subject_id, seq) VALUES (?, ?, ?, ?)"


def rows(events: Iterable[Event]) -> Iterator[tuple[str, str, str, int]]:
    """The index rows of ``events``: (production, kind, id, seq)."""
    for e in events:
        prod, seq = e.production, e.seq
        for kind, ident in subjects(e):
            yield prod, kind, ident, seq


def _named(entry: bytes) -> set[tuple[str, str]]:
    """What a stored entry names; nothing if it cannot be read (``ledger verify``
    reports such an entry; an index is no place to fail over it)."""
    try:
        return subjects(Event.from_entry(entry.decode("utf-8")))  # type: ignore[arg-type]
    except (ValueError, KeyError, TypeError, AttributeError):
        return set()


def _mark(sql: str, dialect: str) -> str:
    return sql.replace("?", "%s") if dialect == "postgresql" else sql


def fill(cur: Any, dialect: str, production: str | None = None, *, chunk: int = 4096) -> int:
    """Write the index rows of every stored event (of ``production``, or of every
    production) on the DBAPI cursor ``cur``, inside its transaction; the rows
    must not be there yet. Reads the events a range of seqs at a time (memory
    stays flat on either driver); changes none. Returns the rows written."""
    if production is None:
        cur.execute("SELECT id FROM productions ORDER BY id")
        productions = [str(r[0]) for r in cur.fetchall()]
    else:
        productions = [production]
    read = _mark("SELECT seq, entry FROM events WHERE production_id = ? AND seq >= ? AND seq < ? "
                 "ORDER BY seq", dialect)
    insert, n = _mark(INSERT, dialect), 0
    top = _mark("SELECT coalesce(max(seq), -1) FROM events WHERE production_id = ?", dialect)
    for prod in productions:
        cur.execute(top, (prod,))
        last = int(cur.fetchone()[0])
        for start in range(0, last + 1, chunk):
            cur.execute(read, (prod, start, start + chunk))
            batch = cur.fetchall()
            out = [(prod, kind, ident, int(seq)) for seq, entry in batch
                   for kind, ident in _named(bytes(entry))]
            if out:
                cur.executemany(insert, out)
                n += len(out)
    return n
