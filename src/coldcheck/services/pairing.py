"""Pairing a person's own phone with a one-time QR code shown on the cart tablet.

The armorer (``device.manage``) asks the registered cart tablet for a pairing
code *for one person* (the 1st AD, the safety supervisor…). The tablet shows it
as a QR code holding ``/pair/<code>``. The phone scans it, opens that page and
the person signs in there with their own username and password; only if the
signed-in account is that person on that production is the phone registered
as a device (``accounts.register_device``) and the code spent.

* The code is 128 random bits; only its SHA-256 is kept, in memory, with the
  production, the person, who asked for it and when it expires
  (:data:`PAIRING_MINUTES`). It is single use: a second redemption, or one after
  expiry, is DEVICE_UNKNOWN.
* The QR alone gives nothing: the phone still needs the person's own password,
  and a password alone (on a phone) gives a session but no device, so it
  records nothing. The armorer's showing the code is what registers the device,
  as registering a tablet is hers to do.
* Codes live in the server's memory: a restart forgets them (they last
  minutes); a server with several processes needs the phone to reach the one
  that showed it, which ``coldcheck serve`` (one process) always does.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from .accounts import AccessError

PAIRING_MINUTES = 10


@dataclass(frozen=True)
class Pairing:
    production: str
    person: str
    by_account: int
    expires: datetime


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class Pairings:
    """The pairing codes not yet used, by SHA-256 of the code."""

    def __init__(self) -> None:
        self._codes: dict[str, Pairing] = {}
        self._lock = threading.Lock()

    def issue(self, *, production: str, person: str, by_account: int, at: datetime,
              minutes: int = PAIRING_MINUTES) -> tuple[str, Pairing]:
        code = secrets.token_urlsafe(16)
        p = Pairing(production, person, by_account, at + timedelta(minutes=minutes))
        with self._lock:
            self._codes = {k: v for k, v in self._codes.items() if v.expires > at}
            self._codes[_digest(code)] = p
        return code, p

    def peek(self, code: str, at: datetime) -> Pairing:
        """The pairing ``code`` stands for, if it is still good (not spent)."""
        with self._lock:
            p = self._codes.get(_digest(code))
        if p is None or p.expires <= at:
            raise AccessError("DEVICE_UNKNOWN", "this pairing code is unknown, used or "
                              "expired: ask the armorer to show a new one on the cart tablet",
                              kind="forbidden")
        return p

    def spend(self, code: str, at: datetime) -> Pairing:
        """Use ``code`` up: the first caller gets it, any other DEVICE_UNKNOWN."""
        with self._lock:
            p = self._codes.pop(_digest(code), None)
        if p is None or p.expires <= at:
            raise AccessError("DEVICE_UNKNOWN", "this pairing code is unknown, used or "
                              "expired: ask the armorer to show a new one on the cart tablet",
                              kind="forbidden")
        return p
