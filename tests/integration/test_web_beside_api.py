"""The tablet web app beside the API, on the same services (no browser: Starlette's
TestClient on the composed app of coldcheck.asgi).

* A weapon issued from the tablet runs through no more of coldcheck's files than
  one issued over the API, and neither path runs the other app's code.
* A double tap (the same form, same key, while the first is still being
  recorded) waits for the first tap's answer and records nothing twice.
* A retried form gets the first answer, as the API's replay does.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from api_support import PASSWORD, ApiWorld, api_world

import coldcheck
from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.services import accounts, idempotency
from coldcheck.web.access import _canonical

SRC = str(Path(coldcheck.__file__).parent)


def web_sign_in(aw: ApiWorld, username: str = "armorer") -> str:
    """Sign the client in on the tablet app; put the registered device's key in
    its cookie. Returns the session's CSRF token."""
    c = aw.client
    c.get("/signin")
    r = c.post("/signin", data={"username": username, "password": PASSWORD,
                                "signin_token": c.cookies.get("coldcheck_signin") or "",
                                "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    c.cookies.set("coldcheck_device", aw.device_key, path=f"/p/{aw.production}/")
    return str(c.cookies.get("coldcheck_csrf"))


class Touched:
    """The coldcheck source files whose functions run while ``on``, in any thread
    started after it was installed (the TestClient's portal and workers)."""

    def __init__(self) -> None:
        self.on, self.seen = False, set[str]()

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if self.on and frame.f_code.co_filename.startswith(SRC):
            self.seen.add(frame.f_code.co_filename[len(SRC) + 1:])

    def run(self, fn: Any) -> tuple[Any, set[str]]:
        self.seen = set()
        self.on = True
        try:
            return fn(), set(self.seen)
        finally:
            self.on = False


@pytest.fixture
def touched() -> Iterator[Touched]:
    t = Touched()
    old = sys.getprofile()
    sys.setprofile(t)
    threading.setprofile(t)
    try:
        yield t
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
        sys.setprofile(old)


def test_a_tablet_issue_runs_no_more_files_than_an_api_issue_and_neither_crosses_over(
        touched: Touched, sqlite_store: Store, settings: Settings, clock: Any) -> None:
    with api_world(sqlite_store, settings, clock) as aw:
        w = aw.world
        weapon, body = w.weapons["revolver"], {"performer": w.people["alex"],
                                               "scene": w.scenes["cold"]}
        aw.ready("revolver", "alex", "cold")
        r, api = touched.run(lambda: aw.post("armorer", f"/weapons/{weapon}/issue", body,
                                             **{"Idempotency-Key": "api-1"}))
        assert r.status_code == 200, r.text
        r = aw.post("armorer", f"/weapons/{weapon}/return", {"performer": w.people["alex"]})
        assert r.status_code == 200, r.text
        aw.ready("revolver", "alex", "cold")
        csrf = web_sign_in(aw)
        r, web = touched.run(lambda: aw.client.post(
            f"/p/{aw.production}/weapons/{weapon}/issue",
            data={"csrf_token": csrf, "idem": "web-1", **body}, follow_redirects=False))
        assert r.status_code == 303 and "done=" in r.headers["location"], r.text
    assert "services/actions.py" in api and "services/actions.py" in web  # it measured
    assert not {f for f in web if f.startswith("api/")}, sorted(web)
    assert not {f for f in api if f.startswith("web/")}, sorted(api)
    assert len(web) <= len(api), (sorted(web - api), sorted(api - web))


@pytest.fixture
def aw(sqlite_store: Store, settings: Settings, clock: Any) -> Iterator[ApiWorld]:
    with api_world(sqlite_store, settings, clock) as aw:
        yield aw


def complaint(aw: ApiWorld, csrf: str, key: str) -> Any:
    return aw.client.post(f"/p/{aw.production}/complaints",
                          data={"csrf_token": csrf, "idem": key, "text": "cart unattended"},
                          follow_redirects=False)


def test_a_retried_form_gets_the_first_answer_and_records_once(aw: ApiWorld) -> None:
    csrf = web_sign_in(aw)
    head = aw.world.seq()
    first = complaint(aw, csrf, "tap-1")
    assert first.status_code == 303 and "again" not in first.headers["location"]
    again = complaint(aw, csrf, "tap-1")
    assert again.status_code == 303
    assert again.headers["location"] == first.headers["location"] + "&again=1"
    assert aw.world.types_since(head) == ["complaint.filed"]


def test_a_double_tap_waits_for_the_first_taps_answer(aw: ApiWorld) -> None:
    """The first tap's request holds the key (claimed, not answered yet) when the
    second arrives: the second waits, then answers with the first's answer."""
    csrf = web_sign_in(aw)
    state = aw.app.state.coldcheck
    account = accounts.account_of_username(aw.world.store, "armorer")
    path = f"/p/{aw.production}/complaints"
    form = [("csrf_token", csrf), ("idem", "tap-2"), ("text", "cart unattended")]
    fp = idempotency.fingerprint(state.secret, "POST", path, _canonical(form))
    kw: dict[str, Any] = {"production": aw.production, "account_id": account, "key": "tap-2"}
    assert idempotency.claim_key(aw.world.store, fingerprint=fp, at=state.clock(),
                                 keep_hours=24, **kw) is None  # the first tap, running
    answer = '{"events": [{"seq": 3, "type": "complaint.filed", "payload": {}}]}'

    def first_tap_ends() -> None:
        time.sleep(0.5)
        idempotency.complete_key(aw.world.store, status=200, body=answer, **kw)

    head = aw.world.seq()
    t = threading.Thread(target=first_tap_ends)
    t.start()
    started = time.monotonic()
    second = complaint(aw, csrf, "tap-2")
    t.join()
    assert time.monotonic() - started >= 0.4  # it waited
    assert second.status_code == 303, second.text
    assert second.headers["location"].endswith("done=3-3&again=1")
    assert aw.world.seq() == head  # the second tap recorded nothing
