"""RFC 9162 Merkle tree hashing and proofs, in the Go ``tlog`` stored-hash layout.

This module is a faithful port of the algorithms of Go's
``golang.org/x/mod/sumdb/tlog`` (``tlog.go``), which follows RFC 6962 / RFC 9162:

* the leaf hash of an entry is ``SHA-256(0x00 || entry)``;
* an interior node is ``SHA-256(0x01 || left || right)``;
* the tree over *n* leaves splits at the largest power of two smaller than *n*.

Hashes of complete subtrees are *stored* as records are appended, in the dense
linear order of Crosby and Wallach (the order ``tlog.StoredHashIndex`` defines):
record *n* adds its leaf hash and then the hash of every subtree that the leaf
completes. With that array a root or a proof for any past tree size costs
``O(log n)`` hash reads and a single :meth:`HashReader.read_hashes` call.

Vocabulary used throughout: an *entry* is the raw bytes of a log record, a
*leaf* (or leaf hash) is ``leaf_hash(entry)``; every function taking ``leaves``
takes leaf hashes, never entries.

Proofs are *built* the way transparency-dev/merkle builds them
(:class:`ProofPlan`): every hash a proof needs is a stored perfect subtree,
read in one call, and only the tree's right border is hashed; the proofs are
byte for byte those of ``tlog.ProveRecord`` / ``ProveTree`` (the known-answer
vectors and RFC 9162's recursive definitions check it). Proofs are *checked*
by a line-for-line port of ``tlog.CheckRecord`` / ``CheckTree``.

One deliberate difference from ``tlog``: the hash of the empty tree is the RFC
9162 value ``SHA-256("")`` (:data:`EMPTY_TREE_HASH`), not ``tlog``'s all-zero
hash. ``tlog`` never uses that value in a proof, so proofs are unaffected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Protocol

__all__ = [
    "EMPTY_TREE_HASH",
    "HASH_SIZE",
    "HashReader",
    "MemoryHashes",
    "ProofPlan",
    "build_stored_hashes",
    "check_record",
    "check_tree",
    "leaf_hash",
    "leaf_hashes",
    "node_hash",
    "prove_record",
    "prove_tree",
    "root_from_leaves",
    "split_stored_hash_index",
    "stored_hash_count",
    "stored_hash_index",
    "stored_hashes_batch",
    "stored_hashes_for_record",
    "tree_hash",
]

HASH_SIZE = 32
"""Size in bytes of every hash in the tree (SHA-256)."""

EMPTY_TREE_HASH = hashlib.sha256(b"").digest()
"""RFC 9162 §2.1.1: the hash of the empty tree is the hash of the empty string."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_MAX_SIZE = (1 << 63) - 1  # tlog uses int64 sizes and indexes


class HashReader(Protocol):
    """Read access to stored hashes (same contract as Go's ``tlog.HashReader``).

    ``read_hashes`` returns the hashes stored at the given stored-hash indexes
    (see :func:`stored_hash_index`), in the order asked, one per index, or raises.
    It may run faster when the indexes are sorted in increasing order; every
    call made by this module asks for sorted indexes, unless the reader has an
    attribute ``any_order`` that is true (it reads efficiently in any order):
    it is then asked in the order the proof uses, which spares a sort and a
    re-order.
    A reader with a true attribute ``checked`` answers a new list of 32-byte
    ``bytes`` and has checked them itself (as it read them from its store):
    its answers are then used as they are.
    """

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]: ...


# --------------------------------------------------------------------------- hashing


def leaf_hash(entry: bytes) -> bytes:
    """Return the leaf hash of a log entry: ``SHA-256(0x00 || entry)`` (``tlog.RecordHash``)."""
    return _sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def leaf_hashes(entries: Iterable[bytes]) -> list[bytes]:
    """Return ``[leaf_hash(e) for e in entries]``, computed without per-call overhead."""
    sha = _sha256
    prefix = _LEAF_PREFIX
    return [sha(prefix + e).digest() for e in entries]


# --------------------------------------------------------------------- validation


def _check_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes | bytearray | memoryview) or len(value) != HASH_SIZE:
        raise ValueError(f"{name} must be a {HASH_SIZE}-byte hash")


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


_ONLY_BYTES = {bytes}
_ONLY_HASH_SIZE = {HASH_SIZE}


def _read(reader: HashReader, indexes: list[int]) -> list[bytes]:
    hashes = reader.read_hashes(indexes)
    if len(hashes) != len(indexes):
        raise ValueError(f"read_hashes({len(indexes)} indexes) returned {len(hashes)} hashes")
    if getattr(reader, "checked", False):  # the reader vouches for type and size
        return hashes
    # The usual answer, checked by C loops: every value a 32-byte bytes object.
    if set(map(type, hashes)) == _ONLY_BYTES and set(map(len, hashes)) == _ONLY_HASH_SIZE:
        return list(hashes)
    out = []
    for h in hashes:
        if type(h) is not bytes:  # a bytearray or memoryview from some driver: copy
            if not _is_hash(h) and not (isinstance(h, memoryview) and h.nbytes == HASH_SIZE):
                raise ValueError(f"read_hashes returned a value that is not a {HASH_SIZE}-byte "
                                 "hash")
            h = bytes(h)
        elif len(h) != HASH_SIZE:
            raise ValueError(f"read_hashes returned a value that is not a {HASH_SIZE}-byte hash")
        out.append(h)
    return out


# ------------------------------------------------------------------ stored layout


def _maxpow2(n: int) -> tuple[int, int]:
    """Return ``(k, l)``: k is the largest power of two smaller than n, ``k == 1 << l``.

    For n <= 2 this returns (1, 0), as tlog's ``maxpow2`` does.
    """
    level = (n - 1).bit_length() - 1 if n > 2 else 0
    return 1 << level, level


def _trailing_ones(n: int) -> int:
    """Number of trailing 1 bits of n (= trailing zeros of n+1)."""
    return ((n + 1) & -(n + 1)).bit_length() - 1


def stored_hash_index(level: int, n: int) -> int:
    """Map tree coordinates (level, n) to the dense stored-hash index (``tlog.StoredHashIndex``).

    ``level`` 0 holds leaf hashes; the n'th hash at ``level`` covers leaves
    ``[n << level, (n + 1) << level)``.
    """
    _check_int("level", level)
    _check_int("n", n)
    if level < 0 or n < 0:
        raise ValueError(f"stored_hash_index: level ({level}) and n ({n}) must be >= 0")
    # Level L's n'th hash is written right after level L+1's 2n+1'th hash:
    # work down to the level 0 ordering, then add back the level count.
    n = ((n + 1) << level) - 1
    # Level 0's n'th hash is at n + n/2 + n/4 + ... (= 2n - popcount(n)).
    return 2 * n - n.bit_count() + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """Inverse of :func:`stored_hash_index`: return ``(level, n)``."""
    _check_int("index", index)
    if index < 0:
        raise ValueError(f"split_stored_hash_index: index ({index}) must be >= 0")
    # stored_hash_index(0, n) < 2n, so the n we want is in [index/2, index/2 + log2(index)].
    n = index // 2
    index_n = stored_hash_index(0, n)
    if index_n > index:  # pragma: no cover - impossible by the math above
        raise AssertionError("bad math in split_stored_hash_index")
    while True:
        # Each new record n adds 1 + trailing_ones(n) hashes.
        x = index_n + 1 + _trailing_ones(n)
        if x > index:
            break
        n += 1
        index_n = x
    # The hash we want was committed with record n: one of (0, n), (1, n/2), ...
    level = index - index_n
    return level, n >> level


def stored_hash_count(n: int) -> int:
    """Return how many stored hashes a tree with n records has (``tlog.StoredHashCount``)."""
    _check_int("n", n)
    if n < 0:
        raise ValueError(f"stored_hash_count: n ({n}) must be >= 0")
    if n == 0:
        return 0
    # Hashes up to the last leaf hash, plus those of subtrees that leaf completes.
    return stored_hash_index(0, n - 1) + 1 + _trailing_ones(n - 1)


def stored_hashes_for_record(n: int, leaf: bytes, reader: HashReader) -> list[bytes]:
    """Return the hashes to store when adding record n (``tlog.StoredHashesForRecordHash``).

    ``leaf`` is the record's leaf hash (``leaf_hash(entry)``). ``reader`` must
    hold the ``stored_hash_count(n)`` hashes of the first n records. The result
    is to be stored starting at index ``stored_hash_index(0, n)``
    (== ``stored_hash_count(n)``); it reads at most ``log2 n`` earlier hashes
    in a single call.
    """
    _check_int("n", n)
    if n < 0 or n >= _MAX_SIZE:
        raise ValueError(f"stored_hashes_for_record: record index n ({n}) out of range")
    _check_hash("leaf", leaf)
    h = bytes(leaf)
    hashes = [h]
    # Each trailing 1 bit of n completes a subtree and consumes the hash of the
    # adjacent (left) subtree; indexes are arranged in increasing order.
    m = _trailing_ones(n)
    if m == 0:
        return hashes
    indexes = [0] * m
    for i in range(m):
        indexes[m - 1 - i] = stored_hash_index(i, (n >> i) - 1)
    old = _read(reader, indexes)
    for i in range(m):
        h = node_hash(old[m - 1 - i], h)
        hashes.append(h)
    return hashes



def _append_records(stack: list[bytes], start: int, leaves: Iterable[bytes]) -> list[bytes]:
    """Core of batch append: ``stack`` is the compact range of ``[0, start)``.

    ``stack`` holds the hashes of the perfect subtrees tiling the first
    ``start`` leaves, largest (leftmost) first; it is updated in place. Returns
    the stored hashes for the new records, in storage order.
    """
    out: list[bytes] = []
    append = out.append
    push = stack.append
    pop = stack.pop
    sha = _sha256
    one = _NODE_PREFIX
    n = start
    for h in leaves:
        if len(h) != HASH_SIZE:
            raise ValueError(f"leaf hash for record {n} must be {HASH_SIZE} bytes")
        append(h)
        # Each trailing 1 bit of n merges the new subtree with its left neighbour.
        m = n
        while m & 1:
            h = sha(one + pop() + h).digest()
            append(h)
            m >>= 1
        push(h)
        n += 1
    return out


def stored_hashes_batch(start: int, leaves: Sequence[bytes], reader: HashReader) -> list[bytes]:
    """Return the stored hashes for records ``start, start+1, ...`` with the given leaf hashes.

    Equivalent to concatenating :func:`stored_hashes_for_record` for each
    record in turn, but it reads from ``reader`` only the ``O(log start)``
    hashes that existed before the batch (one ``read_hashes`` call) and keeps
    the new ones in memory. The result is to be stored starting at index
    ``stored_hash_count(start)``.
    """
    _check_int("start", start)
    if start < 0:
        raise ValueError(f"stored_hashes_batch: start ({start}) must be >= 0")
    if start + len(leaves) > _MAX_SIZE:
        raise ValueError("stored_hashes_batch: tree size would overflow int64")
    if not leaves:
        return []
    indexes = _compact_range_indexes(start)
    stack = _read(reader, indexes) if indexes else []
    return _append_records(stack, start, (bytes(h) for h in leaves))


def build_stored_hashes(leaves: Iterable[bytes]) -> list[bytes]:
    """Compute the whole stored-hash array for a log from its leaf hashes, in order.

    ``build_stored_hashes(ls)[i]`` is the hash that incremental appends store at
    index i; ``len(result) == stored_hash_count(len(ls))``. Leaf hashes must be
    ``bytes`` (use :func:`leaf_hashes` to compute them from entries).
    """
    return _append_records([], 0, leaves)


# ------------------------------------------------------------- compact ranges


def _index(level: int, n: int) -> int:
    """:func:`stored_hash_index` without argument checks (internal callers only)."""
    n = ((n + 1) << level) - 1
    return 2 * n - n.bit_count() + level


def _tiles(start: int, length: int, out: list[int]) -> list[int]:
    """Append the stored indexes of the perfect subtrees tiling ``[start, start+length)``,
    left to right. ``start`` must be a multiple of the largest power of two not above
    ``length`` (true for ``[0, n)`` and for the right border of a proof)."""
    while length:
        level = length.bit_length() - 1
        size = 1 << level
        x = start + size - 1  # _index(level, start >> level), inlined
        out.append(2 * x - x.bit_count() + level)
        start += size
        length -= size
    return out


def _compact_range_indexes(size: int) -> list[int]:
    """Stored indexes of the perfect subtrees that tile ``[0, size)``, left to right."""
    return _tiles(0, size, [])


def _fold(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """Hash of the tree whose perfect subtrees, left to right, are ``hashes[lo:hi]``."""
    h = hashes[hi - 1]
    for i in range(hi - 2, lo - 1, -1):
        h = _sha256(_NODE_PREFIX + hashes[i] + h).digest()
    return h


@lru_cache(maxsize=256)
def _border(subtrees: tuple[bytes, ...]) -> bytes:
    """``_fold`` of a proof's right border, remembered by the hashes themselves.

    Proofs against one tree size (the latest checkpoint, usually) share a few
    right borders, each folded from up to ``log2 t`` hashes: remembering the
    result by its inputs' values (not their positions) can never be stale."""
    return _fold(subtrees, 0, len(subtrees))


class ProofPlan:
    """Which stored hashes a proof needs and how to assemble it.

    A proof (RFC 9162 §2.1.3-2.1.4) over stored hashes has three parts, nearest
    the leaf first (the construction of transparency-dev/merkle ``proof.Nodes``):
    the siblings of the path up to the *fork* (each a stored perfect subtree);
    one *ephemeral* node, the hash of the tree's right border beyond the fork
    (folded from its perfect subtrees); the perfect subtrees left of the fork,
    nearest first. ``indexes`` lists the stored hashes in that order, the
    right border as a run of ``right`` hashes starting at ``cut``.
    """

    __slots__ = ("cut", "indexes", "right")

    def __init__(self, indexes: list[int], cut: int, right: int) -> None:
        self.indexes, self.cut, self.right = indexes, cut, right

    def assemble(self, hashes: Sequence[bytes]) -> list[bytes]:
        """The proof, from the hashes at ``indexes`` (same order)."""
        cut, right = self.cut, self.right
        if right <= 1:
            return list(hashes)
        border = _border(tuple(hashes[cut:cut + right]))
        return [*hashes[:cut], border, *hashes[cut + right:]]

    @staticmethod
    def path(level: int, n: int, size: int, first: list[int]) -> ProofPlan:
        """Plan the audit path of node ``(level, n)`` in the tree of ``size`` records,
        after the indexes in ``first``."""
        inner = (n ^ (size >> level)).bit_length() - 1
        fork = level + inner
        begin = (n >> inner) << fork
        end = begin + (1 << fork)
        ids = first
        m = n
        for lv in range(level, fork):  # the siblings: _index(lv, m ^ 1), inlined
            x = (((m ^ 1) + 1) << lv) - 1
            ids.append(2 * x - x.bit_count() + lv)
            m >>= 1
        cut = len(ids)
        _tiles(end, size - end, ids)
        right = len(ids) - cut
        ids.extend(reversed(_tiles(0, begin, [])))
        return ProofPlan(ids, cut, right)

    @staticmethod
    def root(t: int) -> ProofPlan:
        """Plan the root of the tree of size t (``t >= 1``): its perfect subtrees, folded."""
        ids = _compact_range_indexes(t)
        return ProofPlan(ids, 0, len(ids))

    @staticmethod
    def record(t: int, n: int) -> ProofPlan:
        """Plan the inclusion proof of record n in the tree of size t."""
        return ProofPlan.path(0, n, t, [])

    @staticmethod
    def tree(t: int, n: int) -> ProofPlan:
        """Plan the consistency proof from size n to size t (``1 <= n <= t``)."""
        if n == t:
            return ProofPlan([], 0, 0)
        level = (n & -n).bit_length() - 1  # the largest perfect subtree ending at n
        index = (n - 1) >> level
        # An inclusion proof of that subtree's root in tree t; the verifier knows
        # the root itself only when the old tree is that one subtree (n a power of 2).
        return ProofPlan.path(level, index, t, [] if index == 0 else [_index(level, index)])


def _read_sorted(reader: HashReader, indexes: list[int]) -> list[bytes]:
    """Read ``indexes`` (any order) in one call asking for them in increasing
    order; return them in the order given."""
    if getattr(reader, "any_order", False):
        return _read(reader, indexes)
    wanted = sorted(indexes)
    hashes = _read(reader, wanted)
    if wanted == indexes:
        return hashes
    found = dict(zip(wanted, hashes, strict=True))
    return [found[i] for i in indexes]


def tree_hash(n: int, reader: HashReader) -> bytes:
    """Return the root hash of the tree of the first n records (``tlog.TreeHash``).

    Makes a single ``read_hashes`` call for at most ``1 + log2 n`` hashes. The
    empty tree hashes to :data:`EMPTY_TREE_HASH` (RFC 9162).
    """
    _check_int("n", n)
    if n < 0:
        raise ValueError(f"tree_hash: tree size n ({n}) must be >= 0")
    if n == 0:
        return EMPTY_TREE_HASH
    hashes = _read(reader, _compact_range_indexes(n))
    return hashes[0] if len(hashes) == 1 else _border(tuple(hashes))


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """Reference RFC 9162 §2.1.1 Merkle Tree Hash over leaf hashes (recursive definition).

    ``MTH({}) = SHA-256()``, ``MTH({d}) = leaf``, otherwise split at the largest
    power of two k < n: ``node_hash(MTH(D[0:k]), MTH(D[k:n]))``. Simple and
    slow by design: tests use it to cross-check the stored-hash algorithms.
    """
    n = len(leaves)
    if n == 0:
        return EMPTY_TREE_HASH
    if n == 1:
        _check_hash("leaf", leaves[0])
        return bytes(leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(root_from_leaves(leaves[:k]), root_from_leaves(leaves[k:]))


# ------------------------------------------------------------------ record proofs


def prove_record(t: int, n: int, reader: HashReader) -> list[bytes]:
    """Return the inclusion proof of record n in the tree of size t (``tlog.ProveRecord``).

    The proof is the RFC 9162 §2.1.3 audit path, nearest sibling first. Reads
    at most ``2 log2 t`` stored hashes in one call and hashes only the right
    border of the tree.
    """
    _check_int("t", t)
    _check_int("n", n)
    if t < 0 or n < 0 or n >= t:
        raise ValueError(f"prove_record: need 0 <= record index n < tree size t, got n={n}, t={t}")
    plan = ProofPlan.record(t, n)
    if not plan.indexes:
        return []
    return plan.assemble(_read_sorted(reader, plan.indexes))


def _run_record_proof(
    p: Sequence[bytes], end: int, lo: int, hi: int, n: int, leaf: bytes
) -> bytes | None:
    """Hash of subtree [lo, hi) implied by ``p[:end]``; None if the proof has the wrong shape."""
    if lo + 1 == hi:
        # Reached the leaf: the proof must not have unnecessary hashes.
        return leaf if end == 0 else None
    if end == 0:
        return None
    k, _ = _maxpow2(hi - lo)
    last = p[end - 1]
    if n < lo + k:
        th = _run_record_proof(p, end - 1, lo, lo + k, n, leaf)
        return None if th is None else node_hash(th, last)
    th = _run_record_proof(p, end - 1, lo + k, hi, n, leaf)
    return None if th is None else node_hash(last, th)


def check_record(proof: Sequence[bytes], t: int, th: bytes, n: int, h: bytes) -> bool:
    """Report whether ``proof`` proves that the tree of size t with root ``th`` has
    record n with leaf hash ``h`` (``tlog.CheckRecord``).

    Raises ValueError for impossible sizes (``n >= t``, negatives); returns
    False for any proof, root or leaf hash that does not verify, including
    malformed hashes.
    """
    _check_int("t", t)
    _check_int("n", n)
    if t < 0 or n < 0 or n >= t:
        raise ValueError(f"check_record: need 0 <= record index n < tree size t, got n={n}, t={t}")
    if not (_is_hash(th) and _is_hash(h) and all(_is_hash(x) for x in proof)):
        return False
    p = [bytes(x) for x in proof]
    th2 = _run_record_proof(p, len(p), 0, t, n, bytes(h))
    return th2 is not None and th2 == bytes(th)


# -------------------------------------------------------------------- tree proofs


def prove_tree(t: int, n: int, reader: HashReader) -> list[bytes]:
    """Return the consistency proof that the tree of size t extends the tree of size n
    (``tlog.ProveTree``; RFC 9162 §2.1.4 order). Requires ``1 <= n <= t``.
    """
    _check_int("t", t)
    _check_int("n", n)
    if t < 1 or n < 1 or n > t:
        raise ValueError(f"prove_tree: need 1 <= old size n <= tree size t, got n={n}, t={t}")
    plan = ProofPlan.tree(t, n)
    if not plan.indexes:
        return []
    return plan.assemble(_read_sorted(reader, plan.indexes))


def _run_tree_proof(
    p: Sequence[bytes], end: int, lo: int, hi: int, n: int, old: bytes
) -> tuple[bytes, bytes] | None:
    """(old hash, new hash) of subtree [lo, hi) implied by ``p[:end]``; None on bad shape."""
    if n == hi:
        if lo == 0:
            return (old, old) if end == 0 else None
        return (p[0], p[0]) if end == 1 else None
    if end == 0:
        return None
    k, _ = _maxpow2(hi - lo)
    last = p[end - 1]
    if n <= lo + k:
        r = _run_tree_proof(p, end - 1, lo, lo + k, n, old)
        if r is None:
            return None
        return r[0], node_hash(r[1], last)
    r = _run_tree_proof(p, end - 1, lo + k, hi, n, old)
    if r is None:
        return None
    return node_hash(last, r[0]), node_hash(last, r[1])


def check_tree(proof: Sequence[bytes], t: int, th: bytes, n: int, h: bytes) -> bool:
    """Report whether ``proof`` proves that the tree of size t with root ``th`` contains
    as a prefix the tree of size n with root ``h`` (``tlog.CheckTree``).

    Raises ValueError for impossible sizes (need ``1 <= n <= t``); returns
    False for any proof or root that does not verify, including malformed hashes.
    """
    _check_int("t", t)
    _check_int("n", n)
    if t < 1 or n < 1 or n > t:
        raise ValueError(f"check_tree: need 1 <= old size n <= tree size t, got n={n}, t={t}")
    if not (_is_hash(th) and _is_hash(h) and all(_is_hash(x) for x in proof)):
        return False
    p = [bytes(x) for x in proof]
    r = _run_tree_proof(p, len(p), 0, t, n, bytes(h))
    return r is not None and r[0] == bytes(h) and r[1] == bytes(th)


# ------------------------------------------------------------------------ storage


class MemoryHashes:
    """An in-memory, list-backed stored-hash array implementing :class:`HashReader`.

    >>> store = MemoryHashes()
    >>> store.add_leaves([leaf_hash(b"a"), leaf_hash(b"b")])
    >>> tree_hash(2, store) == node_hash(leaf_hash(b"a"), leaf_hash(b"b"))
    True
    """

    __slots__ = ("_hashes",)

    def __init__(self, hashes: Iterable[bytes] = ()) -> None:
        self._hashes: list[bytes] = [bytes(h) for h in hashes]

    @classmethod
    def from_leaves(cls, leaves: Iterable[bytes]) -> MemoryHashes:
        """Build the stored hashes of a whole log from its leaf hashes."""
        store = cls()
        store._hashes = build_stored_hashes(leaves)
        return store

    def __len__(self) -> int:
        return len(self._hashes)

    def __repr__(self) -> str:
        return f"MemoryHashes(<{len(self._hashes)} hashes>)"

    @property
    def hashes(self) -> list[bytes]:
        """A copy of the stored hashes, in storage order."""
        return list(self._hashes)

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        stored = self._hashes
        size = len(stored)
        out = []
        for i in indexes:
            if not 0 <= i < size:
                raise IndexError(f"stored hash index {i} out of range (have {size} hashes)")
            out.append(stored[i])
        return out

    def append(self, h: bytes) -> None:
        """Append one hash to storage."""
        _check_hash("hash", h)
        self._hashes.append(bytes(h))

    def extend(self, hashes: Iterable[bytes]) -> None:
        """Append hashes to storage, in order."""
        for h in hashes:
            self.append(h)

    def add_leaves(self, leaves: Sequence[bytes]) -> None:
        """Append records with the given leaf hashes (the storage must hold whole records)."""
        start = _record_count(len(self._hashes))
        self._hashes.extend(stored_hashes_batch(start, leaves, self))


def _record_count(stored: int) -> int:
    """Inverse of :func:`stored_hash_count`; raises ValueError if no record count matches."""
    if stored == 0:
        return 0
    level, n = split_stored_hash_index(stored - 1)
    # The last stored hash was committed with record (n << level) + 2**level - 1.
    records = (n + 1) << level
    if stored_hash_count(records) != stored:
        raise ValueError(f"{stored} stored hashes do not form a whole number of records")
    return records
