"""Support for the browser tests, imported by conftest.py (the fixtures) and by
the tests: the demo database copied per test, the tablet wrapper, constants.

The browser is Debian's /usr/bin/chromium (scripts/test installs it with apt;
never ``playwright install``). Screenshots go to tests/e2e/screenshots/
(git-ignored, kept as CI artifacts).
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import socket
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coldcheck.config import Settings
from coldcheck.demo import DEMO_PEOPLE, DEMO_PRODUCTION, run_demo
from coldcheck.persistence.store import Store
from coldcheck.services import accounts

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
HERE = Path(__file__).parent
SHOTS = HERE / "screenshots"
AXE = HERE / "vendor" / "axe.min.js"
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = accounts.DEMO_PASSWORD
PROD = DEMO_PRODUCTION
TABLET = {"width": 768, "height": 1024}
LANDSCAPE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PINS = {p["name"].split()[0].lower(): p["pin"] for p in DEMO_PEOPLE}
_template: Path | None = None


def _settings(folder: Path) -> Settings:
    return Settings(database_url=str(folder / "coldcheck.db"), key_dir=folder / "keys",
                    argon2_profile="fast-insecure-for-tests", device="pytest")


def _demo_template() -> Path:
    """The demo day with one account per person, built once per test session."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="coldcheck-web-demo-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        s = _settings(folder)
        store = Store(s.database_url)
        try:
            run_demo(store, s)
            accounts.create_demo_accounts(store, s, production=PROD)
        finally:
            store.dispose()
        _template = folder
    return _template


def demo_copy(dest: Path) -> Settings:
    src = _demo_template()
    dest.mkdir(parents=True, exist_ok=True)
    a = sqlite3.connect(src / "coldcheck.db")
    b = sqlite3.connect(dest / "coldcheck.db")
    with a, b:
        a.backup(b)
    a.close()
    b.close()
    shutil.copytree(src / "keys", dest / "keys")
    return _settings(dest)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    settings: Settings
    app: Any


@dataclass
class Tablet:
    """One browser context (one tablet) on the served app."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def url(self, path: str) -> str:
        return f"/p/{PROD}/{path}"

    def open(self, path: str) -> Any:
        """A page of the demo production."""
        return self.go(self.url(path))

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.go("/signin")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(re.compile(r".*/productions$"))

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").first.click()
        self.page.wait_for_url(re.compile(r".*/signin$"))

    def register(self, name: str = "Armory cart tablet") -> None:
        self.open("device")
        self.page.get_by_label("Name (where it lives)").fill(name)
        self.page.get_by_role("button", name="Register this tablet").click()
        self.page.wait_for_url(re.compile(r".*registered=dev-"))

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the current page."""
        self.page.evaluate(AXE.read_text() + "\n;0")
        result = self.page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""")
        return [v for v in result if v["impact"] in ("serious", "critical")]


def page_errors(tab: Tablet) -> list[str]:
    """Console errors that are not the expected HTTP refusals (4xx answers)."""
    return [e for e in tab.errors
            if not re.search(r"status of (4\d\d)", e) and "EventSource" not in e]


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1)
