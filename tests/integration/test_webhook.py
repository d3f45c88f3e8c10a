"""The production's alert webhook (issue 15 part 3), on SQLite and PostgreSQL.

The producer sets a URL and a secret; an incident opened, a weapon overdue and
a complaint unacknowledged for 24 hours are posted to it, signed, by
``services.webhook.deliver`` (the serve thread, or ``coldcheck webhook
deliver``). A local receiver (http.server on 127.0.0.1) that fails the first
posts gets the alert once delivered, after retries with backoff, with the same
idempotency id and body each time. A dead receiver (a closed port) shows on the
board as WEBHOOK_FAILING and never blocks a custody action: the custody path
never calls the network at all."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from api_support import PASSWORD, ApiWorld, api_world

from coldcheck.config import Settings
from coldcheck.persistence import tables as t
from coldcheck.persistence.store import Store
from coldcheck.security import hasher
from coldcheck.services import accounts
from coldcheck.services import actions as a
from coldcheck.services import webhook as hook

SECRET = "test-secret-0123456789abcdef"


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers 500 to the first ``fail``
    posts, then 200; it keeps every post (headers and body)."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.posts: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append((dict(self.headers), body))
                code = 500 if len(outer.posts) <= outer.fail else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/coldcheck"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail=2)
    yield r
    r.close()


@pytest.fixture
def dead_url() -> str:
    """A port on 127.0.0.1 nothing listens on: connections are refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture
def aw(store: Store, backend_settings: Settings, clock: Any) -> Iterator[ApiWorld]:
    with api_world(store, backend_settings, clock, production="hook-test") as aw:
        yield aw


def later(aw: ApiWorld, **delta: float) -> datetime:
    """A time after everything recorded so far (the world's clock and the API's)."""
    return max(aw.world.ctx.now(), aw.clock.t) + timedelta(**delta)


def set_hook(aw: ApiWorld, url: str) -> Any:
    r = aw.post("producer", "/webhook", {"url": url, "secret": SECRET})
    assert r.status_code == 200, r.text
    return r


def open_incident(aw: ApiWorld) -> str:
    w = aw.world
    ev = a.report_incident(w.ctx, kind="other", description="Muzzle swept the video village",
                           weapons=[], lots=[], reported_by=w.people["ad"])
    return str(ev[0].payload["incident"])


def rows(aw: ApiWorld) -> list[dict[str, Any]]:
    return hook.deliveries(aw.world.store, aw.production)


def alert_codes(aw: ApiWorld) -> dict[str, str]:
    r = aw.get("producer", "/status")
    assert r.status_code == 200, r.text
    return {x["code"]: x["message"] for x in r.json()["alerts"]}


def web_sign_in(aw: ApiWorld, username: str) -> None:
    c = aw.client
    c.cookies.clear()
    c.get("/signin")
    r = c.post("/signin", data={"username": username, "password": PASSWORD,
                                "signin_token": c.cookies.get("coldcheck_signin") or "",
                                "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    c.cookies.set("coldcheck_device", aw.device_key, path=f"/p/{aw.production}/")


# ---- setting it ------------------------------------------------------------------
def test_the_producer_sets_it_and_the_secret_is_only_a_fingerprint_in_the_record(
        aw: ApiWorld, receiver: Receiver) -> None:
    r = set_hook(aw, receiver.url)
    (e,) = r.json()["events"]
    assert e["type"] == "production.webhook_set"
    assert e["payload"] == {"url": receiver.url, "previous_url": None,
                            "secret_fingerprint": hook.secret_fingerprint(SECRET)}
    assert SECRET not in r.text
    store = aw.world.store
    with store.engine.connect() as c:
        entries = [bytes(x) for x in c.execute(t.events.select().with_only_columns(
            t.events.c.entry)).scalars()]
        kept = c.execute(t.webhooks.select()).all()
    assert not any(SECRET.encode() in x for x in entries)
    assert [k.secret for k in kept] == ["plain:" + SECRET]  # no master key here
    for path in ("/events", "/status"):
        assert SECRET not in aw.get("producer", path).text
    # Set again, it names the URL it replaces.
    r = aw.post("producer", "/webhook", {"url": receiver.url + "2", "secret": SECRET + "x"})
    assert r.json()["events"][0]["payload"]["previous_url"] == receiver.url
    assert store.state(aw.production).webhook["url"] == receiver.url + "2"


@pytest.mark.parametrize("who", ["armorer", "supervisor", "ad", "alex", "investigator"])
def test_anyone_but_the_producer_is_forbidden_and_nothing_is_recorded(
        aw: ApiWorld, receiver: Receiver, who: str) -> None:
    before = aw.world.store.head(aw.production)
    r = aw.post(who, "/webhook", {"url": receiver.url, "secret": SECRET})
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "ACTION_FORBIDDEN"
    set_hook(aw, receiver.url)
    r = aw.client.delete(aw.url("/webhook"), headers=aw.h(who))
    assert r.status_code == 403, r.text
    assert aw.world.store.head(aw.production) == before + 1
    assert aw.world.store.state(aw.production).webhook is not None


def test_a_non_member_gets_404(aw: ApiWorld, store: Store, backend_settings: Settings,
                               receiver: Receiver) -> None:
    ctx = a.init_production(store=store, settings=backend_settings, production="elsewhere",
                            name="Elsewhere", at=aw.clock())
    ev = a.add_person(ctx, name="Olga Out", roles=["producer"], badge="OUT-1", pin="1234",
                      at=aw.clock())
    accounts.add_member(store, ph=hasher(backend_settings.argon2_profile),
                        production="elsewhere", person=ev[0].payload["person"],
                        username="outsider", password="outsider-password")
    token, _ = accounts.create_token(
        store, account_id=accounts.account_of_username(store, "outsider"),
        production="elsewhere", name="t", hours=48, max_hours=48, at=aw.clock())
    before = store.head(aw.production)
    r = aw.client.post(aw.url("/webhook"), json={"url": receiver.url, "secret": SECRET},
                       headers={"Authorization": f"Bearer {token}",
                                "X-Coldcheck-Device": aw.device_key})
    assert r.status_code == 404, r.text
    assert store.head(aw.production) == before


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "http://",
                                 "https://user:pw@example.com/x", "example.com/hook"])
def test_a_url_that_is_not_plain_http_or_https_is_refused(aw: ApiWorld, url: str) -> None:
    before = aw.world.store.head(aw.production)
    r = aw.post("producer", "/webhook", {"url": url, "secret": SECRET})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "INVALID_INPUT"
    assert aw.world.store.head(aw.production) == before


# ---- delivering ---------------------------------------------------------------------
def test_an_incident_is_delivered_once_after_retries_signed_with_a_stable_id(
        aw: ApiWorld, receiver: Receiver) -> None:
    set_hook(aw, receiver.url)
    incident = open_incident(aw)
    store = aw.world.store
    t0 = later(aw)

    # First try: the receiver answers 500. The board says so, with the next try.
    assert hook.deliver(store, at=t0)["hook-test"] == {"queued": 1, "delivered": 0,
                                                        "failed": 1}
    (row,) = rows(aw)
    assert row["alert_id"] == f"incident.opened:{incident}" and row["attempts"] == 1
    assert row["last_error"].startswith("HTTP 500") and row["delivered_at"] is None
    codes = alert_codes(aw)
    assert "HTTP 500" in codes["WEBHOOK_FAILING"] and receiver.url in codes["WEBHOOK_FAILING"]

    # Backoff: nothing is posted before the next try is due (30 s, then 60 s).
    assert hook.deliver(store, at=t0 + timedelta(seconds=10))["hook-test"]["failed"] == 0
    assert len(receiver.posts) == 1
    assert hook.deliver(store, at=t0 + timedelta(seconds=31))["hook-test"]["failed"] == 1
    assert hook.deliver(store, at=t0 + timedelta(seconds=60))["hook-test"]["failed"] == 0
    assert len(receiver.posts) == 2
    assert hook.deliver(store, at=t0 + timedelta(seconds=92))["hook-test"]["delivered"] == 1
    assert len(receiver.posts) == 3

    # Delivered: never posted again, and the board is clear of it.
    assert hook.deliver(store, at=t0 + timedelta(hours=2))["hook-test"] == {
        "queued": 0, "delivered": 0, "failed": 0}
    assert len(receiver.posts) == 3
    (row,) = rows(aw)
    assert row["attempts"] == 3 and row["delivered_at"] is not None
    assert "WEBHOOK_FAILING" not in alert_codes(aw)

    # Every attempt: the same id and body, signed under the secret.
    ids = {h[hook.ID_HEADER] for h, _ in receiver.posts}
    bodies = {b for _, b in receiver.posts}
    assert ids == {f"incident.opened:{incident}"} and len(bodies) == 1
    for h, b in receiver.posts:
        assert hook.verify_signature(SECRET, h[hook.SIGNATURE_HEADER], b)
        assert not hook.verify_signature("another-secret-entirely", h[hook.SIGNATURE_HEADER], b)
        assert h["Content-Type"] == "application/json"
    body = json.loads(bodies.pop())
    assert body["id"] == f"incident.opened:{incident}" and body["kind"] == "incident_opened"
    assert body["subject"] == f"incident:{incident}" and body["production"] == "hook-test"
    assert "video village" in body["message"]


def test_overdue_weapons_and_complaints_unacknowledged_for_24_hours(
        aw: ApiWorld) -> None:
    good = Receiver()
    try:
        set_hook(aw, good.url)
        w = aw.world
        w.give("revolver", "alex", "cold")
        ev = a.file_complaint(w.ctx, by=w.people["rita"], text="Nobody checked the revolver")
        complaint = ev[0].payload["complaint"]
        st = w.store.state(aw.production)
        weapon = st.weapons[w.weapons["revolver"]]
        issued = datetime.fromisoformat(weapon.issued_at.replace("Z", "+00:00"))
        filed = datetime.fromisoformat(st.complaints[complaint].filed_at.replace("Z", "+00:00"))

        # Not yet overdue, the complaint not 24 hours old: nothing to post.
        assert hook.deliver(w.store, at=issued + timedelta(minutes=5))["hook-test"][
            "queued"] == 0
        hook.deliver(w.store, at=issued + timedelta(minutes=31))
        assert [r["kind"] for r in rows(aw)] == ["weapon_overdue"]
        hook.deliver(w.store, at=filed + timedelta(hours=24, seconds=1))
        kinds = sorted((r["kind"], r["delivered_at"] is not None) for r in rows(aw))
        assert kinds == [("complaint_unacknowledged", True), ("weapon_overdue", True)]
        assert {h[hook.ID_HEADER] for h, _ in good.posts} == {
            f"weapon.overdue:{weapon.id}:{weapon.issued_at}",
            f"complaint.unacknowledged:{complaint}"}
        # Still overdue, still unacknowledged: each was posted once.
        hook.deliver(w.store, at=filed + timedelta(hours=30))
        assert len(good.posts) == 2
    finally:
        good.close()


def test_a_dead_receiver_shows_on_the_board_and_never_blocks_custody(
        aw: ApiWorld, dead_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    set_hook(aw, dead_url)
    w = aw.world
    open_incident(aw)
    t0 = later(aw)
    hook.deliver(w.store, at=t0)
    (row,) = rows(aw)
    assert row["last_error"] == "connection refused" and row["attempts"] == 1
    failing = alert_codes(aw)["WEBHOOK_FAILING"]
    assert "connection refused" in failing and "next try" in failing
    # The tablet's board says it too.
    web_sign_in(aw, "armorer")
    page = aw.client.get(f"/p/{aw.production}/")
    assert page.status_code == 200
    assert "WEBHOOK_FAILING" in page.text and "connection refused" in page.text

    # Custody with the receiver dead: the custody path never posts anything.
    calls: list[str] = []

    def no_network(url: str, body: bytes, headers: dict[str, str]) -> None:
        calls.append(url)
        raise AssertionError("a custody action called the webhook")

    monkeypatch.setattr(hook, "http_post", no_network)
    ins = w.inspect("revolver")
    w.witness(ins, "alex", "ad")
    issued = w.issue("revolver", "alex", "cold")
    assert issued[-1].type == "weapon.issued"
    r = aw.post("armorer", f"/weapons/{w.weapons['revolver']}/return",
                {"performer": w.people["alex"], "fired": 0})
    assert r.status_code == 200, r.text
    assert [e["type"] for e in r.json()["events"]][-1] == "weapon.returned"
    assert calls == []
    assert rows(aw)[0]["attempts"] == 1  # nothing tried meanwhile

    # The next round tries again, and fails again: the board still says so.
    monkeypatch.undo()
    hook.deliver(w.store, at=t0 + timedelta(minutes=5))
    assert rows(aw)[0]["attempts"] == 2
    assert "WEBHOOK_FAILING" in alert_codes(aw)


def test_clearing_the_webhook_stops_delivery(aw: ApiWorld, dead_url: str) -> None:
    set_hook(aw, dead_url)
    open_incident(aw)
    open_incident(aw)
    t0 = later(aw)
    # Unreachable: the first post fails and the second waits for the next round.
    assert hook.deliver(aw.world.store, at=t0)["hook-test"] == {
        "queued": 2, "delivered": 0, "failed": 1}
    assert alert_codes(aw)["WEBHOOK_FAILING"].startswith("2 alerts not delivered")

    r = aw.client.delete(aw.url("/webhook"), headers=aw.h("producer"))
    assert r.status_code == 200, r.text
    (e,) = r.json()["events"]
    assert e["type"] == "production.webhook_cleared" and e["payload"] == {"url": dead_url}
    assert hook.deliver(aw.world.store, at=t0 + timedelta(hours=1)) == {}
    assert rows(aw) == []
    assert "WEBHOOK_FAILING" not in alert_codes(aw)
    with aw.world.store.engine.connect() as c:
        assert c.execute(t.webhooks.select()).all() == []
    # Nothing to clear twice.
    r = aw.client.delete(aw.url("/webhook"), headers=aw.h("producer"))
    assert r.status_code == 422 and r.json()["code"] == "INVALID_INPUT"


def test_the_serve_thread_delivers_on_its_own(aw: ApiWorld, backend_settings: Settings) -> None:
    good = Receiver()
    worker = hook.Worker(backend_settings, every=0.05)
    try:
        set_hook(aw, good.url)
        open_incident(aw)
        worker.start()
        done = threading.Event()
        for _ in range(200):  # a bound, not a timing assertion
            if good.posts:
                done.set()
                break
            done.wait(0.05)
        assert done.is_set(), "the worker posted nothing"
    finally:
        worker.stop()
        good.close()
    (row,) = rows(aw)
    assert row["delivered_at"] is not None


def test_with_a_master_key_the_secret_is_kept_sealed(
        aw: ApiWorld, backend_settings: Settings, tmp_path: Any) -> None:
    from coldcheck.ledger.keys import generate_master_key_file

    master = tmp_path / "master.key"
    generate_master_key_file(master)
    sealed_settings = backend_settings.model_copy(update={"master_key_file": master})
    ctx = aw.world.ctx
    ctx.settings = sealed_settings
    good = Receiver()
    try:
        hook.set_webhook(ctx, url=good.url, secret=SECRET, actor=aw.person("producer"))
        with aw.world.store.engine.connect() as c:
            (kept,) = c.execute(t.webhooks.select().with_only_columns(
                t.webhooks.c.secret)).scalars()
        assert kept.startswith("sealed:") and SECRET not in kept
        open_incident(aw)
        t0 = later(aw)
        # Without the master key the posts are neither signed nor sent: the board says why.
        hook.deliver(aw.world.store, backend_settings, at=t0)
        assert good.posts == []
        assert "sealed" in rows(aw)[0]["last_error"]
        assert "COLDCHECK_MASTER_KEY_FILE" in alert_codes(aw)["WEBHOOK_FAILING"]
        # With it, the post goes out signed under the secret the producer set.
        hook.deliver(aw.world.store, sealed_settings, at=t0 + timedelta(minutes=5))
        ((h, b),) = good.posts
        assert hook.verify_signature(SECRET, h[hook.SIGNATURE_HEADER], b)
    finally:
        good.close()


def test_migration_0008_builds_exactly_the_webhook_tables_of_the_code(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store.migrate()
    with store.engine.connect() as c:
        diffs = compare_metadata(MigrationContext.configure(c), t.metadata)
    ours = [d for d in diffs if "webhook" in repr(d)]
    assert ours == [], ours


def test_ledger_verify_catches_a_webhook_secret_replaced_outside_coldcheck(
        aw: ApiWorld, receiver: Receiver) -> None:
    from coldcheck.services.context import context
    from coldcheck.services.verify import verify_ledger
    from coldcheck.services.vouch import CODE

    set_hook(aw, receiver.url)
    store, settings = aw.world.store, aw.world.ctx.settings

    def caught() -> list[str]:
        r = verify_ledger(context(settings, aw.production, store=store))
        return [f.subject for f in r.failures if f.code == CODE]

    assert caught() == []
    with store.engine.begin() as c:  # someone's own secret slipped in by hand
        c.execute(t.webhooks.update().values(secret="plain:attacker-secret-123456"))
    assert caught() == ["production:hook-test"]
    with store.engine.begin() as c:
        c.execute(t.webhooks.delete())
    assert caught() == ["production:hook-test"]
