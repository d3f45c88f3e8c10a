"""Go's reference implementation accepts what coldcheck's ledger library produces.

The checkpoint, signature, inclusion and consistency proofs here are produced by
our Python code over random entries and a freshly generated key, then judged
by tests/interop/verify.go, which uses only golang.org/x/mod/sumdb/note and
golang.org/x/mod/sumdb/tlog. Skipped when Go or x/mod are missing, except with
CI=true, where that is a failure.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest
from go_verifier import (
    GoResult,
    consistency_item,
    go_document,
    go_verifier_or_skip,
    inclusion_item,
    run_go_verifier,
)
from ledger_vectors import vectors

from coldcheck.ledger import (
    Checkpoint,
    MemoryHashes,
    Signer,
    generate_key_file,
    leaf_hash,
    leaf_hashes,
    prove_record,
    prove_tree,
    sign_checkpoint,
    tree_hash,
)

ORIGIN = "coldcheck.test/productions/interop"


@pytest.fixture(scope="session")
def go_verifier() -> Path:
    return go_verifier_or_skip()


class Log:
    """A log of random entries built with the library under test."""

    def __init__(self, size: int, seed: int) -> None:
        rng = random.Random(seed)
        self.entries = [
            json.dumps(
                {
                    "seq": i,
                    "type": "weapon.checked_out",
                    "note": rng.randbytes(rng.randint(0, 60)).hex(),
                },
                sort_keys=True,
                separators=(",", ":"),
            ).encode()
            for i in range(size)
        ]
        self.leaves = leaf_hashes(self.entries)
        self.store = MemoryHashes()
        # Append in uneven batches, as the application does.
        start = 0
        while start < size:
            step = rng.randint(1, 17)
            self.store.add_leaves(self.leaves[start : start + step])
            start += step
        self.size = size
        self.rng = rng

    def root(self, size: int | None = None) -> bytes:
        return tree_hash(self.size if size is None else size, self.store)

    def inclusion(self, index: int, tree_size: int) -> dict[str, Any]:
        return inclusion_item(
            index,
            tree_size,
            self.leaves[index],
            self.root(tree_size),
            prove_record(tree_size, index, self.store),
        )

    def consistency(self, old_size: int, tree_size: int) -> dict[str, Any]:
        return consistency_item(
            old_size,
            self.root(old_size),
            tree_size,
            self.root(tree_size),
            prove_tree(tree_size, old_size, self.store),
        )

    def random_inclusions(self, count: int) -> list[dict[str, Any]]:
        out = [self.inclusion(0, self.size), self.inclusion(self.size - 1, self.size)]
        for _ in range(count):
            t = self.rng.randint(1, self.size)
            out.append(self.inclusion(self.rng.randrange(t), t))
        return out

    def random_consistencies(self, count: int) -> list[dict[str, Any]]:
        out = [self.consistency(1, self.size), self.consistency(self.size, self.size)]
        for _ in range(count):
            t = self.rng.randint(1, self.size)
            out.append(self.consistency(self.rng.randint(1, t), t))
        return out


def signed(log: Log, signer: Signer, extensions: tuple[str, ...] = ()) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, log.size, log.root(), extensions), signer)


def assert_accepted(result: GoResult) -> None:
    assert result.ok, (
        f"Go rejected coldcheck's output (exit {result.returncode}): "
        f"{result.failures}\n{result.stderr}"
    )


def assert_rejected(result: GoResult, *expected: str) -> None:
    assert not result.ok and result.returncode != 0, "Go accepted tampered data"
    joined = "\n".join(result.failures)
    for text in expected:
        assert text in joined, f"expected a failure naming {text!r}, got: {result.failures}"


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    path = tmp_path_factory.mktemp("keys") / "interop.key"
    return generate_key_file(path, ORIGIN)


# ----------------------------------------------------------------------- accepted


def test_go_accepts_the_shared_known_answer_vectors(go_verifier: Path) -> None:
    v = vectors()
    leaves = {leaf["index"]: leaf["leaf_hash"] for leaf in v["leaves"]}
    doc = {
        "verifier_key": v["checkpoint"]["verifier_key"],
        "signed_note": v["checkpoint"]["signed_note"],
        "entries_b64": [base64.b64encode(leaf["entry"].encode()).decode() for leaf in v["leaves"]],
        "inclusion": [
            {
                **{k: p[k] for k in ("index", "tree_size", "root_hash", "proof")},
                "leaf_hash": leaves[p["index"]],
            }
            for p in v["inclusion"]
        ],
        "consistency": v["consistency"],
    }
    result = run_go_verifier(go_verifier, doc)
    assert_accepted(result)
    assert result.output["checked"]["inclusion"] == 43
    assert result.output["checked"]["consistency"] == 14


@pytest.mark.parametrize(("size", "seed"), [(1, 1), (2, 2), (7, 3), (64, 4), (130, 5), (777, 6)])
def test_go_accepts_our_checkpoint_proofs_and_entries(
    go_verifier: Path, signer: Signer, size: int, seed: int
) -> None:
    log = Log(size, seed)
    inclusion = log.random_inclusions(40)
    consistency = log.random_consistencies(40)
    doc = go_document(
        signer.verifier_key(),
        signed(log, signer),
        entries=log.entries,
        inclusion=inclusion,
        consistency=consistency,
    )
    result = run_go_verifier(go_verifier, doc)
    assert_accepted(result)
    assert result.output["checkpoint"] == {
        "origin": ORIGIN,
        "size": size,
        "root_hash": base64.b64encode(log.root()).decode(),
    }
    assert result.output["checked"] == {
        "signature": True,
        "entries": size,
        "inclusion": len(inclusion),
        "consistency": len(consistency),
        "earlier": 0,
    }


def test_go_accepts_every_proof_of_a_small_log(go_verifier: Path, signer: Signer) -> None:
    log = Log(33, 7)
    inclusion = [log.inclusion(n, t) for t in range(1, 34) for n in range(t)]
    consistency = [log.consistency(n, t) for t in range(1, 34) for n in range(1, t + 1)]
    doc = go_document(
        signer.verifier_key(), signed(log, signer), inclusion=inclusion, consistency=consistency
    )
    assert_accepted(run_go_verifier(go_verifier, doc))


def test_go_accepts_a_checkpoint_with_extension_lines(go_verifier: Path, signer: Signer) -> None:
    log = Log(10, 8)
    note = signed(log, signer, ("wrap: day 12", "incident: none"))
    assert_accepted(run_go_verifier(go_verifier, go_document(signer.verifier_key(), note)))


# ----------------------------------------------------------------------- rejected


def test_go_rejects_a_tampered_inclusion_proof(go_verifier: Path, signer: Signer) -> None:
    log = Log(100, 9)
    item = log.inclusion(37, 100)
    raw = bytearray(base64.b64decode(item["proof"][2]))
    raw[5] ^= 0x10
    item["proof"][2] = base64.b64encode(bytes(raw)).decode()
    doc = go_document(signer.verifier_key(), signed(log, signer), inclusion=[item])
    assert_rejected(run_go_verifier(go_verifier, doc), "inclusion[0]", "tlog.CheckRecord")


def test_go_rejects_a_tampered_consistency_proof(go_verifier: Path, signer: Signer) -> None:
    log = Log(100, 10)
    item = log.consistency(37, 100)
    item["proof"] = item["proof"][:-1]
    doc = go_document(signer.verifier_key(), signed(log, signer), consistency=[item])
    assert_rejected(run_go_verifier(go_verifier, doc), "consistency[0]", "tlog.CheckTree")


def test_go_rejects_a_proof_for_an_edited_entry(go_verifier: Path, signer: Signer) -> None:
    log = Log(50, 11)
    item = log.inclusion(20, 50)
    item["leaf_hash"] = base64.b64encode(leaf_hash(log.entries[20] + b" ")).decode()
    doc = go_document(signer.verifier_key(), signed(log, signer), inclusion=[item])
    assert_rejected(run_go_verifier(go_verifier, doc), "tlog.CheckRecord")


def test_go_rejects_entries_that_do_not_hash_to_the_checkpoint(
    go_verifier: Path, signer: Signer
) -> None:
    log = Log(50, 12)
    entries = list(log.entries)
    entries[49] = entries[48]
    doc = go_document(signer.verifier_key(), signed(log, signer), entries=entries)
    assert_rejected(run_go_verifier(go_verifier, doc), "entries: tree hash")


def test_go_rejects_a_note_whose_size_was_edited(go_verifier: Path, signer: Signer) -> None:
    log = Log(20, 13)
    note = signed(log, signer).replace("\n20\n", "\n19\n", 1)
    result = run_go_verifier(go_verifier, go_document(signer.verifier_key(), note))
    assert_rejected(result, "note.Open", "invalid signature")


def test_go_rejects_a_note_checked_with_another_key(go_verifier: Path, signer: Signer) -> None:
    log = Log(20, 14)
    other = Signer.generate(ORIGIN)
    result = run_go_verifier(go_verifier, go_document(other.verifier_key(), signed(log, signer)))
    assert_rejected(result, "note.Open")


def test_go_rejects_a_proof_against_a_root_other_than_the_signed_one(
    go_verifier: Path, signer: Signer
) -> None:
    log = Log(40, 15)
    item = log.inclusion(3, 40)
    item["root_hash"] = base64.b64encode(log.root(39)).decode()
    doc = go_document(signer.verifier_key(), signed(log, signer), inclusion=[item])
    assert_rejected(run_go_verifier(go_verifier, doc), "signed checkpoint root")
