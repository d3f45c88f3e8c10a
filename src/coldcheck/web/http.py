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
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..api.auth import ApiState
from . import present

TEMPLATES = Path(__file__).parent / "templates"
Form = ImmutableMultiDict[str, str]


@dataclass
class Req:
    """One web request: the Starlette request and its parsed form."""

    request: Request
    form: Form

    @property
    def api(self) -> ApiState:
        st: ApiState = self.request.app.state.coldcheck
        return st

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def now(self) -> datetime:
        return self.api.clock()

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
            api: ApiState = request.app.state.coldcheck
            try:
                body = await _read(request, api.settings.max_body_bytes)
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
