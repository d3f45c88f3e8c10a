"""`coldcheck restore`: a verified backup put back in place of the database, the
replaced database and the superseded checkpoint kept, and the restore, with what
it lost, recorded in the ledger and signed."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from demo_db import PRODUCTION, Attacker, demo_copy, verify
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.ledger import Checkpoint
from coldcheck.persistence.filelock import DatabaseLock
from coldcheck.services import actions as a
from coldcheck.services import queries as q
from coldcheck.services import restore as restore_module
from coldcheck.services.backup import backup
from coldcheck.services.context import context
from coldcheck.services.ledger import held_checkpoint_path, sign_checkpoint, signer
from coldcheck.services.restore import restore

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


def drop_triggers(path: Path) -> None:
    db = sqlite3.connect(path)
    try:
        for (name,) in list(db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")):
            db.execute(f'DROP TRIGGER "{name}"')
        db.commit()
    finally:
        db.close()


def size_of(note: str) -> int:
    return Checkpoint.parse(note[:note.index("\n\n") + 1]).size


def grow(settings: Settings, notes: int = 2, production: str | None = None) -> str:
    """Record ``notes`` more entries and sign them; return the kept checkpoint."""
    ctx = context(settings, production)
    try:
        for i in range(notes):
            a.add_note(ctx, text=f"after the backup {i}", refers_to=0, actor="P1")
        sign_checkpoint(ctx, reason="wrap", at=ctx.now(None))
    finally:
        ctx.store.dispose()
    return held_checkpoint_path(settings, PRODUCTION).read_text()


def dead_disk(settings: Settings) -> Path:
    """The database file as a dead disk leaves it: zeros, no -wal."""
    live = Path(settings.database_url)
    Path(f"{live}-wal").unlink(missing_ok=True)
    live.write_bytes(b"\x00" * 4096)
    return live


def second_unit(settings: Settings) -> None:
    """A second production in the same database (and key folder)."""
    from coldcheck.persistence.store import Store

    store = Store(settings.database_url)
    try:
        a.init_production(store=store, settings=settings, production="second-unit",
                          name="B unit")
    finally:
        store.dispose()


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
        "proven_entries": 95, "replaced_entries": 97, "superseded_checkpoint": before,
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
    second_unit(demo)
    files = snapshot(demo)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_REFUSED" and "second-unit" in err.value.message
    assert snapshot(demo) == files


def test_never_under_a_running_server(demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    live = Path(demo.database_url)
    with DatabaseLock(live, exclusive=False):  # what `serve` holds while it runs
        files = snapshot(demo)
        with pytest.raises(ColdcheckError) as err:
            restore(demo, copy, reason="disk", decided_by="Dana")
        assert err.value.code == "DATABASE_BUSY" and "stop it" in err.value.message
        assert snapshot(demo) == files
    # And the server does not start while a restore holds the database.
    with DatabaseLock(live, exclusive=True), pytest.raises(ColdcheckError) as err, \
            DatabaseLock(live, exclusive=False):
        pass
    assert err.value.code == "DATABASE_BUSY"


def test_serve_holds_the_lock_for_as_long_as_it_runs(
        demo: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from coldcheck import server

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
    gc.collect()  # the app's store, which holds the lock too, is gone with it
    # Once it has stopped, the restore goes ahead.
    assert restore(demo, copy, reason="disk", decided_by="Dana").productions[0].entries == 95


def test_a_database_too_damaged_to_read_is_kept_and_the_restore_says_so(
        demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 1)
    dead_disk(demo)
    with pytest.raises(ColdcheckError) as err:  # nothing left to prove the copy by
        restore(demo, copy, reason="disk died", decided_by="Dana")
    assert err.value.code == "RESTORE_UNPROVEN"
    r = restore(demo, copy, reason="disk died", decided_by="Dana", accept_unproven=True)
    assert r.replaced is not None and Path(r.replaced).read_bytes() == b"\x00" * 4096
    [p] = r.productions
    assert p.replaced_entries is None and p.superseded == 96 and p.lost == 1
    assert p.proven == 0
    assert verify(demo).ok


def test_a_restore_killed_before_the_swap_leaves_nothing_signable(
        demo: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Third review: the kept checkpoint was set aside before the new one
    existed, so a restore that stopped there left the database with no guard
    outside it, and a rewrite was signed. Now the new checkpoint is signed
    over the checked copy and kept before the swap: killed in between, the old
    database no longer matches it, and nothing is signed over it."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 1)

    def killed(*args: object, **kw: object) -> None:
        raise KeyboardInterrupt  # the power goes just before the swap

    with monkeypatch.context() as m:
        m.setattr(restore_module, "_swap", killed)
        m.setattr(restore_module, "_unkeep", lambda done: None)  # no chance to undo
        with pytest.raises(KeyboardInterrupt):
            restore(demo, copy, reason="disk", decided_by="Dana")
    assert size_of(held_checkpoint_path(demo, PRODUCTION).read_text()) == 96  # the copy's
    # Someone rewrites the old database and drops its checkpoints: refused.
    with Attacker(Path(demo.database_url)) as x:
        x.set_entry(3, x.entry(3).replace(b'"', b'"', 1) + b" ")
        x.rewrite_hashes()
        x.sql("DELETE FROM checkpoints")
    ctx = context(demo, None)
    try:
        a.add_note(ctx, text="after", refers_to=0, actor="P1")
        with pytest.raises(ColdcheckError) as err:
            sign_checkpoint(ctx, reason="on_demand", at=ctx.now(None))
    finally:
        ctx.store.dispose()
    assert err.value.code == "LEDGER_DIVERGED"


def test_a_failed_swap_puts_the_checkpoint_back(
        demo: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    before = grow(demo, 1)
    files = snapshot(demo)

    def full(*args: object, **kw: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(restore_module, "_swap", full)
        with pytest.raises(OSError):
            restore(demo, copy, reason="disk", decided_by="Dana")
    assert held_checkpoint_path(demo, PRODUCTION).read_text() == before
    assert snapshot(demo) == files


def test_an_abandoned_history_is_not_brought_back_unproven(
        demo: Settings, tmp_path: Path) -> None:
    """Second review: the database an earlier restore replaced is signed too;
    with the live database damaged it passed for a backup, and the key signed a
    fork."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 2)
    first = restore(demo, copy, reason="disk", decided_by="Dana")
    grow(demo, 2)
    assert first.replaced is not None
    old = tmp_path / "abandoned.db"
    mid_day_copy(demo.model_copy(update={"database_url": first.replaced}), old)
    dead_disk(demo)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, old, reason="disk", decided_by="Mallory")
    assert err.value.code == "RESTORE_UNPROVEN"


def test_no_kept_checkpoint_the_backups_own_signatures_prove_what_they_cover(
        demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "midday.db"
    record(demo, 2)  # 95, 96 unsigned
    mid_day_copy(demo, copy)
    held_checkpoint_path(demo, PRODUCTION).unlink()  # a key folder from before kept files
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_UNPROVEN" and "entries 95..96" in err.value.message
    [p] = restore(demo, copy, reason="disk", decided_by="Dana",
                  accept_unproven=True).productions
    assert (p.entries, p.proven) == (97, 95)


def test_a_lock_file_that_is_not_ours_stops_us_rather_than_being_skipped(
        demo: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Second review: an unopenable .lock (another user's, mode 0600) was
    skipped, and a restore then ran under a store that had the database open.
    Only a lock file that cannot be created (read-only media) goes without."""
    from coldcheck.persistence import filelock
    from coldcheck.persistence.store import Store

    lock = filelock.lock_path(Path(demo.database_url))
    lock.touch()
    real_open = os.open

    def not_ours(path: object, flags: int, *args: object) -> int:
        if Path(str(path)) == lock:
            if not lock.exists() and not flags & os.O_CREAT:
                raise FileNotFoundError(2, "No such file or directory", str(path))
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", not_ours)
    with pytest.raises(ColdcheckError) as err:
        Store(demo.database_url)
    assert err.value.code == "DATABASE_UNREADABLE" and "same user" in err.value.message
    # A lock file that is not there and cannot be made: going without.
    lock.unlink()
    Store(demo.database_url).dispose()
    assert not lock.exists()


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


def mid_day_copy(settings: Settings, target: Path) -> None:
    """A copy of the database as it is, taken without signing first (an older
    coldcheck, or entries recorded between the signature and the copy)."""
    src, dst = sqlite3.connect(settings.database_url), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()


def record(settings: Settings, notes: int) -> None:
    ctx = context(settings, None)
    try:
        for i in range(notes):
            a.add_note(ctx, text=f"unsigned {i}", refers_to=0, actor="P1")
    finally:
        ctx.store.dispose()


def test_an_unsigned_tail_is_restored_only_when_something_vouches_for_it(
        demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "midday.db"
    record(demo, 3)  # entries 95..97, not signed yet
    mid_day_copy(demo, copy)
    assert size_of(grow(demo, 2)) == 100
    # The replaced database proves the copy's 98 entries are a prefix of what
    # the last checkpoint (100) signed: a consistency proof, checked.
    r = restore(demo, copy, reason="disk", decided_by="Dana")
    [p] = r.productions
    assert (p.entries, p.proven, p.superseded, p.lost) == (98, 98, 100, 2)
    assert verify(demo).ok


def test_a_forged_unsigned_tail_is_never_signed(demo: Settings, tmp_path: Path) -> None:
    """Review: an edited entry after the backup's last checkpoint, hashes
    recomputed, verified on its own and was signed by the genuine key."""
    copy = tmp_path / "midday.db"
    record(demo, 3)
    mid_day_copy(demo, copy)
    grow(demo, 2)
    with Attacker(copy) as x:
        x.set_entry(96, x.entry(96).replace(b"unsigned 1", b"FORGED!!!!", 1))
        x.rewrite_hashes()
    assert verify(demo.model_copy(update={"database_url": str(copy)}), use_kept=False).ok
    files = snapshot(demo)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "LEDGER_DIVERGED" and "not a prefix" in err.value.message
    assert snapshot(demo) == files
    # With the replaced database dead, nothing shows the copy is an earlier
    # state of what was last signed: refused unless accepted by name, and then
    # recorded as not proven.
    live = dead_disk(demo)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_UNPROVEN" and "could show" in err.value.message
    assert live.read_bytes() == b"\x00" * 4096
    r = restore(demo, copy, reason="disk", decided_by="Dana", accept_unproven=True)
    [p] = r.productions
    assert (p.entries, p.proven, p.replaced_entries) == (98, 0, None)
    raw = rows(live, "SELECT entry FROM events WHERE seq = 98")[0][0]
    assert isinstance(raw, bytes) and json.loads(raw)["payload"]["proven_entries"] == 0


def test_commits_still_in_the_wal_stay_with_the_replaced_database(
        demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    # A server killed with commits in its -wal, not yet in the database file.
    code = ("import os, sys; sys.path[:0] = sys.argv[1:2]\n"
            "from demo_db import settings_for\n"
            "from pathlib import Path\n"
            "from coldcheck.services import actions as a\n"
            "from coldcheck.services.context import context\n"
            "ctx = context(settings_for(Path(sys.argv[2])), None)\n"
            "for i in range(3): a.add_note(ctx, text='in the wal', refers_to=0, actor='P1')\n"
            "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent),
                    str(Path(demo.database_url).parent)], check=True)
    live = Path(demo.database_url)
    assert Path(f"{live}-wal").stat().st_size > 0
    r = restore(demo, copy, reason="disk", decided_by="Dana")
    assert r.replaced is not None
    assert len(rows(Path(r.replaced), EVENTS)) == 98  # the three commits kept
    assert r.productions[0].replaced_entries == 98 and r.productions[0].lost == 3
    assert not Path(f"{live}-wal").exists() or rows(live, "SELECT count(*) FROM events") == \
        [(96,)]


def test_a_wal_without_its_database_is_never_replayed_into_the_copy(
        demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    live = Path(demo.database_url)
    # A restore cut short between its renames: the database moved aside, its
    # -wal not yet.
    os.rename(live, f"{live}.replaced-earlier")
    Path(f"{live}-wal").write_bytes(b"wal of the database moved aside")
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_REFUSED" and "cut short" in err.value.message
    assert not live.exists()  # refused before a file was made
    # A -wal with no database and nothing moved aside: refused too.
    os.rename(f"{live}.replaced-earlier", tmp_path / "elsewhere.db")
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_REFUSED" and "without its database" in err.value.message
    assert not live.exists()
    Path(f"{live}-wal").unlink()
    r = restore(demo, copy, reason="disk", decided_by="Dana")
    assert r.replaced is None and r.productions[0].replaced_entries is None  # unknown
    assert verify(demo).ok


def test_a_backup_in_use_is_refused(demo: Settings, tmp_path: Path) -> None:
    """Review: the -wal beside a backup was read in, so the digest recorded was
    not that of what was restored."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    Path(f"{copy}-wal").write_bytes(b"x" * 100)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_REFUSED" and "-wal is beside the backup" in \
        err.value.message


def test_any_open_store_holds_the_restore_off(demo: Settings, tmp_path: Path) -> None:
    """Review: a command that had the database open went on recording into the
    replaced file. Every store on the file holds the lock while it is open."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    ctx = context(demo, None)  # a CLI command, mid-way
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "DATABASE_BUSY"
    ctx.store.dispose()
    assert restore(demo, copy, reason="disk", decided_by="Dana").productions[0].lost == 0


def test_through_a_link_the_real_file_is_replaced_and_kept(
        demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 1)
    real = Path(demo.database_url)
    link = tmp_path / "link.db"
    link.symlink_to(real)
    linked = demo.model_copy(update={"database_url": str(link)})
    r = restore(linked, copy, reason="disk", decided_by="Dana")
    assert r.database == str(real) and link.is_symlink()
    assert r.replaced is not None and Path(r.replaced).parent == real.parent
    assert len(rows(Path(r.replaced), EVENTS)) == 96 and verify(linked).ok


def test_verify_names_only_a_signed_restore_that_explains_the_finding(
        demo: Settings, tmp_path: Path) -> None:
    """Review: any ledger.restored before the checkpoint's size was cited, an
    unsigned forged one too."""
    before = grow(demo, 2)  # the producer's printed checkpoint, size 97
    with Attacker(Path(demo.database_url)) as x:
        x.truncate(95)
        forged = (b'{"actor":"system","at":"2026-11-24T23:00:00.000000Z","device":"pytest",'
                  b'"payload":{"backup_sha256":"00","decided_by":"x","entries":95,'
                  b'"reason":"x","replaced_entries":97,"superseded_checkpoint":null,'
                  b'"vouched_entries":95},"production":"' + PRODUCTION.encode() +
                  b'","seq":95,"type":"ledger.restored"}')
        x.sql("INSERT INTO events (production_id, seq, type, at, actor, device, entry) "
              "VALUES (?, 95, 'ledger.restored', '2026-11-24T23:00:00.000000Z', 'system', "
              "'pytest', ?)", PRODUCTION, forged)
        x.sql("UPDATE productions SET head = 96 WHERE id = ?", PRODUCTION)
        x.sql("DELETE FROM checkpoints WHERE tree_size > 95")  # else they hide the held one
        x.rewrite_hashes()
    rep = verify(demo, checkpoints=[("printed.txt", before)], use_kept=False)
    failures = [f for f in rep.failures if f.subject.startswith("printed.txt") or
                f.details.get("source") == "printed.txt"]
    assert failures and all("restore" not in f.message for f in failures), failures


def test_the_board_and_that_days_report_say_the_ledger_was_restored(
        demo: Settings, tmp_path: Path) -> None:
    from datetime import timedelta

    from coldcheck.domain.events import parse_utc
    from coldcheck.domain.production import alerts

    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 2)
    restore(demo, copy, reason="disk", decided_by="Dana")
    ctx = context(demo, None)
    try:
        state = ctx.store.state(PRODUCTION)
    finally:
        ctx.store.dispose()
    assert state.restored is not None
    when = parse_utc(state.restored[1])
    said = [x for x in alerts(state, when + timedelta(hours=23)) if x["code"] == "LEDGER_RESTORED"]
    assert len(said) == 1 and said[0]["subject"] == "event:95"
    assert "2 entries recorded after entry 94 before the restore are not in this ledger" in \
        said[0]["message"]
    assert not [x for x in alerts(state, when + timedelta(days=1, seconds=1))
                if x["code"] == "LEDGER_RESTORED"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root restores for another user")
def test_a_restore_run_as_root_leaves_everything_to_the_servers_user(
        demo: Settings, tmp_path: Path) -> None:
    """Second review: a root restore left the kept checkpoint root-owned 0600,
    and the server's user could sign nothing after it."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 1)
    live, keys = Path(demo.database_url), demo.resolved_key_dir()
    user = (65534, 65534)
    for p in (live, keys, *keys.iterdir()):
        os.chown(p, *user)
    live.chmod(0o640)
    restore(demo, copy, reason="disk", decided_by="Dana")
    for p in (live, held_checkpoint_path(demo, PRODUCTION), Path(f"{live}.lock")):
        st = p.stat()
        assert (st.st_uid, st.st_gid) == user, p
    assert live.stat().st_mode & 0o777 == 0o640  # the mode of the file it replaced


def test_verify_tells_a_backup_copy_from_a_cut_ledger(demo: Settings, tmp_path: Path) -> None:
    """A backup checked on the server where the live ledger signed past it:
    against the kept checkpoint it is behind by design (said so), and
    --backup checks it as `coldcheck backup` does."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 1)
    env = {"COLDCHECK_KEY_DIR": str(demo.resolved_key_dir()),
           "COLDCHECK_ARGON2_PROFILE": "fast-insecure-for-tests"}
    # Fifth review: checking a backup changed it (WAL mode, a .lock beside it).
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    res = runner.invoke(app, ["ledger", "verify", "--db", str(copy), "--backup"], env=env)
    assert res.exit_code == 0, res.output
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("wrap")) == \
        ["wrap.db"]
    there = demo.model_copy(update={"database_url": str(copy)})
    rep = verify(there)
    f = rep.first
    assert f is not None and f.code == "LEDGER_TRUNCATED" and "--backup" in f.message
    env = {"COLDCHECK_KEY_DIR": str(demo.resolved_key_dir()),
           "COLDCHECK_ARGON2_PROFILE": "fast-insecure-for-tests"}
    res = runner.invoke(app, ["ledger", "verify", "--db", str(copy)], env=env)
    assert res.exit_code == 5, res.output
    res = runner.invoke(app, ["ledger", "verify", "--db", str(copy), "--backup"], env=env)
    assert res.exit_code == 0, res.output
    # A cut ledger named by a held checkpoint (a printed report) gets no such hint.
    rep = verify(there, checkpoints=[("printed.txt", held_checkpoint_path(
        demo, PRODUCTION).read_text())], use_kept=False)
    assert rep.first is not None and "--backup" not in rep.first.message


def test_a_refused_restore_where_no_database_is_creates_none(
        demo: Settings, tmp_path: Path) -> None:
    """Second review: proving the copy against a database that was not there
    created an empty one, which a refused restore left behind."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 1)
    live = Path(demo.database_url)
    for p in (live, Path(f"{live}-wal"), Path(f"{live}-shm")):
        p.unlink(missing_ok=True)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_UNPROVEN" and not live.exists()


def test_a_database_whose_hashes_are_damaged_still_proves_the_backup(
        demo: Settings, tmp_path: Path) -> None:
    """Third review: a damaged stored hash in the database being replaced (the
    very case restore is for) made every restore LEDGER_DIVERGED. Its entries,
    hashed again, are what proves the backup."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 2)
    with Attacker(Path(demo.database_url)) as x:
        x.sql("UPDATE ledger_hashes SET hash = ? WHERE production_id = ? AND idx = 157",
              bytes(32), PRODUCTION)
    assert not verify(demo).ok
    [p] = restore(demo, copy, reason="hash damage", decided_by="Dana").productions
    assert (p.entries, p.proven, p.lost) == (95, 95, 2) and verify(demo).ok


def test_a_database_whose_entries_are_damaged_cannot_prove_it(
        demo: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    grow(demo, 2)
    with Attacker(Path(demo.database_url)) as x:
        x.flip(50, 20)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="damage", decided_by="Dana")
    assert err.value.code == "RESTORE_UNPROVEN"
    [p] = restore(demo, copy, reason="damage", decided_by="Dana",
                  accept_unproven=True).productions
    assert (p.entries, p.proven) == (95, 0) and verify(demo).ok


def default_layout(tmp_path: Path, demo: Settings, name: str = "set.db") -> Settings:
    """The demo as a set cart keeps it: <db> and <db>.keys beside it, no
    COLDCHECK_KEY_DIR."""
    import shutil

    db = tmp_path / "cart" / name
    db.parent.mkdir()
    mid_day_copy(demo, db)
    shutil.copytree(demo.resolved_key_dir(), Path(f"{db}.keys"))
    return demo.model_copy(update={"database_url": str(db), "key_dir": None})


def test_the_default_key_folder_is_the_servers(demo: Settings, tmp_path: Path) -> None:
    """Fourth review: the temporary copy's settings worked the key folder out
    from its own name, so with the default layout every restore failed."""
    cart = default_layout(tmp_path, demo)
    copy = tmp_path / "wrap.db"
    assert backup(cart, copy).ok
    grow(cart, 1)
    res = runner.invoke(app, ["restore", str(copy), "--db", cart.database_url, "--reason",
                              "disk", "--by", "Dana"],
                        env={"COLDCHECK_ARGON2_PROFILE": "fast-insecure-for-tests"})
    assert res.exit_code == 0, res.output
    assert size_of(Path(f"{cart.database_url}.keys/{PRODUCTION}.last-checkpoint")
                   .read_text()) == 96
    assert verify(cart).ok


def test_through_a_link_the_key_folder_is_the_links(demo: Settings, tmp_path: Path) -> None:
    """Fourth review: through a link, the key folder was worked out from the
    file's real name, where no kept checkpoint is: an abandoned history passed."""
    cart = default_layout(tmp_path, demo, "real.db")
    link = tmp_path / "cart" / "set.db"
    link.symlink_to(cart.database_url)
    Path(f"{cart.database_url}.keys").rename(f"{link}.keys")
    linked = cart.model_copy(update={"database_url": str(link)})
    copy = tmp_path / "wrap.db"
    assert backup(linked, copy).ok
    grow(linked, 2)
    live = Path(cart.database_url)
    Path(f"{live}-wal").unlink(missing_ok=True)
    live.write_bytes(b"\x00" * 4096)
    with pytest.raises(ColdcheckError) as err:  # the kept checkpoint (97) is found
        restore(linked, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_UNPROVEN"
    assert not Path(f"{live}.keys").exists()


def test_a_production_is_never_dropped_because_the_database_is_dead(
        demo: Settings, tmp_path: Path) -> None:
    """Fourth review: with the database unreadable, a backup without one of its
    productions restored, and that production's record was gone unrecorded."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    second_unit(demo)
    dead_disk(demo)
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana", accept_unproven=True)
    assert err.value.code == "RESTORE_REFUSED" and "second-unit" in err.value.message


def test_a_kept_checkpoint_that_cannot_be_written_undoes_the_others(
        demo: Settings, tmp_path: Path) -> None:
    """Fourth review: a failure while replacing the second production's kept
    checkpoint left the first one's replaced, over a copy never put in place."""
    second_unit(demo)
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    before = grow(demo, 1, PRODUCTION)
    second = held_checkpoint_path(demo, "second-unit")
    second.unlink()
    second.mkdir()  # cannot be replaced by a file
    with pytest.raises(OSError):
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert held_checkpoint_path(demo, PRODUCTION).read_text() == before
    assert not list(held_checkpoint_path(demo, PRODUCTION).parent.glob("*.replaced-*"))
    second.rmdir()


EVIL = ("CREATE TRIGGER evil AFTER INSERT ON events WHEN NEW.type = 'ledger.restored' BEGIN "
        "UPDATE events SET entry = CAST(replace(CAST(entry AS TEXT), 'P6', 'P7') AS BLOB) "
        "WHERE production_id = NEW.production_id AND seq = {k}; END")


def test_a_backup_with_sql_of_its_own_is_refused(demo: Settings, tmp_path: Path) -> None:
    """Fifth review: a trigger hidden in a backup rewrote an entry (and could
    rewrite its hashes) when the restore appended its event, before the key
    signed the copy. A copy whose triggers or views are not coldcheck's, or
    whose append-only triggers were dropped, is refused."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    with Attacker(copy) as x:
        k = x.seq_of("weapon.issued")
    db = sqlite3.connect(copy)
    db.execute(EVIL.format(k=k))
    db.commit()
    db.close()
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_REFUSED" and "evil" in err.value.message
    drop_triggers(copy)  # no append-only triggers at all
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_REFUSED" and "events_no_update" in err.value.message


def test_nothing_is_signed_if_the_copy_changed_while_the_event_was_written(
        demo: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind the schema check, the copy is hashed again before the key signs."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    with Attacker(copy) as x:
        k = x.seq_of("weapon.issued")
    drop_triggers(copy)  # so that the planted one may edit the record
    db = sqlite3.connect(copy)
    db.execute(EVIL.format(k=k))
    db.commit()
    db.close()
    files = snapshot(demo)
    import shutil

    from coldcheck.persistence import schema

    # Blind to it, and keeping the backup's own schema (as the restore did
    # before the sixth review): only the re-hash stands in the way.
    monkeypatch.setattr(schema, "differences", lambda *a: [])
    monkeypatch.setattr(restore_module, "_rebuild",
                        lambda backup_file, raw, tmp: shutil.copyfile(raw, tmp))
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_REFUSED" and "changed while" in err.value.message
    assert snapshot(demo) == files


def test_verify_does_not_blame_a_restore_for_what_it_kept(
        demo: Settings, tmp_path: Path) -> None:
    """Fifth review: a checkpoint over no more than the backup held was
    explained by the restore, hiding a difference in what the restore kept
    (here a forked copy, restored with --accept-unproven over a dead disk)."""
    wrap = held_checkpoint_path(demo, PRODUCTION).read_text()  # size 95, the backup's
    copy = tmp_path / "fork.db"
    assert backup(demo, copy).ok
    ctx = context(demo, None)
    key = signer(ctx)
    ctx.store.dispose()
    with Attacker(copy) as x:  # a refusal's message: no projection to give it away
        k = x.seq_of("weapon.handoff_refused")
        forged = x.entry(k).replace(b"armorer", b"ARMORER", 1)
        assert forged != x.entry(k)
        x.set_entry(k, forged)
        x.rewrite_hashes()
        x.resign(key)
    grow(demo, 2)
    dead_disk(demo)
    restore(demo, copy, reason="disk", decided_by="Dana", accept_unproven=True)
    rep = verify(demo, checkpoints=[("printed.txt", wrap)], use_kept=False)
    held = [f for f in rep.failures if f.details.get("source") == "printed.txt"]
    assert held and all("restore" not in f.message for f in held), held


def test_verify_reports_sql_that_is_not_coldcheck_s(demo: Settings) -> None:
    """Fifth review: a trigger planted in the live database runs inside
    coldcheck's own writes; verify said nothing of it."""
    db = sqlite3.connect(demo.database_url)
    db.execute("CREATE TRIGGER planted AFTER INSERT ON events BEGIN SELECT 1; END")
    db.commit()
    db.close()
    rep = verify(demo)
    assert [f.code for f in rep.failures] == ["LEDGER_SCHEMA_ALTERED"]
    assert "planted" in rep.failures[0].message
    drop_triggers(Path(demo.database_url))
    rep = verify(demo)
    assert {f.code for f in rep.failures} == {"LEDGER_SCHEMA_ALTERED"}
    assert "events_no_update" in rep.failures[0].message


def hide_as(path: Path, sql: str, name: str, type_: str = "Trigger") -> None:
    """Add a schema object, then change its type so that a check reading only
    rows typed 'trigger' or 'view' misses it (SQLite ignores the column)."""
    db = sqlite3.connect(path)
    try:
        db.execute(sql)
        db.execute("PRAGMA writable_schema=ON")
        db.execute("UPDATE sqlite_master SET type = ? WHERE name = ?", (type_, name))
        db.execute("PRAGMA writable_schema=OFF")
        db.commit()
    finally:
        db.close()


def test_sql_hidden_in_the_schema_is_found_and_never_restored(
        demo: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sixth review: a trigger whose sqlite_master type was changed escaped
    both checks, ran inside the restore's writes, and got a forged entry
    signed. The whole schema is now compared, by name and SQL, at the
    database's own revision; and the restored file is a freshly migrated
    database the backup's rows are copied into, so none of its SQL survives."""
    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    hide_as(copy, "CREATE TRIGGER bump AFTER UPDATE ON productions BEGIN SELECT 1; END",
            "bump")
    with pytest.raises(ColdcheckError) as err:
        restore(demo, copy, reason="disk", decided_by="Dana")
    assert err.value.code == "RESTORE_REFUSED" and "bump" in err.value.message
    rep = verify(demo.model_copy(update={"database_url": str(copy)}), use_kept=False)
    assert [f.code for f in rep.failures] == ["LEDGER_SCHEMA_ALTERED"]
    # Even past the check, the restored file holds none of the backup's SQL.
    from coldcheck.persistence import schema

    monkeypatch.setattr(schema, "differences", lambda *a: [])
    restore(demo, copy, reason="disk", decided_by="Dana")
    names = {n for (n,) in rows(Path(demo.database_url), "SELECT name FROM sqlite_master")}
    assert "bump" not in names and "events_no_update" in names


def test_dropped_triggers_are_found_whatever_revision_the_file_claims(
        demo: Settings, tmp_path: Path) -> None:
    """Sixth review: with alembic_version set back, missing append-only
    triggers were not looked for."""
    live = Path(demo.database_url)
    drop_triggers(live)
    db = sqlite3.connect(live)
    db.execute("UPDATE alembic_version SET version_num = '0005'")
    db.commit()
    db.close()
    rep = verify(demo)
    assert "LEDGER_SCHEMA_ALTERED" in {f.code for f in rep.failures}
    db = sqlite3.connect(live)
    db.execute("DROP TABLE alembic_version")  # and no revision at all: said, not a crash
    db.commit()
    db.close()
    rep = verify(demo)
    assert "LEDGER_SCHEMA_ALTERED" in {f.code for f in rep.failures}


def test_verify_backup_needs_a_key_folder_named(demo: Settings, tmp_path: Path) -> None:
    """Sixth review: without COLDCHECK_KEY_DIR, --backup trusted the key folder
    beside the backup, which whoever forged the copy could have put there."""
    import shutil

    copy = tmp_path / "wrap.db"
    assert backup(demo, copy).ok
    shutil.copytree(demo.resolved_key_dir(), f"{copy}.keys")  # a folder beside it
    env = {"COLDCHECK_ARGON2_PROFILE": "fast-insecure-for-tests"}
    res = runner.invoke(app, ["ledger", "verify", "--db", str(copy), "--backup"], env=env)
    assert res.exit_code == 2 and "COLDCHECK_KEY_DIR" in res.output, res.output
    key = held_checkpoint_path(demo, PRODUCTION).read_text()
    note = tmp_path / "printed.txt"
    note.write_text(key)
    res = runner.invoke(app, ["ledger", "verify", "--db", str(copy), "--backup",
                              "--checkpoint", str(note)], env=env)
    assert res.exit_code == 0, res.output


def test_a_backup_from_before_the_timeline_index_is_restored_with_one(
        demo: Settings, tmp_path: Path) -> None:
    """A backup taken before migration 0007 has no timeline index: the restored
    file gets one, filled from the backup's events (the restore's own checks
    verify it), and every timeline reads as the full scan does."""
    copy = tmp_path / "old.db"
    assert backup(demo, copy).ok
    db = sqlite3.connect(copy)
    try:
        db.execute("DROP TABLE timeline_index")
        # and none of what later migrations add (0008: the alert webhook's tables)
        db.execute("DROP TABLE webhook_deliveries")
        db.execute("DROP TABLE webhooks")
        db.execute("UPDATE alembic_version SET version_num = '0006'")
        db.commit()
    finally:
        db.close()
    grow(demo, 1)
    restore(demo, copy, reason="the cart's disk reports errors", decided_by="Dana, producer")
    live = Path(demo.database_url)
    assert rows(live, "SELECT count(*) FROM timeline_index")[0][0] > 95
    assert verify(demo).ok
    ctx = context(demo, PRODUCTION)
    try:
        for kind, ident in (("weapon", "W1"), ("lot", "L1"), ("person", "P1"), ("day", "D1")):
            assert q.timeline(ctx, **{kind: ident}) == q.timeline_scan(ctx, **{kind: ident})
    finally:
        ctx.store.dispose()
