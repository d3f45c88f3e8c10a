"""Who may ask: accounts, production memberships, browser sessions, bearer
tokens, registered devices and idempotency keys.

Accounts are global (a username is unique in the database). A membership links
an account to one *person* of a production: that person's roles are what the
account may do there (services/permissions.py), and that person's id is the actor
recorded in the ledger. Tokens are scoped to one (account, production) pair.

Passwords are argon2id hashes, checked outside any write transaction (argon2 is
deliberately slow). Session and bearer tokens are 32 random bytes, shown once,
stored as SHA-256. Failed sign-ins count per account and address:
PIN_MAX_FAILURES of them from one address lock the account *for that address*
for PIN_LOCK_MINUTES, exactly like a witness PIN, and ACCOUNT_MAX_FAILURES of
them from anywhere lock it for everyone (so a prankster on the set's Wi-Fi
cannot lock the armorer out by typing her username five times, and guesses
spread over many addresses still stop); every failure, lockout and sign-in is
written to the ``auth_events`` table and to the ``coldcheck.auth`` logger,
never with the password.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from argon2 import PasswordHasher
from sqlalchemy import Connection

from ..config import Settings
from ..domain import verifiers
from ..domain.errors import ColdcheckError, InvalidInput, NotFound
from ..domain.events import parse_utc, utc_text
from ..domain.people import PIN_LOCK_MINUTES, PIN_MAX_FAILURES
from ..persistence import accounts as repo
from ..persistence.store import Store
from ..security import OneAtATime, hasher, verify
from .context import utc_now
from .vouch import fingerprint

log = logging.getLogger("coldcheck.auth")
LOGINS = OneAtATime()  # per (database, username)

# The codes of access errors. Each is documented in docs/api.md (a test keeps
# the two in step); the custody codes are in domain/errors.py and docs/errors.md.
ACCESS_CODES: dict[str, str] = {
    "AUTH_REQUIRED": "The request carries no session cookie and no bearer token.",
    "LOGIN_FAILED": "Unknown username or wrong password.",
    "ACCOUNT_LOCKED": "Too many wrong passwords: the account is locked for a while.",
    "LOGIN_RATE_LIMITED": "Too many failed sign-ins from this address: wait, then retry.",
    "PIN_RATE_LIMITED": "Too many wrong PINs entered from this account (whoever's PIN was "
                        "typed): wait, then retry.",
    "COMPLAINT_RATE_LIMITED": "Too many complaints sent from this address through the QR "
                              "poster's page in a short time: wait, then retry.",
    "SESSION_EXPIRED": "The session cookie is unknown, signed out or expired: sign in again.",
    "TOKEN_INVALID": "The bearer token is not one this server issued.",
    "TOKEN_EXPIRED": "The bearer token is past its expiry time.",
    "TOKEN_REVOKED": "The bearer token was revoked.",
    "CSRF_FAILED": "A cookie-authenticated write without the session's X-CSRF-Token header.",
    "ACTION_FORBIDDEN": "None of your roles on this production may do this (docs/permissions.md).",
    "DEVICE_REQUIRED": "A write that records events needs a registered device "
                       "(X-Coldcheck-Device header).",
    "DEVICE_UNKNOWN": "The X-Coldcheck-Device header is not the key of a device registered "
                      "on this production.",
    "DEVICE_REVOKED": "The device was revoked; register it again.",
    "USERNAME_INVALID": "A username is 2 to 64 lowercase letters, digits, dots, dashes or "
                        "underscores.",
    "USERNAME_TAKEN": "An account with this username already exists.",
    "PASSWORD_WEAK": "A password is 10 to 256 characters.",
    "PERSON_HAS_ACCOUNT": "This person of the production is already linked to an account.",
    "ALREADY_MEMBER": "The account is already a member of this production.",
    "IDEMPOTENCY_KEY_INVALID": "An Idempotency-Key is 1 to 255 visible ASCII characters.",
    "IDEMPOTENCY_KEY_REUSED": "The Idempotency-Key was used before for a different request.",
    "IDEMPOTENCY_KEY_IN_PROGRESS": "The first request with this Idempotency-Key is still "
                                   "running: retry in a moment.",
    "IDEMPOTENCY_OUTCOME_UNKNOWN": "The server stopped while handling the first request with "
                                   "this key: check the timeline, then use a new key.",
}

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD, MAX_PASSWORD = 10, 256
DEMO_PASSWORD = "coldcheck-demo"  # noqa: S105 - printed by the demo, demo databases only


class AccessError(ColdcheckError):
    """An access error: ``kind`` is one of the ColdcheckError kinds, or
    ``unauthenticated`` (HTTP 401) or ``rate_limited`` (HTTP 429)."""

    def __init__(self, code: str, message: str, *, kind: str = "invalid",
                 **details: Any) -> None:
        if code not in ACCESS_CODES:
            raise ValueError(f"undocumented access code {code!r}")
        super().__init__(code, message, **details)
        self.kind = kind


@dataclass(frozen=True)
class Principal:
    """Who is asking: an account, signed in by a session cookie or a bearer token."""

    account_id: int
    username: str
    via: str  # "session" | "token"
    token_production: str | None = None  # a token is valid on this production only
    token_person: str | None = None  # the person the account is there, if still a member
    token_id: str | None = None
    csrf_token: str | None = None  # sessions only


@dataclass(frozen=True)
class NewSession:
    token: str  # the cookie value: shown once, stored as SHA-256
    csrf_token: str
    expires_at: str
    account_id: int
    username: str


def sha256_hex(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@contextmanager
def read_tx(store: Store, conn: Connection | None = None) -> Iterator[Connection]:
    """A connection to read on: a new one, or ``conn`` (the API's event-loop
    connection), whose read transaction ends with the read."""
    if conn is not None:
        try:
            yield conn
        finally:
            conn.rollback()
        return
    with store.engine.connect() as c:
        yield c


@contextmanager
def write_tx(store: Store, *, flush: bool = True) -> Iterator[Connection]:
    """One short write transaction (``BEGIN IMMEDIATE`` on SQLite).

    ``flush=False`` commits without waiting for the disk (SQLite
    ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit=off``); idempotency
    keys use it. That is safe because both logs are written in order: the event
    commit that follows a key's claim flushes the claim with it, and an answer
    lost with the last unflushed commits leaves its key claimed and unanswered,
    which a retry reports as IDEMPOTENCY_OUTCOME_UNKNOWN, never runs again. It
    saves two flushes per request, which on a slow disk cost more than the
    action itself."""
    with store.engine.connect() as c:
        c.execution_options(coldcheck_write=True)
        sqlite = c.dialect.name == "sqlite"
        raw = c.connection.driver_connection if sqlite and not flush else None
        if raw is not None:
            raw.execute("PRAGMA synchronous=NORMAL")  # outside the transaction
        try:
            with c.begin():
                if not flush and not sqlite:
                    c.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield c
        finally:
            if raw is not None:
                try:
                    raw.execute("PRAGMA synchronous=FULL")  # the pool gets it back as it was
                except Exception:
                    c.invalidate()  # never reuse a connection that would not flush
                    raise


def check_username(username: str) -> str:
    u = (username or "").strip().lower()
    if not USERNAME.match(u):
        raise AccessError("USERNAME_INVALID", ACCESS_CODES["USERNAME_INVALID"])
    return u


def check_password(password: str | None) -> str:
    if password is None or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccessError("PASSWORD_WEAK", ACCESS_CODES["PASSWORD_WEAK"])
    return password


# ---- accounts and memberships -------------------------------------------------
def add_member(store: Store, *, ph: PasswordHasher, production: str, person: str,
               username: str, password: str | None, at: datetime | None = None,
               by: str = "cli", remote: str | None = None) -> dict[str, Any]:
    """Link ``username`` to ``person`` of ``production``. A new username needs a
    password (the account is created); an existing account is linked as it is."""
    at = at or utc_now()
    uname = check_username(username)
    if store.entity(production, "person", person) is None:
        raise NotFound("person", person)
    with read_tx(store) as c:
        existing = repo.account_by_username(c, uname)
    if existing is not None and password is not None:
        raise AccessError("USERNAME_TAKEN", f"an account {uname!r} already exists; leave the "
                          "password out to link it to this production", kind="conflict")
    pw_hash = ph.hash(check_password(password)) if existing is None else None
    when = utc_text(at)
    # The link and the stored password's fingerprint are committed with the
    # membership row (account.linked): ledger verify compares the two.
    with store.write(production) as tx:
        c = tx.conn
        if existing is None:
            if repo.account_by_username(c, uname) is not None:
                raise AccessError("USERNAME_TAKEN", f"an account {uname!r} already exists",
                                  kind="conflict")
            assert pw_hash is not None
            account_id = repo.insert_account(c, username=uname, password_hash=pw_hash, at=when)
            stored = pw_hash
        else:
            account_id = int(existing["id"])
            stored = str(existing["password_hash"])
        if repo.membership(c, account_id, production) is not None:
            raise AccessError("ALREADY_MEMBER", f"{uname!r} is already a member of "
                              f"{production!r}", kind="conflict")
        if repo.account_of_person(c, production, person) is not None:
            raise AccessError("PERSON_HAS_ACCOUNT", f"person {person} of {production!r} "
                              "already has an account", kind="conflict")
        repo.insert_membership(c, account_id=account_id, production=production, person=person,
                               at=when)
        tx.append(verifiers.link_account(tx.state, account=uname, person=person,
                                         verifier=fingerprint("password", stored)),
                  actor=by, device=by, at=at)
        repo.log_auth_event(c, at=when, type_="member.added", account_id=account_id,
                            username=uname, production=production, remote=remote,
                            detail={"person": person, "by": by,
                                    "created_account": existing is None})
    log.info("account %r linked to person %s of %s by %s", uname, person, production, by)
    return {"username": uname, "person": person, "production": production,
            "created_account": existing is None}


def account_of_username(store: Store, username: str) -> int:
    uname = (username or "").strip().lower()
    with read_tx(store) as c:
        row = repo.account_by_username(c, uname)
    if row is None:
        raise NotFound("account", uname)
    return int(row["id"])


def members(store: Store, production: str) -> list[dict[str, Any]]:
    with read_tx(store) as c:
        return repo.members_of(c, production)


def membership(store: Store, account_id: int, production: str, *,
               conn: Connection | None = None) -> str | None:
    with read_tx(store, conn) as c:
        return repo.membership(c, account_id, production)


def memberships(store: Store, account_id: int) -> list[dict[str, Any]]:
    with read_tx(store) as c:
        return repo.memberships_of(c, account_id)


def create_demo_accounts(store: Store, settings: Settings, *, production: str,
                         password: str = DEMO_PASSWORD) -> list[dict[str, Any]]:
    """One account per person of a (demo) production: username = first name,
    lowercased (``sam``), all with the printed demo ``password``. Returns
    ``[{username, person, name, roles}]``. For demo databases only."""
    ph = hasher(settings.argon2_profile)
    st = store.state(production)
    out = []
    for p in st.people.values():
        username = re.sub(r"[^a-z0-9]", "", p.name.split()[0].lower()) or p.id.lower()
        add_member(store, ph=ph, production=production, person=p.id, username=username,
                   password=password, by="demo")
        out.append({"username": username, "person": p.id, "name": p.name,
                    "roles": list(p.roles)})
    return out


# ---- signing in and out ---------------------------------------------------------
_DUMMY_HASHES: dict[str, str] = {}


def _dummy_verify(ph: PasswordHasher, password: str) -> None:
    """Spend the time of a real check, so an unknown username is not faster."""
    key = f"{ph.time_cost}:{ph.memory_cost}:{ph.parallelism}"
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = ph.hash(secrets.token_hex(16))
    verify(ph, _DUMMY_HASHES[key], password)


# Keyed per process: a fingerprint cannot be reversed by hashing guesses (what
# was typed may be a weak password); repeats within a run still match.
_FINGERPRINT_KEY = secrets.token_bytes(32)


class _MemoryLocks:
    """Failed sign-ins counted in memory, per key: ``limit`` of them (within
    ``window`` of each other, if given) lock the key for PIN_LOCK_MINUTES.

    Bounded: when full, what no longer counts goes first (expired locks, counts
    older than the window), then the oldest counts that lock nothing; a live
    lock goes last, the one nearest its end first. Never everything at once:
    filling the table with new keys must not end anyone's lock early."""

    SIZE = 100_000

    def __init__(self, limit: int, window: timedelta | None = None) -> None:
        self.limit, self.window = limit, window
        self._lock = threading.Lock()
        # key -> (failures, locked until, last failure)
        self._seen: dict[tuple[Any, ...], tuple[int, datetime | None, datetime]] = {}

    def locked_until(self, key: tuple[Any, ...], at: datetime) -> datetime | None:
        with self._lock:
            hit = self._seen.get(key)
            return hit[1] if hit and hit[1] is not None and at < hit[1] else None

    def fail(self, key: tuple[Any, ...], at: datetime) -> datetime | None:
        """Count one failure; the time the key is now locked until, if it is."""
        with self._lock:
            n, until, last = self._seen.get(key, (0, None, at))
            if until is not None and at < until:
                return until  # already locked: a failure neither ends nor extends it
            if (until is not None and at >= until) or (
                    self.window is not None and at - last > self.window):
                n = 0  # the previous lock ran out, or the failures are old
            n += 1
            until = at + timedelta(minutes=PIN_LOCK_MINUTES) if n >= self.limit else None
            if len(self._seen) >= self.SIZE and key not in self._seen:
                self._make_room(at)
            self._seen[key] = (0, until, at) if until else (n, None, at)
            return until

    def forget(self, key: tuple[Any, ...]) -> None:
        with self._lock:
            self._seen.pop(key, None)

    def _make_room(self, at: datetime) -> None:
        def live(v: tuple[int, datetime | None, datetime]) -> bool:
            return v[1] is not None and at < v[1]

        def counts(v: tuple[int, datetime | None, datetime]) -> bool:
            return v[1] is None and (self.window is None or at - v[2] <= self.window)

        seen = {k: v for k, v in self._seen.items() if live(v) or counts(v)}
        room = self.SIZE * 9 // 10
        if len(seen) > room:
            # Counts that lock nothing, oldest first; then locks nearest their end.
            order = sorted(seen, key=lambda k: (live(seen[k]), seen[k][1] or seen[k][2]))
            for k in order[:len(seen) - room]:
                del seen[k]
        self._seen = seen


# Failures from anywhere that lock an account for everyone (NIST SP 800-63B
# allows up to 100): one address locks itself out after PIN_MAX_FAILURES.
ACCOUNT_MAX_FAILURES = 20
KNOWN_ADDRESS_DAYS = 30  # an address the account signed in from lately passes its lock
# One table for real accounts and made-up names alike, keyed (database, account
# id or fingerprint, address): whatever happens to it happens to both.
ADDRESS_LOCKS = _MemoryLocks(PIN_MAX_FAILURES, timedelta(minutes=PIN_LOCK_MINUTES))
UNKNOWN_ANYWHERE = _MemoryLocks(ACCOUNT_MAX_FAILURES)  # (database, fingerprint)


# The answers of a locked account, the same for a username that does not exist.
def _still_locked(until: str, *, here: bool) -> AccessError:
    if here:
        return AccessError("ACCOUNT_LOCKED", f"sign-ins to this account from this address are "
                           f"locked until {until} after {PIN_MAX_FAILURES} wrong passwords",
                           kind="locked", until=until)
    return AccessError("ACCOUNT_LOCKED", f"the account is locked until {until} after "
                       f"{ACCOUNT_MAX_FAILURES} wrong passwords", kind="locked", until=until)


def _now_locked(until: str, *, here: bool) -> AccessError:
    where = " from this address" if here else ""
    return AccessError("ACCOUNT_LOCKED", f"wrong password; the account is now locked{where} "
                       f"for {PIN_LOCK_MINUTES} minutes", kind="locked", until=until)


def _lock_scope(anywhere: datetime | None, here: datetime | None) -> tuple[str, str]:
    """Which lock answers (the account-wide one first) and until when."""
    if anywhere is not None:
        return "account", utc_text(anywhere)
    assert here is not None
    return "address", utc_text(here)


def _failed(store: Store, *, at: datetime, uname: str, remote: str | None,
            account_id: int | None, locked_here: datetime | None,
            count: Callable[[Connection], tuple[int | None, datetime | None]]) -> NoReturn:
    """Record a wrong password (or an unknown username, ``account_id`` None, its
    fingerprint as ``uname``) and answer it: the same rows and answers for both,
    so they cannot be told apart. ``count`` counts the failure where it counts
    account-wide, in the transaction that logs it (a real account's count is a
    column: one commit, no count without its row), and answers (failures so
    far, locked everywhere until). The in-memory counts are taken before the
    commit and stay if it fails: a failure counted but not logged errs on the
    side of the lock."""
    with write_tx(store) as c:
        failures, locked_anywhere = count(c)
        detail: dict[str, Any] = {
            "reason": "wrong_password" if account_id else "unknown_username"}
        if failures is not None:
            detail["failures"] = failures
        type_ = "login.failed"
        if locked_anywhere is not None or locked_here is not None:
            type_ = "login.locked"
            scope, until = _lock_scope(locked_anywhere, locked_here)
            detail.update(scope=scope, until=until)
            if locked_anywhere is not None and locked_here is not None:
                detail["address_until"] = utc_text(locked_here)  # both, at once
        repo.log_auth_event(c, at=utc_text(at), type_=type_, account_id=account_id,
                            username=uname, remote=remote, detail=detail)
    what = (f"wrong password for {uname!r}" if account_id is not None
            else f"unknown username ({uname})")
    if type_ == "login.locked":
        log.warning("sign-in failed: %s from %s; now locked (%s) until %s", what, remote,
                    detail["scope"], detail["until"])
        raise _now_locked(detail["until"], here=detail["scope"] == "address")
    log.warning("sign-in failed: %s from %s", what, remote)
    raise AccessError("LOGIN_FAILED", "unknown username or wrong password",
                      kind="unauthenticated")


def _signed_in_from(store: Store, account_id: int, remote: str, at: datetime) -> bool:
    """Did this account sign in from this address in the last KNOWN_ADDRESS_DAYS?"""
    with read_tx(store) as c:
        return repo.signed_in_from(c, account_id, remote,
                                   utc_text(at - timedelta(days=KNOWN_ADDRESS_DAYS)))


def unknown_username(typed: str) -> str:
    """How a sign-in with an unknown username is logged: never as typed (it may be
    a password typed in the wrong field), but as a keyed fingerprint of it."""
    return "unknown:" + hmac.new(_FINGERPRINT_KEY, typed.encode(),
                                 hashlib.sha256).hexdigest()[:12]


def login(store: Store, *, ph: PasswordHasher, username: str, password: str, at: datetime,
          session_hours: int, remote: str | None = None) -> NewSession:
    uname = (username or "").strip().lower()
    # One sign-in at a time per username: the lock test must see the failure the
    # previous wrong password recorded, or parallel guesses all pass it.
    with LOGINS.hold((store.url, uname)):
        return _login(store, ph=ph, uname=uname, password=password, at=at,
                      session_hours=session_hours, remote=remote)


def _login(store: Store, *, ph: PasswordHasher, uname: str, password: str, at: datetime,
           session_hours: int, remote: str | None) -> NewSession:
    when = utc_text(at)
    with read_tx(store) as c:
        acc = repo.account_by_username(c, uname) if USERNAME.match(uname) else None
    if acc is None:
        # What was typed may be a password in the wrong field: keep only a
        # fingerprint, enough to see the same name tried again and again.
        typed = unknown_username(uname)
        here, anywhere = (store.url, typed, remote), (store.url, typed)
        held_here = ADDRESS_LOCKS.locked_until(here, at)
        held_anywhere = UNKNOWN_ANYWHERE.locked_until(anywhere, at)
        if held_here is not None or held_anywhere is not None:  # as a locked account is
            if held_here is None and remote:
                # A real account looks its address up here (is it known?): the
                # same lookup, so the answer takes as long.
                _signed_in_from(store, 0, remote, at)
            scope, until = _lock_scope(held_anywhere, held_here)
            with write_tx(store) as c:
                repo.log_auth_event(c, at=when, type_="login.refused", username=typed,
                                    remote=remote, detail={"until": until, "scope": scope,
                                                           "reason": "unknown_username"})
            log.warning("sign-in refused: unknown username (%s) from %s", typed, remote)
            raise _still_locked(until, here=scope == "address")
        _dummy_verify(ph, password)
        _failed(store, at=at, uname=typed, remote=remote, account_id=None,
                locked_here=ADDRESS_LOCKS.fail(here, at),
                count=lambda c: (None, UNKNOWN_ANYWHERE.fail(anywhere, at)))
    account_id = int(acc["id"])
    address = (store.url, account_id, remote)
    locked = acc["locked_until"]
    held_anywhere = parse_utc(locked) if locked and at < parse_utc(locked) else None
    held_here = ADDRESS_LOCKS.locked_until(address, at)
    # An account-wide lock does not keep the owner out of an address she signed
    # in from lately, with her password: four strangers' addresses must not
    # lock the armorer out of her own tablet. Wrong passwords from there count
    # toward that address's own lock (five), which still holds; her sign-in
    # leaves the account-wide lock in place for everyone else.
    known = (held_here is None and held_anywhere is not None and bool(remote)
             and _signed_in_from(store, account_id, remote or "", at))
    if held_here is not None or (held_anywhere is not None and not known):
        scope, until = _lock_scope(held_anywhere, held_here)
        with write_tx(store) as c:
            repo.log_auth_event(c, at=when, type_="login.refused", account_id=account_id,
                                username=uname, remote=remote,
                                detail={"until": until, "scope": scope})
        log.warning("sign-in refused: account %r is locked (%s) until %s (from %s)",
                    uname, scope, until, remote)
        raise _still_locked(until, here=scope == "address")
    if known:
        if not verify(ph, acc["password_hash"], password):
            _failed(store, at=at, uname=uname, remote=remote, account_id=account_id,
                    locked_here=ADDRESS_LOCKS.fail(address, at), count=lambda c: (None, None))
        log.warning("sign-in of %r from %s, a known address, while the account is locked",
                    uname, remote)
    elif not verify(ph, acc["password_hash"], password):
        def count(c: Connection) -> tuple[int | None, datetime | None]:
            fresh = repo.account_by_username(c, uname)
            assert fresh is not None
            failures = int(fresh["failed_logins"]) + 1
            lock_all = failures >= ACCOUNT_MAX_FAILURES
            until = at + timedelta(minutes=PIN_LOCK_MINUTES) if lock_all else None
            repo.set_login_failures(c, account_id, 0 if lock_all else failures,
                                    utc_text(until) if until else None)
            return failures, until

        _failed(store, at=at, uname=uname, remote=remote, account_id=account_id,
                locked_here=ADDRESS_LOCKS.fail(address, at), count=count)
    ADDRESS_LOCKS.forget(address)
    raw, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = utc_text(at + timedelta(hours=session_hours))
    with write_tx(store) as c:
        if not known:  # the owner through her known address leaves the lock to others
            repo.set_login_failures(c, account_id, 0, None)
        repo.insert_session(c, token_hash=sha256_hex(raw), account_id=account_id,
                            csrf_token=csrf, at=when, expires_at=expires)
        repo.log_auth_event(c, at=when, type_="login.succeeded", account_id=account_id,
                            username=uname, remote=remote, detail={"expires_at": expires})
    log.info("signed in: %r from %s", uname, remote)
    return NewSession(token=raw, csrf_token=csrf, expires_at=expires, account_id=account_id,
                      username=uname)


def logout(store: Store, *, session_token: str, at: datetime) -> None:
    with write_tx(store) as c:
        repo.revoke_session(c, sha256_hex(session_token), utc_text(at))
    recent.forget("s:" + sha256_hex(session_token))


class _Recent:
    """Session and token rows read in the last ``ttl`` seconds, so that a tablet
    polling the board does not cost a database lookup per request. Expiry and
    revocation are still checked on every request against the row; a revocation
    made in this process (revoke_token, logout) drops the row at once, one made by
    another process (the CLI) takes effect within ``ttl``."""

    def __init__(self, ttl: float = 1.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._rows: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, store: Store, key: str) -> dict[str, Any] | None:
        hit = self._rows.get((id(store), key))
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return None
        return hit[1]

    def put(self, store: Store, key: str, row: dict[str, Any]) -> None:
        with self._lock:
            if len(self._rows) >= self.size:
                self._rows.clear()
            self._rows[(id(store), key)] = (time.monotonic(), row)

    def forget(self, key: str | None = None, token_id: str | None = None) -> None:
        with self._lock:
            for k, (_, row) in list(self._rows.items()):
                if k[1] == key or (token_id is not None and row.get("id") == token_id):
                    del self._rows[k]


recent = _Recent()


def authenticate_session(store: Store, *, session_token: str, at: datetime,
                         conn: Connection | None = None) -> Principal:
    key = "s:" + sha256_hex(session_token)
    row = recent.get(store, key)
    if row is None:
        with read_tx(store, conn) as c:
            row = repo.session_with_account(c, key[2:])
        if row is not None:
            recent.put(store, key, row)
    if row is None or row["revoked_at"] is not None or utc_text(at) >= row["expires_at"]:
        raise AccessError("SESSION_EXPIRED", "the session is unknown, signed out or expired: "
                          "sign in again", kind="unauthenticated")
    return Principal(account_id=int(row["account_id"]), username=row["username"],
                     via="session", csrf_token=row["csrf_token"])


def check_csrf(principal: Principal, header: str | None) -> None:
    expected = principal.csrf_token or ""
    if not header or not expected or not hmac.compare_digest(header.encode(),
                                                             expected.encode()):
        raise AccessError("CSRF_FAILED", "a write with a session cookie needs the session's "
                          "X-CSRF-Token header", kind="forbidden")


# ---- bearer tokens ------------------------------------------------------------
def create_token(store: Store, *, account_id: int, production: str, name: str, hours: int,
                 max_hours: int, at: datetime) -> tuple[str, dict[str, Any]]:
    """A bearer token for one production. Returns (raw token, its record); the raw
    token is never stored and cannot be shown again."""
    if not 1 <= hours <= max_hours:
        raise InvalidInput("INVALID_INPUT", f"a token lives 1 to {max_hours} hours on this "
                           f"server, not {hours}")
    raw = "cc_" + secrets.token_urlsafe(32)
    token_id = "tok_" + secrets.token_hex(6)
    when, expires = utc_text(at), utc_text(at + timedelta(hours=hours))
    with write_tx(store) as c:
        repo.insert_token(c, token_id=token_id, token_hash=sha256_hex(raw),
                          account_id=account_id, production=production, name=name, at=when,
                          expires_at=expires)
        repo.log_auth_event(c, at=when, type_="token.created", account_id=account_id,
                            production=production, detail={"token": token_id, "name": name,
                                                           "expires_at": expires})
    log.info("token %s created for account %d on %s", token_id, account_id, production)
    return raw, {"id": token_id, "name": name, "created_at": when, "expires_at": expires,
                 "revoked_at": None}


def authenticate_token(store: Store, *, token: str, at: datetime,
                       conn: Connection | None = None) -> Principal:
    key = "t:" + sha256_hex(token)
    row = recent.get(store, key)
    if row is None:
        with read_tx(store, conn) as c:
            row = repo.token_with_account(c, key[2:])
        if row is not None:
            recent.put(store, key, row)
    if row is None:
        raise AccessError("TOKEN_INVALID", "this bearer token was not issued by this server",
                          kind="unauthenticated")
    if row["revoked_at"] is not None:
        raise AccessError("TOKEN_REVOKED", f"token {row['id']} was revoked at "
                          f"{row['revoked_at']}", kind="unauthenticated")
    if utc_text(at) >= row["expires_at"]:
        raise AccessError("TOKEN_EXPIRED", f"token {row['id']} expired at {row['expires_at']}",
                          kind="unauthenticated")
    return Principal(account_id=int(row["account_id"]), username=row["username"], via="token",
                     token_production=row["production_id"], token_person=row["person_id"],
                     token_id=row["id"])


def tokens(store: Store, *, account_id: int, production: str) -> list[dict[str, Any]]:
    with read_tx(store) as c:
        return repo.tokens_of(c, account_id, production)


def revoke_token(store: Store, *, account_id: int, production: str, token_id: str,
                 at: datetime) -> dict[str, Any]:
    with write_tx(store) as c:
        if repo.token(c, token_id, account_id, production) is None:
            raise NotFound("token", token_id)
        repo.revoke_token(c, token_id, utc_text(at))
        repo.log_auth_event(c, at=utc_text(at), type_="token.revoked", account_id=account_id,
                            production=production, detail={"token": token_id})
        row = repo.token(c, token_id, account_id, production)
    recent.forget(token_id=token_id)
    assert row is not None
    return row


# ---- devices ------------------------------------------------------------------
def _actor(c: Connection, account_id: int, production: str) -> str:
    """The person an account acts as on ``production`` (events name people)."""
    person = repo.membership(c, account_id, production)
    return person if person is not None else f"account:{account_id}"


def register_device(store: Store, *, production: str, name: str, account_id: int,
                    at: datetime) -> dict[str, Any]:
    """Register a device; the answer's ``key`` (``<id>.<secret>``) is what the device
    sends with every write (X-Coldcheck-Device, or the tablet's cookie). It is
    shown this once and stored as SHA-256 of the secret: the id alone, which
    every page and event shows, proves nothing."""
    device_id = "dev-" + secrets.token_hex(5)
    secret = secrets.token_urlsafe(24)
    when = utc_text(at)
    key_hash = sha256_hex(secret)
    with store.write(production) as tx:
        c = tx.conn
        repo.insert_device(c, production=production, device=device_id, name=name,
                           registered_by=account_id, at=when, key_hash=key_hash)
        tx.append(verifiers.register_device(tx.state, device=device_id, name=name,
                                            verifier=fingerprint("device", key_hash)),
                  actor=_actor(c, account_id, production), device=f"device:{device_id}",
                  at=at)
        repo.log_auth_event(c, at=when, type_="device.registered", account_id=account_id,
                            production=production, detail={"device": device_id, "name": name})
        row = repo.device(c, production, device_id)
    assert row is not None
    log.info("device %s (%r) registered on %s", device_id, name, production)
    return {**row, "key": f"{device_id}.{secret}"}


def device_id_of(key: str | None) -> str:
    """The device id a device key names (the part before the dot)."""
    return (key or "").partition(".")[0]


def devices(store: Store, production: str) -> list[dict[str, Any]]:
    with read_tx(store) as c:
        return repo.devices_of(c, production)


def revoke_device(store: Store, *, production: str, device: str, account_id: int,
                  at: datetime) -> dict[str, Any]:
    with store.write(production) as tx:
        c = tx.conn
        found = repo.device(c, production, device)
        if found is None:
            raise NotFound("device", device)
        if found.get("revoked_at") is None:
            repo.revoke_device(c, production, device, utc_text(at))
            tx.append(verifiers.revoke_device(tx.state, device=device),
                      actor=_actor(c, account_id, production), device=f"device:{device}",
                      at=at)
        repo.log_auth_event(c, at=utc_text(at), type_="device.revoked", account_id=account_id,
                            production=production, detail={"device": device})
        row = repo.device(c, production, device)
    assert row is not None
    return row


def check_device(store: Store, *, production: str, device: str | None,
                 conn: Connection | None = None) -> str:
    """The name to record in events for the device whose key is ``device``:
    ``device:<id>``."""
    if not device:
        raise AccessError("DEVICE_REQUIRED", "this write records events: send the "
                          "X-Coldcheck-Device header of a device registered on the production",
                          kind="forbidden")
    ident, _, secret = device.partition(".")
    with read_tx(store, conn) as c:
        row = repo.device_with_key(c, production, ident)
    if row is None:
        raise AccessError("DEVICE_UNKNOWN", f"no device {ident[:40]!r} is registered on this "
                          "production", kind="forbidden")
    if row["key_hash"] is None:
        raise AccessError("DEVICE_UNKNOWN", f"device {ident} was registered before devices had "
                          "keys: register this device again", kind="forbidden")
    if not secret or not hmac.compare_digest(sha256_hex(secret), str(row["key_hash"])):
        raise AccessError("DEVICE_UNKNOWN", f"that is not the key of device {ident}: send the "
                          "key given when it was registered", kind="forbidden")
    if row["revoked_at"] is not None:
        raise AccessError("DEVICE_REVOKED", f"device {ident} was revoked at "
                          f"{row['revoked_at']}", kind="forbidden")
    return f"device:{ident}"


def auth_log(store: Store, *, username: str | None = None) -> list[dict[str, Any]]:
    with read_tx(store) as c:
        return repo.auth_events(c, username=username)
