"""Migration 0004 rebuilds SQLite's ``ledger_hashes`` as a ``WITHOUT ROWID`` table.

A ledger written before the migration must come out of it exactly as it went
in: every stored hash the same, still append-only in the database, still
verifying, and still growing. A migration that fails half-way must leave the
old table as it was.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from store_checks import PRODUCTION, T0, new_production, row_counts, stored_entries, stored_hashes

from coldcheck.config import Settings
from coldcheck.domain.events import NewEvent
from coldcheck.ledger import build_stored_hashes, leaf_hashes
from coldcheck.persistence.store import Store
from coldcheck.services import ledger as ledger_service
from coldcheck.services.context import context
from coldcheck.services.verify import verify_ledger


def upgrade(store: Store, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", "coldcheck.persistence:migrations")
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", "coldcheck.persistence:migrations")
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None and head >= "0004"
    return head


HEAD = _head()  # the newest migration: upgrading from 0003 runs 0004 and what follows


def revision(db: Path) -> str:
    with sqlite3.connect(db) as c:
        return str(c.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def table_sql(db: Path) -> str:
    with sqlite3.connect(db) as c:
        return str(c.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                             "name = 'ledger_hashes'").fetchone()[0])


def notes(store: Store, person: str, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        with store.write(PRODUCTION) as tx:
            tx.append([NewEvent("note.added", {"text": f"note {i}", "refers_to": 0})],
                      actor=person, device="pytest", at=T0)


@pytest.fixture
def ledger_at_0003(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, str]:
    """A SQLite database at revision 0003 holding a production with 40 events and
    a signed checkpoint, written by today's code (only the table layout differs,
    and, as before migration 0007, no timeline index is written)."""
    store = Store(settings.database_url)
    monkeypatch.setattr(Store, "migrate", lambda self: upgrade(self, "0003"))
    monkeypatch.setattr("coldcheck.persistence.store.subjects", lambda e: set())
    ctx, person = new_production(store, settings)
    notes(store, person, 37)
    ledger_service.sign_checkpoint(ctx, reason="manual", at=T0)
    monkeypatch.undo()
    return store, person


def db_path(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite:///"))


def test_every_stored_hash_comes_through_and_the_ledger_still_verifies(
        ledger_at_0003: tuple[Store, str], settings: Settings) -> None:
    store, person = ledger_at_0003
    db = db_path(settings)
    assert revision(db) == "0003" and "WITHOUT ROWID" not in table_sql(db)
    before_hashes, before_counts = stored_hashes(store), row_counts(store)
    before_entries = stored_entries(store)

    store.migrate()

    assert revision(db) == HEAD and "WITHOUT ROWID" in table_sql(db)
    assert stored_hashes(store) == before_hashes
    assert row_counts(store) == before_counts
    assert stored_entries(store) == before_entries
    # The stored hashes are still those of the entries, and the ledger verifies.
    want = build_stored_hashes(leaf_hashes(e for _, e in before_entries))
    assert [h for _, h in before_hashes] == want
    ctx = context(settings, PRODUCTION, store=store)
    report = verify_ledger(ctx)
    assert report.ok, report
    # It keeps growing, and verifies again with a new checkpoint.
    notes(store, person, 9, first=37)
    ledger_service.sign_checkpoint(ctx, reason="manual", at=T0)
    entries = stored_entries(store)
    assert [h for _, h in stored_hashes(store)] == build_stored_hashes(
        leaf_hashes(e for _, e in entries))
    assert verify_ledger(ctx).ok


def test_the_new_table_is_append_only_in_the_database(
        ledger_at_0003: tuple[Store, str], settings: Settings) -> None:
    store, _ = ledger_at_0003
    store.migrate()
    store.dispose()
    with sqlite3.connect(db_path(settings)) as c:
        triggers = {r[0] for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_hashes'")}
        assert triggers == {"ledger_hashes_no_update", "ledger_hashes_no_delete"}
        for stmt in ("UPDATE ledger_hashes SET hash = zeroblob(32) WHERE idx = 3",
                     "DELETE FROM ledger_hashes WHERE idx = 3"):
            with pytest.raises(sqlite3.IntegrityError, match="ledger_hashes is append-only"):
                c.execute(stmt)


def test_a_migration_that_fails_half_way_leaves_the_old_table_as_it_was(
        ledger_at_0003: tuple[Store, str], settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The worst moment: the hashes copied and the old table dropped, the new one
    not yet renamed. The migration's one transaction must bring the old back."""
    from alembic import op

    store, _ = ledger_at_0003
    before = stored_hashes(store)
    run = op.execute

    def crash_at_rename(sql: object, *args: object, **kw: object) -> object:
        if str(sql).startswith("ALTER TABLE ledger_hashes_new RENAME"):
            raise RuntimeError("power cut")
        return run(sql, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(op, "execute", crash_at_rename)
    with pytest.raises(RuntimeError, match="power cut"):
        store.migrate()
    monkeypatch.undo()
    db = db_path(settings)
    assert revision(db) == "0003" and "WITHOUT ROWID" not in table_sql(db)
    assert stored_hashes(store) == before
    with sqlite3.connect(db) as c:
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
    assert "ledger_hashes_new" not in names
    assert {"ledger_hashes_no_update", "ledger_hashes_no_delete"} <= names
    store.migrate()
    assert revision(db) == HEAD and stored_hashes(store) == before


def test_coldcheck_migrate_upgrades_an_existing_database_and_says_what_it_did(
        ledger_at_0003: tuple[Store, str], settings: Settings, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from coldcheck.cli import app

    monkeypatch.delenv("COLDCHECK_DATABASE_URL", raising=False)
    store, _ = ledger_at_0003
    before = stored_hashes(store)
    store.dispose()
    db = str(db_path(settings))
    runner = CliRunner()
    r = runner.invoke(app, ["migrate", "--db", db])
    assert r.exit_code == 0, r.output
    assert f"schema migrated from 0003 to {HEAD}" in r.output
    assert "WITHOUT ROWID" in table_sql(Path(db)) and stored_hashes(store) == before
    r = runner.invoke(app, ["migrate", "--db", db, "--json"])
    assert r.exit_code == 0 and json.loads(r.output) == {"from": HEAD, "to": HEAD}
    # A file that holds no coldcheck data is not given a schema by migrate.
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    r = runner.invoke(app, ["migrate", "--db", str(empty), "--json"])
    assert r.exit_code == 2 and json.loads(r.output)["error"]["code"] == "NOT_INITIALISED"
    with sqlite3.connect(empty) as c:
        assert c.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    # A mistyped path is not created.
    typo = tmp_path / "typo.db"
    r = runner.invoke(app, ["migrate", "--db", str(typo), "--json"])
    assert r.exit_code == 2 and json.loads(r.output)["error"]["code"] == "NOT_INITIALISED"
    assert not typo.exists()
    # A file that is not a database, as JSON, not a traceback.
    junk = tmp_path / "notes.txt"
    junk.write_text("call sheet, day 3\n" * 400)
    for cmd in (["migrate"], ["status"]):
        r = runner.invoke(app, [*cmd, "--db", str(junk), "--json"])
        assert r.exit_code == 2, r.output
        assert json.loads(r.output)["error"]["code"] == "DATABASE_UNREADABLE"


def test_a_database_from_a_newer_coldcheck_is_refused_and_left_alone(
        ledger_at_0003: tuple[Store, str], settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from coldcheck.cli import app

    monkeypatch.delenv("COLDCHECK_DATABASE_URL", raising=False)
    store, _ = ledger_at_0003
    store.dispose()
    db = db_path(settings)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE alembic_version SET version_num = '0099'")
    r = CliRunner().invoke(app, ["migrate", "--db", str(db), "--json"])
    assert r.exit_code == 2, r.output
    error = json.loads(r.output)["error"]
    assert error["code"] == "SCHEMA_NEWER" and "0099" in error["message"]
    assert revision(db) == "0099" and "WITHOUT ROWID" not in table_sql(db)


def test_migrate_waits_for_a_running_servers_commit_instead_of_failing(
        ledger_at_0003: tuple[Store, str], settings: Settings) -> None:
    """Review: the migration began as a reader; a server committing meanwhile
    made its snapshot stale and SQLite refused its first write at once
    ("database is locked"). It now takes the write lock first and waits."""
    import threading
    import time

    store, _ = ledger_at_0003
    store.dispose()
    db = db_path(settings)
    server = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    server.execute("BEGIN IMMEDIATE")
    server.execute("INSERT INTO auth_events (at, type, detail) VALUES "
                   "('2026-11-24T07:00:00.000000Z', 'login.failed', 'a server at work')")
    outcome: list[BaseException | None] = []

    def migrate() -> None:
        try:
            Store(settings.database_url).migrate()
            outcome.append(None)
        except BaseException as e:  # reported by the assertion below
            outcome.append(e)

    t = threading.Thread(target=migrate)
    t.start()
    time.sleep(0.5)  # the migration is waiting on the lock (or, before, had read)
    server.execute("COMMIT")
    server.close()
    t.join(60)
    assert outcome == [None]
    assert revision(db) == HEAD and "WITHOUT ROWID" in table_sql(db)
