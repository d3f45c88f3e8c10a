"""The whole server as one ASGI app: the JSON API and the tablet web app side
by side, on one shared state (services.authorise.AppState: the store, the read
model, the live-event hub, the PIN hasher, the limiters).

Neither app imports the other; this module composes them. :class:`Front`, the
outermost middleware, sends every path under ``/api/`` to the API and every
other HTTP request to the web app. The web app is not routed *through* the
API's middleware: the API's Guard accepts only JSON bodies (its CSRF defence
for scripts), while tablet forms post ``application/x-www-form-urlencoded``,
protected by the web app's own guard (web/http.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from .api import build_api
from .config import Settings
from .persistence.store import Store
from .services.authorise import open_state
from .web import build_web

API_PREFIX = "/api/"


class Front:
    """Paths under /api/ go to the API; every other HTTP request to the web app."""

    def __init__(self, app: ASGIApp, *, web: ASGIApp) -> None:
        self.app, self.web = app, web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("path", "").startswith(API_PREFIX):
            await self.web(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(settings: Settings, *, store: Store | None = None,
               clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The server on ``settings.database_url`` (migrated to the current schema):
    the API app, with the web app in front of it for every path outside /api/."""
    state = open_state(settings, store=store, clock=clock)
    app = build_api(state)
    app.add_middleware(Front, web=build_web(state))
    return app
