"""Property tests for the ledger's Merkle tree (bounded: sizes up to ~300).

The reference for roots is root_from_leaves, the recursive RFC 9162 definition,
which shares no code with the stored-hash algorithms under test.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from coldcheck.ledger import (
    MemoryHashes,
    build_stored_hashes,
    check_record,
    check_tree,
    leaf_hash,
    leaf_hashes,
    prove_record,
    prove_tree,
    root_from_leaves,
    stored_hash_count,
    stored_hashes_batch,
    stored_hashes_for_record,
    tree_hash,
)

MAX_SIZE = 300
PROPERTY = settings(max_examples=200, deadline=None)


def entries_for(size: int, salt: int) -> list[bytes]:
    return [f"entry {salt}/{i}".encode() for i in range(size)]


def incremental(leaves: Sequence[bytes]) -> MemoryHashes:
    store = MemoryHashes()
    for n, h in enumerate(leaves):
        store.extend(stored_hashes_for_record(n, h, store))
    return store


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


@st.composite
def tree_and_record(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    """Entries of a log, a tree size t <= len(entries), and a record n < t."""
    size = draw(st.integers(min_value=1, max_value=MAX_SIZE))
    t = draw(st.integers(min_value=1, max_value=size))
    n = draw(st.integers(min_value=0, max_value=t - 1))
    return entries_for(size, draw(st.integers(0, 2**16))), t, n


@st.composite
def tree_and_old_size(draw: st.DrawFn) -> tuple[list[bytes], int, int]:
    """Entries of a log, a tree size t, and an old size 1 <= n <= t."""
    size = draw(st.integers(min_value=1, max_value=MAX_SIZE))
    t = draw(st.integers(min_value=1, max_value=size))
    n = draw(st.integers(min_value=1, max_value=t))
    return entries_for(size, draw(st.integers(0, 2**16))), t, n


@PROPERTY
@given(st.lists(st.binary(max_size=40), max_size=MAX_SIZE))
def test_every_root_from_stored_hashes_equals_the_rfc_definition(entries: list[bytes]) -> None:
    leaves = leaf_hashes(entries)
    store = MemoryHashes.from_leaves(leaves)
    for t in {0, min(1, len(leaves)), len(leaves) // 3, len(leaves) // 2, len(leaves)}:
        assert tree_hash(t, store) == root_from_leaves(leaves[:t])


@PROPERTY
@given(tree_and_record())
def test_every_inclusion_proof_verifies(case: tuple[list[bytes], int, int]) -> None:
    entries, t, n = case
    leaves = leaf_hashes(entries)
    store = MemoryHashes.from_leaves(leaves)
    root = root_from_leaves(leaves[:t])
    proof = prove_record(t, n, store)
    assert len(proof) <= (t - 1).bit_length()
    assert check_record(proof, t, root, n, leaf_hash(entries[n]))


@PROPERTY
@given(tree_and_old_size())
def test_every_consistency_proof_verifies(case: tuple[list[bytes], int, int]) -> None:
    entries, t, n = case
    leaves = leaf_hashes(entries)
    store = MemoryHashes.from_leaves(leaves)
    proof = prove_tree(t, n, store)
    assert check_tree(proof, t, root_from_leaves(leaves[:t]), n, root_from_leaves(leaves[:n]))


@PROPERTY
@given(tree_and_record(), st.data())
def test_flipping_any_bit_of_the_entry_proof_or_root_breaks_an_inclusion_proof(
    case: tuple[list[bytes], int, int], data: st.DataObject
) -> None:
    entries, t, n = case
    leaves = leaf_hashes(entries)
    store = MemoryHashes.from_leaves(leaves)
    root = tree_hash(t, store)
    proof = prove_record(t, n, store)
    entry, leaf = entries[n], leaves[n]

    bit = data.draw(st.integers(0, 8 * max(1, len(entry)) - 1), label="entry bit")
    assert not check_record(proof, t, root, n, leaf_hash(flip(entry, bit)))
    bit = data.draw(st.integers(0, 255), label="leaf bit")
    assert not check_record(proof, t, root, n, flip(leaf, bit))
    bit = data.draw(st.integers(0, 255), label="root bit")
    assert not check_record(proof, t, flip(root, bit), n, leaf)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="proof element")
        bit = data.draw(st.integers(0, 255), label="proof bit")
        bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
        assert not check_record(bad, t, root, n, leaf)
        assert not check_record(proof[:-1], t, root, n, leaf)
    assert not check_record([*proof, root], t, root, n, leaf)


@PROPERTY
@given(tree_and_old_size(), st.data())
def test_flipping_any_bit_of_a_proof_or_either_root_breaks_a_consistency_proof(
    case: tuple[list[bytes], int, int], data: st.DataObject
) -> None:
    entries, t, n = case
    store = MemoryHashes.from_leaves(leaf_hashes(entries))
    root, old_root = tree_hash(t, store), tree_hash(n, store)
    proof = prove_tree(t, n, store)

    bit = data.draw(st.integers(0, 255), label="old root bit")
    assert not check_tree(proof, t, root, n, flip(old_root, bit))
    bit = data.draw(st.integers(0, 255), label="root bit")
    assert not check_tree(proof, t, flip(root, bit), n, old_root)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="proof element")
        bit = data.draw(st.integers(0, 255), label="proof bit")
        bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
        assert not check_tree(bad, t, root, n, old_root)
        assert not check_tree(proof[:-1], t, root, n, old_root)
    assert not check_tree([*proof, root], t, root, n, old_root)


@PROPERTY
@given(tree_and_old_size())
def test_a_rewritten_history_fails_the_consistency_proof(
    case: tuple[list[bytes], int, int],
) -> None:
    entries, t, n = case
    store = MemoryHashes.from_leaves(leaf_hashes(entries))
    old_root = tree_hash(n, store)
    rewritten = list(entries)
    rewritten[n - 1] = rewritten[n - 1] + b"!"  # the last entry the old checkpoint covered
    forged = MemoryHashes.from_leaves(leaf_hashes(rewritten))
    proof = prove_tree(t, n, forged)
    assert not check_tree(proof, t, tree_hash(t, forged), n, old_root)


@PROPERTY
@given(
    st.lists(st.binary(max_size=16), max_size=MAX_SIZE),
    st.lists(st.integers(min_value=1, max_value=40), max_size=20),
)
def test_batch_append_equals_appending_one_record_at_a_time(
    entries: list[bytes], cuts: list[int]
) -> None:
    leaves = leaf_hashes(entries)
    one_by_one = incremental(leaves)
    store = MemoryHashes()
    start = 0
    for cut in [*cuts, len(leaves)]:
        chunk = leaves[start : start + cut]
        store.extend(stored_hashes_batch(start, chunk, store))
        start += len(chunk)
        if start >= len(leaves):
            break
    assert store.hashes == one_by_one.hashes
    assert len(store) == stored_hash_count(len(leaves))


@PROPERTY
@given(st.lists(st.binary(max_size=16), max_size=MAX_SIZE))
def test_rebuilding_all_stored_hashes_equals_the_incremental_result(entries: list[bytes]) -> None:
    leaves = leaf_hashes(entries)
    assert build_stored_hashes(leaves) == incremental(leaves).hashes
    assert build_stored_hashes(iter(leaves)) == incremental(leaves).hashes


@PROPERTY
@given(st.integers(min_value=1, max_value=MAX_SIZE), st.integers(min_value=0, max_value=2**16))
def test_stored_hashes_for_record_matches_the_batch_path_for_every_record(
    size: int, salt: int
) -> None:
    leaves = leaf_hashes(entries_for(size, salt))
    full = build_stored_hashes(leaves)
    store = MemoryHashes(full[: stored_hash_count(size - 1)])
    assert (
        stored_hashes_for_record(size - 1, leaves[-1], store) == full[stored_hash_count(size - 1) :]
    )
