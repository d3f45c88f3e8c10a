"""`coldcheck restore`: a verified backup put back in place of the database, the
replaced database and the superseded checkpoint kept, and the restore, with what
it lost, recorded in the ledger and signed."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest
from demo_db import PRODUCTION, Attacker, demo_copy, verify
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.ledger import Checkpoint
from coldcheck.services import actions as a
from coldcheck.services import restore as restore_module
from coldcheck.services.backup import backup
from coldcheck.services.context import context
from coldcheck.services.ledger import held_checkpoint_path, sign_checkpoint, signer
from coldcheck.services.restore import database_lock, restore

runner = CliRunner()
EVENTS = "SELECT production_id, seq, entry FROM events ORDER BY production_id, seq"


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    return demo_copy(tmp_path / "demo")


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    c = sqlite3.connect(path)
    try:
        return list(c.execute(sql))
    finally:
        c.close()


def size_of(note: str) -> int:
    return Checkpoint.parse(note[:note.index("\n\n") + 1]).size


def grow(settings: Settings, notes: int = 2) -> str:
    """Record ``notes`` more entries and sign them; return the kept checkpoint."""
    ctx = context(settings, None)
    try:
        for i in range(notes):
            a.add_note(ctx, text=f"after the backup {i}", refers_to=0, actor="P1")
        sign_checkpoint(ctx, reason="wrap", at=ctx.now(None))
    finally:
        ctx.store.dispose()
    return held_checkpoint_path(settings, PRODUCTION).read_text()


def snapshot(settings: Settings) -> dict[str, bytes]:
    """Every file of the database's folder and of the key folder."""
    out = {}
    for folder in {Path(settings.database_url).parent, settings.resolved_key_dir()}:
        for p in sorted(folder.iterdir()):
            # -shm is an index SQLite rebuilds; .lock is empty; an empty -wal
            # appears when SQLite opens the database to read it.
            if p.is_file() and not p.name.endswith(("-shm", ".lock")) and not (
                    p.name.endswith("-wal") and p.stat().st_size == 0):
                out[str(p)] = p.read_bytes()
    return out


def test_a_restore_keeps_what_it_replaces_and_records_what_was_lost(
        demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    copy_bytes = copy.read_bytes()
    before = grow(demo, 2)  # two entries the backup does not hold, signed
    assert size_of(before) == 97
    live = Path(demo.database_url)
    live_events = rows(live, EVENTS)

    r = restore(demo, copy, reason="the cart's disk reports errors", decided_by="Dana, producer")

    # The backup is evidence: read, never written.
    assert copy.read_bytes() == copy_bytes
    # The replaced database is kept, whole, beside the restored one.
    assert r.replaced is not None and Path(r.replaced).name.startswith("coldcheck.db.replaced-")
    assert rows(Path(r.replaced), EVENTS) == live_events
    # The restored ledger is the backup's, then the restore event, then a signature.
    got = rows(live, EVENTS)
    assert got[:95] == rows(copy, EVENTS) and len(got) == 96
    raw = got[95][2]
    assert isinstance(raw, bytes)
    entry = json.loads(raw)
    assert entry["type"] == "ledger.restored" and entry["actor"] == "system"
    assert entry["payload"] == {
        "backup_sha256": hashlib.sha256(copy_bytes).hexdigest(), "entries": 95,
        "replaced_entries": 97, "superseded_checkpoint": before,
        "reason": "the cart's disk reports errors", "decided_by": "Dana, producer"}
    [p] = r.productions
    assert (p.entries, p.replaced_entries, p.superseded, p.lost, p.checkpoint) == \
        (95, 97, 97, 2, 96)
    # The superseded checkpoint is kept aside, as signed; the kept one is the new one.
    assert p.kept_aside is not None and Path(p.kept_aside).read_text() == before
    now = held_checkpoint_path(demo, PRODUCTION).read_text()
    assert size_of(now) == 96
    assert {f.name for f in live.parent.iterdir() if "replaced" in f.name} <= \
        {Path(r.replaced).name, Path(r.replaced).name + "-wal"}
    # It verifies, with the key file and the new kept checkpoint.
    rep = verify(demo)
    assert rep.ok and rep.verified_size == 96, rep.failures
    # The checkpoint signed before the restore (a printed report, say) no longer
    # verifies, and the finding names the restore.
    rep = verify(demo, checkpoints=[("printed.txt", before)])
    assert not rep.ok
    f = rep.first
    assert f is not None and f.code == "LEDGER_TRUNCATED"
    assert "restore from a backup at entry 95" in f.message
    # The set goes on: actions are recorded and signed over the restored ledger.
    assert size_of(grow(demo, 1)) == 97
    assert verify(demo).ok


def test_without_the_restore_command_nothing_is_signed_over_the_older_copy(
        demo: Settings, tmp_path: Path) -> None:
    """What the restore command is for: pointing the server at the backup by hand
    leaves the kept checkpoint ahead of it, and signing is refused."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 1)
    there = demo.model_copy(update={"database_url": str(copy)})
    ctx = context(there, None)
    try:
        a.add_note(ctx, text="on the copy", refers_to=0, actor="P1")
        with pytest.raises(ColdcheckError) as err:
            sign_checkpoint(ctx, reason="wrap", at=ctx.now(None))
    finally:
        ctx.store.dispose()
    assert err.value.code == "LEDGER_DIVERGED"


def test_a_backup_that_does_not_verify_changes_nothing(demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    with Attacker(copy) as x:
        k = x.seq_of("weapon.issued")
        x.set_entry(k, x.entry(k).replace(b'"performer":"P6"', b'"performer":"P7"', 1))
    grow(demo, 1)
    files = snapshot(demo)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_REFUSED"
    assert f"at entry {k}: LEDGER_ENTRY_ALTERED" in err.value.message
    assert snapshot(demo) == files


def test_a_copy_of_another_history_signed_with_the_key_is_refused(
        demo: Settings, tmp_path: Path) -> None:
    """A backup rewritten and re-signed with the genuine key verifies on its own;
    the checkpoint this server kept vouches for other entries at that size."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    ctx = context(demo, None)
    key = signer(ctx)
    ctx.store.dispose()
    with Attacker(copy) as x:
        k = x.seq_of("weapon.issued")
        x.set_entry(k, x.entry(k).replace(b'"performer":"P6"', b'"performer":"P7"', 1))
        x.rewrite_hashes()
        x.resign(key)
    assert verify(demo.model_copy(update={"database_url": str(copy)}), use_kept=False).ok
    files = snapshot(demo)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "LEDGER_DIVERGED"
    assert snapshot(demo) == files


def test_a_backup_without_a_production_of_the_database_is_refused(
        demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    from coldcheck.persistence.store import Store

    store = Store(demo.database_url)
    try:
        a.init_production(store=store, settings=demo, production="second-unit", name="B unit")
    finally:
        store.dispose()
    files = snapshot(demo)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_REFUSED" and "second-unit" in err.value.message
    assert snapshot(demo) == files


def test_never_under_a_running_server(demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    live = Path(demo.database_url)
    with database_lock(live, exclusive=False):  # what `serve` holds while it runs
        files = snapshot(demo)
        with pytest.raises(ColdcheckError) as err:
            restore(demo, copy, reason="disk", decided_by="Dana")
        assert err.value.code == "DATABASE_BUSY" and "stop it" in err.value.message
        assert snapshot(demo) == files
    # And the server does not start while a restore holds the database.
    with database_lock(live, exclusive=True), pytest.raises(ColdcheckError) as err, \
            database_lock(live, exclusive=False):
        pass
    assert err.value.code == "DATABASE_BUSY"


def test_serve_holds_the_lock_for_as_long_as_it_runs(
        demo: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from coldcheck.api import server

    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    seen: list[str] = []

    def running(*args: object, **kw: object) -> None:
        try:
            restore(demo, copy, reason="disk", decided_by="Dana")
        except ColdcheckError as e:
            seen.append(e.code)

    monkeypatch.setattr(uvicorn, "run", running)
    server.serve(demo, host="127.0.0.1", port=8999)
    assert seen == ["DATABASE_BUSY"]
    # Once it has stopped, the restore goes ahead.
    assert restore(demo, copy, reason="disk", decided_by="Dana").productions[0].entries == 95


def test_a_database_too_damaged_to_read_is_kept_and_the_restore_says_so(
        demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 1)
    live = Path(demo.database_url)
    Path(f"{live}-wal").unlink(missing_ok=True)
    live.write_bytes(b"\x00" * 4096)  # the dead disk
    r = restore(demo, copy, reason="disk died", decided_by="Dana")
    assert r.replaced is not None and Path(r.replaced).read_bytes() == b"\x00" * 4096
    [p] = r.productions
    assert p.replaced_entries is None and p.superseded == 96 and p.lost == 1
    assert verify(demo).ok


def test_a_restore_cut_short_is_finished_by_running_it_again(
        demo: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    before = grow(demo, 1)

    def crash(*args: object, **kw: object) -> None:
        raise KeyboardInterrupt  # the power goes after the swap, before the event

    with monkeypatch.context() as m:
        m.setattr(restore_module, "_record", crash)
        with pytest.raises(KeyboardInterrupt):
            restore(demo, copy, reason="disk", decided_by="Dana")
    # The copy is in place without its event; nothing signs over it meanwhile.
    assert len(rows(Path(demo.database_url), EVENTS)) == 95
    assert held_checkpoint_path(demo, PRODUCTION).read_text() == before
    r = restore(demo, copy, reason="disk", decided_by="Dana")
    [p] = r.productions
    assert (p.superseded, p.checkpoint) == (96, 96) and verify(demo).ok
    replaced = sorted(f.name for f in Path(demo.database_url).parent.iterdir()
                      if f.name.startswith("coldcheck.db.replaced-") and "-wal" not in f.name)
    assert len(replaced) == 2  # both replaced databases are kept


def test_refusals_before_anything_is_touched(demo: Settings, tmp_path: Path) -> None:
    live = Path(demo.database_url)
    for target, code in ((live, "INVALID_INPUT"), (tmp_path / "absent.db", "INVALID_INPUT"),
                         (tmp_path, "INVALID_INPUT")):
        with pytest.raises(ColdcheckError) as err:
            restore(demo, target, reason="disk", decided_by="Dana")
        assert err.value.code == code
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    files = snapshot(demo)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, junk, reason="disk", decided_by="Dana")
    assert err.value.code == "DATABASE_UNREADABLE" and snapshot(demo) == files
    with pytest.raises(ColdcheckError) as err:
        restore(demo, junk, reason="  ", decided_by="Dana")
    assert err.value.code == "INVALID_INPUT"
    pg = demo.model_copy(update={"database_url": "postgresql+psycopg://localhost/x"})
    with pytest.raises(ColdcheckError) as err:
        restore(pg, junk, reason="disk", decided_by="Dana")
    assert err.value.code == "BACKUP_UNSUPPORTED"


def test_the_cli_restores_and_says_what_was_lost(demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 2)
    env = {"COLDCHECK_KEY_DIR": str(demo.resolved_key_dir()),
           "COLDCHECK_ARGON2_PROFILE": "fast-insecure-for-tests"}
    res = runner.invoke(app, ["restore", str(copy), "--db", demo.database_url, "--reason",
                              "disk errors", "--by", "Dana, producer"], env=env)
    assert res.exit_code == 0, res.output
    assert "2 entries recorded after the backup not in the restored ledger" in res.output
    assert "the restore is entry 95" in res.output and "kept as" in res.output
    res = runner.invoke(app, ["restore", str(copy), "--db", demo.database_url, "--reason",
                              "x", "--by", "y", "--json"], env=env)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["productions"][0]["lost"] == 1  # the first restore event
    with Attacker(copy) as x:
        x.flip(3, 10)
    res = runner.invoke(app, ["restore", str(copy), "--db", demo.database_url, "--reason",
                              "x", "--by", "y"], env=env)
    assert res.exit_code == 4 and "RESTORE_REFUSED" in res.output
    assert os.path.exists(demo.database_url)
