"""argon2id hashing for PINs and passwords."""

from __future__ import annotations

import re

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


def verify(ph: PasswordHasher, stored: str | None, secret: str) -> bool:
    if stored is None:
        return False
    try:
        return ph.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False
