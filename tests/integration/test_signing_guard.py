"""The genuine key never signs a rewritten or rolled-back record (LEDGER_DIVERGED).

A third review rewrote an entry under a checkpoint, recomputed the stored
hashes, deleted the checkpoints above the rewrite and waited: the server's
next checkpoint (at the next incident or wrap) signed the forgery with the
production's own key, and `ledger verify` then passed. Before signing,
coldcheck now checks the latest stored checkpoint and the last one this server
signed (kept beside the key, out of the database's reach).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from demo_db import Attacker, demo_copy, verify

from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.services import actions as a
from coldcheck.services import ledger as L
from coldcheck.services.context import Context, context


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    return demo_copy(tmp_path / "demo")


def signs_once(s: Settings) -> Context:
    """A fresh context that has signed one checkpoint (so it holds one)."""
    ctx = context(s, None)
    a.add_note(ctx, text="Start of the day", refers_to=0, actor="P1")
    L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
    return ctx


def stored_checkpoints(s: Settings) -> dict[int, str]:
    with Attacker(Path(s.database_url)) as x:
        return x.checkpoints()


def test_each_signature_is_kept_beside_the_key(demo: Settings) -> None:
    ctx = signs_once(demo)
    try:
        size, note = L.latest_checkpoint(ctx) or (0, "")
        held = L.held_checkpoint_path(demo, ctx.production)
        assert held.read_text(encoding="utf-8") == note and size == 96
        assert held.parent == demo.resolved_key_dir()
    finally:
        ctx.store.dispose()


def test_a_rewrite_with_the_checkpoints_above_it_removed_is_never_signed(
        demo: Settings) -> None:
    ctx = signs_once(demo)
    ctx.store.dispose()
    before = stored_checkpoints(demo)
    with Attacker(Path(demo.database_url)) as x:
        k = x.seq_of("weapon.issued")
        x.set_entry(k, x.entry(k).replace(b'"performer":"P6"', b'"performer":"P7"', 1))
        x.rewrite_hashes()
        x.sql("DELETE FROM checkpoints WHERE tree_size > ?", k)
    ctx = context(demo, None)
    try:
        # The next incident is recorded; its checkpoint is not signed.
        ev = a.report_incident(ctx, kind="other", description="Cart found unlocked",
                               weapons=[], lots=[], reported_by="P3")
        assert ev
        assert max(stored_checkpoints(demo)) < k  # nothing signed over the rewrite
        with pytest.raises(ColdcheckError) as err:
            L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
        assert err.value.code == "LEDGER_DIVERGED"
        assert "last checkpoint this server signed" in err.value.message
        assert "no longer hash" in err.value.message
        assert max(before) == 96
    finally:
        ctx.store.dispose()
    # And verify, against the key file, still says where.
    assert not verify(demo).ok


def test_a_rewrite_under_the_latest_stored_checkpoint_is_never_signed(
        demo: Settings) -> None:
    """Even without the held file (a server that never signed here)."""
    with Attacker(Path(demo.database_url)) as x:
        k = x.seq_of("weapon.issued")
        x.set_entry(k, x.entry(k).replace(b'"performer":"P6"', b'"performer":"P7"', 1))
        x.rewrite_hashes()
    ctx = context(demo, None)
    try:
        L.held_checkpoint_path(demo, ctx.production).unlink()
        a.add_note(ctx, text="After the rewrite", refers_to=0, actor="P1")
        with pytest.raises(ColdcheckError) as err:
            L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
        assert err.value.code == "LEDGER_DIVERGED"
        assert "the latest stored checkpoint (size 95)" in err.value.message
    finally:
        ctx.store.dispose()


def test_a_database_rolled_back_to_an_older_copy_is_never_signed(demo: Settings) -> None:
    ctx = signs_once(demo)
    ctx.store.dispose()
    with Attacker(Path(demo.database_url)) as x:  # back to 90 entries, checkpoints too
        x.truncate(90)
        x.sql("DELETE FROM checkpoints WHERE tree_size > 90")
    ctx = context(demo, None)
    try:
        a.add_note(ctx, text="After the restore", refers_to=0, actor="P1")
        with pytest.raises(ColdcheckError) as err:
            L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
        assert err.value.code == "LEDGER_DIVERGED" and "older copy" in err.value.message
    finally:
        ctx.store.dispose()


def test_an_honest_ledger_keeps_signing(demo: Settings) -> None:
    ctx = signs_once(demo)
    try:
        for n in range(3):
            a.add_note(ctx, text=f"Note {n}", refers_to=0, actor="P1")
            size, _ = L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
            assert size == 97 + n
        assert verify(demo).ok
    finally:
        ctx.store.dispose()


def test_a_new_production_never_inherits_a_kept_checkpoint_of_the_same_id(
        tmp_path: Path) -> None:
    """A key file deleted by hand but its kept checkpoint left: a new production
    of that id would be refused its first checkpoint after being created."""
    from coldcheck.persistence.store import Store

    first = demo_copy(tmp_path / "old")
    kept = L.held_checkpoint_path(first, "dusty-trails")
    assert kept.exists()
    L.key_path(first.resolved_key_dir(), "dusty-trails").unlink()
    fresh = first.model_copy(update={"database_url": str(tmp_path / "new.db")})
    store = Store(fresh.database_url)
    try:
        with pytest.raises(ColdcheckError) as err:
            a.init_production(store=store, settings=fresh, production="dusty-trails",
                              name="Again")
        assert err.value.code == "ALREADY_INITIALISED" and "is kept at" in err.value.message
        assert [p["id"] for p in store.productions()] == []
    finally:
        store.dispose()


# ---------------------------------------------------------------- the fourth review


def test_a_server_with_sealed_keys_keeps_its_checkpoint_too(tmp_path: Path) -> None:
    """Fourth review: with keys sealed in the database there was no key folder,
    so nothing was kept and the rewrite-and-delete attack still worked."""
    from coldcheck.ledger import generate_master_key_file
    from coldcheck.persistence.store import Store

    master = tmp_path / "master.key"
    generate_master_key_file(master)
    s = Settings(database_url=str(tmp_path / "studio.db"), key_dir=tmp_path / "state",
                 key_store="database", master_key_file=master,
                 argon2_profile="fast-insecure-for-tests", device="pytest")
    store = Store(s.database_url)
    try:
        ctx = a.init_production(store=store, settings=s, production="studio", name="Studio")
        kept = L.held_checkpoint_path(s, "studio")
        assert kept.exists() and (tmp_path / "state").stat().st_mode & 0o777 == 0o700
        for n in range(4):
            a.add_note(ctx, text=f"Note {n}", refers_to=0, actor="system")
        L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
    finally:
        store.dispose()
    import json
    import sqlite3
    with sqlite3.connect(s.database_url) as db:
        for trig in ("events_no_update", "checkpoints_no_delete"):
            db.execute(f"DROP TRIGGER {trig}")
        entry = json.loads(db.execute("SELECT entry FROM events WHERE seq = 2").fetchone()[0])
        entry["payload"]["text"] = "Rewritten"
        db.execute("UPDATE events SET entry = ? WHERE seq = 2", (json.dumps(
            entry, sort_keys=True, separators=(",", ":")).encode(),))
        db.execute("DELETE FROM checkpoints WHERE tree_size > 1")
    db.close()
    store = Store(s.database_url)
    try:
        from coldcheck.ledger import build_stored_hashes, leaf_hashes
        with store.engine.begin() as c:
            from sqlalchemy import text
            entries = [bytes(r[0]) for r in c.execute(text(
                "SELECT entry FROM events ORDER BY seq"))]
            c.execute(text("DROP TRIGGER ledger_hashes_no_update"))
            for i, h in enumerate(build_stored_hashes(leaf_hashes(entries))):
                c.execute(text("UPDATE ledger_hashes SET hash = :h WHERE idx = :i"),
                          {"h": h, "i": i})
        ctx = context(s, "studio", store=store)
        a.add_note(ctx, text="After", refers_to=0, actor="system")
        with pytest.raises(ColdcheckError) as err:
            L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
        assert err.value.code == "LEDGER_DIVERGED"
    finally:
        store.dispose()


def test_the_kept_checkpoint_never_goes_back(demo: Settings) -> None:
    ctx = signs_once(demo)
    try:
        older = L.held_checkpoint_path(demo, ctx.production).read_text(encoding="utf-8")
        a.add_note(ctx, text="Later", refers_to=0, actor="P1")
        size, newer = L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
        # A slower signer of the earlier checkpoint writing late changes nothing.
        L._keep_held(L.held_checkpoint_path(demo, ctx.production), older, size - 1)
        assert L.held_checkpoint_path(demo, ctx.production).read_text(
            encoding="utf-8") == newer
    finally:
        ctx.store.dispose()


def test_a_backup_is_not_judged_by_checkpoints_signed_after_it(
        demo: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fourth review: an entry signed between the copy and its check made the
    backup mark its own consistent copy unverified (the kept checkpoint covered
    more than the copy)."""
    from coldcheck.services import backup as B

    copy = B._copy

    def copy_then_sign(source: Path, tmp: Path) -> None:
        copy(source, tmp)
        live = context(demo, None)
        try:
            a.add_note(live, text="Signed after the copy", refers_to=0, actor="P1")
            L.sign_checkpoint(live, reason="on_demand", at=live.now())
        finally:
            live.store.dispose()

    monkeypatch.setattr(B, "_copy", copy_then_sign)
    r = B.backup(demo, tmp_path / "copy.db")
    assert r.ok, [f.line() for rep in r.reports for f in rep.failures]


def test_an_unreadable_kept_checkpoint_never_breaks_a_recorded_action(
        demo: Settings) -> None:
    kept = L.held_checkpoint_path(demo, "dusty-trails")
    kept.write_bytes(b"\xff\xfe not a note")
    ctx = context(demo, None)
    try:
        ev = a.report_incident(ctx, kind="other", description="Cart found unlocked",
                               weapons=[], lots=[], reported_by="P3")
        assert ev  # recorded; its checkpoint was not signed
        with pytest.raises(ColdcheckError) as err:
            L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
        assert err.value.code == "KEY_MISSING" and "cannot be read" in err.value.message
    finally:
        ctx.store.dispose()
    r = verify(demo)
    assert any("cannot be read" in w for w in r.warnings)


def test_the_kept_checkpoint_vouches_for_the_database_key_without_the_key_file(
        demo: Settings) -> None:
    L.key_path(demo.resolved_key_dir(), "dusty-trails").unlink()
    r = verify(demo)
    assert r.ok and r.key_source == "database", [f.line() for f in r.failures]


def test_a_key_file_that_cannot_be_loaded_is_key_mismatch_when_signing(
        demo: Settings) -> None:
    import os

    os.chmod(L.key_path(demo.resolved_key_dir(), "dusty-trails"), 0o640)
    ctx = context(demo, None)
    try:
        with pytest.raises(ColdcheckError) as err:
            L.signer(ctx)
        assert err.value.code == "KEY_MISMATCH" and "cannot be used" in err.value.message
    finally:
        ctx.store.dispose()
