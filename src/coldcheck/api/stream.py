"""Server-Sent Events of a production's ledger, resumable with Last-Event-ID.

Writers in this process wake the streams of their production at once (the
route that committed calls :meth:`Hub.notify`); events written by anyone else
(the CLI, another server process) are picked up by a poll of the production's
head once a second. Each stream sends ``id: <seq>``, ``event: <type>`` and the
event as JSON; a client that reconnects with ``Last-Event-ID: n`` gets every
event after seq ``n``, so nothing is missed or repeated.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Any

import anyio

from ..domain.errors import ColdcheckError
from ..services.hub import Hub
from ..services.problems import problem_body, status_of
from ..services.readmodel import ReadModel, event_json

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
RECHECK_SECONDS = 10.0
BATCH = 500


def frame(event: str, data: Any, ident: int | None = None) -> bytes:
    head = f"id: {ident}\n" if ident is not None else ""
    return (f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n").encode()


async def events(*, reads: ReadModel, hub: Hub, production: str, after: int,
                 max_events: int | None, timeout: float | None,
                 recheck: Callable[[], None]) -> AsyncIterator[bytes]:
    """The stream body. ``recheck`` re-authorises the caller (a revoked token or
    an expired session ends the stream with an ``error`` event)."""
    sent = 0
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    last_beat = last_check = loop.time()
    yield b"retry: 3000\n\n"
    with hub.subscribe(production) as wake:
        while True:
            wake.clear()
            rep = await anyio.to_thread.run_sync(reads.get, production)
            batch = rep.since(after, BATCH)
            for e in batch:
                yield frame(e.type, event_json(e), e.seq)
                after = e.seq
                sent += 1
                if max_events is not None and sent >= max_events:
                    return
            if len(batch) == BATCH:
                continue
            now = loop.time()
            if deadline is not None and now >= deadline:
                return
            if now - last_check >= RECHECK_SECONDS:
                last_check = now
                try:
                    await anyio.to_thread.run_sync(recheck)
                except ColdcheckError as err:
                    yield frame("error", problem_body(err.code, status_of(err.code, err.kind),
                                                      err.message))
                    return
            if now - last_beat >= KEEPALIVE_SECONDS:
                last_beat = now
                yield b": keepalive\n\n"
            wait = POLL_SECONDS if deadline is None else min(POLL_SECONDS, deadline - now)
            with suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=max(wait, 0.0))
