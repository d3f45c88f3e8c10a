"""Signing in and out, choosing a production, registering this tablet."""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response

from ...domain.errors import ColdcheckError
from ...services import accounts
from ...services.accounts import AccessError
from ..access import (
    check_signin_token,
    device_of,
    production_page,
    run_plain,
    session_dialog,
    session_expired,
    set_device_cookie,
    set_session_cookies,
    set_signin_cookie,
    sign_in,
    sign_out,
    signed_in,
    signin_token,
)
from ..errors import Problem
from ..http import Req, go, render, view


def _safe_next(raw: str) -> str:
    """Only a path on this site (never //host or a scheme). Control characters and
    spaces are refused: browsers drop tabs and newlines from a URL, so
    ``/\t/evil.example`` would become ``//evil.example``."""
    if (raw.startswith("/") and not raw.startswith("//") and "\\" not in raw
            and raw.isprintable() and " " not in raw):
        return raw
    return "/productions"


@view
def home(req: Req) -> Response:
    try:
        signed_in(req)
    except AccessError:
        return RedirectResponse("/signin", 303)
    return RedirectResponse("/productions", 303)


def _signin(req: Req, problem: Problem | None, status: int = 200) -> Response:
    token = signin_token(req)
    expired = req.query("expired") == "1" or (problem is not None and problem.sign_in_again)
    ctx = {"problem": problem, "next": _safe_next(req.form.get("next") or req.query("next")),
           "signin_token": token, "expired": expired, "username": req.form.get("username", ""),
           "page": None, "failed": "signin"}
    block = "signin_form" if req.htmx and req.request.method == "POST" else None
    resp = render(req, "signin.html", ctx, block=block, status=status)
    set_signin_cookie(req, resp, token)
    return resp


@view
def signin_page(req: Req) -> Response:
    return _signin(req, None)


@view
def signin_post(req: Req) -> Response:
    """Sign in. From the session-expired dialog (htmx), close the dialog and leave
    the page and its form as they are."""
    dialog = req.form.get("dialog") == "1"
    try:
        check_signin_token(req)  # the dialog's form carries the token too
        s = sign_in(req, req.form.get("username", ""), req.form.get("password", ""))
    except ColdcheckError as err:
        problem = Problem.from_error(err)
        if dialog:
            return session_dialog(req, problem)
        return _signin(req, problem, problem.status)
    if dialog:
        resp: Response = render(req, "_session.html", {"problem": None, "page": None,
                                                        "signed_in": True})
    else:
        resp = go(req, _safe_next(req.form.get("next", "")))
    set_session_cookies(req, resp, s)
    return resp


@view
def signout(req: Req) -> Response:
    """Sign out: revokes the session, which takes the session's CSRF token (a
    forged request must not end a tablet's session mid-scene)."""
    resp = go(req, "/signin")
    try:
        signed_in(req, csrf=True)
    except ColdcheckError as err:
        if err.code == "CSRF_FAILED":
            raise  # the error page; the session stays
        # No session left to revoke (expired, signed out elsewhere): clear the cookies.
    sign_out(req, resp)
    return resp


@view
def productions(req: Req) -> Response:
    p = signed_in(req)
    api = req.state
    names = {r["id"]: r["name"] for r in api.store.productions()}
    rows: list[dict[str, Any]] = []
    for m in accounts.memberships(api.store, p.account_id):
        prod, person = str(m["production_id"]), str(m["person_id"])
        rep = api.reads.get(prod)
        with rep.lock:
            who = rep.state.people.get(person)
            day = rep.state.day()
            rows.append({"id": prod, "name": names.get(prod, prod),
                         "person": who.name if who else person,
                         "roles": list(who.roles) if who else [],
                         "day": day.date if day else None,
                         "weapons_out": sum(1 for w in rep.state.weapons.values()
                                            if w.state == "issued")})
    return render(req, "productions.html", {"rows": rows, "username": p.username,
                                            "page": None, "problem": None,
                                            "csrf": p.csrf_token or ""})


# ---- this tablet --------------------------------------------------------------------
@view
def device_page(req: Req) -> Response:
    page = production_page(req)
    devices = accounts.devices(req.state.store, page.production)
    del devices
    return render(req, "device.html", _device_ctx(req, page))


@view
def device_register(req: Req) -> Response:
    name = (req.form.get("name") or "").strip()[:80] or "Tablet"
    body, problem = run_plain(req, "device.manage", lambda call: accounts.register_device(
        call.state.store, production=call.production, name=name,
        account_id=call.principal.account_id, at=call.now()), idempotent=False)
    if problem is not None:
        if problem.sign_in_again:
            return session_expired(req, problem)
        page = production_page(req)
        ctx = _device_ctx(req, page)
        ctx.update(problem=problem, failed="device_form", current=None)
        return render(req, "device.html", ctx, block="device_form", status=problem.status)
    prod = req.param("production")
    resp = go(req, f"/p/{prod}/device", registered=body["id"])
    set_device_cookie(req, resp, prod, str(body["key"]))  # the key, never shown
    return resp


# ---- pairing a person's own phone (services/pairing.py) ------------------------------
def _device_ctx(req: Req, page: Any, **extra: Any) -> dict[str, Any]:
    devices = accounts.devices(req.state.store, page.production)
    people = [p for p in page.st.people.values() if p.id != page.me.id]
    ctx: dict[str, Any] = page.ctx(devices=devices, pair_people=people, pairing=None,
                                   current=accounts.device_id_of(device_of(req)), **extra)
    return ctx


@view
def device_pair(req: Req) -> Response:
    """The armorer, on the registered cart tablet, shows a one-time pairing QR code
    for one person's phone."""
    from .board import qr_svg

    who = (req.form.get("person") or "").strip()

    def issue(call: Any) -> dict[str, Any]:
        accounts.check_device(call.state.store, production=call.production,
                              device=device_of(req))  # shown from a registered tablet only
        with call.replica.lock:
            person = call.replica.state.people.get(who)
        if person is None:
            raise AccessError("NOT_FOUND", f"no person {who[:40]!r} on this production",
                              kind="not_found")
        code, p = call.state.pairings.issue(production=call.production, person=person.id,
                                            by_account=call.principal.account_id,
                                            at=call.now())
        return {"code": code, "person": person.id, "name": person.name,
                "expires": p.expires}

    body, problem = run_plain(req, "device.manage", issue, idempotent=False)
    if problem is not None and problem.sign_in_again:
        return session_expired(req, problem)
    page = production_page(req)
    if problem is not None:
        ctx = _device_ctx(req, page)
        ctx.update(problem=problem, failed="pair_form")
        return render(req, "device.html", ctx, block="pair_form" if req.htmx else None,
                      status=problem.status)
    base = str(req.request.base_url).rstrip("/")
    url = f"{base}/pair/{body['code']}"
    pairing = {**body, "url": url, "qr": qr_svg(url, scale=5)}
    return render(req, "device.html", {**_device_ctx(req, page), "pairing": pairing},
                  block="pair_form" if req.htmx else None)


def _pair_page(req: Req, problem: Problem | None, status: int = 200) -> Response:
    code = req.param("code")
    pairing = None
    try:
        p = req.state.pairings.peek(code, req.now())
        rep = req.state.reads.get(p.production)
        with rep.lock:
            person = rep.state.people.get(p.person)
            prod_name = rep.state.name
        pairing = {"name": person.name if person else p.person, "production": prod_name,
                   "expires": p.expires}
    except ColdcheckError as err:
        problem = problem or Problem.from_error(err)
        status = problem.status
    token = signin_token(req)
    resp = render(req, "pair.html", {"problem": problem, "pairing": pairing, "page": None,
                                     "signin_token": token, "code": code,
                                     "username": req.form.get("username", "")},
                  status=status)
    set_signin_cookie(req, resp, token)
    return resp


@view
def pair_page(req: Req) -> Response:
    """What the phone opens from the QR code: sign in as the person it is for."""
    return _pair_page(req, None)


@view
def pair_post(req: Req) -> Response:
    """Sign in as the person the code is for; then the phone is registered for them
    and the code is spent. Another person's sign-in leaves the code unused."""
    code = req.param("code")
    try:
        check_signin_token(req)
        p = req.state.pairings.peek(code, req.now())
        s = sign_in(req, req.form.get("username", ""), req.form.get("password", ""))
        person = accounts.membership(req.state.store, s.account_id, p.production)
        if person != p.person:
            accounts.logout(req.state.store, session_token=s.token, at=req.now())
            raise AccessError("ACTION_FORBIDDEN", "this pairing code is for someone else: "
                              "sign in with the account of the person it was shown for",
                              kind="forbidden")
        p = req.state.pairings.spend(code, req.now())
        rep = req.state.reads.get(p.production)
        with rep.lock:
            name = rep.state.people[p.person].name
        dev = accounts.register_device(req.state.store, production=p.production,
                                       name=f"{name}'s phone (paired)",
                                       account_id=s.account_id, at=req.now())
    except ColdcheckError as err:
        problem = Problem.from_error(err)
        return _pair_page(req, problem, problem.status)
    resp = go(req, f"/p/{p.production}/", paired=dev["id"])
    set_session_cookies(req, resp, s)
    set_device_cookie(req, resp, p.production, str(dev["key"]))
    return resp
