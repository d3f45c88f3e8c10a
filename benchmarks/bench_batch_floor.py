"""The budget of row b (batch append of 100,000 entries, aim >= 2x pymerkle's
rate), piece by piece: what storing the entries as rows costs with no hash at
all, and what the hashes alone cost, against the time the aim allows.

Run:  .venv/bin/python benchmarks/bench_batch_floor.py   (about 30 s)

Every figure is the best of five rounds in this run (a neighbour can only
slow a round down). Entries are about 340 bytes of text, as in
bench_ledger.py. Bare sqlite3 and hashlib, no coldcheck code: this measures
the floor any implementation of the design (events as rows) stands on.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from operator import methodcaller
from pathlib import Path

N = 100_000
ROUNDS = 5


def best(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    from pymerkle import SqliteTree

    rng = random.Random(1)
    data = [bytes(rng.getrandbits(8) for _ in range(170)).hex().encode() for _ in range(N)]
    sha = hashlib.sha256
    folder = Path(tempfile.mkdtemp(prefix="coldcheck-floor-"))

    def fresh(name: str) -> Path:
        path = folder / name
        for p in folder.glob(name + "*"):
            p.unlink()
        return path

    def pymerkle() -> None:
        tree = SqliteTree(str(fresh("pymerkle.db")))
        tree.append_entries(data)
        tree.close()

    def entries_only() -> None:
        db = sqlite3.connect(fresh("entries.db"), isolation_level=None)
        db.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO entries VALUES (?, ?)", enumerate(data))
        db.execute("COMMIT")
        db.close()

    leaves: list[bytes] = []

    def leaf_hashes() -> None:
        leaves[:] = [sha(b"\0" + e).digest() for e in data]

    def leaf_hashes_map() -> None:
        list(map(methodcaller("digest"), map(sha, [b"\0" + e for e in data])))

    def node_hashes() -> None:
        level = leaves
        while len(level) > 1:
            level = [sha(b"\1" + level[i] + level[i + 1]).digest()
                     for i in range(0, len(level) - 1, 2)]

    theirs = best(pymerkle)
    budget = theirs / 2
    rows = [("pymerkle append_entries", theirs),
            ("entries as rows, no hash", best(entries_only)),
            ("leaf hashes, list comprehension", best(leaf_hashes)),
            ("leaf hashes, map", best(leaf_hashes_map)),
            ("interior node hashes", best(node_hashes))]
    print(f"{N:,} entries of about {len(data[0])} bytes; best of {ROUNDS}")
    print(f"budget at the aim (2x pymerkle's rate): {budget * 1e3:.0f} ms")
    for what, t in rows:
        print(f"  {what:34s} {t * 1e3:7.0f} ms  {t / budget:5.2f}x the budget")
    for p in folder.iterdir():
        p.unlink()
    os.rmdir(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
