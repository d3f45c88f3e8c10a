from __future__ import annotations

from pathlib import Path

from coldcheck.cli.docgen import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_matches_the_commands_that_exist() -> None:
    assert DOC.read_text().rstrip("\n") == render().rstrip("\n"), (
        "docs/cli.md is stale: run `python -m coldcheck.cli.docgen > docs/cli.md`")


def test_every_issue_listed_command_is_documented() -> None:
    text = DOC.read_text()
    for cmd in ["init", "person add", "weapon add", "ammo intake", "ammo verify", "scene add",
                "meeting record", "inspect", "issue", "return", "store", "incident report",
                "incident close", "complaint file", "complaint ack", "override", "wrap",
                "status", "timeline", "rebuild", "migrate", "demo", "ledger key",
                "ledger checkpoint", "ledger entry", "ledger prove-inclusion",
                "ledger prove-consistency"]:
        assert f"### coldcheck {cmd}\n" in text, cmd
