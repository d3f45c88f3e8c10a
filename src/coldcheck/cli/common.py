"""Shared CLI plumbing: options, context, PIN entry, output, error rendering.

Kept light on purpose: importing this (and every command module) costs Typer
and the standard library only. The database, settings and services are
imported inside the commands that use them, Rich only when something is drawn
for a person (a table, a coloured line, a progress bar), never for ``--json``.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, cast

import typer

from ..domain.errors import ColdcheckError, Conflict, InvalidInput
from ..domain.events import Event

if TYPE_CHECKING:
    from datetime import tzinfo

    from rich.console import Console
    from sqlalchemy.exc import DBAPIError

    from ..config import Settings
    from ..services.context import Context


class LazyConsole:
    """A Rich console made on first use, writing to whatever standard output (or
    error) is at the time of each call, as a Console without a file does."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        self.console.print(*objects, **options)


out = LazyConsole(stderr=False)
err = LazyConsole(stderr=True)

DbOpt = Annotated[str | None, typer.Option(
    "--db", envvar="COLDCHECK_DATABASE_URL",
    help="Database URL or SQLite file path (default ./coldcheck.db).")]
ProdOpt = Annotated[str | None, typer.Option(
    "--production", "-p", help="Production id (needed when a database holds several).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")]
PaperOpt = Annotated[str, typer.Option(help="Paper size: a4 or letter.")]

EXIT = {"invalid": 2, "not_found": 2, "refused": 3, "conflict": 4, "locked": 4,
        "forbidden": 4, "unavailable": 6}


def settings(db: str | None) -> Settings:
    """The settings from the environment; a bad value stops the command with one
    line per setting naming its variable (exit code 2), not a traceback."""
    from pydantic import ValidationError

    from ..config import Settings

    try:
        s = Settings()
    except ValidationError as e:
        prefix = str(Settings.model_config.get("env_prefix", ""))
        for problem in e.errors():
            name = (prefix + ".".join(str(x) for x in problem["loc"])).upper()
            msg = str(problem["msg"]).removeprefix("Value error, ")
            err.print(f"[bold red]Invalid setting[/] {name}: {msg}", soft_wrap=True)
        raise typer.Exit(2) from None
    if db:
        s = s.model_copy(update={"database_url": db})
    return s


_contexts: list[Context] = []


def ctx_for(db: str | None, production: str | None) -> Context:
    from ..services.context import context

    ctx = context(settings(db), production)
    _contexts.append(ctx)
    return ctx


def close_contexts() -> None:
    """Dispose of the stores the command opened (their connection pools)."""
    while _contexts:
        _contexts.pop().store.dispose()


def shown_zone() -> tuple[str, tzinfo]:
    """The name and zone the command's human output shows times in: the
    production's time zone as it is now (after the command), else the server's
    default, else UTC. ``--json`` output never uses it: it stays UTC."""
    from datetime import UTC

    if not _contexts:
        return "UTC", UTC
    ctx = _contexts[-1]
    own = ctx.store.state(ctx.production).timezone
    return ctx.settings.zone_name(own), ctx.settings.zone_for(own)


def local(at: str | None, *, date: bool = True, seconds: bool = True) -> str:
    """A stored UTC time as the human output shows it: local, with its zone."""
    from ..domain.zones import local_text

    return local_text(at, shown_zone()[1], date=date, seconds=seconds)


def fail(e: ColdcheckError, as_json: bool) -> NoReturn:
    if as_json:
        write_json({"error": e.to_dict()})
    else:
        err.print(f"[bold red]{e.code}[/]: {e.message}")
        for v in e.details.get("violations", [])[1:]:
            err.print(f"  also [bold]{v['code']}[/]: {v['message']}")
        if e.details.get("recorded"):
            err.print(f"  (the attempt is recorded as event(s) "
                      f"{', '.join(map(str, e.details['recorded']))})")
    raise typer.Exit(EXIT.get(e.kind, 1))


@contextmanager
def guarded(as_json: bool) -> Iterator[None]:
    try:
        yield
    except ColdcheckError as e:
        fail(e, as_json)
    except Exception as e:
        if isinstance(e, OSError):  # a full disk, a read-only or unreadable key folder
            from ..services.faults import fault_of

            found = fault_of(e)
            if found is None:
                raise
            fail(found, as_json)
        # Only a command that opened a database can have a database error; the
        # others never import SQLAlchemy to find out.
        exc = sys.modules.get("sqlalchemy.exc")
        if exc is None or type(e) not in (exc.OperationalError, exc.DatabaseError):
            raise  # IntegrityError and the like: a defect, not the database's state
        fail(database_error(cast("DBAPIError", e)), as_json)


def database_error(e: DBAPIError) -> ColdcheckError:
    """What the driver said, as a stable code: a fault of the machine (a full
    disk, a database another process kept locked past the busy timeout, a
    read-only file system: services/faults.py), or a file that is not one."""
    from ..services.faults import fault_of

    found = fault_of(e)
    if found is not None:
        return found
    said = str(e.orig)
    if "locked" in said or "busy" in said:
        return Conflict("DATABASE_BUSY", f"the database stayed locked by another process "
                        f"({said}); nothing was changed: try again")
    return InvalidInput("DATABASE_UNREADABLE", f"the database cannot be used: {said}")


def run(as_json: bool, fn: Callable[[], Any], show: Callable[[Any], None] | None = None) -> Any:
    with guarded(as_json):
        result = fn()
    if as_json:
        write_json(result)
    elif show is not None:
        show(result)
    else:
        show_events(result)
    return result


def jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, Event):
        return {"seq": value.seq, "type": value.type, "at": value.at, "actor": value.actor,
                "device": value.device, "payload": dict(value.payload)}
    return value


JSON_CHUNK = 65536


def write_json(data: Any) -> None:
    """Write ``data`` as one JSON document straight to standard output: no Rich,
    no highlighting, nothing a pipe has to wait for. An object is indented; a
    list is written as it is encoded, a chunk at a time, one compact element a
    line (``[``, the elements, ``]``), so a long timeline streams out and a
    script can read it line by line or whole."""
    write = sys.stdout.write
    if isinstance(data, Iterable) and not isinstance(data, dict | str | bytes):
        # In chunks of about JSON_CHUNK characters: one write per element costs a
        # system call each where standard output is unbuffered (PYTHONUNBUFFERED).
        started = False
        chunk: list[str] = []
        size = 0
        for item in data:
            text = json.dumps(jsonable(item), ensure_ascii=False)
            chunk.append((",\n" if started else "[\n") + text)
            started = True
            size += len(text)
            if size >= JSON_CHUNK:
                write("".join(chunk))
                chunk, size = [], 0
        write("".join(chunk) + ("\n]\n" if started else "[]\n"))
    else:
        write(json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def show_events(events: list[Event]) -> None:
    from ..domain.zones import localise

    tz = shown_zone()[1] if events else None
    for e in events:
        assert tz is not None
        brief = localise(", ".join(f"{k}={v}" for k, v in e.payload.items()
                                   if isinstance(v, str | int) and k not in ("at",)), tz)[:110]
        out.print(f"[green]✔[/] #{e.seq} [bold]{e.type}[/] {brief} "
                  f"[dim]({local(e.at)})[/]")


def read_pin(prompt: str) -> str:
    """Hidden prompt on a terminal; one line of standard input for scripts. PINs
    are never command-line arguments (they would land in shell history and ps)."""
    if sys.stdin.isatty():
        return getpass.getpass(f"{prompt}: ")
    line = sys.stdin.readline()
    if not line:
        raise ColdcheckError("PIN_INVALID", f"{prompt}: no PIN on standard input")
    return line.strip()


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    out.print(t)


@contextmanager
def progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on standard error when it is a terminal, one line for each
    name it is given ``update(name, done, total)`` for; nothing otherwise, and
    then Rich is not even imported."""
    if not sys.stderr.isatty():
        yield lambda name, done, total: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn(label + " {task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err.console,
                  transient=True, disable=not err.console.is_terminal) as bar:
        tasks: dict[str, TaskID] = {}

        def update(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=None)
            bar.update(tasks[name], completed=done, total=total)

        yield update


def refuse_existing(target: str, *, force: bool) -> None:
    """FILE_EXISTS unless ``force``: before a command does the work of a document
    it could not write. A symbolic link counts as existing, even a dangling one."""
    if not force and os.path.lexists(target):
        raise _file_exists(target)
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder) or os.path.isdir(target):
        why = ("is a folder" if os.path.isdir(target)
               else f"needs the folder {folder}, which does not exist")
        raise InvalidInput("INVALID_INPUT", f"{target} {why}; nothing was written",
                           field="out")


def _file_exists(target: str) -> ColdcheckError:
    return Conflict("FILE_EXISTS", f"{target} exists; nothing was written (choose another "
                    "--out, or --force to replace it)")


def write_file(target: str, data: bytes, *, force: bool) -> None:
    """Write a document the CLI produced (a report, an evidence package).

    Without ``force`` an existing path is refused (FILE_EXISTS), a symbolic link
    included, even one pointing nowhere: the file is created exclusively. With
    ``force`` the bytes go to a new file beside the target, are flushed to disk,
    then renamed over it: a link at the target is replaced, never followed, and
    a crash leaves either the old file or the new one, never half of one.
    """
    from ..ledger.keys import replace_file

    path = Path(target)
    try:
        if not force:
            with open(path, "xb") as f:
                f.write(data)
            return
        mask = os.umask(0)
        os.umask(mask)
        replace_file(path, data, mode=0o666 & ~mask)  # the mode "xb" would have given it
    except FileExistsError:
        raise _file_exists(target) from None
    except OSError as e:
        raise InvalidInput("INVALID_INPUT", f"cannot write {target}: "
                           f"{e.strerror or e}") from None
