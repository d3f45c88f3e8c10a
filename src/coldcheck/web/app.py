"""The web app: routes, error pages, static files."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..domain.errors import ColdcheckError
from ..services.authorise import AppState
from ..services.faults import fault_of
from .errors import Problem
from .http import WebGuard, WebHeaders, render_text
from .views import auth, board, crew, custody, day, people, rental, safety

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("coldcheck.web")


def routes() -> list[BaseRoute]:
    def get(path: str, fn: object) -> Route:
        return Route(path, fn, methods=["GET"])  # type: ignore[arg-type]

    def post(path: str, fn: object) -> Route:
        return Route(path, fn, methods=["POST"])  # type: ignore[arg-type]

    p = "/p/{production}"
    return [
        get("/", auth.home),
        get("/signin", auth.signin_page), post("/signin", auth.signin_post),
        post("/signout", auth.signout),
        get("/productions", auth.productions),
        get(p + "/", board.board), get(p + "/armory", board.armory),
        get(p + "/weapons/{weapon}", board.weapon_page), get(p + "/lots/{lot}", board.lot_page),
        # people
        get(p + "/people", people.people), post(p + "/people", people.add_person),
        get(p + "/people/new", people.new_person),
        get(p + "/people/{person}", people.person_page),
        post(p + "/people/{person}/briefing", people.brief),
        post(p + "/people/{person}/credentials", people.add_credential),
        post(p + "/people/{person}/credentials/revoke", people.revoke_credential),
        get(p + "/me/pin", people.my_pin), post(p + "/me/pin", people.set_my_pin),
        post(p + "/timezone", people.set_timezone),
        get(p + "/scan", board.scan_page), get(p + "/resolve", board.resolve_json),
        get(p + "/labels", board.labels),
        get(p + "/labels/{kind}/{ident}.png", board.label_png),
        get(p + "/device", auth.device_page), post(p + "/device", auth.device_register),
        post(p + "/device/pair", auth.device_pair),
        get("/pair/{code}", auth.pair_page), post("/pair/{code}", auth.pair_post),
        # custody
        get(p + "/intake", custody.intake), post(p + "/intake/lot", custody.intake_lot),
        post(p + "/intake/weapon", custody.intake_weapon),
        post(p + "/lots/{lot}/verify", custody.verify),
        get(p + "/weapons/{weapon}/inspect", custody.inspect_page),
        post(p + "/weapons/{weapon}/inspect", custody.inspect),
        get(p + "/inspections/{inspection}", custody.inspection_page),
        post(p + "/inspections/{inspection}/witness", custody.witness),
        post(p + "/weapons/{weapon}/issue", custody.issue),
        post(p + "/weapons/{weapon}/return", custody.return_weapon),
        post(p + "/weapons/{weapon}/store", custody.store),
        post(p + "/weapons/{weapon}/evidence", custody.evidence),
        post(p + "/weapons/{weapon}/dud", custody.record_dud),
        post(p + "/weapons/{weapon}/clean", custody.clean),
        post(p + "/weapons/{weapon}/function-check", custody.function_check),
        post(p + "/weapons/{weapon}/ground", custody.ground),
        post(p + "/weapons/{weapon}/repair", custody.repair),
        post(p + "/weapons/{weapon}/handoff", custody.handoff),
        # deliveries from vendors
        get(p + "/receipts", rental.receipts),
        get(p + "/receipts/{receipt}", rental.receipt_page),
        post(p + "/receipts/{receipt}/check", rental.check_line),
        post(p + "/receipts/{receipt}/extra", rental.extra),
        post(p + "/receipts/{receipt}/sign", rental.sign),
        # the day
        get(p + "/day", day.day_page), post(p + "/day/open", day.open_day),
        post(p + "/day/meal-break", day.meal_break), post(p + "/scenes", day.plan_scene),
        post(p + "/scenes/{scene}/acknowledge", day.acknowledge),
        post(p + "/meetings", day.meeting), post(p + "/briefings", day.briefing),
        get(p + "/wrap", day.wrap_page), post(p + "/wrap", day.wrap),
        post(p + "/backup", day.backup_now),
        # safety
        get(p + "/report", safety.report_page), post(p + "/report", safety.report),
        get(p + "/incidents", safety.incidents),
        get(p + "/incidents/{incident}", safety.incident_page),
        post(p + "/incidents/{incident}/close", safety.close_incident),
        get(p + "/complaints", safety.complaints), post(p + "/complaints", safety.file_complaint),
        post(p + "/complaints/{complaint}/acknowledge", safety.acknowledge_complaint),
        # complaints from crew without an account (issue 15, part 5)
        get(p + "/complaints/crew", crew.crew_page), post(p + "/complaints/crew", crew.crew_file),
        get(p + "/complaints/poster", crew.poster_page),
        post(p + "/complaints/poster", crew.poster_issue),
        post(p + "/complaints/poster/revoke", crew.poster_revoke),
        get("/complaint/{token}", crew.public_page), post("/complaint/{token}", crew.public_file),
        get(p + "/overrides", safety.overrides), post(p + "/overrides", safety.override),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def on_error(request: Request, exc: Exception) -> Response:
    """A ColdcheckError a view did not turn into its form's problem: sign in again,
    or the error page (a fragment for htmx)."""
    assert isinstance(exc, ColdcheckError)
    problem = Problem.from_error(exc)
    if problem.sign_in_again:
        target = "/signin?next=" + request.url.path + ("&expired=1" if problem.code ==
                                                       "SESSION_EXPIRED" else "")
        if _htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, 303)
    html = render_text("error.html", {"problem": problem, "page": None},
                       "content" if _htmx(request) else None)
    return HTMLResponse(html, status_code=problem.status)


def on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "NOT_FOUND", 405: "INVALID_INPUT"}.get(exc.status_code, "INVALID_INPUT")
    detail = ("There is no page at this address." if exc.status_code == 404
              else str(exc.detail))
    problem = Problem(code, "", detail, exc.status_code)
    return HTMLResponse(render_text("error.html", {"problem": problem, "page": None}),
                        status_code=exc.status_code)


def on_crash(request: Request, exc: Exception) -> Response:
    found = fault_of(exc)
    if found is not None:  # a full disk, a locked database: what to do, not a crash
        log.warning("%s in %s %s: %s", found.code, request.method, request.url.path, exc)
        return on_error(request, found)
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    problem = Problem("INTERNAL_ERROR", "The server failed.", "Nothing was shown; the details "
                      "are in the server log. Check the timeline before trying again.", 500)
    return HTMLResponse(render_text("error.html", {"problem": problem, "page": None}),
                        status_code=500)


def build_web(state: AppState) -> Starlette:
    """The web app on ``state``, the one the API shares (coldcheck.asgi)."""
    settings = state.settings
    app = Starlette(
        routes=routes(),
        middleware=[Middleware(WebHeaders, hsts=settings.tls_cert is not None),
                    Middleware(WebGuard, max_body=settings.max_body_bytes)],
        exception_handlers={ColdcheckError: on_error, HTTPException: on_http,
                            DBAPIError: on_crash, OSError: on_crash, Exception: on_crash})
    app.state.coldcheck = state
    return app
