"""Putting the web app in front of the API, and the web app's own guard.

The API's Guard middleware accepts only JSON bodies (its CSRF defence for
scripts and single-page clients). Tablet forms post
``application/x-www-form-urlencoded``, protected instead by the session's CSRF
token in a form field or header, by SameSite=Strict cookies and by an Origin
check. So the web app is not routed *through* the API's middleware:
:class:`WebFront`, the outermost middleware, sends every path outside
``/api/`` to the web app, and everything under ``/api/`` to the API as before
(the live board reads the API's event stream directly).
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import Settings

API_PREFIX = "/api/"
FORM = "application/x-www-form-urlencoded"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return bytes(v).decode("latin-1")
    return None


class WebFront:
    """Paths under /api/ go to the API; every other HTTP request to the web app."""

    def __init__(self, app: ASGIApp, *, web: ASGIApp) -> None:
        self.app, self.web = app, web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("path", "").startswith(API_PREFIX):
            await self.web(scope, receive, send)
            return
        await self.app(scope, receive, send)


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


def mount_web(app: FastAPI, settings: Settings) -> None:
    """Serve the tablet web app from ``app`` (built by ``create_app``), sharing its
    state: the store, the read model, the live-event hub, the PIN hasher and the
    sign-in limiter. Call it once, at the end of ``create_app``."""
    from .app import build_web

    if getattr(app.state, "coldcheck_web", False):
        return  # already mounted: once is enough
    web = build_web(app.state.coldcheck, settings)
    app.add_middleware(WebFront, web=web)
    app.state.coldcheck_web = True
