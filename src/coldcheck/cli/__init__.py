"""The `coldcheck` command line. Every command calls the services layer only."""

from __future__ import annotations

from . import backup as _backup
from . import ledger as _ledger
from . import report as _report
from . import serve as _serve
from .app import app
from .commands import register

register(app)
app.add_typer(_ledger.app, name="ledger")
app.add_typer(_report.app, name="report")
_serve.register(app)
_backup.register(app)


def main() -> None:
    app()


__all__ = ["app", "main"]
