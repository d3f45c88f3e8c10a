"""Authentication and authorization, enforced in one place.

Every production route depends on exactly one :class:`Reader` or
:class:`Writer`, built with the action it performs. Resolving it:

1. authenticates the caller: ``Authorization: Bearer <token>`` (scripts), else
   the ``coldcheck_session`` cookie (browsers; writes also need the session's
   ``X-CSRF-Token`` header), else 401 AUTH_REQUIRED;
2. finds the person the account is on the production (a token works on its own
   production only); a non-member gets 404, as if the production did not exist;
3. checks the person's roles against api/permissions.py: 403 ACTION_FORBIDDEN;
4. for writes that record events, checks the device named by
   ``X-Coldcheck-Device`` is registered and not revoked: 403 DEVICE_*;

and returns a :class:`Call` carrying the context the services need, with the
person as actor and ``device:<id>`` as device. Body validation (422) comes
after all of this, so nobody learns anything about a production they cannot
see.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from argon2 import PasswordHasher
from fastapi import Header, Path, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..config import Settings
from ..domain.errors import ColdcheckError, InvalidInput
from ..domain.events import Event
from ..persistence.store import Store
from ..services import accounts, idempotency
from ..services.accounts import AccessError, Principal
from ..services.context import Context
from .middleware import UNSAFE
from .permissions import ACTIONS, PIN_ACTIONS, RECORDING, allowed
from .problems import PROBLEM, from_error
from .readmodel import ReadModel, Replica, event_json
from .stream import Hub

SESSION_COOKIE = "coldcheck_session"
CSRF_COOKIE = "coldcheck_csrf"
CSRF_HEADER = "X-CSRF-Token"
DEVICE_HEADER = "X-Coldcheck-Device"
IDEMPOTENCY_HEADER = "Idempotency-Key"


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


def limited_login(api: ApiState, request: Request, username: str,
                  password: str) -> accounts.NewSession:
    """accounts.login behind the per-address limiter: the API and the web app. A
    session the browser already had ends: one browser, one session."""
    ip = remote(request)
    with api.limiter.attempt(ip, lambda e: isinstance(e, AccessError)
                             and e.code in ("LOGIN_FAILED", "ACCOUNT_LOCKED")):
        new = accounts.login(api.store, ph=api.ph, username=username, password=password,
                             at=api.clock(), session_hours=api.settings.session_hours,
                             remote=ip)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        accounts.logout(api.store, session_token=old, at=api.clock())
    return new


PIN_CODES = frozenset({"PIN_INVALID", "PIN_LOCKED"})


def pin_failed(err: BaseException) -> bool:
    """A PIN that was checked and wrong (not an empty one, nor one refused
    unchecked because it is locked: those guess nothing)."""
    return (isinstance(err, ColdcheckError) and err.code in PIN_CODES
            and bool(err.details.get("checked")))


@dataclass
class ApiState:
    """What every request needs; built once by create_app."""

    settings: Settings
    store: Store
    reads: ReadModel
    hub: Hub
    ph: PasswordHasher
    secret: bytes  # HMAC key for idempotency fingerprints (never leaves the server)
    clock: Callable[[], datetime]
    limiter: AttemptLimiter = field(default_factory=sign_in_limiter)
    pin_limiter: AttemptLimiter = field(default_factory=pin_limiter)
    # SQLite only: a connection the event loop reads on (heads, credentials), so a
    # read request never waits for a worker thread. None on PostgreSQL, where a
    # query is a network round trip and stays off the event loop.
    loop_conn: Connection | None = None


def api_state(request: Request) -> ApiState:
    st: ApiState = request.app.state.coldcheck
    return st


def remote(request: Request) -> str:
    return request.client.host if request.client else "unknown"


bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="bearerToken",
    description="A bearer token from POST /api/v1/productions/{production}/tokens or "
                "`coldcheck token create`: valid on its own production only, until it "
                "expires or is revoked.")
session_scheme = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, scheme_name="sessionCookie",
    description="The browser session set by POST /api/v1/auth/login (Secure, HttpOnly, "
                "SameSite=Strict). Writes also need the X-CSRF-Token header.")


def authenticate(request: Request,
                 creds: Annotated[HTTPAuthorizationCredentials | None,
                                  Security(bearer_scheme)] = None,
                 session: Annotated[str | None, Security(session_scheme)] = None) -> Principal:
    """The caller, from a bearer token or a session cookie (the dependency of the
    account-level routes; Reader and Writer call :func:`principal` directly, so a
    production request resolves one dependency, not three)."""
    return principal(request, creds.credentials if creds else None, session)


def credentials(request: Request) -> tuple[str | None, str | None]:
    """(bearer token, session cookie) of a request, as the two security schemes
    read them."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return bearer, request.cookies.get(SESSION_COOKIE) or None


def principal(request: Request, bearer: str | None, session: str | None,
              conn: Connection | None = None) -> Principal:
    api = api_state(request)
    at = api.clock()
    if bearer:
        return accounts.authenticate_token(api.store, token=bearer, at=at, conn=conn)
    if session:
        p = accounts.authenticate_session(api.store, session_token=session, at=at, conn=conn)
        if request.method in UNSAFE:
            accounts.check_csrf(p, request.headers.get(CSRF_HEADER))
        return p
    raise AccessError("AUTH_REQUIRED", "sign in (POST /api/v1/auth/login) or send "
                      "Authorization: Bearer <token>", kind="unauthenticated")


def member(api: ApiState, principal: Principal, production: str,
           conn: Connection | None = None) -> str:
    """The person the caller is on ``production``; NOT_FOUND if not a member."""
    if principal.via == "token":
        person = principal.token_person if principal.token_production == production else None
    else:
        person = accounts.membership(api.store, principal.account_id, production, conn=conn)
    if person is None:
        raise InvalidInput("NOT_FOUND", f"no production {production!r}", what="production",
                           id=production)
    return person


async def raw_body(request: Request) -> bytes:
    return await request.body()


@dataclass
class Call:
    """An authorised request on one production."""

    api: ApiState
    request: Request
    principal: Principal
    production: str
    person: str
    roles: list[str]
    action: str
    replica: Replica
    device: str = ""  # "device:<id>" for writes that record events
    key: str | None = None  # Idempotency-Key
    body: bytes = b""

    def ctx(self) -> Context:
        return Context(store=self.api.store, production=self.production,
                       settings=self.api.settings, device=self.device or "api",
                       clock=self.api.clock, ph=self.api.ph)

    def now(self) -> datetime:
        return self.api.clock()

    def recheck(self) -> None:
        """Is the caller still allowed? (long-lived streams ask every few seconds)"""
        bearer, session = credentials(self.request)
        member(self.api, principal(self.request, bearer, session), self.production)

    # ---- writing ---------------------------------------------------------------
    def run(self, fn: Callable[[], Any], *, status: int = 200) -> Response:
        """Run a write once: with an Idempotency-Key, a retry of the same request
        gets the stored answer (success or refusal) and nothing runs twice."""
        key = self.key
        api = self.api
        if key is not None:
            fp = hmac.new(api.secret, b"\n".join([self.request.method.encode(),
                                                  self.request.url.path.encode(), self.body]),
                          hashlib.sha256).hexdigest()
            stored = idempotency.claim_key(api.store, production=self.production,
                                        account_id=self.principal.account_id, key=key,
                                        fingerprint=fp, at=api.clock(),
                                        keep_hours=api.settings.idempotency_hours)
            if stored is not None:
                return Response(stored.body, status_code=stored.status,
                                media_type=PROBLEM if stored.status >= 400
                                else "application/json",
                                headers={"Idempotent-Replayed": "true"})
        try:
            result = fn()
        except ColdcheckError as err:
            resp = from_error(err, self.request.url.path)
            if err.kind == "rate_limited" and key is not None:
                # Not an answer to keep: the same request may succeed after
                # Retry-After, and a replay would refuse it forever.
                idempotency.release_key(api.store, production=self.production,
                                        account_id=self.principal.account_id, key=key)
                return resp
        except BaseException:
            if key is not None:
                idempotency.release_key(api.store, production=self.production,
                                     account_id=self.principal.account_id, key=key)
            raise
        else:
            resp = Response(json.dumps(result, ensure_ascii=False), status_code=status,
                            media_type="application/json")
        if key is not None:
            idempotency.complete_key(api.store, production=self.production,
                                  account_id=self.principal.account_id, key=key,
                                  status=resp.status_code, body=bytes(resp.body).decode())
        return resp

    def record(self, fn: Callable[[Context], list[Event]]) -> Response:
        """Run a custody use case; answer with the events it recorded. A request
        carrying someone's PIN runs under the caller's wrong-PIN limit."""
        def recorded() -> dict[str, Any]:
            with (self.api.pin_limiter.attempt(f"account:{self.principal.account_id}",
                                               pin_failed)
                  if self.action in PIN_ACTIONS else nullcontext()):
                return {"events": [event_json(e) for e in fn(self.ctx())]}

        try:
            return self.run(recorded)
        finally:
            self.api.hub.notify(self.production)


def _authorise(api: ApiState, request: Request, action: str, production: str,
               principal: Principal, conn: Connection | None = None
               ) -> tuple[str, list[str], Replica]:
    person = member(api, principal, production, conn)
    rep = api.reads.get(production, conn)
    roles = rep.person_roles(person)
    if not allowed(action, roles):
        raise AccessError("ACTION_FORBIDDEN", f"{action} is not allowed to "
                          f"{' or '.join(roles) or 'this person'} on this production "
                          "(docs/permissions.md)", kind="forbidden", action=action,
                          roles=roles)
    return person, roles, rep


ProductionPath = Annotated[str, Path(min_length=1, max_length=64,
                                     description="Production id, e.g. dusty-trails.")]


class Reader:
    """Dependency of a route that reads (or changes nothing in the ledger)."""

    def __init__(self, action: str) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        self.action = action

    async def __call__(self, request: Request, production: ProductionPath) -> Call:
        api = api_state(request)
        if api.loop_conn is None:
            return await run_in_threadpool(self.resolve, request, production, None)
        # SQLite: a few indexed lookups on the loop's own connection (most requests
        # find the caller among the credentials checked in the last second).
        return self.resolve(request, production, api.loop_conn)

    def resolve(self, request: Request, production: str, conn: Connection | None) -> Call:
        api = api_state(request)
        who = principal(request, *credentials(request), conn)
        person, roles, rep = _authorise(api, request, self.action, production, who, conn)
        return Call(api, request, who, production, person, roles, self.action, rep)


class Writer:
    """Dependency of a route that writes. Actions that record events need a
    registered device; every write honours an Idempotency-Key."""

    def __init__(self, action: str, *, idempotent: bool = True) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        self.action, self.idempotent = action, idempotent

    async def __call__(self, request: Request, production: ProductionPath,
                       device_header: Annotated[str | None, Header(
                           alias=DEVICE_HEADER, max_length=64,
                           description="Key of the registered device (tablet) making the "
                                       "request, `<id>.<secret>` as given at registration; "
                                       "recorded in every event as device:<id>.")] = None,
                       idempotency_key: Annotated[str | None, Header(
                           alias=IDEMPOTENCY_HEADER, max_length=255,
                           description="Any unique string (a UUID): a retry with the same "
                                       "key and body gets the first answer, and nothing is "
                                       "recorded twice.")] = None) -> Call:
        api = api_state(request)
        raw = await request.body()
        if api.loop_conn is None:
            return await run_in_threadpool(self.resolve, request, production, device_header,
                                           idempotency_key, raw, None)
        # SQLite: the lookups run on the loop's own connection, as for reads; the
        # action itself then runs in a worker thread (one trip, not two).
        return self.resolve(request, production, device_header, idempotency_key, raw,
                            api.loop_conn)

    def resolve(self, request: Request, production: str, device_header: str | None,
                idempotency_key: str | None, raw: bytes, conn: Connection | None) -> Call:
        api = api_state(request)
        with ExitStack() as stack:
            if conn is None:  # one connection for every lookup
                conn = stack.enter_context(api.store.engine.connect())
            who = principal(request, *credentials(request), conn)
            person, roles, rep = _authorise(api, request, self.action, production, who, conn)
            dev = ""
            if self.action in RECORDING:
                dev = accounts.check_device(api.store, production=production,
                                            device=device_header, conn=conn)
        key = idempotency_key if self.idempotent else None
        if key is not None and not (key.isascii() and key.isprintable() and key.strip()):
            raise AccessError("IDEMPOTENCY_KEY_INVALID", "an Idempotency-Key is 1 to 255 "
                              "visible ASCII characters")
        return Call(api, request, who, production, person, roles, self.action, rep,
                    dev, key, raw)
