"""What coldcheck's schema costs an acknowledged append, before any Python.

Run:  .venv/bin/python benchmarks/bench_schema.py [--rounds 8] [--n 500]

Bare sqlite3 on files in one temporary folder, WAL + synchronous=FULL, one
commit per append, rounds interleaved. Each row issues the statements of one
coldcheck append (read the head, insert the event, insert its two stored
hashes, upsert one projection row, move the head) on a variant of the schema,
and is compared with a one-row-per-commit loop (the baseline of issue 4's
"acknowledged append" aim). The schema before migration 0004 (every table
with a rowid) and as it is (``ledger_hashes`` WITHOUT ROWID); then what one
would try to lift the floor further: WITHOUT ROWID tables (one b-tree per
table instead of table plus primary-key index), the stored hashes kept in
the event's row instead of their own table, and no projection row. Nothing
here is what coldcheck runs; it measures how much room a schema change could
make. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable

ENTRY = (b'{"actor":"P1","at":"2026-11-24T07:00:00.000000Z","device":"bench","payload":'
         b'{"action":"witness IN3","failures":1,"person":"P1"},"production":"bench",'
         b'"seq":123,"type":"person.pin_failed"}')
DATA = ('{"badge":"B-1","failures":1,"id":"P1","name":"Pat Doe","qualified":[],'
        '"roles":["performer"]}')


def connect(folder: str, name: str) -> sqlite3.Connection:
    db = sqlite3.connect(os.path.join(folder, name + ".db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def one_row(folder: str) -> Callable[[], None]:
    db = connect(folder, "one-row")
    db.execute("CREATE TABLE events (production_id TEXT NOT NULL, seq INTEGER NOT NULL, "
               "type TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, device TEXT NOT "
               "NULL, entry BLOB NOT NULL, PRIMARY KEY (production_id, seq))")
    seq = [0]

    def append() -> None:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                   ("bench", seq[0], "person.pin_failed", "2026-11-24T07:00:00.000000Z",
                    "P1", "bench", ENTRY))
        db.execute("COMMIT")
        seq[0] += 1
    return append


def variant(folder: str, name: str, *, without_rowid: bool, hashes_inline: bool,
            projection: bool, hashes_without_rowid: bool = True) -> Callable[[], None]:
    db = connect(folder, name)
    w = " WITHOUT ROWID" if without_rowid else ""
    wh = " WITHOUT ROWID" if without_rowid or hashes_without_rowid else ""
    db.execute(f"CREATE TABLE productions (id TEXT PRIMARY KEY, head INTEGER NOT NULL){w}")
    db.execute("CREATE TABLE events (production_id TEXT NOT NULL, seq INTEGER NOT NULL, "
               "type TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, device TEXT NOT "
               f"NULL, entry BLOB NOT NULL, hashes BLOB, PRIMARY KEY (production_id, seq)){w}")
    db.execute("CREATE TABLE ledger_hashes (production_id TEXT NOT NULL, idx INTEGER NOT "
               f"NULL, hash BLOB NOT NULL, PRIMARY KEY (production_id, idx)){wh}")
    db.execute("CREATE TABLE projections (production_id TEXT NOT NULL, kind TEXT NOT NULL, "
               "entity_id TEXT NOT NULL, data TEXT NOT NULL, seq INTEGER NOT NULL, "
               f"PRIMARY KEY (production_id, kind, entity_id)){w}")
    db.execute("INSERT INTO productions VALUES ('bench', 0)")
    db.executemany("INSERT INTO projections VALUES ('bench', 'person', ?, ?, 0)",
                   [(f"P{i}", DATA) for i in range(50)])
    h = hashlib.sha256(ENTRY).digest()

    def append() -> None:
        db.execute("BEGIN IMMEDIATE")
        head = db.execute("SELECT head FROM productions WHERE id = ?", ("bench",)).fetchone()[0]
        db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   ("bench", head, "person.pin_failed", "2026-11-24T07:00:00.000000Z", "P1",
                    "bench", ENTRY, h + h if hashes_inline else None))
        if not hashes_inline:
            db.executemany("INSERT INTO ledger_hashes VALUES (?, ?, ?)",
                           [("bench", 2 * head, h), ("bench", 2 * head + 1, h)])
        if projection:
            db.execute("INSERT INTO projections VALUES (?, ?, ?, ?, ?) ON CONFLICT "
                       "(production_id, kind, entity_id) DO UPDATE SET data = excluded.data, "
                       "seq = excluded.seq", ("bench", "person", "P7", DATA, head))
        db.execute("UPDATE productions SET head = ? WHERE id = ? AND head = ?",
                   (head + 1, "bench", head))
        db.execute("COMMIT")
    return append


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--n", type=int, default=500, help="appends per subject per round")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(__file__))) as folder:
        subjects = {
            "one row per commit (baseline)": one_row(folder),
            "coldcheck's schema before migration 0004": variant(
                folder, "before-0004", without_rowid=False, hashes_inline=False,
                projection=True, hashes_without_rowid=False),
            "coldcheck's schema as it is (hashes WITHOUT ROWID)": variant(
                folder, "as-is", without_rowid=False, hashes_inline=False, projection=True),
            "WITHOUT ROWID tables": variant(folder, "wr", without_rowid=True,
                                            hashes_inline=False, projection=True),
            "WITHOUT ROWID, hashes in the event row": variant(
                folder, "inline", without_rowid=True, hashes_inline=True, projection=True),
            "that, and no projection row": variant(folder, "bare", without_rowid=True,
                                                   hashes_inline=True, projection=False),
        }
        for fn in subjects.values():
            for _ in range(max(50, args.n // 2)):
                fn()
        rates: dict[str, list[float]] = {k: [] for k in subjects}
        for _ in range(args.rounds):
            for k, fn in subjects.items():
                t = time.perf_counter()
                for _ in range(args.n):
                    fn()
                rates[k].append(args.n / (time.perf_counter() - t))
    base = rates["one row per commit (baseline)"]
    print(f"{'bare sqlite3, WAL + synchronous=FULL, one commit each':52s} {'rate':>9s}  ratio")
    for k, v in rates.items():
        ratio = statistics.median(x / y for x, y in zip(v, base, strict=True))
        print(f"{k:52s} {statistics.median(v):8,.0f}/s  {ratio:.2f}")


if __name__ == "__main__":
    main()
