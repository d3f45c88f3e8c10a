"""`coldcheck backup`: a consistent copy of a running SQLite database, verified before it
is named, private, never over an existing file without --force, never without saying
when it does not verify."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from demo_db import PRODUCTION, Attacker, demo_copy, verify
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.ledger import Signer
from coldcheck.services import actions as a
from coldcheck.services.backup import backup
from coldcheck.services.context import context

runner = CliRunner()


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    return demo_copy(tmp_path / "demo")


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as c:
        got = list(c.execute(sql))
    c.close()
    return got


EVENTS = "SELECT production_id, seq, entry FROM events ORDER BY production_id, seq"
HASHES = "SELECT production_id, idx, hash FROM ledger_hashes ORDER BY production_id, idx"
CHECKPOINTS = "SELECT production_id, tree_size, note FROM checkpoints ORDER BY 1, 2"


def test_the_copy_holds_the_record_exactly_and_verifies(demo: Settings, tmp_path: Path) -> None:
    target = tmp_path / "out" / "copy.db"
    target.parent.mkdir()
    r = backup(demo, target)
    assert r.ok and r.integrity == "ok" and r.file == str(target)
    source = Path(demo.database_url)
    for sql in (EVENTS, HASHES, CHECKPOINTS):
        assert rows(target, sql) == rows(source, sql)
    assert [p.production for p in r.reports] == [PRODUCTION]
    assert r.reports[0].entries == r.reports[0].verified_size == 95
    assert r.reports[0].key_source == "key file"  # the original's key file, not the copy
    # One self-contained file, private, whose SHA-256 is the one reported.
    assert rows(target, "PRAGMA journal_mode") == [("delete",)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db"]  # no temp, no -wal
    assert target.stat().st_mode & 0o777 == 0o600
    assert r.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    assert r.bytes == target.stat().st_size
    # A usable database: it verifies on its own, with the original's key folder.
    restored = demo.model_copy(update={"database_url": str(target)})
    assert verify(restored).ok


def test_a_backup_while_the_set_keeps_recording_is_one_consistent_moment(
        demo: Settings, tmp_path: Path) -> None:
    ctx = context(demo, None)
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        while not stop.is_set():
            ev = a.add_note(ctx, text="Cart checked", refers_to=0, actor="P1")
            written.append(ev[-1].seq)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        results = [backup(demo, tmp_path / f"copy{i}.db") for i in range(3)]
    finally:
        stop.set()
        writer.join()
        ctx.store.dispose()
    source = Path(demo.database_url)
    everything = rows(source, EVENTS)
    for r in results:
        assert r.ok, [f.line() for rep in r.reports for f in rep.failures]
        copied = rows(Path(r.file), EVENTS)
        # A prefix of the record: nothing torn, nothing out of order.
        assert copied == everything[:len(copied)] and len(copied) >= 95 + 5


def test_an_existing_file_is_never_replaced_without_force(demo: Settings,
                                                          tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    target.write_bytes(b"yesterday's backup")
    with pytest.raises(ColdcheckError) as err:
        backup(demo, target)
    assert err.value.code == "FILE_EXISTS"
    assert target.read_bytes() == b"yesterday's backup"
    dangling = tmp_path / "link.db"
    dangling.symlink_to(tmp_path / "nowhere.db")
    with pytest.raises(ColdcheckError) as err:
        backup(demo, dangling)
    assert err.value.code == "FILE_EXISTS" and not (tmp_path / "nowhere.db").exists()
    # --force replaces the file, and a link is replaced, never followed.
    assert backup(demo, target, force=True).ok
    assert rows(target, "SELECT count(*) FROM events") == [(95,)]
    assert backup(demo, dangling, force=True).ok
    assert not dangling.is_symlink() and not (tmp_path / "nowhere.db").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_folder_that_does_not_exist_is_named(demo: Settings, tmp_path: Path) -> None:
    with pytest.raises(ColdcheckError) as err:
        backup(demo, tmp_path / "usb" / "copy.db")
    assert err.value.code == "INVALID_INPUT" and "usb" in err.value.message


def test_the_database_itself_is_never_the_target(demo: Settings, tmp_path: Path) -> None:
    source = Path(demo.database_url)
    before = source.read_bytes()
    # Reached through a link, SQLite names the -wal after the real file.
    link = tmp_path / "via-link.db"
    link.symlink_to(source)
    through = demo.model_copy(update={"database_url": str(link)})
    for settings, target in ((demo, source), (demo, Path(f"{source}-wal")),
                             (demo, source.parent / "." / source.name),
                             (through, Path(f"{source}-wal")), (through, source),
                             (through, Path(f"{link}-wal"))):
        with pytest.raises(ColdcheckError) as err:
            backup(settings, target, force=True)
        assert err.value.code == "INVALID_INPUT" and "being backed up" in err.value.message
    assert source.read_bytes() == before


def test_a_backup_never_goes_into_the_key_folder_or_over_a_folder(
        demo: Settings, tmp_path: Path) -> None:
    with pytest.raises(ColdcheckError) as err:
        backup(demo, demo.resolved_key_dir() / "copy.db")
    assert err.value.code == "INVALID_INPUT" and "key folder" in err.value.message
    with pytest.raises(ColdcheckError) as err:
        backup(demo, tmp_path, force=True)
    assert err.value.code == "INVALID_INPUT" and "is a folder" in err.value.message
    assert not [p for p in demo.resolved_key_dir().iterdir()
                if p.name.endswith((".db", ".tmp")) or ".unverified" in p.name]


def test_postgresql_and_missing_files_get_their_codes(tmp_path: Path) -> None:
    pg = Settings(database_url="postgresql+psycopg://127.0.0.1/nowhere")
    with pytest.raises(ColdcheckError) as err:
        backup(pg, tmp_path / "copy.db")
    assert err.value.code == "BACKUP_UNSUPPORTED" and "pg_dump" in err.value.message
    gone = Settings(database_url=str(tmp_path / "absent.db"))
    with pytest.raises(ColdcheckError) as err:
        backup(gone, tmp_path / "copy.db")
    assert err.value.code == "NOT_INITIALISED"
    assert not (tmp_path / "absent.db").exists() and not (tmp_path / "copy.db").exists()


def test_a_tampered_database_is_kept_beside_never_over_a_good_backup(
        demo: Settings, tmp_path: Path) -> None:
    good = tmp_path / "copy.db"
    assert backup(demo, good).ok
    yesterday = good.read_bytes()
    with Attacker(Path(demo.database_url)) as x:
        k = x.seq_of("weapon.issued")
        x.set_entry(k, x.entry(k).replace(b'"performer":"P6"', b'"performer":"P7"', 1))
    r = backup(demo, good, force=True)
    assert not r.ok
    first = r.reports[0].first
    assert first is not None and (first.code, first.entry) == ("LEDGER_ENTRY_ALTERED", k)
    # --force or not, yesterday's good copy stays; today's is kept beside it, as
    # the database held it, altered entry included, under a name that says so.
    assert good.read_bytes() == yesterday
    kept = Path(r.file)
    assert kept.parent == tmp_path and kept.name.startswith("copy.db.unverified-")
    assert rows(kept, EVENTS) == rows(Path(demo.database_url), EVENTS)
    assert r.sha256 == hashlib.sha256(kept.read_bytes()).hexdigest()
    assert kept.stat().st_mode & 0o777 == 0o600


def test_a_history_rewritten_and_resigned_with_another_key_does_not_pass(
        demo: Settings, tmp_path: Path) -> None:
    """Review: verifying against the key stored in the copy passed a database
    rewritten from entry 0 and re-signed with a new key. The original's key
    file is what the copy must answer to."""
    with Attacker(Path(demo.database_url)) as x:
        other = Signer.from_seed(x.origin(), bytes(range(32)))
        x.sql("UPDATE productions SET verifier_key = ?", other.verifier_key())
        k = x.seq_of("weapon.issued")
        x.set_entry(k, x.entry(k).replace(b'"performer":"P6"', b'"performer":"P7"', 1))
        x.rewrite_hashes()
        x.resign(other)
    r = backup(demo, tmp_path / "copy.db")
    assert not r.ok and not (tmp_path / "copy.db").exists()
    assert "LEDGER_KEY_MISMATCH" in {f.code for f in r.reports[0].failures}


def test_a_copy_too_damaged_to_verify_is_kept_and_said_so(
        demo: Settings, tmp_path: Path) -> None:
    with Attacker(Path(demo.database_url)) as x:
        x.sql("DROP TABLE ledger_hashes")
    r = backup(demo, tmp_path / "copy.db")
    assert not r.ok and r.unusable is not None and not (tmp_path / "copy.db").exists()
    assert Path(r.file).name.startswith("copy.db.unverified-") and Path(r.file).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["demo", Path(r.file).name])


def test_the_cli_prints_the_digest_and_exits_5_when_the_copy_does_not_verify(
        demo: Settings, tmp_path: Path) -> None:
    env = {"COLDCHECK_KEY_DIR": str(demo.key_dir),
           "COLDCHECK_ARGON2_PROFILE": "fast-insecure-for-tests"}
    target = tmp_path / "copy.db"
    res = runner.invoke(app, ["backup", "--db", demo.database_url, "--out", str(target)],
                        env=env)
    assert res.exit_code == 0, res.output
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in res.output and "95 entries verified" in res.output
    assert "not included: the signing keys" in res.output
    res = runner.invoke(app, ["backup", "--db", demo.database_url, "--out", str(target)],
                        env=env)
    assert res.exit_code == 4 and "FILE_EXISTS" in res.output
    with Attacker(Path(demo.database_url)) as x:
        k = x.seq_of("weapon.issued")
        x.set_entry(k, x.entry(k).replace(b'"performer":"P6"', b'"performer":"P7"', 1))
    res = runner.invoke(app, ["backup", "--db", demo.database_url, "--out",
                              str(tmp_path / "bad.db"), "--json"], env=env)
    assert res.exit_code == 5, res.output
    out = json.loads(res.output)
    assert out["ok"] is False and out["productions"][0]["first"]["code"].startswith("LEDGER_")
    assert not (tmp_path / "bad.db").exists() and ".unverified-" in out["file"]
    assert os.stat(out["file"]).st_mode & 0o777 == 0o600


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    res = runner.invoke(app, ["backup", "--db", str(junk), "--out", str(tmp_path / "c.db")],
                        env={"COLDCHECK_ARGON2_PROFILE": "fast-insecure-for-tests"})
    assert res.exit_code == 2 and "DATABASE_UNREADABLE" in res.output, res.output
    assert not (tmp_path / "c.db").exists()
    # Nothing beside it but the empty lock every open of a database file takes
    # (persistence.filelock), and the file itself unchanged.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.db", "junk.db.lock"]
    assert junk.read_bytes() == b"not a database at all" * 100
