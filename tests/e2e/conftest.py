"""Browser fixtures: the real app (``coldcheck.asgi.create_app``: the API and the web app) served by
uvicorn in a thread on a free loopback port, on a private copy of the demo
database (fast argon2), driven by Playwright through Debian's chromium
(never ``playwright install``). Helpers live in web_support.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    IN_CI,
    TABLET,
    Served,
    Tablet,
    demo_copy,
    free_port,
)


@pytest.fixture
def web_settings() -> dict[str, Any]:
    """Settings the served app gets on top of the demo copy's; a test changes them
    with ``@pytest.mark.parametrize("web_settings", [{"timezone": "…"}])``."""
    return {}


@pytest.fixture
def web_server(tmp_path: Path, web_settings: dict[str, Any]) -> Iterator[Served]:
    """The whole app on the demo production, on http://127.0.0.1:<free port>."""
    import uvicorn

    from coldcheck.asgi import create_app
    from coldcheck.config import Settings

    settings = demo_copy(tmp_path / "db")
    if web_settings:  # validated like the environment's (an unknown zone fails here)
        settings = Settings(**{**settings.model_dump(), **web_settings})
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", settings, app)
    finally:
        server.should_exit = True
        thread.join(10)
        app.state.coldcheck.store.dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("/usr/bin/chromium is missing: scripts/test installs it with apt")
        pytest.skip("/usr/bin/chromium is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        pw.stop()


@pytest.fixture
def new_tablet(chromium: Any, web_server: Served) -> Iterator[Callable[..., Tablet]]:
    """Open a tablet (a fresh browser context) at a viewport size; console errors
    and CSP violations are collected in ``tablet.errors``."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None) -> Tablet:
        ctx = chromium.new_context(viewport=viewport or TABLET, base_url=web_server.url)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10_000)
        tab = Tablet(page, web_server.url)
        page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: tab.errors.append(str(e)))
        return tab

    yield make
    for ctx in contexts:
        ctx.close()


