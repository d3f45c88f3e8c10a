"""Issue 19 part 1, the contract: every custody and safety action, tried by every
role that may not do it, through each door (the CLI, the API, the tablet's real
forms), gets the same rule code, the same class of answer, and the same recorded
event with the same actor and subjects.

The doors run one after the other on one production: a refusal changes nothing
but the record, so the three attempts meet the same state, and the test compares
what each one wrote. (Actions signed by two PINs, witnessing, grounding and
closing an incident, check the signers, not the caller: they are covered in
test_acting_by_pin.py and test_rules.py.)
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiWorld, api_world
from test_web_beside_api import web_sign_in
from typer.testing import CliRunner

from coldcheck.cli.app import app as cli_app
from coldcheck.config import Settings
from coldcheck.persistence.store import Store

runner = CliRunner()

# Everyone who is not an armorer: a prop master without a credential, the 1st AD
# (the Rust case), a performer, the safety supervisor, the producer, an investigator.
ROLES = ("props", "ad", "alex", "supervisor", "producer", "investigator")
REFUSALS = {"action.refused", "weapon.handoff_refused", "ammo.intake_refused"}


@dataclass(frozen=True)
class Case:
    action: str
    code: str  # the rule that must refuse it
    api: Callable[[ApiWorld, str], tuple[str, dict[str, Any]]]  # path, JSON body
    cli: Callable[[ApiWorld, str], list[str]] | None  # arguments; --db, --json added
    web: Callable[[ApiWorld, str], tuple[str, dict[str, str]]] | None  # under /p/{p}


def _ids(aw: ApiWorld) -> dict[str, str]:
    w = aw.world
    return {**{f"w_{k}": v for k, v in w.weapons.items()},
            **{f"l_{k}": v for k, v in w.lots.items()},
            **{f"s_{k}": v for k, v in w.storage.items()},
            **{f"sc_{k}": v for k, v in w.scenes.items()}, **w.people}


def _positions(aw: ApiWorld) -> list[dict[str, str]]:
    return list(aw.world.positions("revolver")[0])


CASES = [
    Case("weapon.receive", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: ("/weapons", {
             "serial": f"NEW-{who}", "make": "Colt", "model": "SAA", "calibre": ".45 Colt",
             "kind": "firearm", "chambers": 6, "magazine_capacity": 0,
             "storage": _ids(aw)["s_safe"]}),
         lambda aw, who: ["weapon", "add", "--serial", f"NEW-{who}", "--make", "Colt",
                          "--model", "SAA", "--calibre", ".45 Colt", "--kind", "firearm",
                          "--chambers", "6", "--storage", _ids(aw)["s_safe"]],
         lambda aw, who: ("/intake/weapon", {
             "serial": f"NEW-{who}", "make": "Colt", "model": "SAA", "calibre": ".45 Colt",
             "kind": "firearm", "chambers": "6", "magazine_capacity": "0",
             "storage": _ids(aw)["s_safe"]})),
    Case("lot.receive", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: ("/lots", {
             "kind": "dummy", "calibre": ".45 Colt", "supplier": "Stembridge",
             "supplier_lot": f"X-{who}", "count": 10, "storage": _ids(aw)["s_safe"]}),
         lambda aw, who: ["ammo", "intake", "--kind", "dummy", "--calibre", ".45 Colt",
                          "--supplier", "Stembridge", "--supplier-lot", f"X-{who}",
                          "--count", "10", "--storage", _ids(aw)["s_safe"]],
         lambda aw, who: ("/intake/lot", {
             "kind": "dummy", "calibre": ".45 Colt", "supplier": "Stembridge",
             "supplier_lot": f"X-{who}", "count": "10", "storage": _ids(aw)["s_safe"]})),
    Case("lot.verify", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: (f"/lots/{_ids(aw)['l_dummies']}/verifications",
                          {"count": 1, "method": "shake"}),
         lambda aw, who: ["ammo", "verify", _ids(aw)["l_dummies"], "--count", "1",
                          "--method", "shake"],
         lambda aw, who: (f"/lots/{_ids(aw)['l_dummies']}/verify",
                          {"count": "1", "method": "shake"})),
    Case("lot.destroy", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: (f"/lots/{_ids(aw)['l_dummies']}/destructions",
                          {"count": 1, "reason": "damaged"}),
         lambda aw, who: ["ammo", "destroy", _ids(aw)["l_dummies"], "--count", "1",
                          "--reason", "damaged"],
         None),  # no tablet form: the CLI and API only
    Case("weapon.inspect", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: (f"/weapons/{_ids(aw)['w_revolver']}/inspections", {
             "positions": _positions(aw), "barrel_clear": True, "magazine_checked": True,
             "scene": _ids(aw)["sc_cold"]}),
         lambda aw, who: ["inspect", _ids(aw)["w_revolver"], "--all", "empty",
                          "--barrel-clear", "--scene", _ids(aw)["sc_cold"]],
         lambda aw, who: (f"/weapons/{_ids(aw)['w_revolver']}/inspect", {
             "barrel_clear": "1", "scene": _ids(aw)["sc_cold"],
             **{f"pos{i}": "empty" for i in range(6)}})),
    Case("weapon.issue", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: (f"/weapons/{_ids(aw)['w_revolver']}/issue",
                          {"performer": _ids(aw)["rita"], "scene": _ids(aw)["sc_cold"]}),
         lambda aw, who: ["issue", _ids(aw)["w_revolver"], "--to", _ids(aw)["rita"],
                          "--scene", _ids(aw)["sc_cold"]],
         lambda aw, who: (f"/weapons/{_ids(aw)['w_revolver']}/issue",
                          {"performer": _ids(aw)["rita"], "scene": _ids(aw)["sc_cold"]})),
    Case("weapon.return", "CUSTODY_ARMORER_ONLY",  # the pistol is out with Alex
         lambda aw, who: (f"/weapons/{_ids(aw)['w_pistol']}/return",
                          {"performer": _ids(aw)["alex"], "fired": 0, "lost": 0}),
         lambda aw, who: ["return", _ids(aw)["w_pistol"], "--from", _ids(aw)["alex"]],
         lambda aw, who: (f"/weapons/{_ids(aw)['w_pistol']}/return",
                          {"performer": _ids(aw)["alex"], "back": "5", "fired": "0",
                           "lost": "0"})),
    Case("weapon.store", "CUSTODY_ARMORER_ONLY",  # revolver 2 is back, not yet stored
         lambda aw, who: (f"/weapons/{_ids(aw)['w_revolver2']}/store",
                          {"storage": _ids(aw)["s_safe"]}),
         lambda aw, who: ["store", _ids(aw)["w_revolver2"], "--storage", _ids(aw)["s_safe"]],
         lambda aw, who: (f"/weapons/{_ids(aw)['w_revolver2']}/store",
                          {"storage": _ids(aw)["s_safe"]})),
    Case("weapon.clean", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: (f"/weapons/{_ids(aw)['w_other']}/cleanings", {"notes": "bore"}),
         lambda aw, who: ["weapon", "clean", _ids(aw)["w_other"], "--notes", "bore"],
         lambda aw, who: (f"/weapons/{_ids(aw)['w_other']}/clean", {"notes": "bore"})),
    Case("weapon.function_check", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: (f"/weapons/{_ids(aw)['w_other']}/function-checks", {"notes": ""}),
         lambda aw, who: ["weapon", "check", _ids(aw)["w_other"]],
         lambda aw, who: (f"/weapons/{_ids(aw)['w_other']}/function-check", {})),
    Case("weapon.dud", "CUSTODY_ARMORER_ONLY",  # the pistol is out with blanks
         lambda aw, who: (f"/weapons/{_ids(aw)['w_pistol']}/dud",
                          {"description": "failed to fire"}),
         lambda aw, who: ["weapon", "dud", _ids(aw)["w_pistol"], "--description",
                          "failed to fire"],
         lambda aw, who: (f"/weapons/{_ids(aw)['w_pistol']}/dud",
                          {"description": "failed to fire"})),
    Case("weapon.handoff", "CUSTODY_DIRECT_HANDOFF",  # the Rust hand-over: to a performer
         lambda aw, who: (f"/weapons/{_ids(aw)['w_revolver']}/handoffs",
                          {"to": _ids(aw)["rita"], "scene": _ids(aw)["sc_cold"]}),
         None,  # the CLI names --from: see cli_args below
         lambda aw, who: (f"/weapons/{_ids(aw)['w_revolver']}/handoff",
                          {"to": _ids(aw)["rita"], "scene": _ids(aw)["sc_cold"]})),
    Case("weapon.repair", "CUSTODY_ARMORER_ONLY",  # grounded in _prepare
         lambda aw, who: (f"/weapons/{_ids(aw)['w_grounded']}/repairs",
                          {"repair": "New cylinder hand"}),
         lambda aw, who: ["weapon", "repair", _ids(aw)["w_grounded"], "--repair",
                          "New cylinder hand"],
         lambda aw, who: (f"/weapons/{_ids(aw)['w_grounded']}/repair",
                          {"repair": "New cylinder hand"})),
    Case("weapon.record_evidence", "CUSTODY_ARMORER_ONLY",  # frozen in _prepare
         lambda aw, who: (f"/weapons/{_ids(aw)['w_evidence']}/evidence", {
             "incident": aw.world.incident, "position": "cylinder 1",
             "description": "A round with a dented primer"}),
         lambda aw, who: ["ammo", "evidence", _ids(aw)["w_evidence"], "--incident",
                          aw.world.incident, "--position", "cylinder 1", "--description",
                          "A round with a dented primer"],
         lambda aw, who: (f"/weapons/{_ids(aw)['w_evidence']}/evidence", {
             "incident": aw.world.incident, "position": "cylinder 1",
             "description": "A round with a dented primer"})),
    Case("accessory.add", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: (f"/weapons/{_ids(aw)['w_revolver']}/accessories",
                          {"description": "Leather holster"}),
         lambda aw, who: ["kit", "add", _ids(aw)["w_revolver"], "--description",
                          "Leather holster"],
         None),  # no tablet form: kits are added from the CLI and the API
    Case("receipt.open", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: ("/receipts", {"vendor": aw.world.vendor, "manifest": [
             {"kind": "accessory", "description": "Cleaning kit"}]}),
         lambda aw, who: ["receipt", "open", "--vendor", aw.world.vendor, "--manifest",
                          aw.world.manifest_file],
         None),  # the tablet lists and checks deliveries; opening one is the CLI's
    Case("receipt.check", "CUSTODY_ARMORER_ONLY",  # line 1 of the receipt in _prepare
         lambda aw, who: (f"/receipts/{aw.world.receipt}/lines/1",
                          {"condition": "Good"}),
         lambda aw, who: ["receipt", "check", aw.world.receipt, "--line", "1",
                          "--condition", "Good"],
         lambda aw, who: (f"/receipts/{aw.world.receipt}/check",
                          {"line": "1", "condition": "Good"})),
    Case("day.wrap", "CUSTODY_ARMORER_ONLY",
         lambda aw, who: ("/wrap", {}),
         lambda aw, who: ["wrap"],
         lambda aw, who: ("/wrap", {})),
]


HANDOFF = next(c for c in CASES if c.action == "weapon.handoff")


def cli_args(case: Case, aw: ApiWorld, who: str) -> list[str]:
    """The CLI has no session: the person acting is named on the command line."""
    person = aw.person(who)
    if case.action == "weapon.handoff":
        return ["handoff", _ids(aw)["w_revolver"], "--from", person, "--to",
                _ids(aw)["rita"], "--scene", _ids(aw)["sc_cold"]]
    assert case.cli is not None
    return [*case.cli(aw, who), "--armorer", person]


def _prepare(aw: ApiWorld, folder: Path) -> None:
    """Revolver 2 comes back (returned, not stored); the pistol goes out with blanks
    for the hot scene and stays with Alex."""
    w = aw.world
    ins = aw.ready("revolver2", "rita", "cold")
    r = aw.post("armorer", f"/weapons/{w.weapons['revolver2']}/issue",
                {"performer": w.people["rita"], "scene": w.scenes["cold"]})
    assert r.status_code == 200, r.text
    r = aw.post("armorer", f"/weapons/{w.weapons['revolver2']}/return",
                {"performer": w.people["rita"], "fired": 0, "lost": 0})
    assert r.status_code == 200, r.text
    pos, mag = w.positions("pistol", content="blank", n=5)
    r = aw.post("armorer", f"/weapons/{w.weapons['pistol']}/inspections",
                {"positions": pos, "barrel_clear": True, "magazine_checked": True,
                 "magazine_rounds": mag, "lot": w.lots["blanks9"], "scene": w.scenes["hot"]})
    assert r.status_code == 200, r.text
    ins = r.json()["events"][0]["payload"]["inspection"]
    for who in ("alex", "ad"):
        r = aw.post("armorer", f"/inspections/{ins}/witnesses",
                    {"witness": w.people[who], "pin": w.pins[who]})
        assert r.status_code == 200, r.text
    r = aw.post("armorer", f"/weapons/{w.weapons['pistol']}/issue",
                {"performer": w.people["alex"], "scene": w.scenes["hot"]})
    assert r.status_code == 200, r.text
    for key in ("grounded", "evidence"):
        r = aw.post("armorer", "/weapons", {
            "serial": f"{key.upper()}-1", "make": "Colt", "model": "SAA", "calibre": ".45 Colt",
            "kind": "firearm", "chambers": 6, "magazine_capacity": 0,
            "storage": w.storage["safe"]})
        assert r.status_code == 200, r.text
        w.weapons[key] = r.json()["events"][0]["payload"]["weapon"]
    r = aw.post("armorer", f"/weapons/{w.weapons['grounded']}/grounding", {
        "reason": "Cylinder does not lock up", "armorer": w.people["armorer"],
        "armorer_pin": w.pins["armorer"], "supervisor": w.people["supervisor"],
        "supervisor_pin": w.pins["supervisor"]})
    assert r.status_code == 200, r.text
    r = aw.post("armorer", "/incidents", {"kind": "other", "description": "Round found loose",
                                          "weapons": [w.weapons["evidence"]]})
    assert r.status_code == 200, r.text
    w.incident = next(e["payload"]["incident"] for e in r.json()["events"]
                      if e["type"] == "incident.opened")
    # A rental house and a delivery of one accessory, not yet checked in.
    r = aw.post("armorer", "/vendors", {"name": "Stembridge Gun Rentals", "kind": "rental_house"})
    assert r.status_code == 200, r.text
    w.vendor = r.json()["events"][0]["payload"]["vendor"]
    r = aw.post("armorer", "/receipts", {"vendor": w.vendor, "manifest": [
        {"kind": "accessory", "description": "Holster"}]})
    assert r.status_code == 200, r.text
    w.receipt = r.json()["events"][0]["payload"]["receipt"]
    (folder / "manifest.json").write_text(
        '[{"kind": "accessory", "description": "Cleaning kit"}]', encoding="utf-8")
    w.manifest_file = str(folder / "manifest.json")


def _trace(events: list[Any]) -> list[tuple[Any, ...]]:
    """What an investigator compares: type, actor, subject, codes, every subject."""
    return [(e.type, e.actor, e.payload.get("action"), e.payload.get("subject"),
             tuple(e.payload.get("codes") or ()), tuple(e.payload.get("subjects") or ()))
            for e in events]


def _new(store: Store, production: str, before: int) -> list[Any]:
    return list(store.events(production))[before:]


def test_every_custody_action_is_refused_alike_through_every_door(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    s = backend_settings
    env = {"COLDCHECK_KEY_DIR": str(s.key_dir), "COLDCHECK_ARGON2_PROFILE": s.argon2_profile}
    with api_world(store, s, clock) as aw:
        _prepare(aw, Path(s.key_dir).parent)
        seen_actions = set()
        for who in ROLES:
            csrf = web_sign_in(aw, who)
            for case in CASES:
                seen_actions.add(case.action)
                traces: dict[str, list[tuple[Any, ...]]] = {}
                codes: dict[str, str] = {}
                # The API: 409 with the rule's code.
                before = len(list(store.events(aw.production)))
                path, body = case.api(aw, who)
                r = aw.post(who, path, body)
                where = f"{case.action} by {who} through the API"
                assert r.status_code == 409, f"{where}: {r.status_code} {r.text[:300]}"
                codes["api"] = r.json()["code"]
                traces["api"] = _trace(_new(store, aw.production, before))
                # The CLI: exit 3 (a rule refused it) with the same code.
                before = len(list(store.events(aw.production)))
                res = runner.invoke(cli_app, [*cli_args(case, aw, who), "--db",
                                              s.database_url, "--production", aw.production,
                                              "--json"], env=env)
                where = f"{case.action} by {who} through the CLI"
                assert res.exit_code == 3, f"{where}: {res.exit_code} {res.output[:300]}"
                codes["cli"] = json.loads(res.output)["error"]["code"]
                traces["cli"] = _trace(_new(store, aw.production, before))
                # The tablet: the real form, 409 with the rule's code in plain words.
                if case.web is not None:
                    before = len(list(store.events(aw.production)))
                    wpath, form = case.web(aw, who)
                    r = aw.client.post(f"/p/{aw.production}{wpath}", follow_redirects=False,
                                       data={"csrf_token": csrf, "idem": secrets.token_hex(8),
                                             **form})
                    where = f"{case.action} by {who} on the tablet"
                    assert r.status_code == 409, f"{where}: {r.status_code} {r.text[:300]}"
                    assert case.code in r.text, where
                    codes["web"] = case.code
                    traces["web"] = _trace(_new(store, aw.production, before))
                assert set(codes.values()) == {case.code}, (case.action, who, codes)
                first = traces["api"]
                assert len(first) == 1 and first[0][0] in REFUSALS, (case.action, who, first)
                assert first[0][1] == aw.person(who), (case.action, who, first)
                assert case.code in first[0][4], (case.action, who, first)
                for door, trace in traces.items():
                    assert trace == first, (case.action, who, door, trace, first)
        assert seen_actions == {c.action for c in CASES}


def test_the_contract_covers_every_ruled_action_or_says_where_it_is_covered() -> None:
    """A new custody action must join the contract (or the list of PIN-signed ones)."""
    from coldcheck.services.permissions import RULED

    pin_signed = {"inspection.witness", "weapon.ground", "incident.close",
                  # the caller's own PIN signs these: covered in test_rental_doors.py
                  "receipt.sign", "vendor.return",
                  # needs a kit piece noted missing first: test_rental_doors.py
                  "accessory.found"}
    assert {c.action for c in CASES} | pin_signed == RULED


@pytest.mark.parametrize("who", ["props", "ad"])
def test_a_refused_handoff_through_the_cli_names_the_person_who_tried(
        sqlite_store: Store, settings: Settings, clock: Any, who: str) -> None:
    with api_world(sqlite_store, settings, clock) as aw:
        before = len(list(sqlite_store.events(aw.production)))
        res = runner.invoke(cli_app, [*cli_args(HANDOFF, aw, who), "--db",
                                      settings.database_url, "--json"],
                            env={"COLDCHECK_KEY_DIR": str(settings.key_dir)})
        assert res.exit_code == 3, res.output
        new = _new(sqlite_store, aw.production, before)
        assert [e.type for e in new] == ["weapon.handoff_refused"]
        assert new[0].actor == aw.person(who)
