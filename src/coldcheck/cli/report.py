"""`coldcheck report …`: printable reports."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from .app import group
from .common import (
    DbOpt,
    ForceOpt,
    JsonOpt,
    PaperOpt,
    ProdOpt,
    ctx_for,
    err,
    out,
    refuse_existing,
    run,
    write_file,
)

app = group("Printable reports (PDF).")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="report")


@app.command("daily")
def daily(day: Annotated[str | None, typer.Option(
              "--day", metavar="YYYY-MM-DD",
              help="The production day (default: the open shooting day's, else the last "
                   "one's if dated yesterday or later, else today, in the production's time "
                   "zone).")] = None,
          out_file: Annotated[str | None, typer.Option(
              "--out", metavar="FILE.pdf",
              help="Where to write the PDF ('-': standard output; default "
                   "./<production>-daily-<day>.pdf).")] = None,
          paper: PaperOpt = "a4",
          force: ForceOpt = False,
          db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """The daily report as PDF. Page 1 is a one-page summary for people (who handled
    which weapon, incidents, open complaints, counts at wrap) with sign-off lines for
    the armorer, the 1st AD and the safety supervisor; then the day's custody
    timeline, weapons and lots at the end of the day, inspections and witnesses,
    incidents, overrides, refusals, safety meetings and every open safety complaint;
    the last page is the latest signed checkpoint as text and QR code (signed first if
    the ledger grew), the verifier key and the command that checks it. Times are in
    the production's time zone, with its abbreviation; --json stays in UTC."""
    def go() -> dict[str, Any]:
        # Imported here: every other command starts without Jinja2 and segno.
        from ..documents import check_paper, daily_report, default_day, parse_day, render_pdf

        size = check_paper(paper)
        if day is not None:
            parse_day(day)  # before opening the database
        ctx = ctx_for(db, production)
        now = ctx.now()
        st = ctx.store.state(ctx.production)
        the_day = parse_day(day or default_day(st, now, ctx.settings.zone_for(st.timezone))
                            ).isoformat()
        target = out_file or f"{ctx.production}-daily-{the_day}.pdf"
        if target != "-":
            # Before the report is built: building it may sign a checkpoint.
            refuse_existing(target, force=force)
        report = daily_report(ctx, day=the_day, at=now)
        pdf = render_pdf(report, paper=size)
        if target == "-":
            sys.stdout.buffer.write(pdf)
            sys.stdout.flush()
        else:
            write_file(target, pdf, force=force)
        return {"file": target, "bytes": len(pdf), "paper": size, **report.to_dict()}

    run(as_json and out_file != "-", go, _show)


@app.command("labels")
def labels(ids: Annotated[list[str] | None, typer.Option(
               "--id", metavar="ID",
               help="A weapon, lot or person to print a label for (W1, L2, P3, or "
                    "weapon:W1 as the QR codes say); repeat for several. Default: every "
                    "weapon, lot and person.")] = None,
           size: Annotated[str, typer.Option(
               metavar="SIZE",
               help="sheet (every label on one or more A4 or letter pages, to cut out), "
                    "2x1in (one 2 x 1 inch sticker per page) or 62mm (one 62 x 29 mm "
                    "roll label per page).")] = "sheet",
           paper: Annotated[str, typer.Option(
               help="Paper of the sheet: a4 or letter (sticker sizes ignore it).")] = "a4",
           out_file: Annotated[str | None, typer.Option(
               "--out", metavar="FILE.pdf",
               help="Where to write the PDF ('-': standard output; default "
                    "./<production>-labels-<size>.pdf).")] = None,
           force: ForceOpt = False,
           db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """QR labels as PDF: for weapons and ammunition boxes, and badges for people. One
    label or a chosen set (--id), as a sheet or at a sticker size (--size). Records
    nothing."""
    def go() -> dict[str, Any]:
        # Imported here: every other command starts without Jinja2 and segno.
        from ..documents import check_paper
        from ..documents.labels import check_size, choose, render_labels_pdf

        the_size, the_paper = check_size(size), check_paper(paper)
        ctx = ctx_for(db, production)
        chosen = choose(ctx.store.state(ctx.production), ids)
        target = out_file or f"{ctx.production}-labels-{the_size}.pdf"
        if target != "-":
            refuse_existing(target, force=force)
        pdf = render_labels_pdf(chosen, size=the_size, paper=the_paper)
        if target == "-":
            sys.stdout.buffer.write(pdf)
            sys.stdout.flush()
        else:
            write_file(target, pdf, force=force)
        return {"file": target, "bytes": len(pdf), "size": the_size,
                "paper": the_paper if the_size == "sheet" else None,
                "production": ctx.production,
                "labels": [{"kind": lb.kind, "id": lb.id, "qr": lb.data} for lb in chosen]}

    run(as_json and out_file != "-", go, _show_labels)


def _show_labels(r: dict[str, Any]) -> None:
    where = err if r["file"] == "-" else out
    n = len(r["labels"])
    where.print(f"[green]✔[/] {n} label{'' if n == 1 else 's'} of [bold]{r['production']}[/] "
                f"({r['size']}) written to {r['file']}", soft_wrap=True)


def _show(r: dict[str, Any]) -> None:
    where = err if r["file"] == "-" else out
    span = (f"{r['entries']} entries, #{r['first_seq']} to #{r['last_seq']}" if r["entries"]
            else "no entries that day")
    where.print(f"[green]✔[/] daily report of [bold]{r['production']}[/] for "
                f"[bold]{r['day']}[/] ({span}) written to {r['file']}", soft_wrap=True)
    cp = r["checkpoint"]
    if cp is not None:
        where.print(f"  checkpoint: tree size {cp['tree_size']}"
                    + (" (signed now)" if cp["signed_now"] else ""), soft_wrap=True)
        if cp["warning"]:
            where.print(f"  [bold]note:[/] {cp['warning']}", soft_wrap=True)
    if r["open_complaints"]:
        where.print(f"  open complaints: {', '.join(r['open_complaints'])}")
