"""What `coldcheck serve` can print for a newcomer: the tablet address and the
demo sign-in names (no browser needed)."""

from __future__ import annotations

from pathlib import Path

from web_support import demo_copy

from coldcheck.persistence.store import Store
from coldcheck.services import accounts
from coldcheck.web import welcome


def test_the_welcome_names_the_address_and_every_demo_sign_in(tmp_path: Path) -> None:
    settings = demo_copy(tmp_path)
    store = Store(settings.database_url)
    try:
        text = welcome(store, "http://127.0.0.1:8000")
    finally:
        store.dispose()
    assert "http://127.0.0.1:8000/" in text
    for line in ("sam      Sam Reyes (armorer)", "dana     Dana Whitfield (first_ad)",
                 "alex     Alex Stone (performer)", accounts.DEMO_PASSWORD, "Alex 5566"):
        assert line in text, line


def test_the_welcome_of_a_database_without_the_demo_names_only_the_address(
        tmp_path: Path) -> None:
    store = Store(str(tmp_path / "empty.db"))
    try:
        store.migrate()
        text = welcome(store, "http://127.0.0.1:8000")
    finally:
        store.dispose()
    assert text.splitlines() == ["coldcheck tablet app: http://127.0.0.1:8000/  "
                                 "(open it in a browser)"]
