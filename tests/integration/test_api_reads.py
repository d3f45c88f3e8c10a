"""The API's read model answers exactly what the CLI's queries answer, on both
backends, including for events written behind its back; and migration 0002
builds exactly the access tables the code declares."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.migration import MigrationContext
from api_support import api_world
from sqlalchemy import inspect

from coldcheck.config import Settings
from coldcheck.persistence import tables as t
from coldcheck.persistence.store import Store
from coldcheck.services import queries as q
from coldcheck.services.readmodel import ReadModel

ACCESS_TABLES = {"accounts", "memberships", "sessions", "api_tokens", "devices",
                 "idempotency_keys", "auth_events"}


@pytest.fixture
def aw(store: Store, backend_settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(store, backend_settings, clock, production="reads-test") as aw:
        w = aw.world
        w.give("revolver", "alex", "cold")
        w.take_back("revolver", "alex")
        w.put_away("revolver")
        aw.post("ad", f"/weapons/{w.weapons['pistol']}/handoffs", {"to": w.people["rita"]})
        pos, _ = w.positions("revolver2")
        refused = aw.post("expired", f"/weapons/{w.weapons['revolver2']}/inspections",
                          {"positions": pos, "barrel_clear": True})
        assert refused.json()["code"] == "CUSTODY_QUALIFICATION_EXPIRED"  # action.refused
        aw.post("rita", "/incidents", {"kind": "misfire", "description": "click, no bang",
                                       "weapons": [w.weapons["pistol"]]})
        yield aw


def test_every_timeline_over_the_api_equals_the_clis_timeline(aw: Any) -> None:
    w = aw.world
    st = w.state()
    asked = 0
    for kind, ids in (("weapon", st.weapons), ("lot", st.lots), ("person", st.people)):
        for ident in ids:
            r = aw.get("investigator", "/timeline", **{kind: ident})
            assert r.status_code == 200, r.text
            assert r.json() == json.loads(json.dumps(q.timeline(w.ctx, **{kind: ident}))), \
                f"{kind} {ident}"
            asked += 1
    assert asked > 20


def test_the_board_over_the_api_equals_the_clis_status(aw: Any) -> None:
    at = aw.clock()
    rep = ReadModel(aw.world.store).get(aw.production)
    board = json.loads(rep.board_json(at, q.signed_size(aw.world.store, rep.state)))
    assert board == json.loads(json.dumps(q.status(aw.world.ctx, at)))
    r = aw.get("investigator", "/status").json()
    assert r["events"] == aw.world.seq() and len(r["weapons"]) == len(board["weapons"])
    assert {a["code"] for a in r["alerts"]} >= {"INCIDENT_OPEN", "CUSTODY_WEAPON_FROZEN"}


def test_events_written_behind_the_apis_back_are_seen_at_once(aw: Any) -> None:
    before = aw.get("investigator", "/status").json()["events"]
    aw.world.override("PEOPLE_ROLE_CONFLICT", f"person:{aw.person('props_armorer')}")
    after = aw.get("investigator", "/status").json()
    assert after["events"] == before + 1 == aw.world.seq()
    page = aw.get("investigator", "/events", after=before - 1).json()
    assert page["head"] == before + 1
    assert [e["type"] for e in page["events"]] == ["rule.overridden"]


def test_an_unknown_timeline_subject_is_404_and_no_subject_is_422(aw: Any) -> None:
    r = aw.get("investigator", "/timeline", weapon="W404")
    assert r.status_code == 404 and r.json()["what"] == "weapon"
    r = aw.get("investigator", "/timeline")
    assert r.status_code == 422 and r.json()["code"] == "INVALID_INPUT"


def test_the_ledger_routes_answer_what_the_ledger_service_answers(aw: Any) -> None:
    from coldcheck.services import ledger as L

    ctx = aw.world.ctx
    cp = aw.client.post(aw.url("/ledger/checkpoint"), headers=aw.h("investigator")).json()
    assert cp["tree_size"] == aw.world.seq()
    assert aw.get("investigator", "/ledger/checkpoint").json() == cp
    r = aw.get("investigator", "/ledger/entries/3")
    assert r.content == L.entry(ctx, 3)
    r = aw.get("investigator", "/ledger/proofs/inclusion", index=3)
    assert r.json() == L.inclusion_proof(ctx, 3)
    r = aw.get("investigator", "/ledger/proofs/consistency", old=2)
    assert r.json() == L.consistency_proof(ctx, 2)
    assert aw.get("investigator", "/ledger/entries/99999").status_code == 404


def test_migration_0002_builds_exactly_the_access_tables_of_the_code(store: Store) -> None:
    from alembic.autogenerate import compare_metadata

    store.migrate()
    assert set(inspect(store.engine).get_table_names()) >= ACCESS_TABLES
    with store.engine.connect() as c:
        diffs = compare_metadata(MigrationContext.configure(c), t.metadata)
    ours = [d for d in diffs if any(name in repr(d) for name in ACCESS_TABLES)]
    assert ours == [], ours


def test_the_sign_in_log_is_append_only_in_the_database(store: Store) -> None:
    from sqlalchemy.exc import DBAPIError

    from coldcheck.persistence import accounts as repo

    store.migrate()
    with store.engine.connect() as c:
        c.execution_options(coldcheck_write=True)
        with c.begin():
            repo.log_auth_event(c, at="2026-11-24T07:00:00.000000Z", type_="login.failed",
                                username="x")
    for stmt in (t.auth_events.update().values(username="y"), t.auth_events.delete()):
        with pytest.raises(DBAPIError), store.engine.connect() as c:
            c.execution_options(coldcheck_write=True)
            with c.begin():
                c.execute(stmt)


def test_a_database_made_before_the_api_is_migrated_when_the_server_starts(
        store: Store, backend_settings: Settings) -> None:
    from alembic import command
    from alembic.config import Config

    from coldcheck.asgi import create_app

    cfg = Config()
    cfg.set_main_option("script_location", "coldcheck.persistence:migrations")
    with store.engine.begin() as c:
        cfg.attributes["connection"] = c
        command.upgrade(cfg, "0001")
    assert "accounts" not in inspect(store.engine).get_table_names()
    create_app(backend_settings, store=store)
    assert set(inspect(store.engine).get_table_names()) >= ACCESS_TABLES


def test_the_api_board_says_when_no_signed_checkpoint_covers_an_incident(
        aw: Any, backend_settings: Settings) -> None:
    """The /status route reads the checkpoint size off the event loop (a worker
    thread on PostgreSQL, the loop's own connection on SQLite), and only until a
    checkpoint is known to cover the last incident."""
    import shutil

    from coldcheck.services import actions as a
    from coldcheck.services.ledger import key_path, sign_checkpoint

    def missing() -> list[str]:
        r = aw.get("investigator", "/status")
        assert r.status_code == 200, r.text
        return [a["subject"] for a in r.json()["alerts"] if a["code"] == "CHECKPOINT_MISSING"]

    assert missing() == []
    key = key_path(backend_settings.resolved_key_dir(), aw.production)
    shutil.move(key, key.with_suffix(".away"))
    w = aw.world
    ev = a.report_incident(w.ctx, kind="other", description="Cart lock found open",
                           weapons=[], lots=[], reported_by=w.people["supervisor"])
    assert missing() == [f"event:{ev[0].seq}"]
    shutil.move(key.with_suffix(".away"), key)
    sign_checkpoint(w.ctx, reason="on_demand", at=aw.clock())
    assert missing() == []
