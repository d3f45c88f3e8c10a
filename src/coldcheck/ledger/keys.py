"""Checkpoint signing keys on disk.

Key file format: the Ed25519 private key as an unencrypted PKCS#8 PEM block
(``-----BEGIN PRIVATE KEY-----``), the format ``openssl genpkey -algorithm
ed25519`` writes, so ``openssl pkey -in <file> -pubout`` can inspect it. The key
name is not stored in the file: it is the production's log origin, passed to
:func:`load_signer`.

The file is created with mode 0600 from the start (never world-readable, not
even briefly), written in full to a temporary file in the same directory,
fsynced, then linked into place, which fails rather than overwrite an existing
key. Loading refuses a file whose mode lets group or others read or write it.
Key material never appears in exception messages or reprs.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from coldcheck.ledger.note import Signer, _check_key_name

__all__ = ["KEY_FILE_MODE", "MASTER_KEY_SIZE", "SealedKeyError", "generate_key_file",
           "generate_master_key_file", "load_master_key", "load_signer", "master_key_id",
           "seal_key", "seal_secret", "sealed_master_id", "unseal_key", "unseal_secret"]

KEY_FILE_MODE = 0o600
_MAX_KEY_FILE_SIZE = 64 * 1024


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def generate_key_file(path: Path, name: str) -> Signer:
    """Generate a new Ed25519 signing key, save it at ``path`` (mode 0600), return its Signer.

    Raises FileExistsError if ``path`` already exists: a signing key is never
    overwritten, since losing it would orphan every checkpoint it signed.
    """
    path = Path(path)
    _check_key_name(name)
    if os.path.lexists(path):
        raise FileExistsError(
            f"refusing to overwrite existing key file {path}; move it away first "
            "if you really mean to replace the production's signing key"
        )
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())

    try:
        write_private(path, pem)
    except FileExistsError:
        raise FileExistsError(
            f"refusing to overwrite existing key file {path} (it appeared while "
            "the new key was being written)"
        ) from None
    return Signer(name, private_key)


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data``, mode 0600, all or nothing: written to a
    temporary file, fsynced, then linked into place (link() never replaces an
    existing file: FileExistsError), then the directory fsynced."""
    directory = path.parent
    tmp = directory / f".{path.name}.{secrets.token_hex(8)}.tmp"
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, KEY_FILE_MODE)
    try:
        try:
            # The umask can only have removed bits; make the mode exact anyway.
            os.fchmod(fd, KEY_FILE_MODE)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(directory)


def replace_file(path: Path, data: bytes, *, mode: int = KEY_FILE_MODE) -> None:
    """Put ``data`` at ``path``, replacing whatever is there, all or nothing:
    written to a temporary file beside it (created 0600, then given ``mode``),
    fsynced, renamed over it (a link at ``path`` is replaced, never followed),
    then the directory fsynced. A crash leaves the old file or the new one."""
    directory = path.parent
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(directory)


def read_private(path: Path, *, what: str, limit: int, why: str) -> bytes:
    """Read a file ``write_private`` made. PermissionError if its mode grants
    group or other users any access, ValueError if it is not a regular file or
    is larger than ``limit``."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{what} {path} is not a regular file")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise PermissionError(
                f"{what} {path} has mode {mode:04o}, which gives group or other users "
                f"access to {why}; run `chmod 600 {path}` "
                "(and consider replacing it if others could have read it)"
            )
        if st.st_size > limit:
            raise ValueError(f"{what} {path} is too large to be a {what}")
        chunks = []
        while True:
            chunk = os.read(fd, limit + 1)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_signer(path: Path, name: str) -> Signer:
    """Load the signing key at ``path`` for key name ``name``.

    Raises PermissionError if the file's mode grants any access to group or
    others (fix with ``chmod 600 <path>``), ValueError if it is not an Ed25519
    PKCS#8 PEM private key.
    """
    path = Path(path)
    _check_key_name(name)
    data = read_private(path, what="key file", limit=_MAX_KEY_FILE_SIZE,
                        why="the production's signing key")
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # Deliberately drop the underlying error: it must not echo key bytes.
        raise ValueError(
            f"key file {path} is not an unencrypted PKCS#8 PEM Ed25519 private key"
        ) from None
    finally:
        del data
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"key file {path} holds a {type(key).__name__}, not an Ed25519 key")
    return Signer(name, key)


# ---------------------------------------------------------------- sealed keys
#
# At studio scale (ledger.md: "or in the database, encrypted") a production's
# key is kept in the database, sealed with a master key that is not: AES-256-GCM
# (RFC 5116) over the 32-byte Ed25519 seed. The associated data is the header
# below, the production id and the key name (the log origin), so a sealed key
# copied to another production does not open, nor one whose master key id was
# rewritten (the id is read before opening, but it is authenticated). Layout:
# b"cck1" || 8-byte master key id || 12-byte random nonce || ciphertext and tag.
# The master key id (HMAC-SHA256 of a fixed label, truncated) tells "sealed under
# another master key" (this server cannot check it) from "does not open under
# its own master key" (altered). Whoever opens a key compares its public half
# with the production's verifier key: that is what makes it the production's.
# The master key file is 32 random bytes, mode 0600, written like a key file.

SEALED_MAGIC = b"cck1"
MASTER_KEY_SIZE = 32
_SEALED_SIZE = 4 + 8 + 12 + 32 + 16


class SealedKeyError(ValueError):
    """A sealed key that does not open. ``other_master`` says it was sealed under
    another master key (not altered: this master key cannot tell)."""

    def __init__(self, message: str, *, other_master: bool = False) -> None:
        super().__init__(message)
        self.other_master = other_master


def master_key_id(master: bytes) -> bytes:
    """Eight bytes that name a master key without giving it away."""
    import hashlib
    import hmac

    return hmac.new(master, b"coldcheck master key id", hashlib.sha256).digest()[:8]


def _sealing_context(header: bytes, production: str, name: str) -> bytes:
    return header + f"coldcheck sealed signing key\n{production}\n{name}\n".encode()


def seal_key(signer: Signer, master: bytes, *, production: str) -> bytes:
    """The signer's private key sealed with ``master`` for ``production``."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(master) != MASTER_KEY_SIZE:
        raise ValueError("a master key is 32 bytes")
    seed = signer.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    nonce = secrets.token_bytes(12)
    header = SEALED_MAGIC + master_key_id(master)
    sealed = AESGCM(master).encrypt(nonce, seed,
                                    _sealing_context(header, production, signer.name))
    return header + nonce + sealed


def sealed_master_id(sealed: bytes) -> bytes:
    """The id of the master key ``sealed`` says it was sealed under."""
    if len(sealed) != _SEALED_SIZE or not sealed.startswith(SEALED_MAGIC):
        raise SealedKeyError("not a sealed coldcheck signing key")
    return sealed[4:12]


def unseal_key(sealed: bytes, master: bytes, *, production: str, name: str) -> Signer:
    """Open a sealed key. SealedKeyError (saying nothing of the key) if it was
    sealed under another master key, or does not open under this one (the bytes
    or the production are not those it was sealed for). The caller compares the
    key with the production's verifier key."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(master) != MASTER_KEY_SIZE:
        raise ValueError("a master key is 32 bytes")
    kid = sealed_master_id(sealed)
    if kid != master_key_id(master):
        raise SealedKeyError(f"it was sealed under another master key (id {kid.hex()}; this "
                             f"one is {master_key_id(master).hex()})", other_master=True)
    try:
        seed = AESGCM(master).decrypt(sealed[12:24], sealed[24:],
                                      _sealing_context(sealed[:12], production, name))
    except InvalidTag:
        raise SealedKeyError("it does not open under its own master key: the sealed key, "
                             "or the production it names, was altered") from None
    return Signer.from_seed(name, seed)


# Other secrets the server must read back (the alert webhook's signing secret)
# are sealed the same way under the same master key, with their own magic and
# associated data (what the secret is for and the production), so neither a
# sealed signing key nor another production's secret opens in their place.
# Layout: b"ccs1" || 8-byte master key id || 12-byte nonce || ciphertext and tag.
SECRET_MAGIC = b"ccs1"


def _secret_context(header: bytes, purpose: str, production: str) -> bytes:
    return header + f"coldcheck sealed secret\n{purpose}\n{production}\n".encode()


def seal_secret(secret: bytes, master: bytes, *, purpose: str, production: str) -> bytes:
    """``secret`` sealed with ``master`` for ``purpose`` on ``production``."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(master) != MASTER_KEY_SIZE:
        raise ValueError("a master key is 32 bytes")
    nonce = secrets.token_bytes(12)
    header = SECRET_MAGIC + master_key_id(master)
    return header + nonce + AESGCM(master).encrypt(
        nonce, secret, _secret_context(header, purpose, production))


def unseal_secret(sealed: bytes, master: bytes, *, purpose: str, production: str) -> bytes:
    """Open a secret sealed by :func:`seal_secret`; SealedKeyError if it does not
    (another master key, altered, or sealed for something else)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(master) != MASTER_KEY_SIZE:
        raise ValueError("a master key is 32 bytes")
    if len(sealed) < 4 + 8 + 12 + 16 or not sealed.startswith(SECRET_MAGIC):
        raise SealedKeyError("not a sealed coldcheck secret")
    kid = sealed[4:12]
    if kid != master_key_id(master):
        raise SealedKeyError(f"it was sealed under another master key (id {kid.hex()}; this "
                             f"one is {master_key_id(master).hex()})", other_master=True)
    try:
        return AESGCM(master).decrypt(sealed[12:24], sealed[24:],
                                      _secret_context(sealed[:12], purpose, production))
    except InvalidTag:
        raise SealedKeyError("it does not open under its own master key: the sealed "
                             "secret, or the production it names, was altered") from None


def generate_master_key_file(path: Path) -> None:
    """Create a new master key file at ``path`` (32 random bytes, mode 0600);
    FileExistsError if something is there."""
    write_private(Path(path), secrets.token_bytes(MASTER_KEY_SIZE))


def load_master_key(path: Path) -> bytes:
    """Read a master key file: PermissionError if others may read it, ValueError
    if it is not 32 bytes."""
    data = read_private(Path(path), what="master key file", limit=MASTER_KEY_SIZE,
                        why="every production's sealed signing key")
    if len(data) != MASTER_KEY_SIZE:
        raise ValueError(f"master key file {path} is not {MASTER_KEY_SIZE} bytes long")
    return data
