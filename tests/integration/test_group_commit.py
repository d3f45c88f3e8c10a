"""Group commit (coldcheck.persistence.group), on SQLite and PostgreSQL.

Concurrent writers of one production queue their decisions; one leader runs them
all in one transaction and acknowledges each caller only after the commit. These
tests pin the behaviour, not the speed (benchmarks/bench_append.py measures it):
groups are made deterministic by holding a leader inside its transaction while
the others queue up behind it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, event
from store_checks import PRODUCTION, T0, assert_record_intact, new_production, stored_entries

from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.domain.events import Event, NewEvent
from coldcheck.domain.state import ProductionState
from coldcheck.persistence.group import GroupCommitter, committer
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services.context import Context
from coldcheck.services.core import execute

WAIT = 30.0  # seconds: generous, only reached when something is broken


class Caller(threading.Thread):
    """Runs one call in its own thread and keeps its result or its error."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.fn, self.result, self.error = fn, None, None
        self.returned_at: float | None = None

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as err:  # kept for the test to look at
            self.error = err
        self.returned_at = time.monotonic()

    def outcome(self) -> Any:
        self.join(WAIT)
        assert not self.is_alive(), "the call never returned"
        return self.result


def wait_until(cond: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def hold_leader(ctx: Context) -> tuple[Caller, threading.Event]:
    """Start a writer whose decision blocks inside its transaction until the
    returned gate opens: whoever submits meanwhile queues behind it."""
    entered, gate = threading.Event(), threading.Event()

    def decide(s: ProductionState) -> list[NewEvent]:
        entered.set()
        assert gate.wait(WAIT)
        return [NewEvent("note.added", {"refers_to": 0, "text": "leader"})]

    leader = Caller(lambda: execute(ctx, decide, actor="system", at=T0))
    leader.start()
    assert entered.wait(WAIT)
    return leader, gate


def queue_behind(group: GroupCommitter, calls: list[Callable[[], Any]]) -> list[Caller]:
    """Start the calls one by one, each queued before the next starts (so the
    group runs them in this order)."""
    callers = []
    for i, fn in enumerate(calls, 1):
        c = Caller(fn)
        c.start()
        wait_until(lambda i=i: group.pending == i)  # type: ignore[misc]
        callers.append(c)
    return callers


@contextmanager
def counting_commits(store: Store) -> Iterator[list[int]]:
    """Count the database commits (the flushes) while the block runs."""
    seen: list[int] = []

    def on_commit(conn: Connection) -> None:
        seen.append(1)

    event.listen(store.engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(store.engine, "commit", on_commit)


def complain(ctx: Context, person: str, text: str) -> Callable[[], list[Event]]:
    return lambda: a.file_complaint(ctx, by=person, text=text, at=T0)


# ---- correctness under load --------------------------------------------------

def test_eight_threads_through_execute_record_every_event_once(store: Store,
                                                               backend_settings: Settings
                                                               ) -> None:
    ctx, person = new_production(store, backend_settings)
    group = committer(store, PRODUCTION)
    before, commits0, acks0 = store.head(PRODUCTION), group.commits, group.acknowledged
    threads, per_thread = 8, 15
    start = threading.Barrier(threads)

    def worker(n: int) -> list[Event]:
        start.wait()
        got: list[Event] = []
        for i in range(per_thread):
            got += a.file_complaint(ctx, by=person, text=f"w{n} #{i}", at=T0)
        return got

    with counting_commits(store) as flushes:
        callers = [Caller(lambda n=n: worker(n)) for n in range(threads)]  # type: ignore[misc]
        for c in callers:
            c.start()
        results = [c.outcome() for c in callers]
    assert all(c.error is None for c in callers)
    total = threads * per_thread
    assert sorted(e.seq for got in results for e in got) == list(range(before, before + total))
    ids = sorted(int(e.payload["complaint"][1:]) for got in results for e in got)
    assert ids == list(range(1, total + 1))  # each decision saw every one before it
    assert group.acknowledged - acks0 == total
    assert len(flushes) == group.commits - commits0 <= total  # one flush per group
    assert assert_record_intact(store) == before + total


def test_callers_that_wait_share_one_transaction(store: Store,
                                                 backend_settings: Settings) -> None:
    ctx, person = new_production(store, backend_settings)
    group = committer(store, PRODUCTION)
    with counting_commits(store) as flushes:
        leader, gate = hold_leader(ctx)
        callers = queue_behind(group, [complain(ctx, person, f"#{i}") for i in range(5)])
        assert all(c.is_alive() for c in callers)
        gate.set()
        leader.outcome()
        events = [c.outcome()[0] for c in callers]
    assert len(flushes) == 2  # the leader's own group, then the five together
    assert group.largest == 5
    assert [e.payload["complaint"] for e in events] == ["C1", "C2", "C3", "C4", "C5"]
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 5))
    assert_record_intact(store)


def test_max_batch_bounds_the_size_of_a_group(store: Store,
                                              backend_settings: Settings) -> None:
    _, person = new_production(store, backend_settings)
    group = GroupCommitter(store, PRODUCTION, max_batch=2)
    entered, gate = threading.Event(), threading.Event()

    def held(s: ProductionState) -> list[NewEvent]:
        entered.set()
        assert gate.wait(WAIT)
        return []

    def note(i: int) -> Callable[[], Any]:
        return lambda: group.submit(
            lambda s: [NewEvent("note.added", {"refers_to": 0, "text": f"{i}"})],
            actor=person, device="test", at=T0)

    leader = Caller(lambda: group.submit(held, actor=person, device="test", at=T0))
    leader.start()
    assert entered.wait(WAIT)
    callers = queue_behind(group, [note(i) for i in range(5)])
    gate.set()
    leader.outcome()
    assert [e.payload["text"] for c in callers for e in c.outcome().events] == \
        ["0", "1", "2", "3", "4"]
    assert (group.commits, group.largest) == (4, 2)  # 1 + 2 + 2 + 1
    assert_record_intact(store)


def test_a_lone_writer_commits_each_decision_at_once(store: Store,
                                                     backend_settings: Settings) -> None:
    ctx, person = new_production(store, backend_settings)
    group = committer(store, PRODUCTION)
    commits0 = group.commits
    with counting_commits(store) as flushes:
        for i in range(4):
            a.file_complaint(ctx, by=person, text=f"#{i}", at=T0)
    assert len(flushes) == group.commits - commits0 == 4
    assert_record_intact(store)


# ---- isolation -------------------------------------------------------------

def test_a_refusal_in_a_group_is_isolated_and_its_record_is_kept(
        store: Store, backend_settings: Settings) -> None:
    ctx, person = new_production(store, backend_settings)
    group = committer(store, PRODUCTION)
    with counting_commits(store) as flushes:
        leader, gate = hold_leader(ctx)
        first, recorded, refused, last = queue_behind(group, [
            complain(ctx, person, "first"),
            # Hard rules never bend, and this person is no safety supervisor: the
            # attempt is refused *and* recorded (action.refused).
            lambda: a.override(ctx, rule="AMMO_LIVE_FORBIDDEN", subject=f"person:{person}",
                               reason="we are behind schedule", supervisor=person, at=T0),
            # A note about an event that does not exist: refused, nothing to record.
            lambda: a.add_note(ctx, refers_to=10**6, text="?", actor=person, at=T0),
            complain(ctx, person, "last"),
        ])
        gate.set()
        leader.outcome()
        for c in (first, recorded, refused, last):
            c.outcome()
    assert len(flushes) == 2
    assert first.error is None and last.error is None
    assert isinstance(recorded.error, ColdcheckError)
    assert recorded.error.code == "OVERRIDE_NOT_ALLOWED"
    assert isinstance(refused.error, ColdcheckError) and refused.error.code == "INVALID_INPUT"
    seq = first.result[0].seq
    assert recorded.error.details["recorded"] == [seq + 1]
    assert last.result[0].seq == seq + 2
    assert [e.type for e in store.events(PRODUCTION, seq)] == \
        ["complaint.filed", "action.refused", "complaint.filed"]
    assert [first.result[0].payload["complaint"], last.result[0].payload["complaint"]] == \
        ["C1", "C2"]
    assert_record_intact(store)


def test_a_crashing_decision_is_dropped_and_its_neighbours_committed(
        store: Store, backend_settings: Settings) -> None:
    ctx, person = new_production(store, backend_settings)
    group = committer(store, PRODUCTION)
    name = store.state(PRODUCTION).name

    def buggy(s: ProductionState) -> list[NewEvent]:
        s.name = "tampered"  # an impure decision: the state it saw must not survive
        s.counters["C"] = 99
        raise KeyError("bug")

    with counting_commits(store) as flushes:
        leader, gate = hold_leader(ctx)
        before, crash, after = queue_behind(group, [
            complain(ctx, person, "before"),
            lambda: execute(ctx, buggy, actor=person, at=T0),
            complain(ctx, person, "after"),
        ])
        gate.set()
        leader.outcome()
        for c in (before, crash, after):
            c.outcome()
    assert isinstance(crash.error, KeyError)
    assert before.error is None and after.error is None
    assert [before.result[0].payload["complaint"], after.result[0].payload["complaint"]] == \
        ["C1", "C2"]
    assert len(flushes) == 2  # the leader's; the group's first try was rolled back
    assert a.file_complaint(ctx, by=person, text="next", at=T0)[0].payload["complaint"] == "C3"
    assert store.state(PRODUCTION).name == name
    assert_record_intact(store)


def test_a_failed_commit_fails_every_caller_and_drops_the_cached_state(
        store: Store, backend_settings: Settings) -> None:
    ctx, person = new_production(store, backend_settings)
    group = committer(store, PRODUCTION)
    commits: list[int] = []

    def fail_second_commit(conn: Connection) -> None:
        commits.append(1)
        if len(commits) == 2:
            raise OSError("disk on fire")

    leader, gate = hold_leader(ctx)
    callers = queue_behind(group, [complain(ctx, person, f"#{i}") for i in range(3)])
    before = stored_entries(store)
    event.listen(store.engine, "commit", fail_second_commit)
    try:
        gate.set()
        leader.outcome()
        for c in callers:
            c.outcome()
    finally:
        event.remove(store.engine, "commit", fail_second_commit)
    assert leader.error is None
    assert all(isinstance(c.error, OSError) for c in callers)
    assert all(c.result is None for c in callers)
    after = stored_entries(store)  # the leader's note, and nothing of the failed group
    assert after[:-1] == before and b'"text":"leader"' in after[-1][1]
    # The cached state held the three applied complaints: it was dropped.
    assert a.file_complaint(ctx, by=person, text="again", at=T0)[0].payload["complaint"] == "C1"
    assert_record_intact(store)


# ---- durability before acknowledgement --------------------------------------

def test_no_caller_returns_before_its_events_are_committed(store: Store,
                                                           backend_settings: Settings) -> None:
    ctx, person = new_production(store, backend_settings)
    group = committer(store, PRODUCTION)
    observer = Store(backend_settings.database_url)  # another process, reading
    in_commit, release = threading.Event(), threading.Event()
    blocked: list[int] = []

    def block_first_commit(conn: Connection) -> None:
        if not blocked:
            blocked.append(1)
            in_commit.set()
            assert release.wait(WAIT)

    def visible_after(fn: Callable[[], list[Event]]) -> Callable[[], bool]:
        def call() -> bool:  # at the moment the caller gets its events back...
            events = fn()
            seen = dict(stored_entries(observer))  # ...another connection sees them
            return bool(events) and all(seen.get(e.seq) == e.entry() for e in events)
        return call

    head = store.head(PRODUCTION)
    event.listen(store.engine, "commit", block_first_commit)
    try:
        first = Caller(visible_after(complain(ctx, person, "first")))
        first.start()
        assert in_commit.wait(WAIT)  # the first group is committing, and stuck there
        others = queue_behind(group, [visible_after(complain(ctx, person, f"#{i}"))
                                      for i in range(3)])
        time.sleep(0.05)
        assert first.returned_at is None and all(c.returned_at is None for c in others)
        assert observer.head(PRODUCTION) == head  # nothing committed yet, nothing acked
        release.set()
        results = [c.outcome() for c in [first, *others]]
    finally:
        event.remove(store.engine, "commit", block_first_commit)
        observer.dispose()
    assert all(c.error is None for c in [first, *others])
    assert results == [True] * 4
    assert_record_intact(store)


@pytest.fixture(autouse=True)
def _no_stray_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    stray = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for t in stray:
        t.join(WAIT)
    assert not [t for t in stray if t.is_alive()]
