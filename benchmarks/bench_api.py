"""The API under load, against a bare FastAPI endpoint doing the same work.

    .venv/bin/python benchmarks/bench_api.py                 # 1, 8, 32 clients
    .venv/bin/python benchmarks/bench_api.py --quick         # shorter rounds
    .venv/bin/python benchmarks/bench_api.py --clients 1,8 --seconds 20
    .venv/bin/python benchmarks/bench_api.py --reads-only    # the read side, a minute

A full run takes about 15 minutes: two minutes of measurement per level and
server (enough for a p99 of a few hundred handoffs at one client), longer where
argon2 is slow, since each level runs until every client has completed a few
handoffs.

**Writes.** A load generator on loopback drives full handoffs against
``coldcheck serve`` on SQLite: the armorer's inspection, the performer's and
the 1st AD's witness confirmations (two argon2id PIN checks), the issue, the
return: five HTTP requests, five ledger appends, each with an Idempotency-Key
and a registered device, as a tablet sends them. Each client hands off its own
revolver to its own performer, over and over. Next to it, in the same run and
on the same loopback, a bare FastAPI app (uvicorn, same settings) does the
same essential work in one request and nothing else: two argon2id
verifications of the same cost and one durable SQLite commit (WAL,
``synchronous=FULL``). Latency is one full handoff (five requests) against one
bare request; throughput is handoffs per second against bare requests per
second. Aim, at every concurrency: p99 <= 1.25x the bare p99 and throughput >=
0.8x the bare throughput.

**Reads.** 32 clients read the status board of a production with 500 weapons,
and a weapon's timeline. Aim: p99 < 50 ms.

Both servers run as their own processes (uvicorn, one worker, default logging,
access log included) but only one is loaded at a time: bare and coldcheck
alternate, ``--rounds`` times per level, so that a busy neighbour on the machine
slows both alike; the latencies of the rounds are pooled. The load generator is
a third process: a small asyncio HTTP/1.1 client on kept-alive connections, so
that the client spends as little of the two cores as it can. Results go to
``benchmarks/results/api-<UTC time>.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PERFORMER_PIN, AD_PIN = "5566", "2640"
WEAPONS_ON_BOARD = 500


# ---- a tiny HTTP/1.1 client --------------------------------------------------------
class Conn:
    """One kept-alive HTTP/1.1 connection; answers must carry Content-Length."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str],
                      body: Any = None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"Content-Length: {len(data)}"]
        if data:
            head.append("Content-Type: application/json")
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        assert self.reader is not None
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def pooled(runs: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    lat = [x for r in runs for x in r["lat"]]
    return {**summary(lat, seconds), "errors": [e for r in runs for e in r["errors"]][:5]}


def summary(lat: list[float], seconds: float) -> dict[str, Any]:
    if not lat:
        return {"n": 0, "p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None,
                "mean_ms": None, "per_s": 0.0}
    return {"n": len(lat), "p50_ms": round(pct(lat, 0.50) * 1000, 1),
            "p90_ms": round(pct(lat, 0.90) * 1000, 1),
            "p99_ms": round(pct(lat, 0.99) * 1000, 1),
            "max_ms": round(max(lat) * 1000, 1),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
            "per_s": round(len(lat) / seconds, 2)}


# ---- the load --------------------------------------------------------------------
async def handoffs(port: int, plan: dict[str, Any], clients: int, seconds: float,
                   warmup: float) -> dict[str, Any]:
    """Each client loops full handoffs of its own weapon; returns the latencies
    of the handoffs that ended in the window (after the warm-up)."""
    base = f"/api/v1/productions/{plan['production']}"
    hdr = {"Authorization": f"Bearer {plan['token']}", "X-Coldcheck-Device": plan["device"]}
    lat: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()
    t_on, t_off = start + warmup, start + warmup + seconds

    async def one(i: int) -> None:
        c = Conn("127.0.0.1", port)
        w, performer = plan["weapons"][i], plan["performers"][i]
        body_inspect = {"positions": [{"position": f"cylinder {n}", "content": "empty"}
                                      for n in range(1, 7)],
                        "barrel_clear": True, "scene": plan["scene"]}
        try:
            while time.perf_counter() < t_off:
                t0 = time.perf_counter()
                s, out = await c.request("POST", f"{base}/weapons/{w}/inspections",
                                         {**hdr, "Idempotency-Key": uuid.uuid4().hex},
                                         body_inspect)
                if s != 200:
                    errors.append(f"inspect {s} {out[:200]!r}")
                    return
                ins = json.loads(out)["events"][0]["payload"]["inspection"]
                for who, pin in ((performer, PERFORMER_PIN), (plan["ad"], AD_PIN)):
                    s, out = await c.request("POST", f"{base}/inspections/{ins}/witnesses",
                                             {**hdr, "Idempotency-Key": uuid.uuid4().hex},
                                             {"witness": who, "pin": pin})
                    if s != 200:
                        errors.append(f"witness {s} {out[:200]!r}")
                        return
                for path, body in ((f"/weapons/{w}/issue",
                                    {"performer": performer, "scene": plan["scene"]}),
                                   (f"/weapons/{w}/return", {"performer": performer})):
                    s, out = await c.request("POST", base + path,
                                             {**hdr, "Idempotency-Key": uuid.uuid4().hex},
                                             body)
                    if s != 200:
                        errors.append(f"{path} {s} {out[:200]!r}")
                        return
                t1 = time.perf_counter()
                if t_on <= t1 <= t_off:  # finished in the window (started in steady state)
                    lat.append(t1 - t0)
        finally:
            c.close()

    await asyncio.gather(*(one(i) for i in range(clients)))
    return {"lat": lat, "errors": errors[:5]}


async def bare(port: int, clients: int, seconds: float, warmup: float) -> dict[str, Any]:
    lat: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()
    t_on, t_off = start + warmup, start + warmup + seconds

    async def one(i: int) -> None:
        c = Conn("127.0.0.1", port)
        try:
            while time.perf_counter() < t_off:
                t0 = time.perf_counter()
                s, out = await c.request("POST", "/handoff", {},
                                         {"weapon": f"W{i}", "performer_pin": PERFORMER_PIN,
                                          "ad_pin": AD_PIN})
                t1 = time.perf_counter()
                if s != 200:
                    errors.append(f"bare {s} {out[:200]!r}")
                    return
                if t_on <= t1 <= t_off:  # finished in the window (started in steady state)
                    lat.append(t1 - t0)
        finally:
            c.close()

    await asyncio.gather(*(one(i) for i in range(clients)))
    return {"lat": lat, "errors": errors[:5]}


async def reads(port: int, plan: dict[str, Any], clients: int, seconds: float,
                path: str) -> dict[str, Any]:
    hdr = {"Authorization": f"Bearer {plan['token']}"}
    url = f"/api/v1/productions/{plan['production']}{path}"
    lat: list[float] = []
    size = 0
    t_off = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal size
        c = Conn("127.0.0.1", port)
        try:
            await c.request("GET", url, hdr)  # warm the connection
            while time.perf_counter() < t_off:
                t0 = time.perf_counter()
                s, out = await c.request("GET", url, hdr)
                lat.append(time.perf_counter() - t0)
                assert s == 200, out[:300]
                size = len(out)
        finally:
            c.close()

    await asyncio.gather(*(one() for _ in range(clients)))
    return {**summary(lat, seconds), "bytes": size}


# ---- the two servers -----------------------------------------------------------------
BARE_APP = '''
import sqlite3, sys, threading
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
import uvicorn

db, port = sys.argv[1], int(sys.argv[2])
ph = PasswordHasher()  # the same argon2id cost as coldcheck's "standard" profile
performer_hash, ad_hash = ph.hash("5566"), ph.hash("2640")
local = threading.local()

def conn():
    c = getattr(local, "c", None)
    if c is None:
        c = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=FULL")
        c.execute("PRAGMA busy_timeout=30000")
        local.c = c
    return c

c0 = conn()
c0.execute("CREATE TABLE IF NOT EXISTS handoffs (id INTEGER PRIMARY KEY, weapon TEXT, at REAL)")

class Body(BaseModel):
    weapon: str
    performer_pin: str
    ad_pin: str

app = FastAPI()

@app.post("/handoff")
def handoff(b: Body) -> dict:
    try:
        ph.verify(performer_hash, b.performer_pin)
        ph.verify(ad_hash, b.ad_pin)
    except VerificationError:
        raise HTTPException(422, "wrong PIN")
    c = conn()
    c.execute("BEGIN IMMEDIATE")
    cur = c.execute("INSERT INTO handoffs (weapon, at) VALUES (?, strftime('%s','now'))",
                    (b.weapon,))
    c.execute("COMMIT")
    return {"ok": True, "id": cur.lastrowid}

uvicorn.run(app, host="127.0.0.1", port=port, server_header=False)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, path: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                if s.recv(20).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


class Server:
    def __init__(self, argv: list[str], port: int, probe: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.port = port
        wait_up(port, probe, self.proc)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---- the production --------------------------------------------------------------
def build(db: str, clients: int, profile: str = "standard") -> dict[str, Any]:
    """A production with WEAPONS_ON_BOARD weapons, one revolver and one performer per
    client in a planned cold scene, the day's safety meeting, an armorer account
    with a bearer token and a registered device. PINs use the standard argon2."""
    from coldcheck.config import Settings
    from coldcheck.persistence.store import Store
    from coldcheck.security import hasher
    from coldcheck.services import accounts
    from coldcheck.services import actions as a

    s = Settings(database_url=db, argon2_profile=profile)  # type: ignore[arg-type]
    store = Store(db)
    now = datetime.now(UTC)
    ctx = a.init_production(store=store, settings=s, production="bench", name="Bench")
    expires = (now + timedelta(days=365)).date().isoformat()
    arm = a.add_person(ctx, name="Sam Reyes", roles=["armorer"], badge="B-ARM", pin="4821",
                       department="armory", qualification_expires=expires)[0].payload["person"]
    ad = a.add_person(ctx, name="Dana Whitfield", roles=["first_ad"], badge="B-AD",
                      pin=AD_PIN)[0].payload["person"]
    performers = [a.add_person(ctx, name=f"Performer {i}", roles=["performer"],
                               badge=f"B-P{i}", pin=PERFORMER_PIN)[0].payload["person"]
                  for i in range(clients + 1)]
    safe = a.add_storage(ctx, name="Safe", kind="safe", actor=arm)[0].payload["storage"]
    weapons = []
    for i in range(WEAPONS_ON_BOARD):
        revolver = i <= clients
        ev = a.receive_weapon(ctx, armorer=arm, serial=f"SN-{i:04d}",
                              make="Colt" if revolver else "Denix",
                              model="SAA" if revolver else "replica", calibre=".45 Colt",
                              kind="firearm" if revolver else "non_firing_replica",
                              chambers=6, magazine_capacity=0, storage=safe)
        weapons.append(ev[0].payload["weapon"])
    a.open_day(ctx, date=now.date().isoformat(), actor=ad)
    for p in performers:
        a.brief(ctx, person=p, briefed_by=arm, topic="Weapons safety briefing")
    scene = a.plan_scene(ctx, actor=ad, name="Bench scene", hot=False, rehearsal=False,
                         weapons=weapons[:clients + 1], performers=performers,
                         overdue_minutes=600)[0].payload["scene"]
    a.hold_meeting(ctx, scenes=[scene], attendees=[arm, ad, *performers], led_by=arm)
    # A day's history on the weapon whose timeline is read: five handoffs.
    tw, tp = weapons[clients], performers[clients]
    empty = [{"position": f"cylinder {n}", "content": "empty"} for n in range(1, 7)]
    for _ in range(5):
        ins = a.inspect_weapon(ctx, weapon=tw, armorer=arm, positions=empty,
                               barrel_clear=True, magazine_checked=False,
                               scene=scene)[0].payload["inspection"]
        a.witness_inspection(ctx, inspection=ins, witness=tp, pin=PERFORMER_PIN)
        a.witness_inspection(ctx, inspection=ins, witness=ad, pin=AD_PIN)
        a.issue_weapon(ctx, weapon=tw, armorer=arm, performer=tp, scene=scene)
        a.return_weapon(ctx, weapon=tw, performer=tp, armorer=arm)
    accounts.add_member(store, ph=hasher(profile), production="bench", person=arm,
                        username="sam", password="bench-password")
    acc = accounts.account_of_username(store, "sam")
    token, _ = accounts.create_token(store, account_id=acc, production="bench", name="bench",
                                     hours=48, max_hours=48, at=now)
    device = accounts.register_device(store, production="bench", name="bench",
                                      account_id=acc, at=now)["key"]
    head = store.head("bench")
    store.dispose()
    return {"production": "bench", "token": token, "device": device, "scene": scene,
            "ad": ad, "weapons": weapons[:clients], "performers": performers[:clients],
            "timeline_weapon": tw, "events": head}


def machine() -> dict[str, Any]:
    from argon2 import PasswordHasher

    ph = PasswordHasher()
    h = ph.hash("x")
    t = time.perf_counter()
    ph.verify(h, "x")
    return {"python": sys.version.split()[0], "platform": platform.platform(),
            "cpus": os.cpu_count(), "argon2_verify_ms": round((time.perf_counter() - t) * 1000)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=120.0, help="measured seconds per level "
                    "and server (at least; more when handoffs are slow, so that each client "
                    "completes a few)")
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=2, help="alternations of bare and "
                    "coldcheck per level")
    ap.add_argument("--read-seconds", type=float, default=10.0)
    ap.add_argument("--quick", action="store_true", help="10 s per level")
    ap.add_argument("--reads-only", action="store_true", help="skip the handoffs")
    ap.add_argument("--dir", help="where the SQLite files go (default: a temporary folder)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.read_seconds = 10.0, 3.0, 5.0
    levels = [int(x) for x in args.clients.split(",")]
    folder = Path(args.dir or tempfile.mkdtemp(prefix="coldcheck-bench-api-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COLDCHECK_ARGON2_PROFILE": "standard",
           "COLDCHECK_KEY_DIR": str(folder / "keys")}
    os.environ["COLDCHECK_KEY_DIR"] = env["COLDCHECK_KEY_DIR"]
    info = machine()
    print(f"machine: {info}")
    print("building the production (standard argon2: this takes a while) …", flush=True)
    db = str(folder / "coldcheck.db")
    plan = build(db, max(levels), "fast-insecure-for-tests" if args.reads_only else "standard")
    print(f"  {plan['events']} events, {WEAPONS_ON_BOARD} weapons", flush=True)

    bin_dir = Path(sys.executable).parent
    results: dict[str, Any] = {"machine": info, "levels": {}, "reads": {},
                               "rounds": args.rounds, "seconds": args.seconds}
    rows = []
    bp, cp = free_port(), free_port()
    bare_srv = Server([sys.executable, "-c", BARE_APP, str(folder / "bare.db"), str(bp)], bp,
                      "/docs", env)
    cc_srv = Server([str(bin_dir / "coldcheck"), "serve", "--db", db, "--port", str(cp)], cp,
                    "/api/v1/health", env)
    try:
        rate = None  # bare requests per second at the previous level
        for n in ([] if args.reads_only else levels):
            # Long enough for every client to finish a few handoffs: with argon2 at
            # its standard cost a handoff under load takes n / rate seconds.
            # Each round: a warm-up of about one handoff per client (a handoff that
            # ends in the window then started in steady state), and a window of at
            # least three. Throughput: handoffs that ended in the window, per second.
            warmup = max(args.warmup, 1.5 * n / rate) if rate else args.warmup
            per = max(args.seconds / args.rounds, 3 * n / rate) if rate else (
                args.seconds / args.rounds)
            seconds = per * args.rounds
            # Alternate the two, round after round, so that a busy neighbour on the
            # machine slows both alike; the latencies of all rounds are pooled.
            b_runs, c_runs = [], []
            for _ in range(args.rounds):
                b_runs.append(asyncio.run(bare(bp, n, per, warmup)))
                c_runs.append(asyncio.run(handoffs(cp, plan, n, per, warmup)))
            b, c = pooled(b_runs, seconds), pooled(c_runs, seconds)
            rate = b["per_s"] or rate
            ratio_p99 = c["p99_ms"] / b["p99_ms"] if b["p99_ms"] else float("nan")
            ratio_thr = c["per_s"] / b["per_s"] if b["per_s"] else float("nan")
            results["levels"][n] = {"bare": b, "coldcheck": c, "seconds": round(seconds),
                                    "p99_ratio": round(ratio_p99, 3),
                                    "throughput_ratio": round(ratio_thr, 3),
                                    "meets_aim": ratio_p99 <= 1.25 and ratio_thr >= 0.8}
            rows.append((n, b, c, ratio_p99, ratio_thr))
            print(f"  {n:>2} clients: bare p50 {b['p50_ms']} p99 {b['p99_ms']} ms "
                  f"{b['per_s']}/s | coldcheck p50 {c['p50_ms']} p99 {c['p99_ms']} ms "
                  f"{c['per_s']}/s | p99 x{ratio_p99:.2f} throughput x{ratio_thr:.2f}"
                  + (f" ERRORS {c['errors'] or b['errors']}" if c["errors"] or b["errors"]
                     else ""), flush=True)
        bare_srv.stop()
        for name, path in (("status board", "/status"),
                           ("weapon timeline", f"/timeline?weapon={plan['timeline_weapon']}")):
            r = asyncio.run(reads(cp, plan, 32, args.read_seconds, path))
            results["reads"][name] = {**r, "meets_aim": r["p99_ms"] < 50}
            print(f"  reads, 32 clients, {name}: p50 {r['p50_ms']} p99 {r['p99_ms']} ms "
                  f"{r['per_s']}/s ({r['bytes']} bytes)", flush=True)
    finally:
        bare_srv.stop()
        cc_srv.stop()

    print("\n| clients | bare p50 / p99 (ms) | bare /s | coldcheck handoff p50 / p99 (ms) "
          "| coldcheck /s | p99 ratio (aim <= 1.25) | throughput ratio (aim >= 0.8) |")
    print("|---|---|---|---|---|---|---|")
    for n, b, c, rp, rt in rows:
        print(f"| {n} | {b['p50_ms']} / {b['p99_ms']} | {b['per_s']} | {c['p50_ms']} / "
              f"{c['p99_ms']} | {c['per_s']} | {rp:.2f} | {rt:.2f} |")
    out = HERE / "results" / f"api-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nfull results: {out}")


if __name__ == "__main__":
    main()
