"""The `coldcheck` command line. Every command calls the services layer only.

Importing this defines the root and nothing else: a command's module is
imported when that command runs (cli/app.py), and the settings, the database
and the services it needs inside its body, so that ``coldcheck --help`` and
the quick reads answer at once (issue 19)."""

from __future__ import annotations

from .app import SHORT_HELP, app


def main() -> None:
    app(prog_name="coldcheck")


__all__ = ["SHORT_HELP", "app", "main"]
