"""Proofs built from stored hashes equal RFC 9162's recursive definitions.

``prove_record`` and ``prove_tree`` build proofs iteratively from the stored
perfect subtrees (the construction of transparency-dev/merkle); here they are
compared, for every record and every pair of sizes up to 130 leaves, with the
RFC 9162 §2.1.3 ``PATH`` and §2.1.4 ``PROOF``/``SUBPROOF`` definitions written
out literally over the leaf hashes. The known-answer vectors (Go ``tlog``, CT)
are in test_ledger_merkle.py; this checks every shape in between.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from coldcheck.ledger import (
    MemoryHashes,
    leaf_hash,
    node_hash,
    prove_record,
    prove_tree,
    root_from_leaves,
    stored_hash_count,
    tree_hash,
)
from coldcheck.ledger.merkle import ProofPlan

LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(130)]
STORE = MemoryHashes.from_leaves(LEAVES)


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def rfc_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1: PATH(m, D[n])."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*rfc_path(m, d[:k]), root_from_leaves(d[k:])]
    return [*rfc_path(m - k, d[k:]), root_from_leaves(d[:k])]


def rfc_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1: SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [root_from_leaves(d)]
    k = _k(n)
    if m <= k:
        return [*rfc_subproof(m, d[:k], b), root_from_leaves(d[k:])]
    return [*rfc_subproof(m - k, d[k:], False), root_from_leaves(d[:k])]


@pytest.mark.parametrize("t", range(1, 131))
def test_inclusion_proofs_equal_the_rfc_audit_path(t: int) -> None:
    for n in range(t):
        assert prove_record(t, n, STORE) == rfc_path(n, LEAVES[:t]), (t, n)


@pytest.mark.parametrize("t", range(1, 131))
def test_consistency_proofs_equal_the_rfc_subproof(t: int) -> None:
    for n in range(1, t + 1):
        assert prove_tree(t, n, STORE) == rfc_subproof(n, LEAVES[:t], True), (t, n)


def test_roots_fold_the_compact_range() -> None:
    for t in range(1, 131):
        assert tree_hash(t, STORE) == root_from_leaves(LEAVES[:t])


def test_a_plan_reads_only_stored_perfect_subtrees_of_the_tree_it_proves() -> None:
    """Every index a plan asks for exists once the tree has t records: a proof
    never needs a hash that a later append would write."""
    for t in range(1, 131):
        have = stored_hash_count(t)
        for n in range(t):
            assert all(0 <= i < have for i in ProofPlan.record(t, n).indexes), (t, n)
        for n in range(1, t + 1):
            assert all(0 <= i < have for i in ProofPlan.tree(t, n).indexes), (t, n)


def test_the_right_border_is_folded_into_one_ephemeral_node() -> None:
    # Tree of 7: record 0's path is h(1), h(2..3), then the border [4, 7) = h(4..5), h(6).
    plan = ProofPlan.record(7, 0)
    assert plan.right == 2
    proof = prove_record(7, 0, STORE)
    assert proof[-1] == node_hash(root_from_leaves(LEAVES[4:6]), LEAVES[6])
