"""Ledger benchmarks: proofs, batch append, acknowledged append, full verification.

Run:  .venv/bin/python benchmarks/bench_ledger.py [--quick] [--only p,c,b,s,v] [--dir DIR]

Prints a table and writes benchmarks/results/ledger-<time>.json (git-ignored).
Every figure is measured in this run, on SQLite files in one temporary folder,
against pymerkle 7.x ``SqliteTree`` (its documented API: ``append_entries``,
``append_entry``, ``prove_inclusion``, ``prove_consistency``, ``get_root``) where
there is a pymerkle counterpart. Needs the ``bench`` extra (``pip install -e
.[bench]``).

  p  inclusion proof read from the store: coldcheck ``prove_record`` over the
     stored hashes (``Store.hash_reader``, one query) vs ``SqliteTree.prove_inclusion``,
     same 100,000 entries, same random (index, size) pairs, interleaved
  c  consistency proof: ``prove_tree`` vs ``SqliteTree.prove_consistency``
  b  batch append of 100,000 entries in one transaction: leaf hashes +
     ``stored_hashes_batch`` + ``executemany`` into an entries table and a
     ledger_hashes-like table vs ``SqliteTree.append_entries`` (same bytes);
     also with the hashes handed to SQLite as one value, hashes only, and the
     floor of any log that stores its entries as rows: the entries alone
  s  acknowledged single append, one commit each, WAL + synchronous=FULL:
     coldcheck ``Store.write`` + ``Tx.append`` of one note.added (event, stored
     hashes, head compare-and-set) vs a raw sqlite3 loop of one INSERT per COMMIT
  v  ``ledger verify`` (``verify_ledger``, unchanged) on a 1,000,000-entry ledger
     generated through the real tables: its Merkle part (leaf and node hashes,
     comparison with every stored hash, checkpoint roots) against plain
     ``hashlib.sha256`` over the same entry bytes, and entries/s for the whole
     verification, projections included

Entries are canonical note.added events of about 340 bytes (a realistic remark).
Ratios are medians over interleaved rounds (p, c, s) or over alternating runs
(b), so that a noisy neighbour hits both sides alike. Benchmarks are not tests:
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coldcheck.config import Settings
from coldcheck.domain.events import Event, NewEvent
from coldcheck.ledger import (
    MemoryHashes,
    leaf_hash,
    prove_record,
    prove_tree,
    stored_hash_count,
    stored_hashes_batch,
    tree_hash,
)
from coldcheck.persistence.store import Store
from coldcheck.services import actions as act
from coldcheck.services import ledger as service
from coldcheck.services.context import Context, context
from coldcheck.services.ledger import sign_checkpoint
from coldcheck.services.verify import CHUNK, verify_ledger

RESULTS = Path(__file__).resolve().parent / "results"
T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
PRODUCTION = "bench"
WORDS = (
    "armorer", "cleared", "the", "weapon", "cylinder", "empty", "chamber", "safe", "locked",
    "stored", "blank", "dummy", "round", "verified", "scene", "take", "performer", "rehearsal",
    "magazine", "barrel", "shown", "clear", "to", "first", "AD", "and", "safety", "supervisor",
    "before")


def settings(folder: Path, name: str) -> Settings:
    return Settings(database_url=str(folder / f"{name}.db"), key_dir=folder / f"{name}.keys",
                    argon2_profile="fast-insecure-for-tests", device="bench")


# ---- entries -----------------------------------------------------------------------

def texts(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(24, 34))) for _ in range(n)]


def at_text(seq: int) -> str:
    """Entry seq happens seq/10 s after T0 (RFC 3339 UTC, as utc_text writes it)."""
    tenths = seq
    day, rest = divmod(tenths, 864_000)
    h, rest = divmod(rest, 36_000)
    m, rest = divmod(rest, 600)
    s, t = divmod(rest, 10)
    h += 7
    day, h = day + h // 24, h % 24
    return f"2026-11-{24 + day:02d}T{h:02d}:{m:02d}:{s:02d}.{t * 100_000:06d}Z"


def note_rows(start: int, n: int, pool: list[str]) -> Iterator[tuple[Any, ...]]:
    """Event rows (production, seq, type, at, actor, device, entry) of canonical
    note.added entries, built by string formatting (checked against Event.entry)."""
    k = len(pool)
    for seq in range(start, start + n):
        at = at_text(seq)
        text = pool[seq % k]
        entry = (f'{{"actor":"P1","at":"{at}","device":"bench","payload":{{"refers_to":'
                 f'{seq - 1},"text":"{text}"}},"production":"{PRODUCTION}","seq":{seq},'
                 f'"type":"note.added"}}').encode()
        yield (PRODUCTION, seq, "note.added", at, "P1", "bench", entry)


def check_rows(rows: list[tuple[Any, ...]]) -> None:
    for r in rows[:3] + rows[-3:]:
        ev = Event(PRODUCTION, r[1], "note.added", r[3], "P1", "bench",
                   {"refers_to": r[1] - 1, "text": json.loads(r[6])["payload"]["text"]})
        assert ev.entry() == r[6], "benchmark entries must be canonical"


def entries(n: int, start: int = 0) -> list[bytes]:
    rows = list(note_rows(start, n, texts(997)))
    check_rows(rows)
    return [r[6] for r in rows]


# ---- helpers -------------------------------------------------------------------------

def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def cpu_yardstick() -> dict[str, float]:
    """Two tiny CPU-bound timings to compare machines (lower is faster)."""
    e = entries(1)[0]
    t = time.perf_counter()
    for _ in range(20_000):
        sum(range(1000))
    a = (time.perf_counter() - t) / 20_000
    t = time.perf_counter()
    for _ in range(200_000):
        hashlib.sha256(e).digest()
    b = (time.perf_counter() - t) / 200_000
    return {"sum_range_1000_us": a * 1e6, "sha256_entry_us": b * 1e6}


# ---- b: batch append ------------------------------------------------------------------

class OurBatch:
    """The ledger library on a plain SQLite layout: an entries table and a
    ledger_hashes-like table (one row per stored hash, Go tlog index order)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
        self.db.execute("CREATE TABLE ledger_hashes (idx INTEGER PRIMARY KEY, "
                        "hash BLOB NOT NULL)")
        self.size = 0

    def read_hashes(self, indexes: Any) -> list[bytes]:
        marks = ",".join("?" * len(indexes))
        found = dict(self.db.execute(
            f"SELECT idx, hash FROM ledger_hashes WHERE idx IN ({marks})",
            list(indexes)))
        return [found[i] for i in indexes]

    def append(self, batch: list[bytes], *, blob: bool = False,
               with_entries: bool = True) -> None:
        """One transaction. ``blob``: hand SQLite the stored hashes as one value
        and let it split them (one statement instead of one row per hash).
        ``with_entries=False``: hashes only (in coldcheck the entries go to the
        events table whatever the ledger does)."""
        db, start = self.db, self.size
        db.execute("BEGIN IMMEDIATE")
        leaves = [leaf_hash(e) for e in batch]
        hashes = stored_hashes_batch(start, leaves, self)
        base = stored_hash_count(start)
        if with_entries:
            db.executemany("INSERT INTO entries VALUES (?, ?)",
                           zip(range(start, start + len(batch)), batch, strict=True))
        if blob:
            db.execute("WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i "
                       "WHERE n + 1 < ?) INSERT INTO ledger_hashes SELECT ? + n, "
                       "substr(?, n * 32 + 1, 32) FROM i", (len(hashes), base,
                                                            b"".join(hashes)))
        else:
            db.executemany("INSERT INTO ledger_hashes VALUES (?, ?)",
                           zip(range(base, base + len(hashes)), hashes, strict=True))
        db.execute("COMMIT")
        self.size += len(batch)


def bench_batch(folder: Path, n: int, rounds: int) -> dict[str, Any]:
    from pymerkle import SqliteTree

    data = entries(n)
    rates: dict[str, list[float]] = {"ours": [], "blob": [], "hashes_only": [],
                                     "entries_only": [], "pymerkle": []}
    sides = list(rates)
    for r in range(rounds):
        for side in sides if r % 2 == 0 else sides[::-1]:
            path = folder / f"batch-{side}-{r}.db"
            gc.collect()
            if side == "entries_only":
                # The floor of any log that keeps its entries as rows: the same
                # entries, one executemany in one transaction, no hash at all.
                db = sqlite3.connect(path, isolation_level=None)
                db.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
                t = time.perf_counter()
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT INTO entries VALUES (?, ?)", enumerate(data))
                db.execute("COMMIT")
                rates[side].append(n / (time.perf_counter() - t))
                db.close()
            elif side != "pymerkle":
                o = OurBatch(path)
                t = time.perf_counter()
                o.append(data, blob=side == "blob", with_entries=side != "hashes_only")
                rates[side].append(n / (time.perf_counter() - t))
                check = o.db.execute("SELECT count(*), max(idx) FROM ledger_hashes").fetchone()
                assert check == (stored_hash_count(n), stored_hash_count(n) - 1), check
                o.db.close()
            else:
                tree = SqliteTree(str(path))
                t = time.perf_counter()
                tree.append_entries(data)
                rates[side].append(n / (time.perf_counter() - t))
                tree.close()
            path.unlink()
    theirs = median(rates["pymerkle"])
    return {"entries": n, "rounds": rounds, "ours_per_s": rates["ours"],
            "ours_blob_per_s": rates["blob"], "ours_hashes_only_per_s": rates["hashes_only"],
            "pymerkle_per_s": rates["pymerkle"], "ratio": median(rates["ours"]) / theirs,
            "ratio_blob": median(rates["blob"]) / theirs,
            "ratio_hashes_only": median(rates["hashes_only"]) / theirs,
            "entries_only_per_s": rates["entries_only"],
            "ratio_entries_only": median(rates["entries_only"]) / theirs}


# ---- p, c: proofs from the store ----------------------------------------------------

def proof_store(folder: Path, n: int) -> tuple[Store, Context, Any, list[bytes]]:
    """A real coldcheck database (production, key, checkpoint) holding n entries,
    and a pymerkle SqliteTree holding the same n entry bytes."""
    from pymerkle import SqliteTree

    store, s = generate_ledger(folder, "proofs", n)
    data = [bytes(r[0]) for r in sqlite3.connect(folder / "proofs.db").execute(
        "SELECT entry FROM events WHERE production_id = ? ORDER BY seq", (PRODUCTION,))]
    tree = SqliteTree(str(folder / "proofs-pymerkle.db"))
    tree.append_entries(data)
    assert tree.get_size() == len(data)
    return store, context(s, PRODUCTION, store=store), tree, data


def bench_proofs(store: Store, ctx: Context, tree: Any, data: list[bytes], queries: int,
                 kind: str) -> dict[str, Any]:
    n = len(data)
    rng = random.Random(5)
    if kind == "inclusion":
        pairs = []
        for _ in range(queries):
            size = n if rng.random() < 0.5 else rng.randint(1, n)
            pairs.append((rng.randrange(size), size))
    else:
        pairs = []
        for _ in range(queries):
            size = n if rng.random() < 0.5 else rng.randint(2, n)
            pairs.append((rng.randint(1, size), size))
    ours: list[float] = []
    theirs: list[float] = []
    full: list[float] = []
    with store.engine.connect() as conn:
        reader = store.hash_reader(conn, PRODUCTION)  # what the services use

        def our(a: int, size: int) -> None:
            if kind == "inclusion":
                prove_record(size, a, reader)
            else:
                prove_tree(size, a, reader)

        def their(a: int, size: int) -> None:
            if kind == "inclusion":
                tree.prove_inclusion(a + 1, size)  # pymerkle counts leaves from 1
            else:
                tree.prove_consistency(a, size)

        # Agreement first: both produce the RFC 9162 root for the sizes used.
        for _, size in pairs[:5]:
            assert tree.get_root(size) == tree_hash(size, reader)
        # Warm both up (pymerkle's subroot cache, SQLite's page cache).
        for a, size in pairs[: max(10, queries // 10)]:
            our(a, size)
            their(a, size)
        clock = time.perf_counter
        for i, (a, size) in enumerate(pairs):
            order = (our, their) if i % 2 == 0 else (their, our)
            for fn in order:
                t = clock()
                fn(a, size)
                (ours if fn is our else theirs).append(clock() - t)
    # What the CLI and the API call: its own connection and snapshot, the head,
    # the leaf or old root, the proof and the root, as a JSON-ready dict.
    call = service.inclusion_proof if kind == "inclusion" else service.consistency_proof
    for a, size in pairs[: queries // 4]:
        t = time.perf_counter()
        call(ctx, a, size)
        full.append(time.perf_counter() - t)
    # pymerkle with its subroot cache emptied first, as in a fresh process.
    cold: list[float] = []
    for a, size in pairs[:20]:
        tree.cache_clear()
        t = time.perf_counter()
        their(a, size)
        cold.append(time.perf_counter() - t)
    return {"entries": n, "queries": queries, "ours_median_s": median(ours),
            "pymerkle_median_s": median(theirs), "ours_mean_s": statistics.mean(ours),
            "pymerkle_mean_s": statistics.mean(theirs), "service_median_s": median(full),
            "pymerkle_cold_median_s": median(cold),
            "ratio": median(ours) / median(theirs)}


# ---- s: acknowledged single append ----------------------------------------------------

def bench_single(folder: Path, n: int, rounds: int) -> dict[str, Any]:
    s = settings(folder, "single")
    store = Store(s.database_url)
    act.init_production(store=store, settings=s, production=PRODUCTION, name="Bench", at=T0)
    raw = sqlite3.connect(folder / "single-raw.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=FULL")
    raw.execute("CREATE TABLE events (production_id TEXT NOT NULL, seq INTEGER NOT NULL, "
                "type TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, device TEXT NOT "
                "NULL, entry BLOB NOT NULL, PRIMARY KEY (production_id, seq))")
    pool = texts(31)
    sample = next(note_rows(1, 1, pool))
    payload = {"refers_to": 0, "text": pool[0]}
    seq = [0]

    def ours() -> None:
        with store.write(PRODUCTION) as tx:
            tx.append([NewEvent("note.added", payload)], actor="P1", device="bench", at=T0)

    def raw_append() -> None:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (PRODUCTION, seq[0], *sample[2:]))
        raw.execute("COMMIT")
        seq[0] += 1

    per_round: list[tuple[float, float]] = []
    for r in range(rounds):
        rates: dict[str, float] = {}
        for name, fn in (("ours", ours), ("raw", raw_append)) if r % 2 == 0 else (
                ("raw", raw_append), ("ours", ours)):
            t = time.perf_counter()
            for _ in range(n):
                fn()
            rates[name] = n / (time.perf_counter() - t)
        per_round.append((rates["ours"], rates["raw"]))
    head = store.head(PRODUCTION)
    store.dispose()
    raw.close()
    return {"appends_per_round": n, "rounds": rounds,
            "ours_per_s": [a for a, _ in per_round], "raw_per_s": [b for _, b in per_round],
            "ratio": median([a / b for a, b in per_round]), "ledger_head": head,
            "settings": "WAL, synchronous=FULL, one commit per append"}


# ---- v: verify a 1,000,000-entry ledger ----------------------------------------------

def generate_ledger(folder: Path, name: str, n: int) -> tuple[Store, Settings]:
    """A production created through the services (key file, entry 0, checkpoint),
    then n-1 note.added entries bulk-inserted into the real tables with their
    stored hashes, the head moved and a checkpoint signed through the services:
    a ledger ``verify_ledger`` reads exactly as it reads any other."""
    s = settings(folder, name)
    store = Store(s.database_url)
    ctx = act.init_production(store=store, settings=s, production=PRODUCTION, name="Bench",
                              at=T0)
    head = store.head(PRODUCTION)
    store.dispose()
    db = sqlite3.connect(folder / f"{name}.db", isolation_level=None)
    # Setup only, nothing timed depends on it: a bulk load without a journal.
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")
    mem = MemoryHashes(bytes(h) for (h,) in db.execute(
        "SELECT hash FROM ledger_hashes WHERE production_id = ? ORDER BY idx", (PRODUCTION,)))
    pool = texts(997)
    db.execute("BEGIN IMMEDIATE")
    step = 100_000
    checked = False
    for start in range(head, n, step):
        rows = list(note_rows(start, min(step, n - start), pool))
        if not checked:
            check_rows(rows)
            checked = True
        leaves = [leaf_hash(r[6]) for r in rows]
        base = stored_hash_count(start)
        hashes = stored_hashes_batch(start, leaves, mem)
        mem = _Tail(mem, base, hashes)
        db.executemany("INSERT INTO events (production_id, seq, type, at, actor, device, "
                       "entry) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE "
                   "n + 1 < ?) INSERT INTO ledger_hashes (production_id, idx, hash) "
                   "SELECT ?, ? + n, substr(?, n * 32 + 1, 32) FROM i",
                   (len(hashes), PRODUCTION, base, b"".join(hashes)))
    db.execute("UPDATE productions SET head = ? WHERE id = ?", (n, PRODUCTION))
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    store = Store(s.database_url)
    ctx.store = store
    sign_checkpoint(ctx, reason="bench", at=T0)
    return store, s


class _Tail:
    """Stored hashes: everything before ``base`` from ``older``, then ``hashes``."""

    def __init__(self, older: Any, base: int, hashes: list[bytes]) -> None:
        self.older, self.base, self.hashes = older, base, hashes

    def read_hashes(self, indexes: Any) -> list[bytes]:
        return [self.hashes[i - self.base] if i >= self.base else
                self.older.read_hashes([i])[0] for i in indexes]


def hashlib_baseline(path: Path) -> tuple[float, int, int]:
    """Seconds for ``hashlib.sha256(entry).digest()`` over every entry, read in
    the same chunks as verify (reading not timed); entry count; total bytes."""
    db = sqlite3.connect(path)
    sha = hashlib.sha256
    total = 0.0
    count = size = 0
    last = -1
    while True:
        chunk = [bytes(e) for (e,) in db.execute(
            "SELECT entry FROM events WHERE production_id = ? AND seq > ? ORDER BY seq "
            "LIMIT ?", (PRODUCTION, last, CHUNK))]
        if not chunk:
            break
        last += len(chunk)
        t = time.perf_counter()
        [sha(e).digest() for e in chunk]
        total += time.perf_counter() - t
        count += len(chunk)
        size += sum(map(len, chunk))
    db.close()
    return total, count, size


def bench_verify(folder: Path, n: int, rounds: int) -> dict[str, Any]:
    t = time.perf_counter()
    store, s = generate_ledger(folder, "verify", n)
    store.dispose()
    generated = time.perf_counter() - t
    runs: list[dict[str, Any]] = []
    for _ in range(rounds):
        base, count, size = hashlib_baseline(folder / "verify.db")
        ctx = context(s, PRODUCTION)
        gc.collect()
        t, cpu = time.perf_counter(), time.process_time()
        report = verify_ledger(ctx)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        ctx.store.dispose()
        assert report.ok, [f.line() for f in report.failures]
        assert report.entries == count == n
        tm = report.timings
        runs.append({
            "wall_s": wall, "entries_per_s": n / wall, "cpu_s": cpu,
            "entries_per_cpu_s": n / cpu, "hashlib_s": base,
            "merkle_s": tm["merkle"], "read_hashes_s": tm["read_hashes"],
            "merkle_ratio": tm["merkle"] / base,
            "merkle_with_hash_reads_ratio": (tm["merkle"] + tm["read_hashes"]) / base,
            "timings": tm, "entry_bytes": size, "stored_hashes": report.stored_hashes,
        })
    best = min(runs, key=lambda x: x["wall_s"])
    return {"entries": n, "generate_s": generated, "rounds": runs,
            "entries_per_s": median([x["entries_per_s"] for x in runs]),
            "entries_per_cpu_s": median([x["entries_per_cpu_s"] for x in runs]),
            "merkle_ratio": median([x["merkle_ratio"] for x in runs]),
            "merkle_with_hash_reads_ratio": median(
                [x["merkle_with_hash_reads_ratio"] for x in runs]),
            "best": best}


# ---- main ------------------------------------------------------------------------------

def fmt_t(s: float) -> str:
    return f"{s * 1e6:,.0f} µs" if s < 1e-2 else f"{s * 1e3:,.1f} ms"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    ap.add_argument("--only", default="p,c,b,s,v", help="subset of p,c,b,s,v")
    ap.add_argument("--dir", type=Path, default=None, help="folder for the databases")
    ap.add_argument("--verify-entries", type=int, default=None,
                    help="ledger size for v (default 1,000,000; --quick 100,000)")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    quick = args.quick
    n_proof = 20_000 if quick else 100_000
    n_batch = 20_000 if quick else 100_000
    n_verify = args.verify_entries or (100_000 if quick else 1_000_000)

    import pymerkle

    out: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(), "python": sys.version.split()[0],
        "platform": platform.platform(), "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version, "pymerkle": pymerkle.__version__,
        "quick": quick, "cpu_yardstick": cpu_yardstick(),
    }
    rows: list[tuple[str, str, str, str, str]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coldcheck-bench-ledger-",
                                     dir=args.dir) as tmp:
        folder = Path(tmp)
        if only & {"p", "c"}:
            store, ctx, tree, data = proof_store(folder, n_proof)
            queries = 300 if quick else 1000
            if "p" in only:
                r = out["p_inclusion"] = bench_proofs(store, ctx, tree, data, queries,
                                                      "inclusion")
                rows.append(("p", f"inclusion proof, {len(data):,} entries",
                             fmt_t(r["ours_median_s"]), fmt_t(r["pymerkle_median_s"]),
                             f"{r['ratio']:.3f}x time (aim <= 0.1)"))
                rows.append(("p", "  service call (CLI/API); pymerkle cold cache",
                             fmt_t(r["service_median_s"]), fmt_t(r["pymerkle_cold_median_s"]),
                             ""))
            if "c" in only:
                r = out["c_consistency"] = bench_proofs(store, ctx, tree, data, queries,
                                                        "consistency")
                rows.append(("c", f"consistency proof, {len(data):,} entries",
                             fmt_t(r["ours_median_s"]), fmt_t(r["pymerkle_median_s"]),
                             f"{r['ratio']:.3f}x time (aim <= 0.5)"))
                rows.append(("c", "  service call (CLI/API); pymerkle cold cache",
                             fmt_t(r["service_median_s"]), fmt_t(r["pymerkle_cold_median_s"]),
                             ""))
            store.dispose()
            tree.close()
        if "b" in only:
            r = out["b_batch"] = bench_batch(folder, n_batch, 2 if quick else 4)
            rows.append(("b", f"batch append of {n_batch:,}, one transaction",
                         f"{median(r['ours_per_s']):,.0f}/s",
                         f"{median(r['pymerkle_per_s']):,.0f}/s",
                         f"{r['ratio']:.2f}x rate (aim >= 2)"))
            rows.append(("b", "  hashes as one value split by SQLite",
                         f"{median(r['ours_blob_per_s']):,.0f}/s", "",
                         f"{r['ratio_blob']:.2f}x rate"))
            rows.append(("b", "  hashes only (entries are in events)",
                         f"{median(r['ours_hashes_only_per_s']):,.0f}/s", "",
                         f"{r['ratio_hashes_only']:.2f}x rate"))
            rows.append(("b", "  floor: the entries alone, no hash at all",
                         f"{median(r['entries_only_per_s']):,.0f}/s", "",
                         f"{r['ratio_entries_only']:.2f}x rate"))
        if "s" in only:
            r = out["s_single"] = bench_single(folder, 200 if quick else 500, 4 if quick else 6)
            rows.append(("s", "acknowledged append, commit each",
                         f"{median(r['ours_per_s']):,.0f}/s",
                         f"raw sqlite {median(r['raw_per_s']):,.0f}/s",
                         f"{r['ratio']:.2f}x rate"))
        if "v" in only:
            r = out["v_verify"] = bench_verify(folder, n_verify, 1 if quick else 2)
            b = r["best"]
            rows.append(("v", f"verify Merkle part, {n_verify:,} entries",
                         f"{b['merkle_s']:.2f} s", f"hashlib {b['hashlib_s']:.2f} s",
                         f"{r['merkle_ratio']:.2f}x time (aim <= 3)"))
            rows.append(("v", "  + reading the stored hashes", f"{b['read_hashes_s']:.2f} s",
                         "", f"{r['merkle_with_hash_reads_ratio']:.2f}x time"))
            rows.append(("v", "whole verify, projections included", f"{b['wall_s']:.2f} s",
                         "", f"{r['entries_per_s']:,.0f} entries/s (aim >= 100,000)"))
            rows.append(("v", "  per CPU second (busy machine: wall > CPU)",
                         f"{b['cpu_s']:.2f} s", "",
                         f"{r['entries_per_cpu_s']:,.0f} entries/s"))
    out["elapsed_s"] = time.perf_counter() - started
    y = out["cpu_yardstick"]
    out["load_average"] = os.getloadavg()
    print(f"coldcheck ledger benchmarks ({'quick' if quick else 'full'}), python "
          f"{out['python']}, sqlite {out['sqlite']}, pymerkle {out['pymerkle']}, "
          f"{out['cpus']} cpus")
    print(f"cpu yardstick: sum(range(1000)) {y['sum_range_1000_us']:.1f} µs, sha256 of one "
          f"entry {y['sha256_entry_us']:.2f} µs; load average at the end "
          + ", ".join(f"{x:.1f}" for x in out["load_average"]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)] if rows else [0] * 5
    head = ("", "what", "coldcheck", "pymerkle / baseline", "ratio")
    widths = [max(w, len(h)) for w, h in zip(widths, head, strict=True)]
    for r in (head, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"elapsed {out['elapsed_s']:.0f} s")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"ledger-{stamp}.json"
    path.write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(RESULTS.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
