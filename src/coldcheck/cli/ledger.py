"""`coldcheck ledger …`: keys, checkpoints, entries and proofs, verification."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..domain.errors import Conflict, InvalidInput
from .app import group
from .common import (
    DbOpt,
    JsonOpt,
    ProdOpt,
    ctx_for,
    err,
    guarded,
    out,
    progress,
    run,
    settings,
    write_json,
)

if TYPE_CHECKING:
    from ..services.context import Context
    from ..services.verify import VerifyReport

VERIFY_FAILED = 5  # exit status when the ledger does not verify (docs/cli.md)

app = group("The tamper-evident ledger (RFC 9162 Merkle tree, signed C2SP checkpoints).")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="ledger")


@app.command("key")
def key(db: DbOpt = None, production: ProdOpt = None) -> None:
    """Print the verifier key line <name>+<hex id>+<base64>."""
    with guarded(False):
        ctx = ctx_for(db, production)
        print(ctx.store.production(ctx.production)["verifier_key"])


@app.command("checkpoint")
def checkpoint(db: DbOpt = None, production: ProdOpt = None) -> None:
    """Sign a checkpoint if entries were added since the last one; print the latest
    signed note exactly as signed."""
    from ..services import ledger as L

    with guarded(False):
        ctx = ctx_for(db, production)
        _, note = L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
    sys.stdout.write(note)


@app.command("entry")
def entry(index: int, db: DbOpt = None, production: ProdOpt = None) -> None:
    """Write entry N's exact bytes to standard output."""
    from ..services import ledger as L

    with guarded(False):
        data = L.entry(ctx_for(db, production), index)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


@app.command("prove-inclusion")
def prove_inclusion(index: int, size: Annotated[int | None, typer.Option()] = None,
                    db: DbOpt = None, production: ProdOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Inclusion proof of entry INDEX in the tree of SIZE (default: current)."""
    from ..services import ledger as L

    run(as_json, lambda: L.inclusion_proof(ctx_for(db, production), index, size), _show)


@app.command("prove-consistency")
def prove_consistency(old: int, size: Annotated[int | None, typer.Option()] = None,
                      db: DbOpt = None, production: ProdOpt = None,
                      as_json: JsonOpt = False) -> None:
    """Consistency proof from tree size OLD to SIZE (default: current)."""
    from ..services import ledger as L

    run(as_json, lambda: L.consistency_proof(ctx_for(db, production), old, size), _show)


def _show(r: dict[str, Any]) -> None:
    for k, v in r.items():
        if k != "proof":
            out.print(f"{k}: {v}")
    out.print("proof:")
    for p in r["proof"]:
        out.print(f"  {p}")


KeyOpt = Annotated[str | None, typer.Option(
    "--key", "--trusted-key", metavar="KEY",
    help="The verifier key you hold (the line `coldcheck ledger key` prints and the daily "
         "report shows), or a file holding it. Checkpoints must be signed by this key; the "
         "database and the key file must agree with it.")]
CheckpointOpt = Annotated[list[Path] | None, typer.Option(
    "--checkpoint", metavar="FILE",
    help="A file holding a signed checkpoint you kept (the printed one); '-' reads "
         "standard input. Repeat for several. Each must verify against the ledger.")]


@app.command("master-key")
def master_key(out_file: Annotated[Path, typer.Option(
                   "--out", metavar="FILE", help="Where to create the master key file.")],
               as_json: JsonOpt = False) -> None:
    """Create a master key file (32 random bytes, mode 0600) for signing keys kept in
    the database (key_store=database). Never overwrites a file. Point
    COLDCHECK_MASTER_KEY_FILE at it on every server, and keep a copy offline: without
    it, no checkpoint of those productions can be signed again."""
    def go() -> dict[str, Any]:
        from ..ledger import generate_master_key_file

        try:
            generate_master_key_file(out_file)
        except FileExistsError:
            raise Conflict("FILE_EXISTS", f"{out_file} exists; nothing was written (a master "
                           "key is never replaced: its sealed keys would not open)") from None
        except OSError as e:
            raise InvalidInput("INVALID_INPUT", f"cannot write {out_file}: "
                               f"{e.strerror or e}") from None
        return {"file": str(out_file), "mode": "0600"}

    run(as_json, go, lambda r: out.print(
        f"[green]✔[/] master key written to {r['file']} (mode 0600). Set "
        "COLDCHECK_MASTER_KEY_FILE to it and keep a copy where the database is not.",
        soft_wrap=True))


@app.command("seal-key")
def seal_key(db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Keep the production's signing key in the database from now on, sealed with the
    master key (COLDCHECK_MASTER_KEY_FILE), on a server set to COLDCHECK_KEY_STORE=
    database: for moving a production to a studio server whose servers share no key
    folder. The key file is left in place."""
    def go() -> dict[str, Any]:
        from ..services import ledger as L

        ctx = ctx_for(db, production)
        return L.seal_file_key(ctx, at=ctx.now())

    run(as_json, go, lambda r: out.print(
        f"[green]✔[/] the signing key of {r['production']} (key id {r['key_id']}) is now "
        f"kept in the database, sealed. Keep {r['file']} offline as a spare, away from the "
        "master key file.", soft_wrap=True))


@app.command("verify")
def verify(db: DbOpt = None, production: ProdOpt = None, key: KeyOpt = None,
           checkpoint: CheckpointOpt = None,
           trust_database_key: Annotated[bool, typer.Option(
               "--trust-database-key",
               help="Without --key, --checkpoint, the key file or a sealed key opened "
                    "here, check the ledger against the key the database names (its "
                    "consistency only: a rewrite re-signed with another key passes) "
                    "instead of failing with LEDGER_KEY_UNTRUSTED.")] = False,
           backup: Annotated[bool, typer.Option(
               "--backup",
               help="The database is a backup copy: check a private copy of its bytes "
                    "without the last checkpoint this server signed (kept beside the key), "
                    "which the live ledger may have signed past since the copy was taken, "
                    "as `coldcheck backup` checks its copies. Needs the database's key "
                    "folder named (COLDCHECK_KEY_DIR), or --key or --checkpoint.")] = False,
           as_json: JsonOpt = False) -> None:
    """Recompute the whole ledger and compare: entries, Merkle tree and stored hashes,
    signed checkpoints, projections. Exit 0 when sound; exit 5 naming the first entry
    that differs and what differs, or when no key you hold vouches for it."""
    from ..services.verify import verify_ledger

    with guarded(as_json), contextlib.ExitStack() as stack:
        ctx = _backup_ctx(db, production, stack, named=bool(key or checkpoint)) if backup \
            else ctx_for(db, production)
        held = [(str(p), _read_note(p)) for p in checkpoint or []]
        trusted = _read_key(key) if key is not None else None
        with progress("verifying") as update:
            name = ctx.production
            report = verify_ledger(ctx, progress=lambda done, total: update(name, done, total),
                                   trusted_key=trusted, checkpoints=held,
                                   trust_database_key=trust_database_key, use_kept=not backup)
    if as_json:
        write_json(report.to_dict())
    else:
        _show_report(report)
    if not report.ok:
        raise typer.Exit(VERIFY_FAILED)


def _backup_ctx(db: str | None, production: str | None, stack: contextlib.ExitStack, *,
                named: bool) -> Context:
    """A backup is evidence: verified from a private copy of its bytes, never
    opened itself (opening would switch it to WAL mode and change its SHA-256),
    against the key folder the settings name. Not a key folder found beside the
    backup: whoever made a forged copy could put one there; the database's own
    folder (COLDCHECK_KEY_DIR), --key or --checkpoint must be named."""
    import shutil
    import tempfile

    from ..persistence.store import Store, sqlite_file
    from ..services.context import context

    s = settings(db)
    if s.key_dir is None and not named:
        raise InvalidInput("INVALID_INPUT", "--backup checks a copy against the database's "
                           "key folder: name it (COLDCHECK_KEY_DIR), or pass --key or "
                           "--checkpoint; a key folder found beside a backup could be "
                           "whoever made it")
    file = sqlite_file(s.database_url)
    if file is None or not file.is_file():
        raise InvalidInput("INVALID_INPUT", "--backup checks a SQLite backup file: name it "
                           "with --db")
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="coldcheck-")))
    copy = folder / file.name
    shutil.copyfile(file, copy)
    there = s.model_copy(update={"database_url": str(copy), "key_dir": s.resolved_key_dir()})
    store = Store(there.database_url, lock=False)  # a private temporary file
    stack.callback(store.dispose)
    return context(there, production, store=store)


def _read_note(path: Path) -> str:
    try:
        return sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput("INVALID_INPUT", f"cannot read the checkpoint {path}: {e}") from None


def _read_key(value: str) -> str:
    """A verifier key line, or the first non-empty line of a file holding one."""
    if "+" not in value:
        try:
            lines = Path(value).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise InvalidInput("INVALID_INPUT", f"--key is neither a verifier key nor a "
                               f"readable file: {e}") from None
        return next((x.strip() for x in lines if x.strip()), "")
    return value.strip()


def _show_report(r: VerifyReport) -> None:
    import base64

    if r.ok:
        out.print(f"[green]✔[/] ledger of [bold]{r.production}[/] verified: {r.entries} "
                  f"entries, root {base64.b64encode(r.root).decode()}", soft_wrap=True)
        good = [c for c in r.checkpoints if c.ok]
        out.print(f"  checkpoints: {len(good)} verified (latest at size {r.verified_size}) "
                  f"with {r.trusted_key} ({r.key_source})", soft_wrap=True)
        if r.projections is not None:
            out.print(f"  projections: {r.projections} rows match the events")
    else:
        err.print(f"[bold red]✘ the ledger of {r.production} does not verify[/] "
                  f"({len(r.failures)} failure{'s' if len(r.failures) != 1 else ''}"
                  + (f", {r.consequences} consequent mismatches" if r.consequences else "")
                  + ")", soft_wrap=True)
        first, *rest = r.failures
        err.print(first.line(), markup=False, highlight=False, soft_wrap=True)
        for f in rest:
            err.print("  also " + f.line(), markup=False, highlight=False, soft_wrap=True)
    for w in r.warnings:
        err.print(f"  note: {w}", markup=False, highlight=False, soft_wrap=True)
