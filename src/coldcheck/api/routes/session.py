"""Signing in and out, who am I, which productions can I see; and the two
public routes: health and the problem type descriptions."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from starlette.responses import Response

from ... import __version__
from ...domain.errors import InvalidInput
from ...services import accounts
from ...services.accounts import Principal
from ...services.authorise import AppState
from ...services.problems import catalogue
from ..auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    api_state,
    authenticate,
    sign_in,
)
from ..schemas import CodeOut, HealthOut, LoginIn, MembershipOut, SessionOut
from . import router

PREFIX = "/api/v1"
TAGS: list[str | Enum] = ["session"]


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status_code=status,
                    media_type="application/json")


def _memberships(api: AppState, p: Principal) -> list[dict[str, Any]]:
    if p.via == "token":
        rows = ([{"production_id": p.token_production, "person_id": p.token_person}]
                if p.token_person and p.token_production else [])
    else:
        rows = accounts.memberships(api.store, p.account_id)
    names = {r["id"]: r["name"] for r in api.store.productions()} if rows else {}
    out = []
    for r in rows:
        prod, person = str(r["production_id"]), str(r["person_id"])
        out.append({"production": prod, "name": names.get(prod, prod), "person": person,
                    "roles": api.reads.get(prod).person_roles(person)})
    return out


@router.post(PREFIX + "/auth/login", tags=TAGS, response_model=SessionOut,
             summary="Sign in: sets the session cookie; answers the CSRF token")
def login(body: LoginIn, request: Request) -> Response:
    api = api_state(request)
    s = sign_in(api, request, body.username, body.password)
    p = Principal(account_id=s.account_id, username=s.username, via="session",
                  csrf_token=s.csrf_token)
    resp = _json({"username": s.username, "via": "session", "csrf_token": s.csrf_token,
                  "expires_at": s.expires_at, "productions": _memberships(api, p)})
    age = api.settings.session_hours * 3600
    secure = api.settings.cookie_secure
    resp.set_cookie(SESSION_COOKIE, s.token, max_age=age, path="/", secure=secure,
                    httponly=True, samesite="strict")
    resp.set_cookie(CSRF_COOKIE, s.csrf_token, max_age=age, path="/", secure=secure,
                    httponly=False, samesite="strict")
    return resp


@router.post(PREFIX + "/auth/logout", tags=TAGS, status_code=204, response_class=Response,
             summary="Sign out: ends the session and clears its cookies")
def logout(request: Request) -> Response:
    api = api_state(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.logout(api.store, session_token=token, at=api.clock())
    resp = Response(status_code=204)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        resp.delete_cookie(name, path="/", secure=api.settings.cookie_secure,
                           samesite="strict")
    return resp


@router.get(PREFIX + "/auth/session", tags=TAGS, response_model=SessionOut,
            summary="Who you are, your CSRF token, and your productions")
def session(request: Request,
            principal: Annotated[Principal, Depends(authenticate)]) -> Response:
    api = api_state(request)
    return _json({"username": principal.username, "via": principal.via,
                  "csrf_token": principal.csrf_token,
                  "productions": _memberships(api, principal)})


@router.get(PREFIX + "/productions", tags=TAGS, response_model=list[MembershipOut],
            summary="The productions you are a member of, with your person and roles")
def productions(request: Request,
                principal: Annotated[Principal, Depends(authenticate)]) -> Response:
    return _json(_memberships(api_state(request), principal))


@router.get(PREFIX + "/health", tags=TAGS,
            response_model=HealthOut, summary="Liveness (no sign-in needed)")
def health() -> Response:
    return _json({"status": "ok", "version": __version__})


@router.get(PREFIX + "/problems/{code}", tags=TAGS, response_model=CodeOut,
            summary="What a problem type (an error or rule code) means")
def problem_type(code: Annotated[str, Path(min_length=1, max_length=64)]) -> Response:
    text = catalogue().get(code)
    if text is None:
        raise InvalidInput("NOT_FOUND", f"no code {code!r}", what="code", id=code)
    return _json({"code": code, "title": text})
