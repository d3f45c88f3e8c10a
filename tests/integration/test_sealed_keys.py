"""Signing keys kept in the database, sealed with a master key (key_store=database).

ledger.md: the private key is stored with file mode 0600, "or in the database,
encrypted, at studio scale". The sealed key must never be readable without the
master key, must open only for the production and key name it was sealed for
(and under the master key id it names), must sign checkpoints and pass `ledger
verify` on both backends, and a file key can be moved into the database without
changing the production's key. Where keys are sealed, verify never trusts the
database's own word for the key.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.ledger import (
    SealedKeyError,
    Signer,
    Verifier,
    generate_master_key_file,
    load_master_key,
    master_key_id,
    open_checkpoint,
    seal_key,
    sealed_master_id,
    unseal_key,
)
from coldcheck.persistence import tables as t
from coldcheck.persistence.store import Store
from coldcheck.services import ledger as L
from coldcheck.services.actions import add_note, init_production
from coldcheck.services.context import context
from coldcheck.services.verify import verify_ledger

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture
def master(tmp_path: Path) -> Path:
    path = tmp_path / "secrets" / "master.key"
    path.parent.mkdir()
    generate_master_key_file(path)
    return path


@pytest.fixture
def sealed_settings(backend_settings: Settings, master: Path) -> Settings:
    return backend_settings.model_copy(update={"key_store": "database",
                                               "master_key_file": master})


def seed_of(s: Signer) -> bytes:
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )
    return s.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


# ---------------------------------------------------------------- the sealing itself


def test_a_sealed_key_opens_only_with_its_master_key_and_for_its_production() -> None:
    s = Signer.from_seed("coldcheck.local/productions/a", bytes(range(32)))
    master = bytes(range(100, 132))
    sealed = seal_key(s, master, production="a")
    assert seed_of(s) not in sealed and len(sealed) == 72
    assert sealed_master_id(sealed) == master_key_id(master) != master_key_id(bytes(32))
    again = unseal_key(sealed, master, production="a", name=s.name)
    assert again.verifier_key() == s.verifier_key()
    with pytest.raises(SealedKeyError, match="does not open") as err:
        unseal_key(sealed, master, production="b", name=s.name)  # copied to another
    assert not err.value.other_master
    with pytest.raises(SealedKeyError, match="another master key") as err:
        unseal_key(sealed, bytes(32), production="a", name=s.name)
    assert err.value.other_master
    for i in range(len(sealed)):  # every byte is covered: magic, master id, nonce, tag
        bad = bytearray(sealed)
        bad[i] ^= 1
        with pytest.raises(SealedKeyError) as err:
            unseal_key(bytes(bad), master, production="a", name=s.name)
        assert err.value.other_master == (4 <= i < 12)
    assert seal_key(s, master, production="a") != sealed  # a fresh nonce each time


def test_the_master_key_file_is_private_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    generate_master_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600 and len(load_master_key(path)) == 32
    with pytest.raises(FileExistsError):
        generate_master_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError):
        load_master_key(path)
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 16)
    os.chmod(short, 0o600)
    with pytest.raises(ValueError, match="32 bytes"):
        load_master_key(short)


# ---------------------------------------------------------------- in a real database


def test_a_production_created_with_key_store_database_signs_and_verifies(
        sealed_settings: Settings) -> None:
    store = Store(sealed_settings.database_url)
    try:
        ctx = init_production(store=store, settings=sealed_settings, production="studio",
                              name="Studio", at=T0)
        key_dir = sealed_settings.resolved_key_dir()
        assert not (key_dir / "studio.ed25519").exists()  # no key file at all
        sealed = L.sealed_key(ctx)
        assert sealed is not None
        key = L.signer(ctx)
        assert seed_of(key) not in sealed
        # The sealed key never appears in the clear anywhere in the database.
        with store.engine.connect() as c:
            blobs = [bytes(v) for v in c.execute(select(t.events.c.entry)).scalars()]
            blobs += [str(v).encode() for v in c.execute(select(t.checkpoints.c.note))
                      .scalars()]
        assert not any(seed_of(key) in b for b in blobs)
        # It signed the first checkpoint, and verify trusts it as the sealed key.
        size, note = L.latest_checkpoint(ctx) or (0, "")
        assert size == 1
        open_checkpoint(note, key.verifier())
        report = verify_ledger(context(sealed_settings, "studio", store=store))
        assert report.ok, [f.line() for f in report.failures]
        assert report.key_source == "sealed key" and not report.warnings
        # Without the master key nothing can be signed, and the code says why.
        bare = sealed_settings.model_copy(update={"master_key_file": None})
        with pytest.raises(ColdcheckError) as err:
            L.signer(context(bare, "studio", store=store))
        assert err.value.code == "KEY_MISSING" and "COLDCHECK_MASTER_KEY_FILE" in str(
            err.value.message)
        # Another master key: KEY_MISMATCH naming both ids. Verify cannot check the
        # sealed key there and, keys being sealed, does not fall back on the
        # database's word: it fails unless given the key (--key).
        other = sealed_settings.master_key_file.parent / "other.key"  # type: ignore[union-attr]
        generate_master_key_file(other)
        wrong = sealed_settings.model_copy(update={"master_key_file": other})
        with pytest.raises(ColdcheckError) as err:
            L.signer(context(wrong, "studio", store=store))
        assert err.value.code == "KEY_MISMATCH" and "another master key" in err.value.message
        # The checkpoint this server kept beside its (empty) key folder vouches
        # for the database's key; without it, nothing does.
        assert verify_ledger(context(wrong, "studio", store=store)).ok
        drop_kept(sealed_settings, "studio")
        report = verify_ledger(context(wrong, "studio", store=store))
        assert not report.ok and report.first is not None
        assert report.first.code == "LEDGER_KEY_UNTRUSTED"
        assert "the sealed key could not be checked" in report.first.message
        report = verify_ledger(context(wrong, "studio", store=store),
                               trusted_key=key.verifier_key())
        assert report.ok and report.key_source == "given"
        assert L.key_problems(store, wrong) == [
            f"studio: KEY_MISMATCH: {err.value.message}"]
    finally:
        store.dispose()


def test_a_sealed_key_is_written_once(sealed_settings: Settings) -> None:
    store = Store(sealed_settings.database_url)
    try:
        init_production(store=store, settings=sealed_settings, production="studio",
                        name="Studio", at=T0)
        for sql in ("UPDATE signing_keys SET sealed = sealed",
                    "DELETE FROM signing_keys"):
            with pytest.raises(Exception, match="append-only"), store.engine.begin() as c:
                c.execute(text(sql))
    finally:
        store.dispose()


def test_without_a_master_key_a_production_is_not_created_half_way(
        backend_settings: Settings) -> None:
    bare = backend_settings.model_copy(update={"key_store": "database"})
    store = Store(bare.database_url)
    try:
        with pytest.raises(ColdcheckError) as err:
            init_production(store=store, settings=bare, production="studio", name="Studio",
                            at=T0)
        assert err.value.code == "KEY_MISSING"
        assert [p["id"] for p in store.productions()] == []
    finally:
        store.dispose()


def test_a_key_file_moves_into_the_database_and_keeps_signing(
        backend_settings: Settings, master: Path) -> None:
    store = Store(backend_settings.database_url)
    try:
        ctx = init_production(store=store, settings=backend_settings, production="cart",
                              name="Cart", at=T0)
        before = L.signer(ctx).verifier_key()
        moved = backend_settings.model_copy(update={"master_key_file": master,
                                                    "key_store": "database"})
        ctx = context(moved, "cart", store=store)
        out = L.seal_file_key(ctx, at=T0)
        assert out["key_id"] == L.signer(ctx).key_id.hex()
        with pytest.raises(ColdcheckError) as err:
            L.seal_file_key(ctx, at=T0)
        assert err.value.code == "ALREADY_INITIALISED"
        # The key file can go: the sealed key signs the next checkpoint.
        (backend_settings.resolved_key_dir() / "cart.ed25519").unlink()
        assert L.signer(ctx).verifier_key() == before
        add_note(ctx, text="Moved to the studio server", refers_to=0, actor="system")
        size, note = L.sign_checkpoint(ctx, reason="on_demand", at=T0)
        assert size == 2
        open_checkpoint(note, Verifier.from_key(before))
        report = verify_ledger(ctx)
        assert report.ok and report.key_source == "sealed key"
    finally:
        store.dispose()


def test_the_cli_makes_a_master_key_and_seals_a_key(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLDCHECK_ARGON2_PROFILE", "fast-insecure-for-tests")
    monkeypatch.delenv("COLDCHECK_DATABASE_URL", raising=False)
    db, keys, master = tmp_path / "c.db", tmp_path / "keys", tmp_path / "master.key"
    monkeypatch.setenv("COLDCHECK_KEY_DIR", str(keys))
    r = runner.invoke(app, ["init", "--db", str(db), "--production", "cart", "--name", "Cart"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["ledger", "master-key", "--out", str(master)])
    assert r.exit_code == 0, r.output
    assert master.stat().st_mode & 0o777 == 0o600
    r = runner.invoke(app, ["ledger", "master-key", "--out", str(master)])
    assert r.exit_code == 4 and "FILE_EXISTS" in r.output
    r = runner.invoke(app, ["ledger", "seal-key", "--db", str(db)])
    assert r.exit_code == 2 and "COLDCHECK_KEY_STORE=database" in r.output
    monkeypatch.setenv("COLDCHECK_KEY_STORE", "database")
    r = runner.invoke(app, ["ledger", "seal-key", "--db", str(db)])
    assert r.exit_code == 2 and "KEY_MISSING" in r.output  # no master key set
    monkeypatch.setenv("COLDCHECK_MASTER_KEY_FILE", str(master))
    r = runner.invoke(app, ["ledger", "seal-key", "--db", str(db)])
    assert r.exit_code == 0 and "now kept in the database" in r.output, r.output
    (keys / "cart.ed25519").unlink()
    r = runner.invoke(app, ["ledger", "verify", "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    assert '"key_source": "sealed key"' in r.output


# ---------------------------------------------------------------- what the review found


def drop_kept(settings: Settings, production: str) -> None:
    """Remove the server's kept checkpoint (verifying elsewhere than the server)."""
    L.held_checkpoint_path(settings, production).unlink()


def unguard(c: Connection, dialect: str, *tables: str) -> None:
    """Turn off the append-only guard of ``tables``, as someone holding the
    database (not coldcheck) can."""
    for table in tables:
        if dialect == "sqlite":
            for what in ("update", "delete"):
                c.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{what}"))
        else:
            c.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))


def forge(store: Store, production: str) -> Signer:
    """Rewrite the production as an attacker with database access and no master
    key would: a key of their own as its verifier key, entry 0 naming it, every
    checkpoint re-signed, every stored hash recomputed."""
    import json

    from coldcheck.ledger import Checkpoint, build_stored_hashes, leaf_hashes
    from coldcheck.ledger import sign_checkpoint as sign_note

    prod = store.production(production)
    attacker = Signer.from_seed(str(prod["key_name"]), bytes(range(7, 39)))
    with store.engine.begin() as c:
        unguard(c, store.dialect, "events", "checkpoints", "ledger_hashes")
        c.execute(t.productions.update().values(verifier_key=attacker.verifier_key()))
        entries = [bytes(v) for v in c.execute(select(t.events.c.entry).where(
            t.events.c.production_id == production).order_by(t.events.c.seq)).scalars()]
        first = json.loads(entries[0])
        first["payload"]["key_id"] = attacker.key_id.hex()
        entries[0] = json.dumps(first, sort_keys=True, separators=(",", ":"),
                                ensure_ascii=False).encode()
        c.execute(t.events.update().where(t.events.c.production_id == production,
                                          t.events.c.seq == 0).values(entry=entries[0]))
        stored = build_stored_hashes(leaf_hashes(entries))
        for i, h in enumerate(stored):
            c.execute(t.ledger_hashes.update().where(
                t.ledger_hashes.c.production_id == production,
                t.ledger_hashes.c.idx == i).values(hash=h))
        from coldcheck.ledger import MemoryHashes, tree_hash
        mem = MemoryHashes(stored)
        for size in c.execute(select(t.checkpoints.c.tree_size).where(
                t.checkpoints.c.production_id == production)).scalars():
            note = sign_note(Checkpoint(str(prod["origin"]), int(size),
                                        tree_hash(int(size), mem)), attacker)
            c.execute(t.checkpoints.update().where(
                t.checkpoints.c.production_id == production,
                t.checkpoints.c.tree_size == size).values(note=note))
    return attacker


def test_a_history_re_signed_with_another_key_fails_against_the_sealed_key(
        sealed_settings: Settings) -> None:
    """Review: when the sealed key did not open, or once its row was gone,
    verify fell back to the key stored in the database and passed a history
    forged and re-signed with the attacker's key."""
    store = Store(sealed_settings.database_url)
    try:
        init_production(store=store, settings=sealed_settings, production="studio",
                        name="Studio", at=T0)
        forge(store, "studio")
        ctx = context(sealed_settings, "studio", store=store)
        report = verify_ledger(ctx)
        assert not report.ok and report.key_source == "sealed key"
        assert any(f.code == "LEDGER_KEY_MISMATCH" and f.subject == "database key"
                   for f in report.failures), [f.line() for f in report.failures]
        # Its own signer refuses to sign for the forged key.
        with pytest.raises(ColdcheckError) as err:
            L.signer(ctx)
        assert err.value.code == "KEY_MISMATCH" and "not the key it was created with" in \
            err.value.message
        # With the sealed row removed as well, a server that keeps keys in the
        # database does not take the database's word for the key.
        with store.engine.begin() as c:
            unguard(c, store.dialect, "signing_keys")
            c.execute(text("DELETE FROM signing_keys"))
        report = verify_ledger(ctx)  # the kept checkpoint is not the forger's key's
        assert not report.ok and report.first is not None
        assert report.first.code == "LEDGER_CHECKPOINT_INVALID" and str(
            L.held_checkpoint_path(sealed_settings, "studio")) in report.first.message
        drop_kept(sealed_settings, "studio")
        report = verify_ledger(ctx)
        assert not report.ok
        assert any(f.code == "LEDGER_KEY_UNTRUSTED" and "no key file at" in f.message
                   for f in report.failures), [f.line() for f in report.failures]
    finally:
        store.dispose()


def test_a_sealed_key_altered_under_its_own_master_key_fails_verify(
        sealed_settings: Settings) -> None:
    store = Store(sealed_settings.database_url)
    try:
        init_production(store=store, settings=sealed_settings, production="studio",
                        name="Studio", at=T0)
        ctx = context(sealed_settings, "studio", store=store)
        sealed = bytearray(L.sealed_key(ctx) or b"")
        sealed[-1] ^= 1
        rewrite_sealed(store, "studio", bytes(sealed))
        report = verify_ledger(ctx)
        assert not report.ok and report.failures[0].code == "LEDGER_KEY_MISMATCH"
        assert "altered" in report.failures[0].message
    finally:
        store.dispose()


def test_a_sealed_key_that_cannot_be_used_gives_way_to_the_production_s_key_file(
        backend_settings: Settings, master: Path, tmp_path: Path) -> None:
    """Review: a sealed row that does not open (sealed by seal-key under another
    master key than the servers') kept the production from signing at all,
    though its key file was there. The key file is the production's key: it
    signs, with a warning, and a key file of another key still does not."""
    store = Store(backend_settings.database_url)
    try:
        init_production(store=store, settings=backend_settings, production="cart",
                        name="Cart", at=T0)
        before = L.signer(context(backend_settings, "cart", store=store)).verifier_key()
        sealing = backend_settings.model_copy(update={"master_key_file": master,
                                                      "key_store": "database"})
        ctx = context(sealing, "cart", store=store)
        L.seal_file_key(ctx, at=T0)
        other = tmp_path / "servers-master.key"
        generate_master_key_file(other)
        servers = context(sealing.model_copy(update={"master_key_file": other}), "cart",
                          store=store)
        assert L.signer(servers).verifier_key() == before  # from the key file
        path = backend_settings.resolved_key_dir() / "cart.ed25519"
        path.unlink()
        from coldcheck.ledger import generate_key_file
        generate_key_file(path, str(store.production("cart")["key_name"]))  # another key
        with pytest.raises(ColdcheckError) as err:
            L.signer(servers)
        assert err.value.code == "KEY_MISMATCH" and "another master key" in err.value.message
        # The sealed key is preferred where it opens, whatever the key file holds.
        assert L.signer(ctx).verifier_key() == before
    finally:
        store.dispose()


def test_a_stray_key_file_stops_a_sealed_production_from_being_created(
        sealed_settings: Settings) -> None:
    from coldcheck.ledger import generate_key_file

    key_dir = sealed_settings.resolved_key_dir()
    key_dir.mkdir(parents=True, exist_ok=True)
    generate_key_file(key_dir / "studio.ed25519", "coldcheck.local/productions/studio")
    store = Store(sealed_settings.database_url)
    try:
        with pytest.raises(ColdcheckError) as err:
            init_production(store=store, settings=sealed_settings, production="studio",
                            name="Studio", at=T0)
        assert err.value.code == "ALREADY_INITIALISED"
        assert [p["id"] for p in store.productions()] == []
    finally:
        store.dispose()


def test_the_production_and_its_sealed_key_commit_together(
        sealed_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the first entry cannot be appended, neither the production nor its
    sealed key is left behind (they are one transaction)."""
    from coldcheck.persistence import store as store_module

    def broken(self: object, *a: object, **kw: object) -> object:
        raise RuntimeError("disk full")

    store = Store(sealed_settings.database_url)
    try:
        store.migrate()
        monkeypatch.setattr(store_module.Tx, "append", broken)
        with pytest.raises(RuntimeError):
            init_production(store=store, settings=sealed_settings, production="studio",
                            name="Studio", at=T0)
        with store.engine.connect() as c:
            assert c.execute(select(t.signing_keys.c.production_id)).first() is None
            assert c.execute(select(t.productions.c.id)).first() is None
    finally:
        store.dispose()


def test_replace_cannot_swap_an_append_only_row_on_sqlite(settings: Settings) -> None:
    """Review: SQLite's INSERT OR REPLACE deletes the row it replaces without
    firing DELETE triggers unless recursive_triggers is on. coldcheck's
    connections turn it on."""
    store = Store(settings.database_url)
    try:
        init_production(store=store, settings=settings, production="cart", name="Cart",
                        at=T0)
        with pytest.raises(Exception, match="append-only"), store.engine.begin() as c:
            c.execute(text("INSERT OR REPLACE INTO checkpoints SELECT production_id, "
                           "tree_size, 'forged', reason, created_at FROM checkpoints"))
    finally:
        store.dispose()


def test_a_database_before_migration_0006_still_signs_from_its_key_file(
        settings: Settings) -> None:
    """An upgraded coldcheck on a database not yet migrated reads it as having no
    sealed keys, and seal-key asks for the migration first."""
    from alembic import command
    from alembic.config import Config

    store = Store(settings.database_url)
    try:
        init_production(store=store, settings=settings, production="cart", name="Cart",
                        at=T0)
        with store.engine.begin() as c:
            c.execute(text("DROP TABLE signing_keys"))
            cfg = Config()
            cfg.set_main_option("script_location", "coldcheck.persistence:migrations")
            cfg.attributes["connection"] = c
            command.stamp(cfg, "0005")
        ctx = context(settings, "cart", store=store)
        assert L.sealed_key(ctx) is None
        add_note(ctx, text="Still on 0005", refers_to=0, actor="system")
        assert L.sign_checkpoint(ctx, reason="on_demand", at=T0)[0] == 2
        with pytest.raises(ColdcheckError) as err:
            L.seal_file_key(context(settings.model_copy(update={"key_store": "database"}),
                                    "cart", store=store), at=T0)
        assert err.value.code == "NOT_INITIALISED" and "coldcheck migrate" in err.value.message
    finally:
        store.dispose()


# ---------------------------------------------------------------- the second review


def rewrite_sealed(store: Store, production: str, sealed: bytes) -> None:
    with store.engine.begin() as c:
        unguard(c, store.dialect, "signing_keys")
        c.execute(t.signing_keys.update().where(
            t.signing_keys.c.production_id == production).values(sealed=sealed))


def test_a_forged_master_key_id_does_not_turn_the_check_into_a_warning(
        sealed_settings: Settings) -> None:
    """Second review: rewriting the master key id in the sealed row made verify
    take the key as "sealed under another master key", warn, and trust the
    forged verifier key in the database: exit 0 on a forged history."""
    store = Store(sealed_settings.database_url)
    try:
        init_production(store=store, settings=sealed_settings, production="studio",
                        name="Studio", at=T0)
        ctx = context(sealed_settings, "studio", store=store)
        genuine = L.signer(ctx)
        sealed = bytearray(L.sealed_key(ctx) or b"")
        sealed[4:12] = bytes(8)  # "another master key"
        rewrite_sealed(store, "studio", bytes(sealed))
        forge(store, "studio")
        drop_kept(sealed_settings, "studio")  # as on a host that never signed here
        report = verify_ledger(ctx)
        assert not report.ok and report.key_source == "database"
        assert report.failures[0].code == "LEDGER_KEY_UNTRUSTED"
        assert "could not be checked" in report.failures[0].message
        # Nothing signs for it either: the sealed key "of another master key" can
        # only give way to a key file, and there is none.
        with pytest.raises(ColdcheckError) as err:
            L.signer(ctx)
        assert err.value.code == "KEY_MISMATCH" and "another master key" in err.value.message
        # Against the key the producer holds, the forgery is plain.
        report = verify_ledger(ctx, trusted_key=genuine.verifier_key())
        assert not report.ok and report.key_source == "given"
    finally:
        store.dispose()


def test_without_a_master_key_or_a_readable_key_file_sealed_productions_need_key(
        sealed_settings: Settings) -> None:
    """Second review: no master key (KEY_MISSING) or an unreadable key file only
    warned, then the database's verifier key was trusted."""
    store = Store(sealed_settings.database_url)
    try:
        init_production(store=store, settings=sealed_settings, production="studio",
                        name="Studio", at=T0)
        genuine = L.signer(context(sealed_settings, "studio", store=store))
        bare = sealed_settings.model_copy(update={"master_key_file": None})
        drop_kept(sealed_settings, "studio")  # a laptop with the database only
        report = verify_ledger(context(bare, "studio", store=store))
        assert not report.ok and report.first is not None
        assert "KEY_MISSING" in report.first.message
        assert verify_ledger(context(bare, "studio", store=store),
                             trusted_key=genuine.verifier_key()).ok
    finally:
        store.dispose()


def test_an_unreadable_key_file_is_not_a_key_where_keys_are_sealed(
        backend_settings: Settings, master: Path) -> None:
    store = Store(backend_settings.database_url)
    try:
        init_production(store=store, settings=backend_settings, production="cart",
                        name="Cart", at=T0)
        os.chmod(backend_settings.resolved_key_dir() / "cart.ed25519", 0o640)
        studio = backend_settings.model_copy(update={"key_store": "database",
                                                     "master_key_file": master})
        for s in (backend_settings, studio):  # a set cart, as a studio server
            report = verify_ledger(context(s, "cart", store=store))
            assert not report.ok and report.first is not None
            assert report.first.code == "LEDGER_KEY_MISMATCH"
            assert "cannot be used" in report.first.message
    finally:
        store.dispose()


def test_signer_never_falls_back_past_a_sealed_key_this_master_key_opens(
        sealed_settings: Settings) -> None:
    """Second review: a sealed key that opened but differed from a tampered
    verifier key gave way to a key file of the attacker's choosing. Now only a
    sealed key this server cannot check gives way, and any key must be the one
    entry 0 records."""
    from coldcheck.ledger import generate_key_file

    store = Store(sealed_settings.database_url)
    try:
        init_production(store=store, settings=sealed_settings, production="studio",
                        name="Studio", at=T0)
        key_dir = sealed_settings.resolved_key_dir()
        key_dir.mkdir(parents=True, exist_ok=True)
        stray = generate_key_file(key_dir / "studio.ed25519", str(
            store.production("studio")["key_name"]))
        with store.engine.begin() as c:
            c.execute(t.productions.update().values(verifier_key=stray.verifier_key()))
        ctx = context(sealed_settings, "studio", store=store)
        with pytest.raises(ColdcheckError) as err:
            L.signer(ctx)
        assert err.value.code == "KEY_MISMATCH" and "not the key it was created with" in \
            err.value.message
        # Even where the sealed key cannot be checked (no master key here), the
        # key file is refused: entry 0 names another key.
        bare = sealed_settings.model_copy(update={"master_key_file": None})
        with pytest.raises(ColdcheckError) as err:
            L.signer(context(bare, "studio", store=store))
        assert err.value.code == "KEY_MISMATCH" and "entry 0 of its ledger records" in \
            err.value.message
    finally:
        store.dispose()


def test_seal_key_at_the_same_moment_as_another_is_already_initialised(
        backend_settings: Settings, master: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(backend_settings.database_url)
    try:
        init_production(store=store, settings=backend_settings, production="cart",
                        name="Cart", at=T0)
        ctx = context(backend_settings.model_copy(
            update={"master_key_file": master, "key_store": "database"}), "cart",
            store=store)
        L.seal_file_key(ctx, at=T0)
        monkeypatch.setattr(L, "sealed_key", lambda ctx: None)  # the check ran before
        with pytest.raises(ColdcheckError) as err:
            L.seal_file_key(ctx, at=T0)
        assert err.value.code == "ALREADY_INITIALISED"
    finally:
        store.dispose()
