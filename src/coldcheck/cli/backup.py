"""`coldcheck backup`: a consistent, verified copy of the SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .common import DbOpt, JsonOpt, err, out, run, settings
from .ledger import VERIFY_FAILED


def backup(out_file: Annotated[str | None, typer.Option(
               "--out", metavar="FILE.db",
               help="Where to write the copy (default ./<database>-backup-<UTC time>.db).")]
           = None,
           force: Annotated[bool, typer.Option(
               "--force", help="Replace the file if it exists.")] = False,
           db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Copy the SQLite database while coldcheck runs (one consistent snapshot), check
    the copy (integrity, and ledger verify of every production against its key
    file or sealed key), and only then give it its name. Prints its SHA-256. Key
    files are not copied: keep the key folder separately (a key sealed in the
    database travels sealed). A copy that does not verify is kept as
    <file>.unverified-<time>, never over the file named, and the exit status is 5."""
    s = settings(db)

    def go() -> dict[str, Any]:
        from ..persistence.store import sqlite_file
        from ..services.backup import backup as make_backup

        source = sqlite_file(s.database_url)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = Path(out_file or f"{source.stem if source else 'coldcheck'}-backup-{stamp}.db")
        with Progress(TextColumn("verifying the copy: {task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                      transient=True, disable=not err.is_terminal) as bar:
            tasks: dict[str, Any] = {}

            def progress(production: str, done: int, total: int) -> None:
                if production not in tasks:
                    tasks[production] = bar.add_task(production, total=None)
                bar.update(tasks[production], completed=done, total=total)

            return make_backup(s, target, force=force, progress=progress).to_dict()

    def show(r: dict[str, Any]) -> None:
        if r["ok"]:
            out.print(f"[green]✔[/] backup written to {r['file']} ({r['bytes']:,} bytes)",
                      soft_wrap=True)
        else:
            out.print(f"[bold red]✘ the copy does not verify[/]: kept as {r['file']} "
                      f"({r['bytes']:,} bytes), not under the name asked for", soft_wrap=True)
        out.print(f"  sha256 {r['sha256']}")
        if r["integrity"] != "ok":
            out.print(f"  [bold red]integrity check:[/] {r['integrity']}", soft_wrap=True)
        if r["unusable"]:
            out.print(f"  [bold red]could not be verified:[/] {r['unusable']}", soft_wrap=True)
        if not r["productions"] and not r["unusable"]:
            out.print("  (no production in this database yet)")
        for p in r["productions"]:
            for w in p["warnings"]:
                out.print(f"  [yellow]warning[/] ({p['production']}): {w}", soft_wrap=True)
            if p["ok"]:
                out.print(f"  {p['production']}: {p['entries']} entries verified, root "
                          f"{p['root_hash']}, signed checkpoint at size {p['verified_size']}, "
                          f"key from the {p['key_source']}", soft_wrap=True)
            else:
                first = p["first"]
                where = f"entry {first['entry']}: " if first.get("entry") is not None else ""
                out.print(f"  [bold red]{p['production']} does not verify[/]: {first['code']}: "
                          f"{where}{first['message']}", soft_wrap=True)
        out.print(f"  not included: the signing keys in {r['keys_not_included']} (copy that "
                  "folder separately, somewhere only the producer holds)", soft_wrap=True)

    result = run(as_json, go, show)
    if not result["ok"]:
        raise typer.Exit(VERIFY_FAILED)


def register(app: typer.Typer) -> None:
    app.command()(backup)
