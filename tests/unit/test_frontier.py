"""The append path's tree frontier computes exactly the stored hashes of the ledger library."""

from __future__ import annotations

from coldcheck.ledger import (
    MemoryHashes,
    leaf_hash,
    stored_hash_count,
    stored_hashes_batch,
    stored_hashes_for_record,
)
from coldcheck.persistence.hotpath import Frontier


def test_pushing_one_entry_at_a_time_stores_what_the_library_stores() -> None:
    mem = MemoryHashes()
    front = Frontier(0, ())
    for n in range(300):
        leaf = leaf_hash(f"entry {n}".encode())
        want = stored_hashes_for_record(n, leaf, mem)
        base, got, pushed = front.push(leaf)
        assert base == stored_hash_count(n) == len(mem)
        assert got == want, n
        # The same frontier as the general (batch) path computes.
        assert pushed == front.advanced(base, want, 1), n
        mem.extend(want)
        front = pushed
        # And it is the compact range of the tree: what the next append reads.
        assert all(mem.read_hashes([i]) == [h] for i, h in front.nodes)


def test_a_batch_after_single_pushes_continues_the_same_tree() -> None:
    leaves = [leaf_hash(f"entry {n}".encode()) for n in range(100)]
    front = Frontier(0, ())
    stored: list[bytes] = []
    for leaf in leaves[:37]:
        _, hashes, front = front.push(leaf)
        stored += hashes
    rest = stored_hashes_batch(37, leaves[37:], front)
    assert stored + rest == MemoryHashes.from_leaves(leaves).hashes
