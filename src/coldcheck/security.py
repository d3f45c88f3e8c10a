"""argon2id hashing for PINs and passwords."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .domain.errors import InvalidInput

PIN_RE = re.compile(r"^[0-9]{4,12}$")


def hasher(profile: str = "standard") -> PasswordHasher:
    if profile == "fast-insecure-for-tests":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults


def check_pin_format(pin: str) -> str:
    if not PIN_RE.match(pin or ""):
        raise InvalidInput("PIN_WEAK", "a PIN is 4 to 12 digits")
    return pin


# argon2id as configured takes 64 MiB per check. Sign-ins need no account, so
# without a bound a burst of them from a few addresses would hold gigabytes (one
# per worker thread). Four at a time keeps a set cart's memory in hand; the
# others wait their turn (a check takes a fraction of a second).
ARGON2_SLOTS = threading.BoundedSemaphore(4)


def verify(ph: PasswordHasher, stored: str | None, secret: str) -> bool:
    if stored is None:
        return False
    with ARGON2_SLOTS:
        try:
            return ph.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return False


class OneAtATime:
    """One secret check at a time per key (a person's PIN, an account's password).

    A lockout counts wrong entries, and it only holds if the count is read after
    the previous guess was recorded: checked in parallel, forty guesses all pass
    the "locked?" test before the first failure is written (a security review
    measured 32 wrong PINs checked against a limit of 5). Holding this lock from
    the lock test to the recorded failure makes guesses at one secret sequential
    in this process; guesses past the limit then fail fast, without argon2.
    The server is one process; a second process (the CLI) has its own locks.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[object, list[Any]] = {}  # key -> [lock, holders]

    @contextmanager
    def hold(self, key: object) -> Iterator[None]:
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:  # nobody holds or waits: forget the key
                    del self._locks[key]
