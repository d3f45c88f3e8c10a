"""Issue 16 part 1: who may lawfully handle which weapons, on SQLite and PostgreSQL.

A property master with a permit covering the weapon's class handles it like an
armorer (inspects, issues, takes it back), through the API and the CLI; a
stand-in is issued a weapon like a performer, with the same witnessing; the
board warns 30 and 7 days before a credential expires; recording a credential
is the producer's or the safety supervisor's, never the holder's.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from api_support import api_world
from test_web_beside_api import web_sign_in
from typer.testing import CliRunner

from coldcheck.cli.app import app as cli_app
from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services import queries

runner = CliRunner()


def _types(store: Store, production: str, before: int) -> list[str]:
    return [e.type for e in list(store.events(production))[before:]]


def test_a_credentialed_prop_master_issues_a_handgun_to_a_stand_in_through_the_api(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        w = aw.world
        props, revolver = w.people["props"], w.weapons["revolver"]
        # A stand-in joins, is briefed, is planned in a scene and attends its meeting.
        ev = a.add_person(w.ctx, name="Sam Double", roles=["stand_in"], badge="B-STAND",
                          pin="2468", actor=w.people["producer"])
        stand = str(ev[0].payload["person"])
        w.people["stand"], w.pins["stand"] = stand, "2468"
        a.brief(w.ctx, person=stand, briefed_by=w.people["supervisor"], topic="Weapons safety")
        w.plan("double", weapons=["revolver"], performers=["stand"])
        w.hold_meeting(["double"], attendees=["armorer", "props", "ad", "stand", "supervisor"])
        # Only the producer or the safety supervisor records the permit.
        body = {"type": "entertainment_firearms_permit", "issuer": "California DOJ",
                "number": "EFP-2291", "classes": ["handgun"], "expires": "2031-06-30"}
        r = aw.post("props", f"/people/{props}/credentials", body)
        assert r.status_code == 403 and r.json()["code"] == "ACTION_FORBIDDEN", r.text
        r = aw.post("producer", f"/people/{props}/credentials", body)
        assert r.status_code == 200, r.text
        assert r.json()["events"][0]["payload"]["classes"] == ["handgun"]
        # An unclassified firearm is refused to the prop master, and the refusal recorded.
        pos, _mag = w.positions("revolver")
        inspect = {"positions": pos, "barrel_clear": True, "magazine_checked": True,
                   "scene": w.scenes["double"]}
        before = len(list(store.events(aw.production)))
        r = aw.post("props", f"/weapons/{revolver}/inspections", inspect)
        assert r.status_code == 409 and r.json()["code"] == "CUSTODY_CREDENTIAL_NOT_COVERED"
        assert _types(store, aw.production, before) == ["action.refused"]
        # The armorer records the class; only an armorer may.
        r = aw.post("props", f"/weapons/{revolver}/class", {"weapon_class": "handgun"})
        assert r.status_code == 403, r.text
        r = aw.post("armorer", f"/weapons/{revolver}/class", {"weapon_class": "handgun"})
        assert r.status_code == 200 and r.json()["events"][0]["type"] == "weapon.classified"
        r = aw.post("props", f"/weapons/{revolver}/inspections", inspect)
        assert r.status_code == 200, r.text
        ins = r.json()["events"][0]["payload"]["inspection"]
        # The stand-in confirms as the one who receives it, the 1st AD as witness.
        for who in ("stand", "ad"):
            r = aw.post("props", f"/inspections/{ins}/witnesses",
                        {"witness": w.people[who], "pin": w.pins[who]})
            assert r.status_code == 200, r.text
        assert r.json()["events"][0]["payload"]["role"] == "first_ad"
        r = aw.post("props", f"/weapons/{revolver}/issue",
                    {"performer": stand, "scene": w.scenes["double"]})
        assert r.status_code == 200, r.text
        assert r.json()["events"][0]["type"] == "weapon.issued"
        # The stand-in hands it back to the prop master (performer → handler).
        r = aw.post("props", f"/weapons/{revolver}/return", {"performer": stand})
        assert r.status_code == 200, r.text
        st = store.state(aw.production)
        assert st.weapon(revolver).state == "returned"
        assert st.weapon(revolver).custodian == props
        # A long gun is still not the prop master's: the permit covers handguns.
        r = aw.post("armorer", f"/weapons/{w.weapons['revolver2']}/class",
                    {"weapon_class": "long_gun"})
        assert r.status_code == 200
        r = aw.post("props", f"/weapons/{w.weapons['revolver2']}/inspections",
                    {**inspect, "positions": w.positions("revolver2")[0]})
        assert r.status_code == 409 and r.json()["code"] == "CUSTODY_CREDENTIAL_NOT_COVERED"
        assert "handgun, not long gun" in r.text
        # The tablet's person page lists the permit and what it covers.
        web_sign_in(aw, "armorer")
        page = aw.client.get(f"/p/{aw.production}/people/{props}")
        assert page.status_code == 200
        assert "Entertainment firearms permit EFP-2291" in page.text
        assert "covers handgun" in page.text and "Until 2031-06-30" in page.text


def test_the_cli_records_credentials_and_classes_and_refuses_the_holder(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    s = backend_settings
    env = {"COLDCHECK_KEY_DIR": str(s.key_dir), "COLDCHECK_ARGON2_PROFILE": s.argon2_profile}
    with api_world(store, s, clock) as aw:
        w = aw.world
        base = ["--db", s.database_url, "--production", aw.production, "--json"]
        cred = ["person", "credential", w.people["props"], "--type",
                "dangerous_weapons_permit", "--issuer", "California DOJ", "--number", "DWP-7",
                "--class", "long_gun", "--class", "full_auto", "--expires", "2031-01-01"]
        r = runner.invoke(cli_app, [*cred, "--by", w.people["props"], *base], env=env)
        assert r.exit_code == 2, r.output
        assert json.loads(r.output)["error"]["code"] == "ROLE_REQUIRED"
        r = runner.invoke(cli_app, [*cred, "--by", w.people["supervisor"], *base], env=env)
        assert r.exit_code == 0, r.output
        out = json.loads(r.output)
        payload = out[0]["payload"] if isinstance(out, list) else out["events"][0]["payload"]
        assert payload["classes"] == ["long_gun", "full_auto"]
        r = runner.invoke(cli_app, ["weapon", "classify", w.weapons["revolver"], "--class",
                                    "full_auto", "--armorer", w.people["armorer"], *base],
                          env=env)
        assert r.exit_code == 0, r.output
        r = runner.invoke(cli_app, ["inspect", w.weapons["revolver"], "--armorer",
                                    w.people["armorer"], "--all", "empty", "--barrel-clear",
                                    "--scene", w.scenes["cold"], *base], env=env)
        assert r.exit_code == 3, r.output  # the armorer holds no full-auto credential
        assert json.loads(r.output)["error"]["code"] == "CUSTODY_CREDENTIAL_NOT_COVERED"
        r = runner.invoke(cli_app, ["inspect", w.weapons["revolver"], "--armorer",
                                    w.people["props"], "--all", "empty", "--barrel-clear",
                                    "--scene", w.scenes["cold"], *base], env=env)
        assert r.exit_code == 0, r.output  # the prop master's permit covers full-auto
        cid = payload["credential"]
        r = runner.invoke(cli_app, ["person", "credential-revoke", w.people["props"], cid,
                                    "--reason", "Permit suspended", "--by",
                                    w.people["producer"], *base], env=env)
        assert r.exit_code == 0, r.output
        assert store.state(aw.production).credentials[w.people["props"]][cid]["revoked"] is True


def test_the_board_warns_thirty_and_seven_days_before_a_credential_expires(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        w = aw.world
        today = clock.t.date()
        expires = (today + timedelta(days=31)).isoformat()
        a.add_credential(w.ctx, person=w.people["props"], type_="entertainment_firearms_permit",
                         issuer="California DOJ", number="EFP-30", classes=["handgun"],
                         expires=expires, actor=w.people["producer"])

        def warned(days: int) -> list[str]:
            at = clock.t.replace(hour=12) + timedelta(days=days)
            board = queries.status(w.ctx, at=at)
            return [x["message"] for x in board["alerts"] if x["code"] == "CREDENTIAL_EXPIRING"]

        assert warned(0) == []  # 31 days left: not yet
        assert warned(1) == [f"Pat Moss's entertainment firearms permit EFP-30 (CR1) expires in "
                             f"30 days ({expires})"]
        assert "final notice: expires in 7 days" in warned(24)[0]
        assert "expires today" in warned(31)[0]
        assert "expired on" in warned(32)[0]
        # The API's board carries it too.
        r = aw.get("producer", "/status")
        assert r.status_code == 200
