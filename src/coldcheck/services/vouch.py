"""Fingerprints of the stored sign-in verifiers, and their check against the record.

A fingerprint is ``sha256:`` + SHA-256 over a label and the stored verifier (the
argon2 hash of a PIN or password, which holds its own random salt, or the
SHA-256 of a device key's secret). It names the stored value without letting
anyone test a guess against it: the salt and the device secret never leave the
database. See domain/verifiers.py for what the record holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from ..domain.state import ProductionState
from ..domain.verifiers import FINGERPRINT_PREFIX
from ..persistence import tables as t

if TYPE_CHECKING:
    from ..persistence.store import Store

CODE = "LEDGER_CREDENTIAL_MISMATCH"


def fingerprint(kind: str, stored: str) -> str:
    """``kind`` is ``pin``, ``password``, ``device`` or ``webhook`` (the secret itself)."""
    digest = hashlib.sha256(f"coldcheck verifier v1\n{kind}\n{stored}".encode()).hexdigest()
    return FINGERPRINT_PREFIX + digest


@dataclass(frozen=True)
class Finding:
    subject: str  # person:P3, account:alice, device:dev-…
    message: str
    vouched: bool  # False: set before fingerprints were recorded (not a failure)


def compare(c: Connection, state: ProductionState) -> list[Finding]:
    """The credential tables of ``state``'s production against what the record vouches for."""
    prod, v = state.production, state.vouched
    out: list[Finding] = []
    # Once the record holds any fingerprint, every verifier must be in it; before
    # that (a ledger written by an older coldcheck) an unrecorded one is only noted.
    kept = any(x.get("pin") or x.get("password") or x.get("key") for x in v.values())

    def name(pid: str) -> str:
        p = state.people.get(pid)
        return f"{p.name} ({pid})" if p is not None else pid

    pins = {str(r.person_id): str(r.pin_hash) for r in c.execute(
        select(t.credentials.c.person_id, t.credentials.c.pin_hash)
        .where(t.credentials.c.production_id == prod))}
    for pid, stored in sorted(pins.items()):
        want = v.get(f"person:{pid}")
        person = state.people.get(pid)
        if want is None and (person is None or not person.pin_set):
            out.append(Finding(f"person:{pid}", f"{name(pid)} has a stored PIN hash that no "
                               "person.pin_set in the record set", True))
        elif want is None:
            out.append(Finding(f"person:{pid}", f"{name(pid)}'s PIN was set before the record "
                               "kept fingerprints: set it again to have it vouched for", False))
        elif want["pin"] != fingerprint("pin", stored):
            out.append(Finding(f"person:{pid}", f"{name(pid)}'s stored PIN hash is not the one "
                               "the record says was set: it was replaced outside coldcheck",
                               True))
    for subject, want in sorted(v.items()):
        if subject.startswith("person:") and want.get("pin") and subject[7:] not in pins:
            out.append(Finding(subject, f"{name(subject[7:])}'s PIN hash, set in the record, "
                               "is missing from the credentials table", True))

    m, a = t.memberships, t.accounts
    rows = c.execute(select(a.c.username, a.c.password_hash, m.c.person_id)
                     .select_from(m.join(a, a.c.id == m.c.account_id))
                     .where(m.c.production_id == prod))
    linked: dict[str, Any] = {str(r.username): r for r in rows}
    for uname, r in sorted(linked.items()):
        want = v.get(f"account:{uname}")
        subject = f"account:{uname}"
        if want is None:
            out.append(Finding(subject, f"account {uname!r} is linked to {name(r.person_id)} "
                               "but no account.linked in the record says so", kept))
        elif want["person"] != r.person_id:
            out.append(Finding(subject, f"account {uname!r} is linked to {name(r.person_id)} "
                               f"but the record linked it to {name(want['person'])}", True))
        elif want["password"] != fingerprint("password", str(r.password_hash)):
            out.append(Finding(subject, f"the stored password hash of account {uname!r} "
                               f"({name(r.person_id)}) is not the one the record vouches for",
                               True))
    for subject, want in sorted(v.items()):
        if subject.startswith("account:") and subject[8:] not in linked:
            out.append(Finding(subject, f"account {subject[8:]!r}, linked in the record to "
                               f"{name(want['person'])}, is missing from the memberships", True))

    d = t.devices
    devs = {str(r.id): r for r in c.execute(select(d.c.id, d.c.key_hash, d.c.revoked_at)
                                            .where(d.c.production_id == prod))}
    for dev, r in sorted(devs.items()):
        want = v.get(f"device:{dev}")
        subject = f"device:{dev}"
        if want is None or want.get("key") is None:
            if r.revoked_at is None:
                out.append(Finding(subject, f"device {dev} may write for the production but no "
                                   "device.registered in the record says so", kept))
        elif want["key"] != fingerprint("device", str(r.key_hash)):
            out.append(Finding(subject, f"the stored key of device {dev} is not the one the "
                               "record registered: it was replaced outside coldcheck", True))
        elif want.get("revoked") and r.revoked_at is None:
            out.append(Finding(subject, f"device {dev} was revoked in the record but its row "
                               "was made usable again", True))
    out += _webhook(c, state)
    return out


def _webhook(c: Connection, state: ProductionState) -> list[Finding]:
    """The alert webhook's kept secret against production.webhook_set's fingerprint
    (a sealed one is not opened here: that needs the master key)."""
    from sqlalchemy import inspect

    if not inspect(c).has_table("webhooks"):
        return []
    kept = c.execute(select(t.webhooks.c.secret).where(
        t.webhooks.c.production_id == state.production)).scalar()
    hook, subject = state.webhook, f"production:{state.production}"
    if hook is None and kept is not None:
        return [Finding(subject, "an alert webhook secret is kept but the record has no "
                                 "webhook set: it was put there outside coldcheck", True)]
    if hook is not None and kept is None:
        return [Finding(subject, "the alert webhook set in the record has no kept secret: "
                                 "it was removed outside coldcheck (set the webhook again)",
                        True)]
    if hook is not None and str(kept).startswith("plain:") and \
            fingerprint("webhook", str(kept)[6:]) != hook["secret_fingerprint"]:
        return [Finding(subject, "the kept alert webhook secret is not the one the record "
                                 "says the producer set: it was replaced outside coldcheck",
                        True)]
    return []


def mismatches(store: Store) -> list[str]:
    """Every production's credential tables against the record, as ``coldcheck
    serve`` checks them before it answers anyone: one line per finding the
    record vouches against (``LEDGER_CREDENTIAL_MISMATCH``), naming the person,
    account or device. Findings from before fingerprints existed are not
    failures (``ledger verify`` notes them)."""
    out = []
    for p in store.productions():
        prod = str(p["id"])
        state = store.state(prod)
        with store.engine.connect() as c:
            for f in compare(c, state):
                if f.vouched:
                    out.append(f"{prod}: {CODE}: {f.subject}: {f.message}")
    return out
