"""Full verification of a production's ledger (``coldcheck ledger verify``).

Everything is recomputed from the stored entries, in one read transaction (a
consistent snapshot), streaming the events in sequence order in chunks:

1. **Entries.** Rows are numbered 0, 1, 2 … with no gap or extra row; each
   entry's JSON names its own row's sequence number and production; the row's
   ``type``/``at``/``actor``/``device`` columns say what the entry says.
2. **Tree.** Every leaf hash is recomputed from the entry bytes and the whole
   stored-hash array (Go ``tlog`` layout, :func:`coldcheck.ledger.build_stored_hashes`)
   is rebuilt and compared with the ``ledger_hashes`` rows; ``productions.head``
   must count the entries.
3. **Checkpoints.** Every stored checkpoint, and every checkpoint the caller
   holds (the printed one), must carry a valid signature by the *trusted* key,
   name this ledger's origin, and sign the root recomputed at its size. A
   validly signed checkpoint larger than the ledger proves truncation.
4. **Projections.** The events are replayed (:meth:`ProductionState.apply`)
   and every derived entity must equal its stored projection row byte for byte.
5. **Timeline index.** What each event names (:func:`coldcheck.domain.subjects.subjects`)
   must be exactly the rows of ``timeline_index``: none missing, none extra.

The trusted key is, in order: the key passed by the caller (what an outside
party holds), the key derived from the production's key file, the key stored
in the database. Every other source that is available must agree with it, and
so must the key id recorded in entry 0 (``production.created``).

Failures carry a stable code (:data:`LEDGER_ERROR_CODES`) and, where one can be
named, the entry (sequence number) that differs. The report lists every failure
found; consequences of an earlier failure (all later leaf hashes after a missing
row, the ancestors of an altered leaf) are counted, not listed.

Speed: the entry checks compare each entry with the canonical prefix and suffix
rebuilt from its row's columns instead of parsing it, and an event's payload is
parsed only if replaying it needs it (events such as ``note.added`` change no
state). Leaf and node hashes are computed in one pass and compared with the
stored hashes a chunk at a time as one byte string.
"""

from __future__ import annotations

import base64
import bisect
import dataclasses
import gc
import hashlib
import json
import sqlite3
import time
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection

from ..domain.errors import ColdcheckError, InvalidInput
from ..domain.events import Event, canonical
from ..domain.state import STATE, ProductionState
from ..domain.subjects import subjects
from ..ledger import (
    EMPTY_TREE_HASH,
    HASH_SIZE,
    Checkpoint,
    NoteError,
    Verifier,
    load_signer,
    node_hash,
    open_checkpoint,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
)
from ..persistence import schema
from .context import Context
from .ledger import (
    held_checkpoint_path,
    key_path,
    note_checkpoint,
    open_sealed,
    read_held,
    sealed_key,
)

__all__ = [
    "LEDGER_ERROR_CODES",
    "CheckpointResult",
    "Failure",
    "Progress",
    "VerifyReport",
    "verify_ledger",
]

# The one place these codes are defined. Never rename one: they are part of the
# product's interface (CLI output, --json, exit code 5).
LEDGER_ERROR_CODES: dict[str, str] = {
    "LEDGER_ENTRY_MISSING":
        "A sequence number has no entry: a row was deleted from the ledger.",
    "LEDGER_ENTRY_UNEXPECTED":
        "A row that was never appended through the ledger: a duplicate or out-of-range "
        "sequence number, or an entry without stored hashes.",
    "LEDGER_ENTRY_REORDERED":
        "A row holds the entry of another sequence number or production: rows were "
        "swapped or moved.",
    "LEDGER_ENTRY_ALTERED":
        "An entry's bytes differ from the bytes hashed into the ledger when it was "
        "appended (or are not canonical JSON).",
    "LEDGER_TRUNCATED":
        "A validly signed checkpoint covers more entries than the ledger holds: "
        "entries were removed from its end.",
    "LEDGER_ROW_MISMATCH":
        "An event row's type, at, actor or device column disagrees with its entry.",
    "LEDGER_HASH_MISMATCH":
        "A stored subtree hash differs from the hash recomputed from intact entries, "
        "or stored hashes are missing or extra.",
    "LEDGER_HEAD_MISMATCH":
        "The production's head does not count the entries in the ledger.",
    "LEDGER_KEY_MISMATCH":
        "The production's verifier key differs from the trusted key (key file, sealed "
        "key, --key) or from the key id recorded in entry 0, or its sealed key was "
        "altered or removed.",
    "LEDGER_KEY_UNTRUSTED":
        "No key the verification can trust (no --key, no held checkpoint, no key file, no "
        "sealed key opened here): the verifier key stored in the database proves nothing "
        "on its own.",
    "LEDGER_CHECKPOINT_MISMATCH":
        "A validly signed checkpoint's root differs from the root recomputed from the "
        "entries at its size.",
    "LEDGER_CHECKPOINT_INVALID":
        "A checkpoint is not signed by the trusted key, is malformed, names another "
        "ledger, or its row disagrees with the signed note.",
    "LEDGER_CHECKPOINT_MISSING":
        "The ledger has no checkpoint at all (one is signed when a production is created).",
    "LEDGER_SCHEMA_ALTERED":
        "The database holds triggers or views coldcheck's migrations do not create, or "
        "lacks its append-only triggers: SQL that would run inside coldcheck's own writes.",
    "LEDGER_PRODUCTION_MISMATCH":
        "The production's row (id, origin) disagrees with the ledger's first entry.",
    "LEDGER_REPLAY_FAILED":
        "An event whose bytes verify could not be replayed to derive the projections.",
    "LEDGER_PROJECTION_MISMATCH":
        "A stored projection row differs from the state re-derived by replaying the events.",
    "LEDGER_INDEX_MISMATCH":
        "The timeline index lacks a row for something an event names, or holds a row no "
        "event gives: a timeline would leave out or invent events.",
    "LEDGER_CREDENTIAL_MISMATCH":
        "A stored PIN hash, password hash, account link, device key or alert webhook "
        "secret is not the one the record committed (its fingerprint differs, or the record "
        "never set it): someone with the database file changed who can sign, witness or "
        "write, or what signs the production's alerts.",
}

# Order of precedence between failures that name the same entry: the most
# fundamental explanation comes first.
_PRIORITY = {code: i for i, code in enumerate(LEDGER_ERROR_CODES)}
_PROJECTION_CODES = frozenset({"LEDGER_REPLAY_FAILED", "LEDGER_PROJECTION_MISMATCH",
                               "LEDGER_INDEX_MISMATCH"})
_LISTED_PER_CODE = 50  # failures listed per code; the rest are counted

CHUNK = 16384  # entries per read; memory stays flat whatever the ledger's size

Progress = Callable[[int, int], None]
"""Called as ``progress(entries_done, entries_total)`` after each chunk."""


# ----------------------------------------------------------------------- report


@dataclass
class Failure:
    """One thing that does not verify."""

    code: str
    message: str
    entry: int | None = None  # sequence number of the first entry concerned, if any
    subject: str = ""  # what else it is about: "checkpoint 94", "weapon:W1", "stored hash 12"
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """``CODE: entry N: message`` (the entry part only when there is one)."""
        where = f"entry {self.entry}: " if self.entry is not None else ""
        return f"{self.code}: {where}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message,
                               "entry": self.entry}
        if self.subject:
            out["subject"] = self.subject
        if self.details:
            out["details"] = self.details
        return out


@dataclass
class CheckpointResult:
    """The verdict on one checkpoint (stored, or held by the caller)."""

    source: str  # "stored" or the label the caller gave
    size: int | None  # the signed size, None when the note could not be opened
    ok: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "size": self.size, "ok": self.ok,
                "reason": self.reason}


@dataclass
class VerifyReport:
    production: str
    origin: str = ""
    entries: int = 0  # rows read, in sequence order
    head: int = 0  # productions.head
    stored_hashes: int = 0  # ledger_hashes rows
    root: bytes = EMPTY_TREE_HASH  # recomputed root over all entries
    trusted_key: str = ""
    key_source: str = ""  # "given" | "sealed key" | "key file" | "database"
    checkpoints: list[CheckpointResult] = field(default_factory=list)
    verified_size: int = 0  # largest size vouched for by a valid checkpoint
    projections: int | None = None  # rows compared; None when not compared
    index_rows: int | None = None  # timeline index rows compared; None when not compared
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    consequences: int = 0  # mismatches explained by a listed failure, not listed
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: setup, read_entries, read_hashes, entries (row checks),
    replay, merkle (leaf and node hashes, comparison, roots), checkpoints,
    projections, total."""

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def first(self) -> Failure | None:
        return self.failures[0] if self.failures else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "production": self.production, "origin": self.origin,
            "entries": self.entries, "head": self.head, "stored_hashes": self.stored_hashes,
            "root_hash": base64.b64encode(self.root).decode(),
            "trusted_key": self.trusted_key, "key_source": self.key_source,
            "verified_size": self.verified_size,
            "checkpoints": [c.to_dict() for c in self.checkpoints],
            "projections": self.projections,
            "index_rows": self.index_rows,
            "first": self.first.to_dict() if self.first else None,
            "failures": [f.to_dict() for f in self.failures],
            "consequences": self.consequences,
            "warnings": list(self.warnings),
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
        }


# --------------------------------------------------------------------- helpers


def _b64(h: object) -> str:
    if isinstance(h, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(h)).decode()
    return repr(h)


def _stored_hashes(stack: list[bytes], start: int, entries: Sequence[bytes]) -> list[bytes]:
    """Stored hashes of records ``start, start+1, …`` computed from their entries.

    The same array as ``build_stored_hashes(leaf_hashes(entries))`` continued from
    a tree of ``start`` records, whose compact range (perfect subtree hashes,
    leftmost first) is ``stack``; ``stack`` is updated in place. Leaf and node
    hashes in one pass, two records at a time: this loop is the Merkle part of
    verification, and the pairing saves a fifth of it.
    """
    out: list[bytes] = []
    append = out.append
    extend = out.extend
    push = stack.append
    pop = stack.pop
    sha = hashlib.sha256
    n = start
    it = iter(entries)
    if n & 1:  # an odd first record completes subtrees on its own
        for e in it:
            h = sha(b"\x00" + e).digest()
            append(h)
            m = n
            while m & 1:
                h = sha(b"\x01" + pop() + h).digest()
                append(h)
                m >>= 1
            push(h)
            n += 1
            break
    for e0, e1 in zip(it, it, strict=False):
        # Records n (even) and n+1: two leaves and their parent, then one more
        # merge per trailing 1 bit of n/2 (record n+1 completes those subtrees).
        h0 = sha(b"\x00" + e0).digest()
        h1 = sha(b"\x00" + e1).digest()
        h = sha(b"\x01" + h0 + h1).digest()
        extend((h0, h1, h))
        m = n >> 1
        while m & 1:
            h = sha(b"\x01" + pop() + h).digest()
            append(h)
            m >>= 1
        push(h)
        n += 2
    if (n - start) != len(entries):  # one record left over; n is even: no merges
        h = sha(b"\x00" + entries[-1]).digest()
        append(h)
        push(h)
    return out


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | memoryview) and len(value) == HASH_SIZE


def _root(stack: list[bytes]) -> bytes:
    """RFC 9162 root of a tree from its compact range (largest subtree first)."""
    if not stack:
        return EMPTY_TREE_HASH
    h = stack[-1]
    for left in reversed(stack[:-1]):
        h = node_hash(left, h)
    return h


def _records_of(stored: int) -> int | None:
    """Number of records whose stored hashes are exactly ``stored`` hashes, or None."""
    if stored <= 0:
        return 0 if stored == 0 else None
    level, n = split_stored_hash_index(stored - 1)
    records = (n + 1) << level
    return records if stored_hash_count(records) == stored else None


class _BadPayload(Exception):
    """An entry's payload cannot be read."""


class _Payload(Mapping[str, Any]):
    """The payload of a verified entry, parsed only when first read.

    ``ProductionState.apply`` reads the payload only for event types that change
    state, so most events of a long ledger are never parsed during replay. When
    it is read, the whole entry is parsed as ``Event.from_entry`` does.
    """

    __slots__ = ("_entry", "_value")

    def __init__(self, entry: bytes) -> None:
        self._entry = entry
        self._value: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        v = self._value
        if v is None:
            try:
                v = json.loads(self._entry.decode())["payload"]  # text: no encoding sniff
            except (ValueError, TypeError, KeyError) as err:
                raise _BadPayload(f"its payload cannot be read ({err})") from None
            if not isinstance(v, dict):
                raise _BadPayload("its payload is not a JSON object")
            self._value = v
        return v

    def __getitem__(self, key: str) -> Any:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


_EVENT_FIELDS = ("production", "seq", "type", "at", "actor", "device", "payload")
_new = object.__new__
_set = object.__setattr__


def _plain_event_init() -> bool:
    """Whether an Event is nothing but its seven fields in an instance dict, so
    that :func:`_event` builds the same object as ``Event(...)``."""
    return (tuple(f.name for f in dataclasses.fields(Event)) == _EVENT_FIELDS
            and not hasattr(Event, "__post_init__") and not hasattr(Event, "__slots__"))


_FAST_EVENT = _plain_event_init()


def _event(production: str, seq: int, type_: str, at: str, actor: str, device: str,
           payload: Mapping[str, Any]) -> Event:
    """``Event(...)`` for replay, without the frozen dataclass's per-field
    ``object.__setattr__`` calls (a third of the cost of verifying an entry).
    Equal to ``Event(...)`` in every respect; falls back to it if Event changes."""
    if not _FAST_EVENT:  # pragma: no cover - Event grew fields or a __post_init__
        return Event(production, seq, type_, at, actor, device, payload)
    ev: Event = _new(Event)
    _set(ev, "__dict__", {"production": production, "seq": seq, "type": type_, "at": at,
                          "actor": actor, "device": device, "payload": payload})
    return ev


class _Sql:
    """Plain SQL on the DBAPI cursor of the verification transaction.

    Millions of rows go through here: SQLAlchemy's per-row work would cost more
    than the hashing, so the statements are written once in the driver's
    paramstyle and run on the transaction's own connection (same snapshot).
    """

    def __init__(self, conn: Connection, production: str) -> None:
        dialect = conn.dialect
        style = dialect.paramstyle
        if style not in ("qmark", "format", "pyformat"):  # pragma: no cover
            raise NotImplementedError(f"ledger verify does not support paramstyle {style}")
        self.mark = "?" if style == "qmark" else "%s"
        self.dialect = dialect.name
        self.production = production
        self.conn = conn
        self.cur = conn.connection.cursor()

    def _q(self, sql: str) -> str:
        return sql if self.mark == "?" else sql.replace("?", self.mark)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        self.cur.execute(self._q(sql), (self.production, *params))
        return [tuple(r) for r in self.cur.fetchall()]

    def one(self, sql: str, *params: Any) -> Any:
        self.cur.execute(self._q(sql), (self.production, *params))
        row = self.cur.fetchone()
        return None if row is None else row[0]

    def events(self, after: Any, limit: int) -> list[Any]:
        self.cur.execute(self._q(
            "SELECT seq, type, at, actor, device, entry FROM events "
            "WHERE production_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
            (self.production, after, limit))
        return list(self.cur.fetchall())

    def hash_blob(self, lo: int, hi: int) -> bytes | None:
        """Stored hashes ``lo <= idx < hi`` concatenated in index order (one value
        instead of one row per hash). Values that are not 32-byte blobs are left
        out, so a row of the wrong type or length cannot hide in the concatenation.
        A wrong answer can only cause a mismatch, which is then examined row by
        row; never a false pass."""
        if self.dialect == "sqlite":
            sql = ("SELECT CAST(group_concat(h, '') AS BLOB) FROM (SELECT CASE WHEN "
                   "typeof(hash) = 'blob' AND length(hash) = 32 THEN hash END AS h FROM "
                   "ledger_hashes WHERE production_id = ? AND idx >= ? AND idx < ? "
                   "ORDER BY idx)")
        elif self.dialect == "postgresql":
            sql = ("SELECT string_agg(CASE WHEN length(hash) = 32 THEN hash END, ''::bytea "
                   "ORDER BY idx) FROM ledger_hashes WHERE production_id = ? AND idx >= ? "
                   "AND idx < ?")
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            return b"".join(bytes(h) for _, h in self.hash_rows(lo, hi))
        v = self.one(sql, lo, hi)
        return None if v is None else bytes(v)

    def hash_rows(self, lo: int, hi: int) -> list[tuple[Any, Any]]:
        return [(r[0], r[1]) for r in self.rows(
            "SELECT idx, hash FROM ledger_hashes WHERE production_id = ? AND idx >= ? "
            "AND idx < ? ORDER BY idx", lo, hi)]

    def hashes_at(self, indexes: Sequence[int]) -> dict[int, Any]:
        if not indexes:
            return {}
        marks = ", ".join("?" * len(indexes))
        return {int(i): h for i, h in self.rows(
            f"SELECT idx, hash FROM ledger_hashes WHERE production_id = ? "  # noqa: S608
            f"AND idx IN ({marks})", *indexes)}


def _json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _first_difference(stored: str, derived: str) -> str:
    """Describe the first field that differs between two canonical JSON objects."""
    try:
        a, b = json.loads(stored), json.loads(derived)
    except ValueError:
        return "the stored row is not valid JSON"
    if not isinstance(a, dict) or not isinstance(b, dict):
        return "the stored row is not a JSON object"
    for k in sorted(set(a) | set(b)):
        if k not in a:
            return f"field {k!r} is missing from the stored row"
        if k not in b:
            return f"the stored row has an extra field {k!r}"
        if a[k] != b[k]:
            return (f"field {k!r} is {_json_text(a[k])[:80]} in the stored row but "
                    f"{_json_text(b[k])[:80]} from the events")
    return "the stored row is not in canonical form"


# ---------------------------------------------------------------------- verify


def verify_ledger(ctx: Context, *, progress: Progress | None = None,
                  trusted_key: str | None = None,
                  checkpoints: Sequence[tuple[str, str]] = (),
                  trust_database_key: bool = False,
                  use_kept: bool = True,
                  chunk_size: int = CHUNK) -> VerifyReport:
    """Verify the ledger of ``ctx.production`` as described in the module docstring.

    ``trusted_key`` is a verifier key line held by the caller (``<name>+<id>+<key>``);
    ``checkpoints`` are ``(label, signed note)`` pairs held by the caller (the
    printed checkpoint). With neither, nor a key file or a sealed key this server
    opens, the only key is the one the database names, which whoever rewrote the
    database rewrote too: that fails (LEDGER_KEY_UNTRUSTED) unless
    ``trust_database_key``, which makes it a warning. Raises
    :class:`coldcheck.domain.errors.InvalidInput` for a malformed ``trusted_key``;
    everything about the ledger itself is reported, not raised. ``use_kept``
    (default) also checks the ledger against the last checkpoint this server
    signed, kept beside the key; a backup's copy, which the live ledger may
    already have outgrown, is checked without it.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    trusted = None
    if trusted_key is not None:
        try:
            trusted = Verifier.from_key(trusted_key.strip())
        except NoteError as err:
            raise InvalidInput("INVALID_INPUT", f"--key is not a verifier key: {err}") from None
    # The last checkpoint this server signed, kept beside the key where a rewrite
    # of the database cannot reach it, is a checkpoint held outside it too.
    kept: list[tuple[str, str]] = []
    unreadable = ""
    if use_kept:
        path = held_checkpoint_path(ctx.settings, ctx.production)
        try:
            note = read_held(path)
        except ColdcheckError as e:
            unreadable = e.message
        else:
            if note is not None:
                kept = [(str(path), note)]
    store = ctx.store
    with _fewer_collections(), store.engine.connect() as conn:
        if store.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ",
                                          postgresql_readonly=True)
        with conn.begin():
            run = _Run(ctx, _Sql(conn, ctx.production), trusted, checkpoints, chunk_size,
                       progress, kept=kept, trust_database_key=trust_database_key)
            if unreadable:
                run.report.warnings.append(unreadable)
            return run.execute()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while verifying.

    Verification allocates a dozen short-lived objects per entry, none of them
    in reference cycles (reference counting frees them). With the default
    thresholds the collector would also run full collections over every object
    of the process dozens of times per million entries, which cost more than
    the hashing. The previous thresholds are restored afterwards.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 50_000), max(before[1], 20), max(before[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*before)


class _Run:
    """One verification: the state carried across chunks."""

    def __init__(self, ctx: Context, sql: _Sql, given: Verifier | None,
                 held: Sequence[tuple[str, str]], chunk: int,
                 progress: Progress | None, *, kept: Sequence[tuple[str, str]] = (),
                 trust_database_key: bool = False) -> None:
        self.ctx, self.sql, self.given, self.held = ctx, sql, given, held
        self.kept = kept  # the server's last signed checkpoint, kept beside the key
        self.trust_database_key = trust_database_key
        self.chunk, self.progress = chunk, progress
        self.production = ctx.production
        self.report = VerifyReport(ctx.production)
        self._by_key: dict[tuple[str, int | None, str], Failure] = {}
        self._per_code: dict[str, int] = {}
        # entry checks
        self.expected = 0  # next sequence number
        self.shift_at: int | None = None  # first missing/extra row: later hashes shift
        self.missing = 0  # sequence numbers without a row
        self.rows_read = 0
        self.flagged: set[int] = set()  # entries already explained by an entry failure
        self.replaying = True
        self.replay_stop = ""
        self.entry0: dict[str, Any] | None = None
        # tree
        self.leaf_bad: list[int] = []  # entries whose leaf hash differs (sorted)
        self.pending: list[tuple[int, bytes, Any]] = []  # (entry, recomputed, stored)
        # timeline index: (kind, id) -> the seqs of the events naming it, in order
        self.index: dict[tuple[str, str], array[int]] = {}

    # ---- failures --------------------------------------------------------
    def fail(self, code: str, message: str, entry: int | None = None, subject: str = "",
             **details: Any) -> None:
        assert code in LEDGER_ERROR_CODES, code
        key = (code, entry, subject)
        if key in self._by_key:
            self._by_key[key].details.update(details)
            return
        count = self._per_code.get(code, 0) + 1
        self._per_code[code] = count
        if count > _LISTED_PER_CODE:
            self.report.consequences += 1
            return
        f = Failure(code, message, entry, subject, dict(details))
        self._by_key[key] = f
        self.report.failures.append(f)

    def stop_replay(self, why: str) -> None:
        if self.replaying:
            self.replaying = False
            self.replay_stop = why

    # ---- the run -----------------------------------------------------------
    def execute(self) -> VerifyReport:
        rep, sql = self.report, self.sql
        t0 = time.perf_counter()
        row = sql.rows("SELECT id, origin, key_name, verifier_key, head FROM productions "
                       "WHERE id = ?")
        if not row:
            raise InvalidInput("NOT_FOUND", f"no production {self.production!r}")
        _, origin, key_name, db_key, head = row[0]
        rep.origin, rep.head = str(origin), int(head)
        trusted = self._trusted_key(str(key_name), str(db_key))
        notes = self._open_checkpoints(trusted)
        sizes = sorted({cp.size for _, _, cp, _ in notes if cp is not None})
        rep.timings["setup"] = time.perf_counter() - t0
        state, touched = self._stream(sizes, rep.head)
        t1 = time.perf_counter()
        self._finish_tree()
        self._check_checkpoints(notes)
        self._check_entry0(trusted)
        self._check_schema()
        rep.timings["checkpoints"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        if self.replaying:
            self._check_projections(state, touched)
            self._check_index()
            self._check_credentials(state)
        else:
            rep.warnings.append(f"projections were not compared: {self.replay_stop}")
            rep.warnings.append(f"the timeline index was not compared: {self.replay_stop}")
        rep.timings["projections"] = time.perf_counter() - t2
        rep.timings["total"] = time.perf_counter() - t0
        self._order()
        return rep

    def _order(self) -> None:
        inf = float("inf")

        def key(f: Failure) -> tuple[int, float, int]:
            group = 1 if f.code in _PROJECTION_CODES else 0
            return (group, inf if f.entry is None else f.entry, _PRIORITY[f.code])

        self.report.failures.sort(key=key)

    # ---- keys ------------------------------------------------------------
    def _trusted_key(self, key_name: str, db_key: str) -> Verifier | None:
        rep = self.report
        sources: list[tuple[str, Verifier]] = []
        if self.given is not None:
            sources.append(("given", self.given))
        path = key_path(self.ctx.settings.resolved_key_dir(), self.production)
        sealed = sealed_key(self.ctx)
        unchecked = ""  # why a sealed key could not be checked here
        if sealed is not None:  # kept in the database, sealed with the master key
            try:
                sources.append(("sealed key",
                                open_sealed(self.ctx, sealed, key_name).verifier()))
            except ColdcheckError as err:
                if err.code == "KEY_MISSING" or err.details.get("other_master"):
                    # No master key here, or (so the row says) another one.
                    unchecked = f"{err.code}: {err.message}"
                    rep.warnings.append(f"the signing key sealed in the database could not "
                                        f"be checked here ({unchecked})")
                else:  # this master key sealed it, and it no longer opens
                    self.fail("LEDGER_KEY_MISMATCH", err.message, subject="sealed key")
        if path.exists():
            try:
                sources.append(("key file", load_signer(path, key_name).verifier()))
            except (OSError, ValueError) as err:
                # A key file that is there and will not load (or not under the key
                # name the database gives) is no reason to trust the database.
                self.fail("LEDGER_KEY_MISMATCH", f"the key file {path} cannot be used: {err}",
                          subject="key file")
        if not sources and not self.held and not self.kept:
            # The only key left is the one the database names: whoever rewrote the
            # history rewrote that too. (Checkpoints the caller holds are checked
            # with it below, which ties it to them.)
            why = (f"the sealed key could not be checked here ({unchecked})" if unchecked
                   else "the sealed key does not open" if sealed is not None
                   else f"no key file at {path}")
            if self.trust_database_key:
                rep.warnings.append(f"no key of your own ({why}): trusting the verifier key "
                                    "stored in the database, as asked")
            else:
                self.fail("LEDGER_KEY_UNTRUSTED", f"no key this verification can trust: "
                          f"{why}, no --key, no --checkpoint. The verifier key stored in the "
                          "database proves nothing on its own: pass --key with the key "
                          "printed on the daily report (or --trust-database-key to check "
                          "the ledger's consistency only)", subject="database key")
        try:
            sources.append(("database", Verifier.from_key(db_key)))
        except NoteError as err:
            self.fail("LEDGER_KEY_MISMATCH", f"the verifier key stored for the production "
                      f"is malformed ({err})", subject="productions.verifier_key")
        if not sources:
            rep.warnings.append("no usable verifier key: no checkpoint can be verified")
            return None
        source, trusted = sources[0]
        rep.trusted_key, rep.key_source = trusted.verifier_key(), source
        names = {"given": "the key you gave (--key)", "key file": f"the key file {path}",
                 "sealed key": "the signing key sealed in the database",
                 "database": "the production's verifier key in the database"}
        for other, v in sources[1:]:
            if v != trusted:
                self.fail("LEDGER_KEY_MISMATCH",
                          f"{names[other]} is {v.verifier_key()} but {names[source]} is "
                          f"{trusted.verifier_key()}: the production was re-keyed",
                          subject=f"{other} key")
        if source == "database" and self.held:
            rep.warnings.append("no key of your own: the checkpoints you gave were checked "
                                "with the verifier key stored in the database; pass --key "
                                "with the key printed on the daily report to be sure of it")
        return trusted

    def _open_checkpoints(self, trusted: Verifier | None
                          ) -> list[tuple[str, int | None, Checkpoint | None, str]]:
        """(source, size column, opened checkpoint or None, why not) for every note."""
        rows = self.sql.rows("SELECT tree_size, note FROM checkpoints WHERE production_id = ? "
                             "ORDER BY tree_size")
        if not rows and not self.held:
            self.fail("LEDGER_CHECKPOINT_MISSING", "no checkpoint was ever signed for this "
                      "ledger (one is signed when the production is created)",
                      subject="checkpoints")
        notes: list[tuple[str, int | None, str]] = [
            ("stored", int(size), str(note)) for size, note in rows]
        # A note copied from a report may have gained CRLFs or blank lines around it.
        notes += [(label, None, text.replace("\r\n", "\n").strip("\n") + "\n")
                  for label, text in self.held]
        # The server's own copy of its last checkpoint, unless it is stored as is.
        stored = {str(note) for _, note in rows}
        notes += [(label, None, text) for label, text in self.kept if text not in stored]
        out: list[tuple[str, int | None, Checkpoint | None, str]] = []
        for source, size, note in notes:
            if trusted is None:
                out.append((source, size, None, "no trusted key"))
                continue
            try:
                cp = open_checkpoint(note, trusted, origin=self.report.origin)
            except NoteError as err:
                out.append((source, size, None, str(err)))
                continue
            if size is not None and size != cp.size:
                out.append((source, size, None, f"its row says tree size {size} but the "
                            f"signed note says {cp.size}"))
                continue
            out.append((source, size, cp, ""))
        return out

    # ---- streaming ---------------------------------------------------------
    def _stream(self, sizes: list[int], head: int
                ) -> tuple[ProductionState, dict[tuple[str, str], int]]:
        rep, sql = self.report, self.sql
        prod = self.production
        state = ProductionState(prod)
        apply = state.apply
        touched: dict[tuple[str, str], int] = {}
        stack: list[bytes] = []
        self.roots: dict[int, bytes] = {0: EMPTY_TREE_HASH}
        want = set(sizes)
        bounds = [s for s in sizes if s > 0]
        bi = 0
        pos = 0  # rows read
        hpos = 0  # stored hashes compared == stored_hash_count(pos)
        after: Any = -(1 << 62)
        t_read = t_hread = t_rows = t_replay = t_tree = 0.0
        jcache: dict[object, str] = {}
        event = _event
        pj = _json_text(prod)
        progress, total = self.progress, max(head, 1)
        clock = time.perf_counter
        while True:
            limit = self.chunk
            while bi < len(bounds) and bounds[bi] <= pos:
                bi += 1
            if bi < len(bounds):
                limit = min(limit, bounds[bi] - pos)
            ta = clock()
            rows = sql.events(after, limit)
            tb = clock()
            t_read += tb - ta
            if not rows:
                break
            after = rows[-1][0]
            # 1. entries: order, production, columns; events to replay
            events: list[Event] = []
            add = events.append
            expected = self.expected
            replaying = self.replaying
            p = pos
            dropped: list[Any] = []
            for row in rows:
                seq, typ, at, actor, device, e = row
                # Fast path: the entry is exactly the canonical JSON of its row's
                # columns around some payload. Only '"' and '\\' could make a
                # column's text change the JSON structure; JSON-encoding the
                # other columns (cached: few distinct values) rules that out.
                if (seq == expected and type(e) is bytes and type(at) is str
                        and '"' not in at and "\\" not in at):
                    ja = jcache.get(actor) or jcache.setdefault(actor, _json_text(actor))
                    jd = jcache.get(device) or jcache.setdefault(device, _json_text(device))
                    jt = jcache.get(typ) or jcache.setdefault(typ, _json_text(typ))
                    pre = f'{{"actor":{ja},"at":"{at}","device":{jd},"payload":'.encode()
                    suf = f',"production":{pj},"seq":{seq},"type":{jt}}}'.encode()
                    if e.startswith(pre) and e.endswith(suf) and \
                            len(e) > len(pre) + len(suf):
                        expected = seq + 1
                        if replaying:
                            add(event(prod, seq, typ, at, actor, device, _Payload(e)))
                        p += 1
                        continue
                self.expected = expected
                ev, keep = self._slow_entry(row, p)
                expected, replaying = self.expected, self.replaying
                if not keep:
                    dropped.append(row)
                    continue
                if ev is not None and replaying:
                    add(ev)
                p += 1
            self.expected = expected
            self.rows_read += len(rows)
            if dropped:  # rows that are not entries take no place in the tree
                rows = [r for r in rows if not any(r is d for d in dropped)]
            if pos == 0 and rows:
                self._note_entry0(rows[0])
            tc = clock()
            t_rows += tc - tb
            # 2. replay
            if self.replaying:
                ev = None
                index = self.index
                try:
                    for ev in events:
                        for k in apply(ev):
                            touched[k] = ev.seq
                        seq = ev.seq
                        for k in subjects(ev):
                            seqs = index.get(k)
                            if seqs is None:
                                seqs = index[k] = array("q")
                            seqs.append(seq)
                except _BadPayload as err:
                    assert ev is not None
                    self.flagged.add(ev.seq)
                    self.fail("LEDGER_ENTRY_ALTERED", f"a {ev.type} event whose payload cannot "
                              f"be read: {err}", ev.seq)
                    self.stop_replay(f"entry {ev.seq} cannot be replayed")
                except Exception as err:  # any failure of replay is reported, not raised
                    assert ev is not None
                    self.fail("LEDGER_REPLAY_FAILED", f"replaying this {ev.type} event "
                              f"failed: {type(err).__name__}: {err}", ev.seq)
                    self.stop_replay(f"entry {ev.seq} cannot be replayed")
            td = clock()
            t_replay += td - tc
            # 3. tree: recompute, compare with the stored hashes
            entries = [r[5] for r in rows]
            if not entries:
                continue
            saved = stack[:]  # the compact range: about log2(pos) hashes
            try:
                computed = _stored_hashes(stack, pos, entries)
            except TypeError:  # a tampered row holds something other than bytes
                stack[:] = saved
                computed = _stored_hashes(stack, pos, [_as_bytes(x) for x in entries])
            te = clock()
            stored = sql.hash_blob(hpos, hpos + len(computed))
            tf = clock()
            t_hread += tf - te
            if stored != b"".join(computed):
                self._diagnose(hpos, computed)
            pos += len(rows)
            hpos += len(computed)
            if pos in want:
                self.roots[pos] = _root(stack)
            t_tree += (te - td) + (clock() - tf)
            if progress is not None:
                progress(pos, max(total, pos))
        rep.entries = pos
        rep.root = _root(stack)
        rep.timings.update(read_entries=t_read, read_hashes=t_hread, entries=t_rows,
                           replay=t_replay, merkle=t_tree)
        self._counts()
        return state, touched

    def _note_entry0(self, row: Sequence[Any]) -> None:
        try:
            d = json.loads(row[5])
        except (TypeError, ValueError):
            return
        if isinstance(d, dict) and d.get("seq") == 0:
            self.entry0 = d

    def _slow_entry(self, row: Sequence[Any], pos: int) -> tuple[Event | None, bool]:
        """Examine an entry that failed the fast check; report what differs.
        Returns the event to replay (or None) and whether the row is an entry
        at all (False for a duplicate or out-of-range sequence number)."""
        seq, typ, at, actor, device, raw = row
        e = _as_bytes(raw)
        label = seq if isinstance(seq, int) and not isinstance(seq, bool) else pos
        if e is not raw:
            self.fail("LEDGER_ENTRY_ALTERED", f"its entry column holds {type(raw).__name__}, "
                      "not the bytes that were hashed", label)
        if seq != self.expected:
            self.stop_replay(f"entry {self.expected} is missing or out of place")
            if self.shift_at is None:
                self.shift_at = pos
            if isinstance(seq, int) and not isinstance(seq, bool) and seq > self.expected:
                gap = (f"entries {self.expected}..{seq - 1} are missing: rows were deleted"
                       if seq - 1 > self.expected else "its row is missing: it was deleted")
                self.fail("LEDGER_ENTRY_MISSING", f"{gap} (the next stored entry is {seq})",
                          self.expected, missing=seq - self.expected)
                self.flagged.update(range(self.expected, seq))
                self.missing += seq - self.expected
                self.expected = seq + 1
            else:
                self.fail("LEDGER_ENTRY_UNEXPECTED", f"a row with sequence number {seq!r} where "
                          f"entry {self.expected} was due: a duplicate or out-of-range row, "
                          "not an appended entry", self.expected, seq=repr(seq))
                return None, False
        else:
            self.expected = seq + 1
        try:
            d = json.loads(e)
        except ValueError:
            self.flagged.add(label)
            self.fail("LEDGER_ENTRY_ALTERED", "its bytes are not valid JSON: the entry was "
                      "changed after it was appended", label)
            self.stop_replay(f"entry {label} is unreadable")
            return None, True
        keys = ("seq", "production", "type", "at", "actor", "device", "payload")
        if not isinstance(d, dict) or any(k not in d for k in keys) or \
                not isinstance(d["payload"], dict):
            self.flagged.add(label)
            self.fail("LEDGER_ENTRY_ALTERED", "it is JSON but not an event (fields missing "
                      "or payload not an object)", label)
            self.stop_replay(f"entry {label} is not an event")
            return None, True
        if d["production"] != self.production or d["seq"] != seq:
            self.flagged.add(label)
            self.fail("LEDGER_ENTRY_REORDERED", f"row {seq!r} holds entry {d['seq']!r} of "
                      f"production {d['production']!r} ({d['type']} event): rows were swapped "
                      "or moved", label, found_seq=d["seq"], found_production=d["production"])
            self.stop_replay(f"entry {label} is out of place")
            return None, True
        differ = [f"{name} column is {col!r} but the entry says {d[name]!r}"
                  for name, col in (("type", typ), ("at", at), ("actor", actor),
                                    ("device", device)) if d[name] != col]
        if differ:
            self.fail("LEDGER_ROW_MISMATCH", "; ".join(differ), label)
        if canonical(d) != e:
            self.fail("LEDGER_ENTRY_ALTERED", "its bytes are not the canonical JSON "
                      "coldcheck writes (keys sorted, no whitespace)", label)
        return Event(d["production"], d["seq"], d["type"], d["at"], d["actor"],
                     d["device"], d["payload"]), True

    def _first_not_canonical(self, lo: int, hi: int) -> int | None:
        """The first entry of ``lo <= seq < hi`` whose bytes are not the canonical
        JSON coldcheck writes (reported as LEDGER_ENTRY_ALTERED), or None."""
        after: Any = lo - 1
        while after < hi - 1:
            rows = self.sql.events(after, min(self.chunk, hi - 1 - after))
            if not rows:
                return None
            for seq, *_, e in rows:
                raw = bytes(e) if isinstance(e, bytes | memoryview) else None
                try:
                    same = raw is not None and canonical(json.loads(raw)) == raw
                except ValueError:
                    same = False
                if not same:
                    self.fail("LEDGER_ENTRY_ALTERED", "its bytes are not the canonical JSON "
                              "coldcheck writes (keys sorted, no whitespace, no needless "
                              "escapes), and the stored hashes were rebuilt over it", seq)
                    return int(seq)
            after = rows[-1][0]
        return None

    # ---- tree ------------------------------------------------------------
    def _diagnose(self, base: int, computed: list[bytes]) -> None:
        """A chunk's stored hashes differ: find which, row by row."""
        stored = dict(self.sql.hash_rows(base, base + len(computed)))
        for i, h in enumerate(computed):
            s = stored.get(base + i)
            same = isinstance(s, bytes | memoryview) and bytes(s) == h
            if not same:
                self._hash_differs(base + i, h, s)

    def _hash_differs(self, idx: int, computed: bytes, stored: Any) -> None:
        level, n = split_stored_hash_index(idx)
        lo, hi = n << level, (n + 1) << level
        if self.shift_at is not None and hi > self.shift_at:
            self.report.consequences += 1  # rows shifted by a missing or extra row
            return
        if stored is not None and not _is_hash(stored):
            size = len(stored) if isinstance(stored, bytes | str) else "?"
            self.fail("LEDGER_HASH_MISMATCH", f"stored hash {idx} (level {level}, over entries "
                      f"{lo}..{hi - 1}) is not a 32-byte hash: it holds a "
                      f"{type(stored).__name__} of length {size}", subject=f"stored hash {idx}",
                      index=idx, level=level, first_entry=lo, last_entry=hi - 1)
            return
        if level == 0:
            self.leaf_bad.append(n)  # explains the ancestors that differ too
            if n in self.flagged:
                self.report.consequences += 1
                return
            if stored is None:
                self.fail("LEDGER_ENTRY_UNEXPECTED", "it has no stored leaf hash: it was not "
                          "appended through the ledger", n, stored_hash=idx)
            else:
                self.pending.append((n, computed, stored))
            return
        i = bisect.bisect_left(self.leaf_bad, lo)
        if i < len(self.leaf_bad) and self.leaf_bad[i] < hi:
            self.report.consequences += 1  # an ancestor of a leaf already reported
            return
        what = "is missing" if stored is None else \
            f"is {_b64(stored)} but the entries give {_b64(computed)}"
        self.fail("LEDGER_HASH_MISMATCH", f"stored hash {idx} (level {level}, over entries "
                  f"{lo}..{hi - 1}) {what}; the entries themselves are intact",
                  subject=f"stored hash {idx}", index=idx, level=level, first_entry=lo,
                  last_entry=hi - 1)

    def _finish_tree(self) -> None:
        """Decide, for each leaf that differs, whether the entry or the stored leaf
        hash changed: the stored hashes above an altered entry still agree with
        the stored leaf (the tree was built from the original bytes), while an
        edited stored leaf no longer agrees with its stored parent."""
        wanted: list[int] = []
        for n, _, _ in self.pending:
            if (n | 1) < self.report.entries:
                wanted += [stored_hash_index(0, n & ~1), stored_hash_index(0, n | 1),
                           stored_hash_index(1, n >> 1)]
        stored = self.sql.hashes_at(sorted(set(wanted))) if wanted else {}
        for n, computed, leaf in self.pending:
            left = stored.get(stored_hash_index(0, n & ~1))
            right = stored.get(stored_hash_index(0, n | 1))
            parent = stored.get(stored_hash_index(1, n >> 1))
            consistent = True
            if left is not None and right is not None and parent is not None:
                consistent = (_is_hash(left) and _is_hash(right) and _is_hash(parent)
                              and node_hash(bytes(left), bytes(right)) == bytes(parent))
            idx = stored_hash_index(0, n)
            if consistent:
                self.fail("LEDGER_ENTRY_ALTERED", f"its bytes were changed after it was "
                          f"appended: they hash to {_b64(computed)}, the ledger recorded "
                          f"{_b64(leaf)}", n, leaf_hash=_b64(computed), recorded=_b64(leaf))
            else:
                self.fail("LEDGER_HASH_MISMATCH", f"stored hash {idx} (level 0, the leaf "
                          f"hash of entry {n}) was changed: it is {_b64(leaf)}, the entry "
                          f"hashes to {_b64(computed)} and the stored tree above agrees "
                          "with the entry", subject=f"stored hash {idx}", index=idx, level=0,
                          first_entry=n, last_entry=n)

    def _counts(self) -> None:
        """Row and hash counts against the ledger's size by sequence numbers (rows
        read plus rows missing: a deleted row is reported once, as missing)."""
        rep, sql = self.report, self.sql
        size = self.expected
        rows = int(sql.one("SELECT count(*) FROM events WHERE production_id = ?"))
        if rows != self.rows_read:
            self.fail("LEDGER_ENTRY_UNEXPECTED", f"the events table holds {rows} rows for "
                      f"this production but {self.rows_read} were read in sequence order "
                      "(duplicate sequence numbers?)", size, subject="events")
        stored = int(sql.one("SELECT count(*) FROM ledger_hashes WHERE production_id = ?"))
        rep.stored_hashes = stored
        want = stored_hash_count(size)
        if stored > want:
            records = _records_of(stored)
            if records is not None and records > size:
                self.fail("LEDGER_TRUNCATED", f"the stored hashes cover {records} entries but "
                          f"the ledger ends at entry {size - 1}: entries {size}..{records - 1} "
                          "were removed", size, covered=records)
            else:
                self.fail("LEDGER_HASH_MISMATCH", f"{stored - want} stored hashes beyond "
                          f"the {want} that {size} entries have",
                          subject="ledger_hashes", extra=stored - want)
        if rep.head != size:
            self.fail("LEDGER_HEAD_MISMATCH", f"the production's head says {rep.head} "
                      f"entries but the ledger holds {size}", min(rep.head, size),
                      head=rep.head)

    # ---- checkpoints -------------------------------------------------------
    def _check_checkpoints(self, notes: list[tuple[str, int | None, Checkpoint | None, str]]
                           ) -> None:
        rep = self.report
        n = rep.entries
        end = self.expected  # the ledger's size by sequence numbers
        signed = 0
        for source, size, cp, why in notes:
            name = f"checkpoint at size {size}" if source == "stored" else \
                f"the checkpoint {source}"
            if cp is None:
                rep.checkpoints.append(CheckpointResult(source, size, False, why))
                self.fail("LEDGER_CHECKPOINT_INVALID", f"{name} does not verify with the "
                          f"trusted key ({rep.key_source}): {why}",
                          subject=f"{source} checkpoint {size if size is not None else ''}"
                          .strip(), source=source)
                continue
            signed = max(signed, cp.size)
            if cp.size > end:
                reason = f"signed at size {cp.size}, the ledger holds {end} entries"
                rep.checkpoints.append(CheckpointResult(source, cp.size, False, reason))
                self.fail("LEDGER_TRUNCATED", f"{name} was signed at size {cp.size} but the "
                          f"ledger ends at entry {end - 1}: entries {end}..{cp.size - 1} were "
                          f"removed{self._restores(source, cp)}{self._kept_hint(source)}", end,
                          signed_size=cp.size, source=source)
                continue
            if cp.size > n:  # within the sequence numbers, but rows are missing
                reason = "entries it covers are missing"
                rep.checkpoints.append(CheckpointResult(source, cp.size, False, reason))
                self.fail("LEDGER_CHECKPOINT_MISMATCH", f"{name} covers entries that are "
                          "missing from the ledger", self.shift_at,
                          subject=f"{source} checkpoint {cp.size}", source=source,
                          size=cp.size)
                continue
            root = self.roots[cp.size]
            if root != cp.root_hash:
                before = [b for b in self.leaf_bad if b < cp.size] + \
                    ([self.shift_at] if self.shift_at is not None and
                     self.shift_at < cp.size else [])
                first = min(before) if before else None
                good = max([c.size or 0 for c in rep.checkpoints
                            if c.ok and (c.size or 0) < cp.size] + [0])
                if first is None:
                    # Every stored hash matches its entry, yet the root differs: the
                    # hashes were rebuilt over changed entries. The fast path checks
                    # only the columns around each payload; look for the entry whose
                    # bytes are not canonical, to name it.
                    first = self._first_not_canonical(good, cp.size)
                where = "" if first is not None else \
                    f" (the first difference is among entries {good}..{cp.size - 1})"
                if first is None:
                    first = good  # the earliest entry the difference can be in
                reason = "root differs"
                rep.checkpoints.append(CheckpointResult(source, cp.size, False, reason))
                self.fail("LEDGER_CHECKPOINT_MISMATCH", f"{name} signs root "
                          f"{_b64(cp.root_hash)} but the entries give {_b64(root)}{where}"
                          f"{self._restores(source, cp)}",
                          first, subject=f"{source} checkpoint {cp.size}", source=source,
                          size=cp.size)
                continue
            rep.checkpoints.append(CheckpointResult(source, cp.size, True))
            rep.verified_size = max(rep.verified_size, cp.size)
        if 0 < signed < end:
            rep.warnings.append(f"entries {signed}..{end - 1} come after the latest signed "
                                "checkpoint: no signature covers them yet")

    def _check_schema(self) -> None:
        """SQLite only: the file's schema is what coldcheck's migrations create
        at its revision, and nothing else (persistence.schema)."""
        if self.sql.dialect != "sqlite":
            return
        said = schema.check(cast(sqlite3.Cursor, self.sql.cur))  # the driver's own
        if said:
            self.fail("LEDGER_SCHEMA_ALTERED", "the database's schema is not what coldcheck's "
                      f"migrations create: {'; '.join(said)} (SQL that runs inside "
                      "coldcheck's own writes could rewrite the record before it is signed)",
                      subject="schema", differences=said)

    def _kept_hint(self, source: str) -> str:
        """For the kept checkpoint: a backup copy is behind it by design."""
        if source not in {label for label, _ in self.kept}:
            return ""
        return (" (if this database is a backup copy, the live ledger signed past it "
                "after it was taken: check a copy with `coldcheck ledger verify --backup`, "
                "the database's key folder in COLDCHECK_KEY_DIR)")

    def _restores(self, source: str, cp: Checkpoint) -> str:
        """For a checkpoint held outside the database that the ledger no longer
        matches: the restore (`coldcheck restore`) that explains it, if the
        ledger records one that a verified checkpoint covers and that names this
        checkpoint as superseded, or says the replaced database held at least
        its entries. It explains the finding; it never excuses it."""
        if source == "stored":
            return ""
        found = []
        for seq, entry in self.sql.rows(
                "SELECT seq, entry FROM events WHERE production_id = ? AND type = ? "
                "AND seq < ? ORDER BY seq", "ledger.restored", self.report.verified_size):
            try:
                p = json.loads(bytes(entry))["payload"]
                note = p["superseded_checkpoint"]
                old = note_checkpoint(note) if note else None
                held = max(int(p["replaced_entries"] or 0), old.size if old else 0)
            except (ValueError, KeyError, TypeError, NoteError):
                continue
            # Only a checkpoint over more than the backup held: what the backup
            # held, the restore kept, and a difference there is not its doing.
            if cp.size > int(seq) and (
                    (old is not None and (old.size, old.root_hash) == (cp.size, cp.root_hash))
                    or cp.size <= held):
                found.append(int(seq))
        if not found:
            return ""
        return (f". The ledger records a restore from a backup at entry {found[-1]} "
                f"(`coldcheck ledger entry {found[-1]}`), signed since, after which this "
                "checkpoint no longer matches: what it covered from that entry on was "
                "recorded before the restore and is not in this ledger")

    def _check_entry0(self, trusted: Verifier | None) -> None:
        d = self.entry0
        if d is None or self.report.entries == 0:
            return
        if d.get("type") != "production.created" or not isinstance(d.get("payload"), dict):
            self.fail("LEDGER_PRODUCTION_MISMATCH", f"entry 0 is a {d.get('type')} event, not "
                      "production.created", 0)
            return
        p = d["payload"]
        if p.get("origin") != self.report.origin:
            self.fail("LEDGER_PRODUCTION_MISMATCH", f"entry 0 created the ledger with origin "
                      f"{p.get('origin')!r} but the production's origin is "
                      f"{self.report.origin!r}", 0)
        if trusted is not None and p.get("key_id") != trusted.key_id.hex():
            self.fail("LEDGER_KEY_MISMATCH", f"entry 0 records signing key id "
                      f"{p.get('key_id')!r} but the trusted key ({self.report.key_source}) "
                      f"has id {trusted.key_id.hex()!r}: the production was re-keyed", 0)

    # ---- projections -------------------------------------------------------
    def _check_projections(self, state: ProductionState,
                           touched: dict[tuple[str, str], int]) -> None:
        derived = {(k, i): canonical(d).decode() for k, i, d in state.all_entities()}
        stored = {(str(k), str(i)): (d, s) for k, i, d, s in self.sql.rows(
            "SELECT kind, entity_id, data, seq FROM projections WHERE production_id = ?")}
        self.report.projections = len(stored)
        # The row of what is not an entity (the state loads from it). A database
        # written before there was one lacks it until its next append or rebuild:
        # then commands replay, which is slower, not wrong.
        if state.seq:
            if STATE in stored:
                derived[STATE] = canonical(state.meta()).decode()
            else:
                self.report.warnings.append(
                    "the state row is not stored yet (a database written before it "
                    "existed): commands replay the history until the next change or "
                    "`coldcheck rebuild`")
                touched = {k: v for k, v in touched.items() if k != STATE}
        for key in sorted(set(derived) | set(stored)):
            name = f"{key[0]}:{key[1]}"
            last = touched.get(key)
            by = f" (last changed by entry {last})" if last is not None else ""
            if key not in stored:
                self.fail("LEDGER_PROJECTION_MISMATCH", f"projection {name} is missing from "
                          f"the stored tables{by}", subject=name, entry_seq=last)
                continue
            data, seq = stored[key]
            if key not in derived:
                self.fail("LEDGER_PROJECTION_MISMATCH", f"projection {name} is stored but no "
                          "event creates it", subject=name)
                continue
            if data != derived[key]:
                self.fail("LEDGER_PROJECTION_MISMATCH", f"projection {name}{by}: "
                          f"{_first_difference(str(data), derived[key])}", subject=name,
                          entry_seq=last)
            elif last is not None and seq != last:
                self.fail("LEDGER_PROJECTION_MISMATCH", f"projection {name} says it was last "
                          f"changed by entry {seq}, the events say entry {last}",
                          subject=name, entry_seq=last)


    # ---- timeline index ----------------------------------------------------
    def _check_credentials(self, state: ProductionState) -> None:
        from . import vouch
        for f in vouch.compare(self.sql.conn, state):
            if f.vouched:
                self.fail(vouch.CODE, f.message, subject=f.subject)
            else:
                self.report.warnings.append(f.message)

    def _check_index(self) -> None:
        """Every (kind, id) an event names has exactly its events' seqs in the
        index: one grouped count, then the seqs of each (kind, id), compared
        in order (each is one range of the index's primary key)."""
        sql, derived = self.sql, self.index
        stored = {(str(k), str(i)): int(n) for k, i, n in sql.rows(
            "SELECT kind, subject_id, count(*) FROM timeline_index WHERE production_id = ? "
            "GROUP BY kind, subject_id")}
        self.report.index_rows = sum(stored.values())
        for key in sorted(set(derived) | set(stored)):
            name = f"{key[0]}:{key[1]}"
            want = derived.get(key)
            if key not in stored:
                assert want is not None
                self.fail("LEDGER_INDEX_MISMATCH", f"the timeline index has no row for "
                          f"{name}, which {len(want)} event(s) name (first: entry {want[0]})",
                          want[0], subject=name)
                continue
            have = [int(r[0]) for r in sql.rows(
                "SELECT seq FROM timeline_index WHERE production_id = ? AND kind = ? "
                "AND subject_id = ? ORDER BY seq", *key)]
            if want is None:
                self.fail("LEDGER_INDEX_MISMATCH", f"the timeline index lists {len(have)} "
                          f"event(s) for {name}, which no event names (first: entry "
                          f"{have[0]})", have[0], subject=name)
                continue
            if len(have) == len(want) and have == want.tolist():
                continue
            wanted = set(want)
            missing = sorted(wanted.difference(have))
            extra = sorted(set(have) - wanted)
            first = min(missing[:1] + extra[:1])
            what = []
            if missing:
                what.append(f"lacks {len(missing)} event(s) naming it (entries "
                            f"{_some(missing)})")
            if extra:
                what.append(f"lists {len(extra)} event(s) that do not name it (entries "
                            f"{_some(extra)})")
            self.fail("LEDGER_INDEX_MISMATCH", f"the timeline of {name} "
                      + " and ".join(what), first, subject=name, missing=missing[:50],
                      extra=extra[:50])


def _some(seqs: Sequence[int]) -> str:
    return ", ".join(map(str, seqs[:5])) + (" …" if len(seqs) > 5 else "")


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return repr(value).encode()
