"""schemathesis against the OpenAPI document: for every operation, generated
requests never get a 5xx, every answer conforms to the schema (a documented
status, content type, headers and body, and an Allow header that names the
methods the schema declares), and a request the schema allows is never refused
for its shape: only for what the production's state says (STATE_DEPENDENT).

Bounded so that it runs in well under a minute on two cores: a few examples
per operation, one production shared by the whole module. The caller holds
every role (so requests reach the rules, not just the permission check) and a
registered device."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_support import PASSWORD, StepClock, api_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from coldcheck.config import Settings
from coldcheck.domain import bounds
from coldcheck.domain.people import ROLES
from coldcheck.persistence.store import Store
from coldcheck.security import hasher
from coldcheck.services import accounts, rental
from coldcheck.services import actions as a

EXAMPLES = 12
HEADERS: dict[str, str] = {}
APP: list[Any] = []  # the fuzzed app, for the stream test
# Ids that exist in the fuzzed production, by the name of the parameter or field
# that takes them; generated cases use one of them half of the time, so requests
# get past "no such id" into the rules.
IDS: dict[str, list[str]] = {}
ID_FIELDS = {"weapon": "weapons", "lot": "lots", "person": "people", "scene": "scenes",
             "inspection": "inspections", "incident": "incidents", "complaint": "complaints",
             "performer": "people", "witness": "people", "to": "people", "armorer": "people",
             "supervisor": "people", "storage": "storage", "vendor": "vendors",
             "receipt": "receipts", "accessory": "accessories"}


def aim(case: Any, data: st.DataObject) -> None:
    """Point a generated case at the fuzzed production and, often, at real ids."""
    if case.headers and "Idempotency-Key" in case.headers:
        # A key names one request: the same key with another body is refused
        # (IDEMPOTENCY_KEY_REUSED), which is right, but not what is tested here.
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    params = case.path_parameters or {}
    if "production" in params:
        params["production"] = "fuzz"
    for name in list(params):
        pool = IDS.get(ID_FIELDS.get(name, ""), [])
        if pool and data.draw(st.booleans()):
            params[name] = data.draw(st.sampled_from(pool))
    if isinstance(case.body, dict):
        for name in list(case.body):
            pool = IDS.get(ID_FIELDS.get(name, ""), [])
            if pool and isinstance(case.body[name], str) and data.draw(st.booleans()):
                case.body[name] = data.draw(st.sampled_from(pool))


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from datetime import UTC, datetime

    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    s = Settings(database_url=str(tmp / "api.db"), key_dir=tmp / "keys",
                 argon2_profile="fast-insecure-for-tests", device="pytest")
    store = Store(s.database_url)
    clock = StepClock(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
    with api_world(store, s, clock, production="fuzz") as aw:
        w = aw.world
        ev = a.add_person(w.ctx, name="Bo Everything", roles=list(ROLES), badge="B-ALL",
                          pin="1357", qualification_expires="2030-12-31")
        boss = str(ev[0].payload["person"])
        w.override("PEOPLE_ROLE_CONFLICT", f"person:{boss}")
        accounts.add_member(store, ph=hasher(s.argon2_profile), production="fuzz",
                            person=boss, username="boss", password=PASSWORD)
        token, _ = accounts.create_token(store, account_id=accounts.account_of_username(
            store, "boss"), production="fuzz", name="fuzz", hours=24 * 30, max_hours=24 * 30,
            at=clock())
        HEADERS.update({"Authorization": f"Bearer {token}", "X-Coldcheck-Device": aw.device_key})
        w.give("revolver", "alex", "cold")
        a.report_incident(w.ctx, kind="misfire", description="click",
                                     weapons=[w.weapons["pistol"]], lots=[],
                                     reported_by=w.people["rita"])
        a.file_complaint(w.ctx, by=w.people["chris"], text="smoke in video village")
        # A rental house with a delivery not checked in yet, and a kit piece.
        v = rental.add_vendor(w.ctx, name="Stembridge Gun Rentals", kind="rental_house",
                              actor=w.people["armorer"])[0].payload["vendor"]
        rental.open_receipt(w.ctx, vendor=v, armorer=w.people["armorer"], manifest=[
            {"kind": "weapon", "serial": "RH-92-001", "make": "Beretta", "model": "92FS",
             "calibre": "9mm", "weapon_kind": "blank_only", "magazine_capacity": 15},
            {"kind": "accessory", "description": "Magazine", "count": 3,
             "for_serial": "RH-92-001"},
            {"kind": "lot", "lot_kind": "blank", "load": "half", "calibre": "9mm",
             "supplier_lot": "RH-B-44", "count": 200}])
        rental.add_accessory(w.ctx, weapon=w.weapons["revolver2"], description="Holster",
                             armorer=w.people["armorer"])
        st_ = w.state()
        IDS.update({"weapons": list(st_.weapons), "lots": list(st_.lots),
                    "people": list(st_.people), "scenes": list(st_.scenes),
                    "inspections": list(st_.inspections), "incidents": list(st_.incidents),
                    "complaints": list(st_.complaints), "storage": list(st_.storage),
                    "vendors": list(st_.vendors), "receipts": list(st_.receipts),
                    "accessories": list(st_.accessories)})
        APP.append(aw.app)
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", aw.app)
        yield schema.exclude(path_regex=r"/events/stream$")
    store.dispose()


def test_no_operation_fails_or_answers_outside_its_schema(api_schema: Any) -> None:
    """One test over every operation (schemathesis' lazy pytest loader does not
    run on pytest 9 yet): failures are collected and reported together."""
    failures: dict[str, str] = {}
    operations = [r.ok() for r in api_schema.get_all_operations()]
    assert len(operations) >= 50

    for op in operations:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy(), data=st.data())
        def run(case: Any, data: st.DataObject) -> None:
            aim(case, data)
            case.call_and_validate(headers=HEADERS, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as err:  # schemathesis raises a group
            failures[op.label] = str(err)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


# 422 answers to schema-valid requests that depend on the production's state or
# on two fields together, which a JSON schema cannot say: everything else a
# schema-valid request is refused for is a disagreement between the schema and
# the checks (the schema's bounds come from domain/bounds.py).
STATE_DEPENDENT = re.compile("|".join([
    r"^there is no event \d+$", r"^old size must be 1\.\.\d+, not ",
    r"^entry index must be 0\.\.\d+, not ",  # the ledger's size
    r"^scene \S+ plans weapons ", r"^scene \S+ has no pointing plan$",
    r"^incident \S+ is not an open incident naming ", r" has no position ",
    r"^lot \S+ has \d+ unverified rounds on hand",
    # counts the state narrows: rounds loaded, on hand, a magazine's capacity
    r"^(rounds lost|rounds fired|rounds destroyed|magazine rounds|rounds verified) must be a "
    r"whole number from \d+ to \d+, not ",
    r"\) is not an? ",
    r"^tree size must be 1\.\.\d+, not ", r"^subject must name something on this production ",
    r" holds blanks; only dummies are verified ",
    r"^weapon \S+ \((retired|non_firing_replica|rubber|airsoft)\) fires nothing$",  # duds
    r"^the time zone is already ",  # the zone the production has: nothing to record
    r"^no alert webhook is set: ",  # removing a webhook that is not there
    # two fields together
    r"^dummies have no load$", r"^blanks need a load: ", r"^name a weapon, lot or person$",
    r"^found in names the box live rounds were found in",
    r"^an issue to a performer names the scene$",
    r"^A password is 10 to 256 characters\.$",  # needed only when the username is new
    # rentals: what the receipt's line is (a weapon or lot needs storage), which
    # lines it has, what of the vendor's is still here, what went out in a kit
    r" goes into storage: name it$", r"^receipt \S+ has lines 1 to \d+$",
    r"^accessory for serial .+: check that weapon in first$",
    r"^nothing of .+ is here to go back$", r"^weapon \S+ goes back with its condition out ",
    r"^no accessories went out with weapon ", r" did not go out with weapon ",
]))


# The codes of a request's shape. Any other code (DUPLICATE_SERIAL,
# PIN_INVALID, a rule's) names what the production's state refused.
SHAPE_CODES = {"INVALID_INPUT", "PIN_WEAK", "PASSWORD_WEAK", "USERNAME_INVALID"}


@schemathesis.check
def schema_valid_is_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, less what the state refuses: answers with a code
    of their own, and the shape-coded ones listed in STATE_DEPENDENT."""
    try:
        return checks.positive_data_acceptance(ctx, response, case)
    except Exception:
        if response.status_code == 423:  # a PIN locked by earlier wrong ones: state
            return None
        body = response.json() if response.status_code == 422 else {}
        if "errors" in body:  # refused at the edge: the schema disagrees with itself
            raise
        if body.get("code") not in SHAPE_CODES:  # a code of its own names the state
            return None
        if STATE_DEPENDENT.search(str(body.get("detail", ""))):
            return None
        raise


CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance,
          checks.response_headers_conformance, checks.allow_header_conformance,
          checks.unsupported_method, schema_valid_is_accepted]


@pytest.mark.parametrize(("path", "body", "field", "bound"), [
    ("complaints", {}, "text", bounds.TEXT),
    ("weapons", {"make": "Colt", "model": "SAA", "calibre": ".45",
                 "kind": "non_firing_replica", "storage": "ST1"}, "serial", bounds.SERIAL),
    ("weapons", {"serial": "B-{n}", "make": "Colt", "model": "SAA",
                 "kind": "non_firing_replica", "storage": "ST1"}, "calibre", bounds.CALIBRE),
    ("weapons", {"serial": "C-{n}", "make": "Colt", "model": "SAA", "calibre": ".45",
                 "kind": "non_firing_replica", "storage": "ST1"}, "chambers", bounds.CHAMBERS),
])
def test_the_schema_bound_is_the_rules_bound(tmp_path: Path, path: str, body: dict[str, Any],
                                             field: str, bound: bounds.Bound) -> None:
    """At the bound the request is recorded; one past it, it is refused at the
    edge (422 with the schema's own error list), never by the rules after the
    schema allowed it. The OpenAPI document states the same bound."""
    with _world(tmp_path) as (client, headers):
        _at_and_past_the_bound(client, headers, path, body, field, bound)


@contextmanager
def _world(tmp_path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    """A small production and a client holding every role, on a registered device."""
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient

    s = Settings(database_url=str(tmp_path / "api.db"), key_dir=tmp_path / "keys",
                 argon2_profile="fast-insecure-for-tests", device="pytest")
    store = Store(s.database_url)
    clock = StepClock(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
    try:
        with api_world(store, s, clock, production="fuzz") as aw:
            ev = a.add_person(aw.world.ctx, name="Bo Everything", roles=list(ROLES),
                              badge="B-ALL", pin="1357", qualification_expires="2030-12-31")
            boss = str(ev[0].payload["person"])
            aw.world.override("PEOPLE_ROLE_CONFLICT", f"person:{boss}")
            accounts.add_member(store, ph=hasher(s.argon2_profile), production="fuzz",
                                person=boss, username="boss", password=PASSWORD)
            token, _ = accounts.create_token(
                store, account_id=accounts.account_of_username(store, "boss"),
                production="fuzz", name="bounds", hours=24, max_hours=24, at=clock())
            yield TestClient(aw.app), {"Authorization": f"Bearer {token}",
                                       "X-Coldcheck-Device": aw.device_key}
    finally:
        store.dispose()


def _at_and_past_the_bound(client: Any, headers: dict[str, str], path: str,
                           body: dict[str, Any], field: str, bound: bounds.Bound) -> None:
    declared = client.get("/api/v1/openapi.json").json()
    model = declared["paths"][f"/api/v1/productions/{{production}}/{path}"]["post"]
    ref = model["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    prop = declared["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"][field]
    numeric = prop.get("type") == "integer"
    stated = (prop["minimum"], prop["maximum"]) if numeric else (prop["minLength"],
                                                                 prop["maxLength"])
    assert stated == (bound.low, bound.high)

    def send(value: Any, n: int) -> Any:
        data = {k: v.format(n=n) if isinstance(v, str) else v for k, v in body.items()}
        data[field] = value
        return client.post(f"/api/v1/productions/fuzz/{path}", json=data,
                           headers={**headers, "Idempotency-Key": uuid.uuid4().hex})

    at = bound.high if numeric else "x" * bound.high
    past = bound.high + 1 if numeric else "x" * (bound.high + 1)
    ok = send(at, 1)
    assert ok.status_code in (200, 201), ok.text
    refused = send(past, 2)
    assert refused.status_code == 422 and "errors" in refused.json(), refused.text


def test_allow_names_exactly_the_methods_the_schema_declares(tmp_path: Path) -> None:
    """Every method the schema does not declare for a path is answered 405, with
    an Allow header naming exactly the ones it does (a path's GET and POST are
    often two routes, and Starlette used to name only the first)."""
    from datetime import UTC, datetime

    from fastapi.testclient import TestClient

    s = Settings(database_url=str(tmp_path / "api.db"), key_dir=tmp_path / "keys",
                 argon2_profile="fast-insecure-for-tests", device="pytest")
    store = Store(s.database_url)
    clock = StepClock(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))
    wrong: list[str] = []
    with api_world(store, s, clock, production="fuzz") as aw:
        client = TestClient(aw.app)
        paths = client.get("/api/v1/openapi.json").json()["paths"]
        for path, ops in paths.items():
            declared = {m.upper() for m in ops if m in {"get", "post", "put", "patch", "delete"}}
            url = re.sub(r"\{[^}]+\}", "X1", path.replace("{production}", "fuzz"))
            for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - declared):
                r = client.request(method, url)
                allow = {m.strip() for m in r.headers.get("allow", "").split(",")} - {"", "HEAD"}
                if r.status_code != 405 or allow != declared:
                    wrong.append(f"{method} {path}: {r.status_code}, Allow {sorted(allow)}, "
                                 f"declared {sorted(declared)}")
    store.dispose()
    assert len(paths) >= 40
    assert not wrong, "\n".join(wrong)


# Operations that revoke the fuzzer's own credentials (or sign it out): a
# sequence through them would test nothing after them.
REVOKES_OWN_ACCESS = r"/(tokens/\{token_id\}|devices/\{device\})$|/session$"


def test_sequences_of_calls_keep_to_the_schema(api_schema: Any) -> None:
    """The stateful run: schemathesis chains operations by the links it infers
    (an id one call answers is the input of the next), with the same checks as
    the single calls above. Bounded: a few short scenarios."""
    schema = api_schema.exclude(path_regex=REVOKES_OWN_ACCESS)
    base = schema.as_state_machine()

    class Scenario(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = uuid.uuid4().hex
            params = case.path_parameters or {}
            if "production" in params:
                params["production"] = "fuzz"
            return {"headers": HEADERS}

        def validate_response(self, response: Any, case: Any,
                              additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    assert len(base.bundles) >= 5, "no links inferred: the run would chain nothing"
    Scenario.run(settings=settings(max_examples=15, stateful_step_count=6, deadline=None,
                                   derandomize=True, database=None,
                                   suppress_health_check=list(HealthCheck)))


def test_stream_frames_are_what_the_schema_declares(api_schema: Any) -> None:
    """Every frame of the live stream has the fields the OpenAPI document
    declares for it (x-coldcheck-frame): id the seq, event the type, data an
    event (or a problem document), checked with a JSON Schema validator."""
    import json

    import jsonschema_rs  # schemathesis' own validator
    from fastapi.testclient import TestClient

    with TestClient(APP[0]) as client:
        doc = client.get("/api/v1/openapi.json").json()
        op = doc["paths"]["/api/v1/productions/{production}/events/stream"]["get"]
        frame_schema = op["responses"]["200"]["content"]["text/event-stream"][
            "x-coldcheck-frame"]
        validator = jsonschema_rs.Draft202012Validator(
            {**frame_schema, "components": doc["components"]})
        with client.stream("GET", "/api/v1/productions/fuzz/events/stream",
                           params={"after": -1, "max_events": 8}, headers=HEADERS) as r:
            assert r.status_code == 200
            text = "".join(r.iter_text())
    frames = [dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
              for block in text.split("\n\n") if "data: " in block]
    assert len(frames) == 8
    for frame in frames:
        frame["data"] = json.loads(frame["data"])
        errors = [e.message for e in validator.iter_errors(frame)]
        assert not errors, (frame, errors)
        assert frame["event"] == frame["data"]["type"]
        assert frame["id"] == str(frame["data"]["seq"])
