"""Known-answer tests for coldcheck.ledger.merkle.

Two independent sources of truth, never values printed by coldcheck itself:

* ../shared/testdata/ledger-vectors.json, computed by Go's golang.org/x/mod/sumdb/tlog;
* the RFC 6962 / Certificate Transparency reference data, as published by
  transparency-dev/merkle (the successor of Trillian's merkle package):
  testonly/constants.go (LeafInputs, NodeHashes, RootHashes) and
  proof/verify_test.go (inclusionProofs, consistencyProofs), both at
  https://github.com/transparency-dev/merkle. The same eight inputs and roots
  appear in the C++ reference (certificate-transparency merkle_tree_test.cc).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import cache
from typing import Any

import pytest
from ledger_vectors import vectors

from coldcheck.ledger import (
    EMPTY_TREE_HASH,
    MemoryHashes,
    build_stored_hashes,
    check_record,
    check_tree,
    leaf_hash,
    leaf_hashes,
    node_hash,
    prove_record,
    prove_tree,
    root_from_leaves,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes_batch,
    stored_hashes_for_record,
    tree_hash,
)

# ----------------------------------------------------------------- vector loading


def b64(s: str) -> bytes:
    return base64.b64decode(s, validate=True)


def vector_entries() -> list[bytes]:
    leaves = vectors()["leaves"]
    assert [leaf["index"] for leaf in leaves] == list(range(len(leaves)))
    return [leaf["entry"].encode("utf-8") for leaf in leaves]


@cache
def vector_store() -> MemoryHashes:
    return MemoryHashes.from_leaves(leaf_hashes(vector_entries()))


def incremental_store(leaves: Sequence[bytes]) -> MemoryHashes:
    store = MemoryHashes()
    for n, h in enumerate(leaves):
        store.extend(stored_hashes_for_record(n, h, store))
    return store


class CountingReader:
    """A HashReader that records every read_hashes call."""

    def __init__(self, store: MemoryHashes) -> None:
        self.store = store
        self.calls: list[list[int]] = []

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        self.calls.append(list(indexes))
        return self.store.read_hashes(indexes)


# ------------------------------------------------------------ Go tlog known answers


def test_the_vector_file_is_the_one_the_spec_describes() -> None:
    v = vectors()
    assert "sumdb/tlog" in v["about"]
    assert len(v["leaves"]) == 130
    assert len(v["roots"]) == 21
    assert len(v["inclusion"]) == 43
    assert len(v["consistency"]) == 14


def test_every_leaf_hash_matches_go_tlog_record_hash() -> None:
    for leaf, entry in zip(vectors()["leaves"], vector_entries(), strict=True):
        assert leaf_hash(entry) == b64(leaf["leaf_hash"]), f"leaf {leaf['index']}"
    assert leaf_hashes(vector_entries()) == [b64(x["leaf_hash"]) for x in vectors()["leaves"]]


@pytest.mark.parametrize("row", vectors()["roots"], ids=lambda r: f"size{r['tree_size']}")
def test_every_root_matches_go_via_stored_hashes_and_via_the_rfc_definition(
    row: dict[str, Any],
) -> None:
    size, want = row["tree_size"], b64(row["root_hash"])
    leaves = leaf_hashes(vector_entries())
    assert tree_hash(size, vector_store()) == want
    assert tree_hash(size, incremental_store(leaves[:size])) == want
    assert root_from_leaves(leaves[:size]) == want


def test_incremental_batch_and_full_rebuild_store_the_same_hashes() -> None:
    leaves = leaf_hashes(vector_entries())
    full = build_stored_hashes(leaves)
    assert len(full) == stored_hash_count(len(leaves))
    assert incremental_store(leaves).hashes == full
    batched = MemoryHashes()
    for lo, hi in [(0, 1), (1, 7), (7, 8), (8, 64), (64, 100), (100, 130)]:
        batched.add_leaves(leaves[lo:hi])
        assert len(batched) == stored_hash_count(hi)
    assert batched.hashes == full


@pytest.mark.parametrize(
    "row", vectors()["inclusion"], ids=lambda r: f"rec{r['index']}-of-{r['tree_size']}"
)
def test_every_inclusion_proof_is_exactly_gos_and_verifies(row: dict[str, Any]) -> None:
    t, n, root = row["tree_size"], row["index"], b64(row["root_hash"])
    want = [b64(x) for x in row["proof"]]
    assert prove_record(t, n, vector_store()) == want
    assert check_record(want, t, root, n, leaf_hash(vector_entries()[n]))
    assert tree_hash(t, vector_store()) == root


@pytest.mark.parametrize(
    "row",
    vectors()["consistency"],
    ids=lambda r: f"{r['old_size']}-to-{r['tree_size']}",
)
def test_every_consistency_proof_is_exactly_gos_and_verifies(row: dict[str, Any]) -> None:
    t, n = row["tree_size"], row["old_size"]
    root, old_root = b64(row["root_hash"]), b64(row["old_root"])
    want = [b64(x) for x in row["proof"]]
    assert prove_tree(t, n, vector_store()) == want
    assert check_tree(want, t, root, n, old_root)
    assert tree_hash(n, vector_store()) == old_root
    assert tree_hash(t, vector_store()) == root


def test_a_vector_proof_checked_against_another_root_fails() -> None:
    row = next(r for r in vectors()["inclusion"] if r["tree_size"] == 130)
    proof = [b64(x) for x in row["proof"]]
    other_root = tree_hash(129, vector_store())
    assert not check_record(proof, 130, other_root, row["index"], leaf_hash(b"forged"))
    assert not check_record(proof, 130, other_root, row["index"], vector_store().hashes[0])


# ------------------------------------------------ RFC 6962 / CT reference test data

# transparency-dev/merkle testonly/constants.go: LeafInputs().
CT_LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]

# transparency-dev/merkle testonly/constants.go: RootHashes(), indexed by tree size 0..8.
CT_ROOTS = [
    bytes.fromhex(h)
    for h in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]

# transparency-dev/merkle testonly/constants.go: NodeHashes()[level][index], the
# hashes of every complete subtree of the 8-leaf tree.
CT_NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

# transparency-dev/merkle proof/verify_test.go: inclusionProofs. The source
# numbers leaves from 1; here they are converted to 0-based record indexes.
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# transparency-dev/merkle proof/verify_test.go: consistencyProofs (size1, size2, proof).
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def ct_store() -> MemoryHashes:
    return MemoryHashes.from_leaves(leaf_hashes(CT_LEAF_INPUTS))


@pytest.mark.parametrize("size", range(9))
def test_the_root_for_each_size_matches_the_published_rfc6962_test_data(size: int) -> None:
    leaves = leaf_hashes(CT_LEAF_INPUTS[:size])
    assert tree_hash(size, ct_store()) == CT_ROOTS[size]
    assert tree_hash(size, MemoryHashes.from_leaves(leaves)) == CT_ROOTS[size]
    assert root_from_leaves(leaves) == CT_ROOTS[size]


def test_every_stored_subtree_hash_matches_the_published_node_hashes() -> None:
    store = ct_store()
    assert len(store) == stored_hash_count(8) == 15
    for level, row in enumerate(CT_NODE_HASHES):
        for index, want in enumerate(row):
            got = store.read_hashes([stored_hash_index(level, index)])[0]
            assert got.hex() == want, f"level {level} index {index}"


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_inclusion_proofs_match_the_published_rfc6962_test_data(
    index: int, size: int, proof: list[str]
) -> None:
    want = [bytes.fromhex(h) for h in proof]
    assert prove_record(size, index, ct_store()) == want
    assert check_record(want, size, CT_ROOTS[size], index, leaf_hash(CT_LEAF_INPUTS[index]))


@pytest.mark.parametrize(("old", "size", "proof"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_published_rfc6962_test_data(
    old: int, size: int, proof: list[str]
) -> None:
    want = [bytes.fromhex(h) for h in proof]
    assert prove_tree(size, old, ct_store()) == want
    assert check_tree(want, size, CT_ROOTS[size], old, CT_ROOTS[old])


def test_the_empty_tree_hashes_to_sha256_of_nothing_as_rfc9162_says() -> None:
    assert EMPTY_TREE_HASH == hashlib.sha256(b"").digest() == CT_ROOTS[0]
    assert tree_hash(0, MemoryHashes()) == EMPTY_TREE_HASH
    assert root_from_leaves([]) == EMPTY_TREE_HASH


def test_leaf_and_node_hashes_use_the_rfc6962_domain_separation_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert node_hash(a, b) != node_hash(b, a)


# ------------------------------------------------------------------ stored layout


def test_stored_hash_indexes_follow_the_tlog_layout() -> None:
    # Record 0: (0,0). Record 1: (0,1),(1,0). Record 2: (0,2). Record 3: (0,3),(1,1),(2,0) ...
    layout = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0), (0, 4), (0, 5), (1, 2)]
    for index, (level, n) in enumerate(layout):
        assert stored_hash_index(level, n) == index
        assert split_stored_hash_index(index) == (level, n)


def test_split_stored_hash_index_inverts_stored_hash_index() -> None:
    for index in range(5000):
        level, n = split_stored_hash_index(index)
        assert stored_hash_index(level, n) == index
    for level in range(40):
        for n in (0, 1, 2, 3, 1000, 2**20 + 7):
            assert split_stored_hash_index(stored_hash_index(level, n)) == (level, n)


def test_stored_hash_count_counts_leaves_plus_completed_subtrees() -> None:
    assert [stored_hash_count(n) for n in range(9)] == [0, 1, 3, 4, 7, 8, 10, 11, 15]
    for n in range(1, 300):
        assert stored_hash_count(n) == stored_hash_index(0, n)
        assert stored_hash_count(n) == 2 * n - bin(n).count("1")


def test_tree_hash_reads_at_most_one_plus_log_n_hashes_in_one_call() -> None:
    reader = CountingReader(vector_store())
    for n in range(1, 131):
        reader.calls.clear()
        tree_hash(n, reader)
        assert len(reader.calls) == 1
        assert len(reader.calls[0]) <= 1 + n.bit_length()
        assert reader.calls[0] == sorted(reader.calls[0])


def test_proofs_read_logarithmically_many_hashes_in_one_call() -> None:
    reader = CountingReader(vector_store())
    prove_record(130, 77, reader)
    prove_tree(130, 77, reader)
    assert len(reader.calls) == 2
    assert all(len(c) <= 2 * (130).bit_length() for c in reader.calls)


def test_batch_append_reads_only_pre_existing_hashes_once() -> None:
    leaves = leaf_hashes(vector_entries())
    for start in (0, 1, 2, 3, 7, 8, 63, 64, 100):
        before = MemoryHashes.from_leaves(leaves[:start])
        reader = CountingReader(before)
        got = stored_hashes_batch(start, leaves[start:], reader)
        assert before.hashes + got == build_stored_hashes(leaves), f"start {start}"
        assert len(reader.calls) <= 1
        for call in reader.calls:
            assert all(0 <= i < stored_hash_count(start) for i in call)
            assert len(call) == bin(start).count("1")


def test_batch_append_of_nothing_returns_nothing() -> None:
    assert stored_hashes_batch(5, [], MemoryHashes()) == []


# ----------------------------------------------------------------- invalid inputs


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: prove_record(5, 5, s), "n=5, t=5"),
        (lambda s: prove_record(5, -1, s), "n=-1"),
        (lambda s: prove_record(-1, 0, s), "t=-1"),
        (lambda s: prove_record(0, 0, s), "n=0, t=0"),
        (lambda s: prove_tree(5, 0, s), "n=0"),
        (lambda s: prove_tree(3, 5, s), "n=5, t=3"),
        (lambda s: prove_tree(0, 0, s), "t=0"),
        (lambda s: check_record([], 1, EMPTY_TREE_HASH, 1, EMPTY_TREE_HASH), "n=1, t=1"),
        (lambda s: check_tree([], 1, EMPTY_TREE_HASH, 2, EMPTY_TREE_HASH), "n=2, t=1"),
        (lambda s: check_tree([], 1, EMPTY_TREE_HASH, 0, EMPTY_TREE_HASH), "n=0"),
        (lambda s: tree_hash(-1, s), "-1"),
        (lambda s: stored_hash_index(-1, 0), "level"),
        (lambda s: stored_hash_index(0, -1), "n"),
        (lambda s: split_stored_hash_index(-1), "index"),
        (lambda s: stored_hash_count(-1), "n"),
        (lambda s: stored_hashes_for_record(-1, EMPTY_TREE_HASH, s), "out of range"),
        (lambda s: stored_hashes_for_record(0, b"short", s), "32-byte"),
        (lambda s: stored_hashes_batch(-1, [EMPTY_TREE_HASH], s), "start"),
        (lambda s: build_stored_hashes([b"not a hash"]), "32 bytes"),
        (lambda s: root_from_leaves([b"x"]), "32-byte"),
    ],
)
def test_invalid_arguments_raise_value_error_with_a_clear_message(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        call(ct_store())


def test_sizes_must_be_integers() -> None:
    with pytest.raises(TypeError):
        prove_record(True, 0, ct_store())
    with pytest.raises(TypeError):
        tree_hash(2.0, ct_store())  # type: ignore[arg-type]


def test_a_reader_returning_the_wrong_number_of_hashes_is_an_error() -> None:
    class Short:
        def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
            return []

    with pytest.raises(ValueError, match="returned 0 hashes"):
        tree_hash(3, Short())
    with pytest.raises(ValueError, match="returned 0 hashes"):
        prove_record(8, 3, Short())


def test_a_reader_returning_something_other_than_hashes_is_an_error() -> None:
    class Garbage:
        def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
            return [b"x"] * len(indexes)

    with pytest.raises(ValueError, match="not a 32-byte hash"):
        tree_hash(3, Garbage())


def test_memory_hashes_refuses_reads_past_the_end_or_negative_indexes() -> None:
    store = ct_store()
    with pytest.raises(IndexError):
        store.read_hashes([len(store)])
    with pytest.raises(IndexError):
        store.read_hashes([-1])
    with pytest.raises(IndexError):
        tree_hash(9, store)  # needs hashes that do not exist: the reader's error propagates
    with pytest.raises(IndexError):
        prove_record(10, 8, store)  # needs record 9, which is not stored


def test_memory_hashes_refuses_to_add_records_after_a_partial_record() -> None:
    store = MemoryHashes(ct_store().hashes[:2])  # record 1's leaf without its parent
    with pytest.raises(ValueError, match="whole number of records"):
        store.add_leaves([EMPTY_TREE_HASH])


def test_proofs_with_malformed_hashes_are_rejected_not_crashed_on() -> None:
    leaf = leaf_hash(CT_LEAF_INPUTS[0])
    proof = prove_record(8, 0, ct_store())
    assert not check_record([*proof[:-1], proof[-1][:31]], 8, CT_ROOTS[8], 0, leaf)
    assert not check_record(proof, 8, CT_ROOTS[8][:31], 0, leaf)
    assert not check_record(proof, 8, CT_ROOTS[8], 0, leaf + b"\x00")
    assert not check_record([*proof, CT_ROOTS[8]], 8, CT_ROOTS[8], 0, leaf)
    assert not check_record(proof[:-1], 8, CT_ROOTS[8], 0, leaf)
    assert not check_record(proof, 8, CT_ROOTS[8], 1, leaf)
    cproof = prove_tree(8, 6, ct_store())
    assert not check_tree(cproof[:-1], 8, CT_ROOTS[8], 6, CT_ROOTS[6])
    assert not check_tree([*cproof, cproof[0]], 8, CT_ROOTS[8], 6, CT_ROOTS[6])
    assert not check_tree([], 8, CT_ROOTS[8], 6, CT_ROOTS[6])
    assert not check_tree(cproof, 8, CT_ROOTS[6], 6, CT_ROOTS[8])
    assert not check_tree(cproof, 8, CT_ROOTS[8], 6, CT_ROOTS[6][:31])
    assert not check_tree(cproof, 8, CT_ROOTS[8], 5, CT_ROOTS[6])
    assert check_tree([], 8, CT_ROOTS[8], 8, CT_ROOTS[8])
    assert not check_tree([], 8, CT_ROOTS[8], 8, CT_ROOTS[7])


def test_a_reader_is_asked_sorted_unless_it_takes_any_order() -> None:
    """Readers are asked for increasing indexes (Go's contract); one that sets
    ``any_order`` is asked in the proof's own order. Both give the same proofs."""
    store = ct_store()
    asked: dict[str, list[list[int]]] = {"sorted": [], "any": []}

    class Sorted:
        def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
            asked["sorted"].append(list(indexes))
            return store.read_hashes(indexes)

    class AnyOrder(Sorted):
        any_order = True

        def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
            asked["any"].append(list(indexes))
            return store.read_hashes(indexes)

    for t in range(1, 9):
        for n in range(t):
            assert prove_record(t, n, AnyOrder()) == prove_record(t, n, Sorted())
        for n in range(1, t + 1):
            assert prove_tree(t, n, AnyOrder()) == prove_tree(t, n, Sorted())
    assert all(x == sorted(x) for x in asked["sorted"])
    assert any(x != sorted(x) for x in asked["any"])  # the proof's order, unsorted


def test_hashes_a_driver_returns_as_bytearray_or_memoryview_are_copied_to_bytes() -> None:
    store = ct_store()

    class Mixed:
        def read_hashes(self, indexes: Sequence[int]) -> list[Any]:
            out: list[Any] = store.read_hashes(indexes)
            return [bytearray(h) if k % 2 else memoryview(h) for k, h in enumerate(out)]

    proof = prove_record(7, 3, Mixed())
    assert proof == prove_record(7, 3, store) and all(type(h) is bytes for h in proof)
