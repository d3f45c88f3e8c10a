"""The role × action matrix: written once in services/permissions.py, published in
docs/permissions.md, enforced by the one dependency every production route
declares. The walk at the end asks every route as every role, as a member and
as a non-member, and checks the answer against the matrix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import API, api_world
from fastapi.routing import APIRoute

from coldcheck.api.app import actions_of, api_routes
from coldcheck.config import Settings
from coldcheck.domain.people import ROLES
from coldcheck.persistence.store import Store
from coldcheck.security import hasher
from coldcheck.services import accounts
from coldcheck.services import actions as a
from coldcheck.services.permissions import ACTIONS, RECORDING, RULED, allowed

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
PROD = "/api/v1/productions/{production}"
PUBLIC = {("GET", "/api/v1/health"), ("GET", "/api/v1/problems/{code}"),
          ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/logout"),
          ("GET", "/api/v1/openapi.json")}
ACCOUNT = {("GET", "/api/v1/auth/session"), ("GET", "/api/v1/productions")}
# One single-role person of the rules world for each role.
BY_ROLE = {"armorer": "armorer", "assistant_armorer": "assistant", "prop_master": "props",
           "first_ad": "ad", "performer": "alex", "safety_supervisor": "supervisor",
           "producer": "producer", "investigator": "investigator"}
PARAMS = {"weapon": "W1", "lot": "L1", "person": "P1", "scene": "SC1", "inspection": "IN1",
          "incident": "INC1", "complaint": "C1", "credential": "CR1",
          "device": "dev-0000000000",
          "token_id": "tok_000000000000", "index": "0", "vendor": "V1", "receipt": "RC1",
          "accessory": "AC1", "line": "1",
          "day": "2026-11-20"}  # a day before the production: a short report


def doc_matrix() -> tuple[list[str], dict[str, set[str]]]:
    """The table of docs/permissions.md: header roles, and action -> roles marked ✓."""
    section = DOC.read_text(encoding="utf-8").split("\n## The matrix\n", 1)[1]
    section = section.split("\n## ", 1)[0].splitlines()
    lines = [ln for ln in section if ln.startswith("| `")]
    header = next(ln for ln in section if ln.startswith("| Action |"))
    roles = [c.strip().strip("`") for c in header.strip("|").split("|")[1:]]
    table: dict[str, set[str]] = {}
    for ln in lines:
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        action = cells[0].strip("`")
        assert action not in table, f"docs/permissions.md lists {action} twice"
        table[action] = {r for r, c in zip(roles, cells[1:], strict=True) if c == "✓"}
        bad = {c for c in cells[1:] if c not in ("✓", "")}
        assert not bad, f"docs/permissions.md {action}: cells are ✓ or empty, not {bad}"
    return roles, table


def test_permissions_doc_has_one_column_per_role_in_order() -> None:
    roles, _ = doc_matrix()
    assert roles == list(ROLES)


def test_permissions_doc_and_the_matrix_in_code_are_the_same_table() -> None:
    _, table = doc_matrix()
    assert set(table) == set(ACTIONS), (
        f"actions only in docs: {sorted(set(table) - set(ACTIONS))}; "
        f"only in code: {sorted(set(ACTIONS) - set(table))}")
    for action, roles in ACTIONS.items():
        assert table[action] == set(roles), f"{action}: docs {table[action]} vs code {roles}"


def test_an_action_missing_from_the_matrix_is_refused_to_every_role() -> None:
    assert not allowed("weapon.teleport", ROLES)
    assert allowed("read", ["investigator"])
    assert not allowed("weapon.issue", ["first_ad", "performer", "producer"])


def test_investigators_only_read() -> None:
    assert {a for a, roles in ACTIONS.items() if "investigator" in roles} == {
        "read", "token.own", "report.daily", "incident.export"}
    # The report and the evidence package record nothing.
    assert not {"report.daily", "incident.export"} & RECORDING


def routes(app: Any) -> Iterator[tuple[str, str, APIRoute]]:
    for r in api_routes(app):
        for m in sorted(r.methods or ()):
            yield m, r.path, r


@pytest.fixture
def aw(sqlite_store: Store, settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(sqlite_store, settings, clock, production="perm-test") as aw:
        # A second production with an outsider: a member there, not here.
        ctx = a.init_production(store=sqlite_store, settings=settings, production="elsewhere",
                                name="Elsewhere", at=clock())
        ev = a.add_person(ctx, name="Olga Out", roles=["armorer"], badge="OUT-1", pin="1234",
                          qualification_expires="2030-01-01", at=clock())
        accounts.add_member(sqlite_store, ph=hasher(settings.argon2_profile),
                            production="elsewhere", person=ev[0].payload["person"],
                            username="outsider", password="outsider-password")
        acc = accounts.account_of_username(sqlite_store, "outsider")
        aw.tokens["outsider"], _ = accounts.create_token(
            sqlite_store, account_id=acc, production="elsewhere", name="t", hours=48,
            max_hours=48, at=aw.clock())
        yield aw


def test_every_production_route_declares_exactly_one_known_action(aw: Any) -> None:
    seen = set()
    for method, path, route in routes(aw.app):
        if (method, path) in PUBLIC | ACCOUNT:
            assert not actions_of(route), f"{method} {path} is public or account-level"
            continue
        assert path.startswith(PROD), f"{method} {path}: a route outside the matrix"
        acts = actions_of(route)
        assert len(acts) == 1, f"{method} {path} declares {acts}"
        assert acts[0] in ACTIONS
        seen.add(acts[0])
    assert seen == set(ACTIONS), f"actions no route uses: {sorted(set(ACTIONS) - seen)}"


def test_public_routes_answer_without_credentials_and_account_routes_need_them(aw: Any) -> None:
    c = aw.client
    assert c.get(f"{API}/health").status_code == 200
    assert c.get(f"{API}/problems/CUSTODY_DIRECT_HANDOFF").status_code == 200
    assert c.get(f"{API}/openapi.json").status_code == 200
    for path in ("/auth/session", "/productions"):
        r = c.get(API + path)
        assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED"
        assert c.get(API + path, headers=aw.h("investigator")).status_code == 200


def _url(aw: Any, path: str) -> str:
    url = path.replace("{production}", aw.production)
    return re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], url)


def test_every_route_answers_every_role_and_non_members_as_the_matrix_says(aw: Any) -> None:
    """The expected answers come from docs/permissions.md, not from the code."""
    c = aw.client
    published = doc_matrix()[1]
    checked = 0
    for method, path, route in routes(aw.app):
        if not path.startswith(PROD):
            continue
        action = actions_of(route)[0]
        url = _url(aw, path)
        params = {"timeout": "0.05"} if path.endswith("/stream") else {}
        body = {} if method in ("POST", "PUT", "PATCH") else None
        callers = [(role, key, True) for role, key in BY_ROLE.items()] + [
            ("outsider", "outsider", False)]
        for role, key, is_member in callers:
            r = c.request(method, url, json=body, params=params, headers=aw.h(key))
            where = f"{method} {path} as {role}"
            assert r.status_code < 500, f"{where}: {r.status_code} {r.text}"
            got = r.json() if r.headers["content-type"].startswith(
                "application/problem+json") else {}
            if not is_member:
                assert r.status_code == 404, f"{where}: {r.status_code}"
                assert got["code"] == "NOT_FOUND" and got["what"] == "production", where
            elif role in published[action]:
                assert r.status_code not in (401, 403), f"{where}: {r.text}"
                assert got.get("what") != "production", f"{where}: {r.text}"
            elif action in RULED:
                # A rule, not a permission: the request reaches the rule engine
                # (docs/permissions.md); never the matrix's 403.
                assert r.status_code != 403 or got.get("code", "").startswith("DEVICE_"), \
                    f"{where}: {r.status_code} {r.text}"
                assert got.get("code") != "ACTION_FORBIDDEN", where
            else:
                assert r.status_code == 403, f"{where}: {r.status_code} {r.text}"
                assert got["code"] == "ACTION_FORBIDDEN", where
            checked += 1
    assert checked >= 40 * 9


def test_a_session_of_a_non_member_sees_no_production(aw: Any) -> None:
    c = aw.client
    r = c.post(f"{API}/auth/login", json={"username": "outsider",
                                          "password": "outsider-password"})
    assert r.status_code == 200
    other = c.get(aw.url("/status"))
    nowhere = c.get(f"{API}/productions/no-such-production/status")
    assert other.status_code == nowhere.status_code == 404
    assert other.json()["detail"].replace(aw.production, "X") == \
        nowhere.json()["detail"].replace("no-such-production", "X")


def test_writes_that_record_events_are_exactly_those_needing_a_device(aw: Any) -> None:
    r = aw.post("armorer", "/storage", {"name": "Cart 9", "kind": "cart"}, **{
        "X-Coldcheck-Device": ""})
    assert r.status_code == 403 and r.json()["code"] == "DEVICE_REQUIRED"
    assert "read" not in RECORDING and "weapon.issue" in RECORDING
    r = aw.client.post(aw.url("/devices"), json={"name": "Second tablet"},
                       headers=aw.h("producer", device=False))
    assert r.status_code == 201, r.text


def test_the_route_table_of_docs_api_md_is_every_route_with_its_permission(aw: Any) -> None:
    text = (DOC.parent / "api.md").read_text(encoding="utf-8")
    table = text.split("\n## Routes\n", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for m in re.finditer(r"^\| `([A-Z]+)` \| `([^`]+)` \| (`[a-z_.]+`|—) \|", table, re.M):
        documented[(m.group(1), "/api/v1" + m.group(2))] = m.group(3).strip("`")
    actual = {(meth, path): (actions_of(route) or ["—"])[0]
              for meth, path, route in routes(aw.app)}
    actual[("GET", "/api/v1/openapi.json")] = "—"
    assert documented == actual
