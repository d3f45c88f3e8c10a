"""Go's reference implementation accepts what the coldcheck CLI prints for a real database.

A demo database (a shooting day written through the services) is read back
only through the command line: `ledger key`, `ledger checkpoint`, `ledger entry
N` (exact bytes), `ledger prove-inclusion --json` and `ledger prove-consistency
--json`. tests/interop/verify.go, which uses nothing but Go's
golang.org/x/mod/sumdb/note and sumdb/tlog, must accept all of it: the
signature, the entries' tree hash against the signed root, every inclusion and
consistency proof. One changed byte anywhere makes it refuse. Skipped without
Go, except with CI=true, where that is a failure.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from demo_db import Attacker, demo_copy
from go_verifier import GoResult, go_document, go_verifier_or_skip, run_go_verifier
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.ledger import Checkpoint, leaf_hash
from coldcheck.services import ledger as service
from coldcheck.services.context import context

runner = CliRunner()


@pytest.fixture(scope="module")
def go_verifier() -> Path:
    return go_verifier_or_skip()


class Cli:
    """The `coldcheck ledger` commands on one database, as a user runs them."""

    def __init__(self, s: Settings) -> None:
        self.s = s
        self.env = {"COLDCHECK_KEY_DIR": str(s.key_dir)}

    def raw(self, *args: str) -> bytes:
        res = runner.invoke(app, ["ledger", *args, "--db", self.s.database_url], env=self.env)
        assert res.exit_code == 0, res.output
        return res.stdout_bytes

    def text(self, *args: str) -> str:
        return self.raw(*args).decode("utf-8")

    def json(self, *args: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.raw(*args, "--json"))
        return data

    def key(self) -> str:
        return self.text("key").strip()

    def checkpoint(self) -> str:
        return self.text("checkpoint")

    def entry(self, n: int) -> bytes:
        return self.raw("entry", str(n))

    def entries(self, n: int, sample: int = 8) -> list[bytes]:
        """Entries 0..n-1. Each CLI run opens the database afresh (about 0.1 s), so
        the CLI prints a sample and the rest come from the service it calls,
        checked to be the same bytes on the sample."""
        ctx = context(self.s, None)
        try:
            out = [service.entry(ctx, i) for i in range(n)]
        finally:
            ctx.store.dispose()
        for i in {0, n - 1, *random.Random(n).sample(range(n), min(n, sample))}:
            assert self.entry(i) == out[i], i
        return out

    def inclusion(self, n: int, size: int | None = None) -> dict[str, Any]:
        extra = ("--size", str(size)) if size is not None else ()
        return self.json("prove-inclusion", str(n), *extra)

    def consistency(self, old: int, size: int | None = None) -> dict[str, Any]:
        extra = ("--size", str(size)) if size is not None else ()
        return self.json("prove-consistency", str(old), *extra)


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    return demo_copy(tmp_path / "demo")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One copy for the tests that only read."""
    return demo_copy(tmp_path_factory.mktemp("shared") / "demo")


def accepted(result: GoResult) -> None:
    assert result.ok, (f"Go rejected coldcheck's output (exit {result.returncode}): "
                       f"{result.failures}\n{result.stderr}")


def rejected(result: GoResult, *expected: str) -> None:
    assert not result.ok and result.returncode != 0, "Go accepted tampered data"
    joined = "\n".join(result.failures)
    for text in expected:
        assert text in joined, f"expected a failure naming {text!r}, got {result.failures}"


def size_of(note: str) -> int:
    return Checkpoint.parse(note[: note.index("\n\n") + 1]).size


def root_of(note: str) -> str:
    return base64.b64encode(Checkpoint.parse(note[: note.index("\n\n") + 1]).root_hash).decode()


def test_go_accepts_everything_the_cli_prints_for_a_demo_database(
        go_verifier: Path, shared: Settings) -> None:
    cli = Cli(shared)
    key, note = cli.key(), cli.checkpoint()
    n = size_of(note)
    assert n == 95
    entries = cli.entries(n)
    rng = random.Random(94)
    inclusion = [cli.inclusion(i) for i in (0, 1, 46, 94, *rng.sample(range(n), 4))]
    inclusion += [cli.inclusion(i, size) for size, i in ((1, 0), (30, 29), (80, 17), (64, 63))]
    consistency = [cli.consistency(old) for old in (1, 2, 30, 64, 80, 94, 95)]
    consistency += [cli.consistency(old, size) for old, size in
                    ((1, 30), (30, 80), (7, 64), (80, 80))]
    # The earlier checkpoints as stored (init, the two incidents): Go opens each
    # with the same key and ties the proofs from their sizes to their roots.
    with sqlite3.connect(shared.database_url) as db:
        earlier = [str(r[0]) for r in db.execute(
            "SELECT note FROM checkpoints WHERE tree_size < ? ORDER BY tree_size", (n,))]
    db.close()
    assert [size_of(e) for e in earlier] == [1, 30, 80]
    result = run_go_verifier(go_verifier, go_document(
        key, note, entries=entries, inclusion=inclusion, consistency=consistency,
        earlier_notes=earlier))
    accepted(result)
    assert result.output["checked"] == {"signature": True, "entries": n,
                                        "inclusion": len(inclusion),
                                        "consistency": len(consistency), "earlier": 3}
    assert result.output["checkpoint"]["size"] == n
    # The CLI's leaf hashes are the hashes of the exact bytes it prints.
    for item in inclusion:
        assert item["leaf_hash"] == base64.b64encode(leaf_hash(entries[item["index"]])).decode()


def test_go_accepts_every_stored_checkpoint_against_the_entries_it_covers(
        go_verifier: Path, shared: Settings) -> None:
    """Each checkpoint signed during the day (creation, two incidents, the wrap):
    its signature, the root of the entries it covers, and its consistency with
    the wrap checkpoint."""
    cli = Cli(shared)
    key = cli.key()
    with Attacker(Path(shared.database_url)) as x:
        notes = x.checkpoints()
    assert sorted(notes) == [1, 30, 80, 95]
    entries = cli.entries(95, sample=0)
    wrap_root = root_of(notes[95])
    for size, note in sorted(notes.items()):
        assert size_of(note) == size
        proofs = [cli.consistency(size)]  # from this checkpoint to the wrap
        # The proof links the two signed roots (Go checks the proof itself).
        assert (proofs[0]["old_root"], proofs[0]["root_hash"]) == (root_of(note), wrap_root)
        mine = [cli.inclusion(size - 1, size)]
        result = run_go_verifier(go_verifier, go_document(
            key, note, entries=entries[:size], inclusion=mine, consistency=proofs))
        accepted(result)
        assert result.output["checked"]["entries"] == size


def test_the_installed_command_prints_the_same_bytes(shared: Settings) -> None:
    exe = Path(sys.executable).with_name("coldcheck")
    if not exe.exists():
        pytest.skip("the coldcheck console script is not installed next to this Python")
    env = {**os.environ, "COLDCHECK_KEY_DIR": str(shared.key_dir)}
    out = subprocess.run([str(exe), "ledger", "entry", "42", "--db", shared.database_url],
                         capture_output=True, env=env, check=True, timeout=120).stdout
    assert out == Cli(shared).entry(42)


# ------------------------------------------------------------------ rejected


def test_go_rejects_a_database_entry_changed_by_one_byte(go_verifier: Path,
                                                        demo: Settings) -> None:
    cli = Cli(demo)
    key, note = cli.key(), cli.checkpoint()
    k = 57
    proof = cli.inclusion(k)
    with Attacker(Path(demo.database_url)) as x:
        x.flip(k, 150)
    entries = cli.entries(95, sample=0)
    assert entries[k] == cli.entry(k)
    result = run_go_verifier(go_verifier, go_document(key, note, entries=entries,
                                                      inclusion=[proof]))
    rejected(result, f"leaf_hash is not tlog.RecordHash(entries_b64[{k}])", "entries: tree hash")
    # The proof the database still serves is for the original bytes: recomputed
    # from the changed entry, it fails tlog.CheckRecord.
    proof["leaf_hash"] = base64.b64encode(leaf_hash(entries[k])).decode()
    result = run_go_verifier(go_verifier, go_document(key, note, inclusion=[proof]))
    rejected(result, "tlog.CheckRecord")


def test_go_rejects_one_changed_byte_in_a_proof_or_the_note(go_verifier: Path,
                                                           shared: Settings) -> None:
    cli = Cli(shared)
    key, note = cli.key(), cli.checkpoint()
    inc, con = cli.inclusion(40), cli.consistency(30)
    raw = bytearray(base64.b64decode(inc["proof"][3]))
    raw[0] ^= 0x01
    inc["proof"][3] = base64.b64encode(bytes(raw)).decode()
    rejected(run_go_verifier(go_verifier, go_document(key, note, inclusion=[inc])),
             "inclusion[0]", "tlog.CheckRecord")
    raw = bytearray(base64.b64decode(con["old_root"]))
    raw[31] ^= 0x80
    con["old_root"] = base64.b64encode(bytes(raw)).decode()
    rejected(run_go_verifier(go_verifier, go_document(key, note, consistency=[con])),
             "consistency[0]", "tlog.CheckTree")
    forged = note.replace("\n95\n", "\n94\n", 1)
    rejected(run_go_verifier(go_verifier, go_document(key, forged)), "note.Open")
