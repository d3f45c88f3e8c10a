"""Idempotency keys: a request sent again with the same ``Idempotency-Key``
(a tablet retrying on flaky Wi-Fi) gets the answer stored for the first one,
and nothing runs twice.

A key is claimed before the request runs and answered after; both writes skip
the disk flush (see :func:`coldcheck.services.accounts.write_tx`), which is
safe because the event commit in between is flushed and logs are written in
order. Keys are per (production, account) and kept for ``idempotency_hours``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.events import parse_utc, utc_text
from ..persistence import accounts as repo
from ..persistence.store import Store
from .accounts import ACCESS_CODES, AccessError, write_tx

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
