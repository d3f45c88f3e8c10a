"""Signing keys, checkpoints and proofs over a production's ledger."""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, inspect, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..config import Settings
from ..domain.errors import ColdcheckError, Conflict, InvalidInput
from ..domain.events import utc_text
from ..ledger import (
    Checkpoint,
    HashReader,
    NoteError,
    ProofPlan,
    SealedKeyError,
    Signer,
    generate_key_file,
    load_master_key,
    load_signer,
    open_checkpoint,
    prove_record,
    prove_tree,
    seal_key,
    stored_hash_index,
    tree_hash,
    unseal_key,
)
from ..ledger import (
    sign_checkpoint as sign_note,
)
from ..ledger.keys import replace_file
from ..persistence import tables as t
from ..persistence.store import Store
from .context import Context, context

log = logging.getLogger("coldcheck")


def key_path(key_dir: Path, production: str) -> Path:
    return key_dir / f"{production}.ed25519"


def new_key(key_dir: Path, production: str, name: str) -> Signer:
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = key_path(key_dir, production)
    try:
        return generate_key_file(path, name)
    except FileExistsError:
        raise ColdcheckError("ALREADY_INITIALISED",
                             f"a signing key for {production!r} already exists at {path}; "
                             "refusing to replace it") from None


def master_key(settings: Settings) -> bytes:
    """The master key that seals signing keys kept in the database."""
    path = settings.master_key_file
    if path is None:
        raise ColdcheckError("KEY_MISSING", "signing keys kept in the database are sealed "
                             "with a master key: set COLDCHECK_MASTER_KEY_FILE to its file "
                             "(`coldcheck ledger master-key` makes one)")
    try:
        return load_master_key(path)
    except FileNotFoundError:
        raise ColdcheckError("KEY_MISSING", f"the master key file {path} does not exist; "
                             "set COLDCHECK_MASTER_KEY_FILE") from None
    except (OSError, ValueError) as e:
        raise ColdcheckError("KEY_MISSING", f"the master key file cannot be used: {e}") from None


def _key_folder_fault(e: OSError) -> ColdcheckError:
    from .faults import Fault, fault_of

    return fault_of(e, key_folder=True) or Fault("KEY_FOLDER_UNREADABLE", str(e))


def new_production_key(settings: Settings, production: str,
                       origin: str) -> tuple[Signer, bytes | None]:
    """A new production's signing key, and the key sealed for the database when
    the setting key_store is ``database`` (None: it was written to a key file).
    A key folder that cannot be written is KEY_FOLDER_UNREADABLE (DISK_FULL,
    READ_ONLY_STORAGE where the system says so)."""
    try:
        return _new_production_key(settings, production, origin)
    except OSError as e:
        raise _key_folder_fault(e) from None


def _new_production_key(settings: Settings, production: str,
                        origin: str) -> tuple[Signer, bytes | None]:
    kept = held_checkpoint_path(settings, production)
    if kept.exists():  # a production of that id signed here before: never mix them
        raise ColdcheckError("ALREADY_INITIALISED", f"a checkpoint of a production {production!r} "
                             f"is kept at {kept}; refusing to start another under that id")
    if settings.key_store == "database":
        path = key_path(settings.resolved_key_dir(), production)
        if path.exists():  # it would be taken for a second, different key forever
            raise ColdcheckError("ALREADY_INITIALISED", f"a signing key for {production!r} "
                                 f"already exists at {path}; refusing to make another")
        s = Signer.generate(origin)
        return s, seal_key(s, master_key(settings), production=production)
    return new_key(settings.resolved_key_dir(), production, origin), None


def sealed_key(ctx: Context) -> bytes | None:
    """The production's sealed signing key, if the database keeps it (a database
    not yet migrated to 0006 keeps none: its keys are files)."""
    try:
        with ctx.store.engine.connect() as c:
            v = c.execute(select(t.signing_keys.c.sealed).where(
                t.signing_keys.c.production_id == ctx.production)).scalar()
    except DBAPIError:
        if inspect(ctx.store.engine).has_table("signing_keys"):
            raise
        return None
    return None if v is None else bytes(v)


def open_sealed(ctx: Context, sealed: bytes, key_name: str) -> Signer:
    """The key sealed in the database, opened with this server's master key
    (not yet compared with the production's verifier key). KEY_MISMATCH with
    ``other_master`` if it was sealed under another master key, without if it
    does not open under its own (altered)."""
    try:
        return unseal_key(sealed, master_key(ctx.settings), production=ctx.production,
                          name=key_name)
    except SealedKeyError as e:
        raise ColdcheckError("KEY_MISMATCH", f"the signing key of {ctx.production!r} kept "
                             f"in the database cannot be used: {e}",
                             other_master=e.other_master) from None


def unsealed(ctx: Context, sealed: bytes) -> Signer:
    """The sealed key, opened, and the production's key (KEY_MISMATCH if not)."""
    prod = ctx.store.production(ctx.production)
    key = open_sealed(ctx, sealed, prod["key_name"])
    if key.verifier_key() != prod["verifier_key"]:
        raise ColdcheckError("KEY_MISMATCH", f"the key sealed in the database for "
                             f"{ctx.production!r} is not the key it was created with")
    return key


def signer(ctx: Context) -> Signer:
    """The production's signing key: sealed in the database if it is kept there,
    else its key file. A sealed key this server cannot check (no master key, or
    sealed under another one) gives way to the key file, with a warning; one
    that this master key opens, or that is altered, never does. Whatever key is
    found must be the one entry 0 of the ledger records (``key_id``): the
    production's verifier key in the database is not enough on its own."""
    sealed = sealed_key(ctx)
    if sealed is None:
        key = file_signer(ctx)
    else:
        try:
            key = unsealed(ctx, sealed)
        except ColdcheckError as sealed_error:
            if not (sealed_error.code == "KEY_MISSING"
                    or sealed_error.details.get("other_master")):
                raise
            try:
                key = file_signer(ctx)
            except ColdcheckError:
                raise sealed_error from None
            log.warning("%s; signing with the key file instead", sealed_error.message)
    recorded = _recorded_key_id(ctx)
    if recorded != key.key_id.hex():
        raise ColdcheckError("KEY_MISMATCH", f"the signing key of {ctx.production!r} has key "
                             f"id {key.key_id.hex()}, but entry 0 of its ledger records "
                             f"{recorded}: refusing to sign (run `coldcheck ledger verify`)")
    return key


def _recorded_key_id(ctx: Context) -> str | None:
    """The signing key id entry 0 (``production.created``) records."""
    first = ctx.store.events(ctx.production, 0, 1)
    kid = first[0].payload.get("key_id") if first else None
    return kid if isinstance(kid, str) else None


def file_signer(ctx: Context) -> Signer:
    prod = ctx.store.production(ctx.production)
    path = key_path(ctx.settings.resolved_key_dir(), ctx.production)
    try:
        there = path.exists()
    except OSError as e:  # the folder itself cannot be searched
        raise _key_folder_fault(e) from None
    if not there:
        raise ColdcheckError("KEY_MISSING", f"the signing key of {ctx.production!r} is not at "
                             f"{path}; set COLDCHECK_KEY_DIR")
    try:
        s = load_signer(path, prod["key_name"])
    except OSError as e:
        if e.errno is not None:  # the system refused the read (not the mode check)
            raise _key_folder_fault(e) from None
        raise ColdcheckError("KEY_MISMATCH", f"the key file {path} cannot be used: "
                             f"{e}") from None
    except ValueError as e:  # not private, or not under that name
        raise ColdcheckError("KEY_MISMATCH", f"the key file {path} cannot be used: "
                             f"{e}") from None
    if s.verifier_key() != prod["verifier_key"]:
        raise ColdcheckError("KEY_MISMATCH", f"the key at {path} is not the key this "
                             "production was created with")
    return s


def seal_file_key(ctx: Context, *, at: datetime) -> dict[str, object]:
    """Keep the production's key file's key in the database from now on, sealed
    with the master key (moving a production to a studio server). The file is
    left where it is, for its owner to remove once the database is backed up."""
    if ctx.settings.key_store != "database":
        raise InvalidInput("INVALID_INPUT", "seal-key is for servers that keep keys in the "
                           "database: set COLDCHECK_KEY_STORE=database (and the master key "
                           "file) on every server first, so that ledger verify requires the "
                           "sealed key from then on")
    if not inspect(ctx.store.engine).has_table("signing_keys"):
        raise InvalidInput("NOT_INITIALISED", "this database predates sealed signing keys: "
                           "run `coldcheck migrate` first")
    if sealed_key(ctx) is not None:
        raise ColdcheckError("ALREADY_INITIALISED", f"the signing key of {ctx.production!r} "
                             "is already kept in the database; nothing was changed")
    key = file_signer(ctx)
    sealed = seal_key(key, master_key(ctx.settings), production=ctx.production)
    unsealed(ctx, sealed)  # opens again, with this master key, before it counts
    try:
        with ctx.store.engine.begin() as c:
            c.execute(t.signing_keys.insert().values(
                production_id=ctx.production, sealed=sealed, created_at=utc_text(at)))
    except IntegrityError:  # sealed at the same moment by someone else
        raise ColdcheckError("ALREADY_INITIALISED", f"the signing key of {ctx.production!r} "
                             "is already kept in the database; nothing was changed") from None
    return {"production": ctx.production, "key_id": key.key_id.hex(),
            "file": str(key_path(ctx.settings.resolved_key_dir(), ctx.production))}


def key_problems(store: Store, settings: Settings) -> list[str]:
    """One line per production whose checkpoints cannot be signed here (its key
    file missing, unreadable, or not its key): said when the server starts, not
    first at the next incident, when the checkpoint it should sign is missed."""
    problems = []
    for p in store.productions():
        ctx = context(settings, str(p["id"]), store=store)
        try:
            signer(ctx)
        except ColdcheckError as e:
            problems.append(f"{p['id']}: {e.code}: {e.message}")
    return problems


def latest_checkpoint(ctx: Context) -> tuple[int, str] | None:
    with ctx.store.engine.connect() as c:
        row = c.execute(select(t.checkpoints.c.tree_size, t.checkpoints.c.note)
                        .where(t.checkpoints.c.production_id == ctx.production)
                        .order_by(t.checkpoints.c.tree_size.desc()).limit(1)).first()
    return None if row is None else (int(row[0]), str(row[1]))


def held_checkpoint_path(settings: Settings, production: str) -> Path:
    """Where the server keeps the last checkpoint it signed, beside the key and
    outside the database: whoever rewrites the database cannot rewrite it."""
    return settings.resolved_key_dir() / f"{production}.last-checkpoint"


def _refuse_diverged(note: str, what: str, key: Signer, origin: str, head: int,
                     reader: HashReader) -> None:
    """LEDGER_DIVERGED unless the ledger still holds, unchanged, the tree ``note``
    (a checkpoint this key signed) vouches for."""
    try:
        cp = open_checkpoint(note, key.verifier(), origin)
    except NoteError as e:
        raise Conflict("LEDGER_DIVERGED", f"{what} does not open with the production's key "
                       f"({e}); nothing was signed: run `coldcheck ledger verify`") from None
    if cp.size > head:
        raise Conflict("LEDGER_DIVERGED", f"{what} covers {cp.size} entries and the ledger "
                       f"holds {head}: the database was cut short or restored from an older "
                       "copy; nothing is signed over it. Run `coldcheck ledger verify`; to put "
                       "a backup back on purpose, `coldcheck restore` records it")
    if tree_hash(cp.size, reader) != cp.root_hash:
        raise Conflict("LEDGER_DIVERGED", f"the ledger's first {cp.size} entries no longer "
                       f"hash to {what}: they were changed after it was signed; nothing is "
                       "signed over them. Run `coldcheck ledger verify`")


def note_checkpoint(note: str) -> Checkpoint:
    """What a signed checkpoint note says, its signature not checked (the size
    and root it names); NoteError or ValueError if it is not one."""
    return Checkpoint.parse(note[:note.index("\n\n") + 1])


def read_held(path: Path) -> str | None:
    """The kept checkpoint, if there is one; KEY_MISSING if it cannot be read
    (never a raw error after the action that asked for a checkpoint committed)."""
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except (OSError, UnicodeDecodeError) as e:
        raise ColdcheckError("KEY_MISSING", f"the last checkpoint kept at {path} cannot be "
                             f"read ({e}); nothing was signed: the server and the CLI must "
                             "run as the same user, and the file must be the note as "
                             "signed") from None


def _keep_held(path: Path, note: str, size: int) -> None:
    """Replace the kept checkpoint file, whole (ledger.keys.replace_file), unless
    it already holds a larger one. Called inside the signing transaction, so
    writers of one database take turns and the kept size never goes back; a
    crash before the commit leaves a note for entries already committed."""
    import contextlib

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        current = read_held(path)
        if current is not None:
            with contextlib.suppress(NoteError, ValueError):
                if note_checkpoint(current).size >= size:
                    return
        replace_file(path, note.encode("utf-8"))
    except (OSError, ColdcheckError) as e:  # signed and stored; only the spare is not
        log.warning("the last checkpoint could not be kept at %s: %s", path, e)


def sign_checkpoint(ctx: Context, *, reason: str, at: datetime,
                    keep: bool = True) -> tuple[int, str]:
    """Sign the current tree head if it grew since the last checkpoint; return the
    latest checkpoint (size, signed note).

    Never over a ledger that no longer holds what an earlier checkpoint of this
    key vouched for (LEDGER_DIVERGED): neither the latest one stored, nor the
    last one this server signed, kept beside the key where a rewrite of the
    database cannot reach it. Otherwise whoever rewrote the database and
    removed the checkpoints above the rewrite would get the genuine key to sign
    the forgery at the next incident or wrap.

    ``keep=False`` (only for ``coldcheck restore``, on the checked copy it is
    about to put in place, which writes the kept checkpoint itself) neither
    checks nor writes the kept checkpoint."""
    prod = ctx.store.production(ctx.production)
    key = signer(ctx)
    held_path = held_checkpoint_path(ctx.settings, ctx.production)
    held = read_held(held_path) if keep else None
    with ctx.store.write(ctx.production) as tx:
        size = tx.head
        last = tx.conn.execute(select(t.checkpoints.c.tree_size, t.checkpoints.c.note)
                               .where(t.checkpoints.c.production_id == ctx.production)
                               .order_by(t.checkpoints.c.tree_size.desc()).limit(1)).first()
        if last is not None and int(last[0]) >= size:
            return int(last[0]), str(last[1])
        reader = ctx.store.hash_reader(tx.conn, ctx.production)
        if last is not None:
            _refuse_diverged(str(last[1]), f"the latest stored checkpoint (size {last[0]})",
                             key, prod["origin"], size, reader)
        if held is not None:
            _refuse_diverged(held, f"the last checkpoint this server signed ({held_path})",
                             key, prod["origin"], size, reader)
        root = tree_hash(size, reader)
        note = sign_note(Checkpoint(prod["origin"], size, root), key)
        tx.conn.execute(t.checkpoints.insert().values(
            production_id=ctx.production, tree_size=size, note=note, reason=reason,
            created_at=utc_text(at)))
        if keep:
            _keep_held(held_path, note, size)  # before the commit: writers take turns
    return size, note


class KnownHashes:
    """A HashReader over hashes already read (one query for a whole answer)."""

    def __init__(self, found: dict[int, bytes]) -> None:
        self.found = found

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        return [self.found[i] for i in indexes]


def read_known(ctx: Context, c: Connection, indexes: list[int]) -> KnownHashes:
    """The stored hashes at ``indexes``, read on ``c`` (its snapshot) in one call."""
    reader = ctx.store.hash_reader(c, ctx.production)
    return KnownHashes(dict(zip(indexes, reader.read_hashes(indexes), strict=True)))


def _size(c: Connection, ctx: Context, size: int | None) -> int:
    cur = c.connection.cursor()
    cur.execute(ctx.store.sql.head_now, (ctx.production,))
    row = cur.fetchone()
    if row is None:
        raise InvalidInput("NOT_FOUND", f"no production {ctx.production!r}")
    head = int(row[0])
    s = head if size is None else size
    if not 0 < s <= head:
        raise InvalidInput("INVALID_INPUT", f"tree size must be 1..{head}, not {s}")
    return s


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


def inclusion_proof(ctx: Context, index: int, size: int | None = None) -> dict[str, object]:
    """The inclusion proof of entry ``index`` in the tree of ``size`` (default: the
    head), with the leaf and root hashes: one snapshot, one read of stored hashes."""
    with ctx.store.engine.connect() as c, c.begin():
        s = _size(c, ctx, size)
        if not 0 <= index < s:
            raise InvalidInput("INVALID_INPUT", f"entry index must be 0..{s - 1}, not {index}")
        plan, root = ProofPlan.record(s, index), ProofPlan.root(s)
        leaf = stored_hash_index(0, index)
        known = read_known(ctx, c, [leaf, *plan.indexes, *root.indexes])
    proof = prove_record(s, index, known)
    return {"index": index, "tree_size": s, "leaf_hash": _b64(known.found[leaf]),
            "root_hash": _b64(tree_hash(s, known)), "proof": [_b64(p) for p in proof]}


def consistency_proof(ctx: Context, old: int, size: int | None = None) -> dict[str, object]:
    """The consistency proof from tree size ``old`` to ``size`` (default: the head),
    with both roots: one snapshot, one read of stored hashes."""
    with ctx.store.engine.connect() as c, c.begin():
        s = _size(c, ctx, size)
        if not 0 < old <= s:
            raise InvalidInput("INVALID_INPUT", f"old size must be 1..{s}, not {old}")
        plan = ProofPlan.tree(s, old)
        known = read_known(ctx, c, [*plan.indexes, *ProofPlan.root(old).indexes,
                                   *ProofPlan.root(s).indexes])
    proof = prove_tree(s, old, known)
    return {"old_size": old, "old_root": _b64(tree_hash(old, known)), "tree_size": s,
            "root_hash": _b64(tree_hash(s, known)), "proof": [_b64(p) for p in proof]}


def entry(ctx: Context, index: int) -> bytes:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 2**63:
        raise InvalidInput("NOT_FOUND", f"no entry {index} in the ledger of {ctx.production}")
    with ctx.store.engine.connect() as c:
        v = c.execute(select(t.events.c.entry).where(
            t.events.c.production_id == ctx.production, t.events.c.seq == index)).scalar()
    if v is None:
        raise InvalidInput("NOT_FOUND", f"no entry {index} in the ledger of {ctx.production}")
    return bytes(v)
