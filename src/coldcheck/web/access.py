"""Who is asking, what they may do, and how a write ends: the web app's adapter
to services.authorise, which the API uses too.

* Sign-in uses ``services.authorise.limited_login`` (the per-address limiter);
  it sets the very same cookies as ``POST /api/v1/auth/login`` (session: Secure,
  HttpOnly, SameSite=Strict; CSRF token: readable by the page's script).
* Every production page and every write is authorised by
  ``services.authorise.authorise`` (membership, then the role × action matrix of
  services/permissions.py), then, for writes that record events, the
  registered device (``services.authorise.check_device``): :func:`authorised`
  is the one place this module calls them. Writes run through
  ``Access.record_once``, so the idempotency store, the wrong-PIN limit and the
  live-stream wake-up are the API's too; its outcome (events or a refusal) is
  rendered here. The only difference: a form may carry the session's CSRF token
  in a ``csrf_token`` field when it is not sent as the ``X-CSRF-Token`` header.
* The tablet's device key (id and secret, given at registration) lives in a
  per-production HttpOnly cookie; the id alone is refused.
* :func:`submit` is the one way a write ends: POST-redirect-GET to the page
  that shows what was recorded, or the form's own block again with the problem
  and everything the person typed (PINs excepted), or the sign-in dialog when
  the session expired mid-form.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from starlette.responses import Response

from ..domain.errors import ColdcheckError, Conflict
from ..domain.events import Event
from ..domain.narrative import describe
from ..domain.people import Person
from ..domain.state import ProductionState
from ..domain.zones import is_utc, zone_note
from ..services import accounts
from ..services.accounts import AccessError, NewSession, Principal
from ..services.authorise import (
    Access,
    act_as,
    authorise,
    check_device,
    check_key,
    limited_login,
)
from ..services.context import Context
from ..services.idempotency import Outcome as Answer
from ..services.permissions import ACTING
from .errors import Problem
from .http import FormError, Req, go, render, render_text
from .offers import can_move, menu, offered
from .present import local_text, utc_line

# The cookies and header of POST /api/v1/auth/login (api/auth.py names the same).
SESSION_COOKIE = "coldcheck_session"
CSRF_COOKIE = "coldcheck_csrf"
CSRF_HEADER = "X-CSRF-Token"
DEVICE_COOKIE = "coldcheck_device"
SIGNIN_COOKIE = "coldcheck_signin"
DEVICE_DAYS = 400
# Refusals and PIN failures name a weapon or lot without changing it: they do not
# make a page stale.
NOT_CHANGES = frozenset({"action.refused", "weapon.handoff_refused", "ammo.intake_refused",
                         "person.pin_failed", "person.pin_locked", "note.added"})
IN_PROGRESS_WAIT = 0.2
IN_PROGRESS_TRIES = 50


# ---- signing in ----------------------------------------------------------------
def signed_in(req: Req, *, csrf: bool = False) -> Principal:
    """The account behind the session cookie; for writes, the CSRF token must match
    (header first, else the form's ``csrf_token`` field)."""
    token = req.request.cookies.get(SESSION_COOKIE)
    if not token:
        raise AccessError("AUTH_REQUIRED", "sign in to continue", kind="unauthenticated")
    p = accounts.authenticate_session(req.state.store, session_token=token, at=req.now())
    if csrf:
        accounts.check_csrf(p, req.request.headers.get(CSRF_HEADER)
                            or req.form.get("csrf_token"))
    return p


def remote(req: Req) -> str:
    client = req.request.client
    return client.host if client else "unknown"


def sign_in(req: Req, username: str, password: str) -> NewSession:
    """accounts.login behind the per-address limiter, exactly as the API does."""
    return limited_login(req.state, remote=remote(req), username=username, password=password,
                         old_session=req.request.cookies.get(SESSION_COOKIE))


def set_session_cookies(req: Req, resp: Response, s: NewSession) -> None:
    """The cookies POST /api/v1/auth/login sets, with the same attributes."""
    settings = req.state.settings
    age = settings.session_hours * 3600
    resp.set_cookie(SESSION_COOKIE, s.token, max_age=age, path="/",
                    secure=settings.cookie_secure, httponly=True, samesite="strict")
    resp.set_cookie(CSRF_COOKIE, s.csrf_token, max_age=age, path="/",
                    secure=settings.cookie_secure, httponly=False, samesite="strict")


def sign_out(req: Req, resp: Response) -> None:
    token = req.request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.logout(req.state.store, session_token=token, at=req.now())
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        resp.delete_cookie(name, path="/", secure=req.state.settings.cookie_secure,
                           samesite="strict")


def signin_token(req: Req) -> str:
    """Double-submit token of the sign-in form (no session exists yet)."""
    return req.request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)


def set_signin_cookie(req: Req, resp: Response, token: str) -> None:
    resp.set_cookie(SIGNIN_COOKIE, token, max_age=3600, path="/", httponly=True,
                    samesite="strict", secure=req.state.settings.cookie_secure)


def check_signin_token(req: Req) -> None:
    have = req.request.cookies.get(SIGNIN_COOKIE) or ""
    sent = req.form.get("signin_token") or ""
    if not have or not secrets.compare_digest(have.encode(), sent.encode()):
        raise AccessError("CSRF_FAILED", "the sign-in form is out of date: reload the page "
                          "and sign in", kind="forbidden")


# ---- devices --------------------------------------------------------------------
def device_path(production: str) -> str:
    return f"/p/{production}/"


def device_of(req: Req) -> str | None:
    return req.request.cookies.get(DEVICE_COOKIE)


def set_device_cookie(req: Req, resp: Response, production: str, device: str) -> None:
    resp.set_cookie(DEVICE_COOKIE, device, max_age=DEVICE_DAYS * 86400,
                    path=device_path(production), secure=req.state.settings.cookie_secure,
                    httponly=True, samesite="strict")


# ---- production pages -------------------------------------------------------------
@dataclass
class Page:
    """A production page: the caller, their roles, and a private copy of the state."""

    req: Req
    call: Access
    st: ProductionState
    now: datetime
    device_problem: str | None  # the code a write from this tablet would get, if any

    @property
    def production(self) -> str:
        return self.call.production

    @property
    def me(self) -> Person:
        return self.st.people[self.call.person]

    @property
    def csrf(self) -> str:
        return self.call.principal.csrf_token or ""

    def can(self, action: str) -> bool:
        """Is ``action`` one to offer the signed-in person (web/offers.py)?"""
        return offered(action, self.call.roles)

    def menu(self) -> list[tuple[str, str]]:
        """The menu's sections for the signed-in person's roles."""
        return menu(self.call.roles)

    def actors(self, action: str, role: str | None = None) -> list[Person]:
        """Who else may do ``action`` here by badge + PIN ("acting by PIN"): the
        people whose own roles allow it (and who hold ``role``, if given), the
        signed-in person excepted."""
        if action not in ACTING:
            return []
        return [p for p in self.st.people.values()
                if p.id != self.call.person and offered(action, p.roles)
                and (role is None or role in p.roles)]

    @property
    def zone_name(self) -> str:
        """The production's time zone, else the server's default (Settings.zone_name)."""
        return str(self.req.state.settings.zone_name(self.st.timezone))

    @property
    def tz(self) -> tzinfo:
        """The time zone the pages show times in."""
        return self.req.state.settings.zone_for(self.st.timezone)

    @property
    def today(self) -> str:
        """Today's date on set (in the display time zone), as YYYY-MM-DD."""
        return self.now.astimezone(self.tz).date().isoformat()

    def zone_note(self) -> str:
        """"America/Denver (MST, UTC-07:00)", or "" when the pages show UTC."""
        if is_utc(self.tz):
            return ""
        return zone_note(self.zone_name, self.tz, self.now)

    def version(self, *ids: str) -> int:
        return version(self.call, ids)

    def name(self, person: str | None) -> str:
        p = self.st.people.get(person or "")
        return p.name if p else str(person or "")

    def names(self, ids: Iterable[str]) -> str:
        return ", ".join(self.name(i) for i in ids)

    def url(self, path: str = "") -> str:
        return f"/p/{self.production}/{path}"

    def events(self, seqs: Iterable[int]) -> list[dict[str, Any]]:
        """The events ``seqs`` as sentences (a 'recorded' confirmation)."""
        rep = self.call.replica
        out = []
        with rep.lock:
            evs = [rep.events[s] for s in seqs if 0 <= s < len(rep.events)]
        for e in evs:
            out.append({"seq": e.seq, "at": e.at, "type": e.type,
                        "text": describe(e.type, e.payload, self._names)})
        return out

    def _names(self, ident: str | None) -> str:
        p = self.st.people.get(ident or "")
        return f"{p.name} ({p.id})" if p else str(ident)

    def seqs(self, ident: str) -> Sequence[int]:
        """The events that name ``ident`` (a weapon, lot, person, day...), in order."""
        rep = self.call.replica
        with rep.lock:
            return tuple(rep.index.get(ident, ()))

    def timeline(self, **kw: str) -> list[dict[str, Any]]:
        return self.call.replica.timeline(**kw)

    def done(self) -> dict[str, Any] | None:
        """What the last write recorded (?done=first-last, ?again=1 for a replay)."""
        raw = self.req.query("done")
        first, _, last = raw.partition("-")
        if not first.isdigit() or not (last or first).isdigit():
            return None
        a, b = int(first), int(last or first)
        if b < a or b - a > 500:
            return None
        return {"events": self.events(range(a, b + 1)), "again": self.req.query("again") == "1"}

    def ctx(self, **extra: Any) -> dict[str, Any]:
        """What every production template gets."""
        return {"page": self, "st": self.st, "me": self.me, "prod": self.production,
                "csrf": self.csrf, "can": self.can, "can_move": can_move, "now": self.now,
                "tz": self.tz,
                "form": self.req.form, "actors": self.actors,
                "problem": None, "failed": None, "done": self.done(),
                "device_problem": self.device_problem, **extra}


def authorised(req: Req, principal: Principal, action: str, *, write: bool = False,
               body: bytes = b"") -> Access:
    """services.authorise's authorisation of ``action`` on the production in the
    path, for a principal this module authenticated (the CSRF token may come from
    a form field): the API's Reader / Writer do the same."""
    state = req.state
    production = req.param("production")
    person, roles, rep = authorise(state, action, production, principal)
    call = Access(state=state, principal=principal, production=production, person=person,
                  roles=roles, action=action, replica=rep)
    if not write:
        return call
    call.device = check_device(state, action, production, device_of(req))
    key = req.form.get("idem") or None
    check_key(key)
    call.key, call.method, call.path, call.body = (key, req.request.method,
                                                   req.request.url.path, body)
    return call


def production_page(req: Req) -> Page:
    """Authorise a read of the production in the path and copy its state."""
    principal = signed_in(req)
    call = authorised(req, principal, "read")
    rep = call.replica
    with rep.lock:
        st = copy.deepcopy(rep.state)
    problem = None
    try:
        accounts.check_device(req.state.store, production=call.production, device=device_of(req))
    except AccessError as err:
        problem = err.code
    return Page(req, call, st, call.now(), problem)


def version(call: Access, ids: Iterable[str]) -> int:
    """The seq of the last event that changed any of ``ids`` (-1: none)."""
    rep = call.state.reads.get(call.production)
    best = -1
    with rep.lock:
        for ident in ids:
            for seq in reversed(rep.index.get(ident, [])):
                if rep.events[seq].type not in NOT_CHANGES:
                    best = max(best, seq)
                    break
    return best


# ---- writes ---------------------------------------------------------------------
@dataclass
class Outcome:
    """A write's answer: the events recorded, or the problem."""

    events: list[dict[str, Any]]
    problem: Problem | None
    replayed: bool

    @property
    def first(self) -> int:
        return int(self.events[0]["seq"]) if self.events else -1

    @property
    def last(self) -> int:
        return int(self.events[-1]["seq"]) if self.events else -1

    @property
    def done(self) -> str:
        return f"{self.first}-{self.last}"

    def payload(self, type_: str, key: str) -> str | None:
        for e in self.events:
            if e["type"] == type_:
                return str(e["payload"][key])
        return None


def _canonical(form: Iterable[tuple[str, str]]) -> bytes:
    """The request as the idempotency fingerprint sees it: the fields that mean
    something, not the CSRF token (it changes when a session is renewed)."""
    pairs = sorted((k, v) for k, v in form if k not in ("csrf_token", "idem"))
    return json.dumps(pairs, ensure_ascii=False).encode()


def writer(req: Req, action: str) -> Access:
    """The write's access; a form with an ``act_as`` badge (and ``act_pin``) is
    done by that person on this session ("acting by PIN", services.authorise.act_as):
    the session holder only needs to be a member, the PIN holder's roles decide."""
    principal = signed_in(req, csrf=True)
    body = _canonical(req.form.multi_items())
    who = (req.form.get("act_as") or "").strip()
    if not who:
        return authorised(req, principal, action, write=True, body=body)
    call = authorised(req, principal, "read")
    call.action = action
    call.device = check_device(req.state, action, call.production, device_of(req))
    key = req.form.get("idem") or None
    check_key(key)
    call.key, call.method, call.path, call.body = (key, req.request.method,
                                                   req.request.url.path, body)
    return act_as(call, who=who, pin=req.form.get("act_pin"))


def stale(call: Access, subjects: Sequence[str], seen: str | None) -> None:
    """CONCURRENT_UPDATE if any subject changed after the page was rendered."""
    if not subjects or seen is None or not seen.lstrip("-").isdigit():
        return
    now = version(call, subjects)
    if now > int(seen):
        rep = call.state.reads.get(call.production)
        with rep.lock:
            e = rep.events[now]
            people = rep.state.people

            def names(i: str | None) -> str:
                p = people.get(i or "")
                return f"{p.name} ({p.id})" if p else str(i)

            what = describe(e.type, e.payload, names)
            tz = call.state.settings.zone_for(rep.state.timezone)
        at = local_text(e.at, tz, seconds=False)
        if not is_utc(tz):
            at += f", {utc_line(e.at, tz, seconds=False)}"
        raise Conflict("CONCURRENT_UPDATE", f"{', '.join(subjects)} changed after this page "
                       f"was loaded (event #{now}, {at}: {what}). Nothing was "
                       "recorded.", seen=int(seen), now=now)


def record(req: Req, action: str, fn: Callable[[Context, Access], list[Event]], *,
           subjects: Sequence[str] = ()) -> Outcome:
    """Run a custody use case as the signed-in person from this tablet through
    ``Access.record_once``: authorised, idempotent, woken streams."""
    try:
        call = writer(req, action)
    except ColdcheckError as err:
        return Outcome([], Problem.from_error(err), False)
    seen = req.form.get("seen")

    def run(ctx: Context) -> list[Event]:
        stale(call, subjects, seen)
        return fn(ctx, call)

    answer = _once(lambda: call.record_once(run))
    if answer.replayed:
        stored = answer.body()
        if answer.status >= 400:
            problem = Problem.from_body(stored, replayed=True)
            problem.incidents = opened_incidents(call, problem.recorded)
            return Outcome([], problem, True)
        return Outcome(list(stored["events"]), None, True)
    if answer.error is not None:
        problem = Problem.from_error(answer.error)
        problem.incidents = opened_incidents(call, problem.recorded)
        return Outcome([], problem, False)
    return Outcome(list(answer.value["events"]), None, False)


def _once(run: Callable[[], Answer]) -> Answer:
    """``run``, waiting while a double tap's first request is still running
    (IDEMPOTENCY_KEY_IN_PROGRESS): the second tap then gets the first's answer."""
    for _ in range(IN_PROGRESS_TRIES):
        try:
            return run()
        except AccessError as err:
            if err.code != "IDEMPOTENCY_KEY_IN_PROGRESS":
                raise
        time.sleep(IN_PROGRESS_WAIT)
    return run()


def run_plain(req: Req, action: str, fn: Callable[[Access], Any], *,
              idempotent: bool = True) -> tuple[Any, Problem | None]:
    """A write that records no custody event (registering a device). Not
    ``idempotent`` when the answer holds a secret, which the idempotency store
    would otherwise keep (a device key)."""
    try:
        call = writer(req, action)
    except ColdcheckError as err:
        return None, Problem.from_error(err)
    if not idempotent:
        call.key = None
    answer = call.run_once(lambda: fn(call))
    if answer.replayed:
        stored = answer.body()
        if answer.status >= 400:
            return None, Problem.from_body(stored)
        return stored, None
    if answer.error is not None:
        return None, Problem.from_error(answer.error)
    return answer.value, None


def opened_incidents(call: Access, seqs: Iterable[int]) -> list[str]:
    rep = call.state.reads.get(call.production)
    with rep.lock:
        return [str(rep.events[s].payload["incident"]) for s in seqs
                if 0 <= s < len(rep.events) and rep.events[s].type == "incident.opened"]


# ---- answering a form ------------------------------------------------------------
PageContext = Callable[[Page], Mapping[str, Any]]


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
           context: PageContext, success: Callable[[Outcome], str]) -> Response:
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
