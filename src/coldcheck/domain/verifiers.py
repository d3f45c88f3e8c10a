"""What the record vouches for of the stored sign-in verifiers.

PIN hashes, password hashes and device keys live outside the ledger (their
tables can change: a PIN is reset). Each change is committed as an event that
carries a *fingerprint* of the stored verifier, never the secret or the hash
(services/vouch.py makes it), so ``ledger verify`` can compare the tables with
the record: a PIN hash copied from the armorer's row onto a performer's, an
account re-linked to another person, or a device key swapped shows as
``LEDGER_CREDENTIAL_MISMATCH`` naming whose it is.

Subjects in :attr:`ProductionState.vouched`: ``person:P3`` (``pin``),
``account:<username>`` (``person``, ``password``), ``device:<id>`` (``key``,
``revoked``). A verifier set before fingerprints were recorded is ``None``:
the record cannot vouch for it until it is set again.
"""

from __future__ import annotations

from . import bounds
from .common import ev, text
from .errors import InvalidInput
from .events import NewEvent
from .state import ProductionState

FINGERPRINT_PREFIX = "sha256:"


def _fingerprint(value: str) -> str:
    if not (value.startswith(FINGERPRINT_PREFIX) and len(value) == len(FINGERPRINT_PREFIX) + 64):
        raise InvalidInput("INVALID_INPUT", "a verifier fingerprint is sha256: and 64 hex digits")
    return value


def link_account(s: ProductionState, *, account: str, person: str,
                 verifier: str) -> list[NewEvent]:
    # Whether the account or the person is already linked is decided on the
    # memberships table, in the same transaction (services/accounts.add_member).
    s.person(person)
    return [ev("account.linked", account=account, person=person,
               verifier=_fingerprint(verifier))]


def register_device(s: ProductionState, *, device: str, name: str,
                    verifier: str) -> list[NewEvent]:
    return [ev("device.registered", device=device,
               name=text(name, "device name", bound=bounds.NAME),
               verifier=_fingerprint(verifier))]


def revoke_device(s: ProductionState, *, device: str) -> list[NewEvent]:
    # Devices registered before they were recorded are not in vouched: revoking
    # one is recorded all the same (the table is what a write is checked against).
    return [ev("device.revoked", device=device)]
