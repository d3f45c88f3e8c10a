"""`coldcheck import …` and `coldcheck export …`: the inventory in and out as CSV,
the custody record as CSV, the bound book as PDF or CSV (docs/import-export.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..domain.errors import ColdcheckError, InvalidInput
from .app import group
from .common import (
    DbOpt,
    ForceOpt,
    JsonOpt,
    ProdOpt,
    ctx_for,
    err,
    guarded,
    out,
    refuse_existing,
    run,
    write_file,
    write_json,
)

importer = group("Import an inventory from CSV (weapons, lots): all rows or none.")
exporter = group("Export the inventory, the custody record or the bound book.")


def register(root: typer.Typer) -> None:
    root.add_typer(importer, name="import")
    root.add_typer(exporter, name="export")


FileArg = Annotated[str, typer.Argument(metavar="FILE.csv",
                                        help="The CSV file ('-': standard input).")]
ArmorerOpt = Annotated[str, typer.Option(
    "--armorer", metavar="P#", help="The armorer taking the items in (every intake rule "
                                    "applies to them).")]
DryOpt = Annotated[bool, typer.Option(
    "--dry-run", help="Check every row against the production and list every error with "
                      "its line number; write nothing.")]


def _read(path: str) -> str:
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as e:
        raise InvalidInput("INVALID_INPUT", f"cannot read {path}: {e.strerror or e}",
                           field="file") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("INVALID_INPUT", f"{path} is not UTF-8 text: save it as "
                           "\"CSV UTF-8\" and import it again", field="file") from None


def _import(what: str, path: str, armorer: str, dry_run: bool, db: str | None,
            production: str | None, as_json: bool) -> None:
    from ..services.books import import_csv

    with guarded(as_json):
        try:
            data = _read(path)
            r = import_csv(ctx_for(db, production), what=what, data=data,
                           armorer=armorer, file=path, dry_run=dry_run)
        except ColdcheckError as e:
            if e.code == "IMPORT_ROWS_INVALID" and not as_json:
                _row_errors(e.details["errors"], e.details.get("rows", 0), what,
                            dry_run=False)
                raise typer.Exit(2) from None
            raise
    result = r.to_dict()
    if as_json:
        write_json(result)
    elif r.errors:
        _row_errors(r.errors, r.rows, what, dry_run=True)
    else:
        verb = "would take in" if dry_run else "took in"
        ids = result["would_record" if dry_run else "recorded"]
        out.print(f"[green]✔[/] {r.file}: {r.rows} row{'' if r.rows == 1 else 's'} valid; "
                  f"{verb} {len(ids)} {what}: {', '.join(ids)}"
                  + (" (dry run: nothing recorded)" if dry_run else
                     f" as events #{r.events[0].seq} to #{r.events[-1].seq}"),
                  soft_wrap=True)
        if r.ignored_columns:
            out.print(f"  columns not read: {', '.join(r.ignored_columns)}", soft_wrap=True)
    if r.errors:
        raise typer.Exit(2)


def _row_errors(errors: list[dict[str, Any]], rows: int, what: str, *, dry_run: bool) -> None:
    head = "dry run" if dry_run else "IMPORT_ROWS_INVALID"
    err.print(f"[bold red]{head}[/]: {len(errors)} of {rows} row(s) of {what} would be "
              "refused; nothing was imported", soft_wrap=True)
    for x in errors:
        err.print(f"  line {x['line']}: [bold]{x['code']}[/] {x['message']}", soft_wrap=True)


@importer.command("weapons")
def import_weapons(file: FileArg, armorer: ArmorerOpt, dry_run: DryOpt = False,
                   db: DbOpt = None, production: ProdOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Take weapons into inventory from a CSV file, one weapon a row, with the columns
    serial, make, model, calibre, kind, storage (required) and chambers,
    magazine_capacity (docs/import-export.md). Every row goes through the intake rules
    of `weapon add`, in one transaction: if any row is refused (its line and reason
    are listed, IMPORT_ROWS_INVALID), nothing is recorded."""
    _import("weapons", file, armorer, dry_run, db, production, as_json)


@importer.command("lots")
def import_lots(file: FileArg, armorer: ArmorerOpt, dry_run: DryOpt = False,
                db: DbOpt = None, production: ProdOpt = None,
                as_json: JsonOpt = False) -> None:
    """Take ammunition lots into inventory from a CSV file, one lot a row, with the
    columns kind, calibre, supplier, supplier_lot, count, storage (required) and load
    (docs/import-export.md). Every row goes through the intake rules of `ammo intake`,
    in one transaction: if any row is refused, nothing is recorded. A live row
    refuses the whole import (AMMO_LIVE_FORBIDDEN, naming its line)."""
    _import("lots", file, armorer, dry_run, db, production, as_json)


OutOpt = Annotated[str | None, typer.Option(
    "--out", metavar="FILE", help="Where to write it ('-': standard output; default "
                                  "./<production>-<what>.<csv|pdf>).")]
AllOpt = Annotated[bool, typer.Option(
    "--all", help="Everything ever received, with its state (default: what is in "
                  "inventory now, the rows an import into a new production reads).")]


def _write(target: str, data: bytes, force: bool) -> None:
    if target == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_file(target, data, force=force)


def _export_inventory(what: str, out_file: str | None, everything: bool, force: bool,
                      db: str | None, production: str | None, as_json: bool) -> None:
    def go() -> dict[str, Any]:
        from ..services.books import LOT_EXPORT, WEAPON_EXPORT, lot_rows, to_csv, weapon_rows

        ctx = ctx_for(db, production)
        target = out_file or f"{ctx.production}-{what}.csv"
        if target != "-":
            refuse_existing(target, force=force)
        st = ctx.store.state(ctx.production)
        rows = (weapon_rows(st, everything=everything) if what == "weapons"
                else lot_rows(st, everything=everything))
        _write(target, to_csv(WEAPON_EXPORT if what == "weapons" else LOT_EXPORT,
                              rows).encode(), force)
        return {"file": target, "what": what, "rows": len(rows),
                "ids": [r["id"] for r in rows]}

    run(as_json and out_file != "-", go, _done)


def _done(r: dict[str, Any]) -> None:
    where = err if r["file"] == "-" else out
    where.print(f"[green]✔[/] {r['rows']} row{'' if r['rows'] == 1 else 's'} of "
                f"{r['what']} written to {r['file']}", soft_wrap=True)


@exporter.command("weapons")
def export_weapons(out_file: OutOpt = None, everything: AllOpt = False,
                   force: ForceOpt = False, db: DbOpt = None, production: ProdOpt = None,
                   as_json: JsonOpt = False) -> None:
    """The weapons as CSV, one a row: the columns `import weapons` reads, then id,
    storage_id, state, owner and weapon_class. Records nothing."""
    _export_inventory("weapons", out_file, everything, force, db, production, as_json)


@exporter.command("lots")
def export_lots(out_file: OutOpt = None, everything: AllOpt = False,
                force: ForceOpt = False, db: DbOpt = None, production: ProdOpt = None,
                as_json: JsonOpt = False) -> None:
    """The ammunition lots as CSV, one a row: the columns `import lots` reads (count is
    the rounds on hand), then id, storage_id, received, on_hand and owner. Without
    --all, lots with rounds on hand only, and no evidence lots. Records nothing."""
    _export_inventory("lots", out_file, everything, force, db, production, as_json)


@exporter.command("events")
def export_events(out_file: OutOpt = None,
                  start: Annotated[str | None, typer.Option(
                      "--from", metavar="YYYY-MM-DD",
                      help="First day (the production's calendar), inclusive.")] = None,
                  end: Annotated[str | None, typer.Option(
                      "--to", metavar="YYYY-MM-DD",
                      help="Last day, inclusive (default: the --from day when given, "
                           "else the last entry's).")] = None,
                  force: ForceOpt = False, db: DbOpt = None, production: ProdOpt = None,
                  as_json: JsonOpt = False) -> None:
    """The custody record as CSV, one event a row: seq, time (UTC and local), type,
    actor, what it is about, and the sentence the timeline shows. A day (--from), a
    range (--from, --to) or everything. Records nothing."""
    def go() -> dict[str, Any]:
        from ..services.books import EVENT_EXPORT, event_rows, parse_date, to_csv

        last = end if end is not None else start
        if start and last and parse_date(last, "to") < parse_date(start, "from"):
            raise InvalidInput("INVALID_INPUT", f"--to {last} is before --from {start}",
                               field="to")
        ctx = ctx_for(db, production)
        suffix = f"-{start}" + (f"-to-{last}" if last != start else "") if start else ""
        target = out_file or f"{ctx.production}-events{suffix}.csv"
        if target != "-":
            refuse_existing(target, force=force)
        rows = event_rows(ctx, start=start, end=last)
        _write(target, to_csv(EVENT_EXPORT, rows).encode(), force)
        return {"file": target, "what": "events", "rows": len(rows), "from": start,
                "to": last, "first_seq": rows[0]["seq"] if rows else None,
                "last_seq": rows[-1]["seq"] if rows else None}

    run(as_json and out_file != "-", go, _done)


@exporter.command("bound-book")
def export_bound_book(out_file: OutOpt = None,
                      as_csv: Annotated[bool, typer.Option(
                          "--csv", help="CSV instead of PDF.")] = False,
                      paper: Annotated[str, typer.Option(
                          help="Paper size of the PDF: a4 or letter.")] = "a4",
                      force: ForceOpt = False, db: DbOpt = None, production: ProdOpt = None,
                      as_json: JsonOpt = False) -> None:
    """The production's acquisition and disposition record, bound-book style: one line
    per weapon (received from, date, serial, make, model, calibre, kind; disposed to,
    why, date), in the order received. A note added about one of those entries is a
    correction entry of its own, after the weapon's line: nothing is edited. Records
    nothing."""
    def go() -> dict[str, Any]:
        from ..services.books import bound_book

        ctx = ctx_for(db, production)
        if not as_csv:
            from ..documents import check_paper

            size = check_paper(paper)
        target = out_file or f"{ctx.production}-bound-book.{'csv' if as_csv else 'pdf'}"
        if target != "-":
            refuse_existing(target, force=force)
        book = bound_book(ctx)
        if as_csv:
            data = book.csv().encode()
        else:
            from ..documents.bound_book import render_bound_book

            data = render_bound_book(book, paper=size)
        _write(target, data, force)
        return {"file": target, "what": "bound book", "rows": len(book.entries),
                "format": "csv" if as_csv else "pdf", **book.to_dict()}

    run(as_json and out_file != "-", go, _done)

