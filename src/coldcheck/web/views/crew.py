"""Safety complaints from crew without an account (services/complaints.py):
the cart tablet's "File a safety complaint" page, the QR poster (printable,
issued and revoked by the producer or the safety supervisor) and the poster's
public page, which needs no sign-in."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import Response

from ...domain.errors import ColdcheckError
from ...services import complaints as cs
from ...services.accounts import AccessError
from ..access import Outcome, Page, production_page, record, remote, submit
from ..errors import Problem
from ..http import FormError, Req, render, text, view

# The public page's form token (double submit: cookie and hidden field), as the
# sign-in form's, on its own path.
FORM_COOKIE = "coldcheck_complaint"


# ---- the cart tablet ----------------------------------------------------------------
def filed_number(page: Page) -> str | None:
    """The complaint the last post of this page recorded (from ``?done=``, read
    from the record itself, never from the address)."""
    first = page.req.query("done").partition("-")[0]
    if not first.isdigit():
        return None
    rep = page.call.replica
    with rep.lock:
        seq = int(first)
        e = rep.events[seq] if seq < len(rep.events) else None
    if e is None or e.type != "complaint.received" or e.payload["via"] != "tablet":
        return None
    return str(e.payload["complaint"])


def crew_ctx(page: Page) -> dict[str, Any]:
    return {"filed": filed_number(page)}


@view
def crew_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "crew_complaint.html", page.ctx(**crew_ctx(page)))


@view
def crew_file(req: Req) -> Response:
    f = req.form
    prod = req.param("production")
    anonymous = f.get("anonymous") == "1"

    def attempt() -> Outcome:
        return record(req, "complaint.file", lambda ctx, call: cs.receive_complaint(
            ctx, text=text(f, "text", "What is unsafe"), via="tablet",
            name="" if anonymous else text(f, "name", "Your name", required=False),
            role="" if anonymous else text(f, "role", "Your job", required=False)))

    return submit(req, attempt, template="crew_complaint.html", block="crew_form",
                  context=crew_ctx, success=lambda o: f"/p/{prod}/complaints/crew")


# ---- the QR poster --------------------------------------------------------------------
def poster_ctx(page: Page) -> dict[str, Any]:
    from .board import qr_svg

    poster = cs.active_poster(page.st)
    out: dict[str, Any] = {"poster": poster, "poster_url": None, "qr": None,
                           "last": page.st.poster}
    if poster is not None:
        token = cs.poster_token(page.req.state.secret, page.production, poster)
        url = f"{str(page.req.request.base_url).rstrip('/')}/complaint/{token}"
        out.update(poster_url=url, qr=qr_svg(url, scale=8))
    return out


@view
def poster_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "poster.html", page.ctx(**poster_ctx(page)))


@view
def poster_issue(req: Req) -> Response:
    prod = req.param("production")
    return submit(req, lambda: record(req, "complaint.acknowledge", lambda ctx, call:
                                      cs.issue_poster(ctx, by=call.person)),
                  template="poster.html", block="poster_admin", context=poster_ctx,
                  success=lambda o: f"/p/{prod}/complaints/poster")


@view
def poster_revoke(req: Req) -> Response:
    prod = req.param("production")
    return submit(req, lambda: record(req, "complaint.acknowledge", lambda ctx, call:
                                      cs.revoke_poster(ctx, by=call.person)),
                  template="poster.html", block="poster_admin", context=poster_ctx,
                  success=lambda o: f"/p/{prod}/complaints/poster")


# ---- the poster's public page ---------------------------------------------------------
def _public(req: Req, *, problem: Problem | None = None, filed: dict[str, Any] | None = None,
            status: int = 200) -> Response:
    token = req.request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    name = None
    try:
        production, _ = cs.find_poster(req.state, req.param("token"))
        rep = req.state.reads.get(production)
        with rep.lock:
            name = rep.state.name
    except ColdcheckError as err:
        if problem is None or problem.code != "COMPLAINT_RATE_LIMITED":
            problem = Problem.from_error(err)
            status = problem.status
    ctx = {"page": None, "problem": problem, "production_name": name, "filed": filed,
           "form_token": token, "form": req.form if filed is None else {},
           "path": req.request.url.path}
    wait = problem.extra.get("retry_after") if problem is not None else None
    resp = render(req, "public_complaint.html", ctx, status=status,
                  headers={"Retry-After": str(wait)} if status == 429 and wait else None)
    resp.set_cookie(FORM_COOKIE, token, max_age=3600, path="/complaint/", httponly=True,
                    samesite="strict", secure=req.state.settings.cookie_secure)
    return resp


@view
def public_page(req: Req) -> Response:
    return _public(req)


@view
def public_file(req: Req) -> Response:
    f = req.form
    anonymous = f.get("anonymous") == "1"
    try:
        have = req.request.cookies.get(FORM_COOKIE) or ""
        sent = f.get("form_token") or ""
        if not have or not secrets.compare_digest(have.encode(), sent.encode()):
            raise AccessError("CSRF_FAILED", "the complaint form is out of date: reload the "
                              "page and send it again", kind="forbidden")
        events = cs.receive_by_poster(
            req.state, token=req.param("token"), remote=remote(req),
            text=text(f, "text", "What is unsafe"),
            name="" if anonymous else text(f, "name", "Your name", required=False),
            role="" if anonymous else text(f, "role", "Your job", required=False))
    except FormError as err:
        problem = Problem.invalid(str(err))
        return _public(req, problem=problem, status=problem.status)
    except ColdcheckError as err:
        problem = Problem.from_error(err)
        return _public(req, problem=problem, status=problem.status)
    e = events[0]
    return _public(req, filed={"complaint": e.payload["complaint"], "at": e.at,
                               "anonymous": not (e.payload["name"] or e.payload["role"])})
