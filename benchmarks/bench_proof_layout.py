"""What the stored-hash layout costs an inclusion proof's database read.

Run:  .venv/bin/python benchmarks/bench_proof_layout.py [--n 100000] [--reads 3000]

The part of a warm inclusion proof that SQLite answers (issue 4's "inclusion
proof" aim): the process keeps the upper levels of the tree in its cache, so
what is read per proof are the siblings of the audit path on the lower levels,
about eight of them on a 100,000-entry tree, each under a different leaf of
the index. This benchmark stores the same stored hashes (computed with
coldcheck's ledger library) in several layouts on one SQLite file and reads
the eight lowest siblings of random leaves from each, interleaved:

  rowid      coldcheck's ledger_hashes before migration 0004: rowid table,
             primary key (production_id TEXT, idx), one ``idx IN (...)`` query
  no-rowid   the same table WITHOUT ROWID (one b-tree instead of two): the
             layout coldcheck has used since migration 0004
  int-key    one INTEGER PRIMARY KEY per hash: production number << 48 | idx
  tile-8     one row per 256-leaf subtree holding its 511 hashes (16 KB blob)
  tile-4     one row per 16-leaf subtree and level band (levels 0-3, 4-7):
             30 hashes (960 bytes) a row, two rows a proof

Nothing here is what coldcheck runs; it measures how much room a layout change
could make, and so whether one is worth a migration. Not a test: nothing is
asserted except that every layout returns the same hashes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable

from coldcheck.ledger import MemoryHashes, leaf_hash, stored_hashes_batch
from coldcheck.ledger.merkle import stored_hash_index

PRODUCTION = "bench-production-0000000000000000000"  # as long as a real id
LOW = 8  # levels below this are what the proof cache does not hold


def build(path: str, n: int) -> tuple[sqlite3.Connection, list[bytes]]:
    leaves = [leaf_hash(hashlib.sha256(i.to_bytes(8, "big")).digest() * 10) for i in range(n)]
    hashes = stored_hashes_batch(0, leaves, MemoryHashes([]))
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    for name, extra in (("rowid", ""), ("norowid", " WITHOUT ROWID")):
        db.execute(f"CREATE TABLE {name} (production_id VARCHAR(64) NOT NULL, idx BIGINT NOT "
                   f"NULL, hash BLOB NOT NULL, PRIMARY KEY (production_id, idx)){extra}")
        db.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)",
                       ((PRODUCTION, i, h) for i, h in enumerate(hashes)))
    db.execute("CREATE TABLE intkey (k INTEGER PRIMARY KEY, hash BLOB NOT NULL)")
    db.executemany("INSERT INTO intkey VALUES (?, ?)",
                   (((1 << 48) | i, h) for i, h in enumerate(hashes)))
    for name in ("tile8", "tile4"):
        db.execute(f"CREATE TABLE {name} (production_id VARCHAR(64) NOT NULL, tile BIGINT NOT "
                   "NULL, hashes BLOB NOT NULL, PRIMARY KEY (production_id, tile))")
    for t in range(n >> 8):
        lo, hi = stored_hash_index(0, t << 8), stored_hash_index(8, t)
        db.execute("INSERT INTO tile8 VALUES (?, ?, ?)",
                   (PRODUCTION, t, b"".join(hashes[lo:hi + 1])))
    for band in range(2):
        base = 4 * band
        for t in range(n >> (base + 4)):
            row = b"".join(hashes[stored_hash_index(lv, (t << (base + 4 - lv)) + j)]
                           for lv in range(base, base + 4)
                           for j in range(1 << (base + 4 - lv)))
            db.execute("INSERT INTO tile4 VALUES (?, ?, ?)", (PRODUCTION, (band << 40) | t, row))
    db.execute("COMMIT")
    return db, hashes


def siblings(leaf: int) -> list[tuple[int, int]]:
    """(level, index) of the audit path's siblings on the lower levels."""
    return [(lv, (leaf >> lv) ^ 1) for lv in range(LOW)]


def readers(db: sqlite3.Connection) -> dict[str, Callable[[int], list[bytes]]]:
    cur = db.cursor()
    marks = ", ".join("?" * LOW)

    def by_index(table: str) -> Callable[[int], list[bytes]]:
        sql = f"SELECT idx, hash FROM {table} WHERE production_id = ? AND idx IN ({marks})"

        def read(leaf: int) -> list[bytes]:
            want = [stored_hash_index(lv, i) for lv, i in siblings(leaf)]
            found = dict(cur.execute(sql, (PRODUCTION, *sorted(want))).fetchall())
            return [found[i] for i in want]
        return read

    def intkey(leaf: int) -> list[bytes]:
        want = [(1 << 48) | stored_hash_index(lv, i) for lv, i in siblings(leaf)]
        found = dict(cur.execute(f"SELECT k, hash FROM intkey WHERE k IN ({marks})",
                                 sorted(want)).fetchall())
        return [found[i] for i in want]

    def tile8(leaf: int) -> list[bytes]:
        t = leaf >> 8
        (blob,) = cur.execute("SELECT hashes FROM tile8 WHERE production_id = ? AND tile = ?",
                              (PRODUCTION, t)).fetchone()
        base = stored_hash_index(0, t << 8)
        out = []
        for lv, i in siblings(leaf):
            o = (stored_hash_index(lv, i) - base) * 32
            out.append(blob[o:o + 32])
        return out

    def tile4(leaf: int) -> list[bytes]:
        keys = [leaf >> 4, (1 << 40) | (leaf >> 8)]
        rows = dict(cur.execute("SELECT tile, hashes FROM tile4 WHERE production_id = ? AND "
                                "tile IN (?, ?)", (PRODUCTION, *keys)).fetchall())
        out = []
        for lv, i in siblings(leaf):
            band = lv // 4
            blob = rows[keys[band]]
            # Offset: the bands' levels are stored widest first.
            top = 4 * band + 4
            o = sum(1 << (top - x) for x in range(4 * band, lv)) + (i & ((1 << (top - lv)) - 1))
            out.append(blob[o * 32:o * 32 + 32])
        return out

    return {"rowid": by_index("rowid"), "no-rowid": by_index("norowid"), "int-key": intkey,
            "tile-8": tile8, "tile-4": tile4}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="entries in the tree")
    ap.add_argument("--reads", type=int, default=3000, help="proof reads per layout")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="coldcheck-bench-layout-") as tmp:
        db, hashes = build(os.path.join(tmp, "layouts.db"), args.n)
        fns = readers(db)
        rng = random.Random(11)
        # Leaves of complete 256-leaf subtrees: a partial one has no tile yet (its
        # hashes would come from rows, as now).
        whole = (args.n >> 8) << 8
        leaves = [rng.randrange(whole) for _ in range(args.reads + 300)]
        for leaf in leaves[:50]:  # every layout returns the same hashes
            want = [hashes[stored_hash_index(lv, i)] for lv, i in siblings(leaf)]
            for name, fn in fns.items():
                assert fn(leaf) == want, name
        times: dict[str, list[float]] = {k: [] for k in fns}
        names = list(fns)
        clock = time.perf_counter
        for k, leaf in enumerate(leaves):
            for name in names if k % 2 == 0 else names[::-1]:
                t = clock()
                fns[name](leaf)
                if k >= 300:  # after a warm-up of SQLite's page cache
                    times[name].append(clock() - t)
        base = statistics.median(times["rowid"])
        print(f"proof read of the {LOW} lowest siblings, {args.n:,} entries, "
              f"sqlite {sqlite3.sqlite_version}, median of {args.reads:,} random leaves")
        for name in names:
            m = statistics.median(times[name])
            print(f"  {name:9} {m * 1e6:6.1f} µs   {m / base:.2f}x of rowid")


if __name__ == "__main__":
    main()
