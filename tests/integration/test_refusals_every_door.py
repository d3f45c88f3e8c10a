"""Issue 19 part 1: a member whose role may not do a custody action reaches the
rule engine through the API, gets the rule's code (409, as every rule refusal)
and the attempt is recorded with the device, exactly as from the CLI. The
administration actions stay permissions (403, nothing recorded)."""

from __future__ import annotations

from typing import Any

from api_support import api_world

from coldcheck.config import Settings
from coldcheck.persistence.store import Store


def _events(store: Store, production: str) -> list[Any]:
    return list(store.events(production))


def test_the_first_ad_declaring_a_gun_cold_is_refused_by_the_rule_and_recorded(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        w = aw.world
        weapon = w.weapons["revolver"]
        pos, mag = w.positions("revolver")
        before = len(_events(store, aw.production))
        r = aw.post("ad", f"/weapons/{weapon}/inspections",
                    {"positions": pos, "barrel_clear": True, "magazine_checked": True,
                     "magazine_rounds": mag, "scene": w.scenes["cold"]})
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "CUSTODY_ARMORER_ONLY"
        new = _events(store, aw.production)[before:]
        assert [e.type for e in new] == ["action.refused"]
        e = new[0]
        assert e.actor == w.people["ad"] and e.device == f"device:{aw.device}"
        assert e.payload["action"] == "weapon.inspect"
        assert e.payload["subject"] == f"weapon:{weapon}"
        assert "CUSTODY_ARMORER_ONLY" in e.payload["codes"]

        before = len(_events(store, aw.production))
        r = aw.post("ad", f"/weapons/{weapon}/issue",
                    {"performer": w.people["alex"], "scene": w.scenes["cold"]})
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "CUSTODY_ARMORER_ONLY"
        new = _events(store, aw.production)[before:]
        assert len(new) == 1 and new[0].actor == w.people["ad"]
        assert new[0].device == f"device:{aw.device}"


def test_administration_stays_a_permission_and_non_members_see_nothing(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        before = len(_events(store, aw.production))
        r = aw.post("ad", "/storage", {"name": "Cart 9", "kind": "cart"})
        assert r.status_code == 403 and r.json()["code"] == "ACTION_FORBIDDEN"
        r = aw.client.post(aw.url("/devices"), json={"name": "x"},
                           headers=aw.h("ad", device=False))
        assert r.status_code == 403 and r.json()["code"] == "ACTION_FORBIDDEN"
        assert len(_events(store, aw.production)) == before


def test_the_tablet_shows_the_rule_refusal_in_plain_words_and_records_it(
        sqlite_store: Store, settings: Settings, clock: Any) -> None:
    import secrets

    from test_web_beside_api import web_sign_in

    with api_world(sqlite_store, settings, clock) as aw:
        w = aw.world
        weapon = w.weapons["revolver"]
        csrf = web_sign_in(aw, "ad")
        before = len(_events(sqlite_store, aw.production))
        form = {"csrf_token": csrf, "idem": secrets.token_hex(8), "barrel_clear": "1",
                "scene": w.scenes["cold"], **{f"pos{i}": "empty" for i in range(6)}}
        r = aw.client.post(f"/p/{aw.production}/weapons/{weapon}/inspect", data=form,
                           follow_redirects=False)
        assert r.status_code == 409, r.text[:500]
        assert "CUSTODY_ARMORER_ONLY" in r.text and "Call the armorer" in r.text
        new = _events(sqlite_store, aw.production)[before:]
        assert [e.type for e in new] == ["action.refused"]
        assert new[0].actor == w.people["ad"] and new[0].device == f"device:{aw.device}"
