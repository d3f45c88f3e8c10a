"""Reading form fields and answering a submitted form.

Shape only (is it a number, is it there); the domain decides every rule.
:func:`submit` is the one way a write ends: POST-redirect-GET to the page that
shows what was recorded, or the form's own block again with the problem and
everything the person typed (PINs excepted), or the sign-in dialog when the
session expired mid-form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response

from .access import Outcome, Page, production_page, set_signin_cookie, signin_token
from .errors import Problem
from .http import Form, Req, go, render, render_text


class FormError(Exception):
    """A field is missing or malformed (INVALID_FORM)."""


def text(form: Form, name: str, label: str, *, required: bool = True) -> str:
    v = (form.get(name) or "").strip()
    if required and not v:
        raise FormError(f"{label} is required")
    return v


def optional(form: Form, name: str) -> str | None:
    v = (form.get(name) or "").strip()
    return v or None


def integer(form: Form, name: str, label: str, *, default: int | None = None) -> int:
    raw = (form.get(name) or "").strip()
    if not raw:
        if default is None:
            raise FormError(f"{label} is required")
        return default
    if not raw.lstrip("-").isdigit() or len(raw) > 9:
        raise FormError(f"{label} must be a whole number, not {raw[:20]!r}")
    return int(raw)


def flag(form: Form, name: str) -> bool:
    return (form.get(name) or "").lower() in ("1", "on", "true", "yes")


def many(form: Form, name: str) -> list[str]:
    return [v for v in form.getlist(name) if v.strip()]


Context = Callable[[Page], Mapping[str, Any]]


def session_dialog(req: Req, problem: Problem, *, status: int | None = None) -> Response:
    """The sign-in dialog, with its own sign-in token (cookie and hidden field)."""
    token = signin_token(req)
    html = render_text("_session.html", {"problem": problem, "page": None,
                                         "signin_token": token}, None)
    resp = Response(html, status_code=status or problem.status, media_type="text/html")
    set_signin_cookie(req, resp, token)
    return resp


def session_expired(req: Req, problem: Problem) -> Response:
    """htmx: the sign-in dialog over the page (the form stays as typed). Plain
    form: the sign-in page, which comes back here afterwards."""
    if req.htmx:
        resp = session_dialog(req, problem, status=401)
        resp.headers.update({"HX-Retarget": "#session-dialog", "HX-Reswap": "innerHTML"})
        return resp
    ref = req.request.headers.get("referer", "")
    nxt = ref.split(req.request.url.netloc, 1)[-1] if ref else req.request.url.path
    return go(req, "/signin", next=nxt, expired="1")


def submit(req: Req, attempt: Callable[[], Outcome], *, template: str, block: str,
           context: Context, success: Callable[[Outcome], str]) -> Response:
    """Run ``attempt`` and answer: redirect on success; otherwise the form again."""
    try:
        out = attempt()
    except FormError as err:
        out = Outcome([], Problem.invalid(str(err)), False)
    problem = out.problem
    if problem is None:
        return go(req, success(out), done=out.done, again="1" if out.replayed else None)
    if problem.sign_in_again:
        return session_expired(req, problem)
    page = production_page(req)
    if problem.code == "ACTION_FORBIDDEN" and not req.htmx:
        # the page does not even show this form to this person: say why on its own
        return render(req, "error.html", page.ctx(problem=problem), status=problem.status)
    ctx = page.ctx(**context(page))
    ctx.update(problem=problem, failed=block)
    return render(req, template, ctx, block=block, status=problem.status)
