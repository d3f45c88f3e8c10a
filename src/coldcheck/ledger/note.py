"""C2SP ``tlog-checkpoint`` notes signed as C2SP ``signed-note`` with Ed25519.

Compatible with Go's ``golang.org/x/mod/sumdb/note``:

* key id: the first 4 bytes of ``SHA-256(name || 0x0A || 0x01 || public key)``;
* verifier key: ``<name>+<8 hex digit key id>+<base64(0x01 || public key)>``;
* signed note: the text (ending in a newline), a blank line, then one line per
  signature: ``— <name> <base64(key id || signature)>`` (U+2014, space). The
  signature covers the text bytes, final newline included.

A checkpoint's text is ``<origin>\\n<size>\\n<base64 root hash>\\n`` followed by
optional, non-empty extension lines, each ending in a newline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from coldcheck.ledger.merkle import HASH_SIZE

__all__ = [
    "ALG_ED25519",
    "Checkpoint",
    "InvalidSignatureError",
    "MalformedNoteError",
    "NoteError",
    "Signer",
    "UnknownKeyError",
    "Verifier",
    "is_valid_key_name",
    "key_id",
    "open_checkpoint",
    "open_note",
    "sign_checkpoint",
]

ALG_ED25519 = 1
"""Signature algorithm identifier of Ed25519 in signed notes."""

_SIG_PREFIX = "\u2014 "  # em dash, space
_MAX_SIGNATURES = 100  # as Go's note.Open
_MAX_SIZE = (1 << 63) - 1  # tree sizes are int64 in Go's tlog
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z")


class NoteError(ValueError):
    """A signed note or checkpoint was rejected; the message says why."""


class MalformedNoteError(NoteError):
    """The note, checkpoint or key does not follow the format."""


class UnknownKeyError(NoteError):
    """The note has no signature by any of the trusted keys."""


class InvalidSignatureError(NoteError):
    """A signature by a trusted key does not verify: the note was altered or forged."""


# ------------------------------------------------------------------------ helpers


def is_valid_key_name(name: str) -> bool:
    """Report whether ``name`` is a valid key name: non-empty, no spaces, no ``+``.

    Also rejects control characters (Go's note format forbids them anywhere).
    """
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in name)
    )


def _check_key_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise MalformedNoteError(
            f"invalid key name {name!r}: it must be non-empty and contain no spaces, "
            "'+' or control characters"
        )


def _b64decode_strict(s: str) -> bytes:
    """Decode standard, padded base64; reject anything else (no whitespace, no garbage)."""
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("not standard base64") from None
    if base64.b64encode(raw).decode("ascii") != s:
        raise ValueError("not canonical standard base64")
    return raw


def _check_note_chars(text: str, what: str) -> None:
    """Notes must be valid UTF-8 without control characters other than newline."""
    for i, c in enumerate(text):
        o = ord(c)
        if (o < 0x20 and c != "\n") or 0xD800 <= o <= 0xDFFF:
            raise MalformedNoteError(
                f"{what} contains a forbidden character {c!r} at offset {i} "
                "(only newline may be a control character)"
            )


def key_id(name: str, public_key_bytes: bytes) -> bytes:
    """Return the 4-byte key id of an Ed25519 public key (raw 32 bytes) under ``name``."""
    if len(public_key_bytes) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    data = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + bytes(public_key_bytes)
    return hashlib.sha256(data).digest()[:4]


# ------------------------------------------------------------------- checkpoints


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A C2SP ``tlog-checkpoint``: origin, tree size, root hash and extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin:
            raise MalformedNoteError("checkpoint origin must be a non-empty string")
        if "\n" in self.origin:
            raise MalformedNoteError("checkpoint origin must be a single line")
        _check_note_chars(self.origin, "checkpoint origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise MalformedNoteError("checkpoint size must be an int")
        if not 0 <= self.size <= _MAX_SIZE:
            raise MalformedNoteError(f"checkpoint size {self.size} out of range [0, 2^63)")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise MalformedNoteError(f"checkpoint root hash must be {HASH_SIZE} bytes")
        if not isinstance(self.extensions, tuple):
            raise MalformedNoteError("checkpoint extensions must be a tuple of lines")
        for line in self.extensions:
            if not isinstance(line, str) or not line or "\n" in line:
                raise MalformedNoteError(
                    "each checkpoint extension must be a non-empty single line"
                )
            _check_note_chars(line, "checkpoint extension line")

    def to_text(self) -> str:
        """Return the checkpoint body (the text that gets signed)."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        head = f"{self.origin}\n{self.size}\n{root}\n"
        return head + "".join(line + "\n" for line in self.extensions)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse and strictly validate a checkpoint body (not a signed note)."""
        if not isinstance(text, str):
            raise MalformedNoteError("checkpoint text must be a str")
        if not text.endswith("\n"):
            raise MalformedNoteError("checkpoint text must end with a newline")
        _check_note_chars(text, "checkpoint")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedNoteError(
                "checkpoint must have at least 3 lines: origin, tree size, root hash"
            )
        origin, size_s, root_s, *extensions = lines
        if not origin:
            raise MalformedNoteError("checkpoint origin (line 1) is empty")
        if not _DECIMAL.match(size_s):
            raise MalformedNoteError(
                f"checkpoint tree size (line 2) {size_s!r} is not a decimal number "
                "without sign or leading zeros"
            )
        size = int(size_s)
        if size > _MAX_SIZE:
            raise MalformedNoteError(f"checkpoint tree size {size} does not fit in 63 bits")
        try:
            root = _b64decode_strict(root_s)
        except ValueError:
            raise MalformedNoteError(
                f"checkpoint root hash (line 3) {root_s!r} is not standard base64"
            ) from None
        if len(root) != HASH_SIZE:
            raise MalformedNoteError(
                f"checkpoint root hash (line 3) is {len(root)} bytes, expected {HASH_SIZE}"
            )
        for i, line in enumerate(extensions, start=4):
            if not line:
                raise MalformedNoteError(f"checkpoint line {i} is empty (blank lines end a note)")
        return cls(origin, size, root, tuple(extensions))


# ------------------------------------------------------------------- keys & notes


class Verifier:
    """Verifies signatures by one Ed25519 key under one key name."""

    __slots__ = ("_key", "_key_id", "_name", "_public_bytes")

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        _check_key_name(name)
        self._name = name
        self._key = public_key
        self._public_bytes = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._key_id = key_id(name, self._public_bytes)

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
        if not isinstance(vkey, str):
            raise MalformedNoteError("verifier key must be a str")
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise MalformedNoteError(
                "malformed verifier key: expected <name>+<key id>+<base64 key>"
            )
        name, id_hex, key_b64 = parts
        _check_key_name(name)
        if not re.fullmatch(r"[0-9a-fA-F]{8}", id_hex):
            raise MalformedNoteError("malformed verifier key: key id must be 8 hex digits")
        try:
            key = _b64decode_strict(key_b64)
        except ValueError:
            raise MalformedNoteError("malformed verifier key: key is not standard base64") from None
        if not key:
            raise MalformedNoteError("malformed verifier key: empty key")
        if key[0] != ALG_ED25519:
            raise MalformedNoteError(
                f"unsupported verifier key algorithm {key[0]} (only Ed25519 = 1)"
            )
        if len(key) != 33:
            raise MalformedNoteError("malformed verifier key: Ed25519 key must be 32 bytes")
        if bytes.fromhex(id_hex) != key_id(name, key[1:]):
            raise MalformedNoteError("verifier key id does not match the key name and public key")
        return cls(name, Ed25519PublicKey.from_public_bytes(key[1:]))

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key id."""
        return self._key_id

    @property
    def public_key_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._public_bytes

    def verifier_key(self) -> str:
        """Return the verifier key string ``<name>+<hex key id>+<base64(0x01||key)>``."""
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self._public_bytes).decode("ascii")
        return f"{self._name}+{self._key_id.hex()}+{b64}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Report whether ``signature`` is this key's Ed25519 signature of ``message``."""
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"Verifier({self.verifier_key()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verifier):
            return NotImplemented
        return (self._name, self._public_bytes) == (other._name, other._public_bytes)

    def __hash__(self) -> int:
        return hash((self._name, self._public_bytes))


class Signer:
    """Signs notes with an Ed25519 private key under a key name.

    The private key never appears in ``repr``/``str``, and a Signer cannot be pickled.
    """

    __slots__ = ("_key", "_verifier")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_key_name(name)
        if not isinstance(private_key, Ed25519PrivateKey):
            raise TypeError("private_key must be an Ed25519PrivateKey")
        self._key = private_key
        self._verifier = Verifier(name, private_key.public_key())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        """Build a signer from a raw 32-byte Ed25519 seed (RFC 8032 private key)."""
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    @classmethod
    def generate(cls, name: str) -> Signer:
        """Generate a fresh random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def name(self) -> str:
        return self._verifier.name

    @property
    def key_id(self) -> bytes:
        return self._verifier.key_id

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The private key object (for persisting it; handle with care)."""
        return self._key

    def verifier(self) -> Verifier:
        """The matching verifier."""
        return self._verifier

    def verifier_key(self) -> str:
        """The public verifier key string to hand to verifiers."""
        return self._verifier.verifier_key()

    def sign(self, text: str) -> str:
        """Return the signed note: ``text`` + blank line + this key's signature line."""
        if not isinstance(text, str):
            raise TypeError("note text must be a str")
        if not text.endswith("\n"):
            raise MalformedNoteError("note text must end with a newline")
        _check_note_chars(text, "note text")
        msg = text.encode("utf-8")
        sig = self._key.sign(msg)
        b64 = base64.b64encode(self._verifier.key_id + sig).decode("ascii")
        return f"{text}\n{_SIG_PREFIX}{self.name} {b64}\n"

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id.hex()!r}, private key hidden)"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied")


def _as_verifiers(verifiers: Verifier | Iterable[Verifier]) -> list[Verifier]:
    if isinstance(verifiers, Verifier):
        return [verifiers]
    out = list(verifiers)
    for v in out:
        if not isinstance(v, Verifier):
            raise TypeError("open_note needs Verifier objects (use Verifier.from_key)")
    return out


def open_note(note: str | bytes, verifiers: Verifier | Iterable[Verifier]) -> str:
    """Verify a signed note and return its text (with final newline).

    Follows Go's ``note.Open``: every signature line must be well formed; a
    signature by a trusted key (matching name and key id) that does not verify
    is an error even if another one does; signatures by unknown keys are
    ignored, but at least one signature by a trusted key is required.

    Raises :class:`MalformedNoteError`, :class:`UnknownKeyError` or
    :class:`InvalidSignatureError` (all :class:`NoteError`, a ValueError).
    """
    known = _as_verifiers(verifiers)
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNoteError("malformed note: not valid UTF-8") from None
    if not isinstance(note, str):
        raise TypeError("note must be str or bytes")
    _check_note_chars(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError(
            "malformed note: no blank line between the text and the signatures"
        )
    text, sigs = note[: split + 1], note[split + 2 :]
    if not sigs or not sigs.endswith("\n"):
        raise MalformedNoteError("malformed note: the signature block must end with a newline")

    by_id: dict[tuple[str, bytes], Verifier] = {}
    for known_verifier in known:
        by_id[(known_verifier.name, known_verifier.key_id)] = known_verifier

    msg = text.encode("utf-8")
    verified: set[tuple[str, bytes]] = set()
    unknown: list[str] = []
    lines = sigs[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise MalformedNoteError(f"malformed note: more than {_MAX_SIGNATURES} signatures")
    for lineno, line in enumerate(lines, start=1):
        if not line.startswith(_SIG_PREFIX):
            raise MalformedNoteError(
                f"malformed note: signature line {lineno} does not start with '\u2014 '"
            )
        name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
        try:
            raw = _b64decode_strict(b64) if b64 else b""
        except ValueError:
            raw = b""
        if not is_valid_key_name(name) or len(raw) < 5:
            raise MalformedNoteError(f"malformed note: signature line {lineno} is malformed")
        kid, sig = raw[:4], raw[4:]
        verifier = by_id.get((name, kid))
        if verifier is None:
            unknown.append(f"{name}+{kid.hex()}")
            continue
        if (name, kid) in verified:
            continue
        if not verifier.verify(msg, sig):
            raise InvalidSignatureError(
                f"invalid signature for key {name}+{kid.hex()}: "
                "the note text was altered or the signature forged"
            )
        verified.add((name, kid))

    if not verified:
        trusted = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in known) or "none"
        found = ", ".join(unknown) or "none"
        raise UnknownKeyError(
            f"note has no signature by a trusted key (signed by: {found}; trusted: {trusted})"
        )
    return text


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """Return the signed note for a checkpoint."""
    return signer.sign(checkpoint.to_text())


def open_checkpoint(
    note: str | bytes,
    verifiers: Verifier | Iterable[Verifier],
    origin: str | None = None,
) -> Checkpoint:
    """Verify a signed checkpoint note and parse it; optionally require its origin."""
    cp = Checkpoint.parse(open_note(note, verifiers))
    if origin is not None and cp.origin != origin:
        raise MalformedNoteError(f"checkpoint origin {cp.origin!r} is not the expected {origin!r}")
    return cp
