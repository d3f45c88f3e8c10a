"""The API on a real uvicorn server on loopback: two tablets racing to issue the
same weapon, the live stream waking on a write; and `coldcheck serve`'s refusal
to listen on a network address without TLS."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from api_support import PASSWORD, api_world
from typer.testing import CliRunner

from coldcheck.cli import app as cli
from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.server import check_bind
from coldcheck.services import accounts


@contextmanager
def serving(app: Any, *, logs: bool = False) -> Iterator[str]:
    """uvicorn in a thread on a free loopback port; stopped on exit. With
    ``logs``, uvicorn's own loggers (access log included) propagate to pytest."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off",
                            log_level="info" if logs else "warning",
                            log_config=None if logs else uvicorn.config.LOGGING_CONFIG)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def live(store: Store, backend_settings: Settings, clock: Any) -> Iterator[tuple[Any, str]]:
    with api_world(store, backend_settings, clock, production="race-test") as aw, \
            serving(aw.app) as base:
        yield aw, base


def test_two_tablets_issuing_the_same_weapon_at_once_exactly_one_wins(
        live: tuple[Any, str]) -> None:
    aw, base = live
    w = aw.world
    acc = accounts.account_of_username(w.store, "armorer")
    second = accounts.register_device(w.store, production=aw.production, name="Cart tablet",
                                      account_id=acc, at=aw.clock())["key"]
    for weapon, performer in (("revolver", "alex"), ("revolver2", "rita"), ("pistol", "chris")):
        w.ready(weapon, performer, scene="cold")
        head = w.seq()
        url = f"{base}{aw.url('/weapons/' + w.weapons[weapon] + '/issue')}"
        body = {"performer": w.people[performer], "scene": w.scenes["cold"]}
        barrier = threading.Barrier(2)
        answers: list[httpx.Response] = []

        def fire(device: str, url: str = url, body: dict[str, str] = body,
                 barrier: threading.Barrier = barrier,
                 answers: list[httpx.Response] = answers) -> None:
            with httpx.Client(timeout=30) as c:
                hdrs = aw.h("armorer", device=False, **{"X-Coldcheck-Device": device})
                barrier.wait()
                answers.append(c.post(url, json=body, headers=hdrs))

        threads = [threading.Thread(target=fire, args=(d,)) for d in (aw.device_key, second)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [200, 409], [r.text for r in answers]
        loser = next(r for r in answers if r.status_code == 409).json()
        assert loser["code"] in ("WEAPON_INVALID_TRANSITION", "CUSTODY_INSPECTION_REQUIRED",
                                 "CUSTODY_DIRECT_HANDOFF"), loser
        issued = [e for e in w.events_since(head) if e.type == "weapon.issued"]
        assert len(issued) == 1 and issued[0].payload["weapon"] == w.weapons[weapon]


def test_the_live_stream_delivers_a_write_as_it_happens(live: tuple[Any, str]) -> None:
    aw, base = live
    got: list[str] = []
    opened = threading.Event()

    def listen() -> None:
        with httpx.Client(timeout=30) as c, c.stream(
                "GET", base + aw.url("/events/stream"), params={"max_events": 1, "timeout": 20},
                headers=aw.h("investigator", device=False)) as r:
            for line in r.iter_lines():
                opened.set()
                got.append(line)

    th = threading.Thread(target=listen)
    th.start()
    assert opened.wait(10)
    time.sleep(0.2)
    sent = time.monotonic()
    r = httpx.post(base + aw.url("/complaints"), json={"text": "brass on the floor"},
                   headers=aw.h("alex"), timeout=30)
    assert r.status_code == 200
    th.join(20)
    assert not th.is_alive()
    assert time.monotonic() - sent < 5
    assert f"id: {r.json()['events'][0]['seq']}" in got and "event: complaint.filed" in got


def test_a_real_server_logs_requests_but_never_a_password_pin_or_token(
        store: Store, backend_settings: Settings, clock: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with api_world(store, backend_settings, clock, production="log-test") as aw, \
            serving(aw.app, logs=True) as base:
        w = aw.world
        with httpx.Client(base_url=base, timeout=30) as c:
            c.post("/api/v1/auth/login", json={"username": "alex",
                                               "password": "hunter2-hunter2"})
            ok = c.post("/api/v1/auth/login", json={"username": "alex", "password": PASSWORD})
            assert ok.status_code == 200
            ins = w.inspect("revolver", scene="cold")
            r = c.post(aw.url(f"/inspections/{ins}/witnesses"), headers=aw.h("armorer"),
                       json={"witness": w.people["ad"], "pin": "97531"})
            assert r.json()["code"] == "PIN_INVALID"
            c.post(aw.url(f"/inspections/{ins}/witnesses"), headers=aw.h("armorer"),
                   json={"witness": w.people["ad"], "pin": w.pins["ad"]})
            c.get(aw.url("/status"), headers=aw.h("investigator"))
    # The server's loggers only (the test's own HTTP client logs headers at DEBUG).
    server = "\n".join(r.getMessage() for r in caplog.records
                       if r.name.startswith(("uvicorn", "coldcheck", "fastapi", "starlette",
                                             "sqlalchemy", "alembic")))
    assert '"POST /api/v1/auth/login HTTP/1.1" 401' in server  # the access log ran
    assert "sign-in failed: wrong password for 'alex'" in server
    for secret in ("hunter2-hunter2", PASSWORD, "97531", w.pins["ad"],
                   ok.cookies.get("coldcheck_session") or "?", *aw.tokens.values()):
        assert secret not in server, f"{secret!r} reached the server's log"


def test_serve_refuses_a_network_address_without_tls(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "x.db"), "--host", "0.0.0.0"])
    assert r.exit_code == 2
    assert "INVALID_INPUT" in r.output and "without TLS" in " ".join(r.output.split())


def test_serve_needs_both_tls_files(tmp_path: Path) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    r = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "x.db"), "--host", "10.0.0.5",
                                 "--tls-cert", str(cert)])
    assert r.exit_code == 2 and "go together" in r.output


def test_insecure_lan_is_allowed_only_with_a_warning_and_loopback_needs_none(
        tmp_path: Path) -> None:
    warning = check_bind("192.168.1.20", 8000, tls_cert=None, tls_key=None, insecure_lan=True)
    assert warning and "WARNING" in warning and "plain HTTP" in warning
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert check_bind(host, 8000, tls_cert=None, tls_key=None, insecure_lan=False) is None
    key = tmp_path / "k.pem"
    key.write_text("x")
    assert check_bind("0.0.0.0", 443, tls_cert=key, tls_key=key, insecure_lan=False) is None


def test_serve_warns_when_passwords_would_be_hashed_with_the_test_profile(
        settings: Settings, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from coldcheck.server import serve

    ran: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.append(kw))
    assert settings.argon2_profile == "fast-insecure-for-tests"
    serve(settings, host="127.0.0.1", port=8765)
    assert ran and "test profile" in capsys.readouterr().err
    serve(settings.model_copy(update={"argon2_profile": "standard"}), host="127.0.0.1",
          port=8765)
    assert "test profile" not in capsys.readouterr().err


def test_serve_says_at_once_which_production_cannot_sign_checkpoints(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A server started with the wrong key folder (on PostgreSQL the default is
    ./coldcheck-keys, wherever it was started) learnt it only when the first
    incident's checkpoint could not be signed. It says so when it starts."""
    from coldcheck.server import serve
    from coldcheck.services.actions import init_production

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    store = Store(settings.database_url)
    try:
        store.migrate()
        init_production(store=store, settings=settings, production="keyed", name="Keyed",
                        at=datetime(2026, 12, 6, tzinfo=UTC))
    finally:
        store.dispose()
    serve(settings, host="127.0.0.1", port=8765)
    assert "no checkpoint can be signed" not in capsys.readouterr().err
    elsewhere = settings.model_copy(update={"key_dir": tmp_path / "empty-keys"})
    serve(elsewhere, host="127.0.0.1", port=8765)
    err = capsys.readouterr().err
    assert "no checkpoint can be signed for keyed: KEY_MISSING" in err
    assert str(tmp_path / "empty-keys") in err
