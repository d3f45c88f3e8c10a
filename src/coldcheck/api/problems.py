"""One error renderer: every error becomes RFC 9457 ``application/problem+json``.

``type`` is ``/api/v1/problems/<CODE>`` (the server answers it with the code's
description), ``title`` the code's catalogue text, ``status`` the HTTP status,
``detail`` what happened this time, ``code`` the rule or error code, and
``instance`` the request path. Extension members carry the error's details:
``violations`` for rule refusals, ``recorded`` (the seqs of the events a refusal
recorded), ``errors`` for validation failures, ``until`` for locks. Stack
traces, request bodies and secrets never reach the client. The codes, their
texts and statuses and the body itself are services/problems.py's (the web app
shows the same); this module turns them into responses.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from ..domain.errors import ColdcheckError
from ..services.faults import fault_of
from ..services.problems import encode, problem_body, status_of

log = logging.getLogger("coldcheck.api")

PROBLEM = "application/problem+json"

def problem(code: str, status: int, detail: str, instance: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body = problem_body(code, status, detail, instance, **extra)
    hdrs = dict(headers or {})
    if status == 401:
        hdrs.setdefault("WWW-Authenticate", 'Bearer realm="coldcheck"')
    return Response(encode(body), status_code=status, media_type=PROBLEM, headers=hdrs)


def from_error(err: ColdcheckError, instance: str | None) -> Response:
    status = status_of(err.code, err.kind)
    headers = {}
    if status in (429, 503) and "retry_after" in err.details:
        headers["Retry-After"] = str(err.details["retry_after"])
    if err.code == "IDEMPOTENCY_KEY_IN_PROGRESS":
        headers["Retry-After"] = "1"
    return problem(err.code, status, err.message, instance, headers, **err.details)


# ---- exception handlers ---------------------------------------------------------
def on_coldcheck_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ColdcheckError)
    return from_error(exc, request.url.path)


def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem("MALFORMED_JSON", 400, "the request body is not valid JSON",
                       request.url.path)
    # Never echo the input: it may hold a PIN or a password.
    shown = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")),
              "type": str(e.get("type", ""))} for e in errors]
    detail = "invalid request"
    if shown:
        loc = [str(x) for x in errors[0].get("loc", ())]
        where = ".".join(loc[1:] if len(loc) > 1 else loc)
        detail = f"{where}: {shown[0]['msg']}" if where else str(shown[0]["msg"])
    return problem("INVALID_INPUT", 422, detail, request.url.path, errors=shown)


def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return problem("ROUTE_NOT_FOUND", 404, f"no route {request.url.path}",
                       request.url.path)
    if exc.status_code == 405:
        return problem("METHOD_NOT_ALLOWED", 405,
                       f"{request.method} is not allowed on {request.url.path}",
                       request.url.path, headers={"Allow": allowed_methods(request)})
    if exc.status_code == 400:
        return problem("MALFORMED_JSON", 400, "the request body could not be parsed",
                       request.url.path)
    if exc.status_code == 413:
        return problem("BODY_TOO_LARGE", 413, "the request body is too large",
                       request.url.path)
    return internal(request.url.path)


def allowed_methods(request: Request) -> str:
    """Every method some route serves on this path. Starlette names only the first
    route whose path matches, and a path's GET and POST are often two routes."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "\0"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def on_unexpected(request: Request, exc: Exception) -> Response:
    """A driver or system error that escaped the use case: a fault of the machine
    (a full disk, a locked database, read-only storage) answers 503 with its
    code and advice; anything else is a defect, 500 with the traceback logged."""
    found = fault_of(exc)
    if found is not None:
        log.warning("%s in %s %s: %s", found.code, request.method, request.url.path, exc)
        return from_error(found, request.url.path)
    log_unexpected(exc, request.method, request.url.path)
    return internal(request.url.path)


def internal(instance: str | None) -> Response:
    return problem("INTERNAL_ERROR", 500, "the server failed while handling this request; "
                   "nothing was shown to you, the details are in the server log", instance)


def log_unexpected(exc: BaseException, method: str, path: str) -> None:
    """Log a server failure with its traceback, never with the request body. A
    pydantic error would print the input it rejected: log only its locations."""
    if isinstance(exc, ValidationError):
        log.error("unexpected validation failure in %s %s: %s", method, path,
                  [(e["loc"], e["type"]) for e in exc.errors(include_input=False)])
        return
    log.error("unexpected error in %s %s", method, path, exc_info=exc)
