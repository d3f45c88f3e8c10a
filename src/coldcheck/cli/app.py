from __future__ import annotations

import typer

app = typer.Typer(
    name="coldcheck", no_args_is_help=True, add_completion=False,
    help="Chain of custody and a tamper-evident ledger for prop firearms and ammunition on "
         "set. Every action is checked against the rule catalogue (docs/rules.md) and "
         "recorded; witness PINs are prompted, never passed as arguments.")
