"""Requests, responses and rendering for the web views.

Views are plain synchronous functions ``view(req) -> Response`` (run in a worker
thread: argon2 and the database never block the event loop). Each page is one
Jinja2 template; the parts htmx swaps are named blocks of that template,
rendered alone when htmx asks (the django-htmx-patterns style).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..services.authorise import AppState
from . import present

TEMPLATES = Path(__file__).parent / "templates"
Form = ImmutableMultiDict[str, str]
FORM = "application/x-www-form-urlencoded"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return bytes(v).decode("latin-1")
    return None


@dataclass
class Req:
    """One web request: the Starlette request and its parsed form."""

    request: Request
    form: Form

    @property
    def state(self) -> AppState:
        st: AppState = self.request.app.state.coldcheck
        return st

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def now(self) -> datetime:
        return self.state.clock()

    @property
    def path(self) -> str:
        q = self.request.url.query
        return self.request.url.path + (f"?{q}" if q else "")


View = Callable[[Req], Response]


class FormTooLarge(Exception):
    pass


async def _read(request: Request, limit: int) -> bytes:
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise FormTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def view(fn: View) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a plain view: parse the urlencoded form (bounded), run it in a thread."""

    async def endpoint(request: Request) -> Response:
        form: Form = ImmutableMultiDict()
        if request.method == "POST":
            state: AppState = request.app.state.coldcheck
            try:
                body = await _read(request, state.settings.max_body_bytes)
            except FormTooLarge:
                return HTMLResponse("<p>The form is too large.</p>", 413)
            form = ImmutableMultiDict(parse_qsl(body.decode("utf-8", "replace"),
                                                keep_blank_values=True))
        return await run_in_threadpool(fn, Req(request, form))

    endpoint.__name__ = fn.__name__
    endpoint.__doc__ = fn.__doc__
    return endpoint


# ---- rendering ---------------------------------------------------------------------
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html", "svg"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.globals["new_key"] = lambda: uuid.uuid4().hex
    env.filters.update(present.FILTERS)
    env.globals.update(present.GLOBALS)
    return env


ENV = _env()


def render_text(name: str, ctx: Mapping[str, Any], block: str | None = None) -> str:
    tmpl = ENV.get_template(name)
    if block is None:
        return tmpl.render(ctx)
    # A block rendered alone skips the template's top-level ``{% from "_macros.html"
    # import … with context %}``: provide the macros the same way.
    context = tmpl.new_context(dict(ctx))
    macros = ENV.get_template("_macros.html").make_module(dict(ctx))
    for key, value in vars(macros).items():
        if isinstance(value, jinja2.runtime.Macro):
            context.vars[key] = value
    return "".join(tmpl.blocks[block](context))


def render(req: Req, name: str, ctx: Mapping[str, Any], *, block: str | None = None,
           status: int = 200, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """The whole page, or only ``block`` when htmx asked for a fragment."""
    part = block if req.htmx and block else None
    return HTMLResponse(render_text(name, ctx, part), status_code=status,
                        headers=dict(headers or {}))


SAFE_URL = ":/%#?=@[]!$&'()*+,;"  # what Starlette's RedirectResponse leaves unquoted


def go(req: Req, url: str, **query: Any) -> Response:
    """POST-redirect-GET: a 303 for a plain form, HX-Redirect for htmx."""
    q = {k: v for k, v in query.items() if v not in (None, "", False)}
    target = url + (("&" if "?" in url else "?") + urlencode(q) if q else "")
    if req.htmx:  # quoted as a Location header would be (no raw control characters)
        return Response(status_code=200, headers={"HX-Redirect": quote(target, safe=SAFE_URL)})
    return RedirectResponse(target, status_code=303)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status_code=status,
                    media_type="application/json")


# ---- reading form fields (shape only: the domain decides every rule) ------------------
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


# ---- the web app's own guard and headers ---------------------------------------------
# The API's Guard accepts only JSON bodies (its CSRF defence for scripts); tablet
# forms post application/x-www-form-urlencoded, protected instead by the
# session's CSRF token in a form field or header, SameSite=Strict cookies and the
# Origin check below. coldcheck.asgi sends every path outside /api/ here.
class WebGuard:
    """Form posts only, bounded in size, from this site only.

    * a body declared larger than ``max_body`` is refused (413) before it is
      read (the view reads at most ``max_body`` bytes of any other);
    * a write whose body is not a urlencoded form is refused (415);
    * a write whose ``Origin`` (or, without one, ``Referer``) names another
      host is refused (403): with SameSite=Strict cookies and the CSRF token,
      this is the third lock on cross-site writes.
    """

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in UNSAFE:
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await PlainTextResponse("The form is too large.", 413)(scope, receive, send)
            return
        ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if length not in (None, "0") and ctype != FORM:
            await PlainTextResponse("Forms are sent as " + FORM, 415)(scope, receive, send)
            return
        host = _header(scope, b"host") or ""
        origin = _header(scope, b"origin") or _header(scope, b"referer")
        # "null" is an opaque origin (a sandboxed frame, a data: page): with this
        # app's Referrer-Policy (same-origin) its own forms always send their origin.
        if origin and (origin == "null" or urlsplit(origin).netloc != host):
            await PlainTextResponse("Cross-site form refused.", 403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class WebHeaders:
    """What every web answer carries: a strict Content Security Policy (scripts,
    styles and images from this server only: sets are often offline and no
    CDN is ever used), no framing, no sniffing, no referrer, no caching of
    custody pages; static files may be cached for an hour."""

    CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
           "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'")
    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
        (b"content-security-policy", CSP.encode())]

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.extra = list(self.HEADERS)
        if hsts:
            self.extra.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def add(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers", []))
                have = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.extra if k not in have]
                if b"cache-control" not in have:
                    headers.append((b"cache-control", b"public, max-age=3600" if static
                                    else b"no-store"))
                msg["headers"] = headers
            await send(msg)

        await self.app(scope, receive, add)
