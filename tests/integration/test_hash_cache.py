"""The per-process cache of committed stored hashes, and the reader that uses it.

A stored hash never changes once committed, so proof and root reads may keep
what they read. The cache must: give back exactly what the database holds;
keep the hashes every proof uses (the upper levels) while lower-level ones come
and go; never take hashes from the append path; and still report a missing hash
as a corrupt ledger.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from store_checks import PRODUCTION, T0, new_production, stored_entries

from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.domain.events import NewEvent
from coldcheck.ledger import check_record, leaf_hash, prove_record, stored_hash_count, tree_hash
from coldcheck.persistence.hotpath import CursorHashes, HashCache
from coldcheck.persistence.store import Store


def test_hashes_used_every_time_survive_every_turn() -> None:
    cache = HashCache(limit=8)  # turns every 4 new hashes
    top = {1000: b"t" * 32, 1001: b"u" * 32}
    cache.add(top)
    for i in range(200):  # 200 one-off lower-level hashes, each read once
        got, missing = cache.get([1000, 1001, i])
        assert got[:2] == [top[1000], top[1001]] and missing == [i]
        cache.add({i: bytes([i % 256]) * 32})
    assert cache.get([1000, 1001]) == ([top[1000], top[1001]], [])
    # A one-off hash from long ago is gone; one from the current turn is there.
    assert cache.get([0])[1] == [0]
    assert cache.get([199]) == ([bytes([199]) * 32], [])
    assert len(cache.young) + len(cache.old) <= 8


def test_a_hash_found_in_the_old_generation_moves_back() -> None:
    cache = HashCache(limit=4)  # turns every 2
    cache.add({1: b"a" * 32, 2: b"b" * 32})  # a turn: both now old
    assert cache.old and not cache.young
    assert cache.get([1]) == ([b"a" * 32], [])  # found old, moved young
    cache.add({3: b"c" * 32})  # a turn: 1 and 3 old, 2 dropped
    assert cache.get([2])[1] == [2]
    assert cache.get([1, 3]) == ([b"a" * 32, b"c" * 32], [])


class CountingCursor:
    """A DBAPI cursor that counts the statements it runs."""

    def __init__(self, cur: Any) -> None:
        self.cur, self.executed = cur, 0

    def execute(self, sql: str, params: Any) -> Any:
        self.executed += 1
        return self.cur.execute(sql, params)

    def fetchall(self) -> Any:
        return self.cur.fetchall()


def ledger(store: Store, settings: Settings, n: int) -> int:
    ctx, person = new_production(store, settings)
    for i in range(n):
        with store.write(PRODUCTION) as tx:
            tx.append([NewEvent("note.added", {"text": f"note {i}", "refers_to": 0})],
                      actor=person, device="pytest", at=T0)
    del ctx
    return store.head(PRODUCTION)


def test_cached_reads_equal_the_database_and_ask_it_only_once(store: Store,
                                                               backend_settings: Settings) -> None:
    size = ledger(store, backend_settings, 40)
    rng = random.Random(7)
    with store.engine.connect() as conn:
        plain = CursorHashes(conn.connection.cursor(), store.sql, PRODUCTION)
        counting = CountingCursor(conn.connection.cursor())
        cached = CursorHashes(counting, store.sql, PRODUCTION, HashCache(limit=64))
        every = list(range(stored_hash_count(size)))
        for _ in range(30):
            ask = rng.sample(every, 9)
            assert cached.read_hashes(ask) == plain.read_hashes(ask)
        before = counting.executed
        again = every[:20]
        cached.read_hashes(again)
        cached.read_hashes(again)  # all young now: no statement
        assert counting.executed <= before + 1
        # Proofs through the cache verify against the root read without it.
        entries = dict(stored_entries(store))
        root = tree_hash(size, plain)
        for n in rng.sample(range(size), 10):
            proof = prove_record(size, n, cached)
            assert check_record(proof, size, root, n, leaf_hash(entries[n]))


def test_a_missing_stored_hash_is_a_corrupt_ledger_cache_or_not(sqlite_store: Store,
                                                                 settings: Settings) -> None:
    size = ledger(sqlite_store, settings, 5)
    beyond = stored_hash_count(size) + 3
    with sqlite_store.engine.connect() as conn:
        for cache in (None, HashCache()):
            reader = CursorHashes(conn.connection.cursor(), sqlite_store.sql, PRODUCTION, cache)
            with pytest.raises(ColdcheckError) as err:
                reader.read_hashes([0, beyond])
            assert err.value.code == "LEDGER_CORRUPT"
            assert str(beyond) in str(err.value)


def test_the_append_path_never_fills_the_shared_cache(sqlite_store: Store,
                                                      settings: Settings) -> None:
    ledger(sqlite_store, settings, 6)
    cache = HashCache()
    with sqlite_store.engine.connect() as conn:
        reader = CursorHashes(conn.connection.cursor(), sqlite_store.sql, PRODUCTION, cache,
                              remember=True)
        got = reader.read_hashes([0, 1, 2])
    assert reader.last == list(zip([0, 1, 2], got, strict=True))
    assert not cache.young and not cache.old


@pytest.mark.parametrize("value", [b"\x01" * 31, b"\x01" * 33, "a" * 32, 7],
                         ids=["31 bytes", "33 bytes", "text", "integer"])
def test_a_stored_hash_that_is_not_32_bytes_is_a_corrupt_ledger(
        sqlite_store: Store, settings: Settings, value: object) -> None:
    """The reader checks each hash as it leaves the database; proofs then take
    them as they are, so nothing else would notice."""
    size = ledger(sqlite_store, settings, 5)
    odd = stored_hash_count(size) + 1
    with sqlite_store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO ledger_hashes (production_id, idx, hash) "
                             "VALUES (?, ?, ?)", (PRODUCTION, odd, value))
    with sqlite_store.engine.connect() as conn:
        for cache in (None, HashCache()):
            reader = CursorHashes(conn.connection.cursor(), sqlite_store.sql, PRODUCTION, cache)
            assert len(reader.read_hashes([0, 1])) == 2
            with pytest.raises(ColdcheckError) as err:
                reader.read_hashes([0, odd])
            assert err.value.code == "LEDGER_CORRUPT"
            assert f"stored ledger hash {odd} is not 32 bytes" in str(err.value)
            if cache is not None:
                assert odd not in cache.young and odd not in cache.old


def test_reads_of_any_length_answer_what_the_database_holds(sqlite_store: Store,
                                                           settings: Settings) -> None:
    """Short reads are point lookups joined by UNION ALL (SQLite caps a compound
    SELECT at 500 terms); long ones an IN list. Both answer in the order asked."""
    size = ledger(sqlite_store, settings, 300)
    every = list(range(stored_hash_count(size)))
    with sqlite_store.engine.connect() as conn:
        truth = dict(conn.exec_driver_sql(
            "SELECT idx, hash FROM ledger_hashes WHERE production_id = ?", (PRODUCTION,)).all())
        reader = CursorHashes(conn.connection.cursor(), sqlite_store.sql, PRODUCTION)
        rng = random.Random(3)
        for n in (1, 2, 63, 64, 65, 499, 501, len(every)):
            ask = rng.sample(every, n)
            assert reader.read_hashes(ask) == [truth[i] for i in ask]
        assert reader.read_hashes([5, 5, 9]) == [truth[5], truth[5], truth[9]]
