"""Bounds on guessing: failed sign-ins per client address, wrong PINs per
account. The API and the tablet web app share one of each (``AppState``)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..domain.errors import ColdcheckError
from .accounts import AccessError


class AttemptLimiter:
    """Failed attempts per key (a client address, an account): past ``limit`` in
    ``window`` seconds, attempts under that key are refused (HTTP 429, ``code``)
    until the oldest failure ages out.

    An attempt could be a failure from the moment it starts until it ends: so
    that a burst of parallel guesses cannot all pass the check before the first
    failure is counted, an attempt that would bring the failures plus the
    attempts still running past the limit waits for one of those to end
    (:meth:`attempt`); it is refused only once the failures themselves reach the
    limit. Many correct attempts at once (a crew signing in together, tablets
    witnessing under one account) are therefore delayed a moment, never refused.
    """

    def __init__(self, code: str, message: str, limit: int,
                 window: float = 15 * 60) -> None:
        self.code, self.message = code, message
        self.limit, self.window = limit, window
        self._fails: dict[str, deque[float]] = {}
        self._running: dict[str, int] = {}
        self._turn = threading.Condition()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def spend(self, key: str) -> None:
        """Count one use under ``key``, whatever its outcome: refused once ``limit``
        uses fall within ``window`` (for pages anyone may post to, where every
        post counts, not only the failed ones)."""
        with self._turn:
            now = time.monotonic()
            q = self._recent(key, now)
            if len(q) >= self.limit:
                wait = int(q[0] + self.window - now) + 1
                raise AccessError(self.code, f"{self.message}; try again in {wait} s",
                                  kind="rate_limited", retry_after=wait)
            q.append(now)
            if len(self._fails) > 10_000:  # bounded memory: forget idle keys
                for k in [k for k in self._fails if not self._recent(k, now)]:
                    del self._fails[k]

    @contextmanager
    def attempt(self, key: str, failed: Callable[[BaseException], bool]) -> Iterator[None]:
        """Run one attempt under ``key``: refused when the failures reach the limit,
        delayed while the failures and the attempts still running would; an
        exception for which ``failed`` says True is counted as a failure."""
        with self._turn:
            while True:
                now = time.monotonic()
                q = self._recent(key, now)
                if len(q) >= self.limit:
                    wait = int(q[0] + self.window - now) + 1
                    raise AccessError(self.code, f"{self.message}; try again in {wait} s",
                                      kind="rate_limited", retry_after=wait)
                running = self._running.get(key, 0)
                if len(q) + running < self.limit:
                    break
                self._turn.wait(timeout=1.0)  # an attempt ends within seconds
            self._running[key] = running + 1
        failure = False
        try:
            yield
        except BaseException as err:
            failure = failed(err)
            raise
        finally:
            with self._turn:
                left = self._running[key] - 1
                if left:
                    self._running[key] = left
                else:
                    del self._running[key]
                if failure:
                    self._recent(key, time.monotonic()).append(time.monotonic())
                if len(self._fails) > 10_000:  # bounded memory: forget idle keys
                    now = time.monotonic()
                    for k in [k for k in self._fails if not self._recent(k, now)]:
                        del self._fails[k]
                self._turn.notify_all()


def sign_in_limiter() -> AttemptLimiter:
    """Failed sign-ins per client address. This complements the per-account
    lock, which an attacker spraying many usernames would never trip."""
    return AttemptLimiter("LOGIN_RATE_LIMITED", "too many failed sign-ins from this address",
                          limit=20)


def pin_limiter() -> AttemptLimiter:
    """Wrong PINs per signed-in account, whoever's PIN was typed. A person's PIN
    locks after five wrong entries; this bounds what one account can try across
    everyone's PINs (and how many PINs it can lock on purpose)."""
    return AttemptLimiter("PIN_RATE_LIMITED", "too many wrong PINs entered from this account",
                          limit=20)


def complaint_limiter() -> AttemptLimiter:
    """Posts to the QR poster's public complaint page per client address (each
    counts, filed or not): the page needs no account, so this is what bounds a
    script filling the record with complaints. A crew behind one set Wi-Fi
    shares an address: the limit leaves room for a dozen real complaints."""
    return AttemptLimiter("COMPLAINT_RATE_LIMITED", "too many complaints sent from this "
                          "address", limit=12, window=15 * 60)


PIN_CODES = frozenset({"PIN_INVALID", "PIN_LOCKED"})


def pin_failed(err: BaseException) -> bool:
    """A PIN that was checked and wrong (not an empty one, nor one refused
    unchecked because it is locked: those guess nothing)."""
    return (isinstance(err, ColdcheckError) and err.code in PIN_CODES
            and bool(err.details.get("checked")))
