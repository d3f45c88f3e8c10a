"""``build_api(state)``: the JSON API under /api/v1 (``coldcheck.asgi.create_app``
builds the state and puts the tablet web app beside it).

Handlers are plain (sync) functions that call the same services as the CLI;
FastAPI runs them in its worker threads, so a slow argon2 check never blocks
the event loop. One exception renderer (api/problems.py) answers every error
as RFC 9457 problem JSON, whatever raised it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, APIRouter
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..domain.errors import ColdcheckError
from ..services.authorise import AppState
from . import routes
from .auth import Reader, Writer
from .middleware import Guard, SecurityHeaders
from .problems import PROBLEM, on_coldcheck_error, on_http_error, on_unexpected, on_validation_error
from .routes import admin, custody, reads, session  # noqa: F401 - they add the routes
from .schemas import ProblemOut

OPENAPI_URL = "/api/v1/openapi.json"
DESCRIPTION = """Chain of custody and a tamper-evident ledger for prop firearms and
ammunition on set. Every custody action of the CLI, over HTTP.

Sign in with `POST /api/v1/auth/login` (browsers: session cookie plus the
`X-CSRF-Token` header on writes) or send `Authorization: Bearer <token>`
(scripts). Writes that record events name a registered device in
`X-Coldcheck-Device`, and accept an `Idempotency-Key`. Errors are RFC 9457
`application/problem+json` with a stable `code`. Who may do what:
docs/permissions.md; everything else: docs/api.md."""

# Production routes read the credentials themselves (api/auth.py: credentials), so
# their security requirement is added here; the schemes come from the
# account-level routes, which declare them as dependencies.
SECURITY: list[dict[str, list[str]]] = [{"bearerToken": []}, {"sessionCookie": []}]
ERROR_STATUSES: dict[int, str] = {
    400: "Malformed JSON", 401: "Not signed in, or the token or session is no good",
    403: "Not allowed: role, CSRF or device", 404: "No such production (or not yours), id or route",
    405: "Method not allowed", 409: "Refused by a rule, or conflicts with the current state",
    413: "Body too large", 415: "Body is not JSON", 422: "Invalid input",
    423: "PIN or account locked", 429: "Too many failed sign-ins", 500: "Server failure",
}


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of the app, through included routers (FastAPI >= 0.165
    keeps included routers as one route each; older versions copy their routes)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI < 0.165
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [rc.original_route for rc in iter_route_contexts(app.routes)
            if isinstance(rc.original_route, APIRoute)]


def actions_of(route: APIRoute) -> list[str]:
    """The permission actions a route's dependencies declare (api/auth.py)."""
    found: list[str] = []

    def walk(dep: Any) -> Iterator[Any]:
        for d in dep.dependencies:
            yield d.call
            yield from walk(d)

    for call in walk(route.dependant):
        if isinstance(call, Reader | Writer):
            found.append(call.action)
    return found


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title="coldcheck", version=__version__, description=DESCRIPTION,
                             routes=app.routes)
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        comps["Problem"] = ProblemOut.model_json_schema(
            ref_template="#/components/schemas/{model}")
        for name in ("HTTPValidationError", "ValidationError"):
            comps.pop(name, None)
        ref = {"$ref": "#/components/schemas/Problem"}
        by_path = {(r.path, m.lower()): r for r in api_routes(app) for m in (r.methods or ())}
        for path, item in schema.get("paths", {}).items():
            for method, op in item.items():
                responses = op.setdefault("responses", {})
                for status, text in ERROR_STATUSES.items():
                    responses[str(status)] = {"description": text,
                                              "content": {PROBLEM: {"schema": ref}}}
                route = by_path.get((path, method))
                acts = actions_of(route) if route else []
                if acts:
                    op["x-coldcheck-action"] = acts[0]
                    op["security"] = SECURITY
        app.openapi_schema = schema
        return schema
    return build


def mount(app: FastAPI, router: APIRouter) -> None:
    """Put the router's routes on the app's own router. (FastAPI >= 0.165 keeps an
    included router as one route and matches a request against every route of it
    with a copy of the scope each time, which cost more than the whole status
    board; routes of the app's own router are matched with one regex each.)"""
    for r in router.routes:
        assert isinstance(r, APIRoute)
        app.router.add_api_route(
            r.path, r.endpoint, methods=sorted(r.methods or ()), name=r.name,
            response_model=r.response_model, status_code=r.status_code, tags=r.tags,
            summary=r.summary, description=r.description,
            response_description=r.response_description, responses=r.responses,
            response_class=r.response_class, include_in_schema=r.include_in_schema,
            openapi_extra=r.openapi_extra)


def build_api(state: AppState) -> FastAPI:
    """The API on ``state`` (services.authorise.open_state). coldcheck.asgi puts
    the tablet web app in front of it; this module knows nothing of it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The loop's own connection lives as long as one run of the server: a
        # server (or a test client) that starts again gets a fresh one.
        api: AppState = app.state.coldcheck
        if api.store.dialect == "sqlite" and api.loop_conn is None:
            api.loop_conn = api.store.engine.connect()
        try:
            yield
        finally:
            conn, api.loop_conn = api.loop_conn, None
            if conn is not None:
                conn.close()

    app = FastAPI(title="coldcheck", version=__version__, openapi_url=OPENAPI_URL,
                  docs_url=None, redoc_url=None, description=DESCRIPTION, lifespan=lifespan,
                  redirect_slashes=False)
    app.state.coldcheck = state
    mount(app, routes.router)
    app.add_exception_handler(ColdcheckError, on_coldcheck_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(DBAPIError, on_unexpected)
    app.add_exception_handler(OSError, on_unexpected)
    app.add_middleware(Guard, max_body=state.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=state.settings.tls_cert is not None)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app
