"""Lockouts hold against parallel guesses, and a PIN cannot be guessed for free.

A security review (2026-11-25) sent 40 witness PINs at once and had 32 wrong
ones checked against a limit of five, because every request passed the
"locked?" test before the first failure was written. The same held for
sign-ins. These tests slow the hash check down, as real argon2 is, so that
the requests overlap; without the per-person and per-account serialisation
they fail.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from api_support import PASSWORD, api_world
from concurrency import Gauge, together

from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.domain.people import PIN_MAX_FAILURES
from coldcheck.persistence.store import Store
from coldcheck.services import accounts, core
from coldcheck.services.limits import AttemptLimiter

API = "/api/v1"


@pytest.fixture
def aw(sqlite_store: Store, settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(sqlite_store, settings, clock, production="guess-test") as aw:
        yield aw


def slow(monkeypatch: pytest.MonkeyPatch, module: Any, seconds: float = 0.02) -> None:
    """Make ``module.verify`` take as long as a real argon2 check does."""
    real = module.verify

    def verify(*args: Any) -> bool:
        time.sleep(seconds)
        return bool(real(*args))

    monkeypatch.setattr(module, "verify", verify)


def test_parallel_wrong_pins_are_checked_no_more_than_the_limit(
        aw: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w = aw.world
    ins = w.inspect("revolver", scene="cold")
    head = w.seq()
    slow(monkeypatch, core)
    checked = Counter[str]()
    real = core.verify

    def counting(*args: Any) -> bool:
        checked["verify"] += 1
        return bool(real(*args))

    monkeypatch.setattr(core, "verify", counting)
    # 15: under the account's limit of 20 wrong PINs, which is tested below.
    answers = together(15, lambda i: aw.post(
        "armorer", f"/inspections/{ins}/witnesses",
        {"witness": w.people["alex"], "pin": f"{1000 + i}"}).json()["code"])
    assert checked["verify"] == PIN_MAX_FAILURES, answers
    assert answers == Counter({"PIN_INVALID": PIN_MAX_FAILURES - 1, "PIN_LOCKED": 11})
    failed = [e for e in w.events_since(head) if e.type == "person.pin_failed"]
    assert [e.payload["failures"] for e in failed] == list(range(1, PIN_MAX_FAILURES + 1))


def test_parallel_wrong_passwords_are_checked_no_more_than_the_limit(
        aw: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    slow(monkeypatch, accounts)
    answers = together(15, lambda i: aw.client.post(
        f"{API}/auth/login", json={"username": "rita", "password": f"wrong-password-{i}"}
    ).json()["code"])
    # The fifth wrong password locks the account; the others find it locked.
    assert answers == Counter({"LOGIN_FAILED": PIN_MAX_FAILURES - 1, "ACCOUNT_LOCKED": 11})
    r = aw.client.post(f"{API}/auth/login", json={"username": "rita", "password": PASSWORD})
    assert r.json()["code"] == "ACCOUNT_LOCKED"


def test_a_limiter_counts_attempts_still_running_as_failures() -> None:
    lim = AttemptLimiter("PIN_RATE_LIMITED", "too many", limit=3)
    inside = Counter[str]()

    def attempt(_: int) -> str:
        with lim.attempt("k", lambda e: True):
            inside["ran"] += 1
            time.sleep(0.05)
            raise ColdcheckError("PIN_INVALID", "wrong")

    answers = together(10, attempt)
    assert inside["ran"] == 3
    assert answers == Counter({"PIN_INVALID": 3, "PIN_RATE_LIMITED": 7})
    # A success gives its place back; failures stay counted for the window.
    ok = AttemptLimiter("LOGIN_RATE_LIMITED", "too many", limit=1)
    for _ in range(3):
        with ok.attempt("k", lambda e: True):
            pass
    with pytest.raises(ColdcheckError), ok.attempt("k", lambda e: True):
        raise ColdcheckError("LOGIN_FAILED", "wrong")
    with pytest.raises(ColdcheckError) as err, ok.attempt("k", lambda e: True):
        pass
    assert err.value.code == "LOGIN_RATE_LIMITED"


def test_many_correct_attempts_at_once_wait_their_turn_and_are_never_refused() -> None:
    """A crew signing in together, or tablets witnessing under one account."""
    lim = AttemptLimiter("LOGIN_RATE_LIMITED", "too many", limit=3)
    gauge = Gauge()

    def attempt(_: int) -> str:
        with lim.attempt("k", lambda e: True), gauge.inside():
            return "SIGNED_IN"

    assert together(10, attempt) == Counter({"SIGNED_IN": 10})
    assert 1 < gauge.peak <= 3  # never more running than failures could still allow


def test_a_made_up_inspection_or_a_non_witness_cannot_be_used_to_guess_a_pin(aw: Any) -> None:
    w = aw.world
    ins = w.inspect("revolver", scene="cold")
    head = w.seq()
    for _ in range(PIN_MAX_FAILURES + 1):
        r = aw.post("alex", "/inspections/I999/witnesses",
                    {"witness": w.people["armorer"], "pin": "0000"})
        assert r.json()["code"] == "NOT_FOUND"
        # The armorer is no witness: refused before their PIN is looked at.
        r = aw.post("alex", f"/inspections/{ins}/witnesses",
                    {"witness": w.people["armorer"], "pin": "0000"})
        assert r.json()["code"] == "ROLE_REQUIRED"
    assert [e.type for e in w.events_since(head)] == []
    r = aw.post("armorer", f"/inspections/{ins}/witnesses",
                {"witness": w.people["alex"], "pin": w.pins["alex"]})
    assert r.status_code == 200, r.text


def test_wrong_pins_from_one_account_are_rate_limited_across_people(aw: Any) -> None:
    w = aw.world
    ins = w.inspect("revolver", scene="cold")
    codes = []
    # Four wrong PINs each (one short of a lock) for five people: twenty.
    for who in ("alex", "rita", "chris", "ad", "supervisor"):
        for _ in range(PIN_MAX_FAILURES - 1):
            codes.append(aw.post("armorer", f"/inspections/{ins}/witnesses",
                                 {"witness": w.people[who], "pin": "0000"}).json()["code"])
    assert codes == ["PIN_INVALID"] * 20
    r = aw.post("armorer", f"/inspections/{ins}/witnesses",
                {"witness": w.people["alex"], "pin": w.pins["alex"]})
    assert r.status_code == 429 and r.json()["code"] == "PIN_RATE_LIMITED"
    assert int(r.headers["retry-after"]) > 0
    # Another account is not held back by this one's guesses.
    r = aw.post("ad", f"/inspections/{ins}/witnesses",
                {"witness": w.people["alex"], "pin": w.pins["alex"]})
    assert r.status_code == 200, r.text


def test_an_unknown_username_is_logged_as_a_fingerprint_never_as_typed(
        aw: Any, caplog: pytest.LogCaptureFixture) -> None:
    typed = "Tr0ub4dor&3-is-my-password"
    with caplog.at_level("WARNING", logger="coldcheck.auth"):
        r = aw.client.post(f"{API}/auth/login", json={"username": typed, "password": "x" * 12})
    assert r.json()["code"] == "LOGIN_FAILED"
    assert typed.lower() not in caplog.text and typed not in caplog.text
    assert accounts.unknown_username(typed.lower()) in caplog.text
    from sqlalchemy import text

    with aw.world.store.engine.connect() as c:
        names = [row[0] for row in c.execute(text("SELECT username FROM auth_events"))]
    assert typed.lower() not in names
    assert accounts.unknown_username(typed.lower()) in names


def test_only_pins_checked_and_wrong_count_against_the_account(aw: Any) -> None:
    """A locked PIN or an empty one guesses nothing: a performer retrying a locked
    PIN on the armory tablet must not block every witness from that tablet."""
    w = aw.world
    ins = w.inspect("revolver", scene="cold")
    for _ in range(PIN_MAX_FAILURES):
        aw.post("armorer", f"/inspections/{ins}/witnesses",
                {"witness": w.people["alex"], "pin": "0000"})
    codes = Counter(aw.post("armorer", f"/inspections/{ins}/witnesses",
                            {"witness": w.people[who], "pin": pin}).json()["code"]
                    for who, pin in [("alex", "0000")] * 20 + [("rita", "")] * 20)
    assert codes == Counter({"PIN_LOCKED": 20, "INVALID_INPUT": 20})
    r = aw.post("armorer", f"/inspections/{ins}/witnesses",
                {"witness": w.people["rita"], "pin": w.pins["rita"]})
    assert r.status_code == 200, r.text


def test_a_rate_limited_answer_is_not_replayed_for_its_idempotency_key(aw: Any) -> None:
    aw.app.state.coldcheck.pin_limiter = AttemptLimiter("PIN_RATE_LIMITED", "too many",
                                                        limit=1, window=0.5)
    w = aw.world
    ins = w.inspect("revolver", scene="cold")
    url = aw.url(f"/inspections/{ins}/witnesses")
    wrong = {"witness": w.people["rita"], "pin": "0000"}
    right = {"witness": w.people["alex"], "pin": w.pins["alex"]}
    assert aw.client.post(url, json=wrong, headers=aw.h("armorer")).status_code == 422
    key = aw.h("armorer", **{"Idempotency-Key": "witness-alex-1"})
    r = aw.client.post(url, json=right, headers=key)
    assert r.status_code == 429 and r.json()["code"] == "PIN_RATE_LIMITED"
    time.sleep(0.6)
    r = aw.client.post(url, json=right, headers=key)
    assert r.status_code == 200, r.text
    assert r.headers.get("Idempotent-Replayed") is None
