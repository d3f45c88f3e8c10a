"""ASGI middleware (plain ASGI, no per-request task overhead): a body size limit,
a JSON-only rule for request bodies, and a last-resort catch that turns any
unexpected exception into a 500 problem without a stack trace."""

from __future__ import annotations

from typing import ClassVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..services.faults import fault_of
from .problems import from_error, internal, log_unexpected, problem

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return bytes(v).decode("latin-1")
    return None


class Guard:
    """Outermost coldcheck middleware.

    * A declared ``Content-Length`` above the limit is refused with 413 before a
      byte of the body is read; a chunked body is counted as it streams in and
      refused the moment it passes the limit, before the app sees it.
    * A request body that is not JSON (``application/json`` or ``+json``) gets
      415: browsers cannot send JSON across sites without a CORS preflight,
      which this server never grants, so this is also a CSRF defence.
    * Any exception that escapes the app becomes a 500 problem; the traceback
      goes to the server log only.
    """

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        length = _header(scope, b"content-length")
        chunked = "chunked" in (_header(scope, b"transfer-encoding") or "").lower()
        if length is not None:
            if not length.isdigit():
                await problem("MALFORMED_JSON", 400, "bad Content-Length header", path)(
                    scope, receive, send)
                return
            if int(length) > self.max_body:
                await problem("BODY_TOO_LARGE", 413, f"the body is {length} bytes; this server "
                              f"accepts at most {self.max_body}", path,
                              headers={"Connection": "close"})(scope, receive, send)
                return
        has_body = chunked or (length is not None and int(length) > 0)
        if has_body and method in UNSAFE:
            ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            if not (ctype == "application/json" or ctype.endswith("+json")):
                await problem("UNSUPPORTED_MEDIA_TYPE", 415, "send the body as "
                              "application/json", path)(scope, receive, send)
                return
        if has_body:
            # Bodies are small (max_body, 64 KiB by default): read the whole body
            # here, bounded, so an oversized chunked body is refused before the
            # app sees any of it.
            chunks, seen = [], 0
            while True:
                msg = await receive()
                if msg["type"] != "http.request":
                    return  # the client went away
                chunk = msg.get("body", b"")
                seen += len(chunk)
                if seen > self.max_body:
                    await problem("BODY_TOO_LARGE", 413, f"the body passed the limit of "
                                  f"{self.max_body} bytes", path,
                                  headers={"Connection": "close"})(scope, receive, send)
                    return
                chunks.append(chunk)
                if not msg.get("more_body", False):
                    break
            body: bytes | None = b"".join(chunks)
            inner = receive

            async def replay() -> Message:
                nonlocal body
                if body is not None:
                    msg, body = {"type": "http.request", "body": body, "more_body": False}, None
                    return msg
                return await inner()

            receive = replay
        started = False

        async def tracked(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            found = fault_of(exc)
            if found is None:
                log_unexpected(exc, method, path)
            if not started:
                await (internal(path) if found is None else from_error(found, path))(
                    scope, receive, send)


class SecurityHeaders:
    """Headers every answer carries: no sniffing, no framing, no caching of
    custody data by shared caches, no referrer leaking production ids."""

    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store")]

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.extra = list(self.HEADERS)
        if hsts:
            self.extra.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                have = {k.lower() for k, _ in msg.get("headers", [])}
                msg["headers"] = list(msg.get("headers", [])) + [
                    (k, v) for k, v in self.extra if k not in have]
            await send(msg)

        await self.app(scope, receive, add)
