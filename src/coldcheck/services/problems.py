"""What an error answers, wherever it is shown: its code's text (the title),
its HTTP status, and the problem body (RFC 9457 members plus the error's
details) that the API sends as ``application/problem+json``, the idempotency
store keeps for a retried request, and the tablet web app shows.

``type`` is ``/api/v1/problems/<CODE>``, ``title`` the code's catalogue text,
``status`` the HTTP status, ``detail`` what happened this time, ``code`` the
rule or error code, ``instance`` the request path.
"""

from __future__ import annotations

import json
from typing import Any

from ..domain.errors import ERROR_CODES, ColdcheckError
from ..domain.rules import RULES
from .accounts import ACCESS_CODES

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
    "unavailable": 503,
}
CODE_STATUS: dict[str, int] = {
    "NOT_FOUND": 404, "ROUTE_NOT_FOUND": 404, "METHOD_NOT_ALLOWED": 405,
    "MALFORMED_JSON": 400, "BODY_TOO_LARGE": 413, "UNSUPPORTED_MEDIA_TYPE": 415,
    "INTERNAL_ERROR": 500,
    # Faults of the machine (services/faults.py): the service is unavailable
    # for now, the request was fine. Never 500.
    "DISK_FULL": 503, "DISK_IO_ERROR": 503, "DATABASE_BUSY": 503, "READ_ONLY_STORAGE": 503,
    "KEY_FOLDER_UNREADABLE": 503,
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


def error_body(err: ColdcheckError, instance: str | None = None) -> dict[str, Any]:
    """The problem body of ``err``."""
    return problem_body(err.code, status_of(err.code, err.kind), err.message, instance,
                        **err.details)


def encode(body: dict[str, Any]) -> str:
    """A problem body as the API sends it (and the idempotency store keeps it)."""
    return json.dumps(body, ensure_ascii=False, default=str)
