"""Signing keys kept in the database, sealed with a master key (key_store=database).

ledger.md: the private key is stored with file mode 0600, "or in the database,
encrypted, at studio scale". The sealed key must never be readable without the
master key, must open only for the production and public key it was sealed for,
must sign checkpoints and pass `ledger verify` on both backends, and a file key
can be moved into the database without changing the production's key.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.ledger import (
    Signer,
    Verifier,
    generate_master_key_file,
    load_master_key,
    open_checkpoint,
    seal_key,
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


def test_a_sealed_key_opens_only_with_its_master_key_production_and_public_key() -> None:
    s = Signer.from_seed("coldcheck.local/productions/a", bytes(range(32)))
    master = bytes(range(100, 132))
    sealed = seal_key(s, master, production="a")
    assert seed_of(s) not in sealed and len(sealed) == 64
    again = unseal_key(sealed, master, production="a", name=s.name,
                       verifier_key=s.verifier_key())
    assert again.verifier_key() == s.verifier_key()
    other = Signer.from_seed(s.name, bytes(32))
    for kw in ({"production": "b"}, {"verifier_key": other.verifier_key()}):
        with pytest.raises(ValueError, match="does not open"):
            unseal_key(sealed, master, **{"production": "a", "name": s.name,
                                          "verifier_key": s.verifier_key(), **kw})
    with pytest.raises(ValueError, match="does not open"):
        unseal_key(sealed, bytes(32), production="a", name=s.name,
                   verifier_key=s.verifier_key())
    for i in range(4, len(sealed)):  # every byte past the magic is covered
        bad = bytearray(sealed)
        bad[i] ^= 1
        with pytest.raises(ValueError):
            unseal_key(bytes(bad), master, production="a", name=s.name,
                       verifier_key=s.verifier_key())
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
        # A wrong master key: KEY_MISMATCH, and verify falls back with a warning.
        other = sealed_settings.master_key_file.parent / "other.key"  # type: ignore[union-attr]
        generate_master_key_file(other)
        wrong = sealed_settings.model_copy(update={"master_key_file": other})
        with pytest.raises(ColdcheckError) as err:
            L.signer(context(wrong, "studio", store=store))
        assert err.value.code == "KEY_MISMATCH" and "does not open" in err.value.message
        report = verify_ledger(context(wrong, "studio", store=store))
        assert report.ok and report.key_source == "database"
        assert any("could not be opened" in w for w in report.warnings)
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
        moved = backend_settings.model_copy(update={"master_key_file": master})
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
    assert r.exit_code == 2 and "KEY_MISSING" in r.output  # no master key set
    monkeypatch.setenv("COLDCHECK_MASTER_KEY_FILE", str(master))
    r = runner.invoke(app, ["ledger", "seal-key", "--db", str(db)])
    assert r.exit_code == 0 and "now kept in the database" in r.output, r.output
    (keys / "cart.ed25519").unlink()
    r = runner.invoke(app, ["ledger", "verify", "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    assert '"key_source": "sealed key"' in r.output
