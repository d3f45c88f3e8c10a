"""Acting by badge + PIN on the cart tablet's session (issue 15, part 1), through
the tablet app's forms (Starlette's TestClient on the composed app), on both
backends: the armorer is signed in on the registered tablet; the 1st AD and the
safety supervisor act on it with their own badge and PIN.

* the event's actor is the PIN holder; its device names the tablet and the
  session holder (``device:<id>;session:<person>``);
* the matrix is read for the PIN holder's roles, not the session holder's, and
  before any PIN is checked (a performer's badge cannot guess a PIN through an
  action a performer may not do);
* custody actions keep their rules: nobody issues a weapon by PIN;
* wrong PINs are recorded and five lock the PIN, as for witnesses;
* without a registered device nothing is recorded (DEVICE_REQUIRED).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from api_support import ApiWorld, api_world
from test_web_beside_api import web_sign_in

from coldcheck.config import Settings
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a


def events(store: Store, production: str) -> list[Any]:
    return list(store.events(production))


def post(aw: ApiWorld, csrf: str, path: str, **form: str) -> Any:
    data = {"csrf_token": csrf, "idem": secrets.token_hex(8), **form}
    return aw.client.post(f"/p/{aw.production}/{path}", data=data, follow_redirects=False)


def problem_code(html: str) -> str | None:
    m = re.search(r"\b([A-Z]+(?:_[A-Z]+)+)\b", html)
    return m.group(1) if m else None


def test_the_supervisor_acknowledges_a_complaint_on_the_armorers_session(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        w, p = aw.world, aw.world.people
        c = a.file_complaint(w.ctx, by=p["alex"], text="Cart left open at lunch")
        complaint = str(c[0].payload["complaint"])
        csrf = web_sign_in(aw, "armorer")
        before = len(events(store, aw.production))
        # The armorer's own roles cannot acknowledge a complaint.
        r = post(aw, csrf, f"complaints/{complaint}/acknowledge", response="closed it")
        assert r.status_code == 403 and "ACTION_FORBIDDEN" in r.text
        # The supervisor, by badge + PIN, on the armorer's session.
        r = post(aw, csrf, f"complaints/{complaint}/acknowledge", response="Cart locked now",
                 act_as="BADGE-SUPERVISOR", act_pin=w.pins["supervisor"])
        assert r.status_code == 303, r.text
        new = events(store, aw.production)[before:]
        assert [e.type for e in new] == ["complaint.acknowledged"]
        e = new[0]
        assert e.actor == p["supervisor"] and e.payload["by"] == p["supervisor"]
        assert e.device == f"device:{aw.device};session:{p['armorer']}"
        # The page shows it as the supervisor's answer.
        page = aw.client.get(f"/p/{aw.production}/complaints").text
        assert "Answer from Lee Okafor: Cart locked now" in page


def test_the_first_ad_acknowledges_pointing_and_a_performer_badge_is_refused_unchecked(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        w, p = aw.world, aw.world.people
        scene = w.scenes["pointing"]
        csrf = web_sign_in(aw, "armorer")
        before = len(events(store, aw.production))
        # A performer's badge: the matrix refuses before the PIN is looked at, so a
        # wrong PIN records nothing.
        r = post(aw, csrf, f"scenes/{scene}/acknowledge", act_as="BADGE-ALEX", act_pin="0000")
        assert r.status_code == 403 and "ACTION_FORBIDDEN" in r.text
        assert len(events(store, aw.production)) == before
        # Unknown badge.
        r = post(aw, csrf, f"scenes/{scene}/acknowledge", act_as="BADGE-NOBODY", act_pin="1")
        assert r.status_code == 404 and len(events(store, aw.production)) == before
        r = post(aw, csrf, f"scenes/{scene}/acknowledge", act_as="BADGE-AD",
                 act_pin=w.pins["ad"])
        assert r.status_code == 303, r.text
        e = events(store, aw.production)[-1]
        assert (e.type, e.actor, e.payload["role"]) == (
            "scene.pointing_acknowledged", p["ad"], "first_ad")
        assert e.device == f"device:{aw.device};session:{p['armorer']}"


def test_custody_actions_keep_their_rules(store: Store, backend_settings: Settings,
                                          clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        w = aw.world
        csrf = web_sign_in(aw, "ad")
        before = len(events(store, aw.production))
        # The 1st AD's session, the armorer's badge and PIN: issuing is not an
        # action done by PIN on someone else's session.
        r = post(aw, csrf, f"weapons/{w.weapons['revolver']}/issue", act_as="BADGE-ARMORER",
                 act_pin=w.pins["armorer"], performer=w.people["alex"],
                 scene=w.scenes["cold"])
        assert r.status_code == 403 and "ACTION_FORBIDDEN" in r.text
        assert len(events(store, aw.production)) == before


def test_wrong_pins_are_recorded_and_lock_the_pin(store: Store, backend_settings: Settings,
                                                  clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        w, p = aw.world, aw.world.people
        c = a.file_complaint(w.ctx, by=p["alex"], text="Blanks box unlabelled")
        complaint = str(c[0].payload["complaint"])
        csrf = web_sign_in(aw, "armorer")
        before = len(events(store, aw.production))
        for i in range(5):
            r = post(aw, csrf, f"complaints/{complaint}/acknowledge", response="ok",
                     act_as="BADGE-SUPERVISOR", act_pin="0000")
            assert r.status_code in (400, 403, 422, 423), r.text
            assert ("PIN_LOCKED" if i == 4 else "PIN_INVALID") in r.text
        new = events(store, aw.production)[before:]
        assert [e.type for e in new] == ["person.pin_failed"] * 5 + ["person.pin_locked"]
        assert all(e.actor == p["supervisor"] for e in new)
        assert new[0].device == f"device:{aw.device};session:{p['armorer']}"
        # Locked: even the right PIN is refused now, and nothing is acknowledged.
        r = post(aw, csrf, f"complaints/{complaint}/acknowledge", response="ok",
                 act_as="BADGE-SUPERVISOR", act_pin=w.pins["supervisor"])
        assert "PIN_LOCKED" in r.text
        assert "complaint.acknowledged" not in [e.type for e in events(store, aw.production)]


def test_acting_needs_the_registered_tablet(store: Store, backend_settings: Settings,
                                            clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        w = aw.world
        c = a.file_complaint(w.ctx, by=w.people["alex"], text="x")
        complaint = str(c[0].payload["complaint"])
        csrf = web_sign_in(aw, "armorer")
        aw.client.cookies.delete("coldcheck_device", path=f"/p/{aw.production}/")
        before = len(events(store, aw.production))
        r = post(aw, csrf, f"complaints/{complaint}/acknowledge", response="ok",
                 act_as="BADGE-SUPERVISOR", act_pin=w.pins["supervisor"])
        assert r.status_code == 403 and "DEVICE_REQUIRED" in r.text
        assert len(events(store, aw.production)) == before
