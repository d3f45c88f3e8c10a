"""Authentication and authorization, enforced in one place.

Every production route depends on exactly one :class:`Reader` or
:class:`Writer`, built with the action it performs. Resolving it:

1. authenticates the caller: ``Authorization: Bearer <token>`` (scripts), else
   the ``coldcheck_session`` cookie (browsers; writes also need the session's
   ``X-CSRF-Token`` header), else 401 AUTH_REQUIRED;
2. finds the person the account is on the production (a token works on its own
   production only); a non-member gets 404, as if the production did not exist;
3. checks the person's roles against services/permissions.py: 403 ACTION_FORBIDDEN;
4. for writes that record events, checks the device named by
   ``X-Coldcheck-Device`` is registered and not revoked: 403 DEVICE_*;

and returns a :class:`Call` carrying the context the services need, with the
person as actor and ``device:<id>`` as device. Steps 2 to 4 and the idempotent
run of a write are services.authorise's, shared with the tablet web app; this
module reads the credentials and renders the outcome. Body validation (422) comes
after all of this, so nobody learns anything about a production they cannot
see.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header, Path, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..domain.events import Event
from ..services import accounts
from ..services.accounts import AccessError, Principal
from ..services.authorise import (
    Access,
    AppState,
    authorise,
    check_device,
    check_key,
    limited_login,
    member,
)
from ..services.context import Context
from ..services.idempotency import Outcome
from ..services.permissions import ACTIONS
from .middleware import UNSAFE
from .problems import PROBLEM, from_error

SESSION_COOKIE = "coldcheck_session"
CSRF_COOKIE = "coldcheck_csrf"
CSRF_HEADER = "X-CSRF-Token"
DEVICE_HEADER = "X-Coldcheck-Device"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign_in(api: AppState, request: Request, username: str,
            password: str) -> accounts.NewSession:
    """services.authorise.limited_login for this request's address and cookie."""
    return limited_login(api, remote=remote(request), username=username, password=password,
                         old_session=request.cookies.get(SESSION_COOKIE))


def api_state(request: Request) -> AppState:
    st: AppState = request.app.state.coldcheck
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


async def raw_body(request: Request) -> bytes:
    return await request.body()


def respond(out: Outcome, path: str) -> Response:
    """An outcome as the API answers it: a replayed answer as it was stored, a
    refusal as problem JSON, a value as JSON."""
    if out.replayed:
        return Response(out.text, status_code=out.status,
                        media_type=PROBLEM if out.status >= 400 else "application/json",
                        headers={"Idempotent-Replayed": "true"})
    if out.error is not None:
        return from_error(out.error, path)
    text = out.text if out.text is not None else json.dumps(out.value, ensure_ascii=False)
    return Response(text, status_code=out.status, media_type="application/json")


@dataclass(kw_only=True)
class Call(Access):
    """An authorised API request on one production."""

    request: Request

    def recheck(self) -> None:
        """Is the caller still allowed? (long-lived streams ask every few seconds)"""
        bearer, session = credentials(self.request)
        member(self.state, principal(self.request, bearer, session), self.production)

    def run(self, fn: Callable[[], Any], *, status: int = 200) -> Response:
        """Run a write once (:meth:`Access.run_once`) and answer it."""
        return respond(self.run_once(fn, status=status), self.request.url.path)

    def record(self, fn: Callable[[Context], list[Event]]) -> Response:
        """Run a custody use case once (:meth:`Access.record_once`); answer with the
        events it recorded."""
        return respond(self.record_once(fn), self.request.url.path)


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
        person, roles, rep = authorise(api, self.action, production, who, conn)
        return Call(state=api, request=request, principal=who, production=production,
                    person=person, roles=roles, action=self.action, replica=rep)


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
            person, roles, rep = authorise(api, self.action, production, who, conn)
            dev = check_device(api, self.action, production, device_header, conn)
        key = idempotency_key if self.idempotent else None
        check_key(key)
        return Call(state=api, request=request, principal=who, production=production,
                    person=person, roles=roles, action=self.action, replica=rep, device=dev,
                    key=key, method=request.method, path=request.url.path, body=raw)
