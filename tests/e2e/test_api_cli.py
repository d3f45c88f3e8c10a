"""The access commands of the CLI (`account add`, `token create|revoke`, `device
add|revoke`) and the demo's accounts, used against the API they are for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from coldcheck.asgi import create_app
from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.services.accounts import DEMO_PASSWORD, create_demo_accounts

runner = CliRunner()


def cc(db: str, *args: str, input: str | None = None, code: int = 0) -> str:
    r = runner.invoke(app, [*args, "--db", db], input=input)
    assert r.exit_code == code, f"{args}: exit {r.exit_code}\n{r.output}"
    return r.output


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLDCHECK_ARGON2_PROFILE", "fast-insecure-for-tests")
    monkeypatch.delenv("COLDCHECK_DATABASE_URL", raising=False)
    path = str(tmp_path / "c.db")
    cc(path, "init", "--production", "prod-a", "--name", "A")
    cc(path, "person", "add", "--name", "Sam", "--role", "armorer", "--badge", "B1",
       "--qualification-expires", "2099-01-01", input="4821\n")
    cc(path, "person", "add", "--name", "Alex", "--role", "performer", "--badge", "B2",
       input="5566\n")
    return path


def client(db: str) -> TestClient:
    s = Settings(database_url=db, argon2_profile="fast-insecure-for-tests")
    return TestClient(create_app(s), base_url="https://testserver")


def test_an_account_made_on_the_cli_signs_in_with_the_roles_of_its_person(db: str) -> None:
    out = cc(db, "account", "add", "sam", "--person", "P1", input="a-good-password\n")
    assert "sam is P1 on prod-a (new account)" in out
    with client(db) as c:
        r = c.post("/api/v1/auth/login", json={"username": "sam",
                                               "password": "a-good-password"})
        assert r.status_code == 200
        assert r.json()["productions"][0]["roles"] == ["armorer"]


def test_the_cli_refuses_a_weak_password_and_a_second_account_for_a_person(db: str) -> None:
    out = cc(db, "account", "add", "sam", "--person", "P1", input="short\n", code=2)
    assert "PASSWORD_WEAK" in out
    cc(db, "account", "add", "sam", "--person", "P1", input="a-good-password\n")
    out = cc(db, "account", "add", "samuel", "--person", "P1", input="another-password\n",
             code=4)
    assert "PERSON_HAS_ACCOUNT" in out


def test_a_token_and_a_device_from_the_cli_let_a_script_record_an_action(db: str) -> None:
    cc(db, "account", "add", "alex", "--person", "P2", input="alex-password-1\n")
    tok = json.loads(cc(db, "token", "create", "alex", "--name", "complaints bot", "--json"))
    dev = json.loads(cc(db, "device", "add", "--name", "bot host", "--by", "alex", "--json"))
    hdrs = {"Authorization": f"Bearer {tok['token']}", "X-Coldcheck-Device": dev["key"]}
    with client(db) as c:
        r = c.post("/api/v1/productions/prod-a/complaints", json={"text": "loose sling"},
                   headers=hdrs)
        assert r.status_code == 200, r.text
        ev = r.json()["events"][0]
        assert (ev["actor"], ev["device"]) == ("P2", f"device:{dev['id']}")
        cc(db, "token", "revoke", tok["id"], "alex")
        r = c.get("/api/v1/productions/prod-a/status", headers=hdrs)
        assert r.status_code == 401 and r.json()["code"] == "TOKEN_REVOKED"


def test_a_token_for_a_non_member_is_refused(db: str) -> None:
    cc(db, "account", "add", "alex", "--person", "P2", input="alex-password-1\n")
    cc(db, "init", "--production", "prod-b", "--name", "B")
    out = cc(db, "token", "create", "alex", "--name", "x", "--production", "prod-b", code=2)
    assert "NOT_FOUND" in out


def test_the_demo_accounts_are_first_names_with_the_printed_password(tmp_path: Path) -> None:
    from coldcheck.demo import run_demo

    s = Settings(database_url=str(tmp_path / "demo.db"), key_dir=tmp_path / "keys",
                 argon2_profile="fast-insecure-for-tests")
    store = Store(s.database_url)
    res = run_demo(store, s)
    made = create_demo_accounts(store, s, production=res.ctx.production)
    assert [m["username"] for m in made] == ["sam", "jo", "dana", "lee", "morgan", "alex",
                                             "rita", "chris"]
    with TestClient(create_app(s, store=store), base_url="https://testserver") as c:
        r = c.post("/api/v1/auth/login", json={"username": "dana", "password": DEMO_PASSWORD})
        assert r.status_code == 200 and r.json()["productions"][0]["roles"] == ["first_ad"]
    store.dispose()
