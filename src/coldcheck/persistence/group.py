"""Group commit: the decisions of many concurrent writers, one transaction, one fsync.

With ``synchronous=FULL`` (or PostgreSQL's ``synchronous_commit``) the cost of
an acknowledged append is dominated by the flush at commit, and a production's
writers are serialised by its lock anyway. So instead of each thread taking the
lock in turn for its own transaction, writers of one production queue their
*decisions* and one of them, the leader, runs every queued decision in a single
write transaction:

* each decision sees the state left by the ones before it in the group (they
  are applied in order by :meth:`Tx.append`, exactly as separate transactions
  would have been, so the ledger reads the same either way);
* a decision that raises :class:`ColdcheckError` is isolated: its refusal goes
  back to its caller and the refusal's ``record`` events, if any, are appended;
  the others proceed. Decisions are pure (``state -> events``), so a refused
  decision changed nothing; the state only changes in ``Tx.append``;
* a decision that crashes with any other exception, or an append that fails,
  may have left the in-memory state half-changed: the transaction is rolled
  back, the cached state dropped, the culprit gets its exception and the rest
  of the group is run again once, in a fresh transaction (if that fails too,
  they all get the error);
* the transaction commits once, and only then is any caller acknowledged: no
  caller returns before its events are durable. If the commit fails, every
  caller of the group gets the error (and the cached state is dropped, as any
  failed :meth:`Store.write` does).

There is no timer and no background thread: while a leader commits, newcomers
queue up; when it is done, it wakes the callers it answered and hands over to
the caller at the head of the queue, who leads the next group. A lone writer
therefore pays nothing (its group is itself), and N concurrent writers share
one flush between them. Other writers (other processes, or code that uses
``Store.write`` directly) are serialised with the groups by the same locks.
Decisions run on the leader's thread, in queue order.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.errors import ColdcheckError
from ..domain.events import Event, NewEvent
from ..domain.state import ProductionState
from .store import Store

Decision = Callable[[ProductionState], Sequence[NewEvent]]


@dataclass(frozen=True)
class Outcome:
    """What a committed decision recorded. ``refusal`` is set when the decision
    was refused with events to record: they are ``events``, now durable, and the
    caller is expected to raise the refusal."""

    events: list[Event]
    refusal: ColdcheckError | None = None


@dataclass(eq=False)
class _Request:
    decide: Decision
    actor: str
    device: str
    at: datetime
    events: list[Event] = field(default_factory=list)
    refusal: ColdcheckError | None = None
    error: BaseException | None = None
    done: bool = False  # answered: committed, refused or failed
    lead: bool = False  # this caller's thread runs the next group
    wake: threading.Event = field(default_factory=threading.Event)

    def reset(self) -> None:
        self.events, self.refusal, self.error = [], None, None

    def fail(self, err: BaseException) -> None:
        self.events, self.refusal, self.error = [], None, err


class GroupCommitter:
    """Group commit for one production of one :class:`Store`. Get it with
    :func:`committer`; :meth:`submit` is safe to call from any thread."""

    def __init__(self, store: Store, production: str, *, max_batch: int = 256) -> None:
        self._store = weakref.ref(store)  # the registry is keyed weakly by the store
        self.production = production
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: deque[_Request] = deque()
        self._leading = False  # a leader is running (or has been chosen)
        # Counters, for tests and benchmarks (written by the leader only).
        self.commits = 0  # transactions committed
        self.acknowledged = 0  # requests answered by those transactions
        self.largest = 0  # most requests in one transaction

    @property
    def pending(self) -> int:
        """Requests queued and not yet taken by a leader."""
        with self._lock:
            return len(self._queue)

    @property
    def store(self) -> Store:
        s = self._store()
        if s is None:  # pragma: no cover - a caller always holds the store
            raise RuntimeError("the store of this committer is gone")
        return s

    def submit(self, decide: Decision, *, actor: str, device: str, at: datetime) -> Outcome:
        """Run ``decide`` against the production's current state in a group
        transaction and return once its events are committed. Raises the
        decision's error (a refusal without events to record, or a crash), or
        the transaction's error if the group could not be committed."""
        req = _Request(decide, actor, device, at)
        with self._lock:
            self._queue.append(req)
            if not self._leading:
                self._leading = req.lead = True
        if not req.lead:
            req.wake.wait()  # until answered, or chosen to lead the next group
        if not req.done:
            self._lead(req)
        if req.error is not None:
            raise req.error
        return Outcome(req.events, req.refusal)

    # ---- the leader ----------------------------------------------------
    def _lead(self, mine: _Request) -> None:
        """Commit groups from the head of the queue until ``mine`` is done, then
        hand over to the caller at the head of the queue, if any. Only answered
        callers and the next leader are woken."""
        try:
            while not mine.done:
                with self._lock:
                    batch = [self._queue.popleft()
                             for _ in range(min(len(self._queue), self.max_batch))]
                try:
                    self._commit(batch)
                finally:
                    for r in batch:
                        r.done = True
                        r.wake.set()
        finally:
            with self._lock:
                if self._queue:
                    nxt = self._queue[0]
                    nxt.lead = True
                    nxt.wake.set()
                else:
                    self._leading = False

    def _commit(self, batch: list[_Request]) -> None:
        todo = batch
        for attempt in (1, 2):
            for r in todo:
                r.reset()
            try:
                culprit = self._transaction(todo)
            except BaseException as err:
                # The commit itself (or taking the lock) failed: nobody's events
                # are durable. Store.write has rolled back and dropped the state.
                for r in todo:
                    r.fail(err)
                if not isinstance(err, Exception):
                    raise  # KeyboardInterrupt, SystemExit: answered, then propagated
                return
            if culprit is None:
                self.commits += 1
                self.acknowledged += len(todo)
                self.largest = max(self.largest, len(todo))
                return
            todo = [r for r in todo if r is not culprit]
            if attempt == 2 or not todo:
                for r in todo:  # a second failure: give up on the whole group
                    r.fail(culprit.error or RuntimeError("group commit failed"))
                return

    def _transaction(self, todo: list[_Request]) -> _Request | None:
        """One write transaction over ``todo``. Returns None once committed, or
        the request whose decision or append failed (its ``error`` set) after
        the transaction was rolled back."""
        current: _Request | None = None
        try:
            with self.store.write(self.production) as tx:
                for current in todo:
                    try:
                        new = current.decide(tx.state)
                    except ColdcheckError as err:
                        if not err.record:
                            current.fail(err)  # a pure decision said no: nothing changed
                            continue
                        current.refusal, new = err, err.record
                    current.events = tx.append(new, actor=current.actor,
                                               device=current.device, at=current.at)
                current = None
        except Exception as err:
            if current is None:
                raise  # beginning or committing the transaction failed
            current.fail(err)
            return current
        return None


_registry: weakref.WeakKeyDictionary[Store, dict[str, GroupCommitter]] = \
    weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def committer(store: Store, production: str) -> GroupCommitter:
    """The group committer of ``production`` in ``store`` (one per pair)."""
    with _registry_lock:
        per = _registry.setdefault(store, {})
        c = per.get(production)
        if c is None:
            c = per[production] = GroupCommitter(store, production)
        return c
