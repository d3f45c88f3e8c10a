"""Tampering with a real database file: `ledger verify` catches it and names the entry.

Each test takes a fresh copy of a demo database (a real shooting day written
through the services), edits it with sqlite3 the way an attacker holding the
file would (append-only triggers dropped first), and checks that verification
fails with the expected code, naming the entry (or projection) that differs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from demo_db import Attacker, demo_copy, verify
from store_checks import state_view
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.domain.events import Event
from coldcheck.ledger import Signer, generate_key_file, load_signer, stored_hash_index
from coldcheck.persistence.store import Store
from coldcheck.services.actions import add_note
from coldcheck.services.context import Context
from coldcheck.services.ledger import held_checkpoint_path, key_path
from coldcheck.services.verify import LEDGER_ERROR_CODES, VerifyReport


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    return demo_copy(tmp_path / "demo")


def db(s: Settings) -> Path:
    return Path(s.database_url)


def codes(r: VerifyReport) -> list[str]:
    return [f.code for f in r.failures]


def assert_caught(r: VerifyReport, code: str, entry: int | None) -> None:
    assert not r.ok, "verification passed on a tampered database"
    first = r.first
    assert first is not None
    assert (first.code, first.entry) == (code, entry), "\n".join(f.line() for f in r.failures)
    assert first.code in LEDGER_ERROR_CODES


def test_the_untouched_copy_verifies(demo: Settings) -> None:
    r = verify(demo)
    assert r.ok, [f.line() for f in r.failures]
    assert r.key_source == "key file" and r.verified_size == r.entries == r.head == 95


# --------------------------------------------------------------- edited entries


def test_one_edited_byte_in_a_payload_names_the_entry(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        k = x.seq_of("weapon.issued")
        old = x.entry(k)
        x.set_entry(k, old.replace(b'"performer":"P6"', b'"performer":"P7"', 1))
        assert x.entry(k) != old
    r = verify(demo)
    assert_caught(r, "LEDGER_ENTRY_ALTERED", k)
    assert "were changed after it was appended" in r.failures[0].message
    # Every signed checkpoint after it no longer matches; earlier ones still do.
    bad = {c.size for c in r.checkpoints if not c.ok}
    assert bad == {c.size for c in r.checkpoints if (c.size or 0) > k}
    assert {c.size for c in r.checkpoints if c.ok} == {1, 30}


def test_every_byte_of_an_entry_is_covered(demo: Settings) -> None:
    """Flip one bit at every 5th offset of one entry (JSON structure, keys, column
    values, payload, sequence number): each edit is caught and names that entry."""
    with Attacker(db(demo)) as x:
        k = x.seq_of("weapon.returned")
        original = x.entry(k)
        for offset in [*range(0, len(original), 5), len(original) - 1]:
            x.flip(k, offset, 0x02)
            r = verify(demo)
            assert not r.ok and r.first is not None, offset
            assert r.first.entry == k, (offset, [f.line() for f in r.failures])
            assert r.first.code in ("LEDGER_ENTRY_ALTERED", "LEDGER_ENTRY_REORDERED"), offset
            x.set_entry(k, original)
    assert verify(demo).ok


def test_an_entry_that_is_no_longer_json_names_the_entry(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.set_entry(12, x.entry(12)[:-1])
    r = verify(demo)
    assert_caught(r, "LEDGER_ENTRY_ALTERED", 12)
    assert any("projections were not compared" in w for w in r.warnings)


def test_an_entry_stored_as_text_names_the_entry(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.sql("UPDATE events SET entry = CAST(entry AS TEXT) WHERE seq = 77")
    r = verify(demo)
    assert_caught(r, "LEDGER_ENTRY_ALTERED", 77)
    assert "holds str, not the bytes that were hashed" in r.failures[0].message
    assert r.root == verify(demo_copy(db(demo).parent.parent / "fresh")).root


def test_an_edit_to_a_column_only_is_a_row_mismatch(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.sql("UPDATE events SET actor = 'P5' WHERE seq = 60")
    r = verify(demo)
    assert_caught(r, "LEDGER_ROW_MISMATCH", 60)
    assert "actor column is 'P5'" in r.failures[0].message
    assert len(r.failures) == 1


def test_an_edit_with_rehashed_tree_is_caught_by_the_signed_checkpoints(
        demo: Settings) -> None:
    """The attacker edits an entry and recomputes every stored hash, so the
    database agrees with itself: the signed checkpoints do not."""
    with Attacker(db(demo)) as x:
        k = x.seq_of("weapon.stored")
        edited = x.entry(k).replace(b'"storage":"ST2"', b'"storage":"ST1"', 1)
        assert edited != x.entry(k)
        x.set_entry(k, edited)
        x.rewrite_hashes()
    r = verify(demo)
    assert not r.ok
    assert codes(r)[0] == "LEDGER_CHECKPOINT_MISMATCH"
    assert {c.size for c in r.checkpoints if c.ok} == {1, 30}
    assert "first difference is among entries 30..79" in r.failures[0].message


@pytest.mark.parametrize("how", ["space", "escape"])
def test_a_non_canonical_entry_with_rehashed_tree_names_the_entry(demo: Settings,
                                                                  how: str) -> None:
    """Review: bytes that mean the same JSON but are not canonical (a space, a
    needless escape), with every stored hash rebuilt over them, were reported
    only as a checkpoint mismatch over a range. The entry is now named."""
    with Attacker(db(demo)) as x:
        k = x.seq_of("weapon.stored")
        old = x.entry(k)
        edited = old.replace(b'"payload":{', b'"payload": {', 1) if how == "space" else \
            old.replace(b'"storage":"ST', b'"storage":"\\u0053T', 1)
        assert edited != old and json.loads(edited) == json.loads(old)
        x.set_entry(k, edited)
        x.rewrite_hashes()
    r = verify(demo)
    assert_caught(r, "LEDGER_ENTRY_ALTERED", k)
    assert "not the canonical JSON" in r.failures[0].message
    mismatch = next(f for f in r.failures if f.code == "LEDGER_CHECKPOINT_MISMATCH")
    assert mismatch.entry == k


# -------------------------------------------------------------- deleted rows


@pytest.mark.parametrize("seq", [0, 40, 94])
def test_a_deleted_row_names_the_entry(demo: Settings, seq: int) -> None:
    with Attacker(db(demo)) as x:
        x.sql("DELETE FROM events WHERE seq = ?", seq)
    r = verify(demo)
    if seq == 94:  # the last entry: the ledger now ends early
        assert_caught(r, "LEDGER_TRUNCATED", 94)
    else:
        assert_caught(r, "LEDGER_ENTRY_MISSING", seq)
        assert r.consequences > 0  # every later leaf shifted: counted, not listed


def test_deleted_rows_in_a_range_are_one_failure(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.sql("DELETE FROM events WHERE seq BETWEEN 50 AND 52")
    r = verify(demo)
    assert_caught(r, "LEDGER_ENTRY_MISSING", 50)
    assert "entries 50..52 are missing" in r.failures[0].message
    assert codes(r).count("LEDGER_ENTRY_MISSING") == 1
    assert "LEDGER_HEAD_MISMATCH" not in codes(r)  # explained by the missing rows


# ------------------------------------------------------------- inserted rows


def forged(seq: int, text: str = "nothing to see") -> bytes:
    return Event("dusty-trails", seq, "note.added", "2026-11-24T12:00:00.000000Z", "P1",
                 "pytest", {"refers_to": 3, "text": text}).entry()


def test_a_row_appended_behind_the_ledgers_back_names_the_entry(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.sql("INSERT INTO events VALUES ('dusty-trails', 95, 'note.added', "
              "'2026-11-24T12:00:00.000000Z', 'P1', 'pytest', ?)", forged(95))
    r = verify(demo)
    assert_caught(r, "LEDGER_ENTRY_UNEXPECTED", 95)
    assert "not appended through the ledger" in r.failures[0].message
    assert "LEDGER_HEAD_MISMATCH" in codes(r)


def test_a_row_inserted_in_the_middle_names_the_entry(demo: Settings) -> None:
    """Make room by renumbering the later rows, insert a back-dated note, move the
    head: the forged entry does not hash to the stored leaf it sits on."""
    with Attacker(db(demo)) as x:
        for seq in range(94, 49, -1):
            x.sql("UPDATE events SET seq = ? WHERE seq = ?", seq + 1, seq)
        x.sql("INSERT INTO events VALUES ('dusty-trails', 50, 'note.added', "
              "'2026-11-24T12:00:00.000000Z', 'P1', 'pytest', ?)", forged(50))
        x.sql("UPDATE productions SET head = 96")
    r = verify(demo)
    assert_caught(r, "LEDGER_ENTRY_ALTERED", 50)
    assert "LEDGER_ENTRY_REORDERED" in codes(r)  # row 51 now holds entry 50


def test_a_row_with_an_impossible_sequence_number_is_unexpected(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.sql("PRAGMA ignore_check_constraints = ON")
        x.sql("INSERT INTO events VALUES ('dusty-trails', -1, 'note.added', "
              "'2026-11-24T12:00:00.000000Z', 'P1', 'pytest', ?)", forged(-1))
    r = verify(demo)
    assert_caught(r, "LEDGER_ENTRY_UNEXPECTED", 0)
    assert codes(r) == ["LEDGER_ENTRY_UNEXPECTED"]  # the real entries all verify
    assert r.verified_size == 95


# -------------------------------------------------------------- swapped rows


def test_two_swapped_rows_name_the_first(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        a, b = x.entry(45), x.entry(50)
        x.set_entry(45, b)
        x.set_entry(50, a)
    r = verify(demo)
    assert_caught(r, "LEDGER_ENTRY_REORDERED", 45)
    assert [f.entry for f in r.failures if f.code == "LEDGER_ENTRY_REORDERED"] == [45, 50]
    assert "row 45 holds entry 50" in r.failures[0].message


def test_two_swapped_whole_rows_name_the_first(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.sql("UPDATE events SET seq = 100000 WHERE seq = 10")
        x.sql("UPDATE events SET seq = 10 WHERE seq = 11")
        x.sql("UPDATE events SET seq = 11 WHERE seq = 100000")
    r = verify(demo)
    assert_caught(r, "LEDGER_ENTRY_REORDERED", 10)


# ------------------------------------------------ truncation and a new key


def test_truncating_the_tail_is_caught_by_the_old_checkpoints(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.truncate(85)
    r = verify(demo)
    assert_caught(r, "LEDGER_TRUNCATED", 85)
    assert "entries 85..94 were removed" in r.failures[0].message


def test_truncate_and_resign_with_a_new_key_is_caught_by_the_key_file(
        demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.truncate(85)
        x.resign(Signer.generate(x.origin()))
    r = verify(demo)
    assert not r.ok
    assert r.key_source == "key file"
    assert set(codes(r)) >= {"LEDGER_KEY_MISMATCH", "LEDGER_CHECKPOINT_INVALID"}
    invalid = next(f for f in r.failures if f.code == "LEDGER_CHECKPOINT_INVALID")
    assert "no signature by a trusted key" in invalid.message


def test_truncate_and_resign_keeping_old_checkpoints_names_the_entry(
        demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.truncate(85)
        x.resign(Signer.generate(x.origin()), keep_old=True)
    r = verify(demo)
    assert_caught(r, "LEDGER_TRUNCATED", 85)


def test_truncate_and_resign_with_a_replaced_key_file_is_caught_by_entry_zero(
        demo: Settings) -> None:
    """The attacker also replaces the key file: entry 0 still records the key id
    the production was created with."""
    with Attacker(db(demo)) as x:
        x.truncate(85)
        new = Signer.generate(x.origin())
        x.resign(new)
    path = key_path(demo.resolved_key_dir(), "dusty-trails")
    path.unlink()
    new_file = generate_key_file(path, load_name(demo))
    with Attacker(db(demo)) as x:
        x.resign(new_file)
    r = verify(demo)
    assert_caught(r, "LEDGER_KEY_MISMATCH", 0)
    assert "entry 0 records signing key id" in r.failures[0].message


def load_name(s: Settings) -> str:
    with Attacker(db(s)) as x:
        return x.origin()


def paper(s: Settings, tmp: Path) -> tuple[str, Path]:
    """What the producer holds: the verifier key and the wrap checkpoint, printed."""
    with Attacker(db(s)) as x:
        note = x.checkpoints()[95]
    signer = load_signer(key_path(s.resolved_key_dir(), "dusty-trails"), load_name(s))
    (tmp / "wrap-checkpoint.txt").write_text("\n" + note + "\n\n", encoding="utf-8")
    return signer.verifier_key(), tmp / "wrap-checkpoint.txt"


def full_rewrite(s: Settings, keep: int) -> None:
    """Everything an attacker with the database and the key folder can do: drop
    the tail, re-key the production (entry 0 included), recompute every stored
    hash and re-sign, with a new key file in place of the old one."""
    path = key_path(s.resolved_key_dir(), "dusty-trails")
    path.unlink()
    new = generate_key_file(path, load_name(s))
    with Attacker(db(s)) as x:
        x.truncate(keep)
        e0 = json.loads(x.entry(0))
        e0["payload"]["key_id"] = new.key_id.hex()
        x.set_entry(0, json.dumps(e0, sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False).encode())
        x.rewrite_hashes()
        note = x.resign(new)
    # The server's own copy of its last checkpoint, in the key folder: replaced too.
    held_checkpoint_path(s, "dusty-trails").write_text(note, encoding="utf-8")
    store = Store(s.database_url)
    store.rebuild("dusty-trails")  # projections re-derived from what is left
    store.dispose()


def test_a_full_rewrite_needs_what_an_outside_party_holds(demo: Settings,
                                                          tmp_path: Path) -> None:
    key, note_file = paper(demo, tmp_path)
    full_rewrite(demo, 85)
    # The database and key folder now agree with themselves: nothing inside them
    # can tell. This is why the checkpoint is printed on the daily report.
    assert verify(demo).ok
    # The producer's printed key and checkpoint catch it, and name the entry.
    r = verify(demo, trusted_key=key, checkpoints=[(str(note_file), note_file.read_text())])
    # Entry 0 is the first that differs: it records the new key's id.
    assert_caught(r, "LEDGER_KEY_MISMATCH", 0)
    assert r.key_source == "given"
    truncated = [f for f in r.failures if f.code == "LEDGER_TRUNCATED"]
    assert [(f.entry, f.details["signed_size"]) for f in truncated] == [(85, 95)]
    assert "LEDGER_CHECKPOINT_INVALID" in codes(r)
    # The key alone is enough to refuse the re-signed checkpoints.
    r = verify(demo, trusted_key=key)
    assert not r.ok and codes(r)[0] == "LEDGER_KEY_MISMATCH"


def test_the_cli_verifies_against_the_printed_key_and_checkpoint(
        demo: Settings, tmp_path: Path) -> None:
    key, note_file = paper(demo, tmp_path)
    runner = CliRunner()
    env = {"COLDCHECK_KEY_DIR": str(demo.key_dir)}
    ok = runner.invoke(app, ["ledger", "verify", "--db", demo.database_url, "--key", key,
                             "--checkpoint", str(note_file)], env=env)
    assert ok.exit_code == 0, ok.output
    full_rewrite(demo, 85)
    bad = runner.invoke(app, ["ledger", "verify", "--db", demo.database_url, "--key", key,
                              "--checkpoint", str(note_file)], env=env)
    assert bad.exit_code == 5
    assert "LEDGER_KEY_MISMATCH: entry 0: " in bad.output
    assert "LEDGER_TRUNCATED: entry 85: the checkpoint" in bad.output
    assert "entries 85..94 were removed" in bad.output


# ---------------------------------------------------------------- projections


def test_an_edited_projection_row_names_the_projection_and_entry(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        last = x.sql("SELECT seq FROM projections WHERE kind = 'weapon' AND entity_id = 'W1'")
        x.sql("UPDATE projections SET data = replace(data, '\"in_storage\"', '\"issued\"') "
              "WHERE kind = 'weapon' AND entity_id = 'W1'")
    r = verify(demo)
    assert not r.ok and codes(r) == ["LEDGER_PROJECTION_MISMATCH"]
    f = r.failures[0]
    assert f.subject == "weapon:W1"
    assert f.details["entry_seq"] == last[0][0]
    assert f"last changed by entry {last[0][0]}" in f.message
    assert "field 'state' is \"issued\" in the stored row but \"in_storage\"" in f.message


def test_deleted_and_invented_projection_rows_are_caught(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.sql("DELETE FROM projections WHERE kind = 'lot' AND entity_id = 'L2'")
        x.sql("INSERT INTO projections VALUES ('dusty-trails', 'weapon', 'W9', '{}', 3)")
        x.sql("UPDATE projections SET seq = 2 WHERE kind = 'person' AND entity_id = 'P2'")
    r = verify(demo)
    assert {f.subject for f in r.failures} == {"lot:L2", "weapon:W9", "person:P2"}
    assert set(codes(r)) == {"LEDGER_PROJECTION_MISMATCH"}


def test_an_edited_state_row_is_caught(demo: Settings) -> None:
    """The row of what is not an entity (the open day, voided verifications …),
    which every command now starts from, is checked like an entity row."""
    with Attacker(db(demo)) as x:
        x.sql("UPDATE projections SET data = replace(data, '\"last_lot\":{', "
              "'\"last_lot\":{\"W9\":\"L9\",') WHERE kind = 'state'")
    r = verify(demo)
    assert not r.ok and codes(r) == ["LEDGER_PROJECTION_MISMATCH"]
    assert r.failures[0].subject == "state:production"
    assert "field 'last_lot'" in r.failures[0].message


def test_a_database_without_the_state_row_replays_and_the_next_write_writes_it(
        demo: Settings) -> None:
    """A database written before the state row existed (here: the row deleted)
    still gives the replayed state, verifies with a warning, and the next append
    writes the row, after which the state loads from the rows again."""
    with Attacker(db(demo)) as x:
        x.sql("DELETE FROM projections WHERE kind = 'state'")
    r = verify(demo)
    assert r.ok and any("state row is not stored yet" in w for w in r.warnings)
    store = Store(demo.database_url)
    try:
        assert state_view(store.state("dusty-trails")) == state_view(
            store.replay("dusty-trails"))
        assert ("state", "production") not in store.projection_rows("dusty-trails",
                                                                    with_state=True)
        ctx = Context(store, "dusty-trails", demo)
        add_note(ctx, refers_to=3, text="a remark", actor="P1")
        assert ("state", "production") in store.projection_rows("dusty-trails",
                                                                with_state=True)
    finally:
        store.dispose()
    r = verify(demo)
    assert r.ok and not any("state row" in w for w in r.warnings), r.failures
    fresh = Store(demo.database_url)
    try:
        assert state_view(fresh.state("dusty-trails")) == state_view(
            fresh.replay("dusty-trails"))
    finally:
        fresh.dispose()


def test_rows_from_beyond_the_head_are_not_loaded_as_the_state(demo: Settings) -> None:
    """A file whose events were rolled back under its projection rows (entries
    cut, rows left): the state is the replay of the events it holds, not the
    rows, which describe entries it no longer has."""
    with Attacker(db(demo)) as x:
        x.truncate(80)
    store = Store(demo.database_url)
    try:
        replayed = state_view(store.replay("dusty-trails"))
        assert replayed["seq"] == 80
        assert state_view(store.state("dusty-trails")) == replayed
        with store.write("dusty-trails") as tx:
            assert state_view(tx.state) == replayed
    finally:
        store.dispose()


def test_a_deleted_or_invented_index_row_is_caught_and_rebuild_restores_it(
        demo: Settings) -> None:
    """A timeline index that leaves out an event (a refused attempt hidden from a
    weapon's timeline) or invents one is LEDGER_INDEX_MISMATCH, naming what and
    which entry; `rebuild` writes it again from the events."""
    with Attacker(db(demo)) as x:
        seq = x.sql("SELECT seq FROM timeline_index WHERE kind = 'weapon' AND subject_id = "
                    "'W1' ORDER BY seq DESC LIMIT 1")[0][0]
        x.sql("DELETE FROM timeline_index WHERE kind = 'weapon' AND subject_id = 'W1' AND "
              "seq = ?", seq)
        x.sql("INSERT INTO timeline_index VALUES ('dusty-trails', 'lot', 'L2', 0)")
        x.sql("INSERT INTO timeline_index VALUES ('dusty-trails', 'weapon', 'W77', 5)")
    r = verify(demo)
    assert not r.ok and set(codes(r)) == {"LEDGER_INDEX_MISMATCH"}
    by = {f.subject: f for f in r.failures}
    assert by.keys() == {"weapon:W1", "lot:L2", "weapon:W77"}
    assert by["weapon:W1"].entry == seq and f"lacks 1 event(s) naming it (entries {seq})" \
        in by["weapon:W1"].message
    assert by["lot:L2"].entry == 0 and "do not name it (entries 0)" in by["lot:L2"].message
    assert "which no event names" in by["weapon:W77"].message
    store = Store(demo.database_url)
    try:
        store.rebuild("dusty-trails")
    finally:
        store.dispose()
    assert verify(demo).ok


# -------------------------------------------------------- stored hashes, head


def test_an_edited_stored_leaf_hash_names_the_stored_hash(demo: Settings) -> None:
    idx = stored_hash_index(0, 20)
    with Attacker(db(demo)) as x:
        x.sql("UPDATE ledger_hashes SET hash = zeroblob(32) WHERE idx = ?", idx)
    r = verify(demo)
    assert codes(r) == ["LEDGER_HASH_MISMATCH"]
    f = r.failures[0]
    assert f.details == {"index": idx, "level": 0, "first_entry": 20, "last_entry": 20}
    assert "the leaf hash of entry 20" in f.message


def test_an_edited_interior_hash_names_its_level_and_range(demo: Settings) -> None:
    idx = stored_hash_index(3, 2)  # the subtree over entries 16..23
    with Attacker(db(demo)) as x:
        x.sql("UPDATE ledger_hashes SET hash = zeroblob(32) WHERE idx = ?", idx)
    r = verify(demo)
    assert codes(r) == ["LEDGER_HASH_MISMATCH"]
    assert f"stored hash {idx} (level 3, over entries 16..23)" in r.failures[0].message


def test_a_deleted_stored_hash_is_caught(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.sql("DELETE FROM ledger_hashes WHERE idx = ?", stored_hash_index(1, 7))
    r = verify(demo)
    assert codes(r) == ["LEDGER_HASH_MISMATCH"] and "is missing" in r.failures[0].message


def test_stored_hashes_cut_at_another_boundary_are_caught(demo: Settings) -> None:
    """Two stored hashes re-cut 31 + 33 bytes: the same bytes end to end."""
    i = stored_hash_index(0, 30)
    with Attacker(db(demo)) as x:
        h = x.stored_hashes()
        x.sql("UPDATE ledger_hashes SET hash = ? WHERE idx = ?", h[i][:31], i)
        x.sql("UPDATE ledger_hashes SET hash = ? WHERE idx = ?", h[i][31:] + h[i + 1], i + 1)
        x.sql("UPDATE ledger_hashes SET hash = ? WHERE idx = ?", h[i + 5].hex(), i + 5)
    r = verify(demo)
    assert set(codes(r)) == {"LEDGER_HASH_MISMATCH"}
    assert {f.details["index"] for f in r.failures} == {i, i + 1, i + 5}


def test_an_edited_head_is_caught(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.sql("UPDATE productions SET head = 90")
    assert_caught(verify(demo), "LEDGER_HEAD_MISMATCH", 90)


# ---------------------------------------------------------------- checkpoints


def test_an_edited_checkpoint_note_is_invalid(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        note = x.checkpoints()[80]
        x.sql("UPDATE checkpoints SET note = ? WHERE tree_size = 80",
              note.replace("\n80\n", "\n81\n", 1))
    r = verify(demo)
    assert codes(r) == ["LEDGER_CHECKPOINT_INVALID"]
    assert "invalid signature" in r.failures[0].message


def test_deleted_checkpoints_are_caught(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.sql("DELETE FROM checkpoints")
    assert codes(verify(demo)) == ["LEDGER_CHECKPOINT_MISSING"]


# ------------------------------------------------------------------- the CLI


def test_the_cli_names_the_first_entry_and_exits_5(demo: Settings) -> None:
    with Attacker(db(demo)) as x:
        x.flip(57, 100)
        x.sql("DELETE FROM events WHERE seq = 70")
    runner = CliRunner()
    env = {"COLDCHECK_KEY_DIR": str(demo.key_dir)}
    res = runner.invoke(app, ["ledger", "verify", "--db", demo.database_url], env=env)
    assert res.exit_code == 5
    lines = res.output.splitlines()
    assert lines[1].startswith("LEDGER_ENTRY_ALTERED: entry 57: ")
    assert any(x.startswith("  also LEDGER_ENTRY_MISSING: entry 70: ") for x in lines)
    res = runner.invoke(app, ["ledger", "verify", "--db", demo.database_url, "--json"], env=env)
    assert res.exit_code == 5
    data = json.loads(res.stdout)
    assert data["ok"] is False
    assert (data["first"]["code"], data["first"]["entry"]) == ("LEDGER_ENTRY_ALTERED", 57)
    assert {"code": "LEDGER_ENTRY_MISSING", "entry": 70} in [
        {k: f[k] for k in ("code", "entry")} for f in data["failures"]]
