"""The `coldcheck` command line. Every command calls the services layer only.

Importing this registers the commands and nothing else: each command imports
the settings, the database and the services it needs when it runs, so that
``coldcheck --help`` and the quick reads answer at once (issue 19)."""

from __future__ import annotations

from . import backup as _backup
from . import ledger as _ledger
from . import report as _report
from . import serve as _serve
from .app import SHORT_HELP, app, finish, tree
from .commands import register

register(tree)
tree.add_typer(_ledger.app, name="ledger")
tree.add_typer(_report.app, name="report")
_serve.register(tree)
_backup.register(tree)
finish()


def main() -> None:
    app(prog_name="coldcheck")


__all__ = ["SHORT_HELP", "app", "main"]
