"""The live event stream: Server-Sent Events, one per ledger event, id = seq,
resumable with Last-Event-ID, authorised like every other read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from api_support import api_world

from coldcheck.config import Settings
from coldcheck.persistence.store import Store


@pytest.fixture
def aw(sqlite_store: Store, settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(sqlite_store, settings, clock, production="sse-test") as aw:
        yield aw


def read_stream(aw: Any, key: str = "investigator", headers: dict[str, str] | None = None,
                **params: Any) -> tuple[int, str, list[dict[str, Any]]]:
    """(status, content type, frames) of a stream read to its end."""
    hdrs = {**aw.h(key, device=False), **(headers or {})}
    with aw.client.stream("GET", aw.url("/events/stream"), params=params,
                          headers=hdrs) as r:
        text = "".join(r.iter_text())
        frames = []
        for block in text.split("\n\n"):
            fields: dict[str, Any] = {}
            for line in block.splitlines():
                name, _, value = line.partition(": ")
                if name in ("id", "event", "data"):
                    fields[name] = value
            if "data" in fields:
                fields["data"] = json.loads(fields["data"])
                frames.append(fields)
        return r.status_code, r.headers["content-type"], frames


def test_the_stream_sends_each_event_with_its_seq_as_id_and_type_as_event(aw: Any) -> None:
    status, ctype, frames = read_stream(aw, after=-1, max_events=5)
    assert status == 200 and ctype.startswith("text/event-stream")
    assert [f["id"] for f in frames] == ["0", "1", "2", "3", "4"]
    assert frames[0]["event"] == "production.created"
    assert frames[0]["data"]["seq"] == 0 and frames[0]["data"]["type"] == "production.created"
    stored = aw.world.events_since(0)[:5]
    assert [f["data"]["payload"] for f in frames] == [dict(e.payload) for e in stored]


def test_a_client_resuming_with_last_event_id_gets_exactly_the_events_after_it(aw: Any) -> None:
    head = aw.world.seq()
    _, _, frames = read_stream(aw, headers={"Last-Event-ID": str(head - 3)}, timeout=0.3)
    assert [int(f["id"]) for f in frames] == [head - 2, head - 1]
    aw.post("alex", "/complaints", {"text": "the cart lock sticks"})
    _, _, again = read_stream(aw, headers={"Last-Event-ID": str(head - 1)}, timeout=0.3)
    assert [(int(f["id"]), f["event"]) for f in again] == [(head, "complaint.filed")]


def test_without_last_event_id_the_stream_starts_with_new_events_only(aw: Any) -> None:
    _, _, frames = read_stream(aw, timeout=0.3)
    assert frames == []


def test_events_written_by_someone_else_reach_the_stream(aw: Any) -> None:
    head = aw.world.seq()
    aw.world.witness(aw.world.inspect("revolver", scene="cold"), "alex")  # straight to services
    _, _, frames = read_stream(aw, after=head - 1, timeout=0.3)
    assert [f["event"] for f in frames] == ["weapon.inspected", "inspection.witnessed"]
    assert frames[1]["data"]["actor"] == aw.person("alex")


def test_a_non_member_cannot_stream_a_production(aw: Any) -> None:
    r = aw.client.get("/api/v1/productions/sse-test/events/stream",
                      headers={"Authorization": "Bearer cc_not-a-token"})
    assert r.status_code == 401
    r = aw.client.get("/api/v1/productions/some-other/events/stream",
                      headers=aw.h("investigator"))
    assert r.status_code == 404


def test_a_bad_last_event_id_is_refused(aw: Any) -> None:
    r = aw.client.get(aw.url("/events/stream"),
                      headers={**aw.h("investigator"), "Last-Event-ID": "yesterday"})
    assert r.status_code == 422 and r.json()["code"] == "INVALID_INPUT"


def test_a_revoked_token_ends_an_open_stream(aw: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from coldcheck.api import stream
    from coldcheck.services import accounts

    monkeypatch.setattr(stream, "RECHECK_SECONDS", 0.0)
    store = aw.world.store
    acc = accounts.account_of_username(store, "investigator")
    with aw.client.stream("GET", aw.url("/events/stream"), params={"timeout": 20},
                          headers=aw.h("investigator", device=False)) as r:
        chunks = r.iter_text()
        assert next(chunks).startswith("retry:")
        for tok in accounts.tokens(store, account_id=acc, production=aw.production):
            accounts.revoke_token(store, account_id=acc, production=aw.production,
                                  token_id=tok["id"], at=aw.clock())
        rest = "".join(chunks)
    assert "event: error" in rest and "TOKEN_REVOKED" in rest
