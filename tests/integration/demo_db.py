"""Real demo database files to verify, prove from and tamper with.

``demo_copy(dest)`` gives a fresh copy of one SQLite file built by
:func:`coldcheck.demo.run_demo` (built once per test session, then copied with
SQLite's backup API), with its key directory, and the Settings that point at
them. :class:`Attacker` edits such a file the way someone with the file and
the ``sqlite3`` shell would: it first drops the append-only triggers.

Importable from tests in this directory as ``from demo_db import demo_copy``.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from coldcheck.config import Settings
from coldcheck.demo import DEMO_PRODUCTION, run_demo
from coldcheck.ledger import (
    Checkpoint,
    MemoryHashes,
    Signer,
    build_stored_hashes,
    leaf_hashes,
    sign_checkpoint,
    stored_hash_count,
    tree_hash,
)
from coldcheck.persistence.index import fill as fill_index
from coldcheck.persistence.store import Store
from coldcheck.services.context import context
from coldcheck.services.verify import VerifyReport, verify_ledger

PRODUCTION = DEMO_PRODUCTION
_template: Path | None = None


def settings_for(folder: Path, url: str | None = None) -> Settings:
    return Settings(database_url=url or str(folder / "coldcheck.db"), key_dir=folder / "keys",
                    argon2_profile="fast-insecure-for-tests", device="pytest")


def _build_template() -> Path:
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="coldcheck-demo-db-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        s = settings_for(folder)
        store = Store(s.database_url)
        try:
            run_demo(store, s)
        finally:
            store.dispose()
        _template = folder
    return _template


def demo_copy(dest: Path) -> Settings:
    """A private copy of the demo database and its keys under ``dest``."""
    src = _build_template()
    dest.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(src / "coldcheck.db") as a, sqlite3.connect(dest / "coldcheck.db") as b:
        a.backup(b)
    a.close()
    b.close()
    shutil.copytree(src / "keys", dest / "keys")
    with sqlite3.connect(dest / "coldcheck.db") as c:
        triggers = {r[0] for r in c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    c.close()
    assert {"events_no_update", "events_no_delete"} <= triggers, triggers
    return settings_for(dest)


def verify(settings: Settings, **kw: Any) -> VerifyReport:
    """Run ``verify_ledger`` on a database the way the CLI does (fresh store)."""
    ctx = context(settings, None)
    try:
        return verify_ledger(ctx, **kw)
    finally:
        ctx.store.dispose()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Attacker:
    """Direct sqlite3 access to a coldcheck file, append-only triggers dropped."""

    def __init__(self, db: Path) -> None:
        self.con = sqlite3.connect(db, isolation_level=None)
        self.triggers = [(str(r[0]), str(r[1])) for r in self.con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")]
        for name, _ in self.triggers:
            self.con.execute(f'DROP TRIGGER "{name}"')

    def __enter__(self) -> Attacker:
        return self

    def __exit__(self, *exc: object) -> None:
        # A careful attacker puts the append-only triggers back: a database
        # without them fails verification on that alone (LEDGER_SCHEMA_ALTERED).
        for _, sql in self.triggers:
            with contextlib.suppress(sqlite3.Error):  # its table was dropped too
                self.con.execute(sql)
        self.con.close()

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        return list(self.con.execute(statement, params))

    # ---- reading ---------------------------------------------------------
    def head(self) -> int:
        return int(self.sql("SELECT head FROM productions WHERE id = ?", PRODUCTION)[0][0])

    def entry(self, seq: int) -> bytes:
        return bytes(self.sql("SELECT entry FROM events WHERE production_id = ? AND seq = ?",
                              PRODUCTION, seq)[0][0])

    def entries(self) -> list[bytes]:
        return [bytes(r[0]) for r in self.sql(
            "SELECT entry FROM events WHERE production_id = ? ORDER BY seq", PRODUCTION)]

    def seq_of(self, type_: str, nth: int = 0) -> int:
        rows = self.sql("SELECT seq FROM events WHERE production_id = ? AND type = ? "
                        "ORDER BY seq", PRODUCTION, type_)
        return int(rows[nth][0])

    def stored_hashes(self) -> list[bytes]:
        return [bytes(r[0]) for r in self.sql(
            "SELECT hash FROM ledger_hashes WHERE production_id = ? ORDER BY idx", PRODUCTION)]

    def checkpoints(self) -> dict[int, str]:
        return {int(s): str(n) for s, n in self.sql(
            "SELECT tree_size, note FROM checkpoints WHERE production_id = ?", PRODUCTION)}

    def origin(self) -> str:
        return str(self.sql("SELECT origin FROM productions WHERE id = ?", PRODUCTION)[0][0])

    # ---- writing ---------------------------------------------------------
    def set_entry(self, seq: int, data: bytes) -> None:
        self.sql("UPDATE events SET entry = ? WHERE production_id = ? AND seq = ?",
                 data, PRODUCTION, seq)

    def flip(self, seq: int, offset: int, bit: int = 0x01) -> bytes:
        """Flip one bit of one byte of entry ``seq``; return the new bytes."""
        data = bytearray(self.entry(seq))
        data[offset] ^= bit
        self.set_entry(seq, bytes(data))
        return bytes(data)

    def truncate(self, keep: int) -> None:
        """Remove entries ``keep..`` and their stored hashes; move the head back."""
        self.sql("DELETE FROM events WHERE production_id = ? AND seq >= ?", PRODUCTION, keep)
        self.sql("DELETE FROM ledger_hashes WHERE production_id = ? AND idx >= ?", PRODUCTION,
                 stored_hash_count(keep))
        self.sql("UPDATE productions SET head = ? WHERE id = ?", keep, PRODUCTION)

    def rewrite_hashes(self) -> None:
        """Recompute every stored hash (and the timeline index) from the (edited)
        entries, as a careful attacker would, so that the database is consistent
        with itself."""
        hashes = build_stored_hashes(leaf_hashes(self.entries()))
        self.sql("DELETE FROM ledger_hashes WHERE production_id = ?", PRODUCTION)
        self.con.executemany("INSERT INTO ledger_hashes (production_id, idx, hash) "
                             "VALUES (?, ?, ?)",
                             [(PRODUCTION, i, h) for i, h in enumerate(hashes)])
        # The timeline index is derived from the entries too (migration 0007).
        if self.sql("SELECT name FROM sqlite_master WHERE name = 'timeline_index'"):
            self.sql("DELETE FROM timeline_index WHERE production_id = ?", PRODUCTION)
            fill_index(self.con.cursor(), "sqlite", PRODUCTION)

    def resign(self, signer: Signer, *, keep_old: bool = False) -> str:
        """Install ``signer`` as the production's key and sign the current head
        with it (replacing every checkpoint unless ``keep_old``). Returns the note."""
        size = self.head()
        root = tree_hash(size, MemoryHashes(self.stored_hashes()))
        note = sign_checkpoint(Checkpoint(self.origin(), size, root), signer)
        self.sql("UPDATE productions SET verifier_key = ? WHERE id = ?", signer.verifier_key(),
                 PRODUCTION)
        if not keep_old:
            self.sql("DELETE FROM checkpoints WHERE production_id = ?", PRODUCTION)
        self.sql("INSERT OR REPLACE INTO checkpoints (production_id, tree_size, note, reason, "
                 "created_at) VALUES (?, ?, ?, 'wrap', '2026-11-24T23:00:00.000000Z')",
                 PRODUCTION, size, note)
        return note
