"""How reads and writes scale with a production's history (issue 20).

Run:  .venv/bin/python benchmarks/bench_scale.py [--sizes 10000,100000] [--pg URL]
                                                 [--rounds 5] [--no-cli] [--dir DIR]

One production grows, in this run, through each size (10,000 and 100,000 events
by default; add 1000000 for a run of several minutes): shooting days of about
1,500 events (custody cycles of six replica weapons by three performers, wrong
PINs and notes, as ``bench_append.custody_day``), each day planned, wrapped and
the next one opened. At each size it measures, every figure the median of
``--rounds`` runs:

  replay          Store.replay(): every event applied (what Store.state() did before)
  state           Store.state() in a fresh Store: the state loaded from its rows
  status          services.queries.status in a fresh Store (a starting CLI process)
  timeline day    services.queries.timeline --day <the last day> (index read; the
                  day-level events: opened, its scene planned, wrapped)
  timeline person services.queries.timeline --person <the safety supervisor>
  timeline scene  services.queries.timeline --scene <the last day's scene>: every
                  issue of that day, about 250 events
  scan scene      the same scene timeline as a scan of every event (what it did before)
  cli status      `coldcheck status --json` as a subprocess
  cli timeline    `coldcheck timeline --day <last day> --json` as a subprocess
  cli write       `coldcheck note …` as a subprocess (one append, signed nothing)

and prints each figure with its ratio to the first size's figure in the same
run (aim, issue 20: at 1M events within 2x of the 10k figure). A weapon's
timeline is left out on purpose: it grows with the history (every custody
cycle of the weapon is on it), so its cost is its length. Writes the figures
to benchmarks/results/scale-<time>.json. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from coldcheck.config import Settings
from coldcheck.domain import custody
from coldcheck.domain import production as prod
from coldcheck.domain.events import NewEvent
from coldcheck.domain.state import ProductionState
from coldcheck.persistence.store import Store
from coldcheck.services import actions as act
from coldcheck.services import queries as q
from coldcheck.services.context import Context, context

RESULTS = Path(__file__).resolve().parent / "results"
T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
PIN_FAILED = {"failures": 1, "action": "witness IN3"}
CYCLES_PER_DAY = 250  # 6 events each: 1,500 events a shooting day


class Production:
    """A production that grows by whole shooting days."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.database_url)
        ctx = act.init_production(store=self.store, settings=settings, production="bench",
                                  name="Bench", at=T0)
        ctx.clock = lambda: T0 + timedelta(minutes=1)
        self.ctx = ctx
        self.arm = act.add_person(ctx, name="Sam Reyes", roles=["armorer"], badge="B-A",
                                  pin=None, qualification_expires="2099-12-31"
                                  )[0].payload["person"]
        self.sup = act.add_person(ctx, name="Lee Okafor", roles=["safety_supervisor"],
                                  badge="B-S", pin=None)[0].payload["person"]
        self.performers = [act.add_person(ctx, name=f"Performer {i}", roles=["performer"],
                                          badge=f"B-P{i}", pin=None)[0].payload["person"]
                           for i in range(3)]
        for p in self.performers:
            act.brief(ctx, person=p, briefed_by=self.sup, topic="Weapons safety briefing")
        self.cart = act.add_storage(ctx, name="Cart 1", kind="cart",
                                    actor=self.arm)[0].payload["storage"]
        self.weapons = [act.receive_weapon(
            ctx, armorer=self.arm, serial=f"REP-{i:03}", make="Denix", model="replica",
            calibre=".45 Colt", kind="non_firing_replica", chambers=6, magazine_capacity=0,
            storage=self.cart)[0].payload["weapon"] for i in range(6)]
        self.days = 0
        self.last_day = ""
        self.last_scene = ""
        self.k = 0

    def day(self) -> None:
        """One shooting day: opened, a scene planned, 250 custody cycles, wrapped."""
        arm, cart = self.arm, self.cart
        date = (T0 + timedelta(days=self.days)).date().isoformat()
        at = T0 + timedelta(days=self.days, minutes=2)
        empty = [{"position": f"cylinder {i}", "content": "empty"} for i in range(1, 7)]
        with self.store.write("bench") as tx:
            tx.append(prod.open_shooting_day(tx.state, date=date), actor=arm, device="bench",
                      at=at)
            tx.append(prod.plan_scene(tx.state, name="Rehearsal", hot=False, rehearsal=True,
                                      weapons=self.weapons, performers=self.performers),
                      actor=arm, device="bench", at=at)
            scene = self.last_scene = max(tx.state.scenes, key=lambda s: int(s[2:]))
            self.last_day = str(tx.state.current_day)
            Step = tuple[str, Callable[[ProductionState], list[NewEvent]]]

            def cycle(w: str, p: str, k: int) -> list[Step]:
                return [
                    (arm, lambda s: custody.inspect(s, weapon=w, armorer=arm, positions=empty,
                                                    barrel_clear=True, magazine_checked=False,
                                                    at=at)),
                    (arm, lambda s: custody.issue(s, weapon=w, armorer=arm, performer=p,
                                                  scene=scene, at=at)),
                    (arm, lambda s: custody.return_weapon(s, weapon=w, performer=p,
                                                          armorer=arm, at=at)),
                    (arm, lambda s: custody.store(s, weapon=w, storage=cart, armorer=arm,
                                                  at=at)),
                    (p, lambda s: [NewEvent("person.pin_failed", dict(PIN_FAILED, person=p))]),
                    (p, lambda s: prod.add_note(s, refers_to=k, text_=f"take {k} noted")),
                ]

            for _ in range(CYCLES_PER_DAY):
                k = self.k
                for actor, decide in cycle(self.weapons[k % 6], self.performers[k % 3], k):
                    tx.append(decide(tx.state), actor=actor, device="bench", at=at)
                self.k += 1
            tx.append(prod.wrap(tx.state, armorer=arm, at=at), actor=arm, device="bench",
                      at=at)
        self.days += 1

    def grow_to(self, events: int) -> float:
        t = time.perf_counter()
        while self.store.head("bench") < events:
            self.day()
        return time.perf_counter() - t


def median_s(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def fresh(settings: Settings) -> Context:
    return context(settings, "bench")


def in_process(settings: Settings, p: Production, rounds: int) -> dict[str, float]:
    def with_fresh(fn: Callable[[Context], object]) -> Callable[[], None]:
        def run() -> None:
            ctx = fresh(settings)
            try:
                fn(ctx)
            finally:
                ctx.store.dispose()
        return run

    day, sup, scene = p.last_day, p.sup, p.last_scene
    return {
        "replay": median_s(with_fresh(lambda c: c.store.replay("bench")), rounds),
        "state": median_s(with_fresh(lambda c: c.store.state("bench")), rounds),
        "status": median_s(with_fresh(q.status), rounds),
        "timeline day": median_s(with_fresh(lambda c: q.timeline(c, day=day)), rounds),
        "timeline person": median_s(with_fresh(lambda c: q.timeline(c, person=sup)), rounds),
        "timeline scene": median_s(with_fresh(lambda c: q.timeline(c, scene=scene)), rounds),
        "scan scene": median_s(with_fresh(lambda c: q.timeline_scan(c, scene=scene)), rounds),
    }


def cli(settings: Settings, p: Production, rounds: int) -> dict[str, float]:
    exe = [sys.executable, "-c", "import sys; from coldcheck.cli import main; sys.exit(main())"]
    env = dict(os.environ, COLDCHECK_KEY_DIR=str(settings.key_dir),
               COLDCHECK_ARGON2_PROFILE="fast-insecure-for-tests")
    db = ["--db", settings.database_url]

    def run(*args: str) -> Callable[[], None]:
        def go() -> None:
            subprocess.run([*exe, *args, *db, "--json"], check=True, env=env,
                           stdout=subprocess.DEVNULL)
        return go

    return {
        "cli status": median_s(run("status"), rounds),
        "cli timeline": median_s(run("timeline", "--day", p.last_day), rounds),
        "cli write": median_s(run("note", "0", "--text", "bench note", "--by", p.arm), rounds),
    }


def backend(settings: Settings, sizes: list[int], rounds: int,
            with_cli: bool) -> list[dict[str, Any]]:
    p = Production(settings)
    out = []
    try:
        for n in sizes:
            built = p.grow_to(n)
            row: dict[str, Any] = {"events": p.store.head("bench"), "days": p.days,
                                   "built_s": round(built, 1)}
            row.update(in_process(settings, p, rounds))
            if with_cli:
                row.update(cli(settings, p, rounds))
            out.append(row)
            print_row(settings, out)
    finally:
        p.store.dispose()
    return out


def print_row(settings: Settings, rows: list[dict[str, Any]]) -> None:
    first, last = rows[0], rows[-1]
    name = "postgresql" if settings.database_url.startswith("postgres") else "sqlite"
    print(f"\n{name}: {last['events']:,} events ({last['days']} days, built in "
          f"{last['built_s']} s)")
    for k, v in last.items():
        if k in ("events", "days", "built_s"):
            continue
        print(f"  {k:<16} {v * 1000:9.1f} ms   x{v / first[k]:.2f} of {first['events']:,}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000",
                    help="event counts, ascending (default 10000,100000; add 1000000)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pg", help="a PostgreSQL URL to create the production in (an empty "
                                 "database: the production id is 'bench')")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--dir", type=Path, help="folder for the SQLite file and keys")
    args = ap.parse_args(argv)
    sizes = sorted(int(x) for x in args.sizes.split(","))
    folder = Path(tempfile.mkdtemp(prefix="coldcheck-scale-", dir=args.dir))
    result: dict[str, Any] = {"sizes": sizes, "rounds": args.rounds,
                              "machine": platform.platform(), "python": sys.version,
                              "at": datetime.now(UTC).isoformat()}
    kw = {"argon2_profile": "fast-insecure-for-tests", "device": "bench"}
    if not args.no_sqlite:
        s = Settings(database_url=str(folder / "scale.db"), key_dir=folder / "keys", **kw)
        result["sqlite"] = backend(s, sizes, args.rounds, not args.no_cli)
    if args.pg:
        s = Settings(database_url=args.pg, key_dir=folder / "pg-keys", **kw)
        result["postgresql"] = backend(s, sizes, args.rounds, not args.no_cli)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"scale-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwritten to {out}")
    return result


if __name__ == "__main__":
    main()
