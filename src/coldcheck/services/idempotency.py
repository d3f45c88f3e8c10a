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
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain.errors import ColdcheckError
from ..domain.events import parse_utc, utc_text
from ..persistence import accounts as repo
from ..persistence.store import Store
from .accounts import ACCESS_CODES, AccessError, write_tx
from .problems import encode, error_body, status_of

IDEMPOTENCY_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Stored:
    status: int
    body: str


def claim_key(store: Store, *, production: str, account_id: int, key: str, fingerprint: str,
              at: datetime, keep_hours: int) -> Stored | None:
    """Claim ``key`` for a new request (None: go ahead), or return the answer
    stored for it. Same key, different request: IDEMPOTENCY_KEY_REUSED."""
    when = utc_text(at)
    with write_tx(store, flush=False) as c:
        if repo.claim_key(c, production=production, account_id=account_id, key=key,
                          fingerprint=fingerprint, at=when):
            return None
        row = repo.idempotency_key(c, production, account_id, key)
        assert row is not None
        if row["created_at"] < utc_text(at - timedelta(hours=keep_hours)):
            repo.release_key(c, production=production, account_id=account_id, key=key)
            repo.claim_key(c, production=production, account_id=account_id, key=key,
                           fingerprint=fingerprint, at=when)
            return None
    if not hmac.compare_digest(row["fingerprint"], fingerprint):
        raise AccessError("IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was used for a "
                          "different request; use a new key for a new request")
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
    stored = claim_key(store, production=production, account_id=account_id, key=key,
                       fingerprint=fingerprint, at=at, keep_hours=keep_hours)
    if stored is not None:
        return Outcome(stored.status, text=stored.body, replayed=True)
    try:
        value = fn()
    except ColdcheckError as err:
        if err.kind == "rate_limited":
            release_key(store, production=production, account_id=account_id, key=key)
            return Outcome(status_of(err.code, err.kind), error=err)
        out = Outcome(status_of(err.code, err.kind), error=err,
                      text=encode(error_body(err, instance)))
    except BaseException:
        release_key(store, production=production, account_id=account_id, key=key)
        raise
    else:
        out = Outcome(status, value=value, text=json.dumps(value, ensure_ascii=False))
    complete_key(store, production=production, account_id=account_id, key=key,
                 status=out.status, body=out.text or "")
    return out
