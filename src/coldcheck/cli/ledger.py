"""`coldcheck ledger …`: keys, checkpoints, entries and proofs, verification."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ..services import ledger as L
from .common import DbOpt, JsonOpt, ProdOpt, ctx_for, guarded, out, run

app = typer.Typer(help="The tamper-evident ledger (RFC 9162 Merkle tree, signed C2SP "
                       "checkpoints).", no_args_is_help=True)


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
    with guarded(False):
        ctx = ctx_for(db, production)
        _, note = L.sign_checkpoint(ctx, reason="on_demand", at=ctx.now())
    sys.stdout.write(note)


@app.command("entry")
def entry(index: int, db: DbOpt = None, production: ProdOpt = None) -> None:
    """Write entry N's exact bytes to standard output."""
    with guarded(False):
        data = L.entry(ctx_for(db, production), index)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


@app.command("prove-inclusion")
def prove_inclusion(index: int, size: Annotated[int | None, typer.Option()] = None,
                    db: DbOpt = None, production: ProdOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Inclusion proof of entry INDEX in the tree of SIZE (default: current)."""
    run(as_json, lambda: L.inclusion_proof(ctx_for(db, production), index, size), _show)


@app.command("prove-consistency")
def prove_consistency(old: int, size: Annotated[int | None, typer.Option()] = None,
                      db: DbOpt = None, production: ProdOpt = None,
                      as_json: JsonOpt = False) -> None:
    """Consistency proof from tree size OLD to SIZE (default: current)."""
    run(as_json, lambda: L.consistency_proof(ctx_for(db, production), old, size), _show)


def _show(r: dict[str, Any]) -> None:
    for k, v in r.items():
        if k != "proof":
            out.print(f"{k}: {v}")
    out.print("proof:")
    for p in r["proof"]:
        out.print(f"  {p}")
