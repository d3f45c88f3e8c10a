"""One error renderer: every error becomes RFC 9457 ``application/problem+json``.

``type`` is ``/api/v1/problems/<CODE>`` (the server answers it with the code's
description), ``title`` the code's catalogue text, ``status`` the HTTP status,
``detail`` what happened this time, ``code`` the rule or error code, and
``instance`` the request path. Extension members carry the error's details:
``violations`` for rule refusals, ``recorded`` (the seqs of the events a refusal
recorded), ``errors`` for validation failures, ``until`` for locks. Stack
traces, request bodies and secrets never reach the client.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from ..domain.errors import ERROR_CODES, ColdcheckError
from ..domain.rules import RULES
from ..services.accounts import ACCESS_CODES

log = logging.getLogger("coldcheck.api")

PROBLEM = "application/problem+json"
PROBLEM_BASE = "/api/v1/problems/"

# Codes that only the HTTP layer produces (documented in docs/api.md).
HTTP_CODES: dict[str, str] = {
    "ROUTE_NOT_FOUND": "No such route in the API.",
    "METHOD_NOT_ALLOWED": "The route exists, but not with this HTTP method.",
    "MALFORMED_JSON": "The request body is not valid JSON.",
    "BODY_TOO_LARGE": "The request body is larger than the server accepts (max_body_bytes).",
    "UNSUPPORTED_MEDIA_TYPE": "A request body must be sent as application/json.",
    "INTERNAL_ERROR": "The server failed; the details are in its log, not in this answer.",
}

KIND_STATUS: dict[str, int] = {
    "invalid": 422, "not_found": 404, "conflict": 409, "refused": 409, "forbidden": 403,
    "locked": 423, "unauthenticated": 401, "rate_limited": 429,
}
CODE_STATUS: dict[str, int] = {
    "NOT_FOUND": 404, "ROUTE_NOT_FOUND": 404, "METHOD_NOT_ALLOWED": 405,
    "MALFORMED_JSON": 400, "BODY_TOO_LARGE": 413, "UNSUPPORTED_MEDIA_TYPE": 415,
    "INTERNAL_ERROR": 500,
}
RESERVED = frozenset({"type", "title", "status", "detail", "code", "instance"})


def catalogue() -> dict[str, str]:
    """Every code the API can answer with, and its text (the problem title)."""
    out = {c: r.text for c, r in RULES.items()}
    out.update(ERROR_CODES)
    out.update(ACCESS_CODES)
    out.update(HTTP_CODES)
    return out


_TITLES = catalogue()


def status_of(code: str, kind: str) -> int:
    return CODE_STATUS.get(code) or KIND_STATUS.get(kind, 422)


def problem_body(code: str, status: int, detail: str, instance: str | None = None,
                 **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": _TITLES.get(code, code),
                            "status": status, "detail": detail}
    body["code"] = code
    if instance is not None:
        body["instance"] = instance
    for k, v in extra.items():
        if k not in RESERVED and v is not None:
            body[k] = v
    return body


def problem(code: str, status: int, detail: str, instance: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body = problem_body(code, status, detail, instance, **extra)
    hdrs = dict(headers or {})
    if status == 401:
        hdrs.setdefault("WWW-Authenticate", 'Bearer realm="coldcheck"')
    return Response(json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                    media_type=PROBLEM, headers=hdrs)


def from_error(err: ColdcheckError, instance: str | None) -> Response:
    status = status_of(err.code, err.kind)
    headers = {}
    if status == 429 and "retry_after" in err.details:
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
