"""`coldcheck webhook set|clear|deliver|status`: the producer sets the alert
webhook from the CLI; a generated secret is printed once and is in no event;
`deliver` does one round (for cron), `status` shows the attempts."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.persistence.store import Store

runner = CliRunner()


def cc(db: str, *args: str, input: str | None = None, code: int = 0) -> str:
    r = runner.invoke(app, [*args, "--db", db], input=input)
    assert r.exit_code == code, f"{args}: exit {r.exit_code}\n{r.output}"
    return r.output


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLDCHECK_ARGON2_PROFILE", "fast-insecure-for-tests")
    monkeypatch.delenv("COLDCHECK_DATABASE_URL", raising=False)
    monkeypatch.delenv("COLDCHECK_MASTER_KEY_FILE", raising=False)
    path = str(tmp_path / "c.db")
    cc(path, "init", "--production", "prod-a", "--name", "A")
    cc(path, "person", "add", "--name", "Morgan", "--role", "producer", "--badge", "B1",
       input="3307\n")
    cc(path, "person", "add", "--name", "Dana", "--role", "first_ad", "--badge", "B2",
       input="2640\n")
    return path


def dead_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/hook"


def entries(db: str) -> bytes:
    s = Store(db)
    try:
        return b"".join(e.payload.__repr__().encode() for e in s.events("prod-a", 0))
    finally:
        s.dispose()


def test_the_producer_sets_it_a_generated_secret_is_shown_once(db: str) -> None:
    url = dead_url()
    out = json.loads(cc(db, "webhook", "set", "--url", url, "--by", "P1", "--json"))
    secret = out["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    (e,) = out["events"]
    assert e["type"] == "production.webhook_set" and e["payload"]["url"] == url
    assert secret.encode() not in entries(db)

    # Someone else: refused, nothing recorded.
    refused = cc(db, "webhook", "set", "--url", url, "--by", "P2", code=2)
    assert "ROLE_REQUIRED" in refused

    # A secret of one's own, from standard input: not printed back.
    shown = cc(db, "webhook", "set", "--url", url, "--by", "P1", "--secret-stdin",
               input="my-own-secret-0123456789\n")
    assert "my-own-secret" not in shown and "shown this once" not in shown

    cc(db, "incident", "report", "--kind", "other", "--description", "Smoke", "--by", "P2")
    assert "1 failed" in cc(db, "webhook", "deliver")
    status = cc(db, "webhook", "status")
    assert "incident.opened:INC1: 1 attempt(s)" in status and "connection refused" in status
    assert "WEBHOOK_FAILING" in cc(db, "status")

    cleared = cc(db, "webhook", "clear", "--by", "P1")
    assert "production.webhook_cleared" in cleared
    assert "no alert webhook is set" in cc(db, "webhook", "deliver")
    assert "nothing queued" in cc(db, "webhook", "status")
