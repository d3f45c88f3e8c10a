"""Waking the live streams of a production when this process appends to it.

Whoever records events (the API, the tablet web app) calls :meth:`Hub.notify`
after the write; the event stream (api/stream.py) subscribes. Events written by
anyone else (the CLI, another server process) are picked up by the stream's
own poll of the production's head.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class Hub:
    """Wakes the streams of a production when this process appends to it."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._lock = threading.Lock()

    def notify(self, production: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(production, ()))
        for loop, ev in waiters:
            with suppress(RuntimeError):  # the loop closed under us
                loop.call_soon_threadsafe(ev.set)

    @contextmanager
    def subscribe(self, production: str) -> Iterator[asyncio.Event]:
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(production, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._waiters.get(production, set()).discard(entry)

    def listeners(self, production: str) -> int:
        with self._lock:
            return len(self._waiters.get(production, ()))
