"""Shared CLI plumbing: options, context, PIN entry, output, error rendering."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError

from ..config import Settings
from ..domain.errors import ColdcheckError, Conflict, InvalidInput
from ..domain.events import Event
from ..services.context import Context, context
from ..services.faults import fault_of

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

DbOpt = Annotated[str | None, typer.Option(
    "--db", envvar="COLDCHECK_DATABASE_URL",
    help="Database URL or SQLite file path (default ./coldcheck.db).")]
ProdOpt = Annotated[str | None, typer.Option(
    "--production", "-p", help="Production id (needed when a database holds several).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]

EXIT = {"invalid": 2, "not_found": 2, "refused": 3, "conflict": 4, "locked": 4,
        "forbidden": 4, "unavailable": 6}


def settings(db: str | None) -> Settings:
    """The settings from the environment; a bad value stops the command with one
    line per setting naming its variable (exit code 2), not a traceback."""
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


def ctx_for(db: str | None, production: str | None) -> Context:
    return context(settings(db), production)


def fail(e: ColdcheckError, as_json: bool) -> NoReturn:
    if as_json:
        out.print_json(data={"error": e.to_dict()})
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
    except (OperationalError, DatabaseError) as e:
        if type(e) not in (OperationalError, DatabaseError):
            raise  # IntegrityError and the like: a defect, not the database's state
        fail(database_error(e), as_json)
    except OSError as e:
        found = fault_of(e)
        if found is None:
            raise
        fail(found, as_json)


def database_error(e: DBAPIError) -> ColdcheckError:
    """What the driver said, as a stable code: a fault of the machine (a full
    disk, a database another process kept locked past the busy timeout, a
    read-only file system: services/faults.py), or a file that is not one."""
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
        out.print_json(data=jsonable(result))
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


def show_events(events: list[Event]) -> None:
    for e in events:
        brief = ", ".join(f"{k}={v}" for k, v in e.payload.items()
                          if isinstance(v, str | int) and k not in ("at",))[:110]
        out.print(f"[green]✔[/] #{e.seq} [bold]{e.type}[/] {brief}")


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
    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    out.print(t)


def dump(data: Any) -> None:
    out.print_json(json.dumps(data))


def refuse_existing(target: str, *, force: bool) -> None:
    """FILE_EXISTS unless ``force``: before a command does the work of a document
    it could not write. A symbolic link counts as existing, even a dangling one."""
    if not force and os.path.lexists(target):
        raise _file_exists(target)
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder) or os.path.isdir(target):
        from ..domain.errors import InvalidInput

        why = ("is a folder" if os.path.isdir(target)
               else f"needs the folder {folder}, which does not exist")
        raise InvalidInput("INVALID_INPUT", f"{target} {why}; nothing was written",
                           field="out")


def _file_exists(target: str) -> ColdcheckError:
    from ..domain.errors import Conflict

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
    from ..domain.errors import InvalidInput
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
