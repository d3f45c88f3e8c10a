"""Who may do what on a production, in one place, for every front end.

The API (api/auth.py) and the tablet web app (web/access.py) read the caller's
credentials their own way (bearer token or session cookie; the CSRF token from
a header or a form field), then both call :func:`authorise`:

1. the person the account is on the production (a token works on its own
   production only); a non-member gets NOT_FOUND, as if the production did not
   exist;
2. the person's roles against services/permissions.py: ACTION_FORBIDDEN (a
   custody action, ``RULED``, goes on to the rules for every member: they
   refuse and record it);
3. for writes that record events (:data:`~.permissions.RECORDING`), the
   registered device: DEVICE_*;

and get an :class:`Access` carrying the context the use cases need, with the
person as actor and ``device:<id>`` as device. Writes run through
:meth:`Access.run_once` / :meth:`Access.record_once`: idempotent, under the
wrong-PIN limit where a PIN is typed, waking the live streams; they answer
with an :class:`~.idempotency.Outcome`, which each front end renders.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Connection

from ..config import Settings
from ..domain.errors import InvalidInput
from ..domain.events import Event
from ..persistence.store import Store
from ..security import hasher
from . import accounts, idempotency
from .accounts import AccessError, Principal
from .context import Context, utc_now
from .core import check_pin
from .hub import Hub
from .idempotency import Outcome
from .limits import (
    AttemptLimiter,
    complaint_limiter,
    pin_failed,
    pin_limiter,
    sign_in_limiter,
)
from .pairing import Pairings
from .permissions import ACTING, PIN_ACTIONS, RECORDING, allowed, may_ask
from .readmodel import ReadModel, Replica, event_json

log = logging.getLogger("coldcheck")


@dataclass
class AppState:
    """What every request needs, whichever app serves it; built once by
    :func:`open_state` and shared by the API and the web app."""

    settings: Settings
    store: Store
    reads: ReadModel
    hub: Hub
    ph: PasswordHasher
    secret: bytes  # HMAC key for idempotency fingerprints (never leaves the server)
    clock: Callable[[], datetime]
    limiter: AttemptLimiter = field(default_factory=sign_in_limiter)
    pin_limiter: AttemptLimiter = field(default_factory=pin_limiter)
    complaint_limiter: AttemptLimiter = field(default_factory=complaint_limiter)
    pairings: Pairings = field(default_factory=Pairings)  # phones' one-time codes
    # SQLite only: a connection the event loop reads on (heads, credentials), so a
    # read request never waits for a worker thread. None on PostgreSQL, where a
    # query is a network round trip and stays off the event loop.
    loop_conn: Connection | None = None


def load_secret(settings: Settings) -> bytes:
    """The server's HMAC key (idempotency fingerprints), created once, mode 0600,
    beside the signing keys: the database alone cannot reverse a fingerprint."""
    from ..ledger.keys import read_private, write_private
    from .faults import Fault, fault_of

    folder = settings.resolved_key_dir()
    path = Path(folder) / "api.secret"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not os.path.lexists(path):
            # Written whole and fsynced before it appears: a crash cannot leave an
            # empty key behind. Another server starting at once may win: use its.
            with contextlib.suppress(FileExistsError):
                write_private(path, secrets.token_bytes(32))
        data = read_private(path, what="server secret", limit=64,
                            why="the server's HMAC key")
    except OSError as e:
        if e.errno is None:  # the mode check: its own words say what to do
            raise
        raise (fault_of(e, key_folder=True) or Fault("KEY_FOLDER_UNREADABLE", str(e))) \
            from None
    if len(data) != 32:
        raise ValueError(f"{path} is not a 32-byte server secret: move it away and start "
                         "the server again to have a new one made")
    return data


def open_state(settings: Settings, *, store: Store | None = None,
               clock: Callable[[], datetime] | None = None) -> AppState:
    """The state on ``settings.database_url`` (migrated to the current schema)."""
    st = store or Store(settings.database_url)
    st.migrate()
    now = clock or utc_now
    idempotency.purge_keys(st, at=now(), keep_hours=settings.idempotency_hours)
    return AppState(settings=settings, store=st, reads=ReadModel(st), hub=Hub(),
                    ph=hasher(settings.argon2_profile), secret=load_secret(settings),
                    clock=now, loop_conn=st.engine.connect() if st.dialect == "sqlite"
                    else None)


# ---- signing in -------------------------------------------------------------------
def limited_login(state: AppState, *, remote: str, username: str, password: str,
                  old_session: str | None) -> accounts.NewSession:
    """accounts.login behind the per-address limiter. A session the browser already
    had ends: one browser, one session."""
    with state.limiter.attempt(remote, lambda e: isinstance(e, AccessError)
                               and e.code in ("LOGIN_FAILED", "ACCOUNT_LOCKED")):
        new = accounts.login(state.store, ph=state.ph, username=username, password=password,
                             at=state.clock(), session_hours=state.settings.session_hours,
                             remote=remote)
    if old_session:
        accounts.logout(state.store, session_token=old_session, at=state.clock())
    return new


# ---- authorising ------------------------------------------------------------------
def member(state: AppState, principal: Principal, production: str,
           conn: Connection | None = None) -> str:
    """The person the caller is on ``production``; NOT_FOUND if not a member."""
    if principal.via == "token":
        person = principal.token_person if principal.token_production == production else None
    else:
        person = accounts.membership(state.store, principal.account_id, production, conn=conn)
    if person is None:
        raise InvalidInput("NOT_FOUND", f"no production {production!r}", what="production",
                           id=production)
    return person


def authorise(state: AppState, action: str, production: str, principal: Principal,
              conn: Connection | None = None) -> tuple[str, list[str], Replica]:
    """The caller's person and roles on ``production``, and its replica, if the
    roles may ask for ``action`` (else ACTION_FORBIDDEN). For a custody action
    (:data:`~.permissions.RULED`) every member may: the rules decide, and record."""
    person = member(state, principal, production, conn)
    rep = state.reads.get(production, conn)
    roles = rep.person_roles(person)
    if not may_ask(action, roles):
        raise AccessError("ACTION_FORBIDDEN", f"{action} is not allowed to "
                          f"{' or '.join(roles) or 'this person'} on this production "
                          "(docs/permissions.md)", kind="forbidden", action=action,
                          roles=roles)
    return person, roles, rep


def check_device(state: AppState, action: str, production: str, device: str | None,
                 conn: Connection | None = None) -> str:
    """``device:<id>`` of the registered device for an action that records events
    (DEVICE_* if it is missing, unknown or revoked); "" for any other action."""
    if action not in RECORDING:
        return ""
    return accounts.check_device(state.store, production=production, device=device,
                                 conn=conn)


def person_by_badge(rep: Replica, who: str) -> str:
    """The person whose badge (or person id) is ``who`` on the replica's production."""
    who = who.strip()
    with rep.lock:
        st = rep.state
        person = st.badges.get(who) or (who if who in st.people else None)
    if person is None:
        raise InvalidInput("NOT_FOUND", f"no person with badge {who[:40]!r} on this production",
                           what="person", id=who[:40])
    return person


def act_as(call: Access, *, who: str, pin: str | None) -> Access:
    """``call`` done by the person whose badge is ``who``, confirmed with their own
    PIN, on the caller's signed-in session and registered device ("acting by
    PIN"). The action must be one of :data:`~.permissions.ACTING` and allowed to
    the PIN holder's roles (ACTION_FORBIDDEN); a write needs the registered
    device (DEVICE_*, checked before). The PIN itself is checked when the write
    runs (:meth:`Access.record_once`), like a witness's: under the caller's
    wrong-PIN limit, wrong PINs recorded, five lock it. The matrix is checked
    first, so a badge cannot serve to guess a PIN through an action its holder
    may not do."""
    if call.action not in ACTING:
        raise AccessError("ACTION_FORBIDDEN", f"{call.action} cannot be done by badge and PIN "
                          "on someone else's session: sign in as yourself "
                          "(docs/permissions.md)", kind="forbidden", action=call.action)
    if not call.device:
        raise AccessError("DEVICE_REQUIRED", "acting by badge and PIN needs a tablet "
                          "registered on this production", kind="forbidden")
    person = person_by_badge(call.replica, who)
    roles = call.replica.person_roles(person)
    if not allowed(call.action, roles):
        raise AccessError("ACTION_FORBIDDEN", f"{call.action} is not allowed to "
                          f"{' or '.join(roles) or 'this person'} on this production "
                          "(docs/permissions.md)", kind="forbidden", action=call.action,
                          roles=roles)
    if person == call.person:  # the session holder confirming their own action
        return call
    return replace(call, person=person, roles=roles, session_holder=call.person, pin=pin)


def check_key(key: str | None) -> None:
    """An Idempotency-Key is 1 to 255 visible ASCII characters."""
    if key is not None and not (len(key) <= 255 and key.isascii() and key.isprintable()
                                and key.strip()):
        raise AccessError("IDEMPOTENCY_KEY_INVALID", "an Idempotency-Key is 1 to 255 "
                          "visible ASCII characters")


@dataclass(kw_only=True)
class Access:
    """An authorised request on one production: who, as whom, doing what, and
    (for writes) from which device, under which key, with which body."""

    state: AppState
    principal: Principal
    production: str
    person: str
    roles: list[str]
    action: str
    replica: Replica
    device: str = ""  # "device:<id>" for writes that record events
    key: str | None = None  # Idempotency-Key
    method: str = "GET"
    path: str = ""  # the request path: the fingerprint's, and a stored refusal's instance
    body: bytes = b""  # what the fingerprint binds the key to

    # Acting by badge + PIN (:func:`act_as`): ``person`` is the PIN holder, who
    # is the actor; the session holder is recorded beside the device.
    session_holder: str = ""
    pin: str | None = field(default=None, repr=False)

    @property
    def recorded_device(self) -> str:
        """The ``device`` of the events this request records: ``device:<id>``, or
        ``device:<id>;session:<person>`` when someone acts by PIN on the session
        of ``<person>`` (docs/events.md, "Who and where")."""
        base = self.device or "api"
        return f"{base};session:{self.session_holder}" if self.session_holder else base

    def ctx(self) -> Context:
        st = self.state
        return Context(store=st.store, production=self.production, settings=st.settings,
                       device=self.recorded_device, clock=st.clock, ph=st.ph)

    def now(self) -> datetime:
        return self.state.clock()

    def run_once(self, fn: Callable[[], Any], *, status: int = 200) -> Outcome:
        """Run a write once: with an Idempotency-Key, a retry of the same request
        gets the stored answer (success or refusal) and nothing runs twice."""
        st = self.state
        fp = "" if self.key is None else idempotency.fingerprint(
            st.secret, self.method, self.path, self.body)
        return idempotency.execute(
            st.store, fn, production=self.production, account_id=self.principal.account_id,
            key=self.key, fingerprint=fp, at=st.clock(),
            keep_hours=st.settings.idempotency_hours, instance=self.path, status=status)

    def record_once(self, fn: Callable[[Context], list[Event]]) -> Outcome:
        """Run a custody use case once; its value is ``{"events": [...]}``, the
        events it recorded. A request carrying someone's PIN runs under the
        caller's wrong-PIN limit. The live streams of the production wake."""
        def recorded() -> dict[str, Any]:
            with (self.state.pin_limiter.attempt(f"account:{self.principal.account_id}",
                                                 pin_failed)
                  if self.action in PIN_ACTIONS or self.session_holder else nullcontext()):
                ctx = self.ctx()
                if self.session_holder:
                    # The witnesses' check: wrong PINs recorded, five lock the PIN.
                    check_pin(ctx, person=self.person, pin=self.pin,
                              action=f"{self.action} on {self.device or 'api'}",
                              at=ctx.now(None))
                return {"events": [event_json(e) for e in fn(ctx)]}

        try:
            return self.run_once(recorded)
        finally:
            try:
                self.state.hub.notify(self.production)
            except Exception as exc:  # the answer stands: the streams catch up on their own
                log.error("live streams not woken for %s", self.production, exc_info=exc)
