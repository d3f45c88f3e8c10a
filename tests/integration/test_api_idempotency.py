"""Idempotency-Key: a tablet retrying on flaky Wi-Fi never records twice, on
SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_support import api_world
from sqlalchemy import select

from coldcheck.config import Settings
from coldcheck.persistence import tables as t
from coldcheck.persistence.store import Store
from coldcheck.services import accounts
from coldcheck.services.idempotency import IDEMPOTENCY_LEASE


@pytest.fixture
def aw(store: Store, backend_settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(store, backend_settings, clock, production="idem-test") as aw:
        yield aw


def issue(aw: Any, key: str, performer: str = "alex") -> Any:
    w = aw.world
    return aw.post("armorer", f"/weapons/{w.weapons['revolver']}/issue",
                   {"performer": w.people[performer], "scene": w.scenes["cold"]},
                   **{"Idempotency-Key": key})


def test_a_retried_issue_gets_the_first_answer_and_records_once(aw: Any) -> None:
    aw.ready("revolver", "alex", "cold")
    head = aw.world.seq()
    first = issue(aw, "tablet-7f3a-0001")
    assert first.status_code == 200, first.text
    again = issue(aw, "tablet-7f3a-0001")
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert aw.world.types_since(head) == ["weapon.issued"]


def test_without_a_key_a_retry_is_a_new_request(aw: Any) -> None:
    aw.ready("revolver", "alex", "cold")
    w = aw.world
    body = {"performer": w.people["alex"], "scene": w.scenes["cold"]}
    assert aw.post("armorer", f"/weapons/{w.weapons['revolver']}/issue", body).status_code == 200
    head = w.seq()
    r = aw.post("armorer", f"/weapons/{w.weapons['revolver']}/issue", body)
    # A second hand-over of a weapon the performer already holds: refused, and
    # (a custody refusal) recorded.
    assert r.status_code == 409 and r.json()["code"] == "CUSTODY_DIRECT_HANDOFF"
    assert w.types_since(head) == ["weapon.handoff_refused"]


def test_the_same_key_with_a_different_body_is_refused_and_nothing_runs(aw: Any) -> None:
    aw.ready("revolver", "alex", "cold")
    assert issue(aw, "k-1").status_code == 200
    head = aw.world.seq()
    r = issue(aw, "k-1", performer="rita")
    assert r.status_code == 422 and r.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert aw.world.seq() == head


def test_a_refusal_that_was_recorded_is_replayed_not_recorded_again(aw: Any) -> None:
    w = aw.world
    head = w.seq()
    body = {"to": w.people["alex"]}
    hdr = {"Idempotency-Key": "handoff-1"}
    first = aw.post("ad", f"/weapons/{w.weapons['revolver']}/handoffs", body, **hdr)
    assert first.status_code == 409 and first.json()["recorded"] == [head]
    again = aw.post("ad", f"/weapons/{w.weapons['revolver']}/handoffs", body, **hdr)
    assert again.status_code == 409 and again.json() == first.json()
    assert again.headers["content-type"] == "application/problem+json"
    assert w.types_since(head) == ["weapon.handoff_refused"]


def test_a_wrong_witness_pin_retried_with_the_same_key_counts_once(aw: Any) -> None:
    w = aw.world
    ins = w.inspect("revolver", scene="cold")
    head = w.seq()
    body = {"witness": w.people["alex"], "pin": "0000"}
    for _ in range(3):
        r = aw.post("armorer", f"/inspections/{ins}/witnesses", body,
                    **{"Idempotency-Key": "pin-1"})
        assert r.json()["code"] == "PIN_INVALID"
    assert w.types_since(head) == ["person.pin_failed"]
    fixed = aw.post("armorer", f"/inspections/{ins}/witnesses",
                    {"witness": w.people["alex"], "pin": w.pins["alex"]},
                    **{"Idempotency-Key": "pin-1"})
    assert fixed.status_code == 422 and fixed.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_request_rejected_before_it_ran_keeps_no_answer(aw: Any) -> None:
    aw.ready("revolver", "alex", "cold")
    w = aw.world
    url = f"/weapons/{w.weapons['revolver']}/issue"
    bad = aw.post("armorer", url, {"performer": w.people["alex"]}, **{"Idempotency-Key": "k2"})
    assert bad.status_code == 422 and bad.json()["code"] == "INVALID_INPUT"
    ok = aw.post("armorer", url, {"performer": w.people["alex"], "scene": w.scenes["cold"]},
                 **{"Idempotency-Key": "k2"})
    assert ok.status_code == 200, ok.text


def test_a_key_still_running_answers_409_in_progress(aw: Any) -> None:
    w = aw.world
    acc = accounts.account_of_username(w.store, "alex")
    # Send the request once, then mark its key as still running (claimed, unanswered).
    r = aw.post("alex", "/complaints", {"text": "hot brass"}, **{"Idempotency-Key": "run-1"})
    assert r.status_code == 200
    with w.store.engine.connect() as c:
        c.execution_options(coldcheck_write=True)
        with c.begin():
            c.execute(t.idempotency_keys.update().where(
                t.idempotency_keys.c.key == "run-1",
                t.idempotency_keys.c.account_id == acc).values(status=0, response=None))
    r = aw.post("alex", "/complaints", {"text": "hot brass"}, **{"Idempotency-Key": "run-1"})
    assert r.status_code == 409 and r.json()["code"] == "IDEMPOTENCY_KEY_IN_PROGRESS"
    assert r.headers["retry-after"] == "1"
    aw.clock.t += IDEMPOTENCY_LEASE * 2
    r = aw.post("alex", "/complaints", {"text": "hot brass"}, **{"Idempotency-Key": "run-1"})
    assert r.status_code == 409 and r.json()["code"] == "IDEMPOTENCY_OUTCOME_UNKNOWN"


def test_keys_belong_to_one_account(aw: Any) -> None:
    head = aw.world.seq()
    for who in ("alex", "rita"):
        r = aw.post(who, "/complaints", {"text": "the same words"}, **{"Idempotency-Key": "k"})
        assert r.status_code == 200
    assert aw.world.types_since(head) == ["complaint.filed", "complaint.filed"]


def test_an_invalid_key_is_refused(aw: Any) -> None:
    r = aw.post("alex", "/complaints", {"text": "x"}, **{"Idempotency-Key": "tab\tkey"})
    assert r.status_code == 422 and r.json()["code"] == "IDEMPOTENCY_KEY_INVALID"


def test_the_stored_fingerprint_cannot_be_checked_against_a_guessed_pin(aw: Any) -> None:
    import hashlib

    w = aw.world
    ins = w.inspect("revolver", scene="cold")
    raw = b'{"witness":"' + w.people["alex"].encode() + b'","pin":"' + \
        w.pins["alex"].encode() + b'"}'
    r = aw.client.post(aw.url(f"/inspections/{ins}/witnesses"), content=raw,
                       headers={**aw.h("armorer"), "Content-Type": "application/json",
                                "Idempotency-Key": "fp-1"})
    assert r.status_code == 200, r.text
    with w.store.engine.connect() as c:
        row = c.execute(select(t.idempotency_keys).where(
            t.idempotency_keys.c.key == "fp-1")).one()
    path = aw.url(f"/inspections/{ins}/witnesses").encode()
    unkeyed = hashlib.sha256(b"\n".join([b"POST", path, raw])).hexdigest()
    assert row.fingerprint != unkeyed and w.pins["alex"] not in (row.response or "")


def test_keys_skip_the_flush_but_every_pooled_connection_flushes_again_afterwards(
        aw: Any) -> None:
    from contextlib import ExitStack

    for i in range(5):
        r = aw.post("alex", "/complaints", {"text": f"c{i}"}, **{"Idempotency-Key": f"s{i}"})
        assert r.status_code == 200
    engine = aw.world.store.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL scopes synchronous_commit to the transaction (SET LOCAL)")
    with ExitStack() as stack:
        conns = [stack.enter_context(engine.connect()) for _ in range(5)]
        modes = {c.connection.driver_connection.execute("PRAGMA synchronous").fetchone()[0]
                 for c in conns}
    assert modes == {2}  # FULL
