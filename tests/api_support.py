"""A production behind the API for tests: the rules world of tests/helpers.py,
one account per person (username = the world's key: ``armorer``, ``ad``,
``alex`` …), a registered device, a bearer token per person, and a
``TestClient`` on ``create_app``.

``ApiWorld.h("armorer")`` gives the headers of a request as that person from
the registered tablet.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from helpers import PEOPLE, World, build_world

from coldcheck.asgi import create_app
from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.security import hasher
from coldcheck.services import accounts

PASSWORD = "correct-horse-battery"
API = "/api/v1"


class StepClock:
    """Thread-safe enough for tests: each call moves one second on."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def __call__(self) -> datetime:
        self.t += timedelta(seconds=1)
        return self.t


@dataclass
class ApiWorld:
    world: World
    app: FastAPI
    client: TestClient
    clock: StepClock
    device: str = ""  # the device id, as events name it
    device_key: str = ""  # what the tablet sends: <id>.<secret>
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def production(self) -> str:
        return self.world.production

    @property
    def base(self) -> str:
        return f"{API}/productions/{self.production}"

    def url(self, path: str) -> str:
        return self.base + path

    def h(self, key: str, *, device: bool = True, **extra: str) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.tokens[key]}"}
        if device:
            out["X-Coldcheck-Device"] = self.device_key
        out.update(extra)
        return out

    def post(self, key: str, path: str, body: Any = None, **extra: str) -> Any:
        return self.client.post(self.url(path), json=body if body is not None else {},
                                headers=self.h(key, **extra))

    def get(self, key: str, path: str, **params: Any) -> Any:
        return self.client.get(self.url(path), headers=self.h(key, device=False),
                               params=params)

    def person(self, key: str) -> str:
        return self.world.people[key]

    def ready(self, weapon: str, performer: str, scene: str, *,
              witnesses: tuple[str, ...] = ("ad",)) -> str:
        """Inspect (as the armorer, over HTTP) and have performer + witnesses confirm."""
        w = self.world
        pos, mag = w.positions(weapon)
        r = self.post("armorer", f"/weapons/{w.weapons[weapon]}/inspections",
                      {"positions": pos, "barrel_clear": True, "magazine_checked": True,
                       "magazine_rounds": mag, "scene": w.scenes[scene]})
        assert r.status_code == 200, r.text
        ins = r.json()["events"][0]["payload"]["inspection"]
        for who in (performer, *witnesses):
            r = self.post("armorer", f"/inspections/{ins}/witnesses",
                          {"witness": w.people[who], "pin": w.pins[who]})
            assert r.status_code == 200, r.text
        return str(ins)


def add_accounts(store: Store, settings: Settings, production: str,
                 people: dict[str, str]) -> None:
    ph = hasher(settings.argon2_profile)
    for key, person in people.items():
        accounts.add_member(store, ph=ph, production=production, person=person, username=key,
                            password=PASSWORD)


@contextmanager
def api_world(store: Store, settings: Settings, clock: Any, *, production: str = "api-test",
              https: bool = True) -> Iterator[ApiWorld]:
    w = build_world(store, settings, clock, production=production)
    step = StepClock(clock.t)
    app = create_app(settings, store=store, clock=step)
    add_accounts(store, settings, production, w.people)
    arm = accounts.account_of_username(store, "armorer")
    device = accounts.register_device(store, production=production, name="Armory tablet",
                                      account_id=arm, at=step())
    toks = {}
    for key, *_ in PEOPLE:
        acc = accounts.account_of_username(store, key)
        toks[key], _row = accounts.create_token(store, account_id=acc, production=production,
                                                name=f"{key} test token", hours=24 * 30,
                                                max_hours=24 * 366, at=step())
    base = "https://testserver" if https else "http://testserver"
    with TestClient(app, base_url=base, raise_server_exceptions=False) as client:
        yield ApiWorld(w, app, client, step, device["id"], device["key"], toks)
