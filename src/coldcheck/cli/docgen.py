"""Generate docs/cli.md from the command tree: `python -m coldcheck.cli.docgen`.

A test compares docs/cli.md with this output, so the reference can never drift
from the commands that exist."""

from __future__ import annotations

from typing import Any

import typer.main
from typer.core import TyperArgument, TyperOption

from . import app


def _walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    if hasattr(cmd, "list_commands"):
        ctx = typer.Context(cmd)
        out: list[tuple[list[str], Any]] = []
        for name in sorted(cmd.list_commands(ctx)):
            out += _walk(cmd.get_command(ctx, name), [*path, name])
        return out
    return [(path, cmd)]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render() -> str:
    root = typer.main.get_command(app)
    lines = ["# Command reference", "",
             "Generated from the commands themselves by `python -m coldcheck.cli.docgen > "
             "docs/cli.md`; a test fails when this file and the code differ.", "",
             "Every command that reads or writes a production takes `--db` (or "
             "`COLDCHECK_DATABASE_URL`) and, where a database holds several productions, "
             "`--production`. Exit codes: 0 done, 2 invalid input or unknown id, 3 refused "
             "by a rule, 4 conflict or locked PIN, 5 ledger verification failed, 6 a fault "
             "of the machine (disk full, read-only storage, key folder unreadable: nothing "
             "was recorded).", "",
             "With `--json` a command writes one JSON document to standard output and "
             "nothing else (no colour, whatever the terminal): an object indented, a list "
             "(a timeline, the events an action recorded) as `[`, one compact element a "
             "line, `]`, written as it is encoded; an error as `{\"error\": {…}}` "
             "(docs/errors.md). Without `--json` the output is for people: tables and "
             "colour on a terminal. `coldcheck --help` lists each command on one line; "
             "`coldcheck COMMAND --help` gives the whole text below. `python -m coldcheck` "
             "is the same command line.", ""]
    for path, cmd in _walk(root, ["coldcheck"]):
        lines += [f"### {' '.join(path)}", "", _cell(cmd.help or ""), ""]
        params = [p for p in cmd.params if p.name != "help"]
        args = [p for p in params if isinstance(p, TyperArgument)]
        opts = [p for p in params if isinstance(p, TyperOption)]
        if args:
            lines.append("Arguments: " + ", ".join(f"`{(a.name or '').upper()}`" for a in args))
            lines.append("")
        if opts:
            lines += ["| option | required | help |", "|---|---|---|"]
            for o in opts:
                names = ", ".join(f"`{n}`" for n in [*o.opts, *o.secondary_opts])
                lines.append(f"| {names} | {'yes' if o.required else ''} | "
                             f"{_cell(o.help or '')} |")
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render())
