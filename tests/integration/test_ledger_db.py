"""`ledger verify` on real databases: a sound ledger verifies, on SQLite and PostgreSQL.

Also the pieces verification is built from (the one-pass tree rebuild, the
cheap Event construction), the CLI around it, and what it tells the user.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import psycopg
import pytest
from demo_db import PRODUCTION, Attacker, demo_copy, settings_for, verify
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.demo import run_demo
from coldcheck.domain.events import Event
from coldcheck.ledger import build_stored_hashes, leaf_hashes, load_signer, stored_hash_count
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services.context import context
from coldcheck.services.ledger import key_path, latest_checkpoint
from coldcheck.services.verify import (
    LEDGER_ERROR_CODES,
    _event,
    _root,
    _stored_hashes,
    verify_ledger,
)

runner = CliRunner()


def cli(s: Settings, *args: str, input: str | None = None) -> tuple[int, str, str]:
    res = runner.invoke(app, ["ledger", *args, "--db", s.database_url], input=input,
                        env={"COLDCHECK_KEY_DIR": str(s.key_dir)})
    return res.exit_code, res.stdout, res.stderr


# ------------------------------------------------------------ the building blocks


def test_one_pass_rebuild_equals_build_stored_hashes_in_any_chunking() -> None:
    rng = random.Random(7)
    entries = [rng.randbytes(rng.randint(0, 90)) for _ in range(777)]
    want = build_stored_hashes(leaf_hashes(entries))
    for _ in range(40):
        stack: list[bytes] = []
        got: list[bytes] = []
        pos = 0
        while pos < len(entries):
            step = rng.choice([1, 1, 2, 3, 5, 8, 64, 200])
            chunk = entries[pos:pos + step]
            got += _stored_hashes(stack, pos, chunk)
            pos += len(chunk)
            assert len(got) == stored_hash_count(pos)
        assert got == want
    assert _stored_hashes([], 0, []) == []


def test_root_from_the_compact_range() -> None:
    from coldcheck.ledger import MemoryHashes, tree_hash

    entries = [bytes([i]) * i for i in range(100)]
    mem = MemoryHashes.from_leaves(leaf_hashes(entries))
    for n in range(101):
        stack: list[bytes] = []
        _stored_hashes(stack, 0, entries[:n])
        assert _root(stack) == tree_hash(n, mem)


def test_fast_event_construction_equals_event() -> None:
    args = ("p", 3, "note.added", "2026-11-24T07:00:00.000000Z", "P1", "cli",
            {"refers_to": 1, "text": "x"})
    fast, slow = _event(*args), Event(*args)
    assert fast == slow and repr(fast) == repr(slow) and vars(fast) == vars(slow)
    assert fast.entry() == slow.entry()
    with pytest.raises(AttributeError):
        fast.seq = 4  # type: ignore[misc]  # still frozen


def test_every_code_has_a_description() -> None:
    assert all(c.startswith("LEDGER_") and t.endswith(".") for c, t in LEDGER_ERROR_CODES.items())


# -------------------------------------------------------- sound ledgers verify


def test_the_demo_database_verifies_on_each_backend(backend_settings: Settings) -> None:
    store = Store(backend_settings.database_url)
    try:
        res = run_demo(store, backend_settings)
        steps: list[tuple[int, int]] = []
        r = verify_ledger(res.ctx, progress=lambda done, total: steps.append((done, total)))
    finally:
        store.dispose()
    assert r.ok, [f.line() for f in r.failures]
    assert r.entries == r.head == 95
    assert r.stored_hashes == stored_hash_count(95)
    assert [c.size for c in r.checkpoints] == [1, 30, 80, 95]
    assert all(c.ok for c in r.checkpoints) and r.verified_size == 95
    assert r.key_source == "key file" and r.warnings == []
    assert r.projections is not None and r.projections > 20
    assert steps and steps[-1] == (95, 95)


def test_the_cli_verifies_the_demo_database_on_each_backend(backend_settings: Settings,
                                                           tmp_path: Path) -> None:
    store = Store(backend_settings.database_url)
    try:
        run_demo(store, backend_settings)
    finally:
        store.dispose()
    code, out, err = cli(backend_settings, "verify")
    assert code == 0, err
    assert out.startswith(f"✔ ledger of {PRODUCTION} verified: 95 entries, root ")
    assert "checkpoints: 4 verified (latest at size 95)" in out and "(key file)" in out
    code, out, _ = cli(backend_settings, "verify", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["failures"] == []
    assert data["entries"] == 95 and data["first"] is None
    # The key and checkpoint printed for the producer verify it too.
    _, key, _ = cli(backend_settings, "key")
    _, note, _ = cli(backend_settings, "checkpoint")
    (tmp_path / "cp.txt").write_text(note)
    code, out, err = cli(backend_settings, "verify", "--key", key.strip(), "--checkpoint",
                         str(tmp_path / "cp.txt"))
    assert code == 0, err
    assert "(given)" in out


def test_verify_reads_one_snapshot_while_the_production_goes_on(
        backend_settings: Settings) -> None:
    """Entries appended while verification runs are not half-seen: it checks the
    ledger as it was when it started (one read transaction)."""
    store = Store(backend_settings.database_url)
    try:
        res = run_demo(store, backend_settings)
        writer = context(backend_settings, None)  # another connection, as another process
        appended: list[int] = []

        def progress(done: int, total: int) -> None:
            if not appended:
                ev = a.add_note(writer, refers_to=1, text="written during verify", actor="P1")
                appended.append(ev[0].seq)

        r = verify_ledger(res.ctx, progress=progress, chunk_size=10)
        writer.store.dispose()
    finally:
        store.dispose()
    assert appended == [95]
    assert r.ok, [f.line() for f in r.failures]
    assert r.entries == r.head == 95
    again = verify(backend_settings)
    assert again.ok and again.entries == 96


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 16, 1000])
def test_chunking_changes_nothing(tmp_path: Path, chunk: int) -> None:
    s = demo_copy(tmp_path / "demo")
    whole = verify(s)
    r = verify(s, chunk_size=chunk)
    assert r.ok and r.root == whole.root and r.projections == whole.projections
    with Attacker(Path(s.database_url)) as x:
        x.flip(57, 120)
        x.sql("DELETE FROM events WHERE seq = 70")
    r = verify(s, chunk_size=chunk)
    assert [(f.code, f.entry) for f in r.failures][:2] == [
        ("LEDGER_ENTRY_ALTERED", 57), ("LEDGER_CHECKPOINT_MISMATCH", 57)]
    assert ("LEDGER_ENTRY_MISSING", 70) in [(f.code, f.entry) for f in r.failures]


def test_entries_after_the_latest_checkpoint_are_sound_but_noted(tmp_path: Path) -> None:
    s = demo_copy(tmp_path / "demo")
    ctx = context(s, None)
    try:
        a.add_note(ctx, refers_to=5, text="Correction: the rifle's serial is 4417, not 4471",
                   actor="P1")
    finally:
        ctx.store.dispose()
    r = verify(s)
    assert r.ok and r.entries == 96 and r.verified_size == 95
    assert r.warnings == ["entries 95..95 come after the latest signed checkpoint: no "
                          "signature covers them yet"]


def test_each_production_of_a_shared_database_verifies_on_its_own(tmp_path: Path) -> None:
    s = demo_copy(tmp_path / "demo")
    store = Store(s.database_url)
    try:
        run_demo(store, s, production="second-unit")
    finally:
        store.dispose()
    for prod in (PRODUCTION, "second-unit"):
        ctx = context(s, prod)
        try:
            r = verify_ledger(ctx)
        finally:
            ctx.store.dispose()
        assert r.ok and r.entries == 95, (prod, [f.line() for f in r.failures])
    with Attacker(Path(s.database_url)) as x:
        x.sql("DELETE FROM events WHERE production_id = 'second-unit' AND seq = 3")
    code, _, _ = cli(s, "verify", "--production", PRODUCTION)
    assert code == 0
    code, _, err = cli(s, "verify", "--production", "second-unit")
    assert code == 5 and "LEDGER_ENTRY_MISSING: entry 3:" in err


# ----------------------------------------------------------------- which key


def test_without_a_key_of_your_own_verify_fails_unless_told_to_trust_the_database(
        tmp_path: Path) -> None:
    """Third review: without a key file or --key, verify trusted the verifier key
    the database names, with a warning, and exited 0: on a history forged and
    re-signed with another key too. Now that fails (LEDGER_KEY_UNTRUSTED); a
    consistency-only check is asked for by name."""
    s = demo_copy(tmp_path / "demo")
    shutil.rmtree(s.resolved_key_dir())  # a copy of the database without its key folder
    r = verify(s)
    assert not r.ok and r.key_source == "database"
    assert r.first is not None and r.first.code == "LEDGER_KEY_UNTRUSTED"
    assert "--key" in r.first.message
    r = verify(s, trust_database_key=True)
    assert r.ok and r.key_source == "database"
    assert any("trusting the verifier key stored in the database, as asked" in w
               for w in r.warnings)
    key = Store(s.database_url).production(PRODUCTION)["verifier_key"]
    assert verify(s, trusted_key=key).ok
    code, _, err = cli(s, "verify")
    assert code == 5 and "LEDGER_KEY_UNTRUSTED" in err
    code, _, _ = cli(s, "verify", "--trust-database-key")
    assert code == 0


def test_a_key_file_that_will_not_load_is_not_a_reason_to_trust_the_database(
        tmp_path: Path) -> None:
    """Third review: a forged history plus a key name the key file cannot be
    loaded under turned the key file into a warning, and verify passed."""
    s = demo_copy(tmp_path / "demo")
    with Attacker(Path(s.database_url)) as x:
        x.sql("UPDATE productions SET key_name = 'bad name'")
    r = verify(s)
    assert not r.ok and r.first is not None
    assert r.first.code == "LEDGER_KEY_MISMATCH" and "cannot be used" in r.first.message


def test_a_key_the_ledger_was_not_signed_with_fails(tmp_path: Path) -> None:
    from coldcheck.ledger import Signer

    s = demo_copy(tmp_path / "demo")
    with Attacker(Path(s.database_url)) as x:
        other = Signer.generate(x.origin()).verifier_key()
    code, _, err = cli(s, "verify", "--key", other)
    assert code == 5
    assert "LEDGER_KEY_MISMATCH: entry 0: entry 0 records signing key id" in err
    assert "LEDGER_CHECKPOINT_INVALID" in err


def test_the_key_and_checkpoint_can_come_from_files_and_stdin(tmp_path: Path) -> None:
    s = demo_copy(tmp_path / "demo")
    with Attacker(Path(s.database_url)) as x:
        origin, note = x.origin(), x.checkpoints()[80]
    key = load_signer(key_path(s.resolved_key_dir(), PRODUCTION), origin).verifier_key()
    (tmp_path / "key.txt").write_text(f"\n{key}\n")
    code, out, err = cli(s, "verify", "--key", str(tmp_path / "key.txt"), "--checkpoint", "-",
                         input=note.replace("\n", "\r\n"))
    assert code == 0, err
    assert "(given)" in out
    code, _, err = cli(s, "verify", "--key", "not-a-key")
    assert code == 2 and "INVALID_INPUT" in err
    code, _, err = cli(s, "verify", "--checkpoint", str(tmp_path / "nowhere.txt"))
    assert code == 2 and "INVALID_INPUT" in err
    code, _, err = cli(s, "verify", "--key", "a+b+c")
    assert code == 2 and "--key is not a verifier key" in err


def test_a_checkpoint_of_another_ledger_is_invalid(tmp_path: Path) -> None:
    s = demo_copy(tmp_path / "demo")
    other = demo_copy(tmp_path / "other")  # same demo, another copy: same key, same origin
    ctx = context(other, None)
    try:
        a.add_note(ctx, refers_to=1, text="diverging copy", actor="P1")
        from coldcheck.services.ledger import sign_checkpoint

        sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
        fork = latest_checkpoint(ctx)
    finally:
        ctx.store.dispose()
    assert fork is not None
    # A checkpoint of size 96 from a fork: the ledger has 95 entries.
    r = verify(s, checkpoints=[("fork", fork[1])])
    assert [(f.code, f.entry) for f in r.failures] == [("LEDGER_TRUNCATED", 95)]


# ------------------------------------------------------------------ PostgreSQL


@pytest.mark.postgres
def test_tampering_on_postgresql_is_caught(pg_url: str, tmp_path: Path) -> None:
    s = settings_for(tmp_path, pg_url)
    store = Store(s.database_url)
    try:
        run_demo(store, s)
    finally:
        store.dispose()
    assert verify(s).ok
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("SET session_replication_role = replica")  # an attacker with superuser
        c.execute("UPDATE events SET entry = overlay(entry placing '7' from 60 for 1) "
                  "WHERE seq = 33")
    r = verify(s)
    assert not r.ok and r.first is not None
    assert (r.first.code, r.first.entry) == ("LEDGER_ENTRY_ALTERED", 33)
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("SET session_replication_role = replica")
        c.execute("DELETE FROM events WHERE seq = 20")
    code, _, err = cli(s, "verify")
    assert code == 5 and "LEDGER_ENTRY_MISSING: entry 20:" in err


# ------------------------------------------------- an incident no checkpoint covers


def test_an_incident_whose_checkpoint_could_not_be_signed_shows_on_the_board(
        tmp_path: Path) -> None:
    """The incident is recorded whatever happens to the key; the checkpoint that
    should follow it fails without the key file. The board then says so (CLI,
    API read model, tablet all build it the same way) until one is signed."""
    import shutil
    from datetime import timedelta

    from coldcheck.services import queries as q
    from coldcheck.services.readmodel import ReadModel

    s = demo_copy(tmp_path / "demo")
    ctx = context(s, PRODUCTION)
    st = ctx.store.state(PRODUCTION)
    codes = {al["code"] for al in q.status(ctx)["alerts"]}
    assert "CHECKPOINT_MISSING" not in codes and st.checkpoint_due is not None  # covered
    key = key_path(s.resolved_key_dir(), PRODUCTION)
    shutil.move(key, tmp_path / "away")
    reporter = next(p.id for p in st.people.values() if "safety_supervisor" in p.roles)
    at = ctx.now() + timedelta(hours=30)
    ev = a.report_incident(ctx, kind="other", description="Cart lock found open",
                           weapons=[], lots=[], reported_by=reporter, at=at)
    seq = ev[0].seq
    assert latest_checkpoint(ctx)[0] <= seq  # nothing signed after it

    def missing(board: dict) -> list[dict]:
        return [al for al in board["alerts"] if al["code"] == "CHECKPOINT_MISSING"]

    (alert,) = missing(q.status(ctx, at))
    assert alert["subject"] == f"event:{seq}"
    assert f"event {seq} (incident " in alert["message"]
    def api_board() -> dict:
        rep = ReadModel(ctx.store).get(PRODUCTION)
        return json.loads(rep.board_json(at, q.signed_size(ctx.store, rep.state)))

    assert missing(api_board()) == [alert]
    res = runner.invoke(app, ["status", "--json", "--db", s.database_url])
    assert missing(json.loads(res.stdout)) == [alert]
    # The key back, a checkpoint signed: the alert goes, in this process too.
    shutil.move(tmp_path / "away", key)
    code, _, err = cli(s, "checkpoint")
    assert code == 0, err
    assert missing(q.status(ctx, at)) == []
    assert missing(api_board()) == []
    ctx.store.dispose()
