"""Append and rebuild benchmarks for the coldcheck event store (SQLite).

Run:  .venv/bin/python benchmarks/bench_append.py [--quick] [--only a,b,c,d,e]

Prints a table and writes benchmarks/results/append-<time>.json. Every figure
is measured in this run, on SQLite files in one temporary folder on the same
disk, with WAL and synchronous=FULL: an acknowledged append is on disk.

  a   raw sqlite3: BEGIN IMMEDIATE; one INSERT of an entry-sized row; COMMIT
  a2  raw sqlite3: the same rows and statements as one coldcheck append (the
      floor for b: what the schema costs with zero Python around it)
  b   coldcheck: Store.write() + Tx.append() of one person.pin_failed event per
      transaction (event, ledger hashes, projection row, head; then commit)
  c   eventsourcing 9.x: an Application recording one event per call (SQLite)
  d   8 threads appending to one production: group commit (services.core.execute)
      against one transaction per event (Store.write per event)
  e   projection rebuild (Store.rebuild) on a production of >= 50,000 events

a, a2, b and c run interleaved in rounds so that a noisy disk or neighbour hits
them alike; ratios are medians of the per-round ratios. Benchmarks are not tests:
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from coldcheck.config import Settings
from coldcheck.domain import custody
from coldcheck.domain import production as prod
from coldcheck.domain.events import Event, NewEvent, utc_text
from coldcheck.domain.state import ProductionState
from coldcheck.persistence.store import Store
from coldcheck.services import actions as act

RESULTS = Path(__file__).resolve().parent / "results"
T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
PIN_FAILED = {"failures": 1, "action": "witness IN3"}


def settings(folder: Path, name: str) -> Settings:
    return Settings(database_url=str(folder / f"{name}.db"), key_dir=folder / f"{name}.keys",
                    argon2_profile="fast-insecure-for-tests", device="bench")


def new_production(folder: Path, name: str) -> tuple[Store, Any, str]:
    s = settings(folder, name)
    store = Store(s.database_url)
    ctx = act.init_production(store=store, settings=s, production="bench", name="Bench",
                              at=T0)
    person = act.add_person(ctx, name="Pat Doe", roles=["performer"], badge="B-1", pin=None,
                            at=T0)[0].payload["person"]
    return store, ctx, person


def pin_failed(person: str) -> list[NewEvent]:
    return [NewEvent("person.pin_failed", dict(PIN_FAILED, person=person))]


def sample_entry(person: str) -> bytes:
    return Event("bench", 123, "person.pin_failed", utc_text(T0), person, "bench",
                 dict(PIN_FAILED, person=person)).entry()


# ---- a: raw sqlite3 ----------------------------------------------------------

class RawSqlite:
    """One row per commit, in an events-shaped table, WAL + synchronous=FULL."""

    def __init__(self, path: Path, entry: bytes) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE events (production_id TEXT NOT NULL, seq INTEGER NOT "
                        "NULL, type TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, "
                        "device TEXT NOT NULL, entry BLOB NOT NULL, "
                        "PRIMARY KEY (production_id, seq))")
        self.entry, self.seq = entry, 0

    def append(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                        ("bench", self.seq, "person.pin_failed", "2026-11-24T07:00:00.000000Z",
                         "P1", "bench", self.entry))
        self.db.execute("COMMIT")
        self.seq += 1


class RawFloor:
    """What one coldcheck append asks of SQLite, issued straight from sqlite3 on a
    coldcheck schema: read the head, insert the event and its two stored hashes,
    upsert one projection row, move the head, commit."""

    def __init__(self, store: Store, entry: bytes, person: str) -> None:
        path = store.engine.url.database
        assert path is not None
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("INSERT INTO productions (id, name, origin, key_name, verifier_key, "
                        "created_at, head) VALUES ('floor', 'f', 'o', 'k', 'v', 'now', 0)")
        self.entry = entry
        self.data = json.dumps(store.state("bench").entity("person", person),
                               sort_keys=True, separators=(",", ":"))

    def append(self) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        head = db.execute("SELECT head FROM productions WHERE id = ?", ("floor",)).fetchone()[0]
        db.execute("INSERT INTO events (production_id, seq, type, at, actor, device, entry) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", ("floor", head, "person.pin_failed",
                                                    "2026-11-24T07:00:00.000000Z", "P1",
                                                    "bench", self.entry))
        h = hashlib.sha256(self.entry).digest()
        db.executemany("INSERT INTO ledger_hashes (production_id, idx, hash) VALUES (?, ?, ?)",
                       [("floor", 2 * head, h), ("floor", 2 * head + 1, h)])
        db.execute("INSERT INTO projections (production_id, kind, entity_id, data, seq) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT (production_id, kind, entity_id) "
                   "DO UPDATE SET data = excluded.data, seq = excluded.seq",
                   ("floor", "person", "P1", self.data, head))
        db.execute("UPDATE productions SET head = ? WHERE id = ? AND head = ?",
                   (head + 1, "floor", head))
        db.execute("COMMIT")


# ---- c: eventsourcing ----------------------------------------------------------

def eventsourcing_app(folder: Path) -> tuple[Callable[[], None], dict[str, str]]:
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Person(Aggregate):
        @event("Added")
        def __init__(self, name: str) -> None:
            self.name, self.failures = name, 0

        @event("PinFailed")
        def pin_failed(self, failures: int, action: str) -> None:
            self.failures = failures

    class People(Application[Any]):
        def add(self, name: str) -> Any:
            p = Person(name)
            self.save(p)
            return p.id

        def fail(self, ident: Any) -> None:
            p = self.repository.get(ident)
            p.pin_failed(failures=1, action="witness IN3")
            self.save(p)

    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
           "SQLITE_DBNAME": str(folder / "eventsourcing.db"),
           "AGGREGATE_CACHE_MAXSIZE": "100"}  # like coldcheck's cached state: no replay
    app = People(env=env)
    ident = app.add("Pat Doe")
    db = sqlite3.connect(folder / "eventsourcing.db")
    env["journal_mode"] = db.execute("PRAGMA journal_mode").fetchone()[0]
    env["synchronous (default)"] = str(db.execute("PRAGMA synchronous").fetchone()[0])
    db.close()
    return (lambda: app.fail(ident)), env


# ---- rounds ----------------------------------------------------------------------

def timed(fn: Callable[[], None], n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t)


def bench_single(folder: Path, rounds: int, n: int, only: set[str]) -> dict[str, Any]:
    store, _, person = new_production(folder, "single")
    entry = sample_entry(person)
    raw = RawSqlite(folder / "raw.db", entry)
    floor = RawFloor(store, entry, person)

    def coldcheck() -> None:
        with store.write("bench") as tx:
            tx.append(pin_failed(person), actor=person, device="bench", at=T0)

    subjects: dict[str, Callable[[], None]] = {"a": raw.append, "a2": floor.append,
                                               "b": coldcheck}
    es_env: dict[str, str] = {}
    if "c" in only:
        es, es_env = eventsourcing_app(folder)
        subjects["c"] = es
    for fn in subjects.values():  # warm up: caches, first pages, first checkpoint
        for _ in range(max(20, n // 10)):
            fn()
    per: dict[str, list[float]] = {k: [] for k in subjects}
    for _ in range(rounds):
        for k, fn in subjects.items():
            per[k].append(timed(fn, n))
    ratios = {f"{k}/a": statistics.median(x / y for x, y in zip(per[k], per["a"], strict=True))
              for k in subjects if k != "a"}
    out = {"appends_per_round": n, "rounds": rounds,
           "per_second": {k: statistics.median(v) for k, v in per.items()},
           "per_round": per, "ratios": ratios, "eventsourcing_env": es_env,
           "entry_bytes": len(entry)}
    store.dispose()
    return out


# ---- d: eight threads --------------------------------------------------------------

def bench_threads(folder: Path, threads: int, per_thread: int, rounds: int) -> dict[str, Any]:
    from coldcheck.persistence.group import committer
    from coldcheck.services.core import execute

    store, ctx, person = new_production(folder, "threads")

    def one_commit_per_event() -> None:
        with store.write("bench") as tx:
            tx.append(pin_failed(person), actor=person, device="bench", at=T0)

    def grouped() -> None:
        execute(ctx, lambda s: pin_failed(person), actor=person, at=T0)

    def run(fn: Callable[[], None]) -> float:
        start = threading.Barrier(threads + 1)

        def worker() -> None:
            start.wait()
            for _ in range(per_thread):
                fn()

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for th in pool:
            th.start()
        start.wait()
        t = time.perf_counter()
        for th in pool:
            th.join()
        return threads * per_thread / (time.perf_counter() - t)

    group = committer(store, "bench")
    per: dict[str, list[float]] = {"single": [], "group": []}
    run(grouped)  # warm up
    c0, a0 = group.commits, group.acknowledged
    for _ in range(rounds):
        per["single"].append(run(one_commit_per_event))
        per["group"].append(run(grouped))
    out = {"threads": threads, "appends_per_thread": per_thread, "rounds": rounds,
           "per_second": {k: statistics.median(v) for k, v in per.items()}, "per_round": per,
           "ratio_group/single": statistics.median(
               g / s for g, s in zip(per["group"], per["single"], strict=True)),
           "mean_group_size": (group.acknowledged - a0) / max(1, group.commits - c0),
           "largest_group": group.largest}
    store.dispose()
    return out


# ---- e: rebuild ------------------------------------------------------------------

def custody_day(folder: Path, events: int) -> tuple[Store, int, float]:
    """A production whose record is mostly custody cycles (inspect, issue, return,
    store) of six weapons by three performers, with wrong PINs and notes between:
    decided by the domain against the live state, appended in large batches."""
    s = settings(folder, "rebuild")
    store = Store(s.database_url)
    ctx = act.init_production(store=store, settings=s, production="bench", name="Bench",
                              at=T0)
    ctx.clock = lambda: T0 + timedelta(minutes=1)
    arm = act.add_person(ctx, name="Sam Reyes", roles=["armorer"], badge="B-A", pin=None,
                         qualification_expires="2030-12-31")[0].payload["person"]
    sup = act.add_person(ctx, name="Lee Okafor", roles=["safety_supervisor"], badge="B-S",
                         pin=None)[0].payload["person"]
    performers = [act.add_person(ctx, name=f"Performer {i}", roles=["performer"],
                                 badge=f"B-P{i}", pin=None)[0].payload["person"]
                  for i in range(3)]
    for p in performers:
        act.brief(ctx, person=p, briefed_by=sup, topic="Weapons safety briefing")
    cart = act.add_storage(ctx, name="Cart 1", kind="cart", actor=arm)[0].payload["storage"]
    weapons = [act.receive_weapon(ctx, armorer=arm, serial=f"REP-{i:03}", make="Denix",
                                  model="replica", calibre=".45 Colt",
                                  kind="non_firing_replica", chambers=6, magazine_capacity=0,
                                  storage=cart)[0].payload["weapon"] for i in range(6)]
    act.open_day(ctx, date="2026-11-24", actor=arm)
    scene = act.plan_scene(ctx, actor=arm, name="Rehearsal", hot=False, rehearsal=True,
                           weapons=weapons, performers=performers)[0].payload["scene"]
    empty = [{"position": f"cylinder {i}", "content": "empty"} for i in range(1, 7)]
    at = T0 + timedelta(minutes=2)
    t = time.perf_counter()
    Step = tuple[str, Callable[[ProductionState], list[NewEvent]]]

    def cycle(w: str, p: str, k: int) -> list[Step]:
        return [
            (arm, lambda s: custody.inspect(s, weapon=w, armorer=arm, positions=empty,
                                            barrel_clear=True, magazine_checked=False, at=at)),
            (arm, lambda s: custody.issue(s, weapon=w, armorer=arm, performer=p, scene=scene,
                                          at=at)),
            (arm, lambda s: custody.return_weapon(s, weapon=w, performer=p, armorer=arm,
                                                  at=at)),
            (arm, lambda s: custody.store(s, weapon=w, storage=cart, armorer=arm, at=at)),
            (p, lambda s: [NewEvent("person.pin_failed", dict(PIN_FAILED, person=p))]),
            (p, lambda s: prod.add_note(s, refers_to=k, text_=f"take {k} noted")),
        ]

    k = 0
    while store.head("bench") < events:
        with store.write("bench") as tx:
            for _ in range(250):
                for actor, decide in cycle(weapons[k % 6], performers[k % 3], k):
                    tx.append(decide(tx.state), actor=actor, device="bench", at=at)
                k += 1
    n = store.head("bench")
    return store, n, n / (time.perf_counter() - t)


def bench_rebuild(folder: Path, events: int, rounds: int) -> dict[str, Any]:
    store, n, gen_rate = custody_day(folder, events)
    live = store.projection_rows("bench")
    rates = []
    for _ in range(rounds):
        fresh = Store(store.url)  # a cold process: nothing cached
        t = time.perf_counter()
        replayed = fresh.rebuild("bench")
        rates.append(replayed / (time.perf_counter() - t))
        fresh.dispose()
    same = store.projection_rows("bench") == live
    store.dispose()
    # CPU-bound: a busy neighbour only ever slows a round down, so the best round
    # is the estimate of the code's own speed (as timeit reports); median kept too.
    return {"events": n, "projection_rows": len(live), "rounds": rounds,
            "events_per_second": max(rates), "median_events_per_second":
                statistics.median(rates), "per_round": rates,
            "rebuild_reproduces_live_rows": same, "generation_events_per_second": gen_rate}


# ---- report ------------------------------------------------------------------------

def yardstick() -> dict[str, float]:
    """Two CPU-only timings, to compare runs on different machines (microseconds)."""
    import timeit

    doc = sample_entry("P1").decode()
    best = {"sum_range_1000": min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)),
            "json_loads_entry": min(timeit.repeat(lambda: json.loads(doc), number=20000,
                                                  repeat=5)) / 10}
    return {k: v / 2000 * 1e6 for k, v in best.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    ap.add_argument("--only", default="a,b,c,d,e", help="comma-separated subset of a,b,c,d,e")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--appends", type=int, default=None, help="appends per round (a, b, c)")
    ap.add_argument("--rebuild-events", type=int, default=50_000)
    ap.add_argument("--label", default="", help="a note stored in the JSON (e.g. 'before')")
    ap.add_argument("--dir", type=Path, default=None,
                    help="where to put the databases (default: a temporary folder)")
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    rounds = args.rounds or (3 if args.quick else 7)
    n = args.appends or (200 if args.quick else 500)
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(), "cpus": os.cpu_count(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "cpu_yardstick_us": yardstick(), "label": args.label,
        "coldcheck": str(Path(sys.modules[Store.__module__].__file__ or "?").parents[2]),
    }
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="coldcheck-bench-") as tmp:
        folder = Path(tmp)
        report["folder"] = str(folder)
        if only & {"a", "b", "c"}:
            report["single"] = bench_single(folder, rounds, n, only)
        if "d" in only:
            report["threads"] = bench_threads(folder, 8, 25 if args.quick else 60, rounds)
        if "e" in only:
            report["rebuild"] = bench_rebuild(folder, args.rebuild_events,
                                              2 if args.quick else 5)
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"append-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten to {out}")
    return report


def print_table(r: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str]] = []
    if "single" in r:
        s = r["single"]
        ps, ratios = s["per_second"], s["ratios"]
        rows.append(("a  raw sqlite3, 1 row per commit", f"{ps['a']:,.0f}/s", "1.00"))
        rows.append(("a2 raw sqlite3, an append's rows", f"{ps['a2']:,.0f}/s",
                     f"{ratios['a2/a']:.2f}"))
        rows.append(("b  coldcheck Store.write+append", f"{ps['b']:,.0f}/s",
                     f"{ratios['b/a']:.2f}  (aim >= 0.75)"))
        if "c" in ps:
            rows.append(("c  eventsourcing 9.x application", f"{ps['c']:,.0f}/s",
                         f"{ratios['c/a']:.2f}"))
    if "threads" in r:
        d = r["threads"]
        rows.append((f"d  {d['threads']} threads, 1 commit per event",
                     f"{d['per_second']['single']:,.0f}/s", "1.00"))
        rows.append((f"d  {d['threads']} threads, group commit",
                     f"{d['per_second']['group']:,.0f}/s",
                     f"{d['ratio_group/single']:.2f}  (mean group "
                     f"{d['mean_group_size']:.1f})"))
    if "rebuild" in r:
        e = r["rebuild"]
        rows.append((f"e  rebuild, {e['events']:,} events (best of {e['rounds']})",
                     f"{e['events_per_second']:,.0f} ev/s",
                     f"median {e['median_events_per_second']:,.0f}; aim >= 50,000 ev/s"))
    y = r["cpu_yardstick_us"]
    rows.append(("   cpu yardstick: sum(range(1000)), json.loads(entry)",
                 f"{y['sum_range_1000']:.1f} us", f"{y['json_loads_entry']:.1f} us"))
    w = max(len(x[0]) for x in rows)
    print(f"{'benchmark':<{w}}  {'throughput':>14}  ratio")
    for name, rate, ratio in rows:
        print(f"{name:<{w}}  {rate:>14}  {ratio}")


if __name__ == "__main__":
    main()
