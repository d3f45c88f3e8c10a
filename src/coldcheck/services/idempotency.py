"""Idempotency keys: a request sent again with the same ``Idempotency-Key``
(a tablet retrying on flaky Wi-Fi) gets the answer stored for the first one,
and nothing runs twice.

A key is claimed before the request runs and answered after; both writes skip
the disk flush (see :func:`coldcheck.services.accounts.write_tx`), which is
safe because the event commit in between is flushed and logs are written in
order. Keys are per (production, account) and kept for ``idempotency_hours``.

:func:`execute` runs a write once under a key and answers with an
:class:`Outcome`: the value or the refusal of this run, or the answer stored
for an earlier one. What is stored is what the API answers (its status and
JSON body), whichever app ran the write.

Faults of the machine (a full disk, a locked database: services/faults.py) keep
the answer exact. A fault while claiming the key or running the write means
nothing was recorded: the key is released, so a retry runs once; if even the
release fails, the key is noted as released in this process and the retry
claims it again. A fault after the write committed (storing its answer) does
not change the answer: the caller is told what was recorded, and the answer is
kept in this process until it can be stored; a retry with the same key gets
it. Only if the server stops before the answer is stored does a retry find
the key claimed, then IDEMPOTENCY_OUTCOME_UNKNOWN after the lease: never a
second run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain.errors import ColdcheckError
from ..domain.events import parse_utc, utc_text
from ..persistence import accounts as repo
from ..persistence.store import Store
from .accounts import ACCESS_CODES, AccessError, write_tx
from .faults import Fault, fault_of
from .problems import encode, error_body, status_of

log = logging.getLogger("coldcheck")
IDEMPOTENCY_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Stored:
    status: int
    body: str


# Keys whose bookkeeping a fault interrupted, per (database, production,
# account, key): the answer of a committed write not yet stored (with the
# fingerprint it answers), or None for a key to release. Bounded: the oldest go
# first (their retries then find the key claimed: OUTCOME_UNKNOWN, never a
# second run).
_PENDING: OrderedDict[tuple[str, str, int, str], tuple[str, Stored] | None] = OrderedDict()
_PENDING_LOCK = threading.Lock()
PENDING_MAX = 10_000


def _note(store: Store, production: str, account_id: int, key: str,
          value: tuple[str, Stored] | None) -> None:
    with _PENDING_LOCK:
        _PENDING[(store.url, production, account_id, key)] = value
        while len(_PENDING) > PENDING_MAX:
            _PENDING.popitem(last=False)


def _pending(store: Store, production: str, account_id: int,
             key: str) -> tuple[bool, tuple[str, Stored] | None]:
    with _PENDING_LOCK:
        k = (store.url, production, account_id, key)
        return (k in _PENDING), _PENDING.get(k)


def _forget(store: Store, production: str, account_id: int, key: str) -> None:
    with _PENDING_LOCK:
        _PENDING.pop((store.url, production, account_id, key), None)


def _reused() -> AccessError:
    return AccessError("IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used for a "
                       "different request; use a new key for a new request")


def claim_key(store: Store, *, production: str, account_id: int, key: str, fingerprint: str,
              at: datetime, keep_hours: int) -> Stored | None:
    """Claim ``key`` for a new request (None: go ahead), or return the answer
    stored for it. Same key, different request: IDEMPOTENCY_KEY_REUSED.

    An answer a fault kept from being stored is answered from this process (and
    stored now if it can be); a key a fault kept from being released is claimed
    again."""
    known, pending = _pending(store, production, account_id, key)
    if pending is not None:
        kept_fp, kept = pending
        if not hmac.compare_digest(kept_fp, fingerprint):
            raise _reused()
        _store_answer(store, production=production, account_id=account_id, key=key,
                      answer=kept, fingerprint=kept_fp)
        return kept
    when = utc_text(at)
    with write_tx(store, flush=False) as c:
        if repo.claim_key(c, production=production, account_id=account_id, key=key,
                          fingerprint=fingerprint, at=when):
            if known:
                _forget(store, production, account_id, key)
            return None
        row = repo.idempotency_key(c, production, account_id, key)
        assert row is not None
        stale = row["created_at"] < utc_text(at - timedelta(hours=keep_hours))
        # A key whose release a fault interrupted: its request recorded nothing.
        released = known and row["status"] == 0
        if stale or released:
            repo.release_key(c, production=production, account_id=account_id, key=key)
            repo.claim_key(c, production=production, account_id=account_id, key=key,
                           fingerprint=fingerprint, at=when)
            if known:
                _forget(store, production, account_id, key)
            return None
    if not hmac.compare_digest(row["fingerprint"], fingerprint):
        raise _reused()
    if row["status"] == 0:
        if at - parse_utc(row["created_at"]) > IDEMPOTENCY_LEASE:
            raise AccessError("IDEMPOTENCY_OUTCOME_UNKNOWN", ACCESS_CODES[
                "IDEMPOTENCY_OUTCOME_UNKNOWN"], kind="conflict")
        raise AccessError("IDEMPOTENCY_KEY_IN_PROGRESS", ACCESS_CODES[
            "IDEMPOTENCY_KEY_IN_PROGRESS"], kind="conflict")
    return Stored(int(row["status"]), str(row["response"]))


def complete_key(store: Store, *, production: str, account_id: int, key: str, status: int,
                 body: str) -> None:
    with write_tx(store, flush=False) as c:
        repo.complete_key(c, production=production, account_id=account_id, key=key,
                          status=status, response=body)


def release_key(store: Store, *, production: str, account_id: int, key: str) -> None:
    with write_tx(store, flush=False) as c:
        repo.release_key(c, production=production, account_id=account_id, key=key)


def _release(store: Store, *, production: str, account_id: int, key: str) -> None:
    """Release a key whose request recorded nothing. If a fault stops the
    release, the key is noted as released: a retry claims it again."""
    try:
        release_key(store, production=production, account_id=account_id, key=key)
    except Exception as exc:
        log.warning("Idempotency-Key not released (%s): a retry will claim it again", exc)
        _note(store, production, account_id, key, None)


def _store_answer(store: Store, *, production: str, account_id: int, key: str,
                  answer: Stored, fingerprint: str) -> None:
    """Store the answer of a committed write. If a fault stops it, the answer is
    kept in this process (a retry gets it) and stored at the next retry."""
    try:
        complete_key(store, production=production, account_id=account_id, key=key,
                     status=answer.status, body=answer.body)
    except Exception as exc:
        log.warning("the answer to an Idempotency-Key was not stored (%s); it is kept "
                    "until it can be", exc)
        _note(store, production, account_id, key, (fingerprint, answer))
    else:
        _forget(store, production, account_id, key)


def purge_keys(store: Store, *, at: datetime, keep_hours: int) -> int:
    with write_tx(store) as c:
        return repo.purge_keys(c, utc_text(at - timedelta(hours=keep_hours)))


def fingerprint(secret: bytes, method: str, path: str, body: bytes) -> str:
    """What a key is bound to: the request's method, path and body (HMAC with the
    server's secret, so the database alone cannot reverse it)."""
    return hmac.new(secret, b"\n".join([method.encode(), path.encode(), body]),
                    hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """A write's answer. Of this run: ``value`` (what the write returned) or
    ``error`` (its refusal). Of an earlier run with the same key: ``replayed``,
    with the stored ``status`` and ``text`` (the JSON body). ``text`` is also set
    when this run's answer was stored."""

    status: int
    value: Any = None
    error: ColdcheckError | None = None
    text: str | None = None
    replayed: bool = False

    def body(self) -> Any:
        """The stored JSON body, decoded (a replayed answer)."""
        return json.loads(self.text or "null")


def execute(store: Store, fn: Callable[[], Any], *, production: str, account_id: int,
            key: str | None, fingerprint: str, at: datetime, keep_hours: int,
            instance: str, status: int = 200) -> Outcome:
    """Run ``fn`` once. Without a key it simply runs. With one, a retry of the same
    request gets the stored answer (success or refusal) and nothing runs twice;
    ``instance`` (the request path) goes into a stored refusal, as the API
    answers it. A refusal for too many attempts is not kept: the same request
    may succeed after Retry-After, and a replay would refuse it forever."""
    if key is None:
        try:
            return Outcome(status, value=fn())
        except ColdcheckError as err:
            return Outcome(status_of(err.code, err.kind), error=err)
        except Exception as exc:
            return _faulted(exc)
    try:
        stored = claim_key(store, production=production, account_id=account_id, key=key,
                           fingerprint=fingerprint, at=at, keep_hours=keep_hours)
    except (ColdcheckError, KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the claim rolled back: nothing claimed, nothing run
        return _faulted(exc)
    if stored is not None:
        return Outcome(stored.status, text=stored.body, replayed=True)
    try:
        value = fn()
    except Fault as err:
        _release(store, production=production, account_id=account_id, key=key)
        return Outcome(status_of(err.code, err.kind), error=err)
    except ColdcheckError as err:
        if err.kind == "rate_limited":
            _release(store, production=production, account_id=account_id, key=key)
            return Outcome(status_of(err.code, err.kind), error=err)
        out = Outcome(status_of(err.code, err.kind), error=err,
                      text=encode(error_body(err, instance)))
    except BaseException as exc:
        # The write did not commit (a use case answers only once it has, and
        # nothing after its commit raises): nothing was recorded.
        _release(store, production=production, account_id=account_id, key=key)
        if isinstance(exc, Exception):
            return _faulted(exc)
        raise
    else:
        out = Outcome(status, value=value, text=json.dumps(value, ensure_ascii=False))
    _store_answer(store, production=production, account_id=account_id, key=key,
                  answer=Stored(out.status, out.text or ""), fingerprint=fingerprint)
    return out


def _faulted(exc: Exception) -> Outcome:
    """A fault of the machine as this run's answer (not stored: a retry runs
    again once the fault is gone); any other exception propagates (a defect)."""
    found = fault_of(exc)
    if found is None:
        raise exc
    log.warning("%s: %s", found.code, exc)
    return Outcome(status_of(found.code, found.kind), error=found)
