"""`coldcheck backup` and `coldcheck restore`: a consistent, verified copy of the SQLite
database, and putting one back with the restore recorded in the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import DbOpt, ForceOpt, JsonOpt, out, progress, run, settings
from .ledger import VERIFY_FAILED


def backup(out_file: Annotated[str | None, typer.Option(
               "--out", metavar="FILE.db",
               help="Where to write the copy (default ./<database>-backup-<UTC time>.db).")]
           = None,
           force: ForceOpt = False,
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
        with progress("verifying the copy:") as update:
            return make_backup(s, target, force=force, progress=update).to_dict()

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


def restore(backup_file: Annotated[Path, typer.Argument(
                metavar="BACKUP.db", help="The backup to put back (as `coldcheck backup` "
                "wrote it); read, never changed.")],
            reason: Annotated[str, typer.Option(
                "--reason", help="Why the database is restored (recorded in the ledger).")],
            by: Annotated[str, typer.Option(
                "--by", help="Who decided it, name and role (recorded in the ledger).")],
            accept_unproven: Annotated[bool, typer.Option(
                "--accept-unproven", help="Restore entries not proven part of the history "
                "last signed here (the backup's unsigned tail, or all of it when the database "
                "being replaced cannot prove it an earlier state); the event records how many "
                "were proven.")] = False,
            db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Put a backup back in place of the database, with the server stopped. The
    backup is checked first as `coldcheck backup` checks its copies, and refused
    (RESTORE_REFUSED) unless it verifies and holds every production of the
    database, (RESTORE_UNPROVEN) if it holds entries not proven part of the
    history last signed here, and (LEDGER_DIVERGED) if it holds another history.
    The database it replaces is kept as
    <database>.replaced-<time>. Each production records a ledger.restored event
    (the backup's SHA-256, what the replaced database and the last signed
    checkpoint held beyond it, the reason and who decided) and signs a checkpoint
    over it; a kept checkpoint the backup is behind is moved aside as
    <production>.last-checkpoint.replaced-<time>."""
    s = settings(db)

    def go() -> dict[str, Any]:
        from ..services.restore import restore as put_back

        return put_back(s, backup_file, reason=reason, decided_by=by,
                        accept_unproven=accept_unproven).to_dict()

    def show(r: dict[str, Any]) -> None:
        out.print(f"[green]✔[/] {r['database']} restored from {r['backup']}", soft_wrap=True)
        out.print(f"  backup sha256 {r['sha256']}")
        if r["replaced"]:
            out.print(f"  the database it replaced is kept as {r['replaced']}", soft_wrap=True)
        for p in r["productions"]:
            n = p["lost"]
            lost = (f"[bold red]{n} {'entry' if n == 1 else 'entries'} recorded after the "
                    "backup not in the restored ledger[/]" if n else
                    "no signed or stored entry lost")
            if p["replaced_entries"] is None:
                lost += (" (the replaced database could not be read, or was not there: it "
                         "may have held more)" if n else " that is known: the replaced "
                         "database could not be read, or was not there")
            out.print(f"  {p['production']}: {p['entries']} entries restored; {lost}; the "
                      f"restore is entry {p['restore_event']}; checkpoint signed at size "
                      f"{p['checkpoint']}", soft_wrap=True)
            if p["proven_entries"] < p["entries"]:
                out.print(f"    [yellow]accepted unproven[/]: entries {p['proven_entries']}.."
                          f"{p['entries'] - 1} (recorded in the restore event)", soft_wrap=True)
            if p["checkpoint_kept_aside"]:
                out.print(f"    the checkpoint signed before (size "
                          f"{p['superseded_checkpoint']}) is kept as "
                          f"{p['checkpoint_kept_aside']}", soft_wrap=True)

    run(as_json, go, show)


def register(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
