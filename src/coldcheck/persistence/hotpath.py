"""The append path and the replay path, kept lean (see benchmarks/README.md).

An acknowledged append on SQLite costs one flush plus whatever runs around it;
on a disk that flushes in a few hundred microseconds, building and compiling
SQLAlchemy statements, re-reading stored hashes and deep-copying entities cost
more than the flush itself. The store (``store.py``) keeps SQLAlchemy for
everything else; here are the pieces it uses on the hot path:

* :class:`HotSql`: the statements, as plain SQL in the driver's paramstyle, run
  on the DBAPI cursor of the transaction's own connection (same transaction,
  same lock);
* :class:`Frontier`: the right edge of a production's Merkle tree, cached beside
  its state, so an append reads no stored hash back;
* :func:`projection_data`: an entity's projection row without ``asdict``;
* :func:`read_entry`: an entry parsed from text rather than bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.errors import ColdcheckError
from ..domain.events import Event
from ..domain.state import (
    ENTITY_TABLES,  # projection kind -> state attribute
    STATE_KIND,
    ProductionState,
)

__all__ = ["ENTITY_TABLES", "CursorHashes", "Frontier", "HashCache", "HotSql",
           "projection_data", "read_entry"]


def read_entry(entry: bytes) -> Event:
    """``Event.from_entry``, handing JSON text rather than bytes to ``json.loads``
    (which otherwise sniffs the encoding of every entry: 2.5x slower)."""
    return Event.from_entry(entry.decode("utf-8"))  # type: ignore[arg-type]


_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(obj: object) -> dict[str, Any]:
    names = _FIELDS.get(type(obj))
    if names is None:
        if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
        names = _FIELDS[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
    return {n: getattr(obj, n) for n in names}


_encode_entity = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                  allow_nan=False, default=_fields).encode


def projection_data(st: ProductionState, kind: str, ident: str) -> str:
    """The projection row of one entity: ``canonical(st.entity(kind, ident))``, the
    same text, without ``dataclasses.asdict``'s deep copy (half of a rebuild's
    time). The contract suite pins the equality on every entity of the demo.
    Kind ``state`` is the row of what is not an entity (``st.meta()``)."""
    if kind == STATE_KIND:
        return _encode_entity(st.meta())
    return _encode_entity(getattr(st, ENTITY_TABLES[kind])[ident])


_sha256 = hashlib.sha256
_BYTES = {bytes}
_HASH_SIZE = {32}


class HotSql:
    """The statements of the append path as plain SQL in the driver's paramstyle.

    They run on the DBAPI cursor of the transaction's own connection (same
    transaction, same lock): building and compiling them through SQLAlchemy on
    every append cost several times the commit itself (see benchmarks/README.md).
    """

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"
        self.sqlite = dialect == "sqlite"  # its driver returns int and bytes as stored
        self._hashes: dict[int, str] = {}
        lock = " FOR UPDATE" if self.pg else ""
        self.head = self.q(f"SELECT head FROM productions WHERE id = ?{lock}")  # noqa: S608
        self.head_now = self.q("SELECT head FROM productions WHERE id = ?")  # reads: no lock
        self.event = self.q("INSERT INTO events (production_id, seq, type, at, actor, device, "
                            "entry) VALUES (?, ?, ?, ?, ?, ?, ?)")
        self.hash = self.q("INSERT INTO ledger_hashes (production_id, idx, hash) "
                           "VALUES (?, ?, ?)")
        self.projection = self.q(
            "INSERT INTO projections (production_id, kind, entity_id, data, seq) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (production_id, kind, entity_id) "
            "DO UPDATE SET data = excluded.data, seq = excluded.seq")
        self.move = self.q("UPDATE productions SET head = ? WHERE id = ? AND head = ?")
        self.entries = self.q("SELECT entry FROM events WHERE production_id = ? AND seq >= ? "
                              "AND seq < ? ORDER BY seq")
        self.rows = self.q("SELECT kind, entity_id, data, seq FROM projections "
                           "WHERE production_id = ?")
        # A row already there can only be the same row (planted, or left by a file
        # rolled back to an older copy): ledger verify reports any that no event
        # gives; it must not stop the record from growing.
        self.index = self.q("INSERT INTO timeline_index (production_id, kind, subject_id, seq) "
                            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")

    def q(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def hashes(self, n: int) -> str:
        """The read of n stored hashes (made once per n). On SQLite, n point
        lookups joined by ``UNION ALL``, the production bound once as ``?1``:
        an ``IN`` list first builds and sorts a temporary index of its values,
        which costs more than the lookups save (benchmarks/README.md)."""
        sql = self._hashes.get(n)
        if sql is None:
            if self.sqlite and n <= 64:  # SQLite allows 500 terms; proofs ask at most ~80
                sql = " UNION ALL ".join(
                    f"SELECT idx, hash FROM ledger_hashes WHERE production_id = ?1 "  # noqa: S608
                    f"AND idx = ?{k}" for k in range(2, n + 2))
            else:  # placeholders only: values are bound by the driver
                marks = ", ".join("?" * n)
                sql = self.q(f"SELECT idx, hash FROM ledger_hashes "  # noqa: S608
                             f"WHERE production_id = ? AND idx IN ({marks})")
            self._hashes[n] = sql
        return sql


class HashCache:
    """Stored hashes of one production already read from the database.

    A stored hash never changes once its entry is committed (the table is
    append-only and ``ledger verify`` checks every one), so readers of committed
    data may keep what they read: the upper levels of the tree, which every
    proof and root needs, are then read once per process. Only hashes read from
    committed data go in (never in the append path, whose reads may be rolled
    back with the transaction).

    Bounded to about ``limit`` hashes, least recently used first out, in two
    generations: what is read or used goes in ``young``; when ``young`` holds
    half the limit it becomes ``old`` and the previous ``old`` is dropped; a
    hash found in ``old`` moves back to ``young``. The upper levels, used by
    every proof, so stay; the lower-level siblings of one random leaf, rarely
    asked for twice, are what goes. (Emptying the whole cache when full, as an
    earlier version did, threw the upper levels away with them: proofs then
    read them again from the database after every turn.)
    """

    __slots__ = ("half", "old", "young")

    def __init__(self, limit: int = 1 << 16) -> None:
        self.young: dict[int, bytes] = {}
        self.old: dict[int, bytes] = {}
        self.half = max(1, limit // 2)

    def get(self, indexes: Sequence[int]) -> tuple[list[bytes | None], list[int]]:
        """The cached hash for each index (None where absent), and the absent
        indexes in the order given."""
        young = self.young
        got: list[bytes | None] = list(map(young.get, indexes))
        if None not in got:
            return got, []
        old, missing = self.old, []
        for k, h in enumerate(got):
            if h is None:
                i = indexes[k]
                h = old.get(i)
                if h is None:
                    missing.append(i)
                else:
                    got[k] = young[i] = h
        self._turn()
        return got, missing

    def add(self, found: dict[int, bytes]) -> None:
        self.young.update(found)
        self._turn()

    def _turn(self) -> None:
        if len(self.young) >= self.half:
            # New dicts, never cleared ones: a reader holding the old pair still
            # finds what it found (assignment is atomic under the GIL).
            self.old, self.young = self.young, {}


class CursorHashes:
    """A ledger ``HashReader`` on a raw DBAPI cursor: one plain query per call in
    the driver's paramstyle, no SQLAlchemy statement building (a proof costs a
    few index lookups; compiling the statement cost more). Remembers what it
    read last (the compact range, when called by ``stored_hashes_batch``), and,
    given a :class:`HashCache`, asks the database only for what it lacks."""

    any_order = True  # asks the database for what it lacks as it comes: any order will do
    checked = True  # answers a new list of 32-byte bytes, checked as they were read

    def __init__(self, cur: Any, sql: HotSql, production: str,
                 cache: HashCache | None = None, *, remember: bool = False) -> None:
        self.cur, self.sql, self.production = cur, sql, production
        # The append path reads hashes inside a transaction that may roll back:
        # those must never reach the shared cache.
        self.cache = None if remember else cache
        self.remember = remember
        self.last: list[tuple[int, bytes]] = []

    def _query(self, wanted: Sequence[int]) -> dict[int, bytes]:
        """The stored hashes at ``wanted``, each checked to be a 32-byte value as it
        leaves the database: the cache and the proofs take them as they are."""
        self.cur.execute(self.sql.hashes(len(wanted)), (self.production, *wanted))
        if self.sql.sqlite:
            found = dict(self.cur.fetchall())
        else:
            found = {int(i): bytes(h) for i, h in self.cur.fetchall()}
        values = found.values()
        if not (set(map(type, values)) <= _BYTES and set(map(len, values)) <= _HASH_SIZE):
            bad = next(i for i, h in found.items() if type(h) is not bytes or len(h) != 32)
            raise ColdcheckError("LEDGER_CORRUPT", f"stored ledger hash {bad} is not 32 bytes")
        return found

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        if not indexes:
            return []
        cache = self.cache
        if cache is None:
            found = self._query(indexes)
            got: list[bytes | None] = list(map(found.get, indexes))
        else:
            got, missing = cache.get(indexes)
            if not missing:
                return got  # type: ignore[return-value]  # no None left
            found = self._query(missing)
            cache.add(found)
            for k, h in enumerate(got):
                if h is None:
                    got[k] = found.get(indexes[k])
        if None in got:
            lost = next(i for i, h in zip(indexes, got, strict=True) if h is None)
            raise ColdcheckError("LEDGER_CORRUPT", f"stored ledger hash {lost} is missing")
        out: list[bytes] = got  # type: ignore[assignment]  # checked: no None
        if self.remember:
            self.last = list(zip(indexes, out, strict=True))
        return out


@dataclass(frozen=True)
class Frontier:
    """The right edge of a production's tree: (stored index, hash) of the perfect
    subtrees that tile entries ``[0, size)``, left to right. These are exactly the
    stored hashes the next append reads, so the store keeps them beside the
    cached state and an append reads no hash back from the database."""

    size: int
    nodes: tuple[tuple[int, bytes], ...]

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        found = dict(self.nodes)
        return [found[i] for i in indexes]

    def push(self, leaf: bytes) -> tuple[int, list[bytes], Frontier]:
        """Append one entry with leaf hash ``leaf``: return the stored index of its
        first hash, the hashes it stores (its leaf, then one per subtree it
        completes) and the new frontier. The same hashes as
        ``stored_hashes_for_record`` (a contract test compares them), computed
        from the frontier alone: the single-event append is the hot path."""
        n, nodes = self.size, self.nodes
        base = 2 * n - n.bit_count()  # stored_hash_index(0, n)
        merges = ((n + 1) & -(n + 1)).bit_length() - 1  # trailing 1 bits of n
        h, out = leaf, [leaf]
        for i in range(len(nodes) - 1, len(nodes) - 1 - merges, -1):
            h = _sha256(b"\x01" + nodes[i][1] + h).digest()
            out.append(h)
        kept = nodes[:len(nodes) - merges] if merges else nodes
        return base, out, Frontier(n + 1, (*kept, (base + merges, h)))

    def advanced(self, base: int, hashes: Sequence[bytes], count: int) -> Frontier:
        """The frontier after appending ``count`` entries whose stored hashes
        (``hashes``, in storage order) start at index ``base``. Entry n stores its
        leaf hash then one hash per trailing 1 bit of n, each merging the
        rightmost subtree; the last of them replaces the subtrees it merged."""
        nodes, pos, n = list(self.nodes), 0, self.size
        for _ in range(count):
            merges = ((n + 1) & -(n + 1)).bit_length() - 1
            if merges:
                del nodes[-merges:]
            pos += merges
            nodes.append((base + pos, hashes[pos]))
            pos, n = pos + 1, n + 1
        if pos != len(hashes):
            raise ColdcheckError("LEDGER_CORRUPT", "stored hash count does not match")
        return Frontier(n, tuple(nodes))
