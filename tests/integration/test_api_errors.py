"""Every error is RFC 9457 problem JSON of one pinned shape, whatever raised it;
bad input gets the right 4xx and writes nothing; the API's own codes are all
documented in docs/api.md."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import API, api_world

from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.services import accounts
from coldcheck.services.accounts import ACCESS_CODES
from coldcheck.services.problems import HTTP_CODES

ROOT = Path(__file__).resolve().parents[2]
PINNED_KEYS = {"type", "title", "status", "detail", "code"}


@pytest.fixture
def aw(sqlite_store: Store, settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(sqlite_store, settings, clock, production="err-test") as aw:
        yield aw


def assert_problem(r: Any, status: int, code: str) -> dict[str, Any]:
    """The pinned shape: problem media type, the five members, type from code."""
    assert r.status_code == status, f"{r.status_code} {r.text}"
    assert r.headers["content-type"] == "application/problem+json", r.headers
    body = r.json()
    assert set(body) >= PINNED_KEYS, body
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] == f"{API}/problems/{code}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in r.text and 'File "' not in r.text
    return dict(body)


def test_a_rule_refusal_is_a_409_problem_with_its_violations_and_recorded_seqs(aw: Any) -> None:
    w = aw.world
    head = w.seq()
    r = aw.post("ad", f"/weapons/{w.weapons['revolver']}/handoffs", {"to": w.people["alex"]})
    body = assert_problem(r, 409, "CUSTODY_DIRECT_HANDOFF")
    assert body["violations"][0]["code"] == "CUSTODY_DIRECT_HANDOFF"
    assert body["recorded"] == [head]
    assert w.types_since(head) == ["weapon.handoff_refused"]
    assert w.events_since(head)[0].device == f"device:{aw.device}"


def test_an_unknown_id_is_404_and_an_id_of_another_production_is_unknown_too(
        aw: Any, settings: Settings) -> None:
    from coldcheck.services import actions as a

    r = aw.post("armorer", "/weapons/W999/store", {"storage": aw.world.storage["safe"]})
    body = assert_problem(r, 404, "NOT_FOUND")
    assert body["what"] == "weapon" and body["id"] == "W999"
    # Another production in the same database, with more weapons than this one.
    other = a.init_production(store=aw.world.store, settings=settings, production="other",
                              name="Other", at=aw.clock())
    arm = a.add_person(other, name="Oz", roles=["armorer"], badge="O-1", pin="1234",
                       department="armory", qualification_expires="2030-01-01",
                       at=aw.clock())[0].payload["person"]
    safe = a.add_storage(other, name="Safe", kind="safe", actor=arm,
                         at=aw.clock())[0].payload["storage"]
    for i in range(len(aw.world.weapons) + 1):
        a.receive_weapon(other, armorer=arm, serial=f"O-{i}", make="M", model="M",
                         calibre=".45 Colt", kind="firearm", chambers=6, magazine_capacity=0,
                         storage=safe, at=aw.clock())
    theirs = f"W{len(aw.world.weapons) + 1}"
    assert theirs in aw.world.store.state("other").weapons
    assert theirs not in aw.world.state().weapons
    head = aw.world.seq()
    r = aw.post("armorer", f"/weapons/{theirs}/issue",
                {"performer": aw.person("alex"), "scene": aw.world.scenes["cold"]})
    assert assert_problem(r, 404, "NOT_FOUND")["id"] == theirs
    r = aw.get("armorer", "/timeline", weapon=theirs)
    assert_problem(r, 404, "NOT_FOUND")
    assert aw.world.seq() == head


def test_a_validation_error_is_422_with_locations_and_never_echoes_the_input(aw: Any) -> None:
    head = aw.world.seq()
    r = aw.post("armorer", "/inspections/IN1/witnesses", {"witness": 7, "pin": "31415926",
                                                          "extra": "x"})
    body = assert_problem(r, 422, "INVALID_INPUT")
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "witness") in locs and ("body", "extra") in locs
    assert "31415926" not in r.text
    assert aw.world.seq() == head


@pytest.mark.parametrize(("body", "why"), [
    ({"performer": ["P10"], "scene": "SC1"}, "a list where a string goes"),
    ({"performer": "P10"}, "a missing field"),
    ({"performer": "P10", "scene": "SC1", "force": True}, "an unknown field"),
    ({"performer": "P" * 500, "scene": "SC1"}, "an over-long id"),
    ([], "an array instead of an object"),
])
def test_wrong_shapes_are_refused_with_422_and_nothing_is_written(aw: Any, body: Any,
                                                                  why: str) -> None:
    head = aw.world.seq()
    r = aw.client.post(aw.url(f"/weapons/{aw.world.weapons['revolver']}/issue"), json=body,
                       headers=aw.h("armorer"))
    assert_problem(r, 422, "INVALID_INPUT")
    assert aw.world.seq() == head, why


def test_malformed_json_is_400_malformed_json(aw: Any) -> None:
    head = aw.world.seq()
    r = aw.client.post(aw.url("/complaints"), content=b'{"text": "unterminated',
                       headers={**aw.h("alex"), "Content-Type": "application/json"})
    assert_problem(r, 400, "MALFORMED_JSON")
    assert aw.world.seq() == head


def test_a_body_over_the_limit_is_413_before_it_is_read(aw: Any) -> None:
    head = aw.world.seq()
    r = aw.client.post(aw.url("/complaints"), json={"text": "x" * 70_000},
                       headers=aw.h("alex"))
    assert_problem(r, 413, "BODY_TOO_LARGE")
    assert aw.world.seq() == head


def test_a_chunked_body_over_the_limit_is_413_too(aw: Any) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(100):
            yield b"y" * 1000
        yield b'"}'

    r = aw.client.post(aw.url("/complaints"), content=chunks(),
                       headers={**aw.h("alex"), "Content-Type": "application/json"})
    assert_problem(r, 413, "BODY_TOO_LARGE")


def test_a_body_that_is_not_json_is_415(aw: Any) -> None:
    r = aw.client.post(aw.url("/complaints"), content=b"text=hello",
                       headers={**aw.h("alex"),
                                "Content-Type": "application/x-www-form-urlencoded"})
    assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_unknown_routes_and_methods_are_problems_too(aw: Any) -> None:
    assert_problem(aw.client.get(f"{API}/no/such/route"), 404, "ROUTE_NOT_FOUND")
    assert_problem(aw.client.get("/api/no/such/route"), 404, "ROUTE_NOT_FOUND")
    # Outside /api/ the tablet app answers: an unknown page is a 404 page, not JSON.
    page = aw.client.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    r = aw.client.delete(aw.url("/status"), headers=aw.h("armorer"))
    assert_problem(r, 405, "METHOD_NOT_ALLOWED")


def test_no_credentials_is_401_with_a_bearer_challenge(aw: Any) -> None:
    r = aw.client.get(aw.url("/status"))
    assert_problem(r, 401, "AUTH_REQUIRED")
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_locked_pin_is_423(aw: Any) -> None:
    w = aw.world
    ins = w.inspect("revolver", scene="cold")
    for _ in range(5):
        r = aw.post("armorer", f"/inspections/{ins}/witnesses", {"witness": w.people["alex"],
                                                                 "pin": "0000"})
    body = assert_problem(r, 423, "PIN_LOCKED")
    assert body["person"] == w.people["alex"]


def test_a_server_failure_is_a_bare_500_and_its_traceback_goes_to_the_log(
        aw: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from coldcheck.services import actions

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("disk on fire near the secret sauce")

    monkeypatch.setattr(actions, "file_complaint", boom)
    with caplog.at_level("ERROR", logger="coldcheck"):
        r = aw.post("alex", "/complaints", {"text": "the armory door sticks"})
    body = assert_problem(r, 500, "INTERNAL_ERROR")
    assert "disk on fire" not in r.text and "RuntimeError" not in r.text
    assert set(body) == PINNED_KEYS | {"instance"}
    assert "disk on fire" in caplog.text and "Traceback" in caplog.text


def test_the_problem_type_of_every_answer_describes_its_code(aw: Any) -> None:
    for code in ("CUSTODY_DIRECT_HANDOFF", "NOT_FOUND", "ACTION_FORBIDDEN", "BODY_TOO_LARGE"):
        r = aw.client.get(f"{API}/problems/{code}")
        assert r.status_code == 200 and r.json()["code"] == code and r.json()["title"]
    assert_problem(aw.client.get(f"{API}/problems/NO_SUCH_CODE"), 404, "NOT_FOUND")


def test_expired_and_revoked_tokens_are_401_with_their_own_codes(aw: Any) -> None:
    acc = accounts.account_of_username(aw.world.store, "armorer")
    raw, row = accounts.create_token(aw.world.store, account_id=acc, production=aw.production,
                                     name="short", hours=1, max_hours=2, at=aw.clock())
    hdrs = {"Authorization": f"Bearer {raw}"}
    assert aw.client.get(aw.url("/status"), headers=hdrs).status_code == 200
    r = aw.client.delete(aw.url(f"/tokens/{row['id']}"), headers=aw.h("armorer"))
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert_problem(aw.client.get(aw.url("/status"), headers=hdrs), 401, "TOKEN_REVOKED")
    raw2, _ = accounts.create_token(aw.world.store, account_id=acc, production=aw.production,
                                    name="short", hours=1, max_hours=2, at=aw.clock())
    aw.clock.t += __import__("datetime").timedelta(hours=2)
    r = aw.client.get(aw.url("/status"), headers={"Authorization": f"Bearer {raw2}"})
    assert_problem(r, 401, "TOKEN_EXPIRED")
    r = aw.client.get(aw.url("/status"), headers={"Authorization": "Bearer cc_made-up"})
    assert_problem(r, 401, "TOKEN_INVALID")


# ---- the catalogue of the API's own codes -------------------------------------------
def api_doc_codes() -> dict[str, str]:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split("\n### Error codes\n", 1)[1].split("\n## ", 1)[0]
    found: dict[str, str] = {}
    for m in re.finditer(r"^#### ([A-Z0-9_]+)\n\n(.*?)(?=^#### |\Z)", section, re.M | re.S):
        found[m.group(1)] = " ".join(m.group(2).split())
    return found


def test_api_doc_lists_every_access_and_http_code_and_nothing_else() -> None:
    doc = api_doc_codes()
    code = set(ACCESS_CODES) | set(HTTP_CODES)
    assert set(doc) == code, (f"only in docs/api.md: {sorted(set(doc) - code)}; "
                              f"only in code: {sorted(code - set(doc))}")


def test_api_doc_quotes_each_codes_text_and_status() -> None:
    from coldcheck.services.problems import CODE_STATUS

    doc = api_doc_codes()
    for c, text in {**ACCESS_CODES, **HTTP_CODES}.items():
        assert " ".join(text.split()) in doc[c], f"docs/api.md: {c} does not quote its text"
        assert re.match(r"HTTP \d{3}\.", doc[c]), f"docs/api.md: {c} gives no status"
        if c in CODE_STATUS:
            assert doc[c].startswith(f"HTTP {CODE_STATUS[c]}."), c


def _raised_access_codes() -> set[str]:
    """Every code given to AccessError(...) or problem(...) anywhere in src."""
    out: set[str] = set()
    for path in (ROOT / "src" / "coldcheck").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                first = node.args[0]
                if name in ("AccessError", "problem") and isinstance(first, ast.Constant):
                    out.add(str(first.value))
    return out


def test_every_access_code_raised_in_src_is_catalogued() -> None:
    raised = _raised_access_codes()
    assert {"ACTION_FORBIDDEN", "BODY_TOO_LARGE", "CSRF_FAILED"} <= raised
    from coldcheck.domain.errors import ERROR_CODES

    unknown = raised - set(ACCESS_CODES) - set(HTTP_CODES) - set(ERROR_CODES)
    assert not unknown, f"codes raised in src that no catalogue lists: {sorted(unknown)}"


def test_the_openapi_document_declares_problem_answers_for_every_operation(aw: Any) -> None:
    doc = aw.client.get(f"{API}/openapi.json").json()
    assert "Problem" in doc["components"]["schemas"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status in ("401", "404", "422", "500"):
                content = op["responses"][status]["content"]
                assert list(content) == ["application/problem+json"], (method, path)
    assert json.dumps(doc).count("HTTPValidationError") == 0
