"""A CLI that answers at once (issue 19) and machine output that is plain (issue 20).

Each command imports only what it needs: the tests run the real command in a
new Python process and look at ``sys.modules`` after it returned (no clock
anywhere). The help lists one line a command; ``--json`` is written by the
standard library, never through Rich, and a list streams out element by element.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner
from web_support import demo_copy

from coldcheck.cli import SHORT_HELP, app, common
from coldcheck.cli.common import write_json

runner = CliRunner()

HEAVY = {"fastapi", "starlette", "weasyprint", "uvicorn", "jinja2", "sqlalchemy", "rich",
         "pydantic", "argon2", "cryptography"}

# Runs the console script's entry point with the arguments given, its output
# captured, then reports its exit status, its output, which of HEAVY it loaded
# and which of the CLI's own modules.
PROBE = """
import contextlib, io, json, sys
from coldcheck.cli import main
heavy = set(json.loads(sys.argv[2]))
sys.argv = ["coldcheck", *json.loads(sys.argv[1])]
buf = io.StringIO()
code = 0
with contextlib.redirect_stdout(buf):
    try:
        main()
    except SystemExit as e:
        code = e.code or 0
print(json.dumps({"code": code, "output": buf.getvalue(),
                  "modules": sorted({m.split(".")[0] for m in sys.modules} & heavy),
                  "cli": sorted(m for m in sys.modules if m.startswith("coldcheck.cli."))}))
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    s = demo_copy(tmp_path_factory.mktemp("startup"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLDCHECK_")}
    env.update(COLDCHECK_DATABASE_URL=s.database_url, COLDCHECK_KEY_DIR=str(s.key_dir),
               COLUMNS="80")
    env.pop("FORCE_COLOR", None)
    return env


def probe(env: dict[str, str], *args: str) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(sorted(HEAVY))],
                       env=env, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    result: dict[str, Any] = json.loads(r.stdout)
    assert result["code"] == 0, (args, result, r.stderr)
    return result


def test_help_imports_no_database_web_or_pdf_stack(demo: dict[str, str]) -> None:
    r = probe(demo, "--help")
    assert "status" in r["output"] and "timeline" in r["output"]
    # On a pipe the help is Click's plain text: not even Rich is loaded.
    assert r["modules"] == [], r["modules"]
    # The list comes from the summaries: no command module was imported for it.
    assert r["cli"] == ["coldcheck.cli.app"], r["cli"]


def test_a_command_imports_its_own_module_only(demo: dict[str, str]) -> None:
    r = probe(demo, "status", "--json")
    assert "coldcheck.cli.commands" in r["cli"]
    assert not {"coldcheck.cli.serve", "coldcheck.cli.report", "coldcheck.cli.backup",
                "coldcheck.cli.ledger"} & set(r["cli"]), r["cli"]


def test_sources_name_every_command_where_it_is_defined() -> None:
    import importlib

    import typer

    from coldcheck.cli.app import SOURCES, _name

    found: dict[str, str] = {}
    for module in sorted(set(SOURCES.values())):
        t = typer.Typer()
        importlib.import_module(f"coldcheck.cli.{module}").register(t)
        for name in [_name(c) for c in t.registered_commands] + \
                [str(g.name) for g in t.registered_groups]:
            assert name not in found, name
            found[name] = module
    assert found == SOURCES


@pytest.mark.parametrize("args", [["status"], ["status", "--json"],
                                  ["timeline", "--weapon", "W1"],
                                  ["timeline", "--weapon", "W1", "--json"]])
def test_reads_import_neither_the_web_nor_the_pdf_stack(demo: dict[str, str],
                                                         args: list[str]) -> None:
    r = probe(demo, *args)
    assert "W1" in r["output"]
    loaded = set(r["modules"])
    assert "sqlalchemy" in loaded  # it did read the database
    assert not loaded & {"fastapi", "starlette", "weasyprint", "uvicorn", "jinja2"}, loaded
    if "--json" in args:
        assert "rich" not in loaded, "--json must not go through Rich"
        json.loads(r["output"])


def test_json_is_plain_even_where_rich_would_colour(demo: dict[str, str]) -> None:
    """FORCE_COLOR makes Rich colour whatever it prints, pipes included: JSON
    must not pass through it."""
    env = {**demo, "FORCE_COLOR": "1"}
    for args in (["status", "--json"], ["timeline", "--weapon", "W1", "--json"],
                 ["timeline", "--weapon", "W404", "--json"]):
        r = subprocess.run([sys.executable, "-m", "coldcheck", *args], env=env,
                           capture_output=True, text=True, timeout=120, check=False)
        assert "\x1b[" not in r.stdout, args
        data = json.loads(r.stdout)
        assert "error" in data if "W404" in args else "error" not in data


def test_python_dash_m_runs_the_cli(demo: dict[str, str]) -> None:
    r = subprocess.run([sys.executable, "-m", "coldcheck", "status", "--json"], env=demo,
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert {w["id"] for w in json.loads(r.stdout)["weapons"]} >= {"W1", "W2"}
    r = subprocess.run([sys.executable, "-m", "coldcheck", "--help"], env=demo,
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0 and r.stdout.startswith("Usage: coldcheck "), r.stdout


def _listed(output: str) -> list[str]:
    """The lines of the Commands section of a help text."""
    section = output.split("\nCommands:\n", 1)[1]
    return [line for line in section.splitlines() if line.strip()]


def _groups() -> Iterator[tuple[list[str], list[str]]]:
    """(path, names of its commands) for the root and every group."""
    import typer

    root = typer.main.get_command(app)
    todo: list[tuple[list[str], Any]] = [([], root)]
    while todo:
        path, cmd = todo.pop()
        ctx = typer.Context(cmd)
        names = cmd.list_commands(ctx)
        yield path, names
        for name in names:
            sub = cmd.get_command(ctx, name)
            if hasattr(sub, "list_commands"):
                todo.append(([*path, name], sub))


def test_every_command_list_gives_one_line_a_command() -> None:
    seen = 0
    for path, names in _groups():
        r = runner.invoke(app, [*path, "--help"], terminal_width=80)
        assert r.exit_code == 0, r.output
        lines = _listed(r.output)
        # One line each, no wrapped continuation: as many lines as commands.
        assert [line.split()[0] for line in lines] == names, (path, lines)
        for name, line in zip(names, lines, strict=True):
            assert len(line) <= 80, line
            assert line.split(None, 1)[1] == SHORT_HELP[" ".join([*path, name])], line
        seen += len(names)
    assert seen == len(SHORT_HELP), "a SHORT_HELP entry names no command"


def test_the_full_text_stays_in_the_commands_own_help() -> None:
    r = runner.invoke(app, ["backup", "--help"], terminal_width=80)
    text = " ".join(r.output.split())
    assert "and only then give it its name. Prints its SHA-256. Key files are not copied: " \
           "keep the key folder separately" in text, text
    r = runner.invoke(app, ["ledger", "verify", "--help"], terminal_width=80)
    assert "exit 5 naming the first entry that differs" in " ".join(r.output.split())


def test_unknown_command_is_still_a_usage_error() -> None:
    r = runner.invoke(app, ["statu"])
    assert r.exit_code == 2 and "No such command 'statu'. Did you mean 'status'?" in r.output
    r = runner.invoke(app, ["zzzz"])
    assert r.exit_code == 2 and "No such command 'zzzz'." in r.output


def test_the_demo_default_is_the_demos_production() -> None:
    from coldcheck.cli.commands import DEMO_PRODUCTION
    from coldcheck.demo import DEMO_PRODUCTION as REAL

    assert DEMO_PRODUCTION == REAL


def test_a_json_list_streams_one_element_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(common, "JSON_CHUNK", 1)  # every element is a chunk
    written_before: list[str] = []

    def events() -> Iterator[dict[str, Any]]:
        for i in range(3):
            written_before.append(out.getvalue())
            yield {"seq": i, "text": f"line\nbreak {i}", "who": "Zoë"}

    write_json(events())
    text = out.getvalue()
    # Each element is on its way out before the next one is even produced.
    assert written_before[0] == ""
    assert '"seq": 0' in written_before[1] and '"seq": 1' not in written_before[1]
    assert '"seq": 1' in written_before[2]
    assert json.loads(text) == [{"seq": i, "text": f"line\nbreak {i}", "who": "Zoë"}
                                for i in range(3)]
    lines = text.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 5
    assert all(re.fullmatch(r"\{.*\},?", line) for line in lines[1:-1]), lines
    out.seek(0)
    out.truncate()
    write_json([])
    assert json.loads(out.getvalue()) == []
    out.seek(0)
    out.truncate()
    write_json({"a": [1, 2]})
    assert json.loads(out.getvalue()) == {"a": [1, 2]}


class Writes(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def write(self, s: str) -> int:
        self.calls += 1
        return super().write(s)


def test_a_long_json_list_goes_out_in_chunks_not_one_write_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = Writes()
    monkeypatch.setattr(sys, "stdout", out)
    rows = [{"seq": i, "text": "x" * 100} for i in range(3000)]  # about 360 kB
    write_json(iter(rows))
    assert json.loads(out.getvalue()) == rows
    assert 3 <= out.calls <= 20, out.calls
