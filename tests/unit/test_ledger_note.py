"""Signed checkpoints (C2SP signed-note + tlog-checkpoint) and signing key files.

Known answers come from ../shared/testdata/ledger-vectors.json (computed by Go's
golang.org/x/mod/sumdb/note) and from the example in the package documentation
of golang.org/x/mod/sumdb/note (note.go, "PeterNeumann" key).
"""

from __future__ import annotations

import base64
import copy
import os
import pickle
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat
from ledger_vectors import vectors

from coldcheck.ledger import (
    Checkpoint,
    InvalidSignatureError,
    MalformedNoteError,
    NoteError,
    Signer,
    UnknownKeyError,
    Verifier,
    generate_key_file,
    is_valid_key_name,
    key_id,
    load_signer,
    open_checkpoint,
    open_note,
    sign_checkpoint,
)


def cp_vector() -> dict[str, str]:
    cp: dict[str, str] = vectors()["checkpoint"]
    return cp


def vector_signer() -> Signer:
    cp = cp_vector()
    return Signer.from_seed(cp["key_name"], bytes.fromhex(cp["ed25519_seed_hex"]))


def vector_text() -> str:
    note = cp_vector()["signed_note"]
    return note[: note.rindex("\n\n") + 1]


# Example from the package documentation of golang.org/x/mod/sumdb/note (note.go).
GO_DOC_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_DOC_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_DOC_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_DOC_MSG = (
    GO_DOC_TEXT + "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
    "ngotpRZb6KE6RyyBwJnAM=\n"
)


def go_doc_signer() -> Signer:
    seed = base64.b64decode(GO_DOC_SKEY.split("+", 4)[4])
    assert seed[0] == 1
    return Signer.from_seed("PeterNeumann", seed[1:])


# ------------------------------------------------------------------ known answers


def test_the_vector_key_produces_exactly_gos_verifier_key() -> None:
    assert vector_signer().verifier_key() == cp_vector()["verifier_key"]


def test_the_vector_key_id_is_the_first_four_bytes_of_the_name_and_key_hash() -> None:
    signer = vector_signer()
    want = bytes.fromhex(cp_vector()["verifier_key"].split("+")[1])
    assert signer.key_id == want
    assert key_id(signer.name, signer.verifier().public_key_bytes) == want


def test_signing_the_vector_checkpoint_produces_exactly_gos_signed_note() -> None:
    assert vector_signer().sign(vector_text()) == cp_vector()["signed_note"]


def test_the_vector_checkpoint_round_trips_through_checkpoint_objects() -> None:
    root130 = next(r for r in vectors()["roots"] if r["tree_size"] == 130)["root_hash"]
    cp = Checkpoint(cp_vector()["key_name"], 130, base64.b64decode(root130))
    assert cp.to_text() == vector_text()
    assert Checkpoint.parse(vector_text()) == cp
    assert sign_checkpoint(cp, vector_signer()) == cp_vector()["signed_note"]


def test_the_vector_note_verifies_with_the_vector_verifier_key() -> None:
    verifier = Verifier.from_key(cp_vector()["verifier_key"])
    assert open_note(cp_vector()["signed_note"], verifier) == vector_text()
    assert open_note(cp_vector()["signed_note"].encode("utf-8"), [verifier]) == vector_text()
    cp = open_checkpoint(cp_vector()["signed_note"], verifier, origin=cp_vector()["key_name"])
    assert cp.size == 130


def test_the_go_documentation_example_signs_and_verifies_identically() -> None:
    signer = go_doc_signer()
    assert signer.verifier_key() == GO_DOC_VKEY
    assert signer.sign(GO_DOC_TEXT) == GO_DOC_MSG
    assert open_note(GO_DOC_MSG, Verifier.from_key(GO_DOC_VKEY)) == GO_DOC_TEXT


# -------------------------------------------------------------------- tampering


def tamper(note: str, old: str, new: str) -> str:
    assert old in note
    return note.replace(old, new, 1)


def test_a_note_with_a_changed_tree_size_is_rejected_as_an_invalid_signature() -> None:
    verifier = Verifier.from_key(cp_vector()["verifier_key"])
    forged = tamper(cp_vector()["signed_note"], "\n130\n", "\n131\n")
    with pytest.raises(InvalidSignatureError, match="invalid signature for key"):
        open_note(forged, verifier)


def test_a_note_with_a_changed_root_is_rejected() -> None:
    verifier = Verifier.from_key(cp_vector()["verifier_key"])
    note = cp_vector()["signed_note"]
    root_line = note.split("\n")[2]
    forged_root = base64.b64encode(bytes([base64.b64decode(root_line)[0] ^ 1])).decode()[:2]
    forged = tamper(note, root_line, forged_root + root_line[2:])
    with pytest.raises(NoteError):
        open_note(forged, verifier)


def test_every_single_bit_flip_in_the_signature_is_rejected() -> None:
    verifier = Verifier.from_key(cp_vector()["verifier_key"])
    note = cp_vector()["signed_note"]
    text, sig_line = note[: note.rindex("\n\n") + 2], note[note.rindex("\n\n") + 2 :]
    prefix, b64 = sig_line[:-1].rsplit(" ", 1)
    raw = base64.b64decode(b64)
    for bit in range(len(raw) * 8):
        bad = bytearray(raw)
        bad[bit // 8] ^= 1 << (bit % 8)
        forged = f"{text}{prefix} {base64.b64encode(bytes(bad)).decode()}\n"
        with pytest.raises(NoteError):
            open_note(forged, verifier)


def test_a_note_signed_by_another_key_is_rejected_as_unknown() -> None:
    other = Signer.generate(cp_vector()["key_name"])
    note = other.sign(vector_text())
    with pytest.raises(UnknownKeyError, match="no signature by a trusted key"):
        open_note(note, Verifier.from_key(cp_vector()["verifier_key"]))


def test_an_extra_signature_by_an_unknown_key_is_ignored_like_go_does() -> None:
    note = cp_vector()["signed_note"]
    extra = Signer.generate("witness.example").sign(vector_text())
    cosigned = note + extra[extra.rindex("\n\n") + 2 :]
    assert open_note(cosigned, Verifier.from_key(cp_vector()["verifier_key"])) == vector_text()


def test_a_bad_signature_by_a_trusted_key_fails_even_next_to_a_good_one() -> None:
    verifier = Verifier.from_key(cp_vector()["verifier_key"])
    note = cp_vector()["signed_note"]
    other_text = vector_text().replace("\n130\n", "\n131\n")
    bad_line = vector_signer().sign(other_text).split("\n\n")[-1]
    text, good_line = note.split("\n\n")
    # As in Go, a repeated signature by one key is ignored once one was checked,
    # so the bad one comes first.
    with pytest.raises(InvalidSignatureError):
        open_note(f"{text}\n\n{bad_line}{good_line}", verifier)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda n: n.replace("\n\n", "\n", 1),  # no blank line before signatures
        lambda n: n[:-1],  # no final newline
        lambda n: n.replace("\u2014 ", "- ", 1),  # ASCII dash
        lambda n: n.replace("\u2014 ", "\u2014", 1),  # no space after the dash
        lambda n: n + "\u2014 name\n",  # signature line without signature
        lambda n: n + "\u2014 name AAAA\n",  # signature shorter than 5 bytes
        lambda n: n + "\u2014 name not!base64\n",
        lambda n: n + "\u2014 a+b AAAAAAAAAAAAAAAA\n",  # invalid key name
        lambda n: n.replace("130", "13\t0", 1),  # control character
        lambda n: n.replace("130", "13\r0", 1),
        lambda n: n + "".join(n.split("\n\n")[1] for _ in range(101)),  # too many signatures
    ],
)
def test_malformed_notes_are_rejected_with_a_reason(mutate: Any) -> None:
    verifier = Verifier.from_key(cp_vector()["verifier_key"])
    with pytest.raises(MalformedNoteError, match=r"malformed|forbidden"):
        open_note(mutate(cp_vector()["signed_note"]), verifier)


def test_a_note_that_is_not_utf8_is_rejected() -> None:
    verifier = Verifier.from_key(cp_vector()["verifier_key"])
    with pytest.raises(MalformedNoteError, match="UTF-8"):
        open_note(b"\xff\xfe\n\n\xe2\x80\x94 x AAAAAAAA\n", verifier)


def test_open_checkpoint_can_require_the_expected_origin() -> None:
    verifier = Verifier.from_key(cp_vector()["verifier_key"])
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(cp_vector()["signed_note"], verifier, origin="other.example/log")


# ------------------------------------------------------------------- checkpoints

ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()


def test_a_checkpoint_with_extensions_round_trips_and_signs() -> None:
    cp = Checkpoint("coldcheck.example/productions/7", 42, ROOT, ("wrap day 3", "x=1"))
    text = cp.to_text()
    assert text == f"coldcheck.example/productions/7\n42\n{ROOT_B64}\nwrap day 3\nx=1\n"
    assert Checkpoint.parse(text) == cp
    signer = Signer.generate("coldcheck.example/productions/7")
    assert open_checkpoint(sign_checkpoint(cp, signer), signer.verifier()) == cp


def test_an_empty_log_checkpoint_is_valid() -> None:
    cp = Checkpoint.parse(f"origin\n0\n{ROOT_B64}\n")
    assert cp.size == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"origin\n1\n{ROOT_B64}", "end with a newline"),
        ("origin\n1\n", "at least 3 lines"),
        (f"\n1\n{ROOT_B64}\n", "origin"),
        (f"origin\n01\n{ROOT_B64}\n", "leading zeros"),
        (f"origin\n-1\n{ROOT_B64}\n", "decimal"),
        (f"origin\n+1\n{ROOT_B64}\n", "decimal"),
        (f"origin\n 1\n{ROOT_B64}\n", "decimal"),
        (f"origin\n1.0\n{ROOT_B64}\n", "decimal"),
        (f"origin\n\u0661\n{ROOT_B64}\n", "decimal"),  # Arabic-Indic digit one
        (f"origin\n{2**63}\n{ROOT_B64}\n", "63 bits"),
        (f"origin\n1\n{ROOT_B64.rstrip('=')}\n", "base64"),
        (f"origin\n1\n{ROOT_B64} \n", "base64"),
        (f"origin\n1\n{base64.b64encode(ROOT[:31]).decode()}\n", "31 bytes"),
        (f"origin\n1\n{base64.b64encode(ROOT + b'x').decode()}\n", "33 bytes"),
        (f"origin\n1\n{ROOT_B64}\n\nextension\n", "empty"),
        (f"origin\n1\n{ROOT_B64}\next\x00\n", "forbidden"),
    ],
)
def test_malformed_checkpoints_are_rejected_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(MalformedNoteError, match=reason):
        Checkpoint.parse(text)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"origin": ""}, "origin"),
        ({"origin": "a\nb"}, "single line"),
        ({"size": -1}, "out of range"),
        ({"size": 2**63}, "out of range"),
        ({"root_hash": b"short"}, "32 bytes"),
        ({"extensions": ("",)}, "non-empty"),
        ({"extensions": ("a\nb",)}, "single line"),
    ],
)
def test_invalid_checkpoints_cannot_be_constructed(kwargs: dict[str, Any], reason: str) -> None:
    args: dict[str, Any] = {"origin": "o", "size": 1, "root_hash": ROOT} | kwargs
    with pytest.raises(MalformedNoteError, match=reason):
        Checkpoint(**args)


# ------------------------------------------------------------ keys and verifiers


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname", "nl\nname", "nbsp\xa0"])
def test_key_names_with_spaces_pluses_or_nothing_are_refused(name: str) -> None:
    assert not is_valid_key_name(name)
    with pytest.raises(NoteError, match="invalid key name"):
        Signer.generate(name)


def test_ordinary_origins_are_valid_key_names() -> None:
    assert is_valid_key_name("coldcheck.example/productions/0f3a-77")
    assert is_valid_key_name("plató.example/ñ")


def test_verifier_keys_round_trip() -> None:
    signer = Signer.generate("coldcheck.example/p/1")
    verifier = Verifier.from_key(signer.verifier_key())
    assert verifier == signer.verifier()
    assert verifier.verifier_key() == signer.verifier_key()
    assert repr(verifier) == f"Verifier({signer.verifier_key()!r})"


def test_verifier_key_ids_are_accepted_in_either_hex_case() -> None:
    vkey = cp_vector()["verifier_key"]
    name, kid, key = vkey.split("+", 2)
    assert Verifier.from_key(f"{name}+{kid.upper()}+{key}").key_id == bytes.fromhex(kid)


def _name_id(vkey: str) -> str:
    name, kid, _ = vkey.split("+", 2)
    return f"{name}+{kid}+"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda k: k.split("+")[0], "expected <name>"),
        (lambda k: "bad name" + k[k.index("+") :], "invalid key name"),
        (lambda k: k.replace("+754c8602+", "+754c8603+"), "does not match"),
        (lambda k: k.replace("+754c8602+", "+754c860+"), "8 hex"),
        (lambda k: k.replace("+754c8602+", "+754c860g+"), "8 hex"),
        (lambda k: k.replace("+AROJ", "+AhOJ"), "algorithm"),
        (lambda k: k[:-4] + "====", "base64"),
        (lambda k: _name_id(k) + base64.b64encode(b"\x01" + b"k" * 31).decode(), "32 bytes"),
        (lambda k: _name_id(k), "empty key"),
    ],
)
def test_malformed_verifier_keys_are_refused(mutate: Any, reason: str) -> None:
    with pytest.raises(MalformedNoteError, match=reason):
        Verifier.from_key(mutate(cp_vector()["verifier_key"]))


def test_sign_refuses_text_that_does_not_end_in_a_newline_or_has_control_characters() -> None:
    signer = Signer.generate("n")
    with pytest.raises(MalformedNoteError, match="newline"):
        signer.sign("no newline")
    with pytest.raises(MalformedNoteError, match="forbidden"):
        signer.sign("bell\x07\n")


def test_a_signers_repr_and_str_never_show_the_private_key() -> None:
    signer = vector_signer()
    seed_hex = cp_vector()["ed25519_seed_hex"]
    seed = bytes.fromhex(seed_hex)
    for shown in (repr(signer), str(signer), f"{signer}", f"{signer!r}"):
        assert seed_hex not in shown.lower()
        assert base64.b64encode(seed).decode() not in shown
        assert base64.b64encode(b"\x01" + seed).decode() not in shown
        assert "hidden" in shown


def test_a_signer_cannot_be_pickled_or_copied() -> None:
    with pytest.raises(TypeError, match="private key"):
        pickle.dumps(vector_signer())
    with pytest.raises(TypeError, match="private key"):
        copy.copy(vector_signer())


# --------------------------------------------------------------------- key files


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_generated_key_file_has_mode_0600_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "production.key"
    old_umask = os.umask(0)  # even with a permissive umask the file must be 0600
    try:
        signer = generate_key_file(path, "coldcheck.example/p/9")
    finally:
        os.umask(old_umask)
    assert file_mode(path) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    loaded = load_signer(path, "coldcheck.example/p/9")
    assert loaded.verifier_key() == signer.verifier_key()
    assert [p.name for p in tmp_path.iterdir()] == ["production.key"]  # no temp file left


def test_the_key_file_is_created_exclusively_with_mode_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[int, int]] = []
    real_open = os.open

    def spy(path: Any, flags: int, mode: int = 0o777, *a: Any, **kw: Any) -> int:
        opened.append((flags, mode))
        return real_open(path, flags, mode, *a, **kw)

    monkeypatch.setattr(os, "open", spy)
    generate_key_file(tmp_path / "k.key", "n")
    creating = [(f, m) for f, m in opened if f & os.O_CREAT]
    assert creating, "the key file must be created with os.open"
    for flags, mode in creating:
        assert flags & os.O_EXCL and flags & os.O_WRONLY
        assert mode == 0o600


def test_generating_a_key_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "production.key"
    path.write_text("precious")
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        generate_key_file(path, "n")
    assert path.read_text() == "precious"
    first = tmp_path / "first.key"
    generate_key_file(first, "n")
    before = first.read_bytes()
    with pytest.raises(FileExistsError):
        generate_key_file(first, "n")
    assert first.read_bytes() == before


def test_generating_a_key_refuses_a_dangling_symlink_in_the_way(tmp_path: Path) -> None:
    link = tmp_path / "k.key"
    link.symlink_to(tmp_path / "elsewhere.key")
    with pytest.raises(FileExistsError):
        generate_key_file(link, "n")
    assert not (tmp_path / "elsewhere.key").exists()


def test_generating_a_key_refuses_an_invalid_name_before_writing(tmp_path: Path) -> None:
    with pytest.raises(NoteError):
        generate_key_file(tmp_path / "k.key", "bad name")
    assert not (tmp_path / "k.key").exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o666, 0o620, 0o601])
def test_loading_refuses_a_key_file_that_group_or_others_can_access(
    tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "k.key"
    generate_key_file(path, "n")
    path.chmod(mode)
    with pytest.raises(PermissionError, match="chmod 600"):
        load_signer(path, "n")


def test_an_owner_only_read_only_key_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    generate_key_file(path, "n")
    path.chmod(0o400)
    load_signer(path, "n")


def test_loading_errors_never_echo_key_material(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, encryption_algorithm=_no_enc())
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.write(fd, raw.hex().encode())  # a raw hex seed is not the documented format
    os.close(fd)
    with pytest.raises(ValueError, match="not an unencrypted PKCS#8 PEM") as info:
        load_signer(path, "n")
    assert raw.hex() not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_loading_refuses_a_pem_key_of_another_type(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

    pem = generate_private_key(SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, _no_enc()
    )
    path = tmp_path / "k.key"
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.write(fd, pem)
    os.close(fd)
    with pytest.raises(ValueError, match="not an Ed25519 key"):
        load_signer(path, "n")


def _no_enc() -> Any:
    from cryptography.hazmat.primitives.serialization import NoEncryption

    return NoEncryption()
