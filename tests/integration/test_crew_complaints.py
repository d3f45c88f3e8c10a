"""Safety complaints from crew without an account (issue 15, part 5), on both
backends: the service (services/complaints.py), and the tablet app's pages
through Starlette's TestClient on the composed app.

* a complaint received on the cart tablet or through the QR poster is a
  complaint like a filed one: numbered C<n>, on the board's alerts and the
  daily report until acknowledged, acknowledged the same way (by badge + PIN
  on the armorer's session too);
* anonymous means nothing about the person is recorded; the tablet's session
  holder is neither the actor nor named in the device;
* the poster's page works without sign-in, at a secret address that a new
  poster or a revocation retires (404 COMPLAINT_PAGE_UNKNOWN), with a form
  token (CSRF_FAILED) and a limit per address (429 COMPLAINT_RATE_LIMITED);
* the ledger still verifies (the state row, the projections) and replays.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

import pytest
from api_support import ApiWorld, api_world
from helpers import build_world
from test_web_beside_api import web_sign_in

from coldcheck.config import Settings
from coldcheck.documents.daily import daily_report
from coldcheck.documents.pdf import render_html
from coldcheck.domain.errors import ColdcheckError
from coldcheck.domain.production import alerts
from coldcheck.domain.state import ProductionState
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services import complaints as cs
from coldcheck.services.context import Context
from coldcheck.services.verify import verify_ledger


def tablet_ctx(w: Any, device: str = "device:dev-0123456789") -> Context:
    return Context(store=w.ctx.store, production=w.production, settings=w.ctx.settings,
                   device=device, clock=w.ctx.clock, ph=w.ctx.ph)


def test_a_complaint_received_on_the_tablet_is_a_complaint_like_any_other(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    w = build_world(store, backend_settings, clock)
    p = w.people
    ctx = tablet_ctx(w, "device:dev-0123456789;session:" + p["armorer"])
    anon = cs.receive_complaint(ctx, text="Smoke machine blocks the exit", via="tablet")
    named = cs.receive_complaint(ctx, text="No ear protection at video village",
                                 name="Sam Ruiz", role="grip", via="tablet")
    e = anon[0]
    assert e.type == "complaint.received" and e.actor == cs.CREW
    assert e.payload == {"complaint": e.payload["complaint"],
                         "text": "Smoke machine blocks the exit", "name": "", "role": "",
                         "via": "tablet", "device": "device:dev-0123456789"}
    assert named[0].payload["name"] == "Sam Ruiz" and named[0].payload["role"] == "grip"
    ids = [str(anon[0].payload["complaint"]), str(named[0].payload["complaint"])]
    assert all(re.fullmatch(r"C\d+", i) for i in ids)
    st = w.state()
    assert st.complainant(st.complaints[ids[0]]) == "anonymous (no account, cart tablet)"
    assert st.complainant(st.complaints[ids[1]]) == "Sam Ruiz, grip (no account, cart tablet)"
    # On the board's alerts until acknowledged, then gone.
    now = datetime.fromisoformat("2026-11-24T23:00:00+00:00")
    assert {x["subject"] for x in alerts(st, now)} >= {f"complaint:{i}" for i in ids}
    # In the daily report's complaints sections (open, and filed this day).
    report = daily_report(w.ctx, day="2026-11-24", sign=False)
    opened = {c["id"]: c for c in report.complaints_open}
    assert opened[ids[1]]["by"] == "Sam Ruiz, grip (no account, cart tablet)"
    assert {c["id"] for c in report.complaints_day if c["what"] == "filed"} >= set(ids)
    html = render_html(report)
    assert "Sam Ruiz, grip (no account, cart tablet)" in html
    assert "anonymous (no account, cart tablet)" in html
    # Acknowledged exactly like a filed one.
    a.acknowledge_complaint(w.ctx, complaint=ids[0], by=p["supervisor"], response="Moved it")
    with pytest.raises(ColdcheckError) as err:
        a.acknowledge_complaint(w.ctx, complaint=ids[0], by=p["producer"], response="again")
    assert err.value.code == "ALREADY_ACKNOWLEDGED"
    st = w.state()
    assert f"complaint:{ids[0]}" not in {x["subject"] for x in alerts(st, now)}
    assert st.complaints[ids[0]].acknowledged_by == p["supervisor"]
    # A person's id as a name would file it in their timeline: refused.
    with pytest.raises(ColdcheckError) as err:
        cs.receive_complaint(ctx, text="x", name=p["ad"], via="tablet")
    assert err.value.code == "INVALID_INPUT"
    r = verify_ledger(w.ctx)
    assert r.ok, r.failures
    replayed = ProductionState.replayed(w.production, store.events(w.production))
    assert replayed.meta() == store.state(w.production).meta()
    assert replayed.received == st.received and set(replayed.received) == set(ids)


def test_the_poster_token_works_until_the_poster_is_replaced_or_revoked(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        w, p = aw.world, aw.world.people
        state = aw.app.state.coldcheck
        with pytest.raises(ColdcheckError) as err:
            cs.issue_poster(w.ctx, by=p["armorer"])
        assert err.value.code == "ROLE_REQUIRED"
        first = cs.issue_poster(w.ctx, by=p["supervisor"])[0]
        assert first.type == "complaint.poster_issued" and first.payload["poster"] == "QR1"
        poster = cs.active_poster(w.state())
        assert poster is not None
        token = cs.poster_token(state.secret, w.production, poster)
        assert token not in str(first.payload)  # derived, never recorded
        assert cs.find_poster(state, token) == (w.production, "QR1")
        got = cs.receive_by_poster(state, token=token, remote="10.0.0.9", text="Live round?",
                                   name="", role="")[0]
        assert got.payload["via"] == "poster" and got.payload["device"] == ""
        assert got.device == "poster:QR1" and got.actor == cs.CREW
        for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "", "x" * 400):
            with pytest.raises(ColdcheckError) as err:
                cs.find_poster(state, bad)
            assert err.value.code == "COMPLAINT_PAGE_UNKNOWN" and err.value.kind == "not_found"
        # A new poster retires the old one at once.
        cs.issue_poster(w.ctx, by=p["producer"])
        with pytest.raises(ColdcheckError) as err:
            cs.receive_by_poster(state, token=token, remote="10.0.0.9", text="again",
                                 name="", role="")
        assert err.value.code == "COMPLAINT_PAGE_UNKNOWN"
        second = cs.poster_token(state.secret, w.production, cs.active_poster(w.state()) or {})
        assert second != token
        cs.revoke_poster(w.ctx, by=p["supervisor"])
        with pytest.raises(ColdcheckError) as err:
            cs.find_poster(state, second)
        assert err.value.code == "COMPLAINT_PAGE_UNKNOWN"
        with pytest.raises(ColdcheckError) as err:
            cs.revoke_poster(w.ctx, by=p["supervisor"])
        assert err.value.code == "POSTER_NOT_ACTIVE"
        r = verify_ledger(w.ctx)
        assert r.ok, r.failures


def test_posts_to_the_poster_page_are_limited_per_address(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        w, p = aw.world, aw.world.people
        state = aw.app.state.coldcheck
        cs.issue_poster(w.ctx, by=p["supervisor"])
        token = cs.poster_token(state.secret, w.production, cs.active_poster(w.state()) or {})
        limit = state.complaint_limiter.limit
        for i in range(limit):
            cs.receive_by_poster(state, token=token, remote="10.0.0.7", text=f"No. {i}",
                                 name="", role="")
        with pytest.raises(ColdcheckError) as err:
            cs.receive_by_poster(state, token=token, remote="10.0.0.7", text="one more",
                                 name="", role="")
        assert err.value.code == "COMPLAINT_RATE_LIMITED" and err.value.kind == "rate_limited"
        # Another address is not held back.
        cs.receive_by_poster(state, token=token, remote="10.0.0.8", text="mine", name="",
                             role="")


# ---- the web pages ------------------------------------------------------------------
def post(aw: ApiWorld, csrf: str, path: str, **form: str) -> Any:
    data = {"csrf_token": csrf, "idem": secrets.token_hex(8), **form}
    return aw.client.post(f"/p/{aw.production}/{path}", data=data, follow_redirects=False)


def test_the_tablet_page_files_it_for_someone_without_an_account(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        p = aw.world.people
        csrf = web_sign_in(aw, "armorer")
        page = aw.client.get(f"/p/{aw.production}/complaints/crew")
        assert page.status_code == 200 and "File a safety complaint" in page.text
        r = post(aw, csrf, "complaints/crew", text="Cable across the fire lane",
                 name="Kim", role="electric", anonymous="1")
        assert r.status_code == 303, r.text
        e = list(store.events(aw.production))[-1]
        assert e.type == "complaint.received" and e.actor == cs.CREW
        assert e.payload["name"] == "" and e.payload["role"] == ""  # anonymous wins
        assert e.device == f"device:{aw.device}" and p["armorer"] not in e.device
        shown = aw.client.get(r.headers["location"]).text
        assert f'class="ticket-number">{e.payload["complaint"]}<' in shown
        listed = aw.client.get(f"/p/{aw.production}/complaints").text
        assert "anonymous (no account, cart tablet)" in listed
        # The supervisor acknowledges it by badge + PIN on the armorer's session.
        complaint = str(e.payload["complaint"])
        r = post(aw, csrf, f"complaints/{complaint}/acknowledge", response="Cable moved",
                 act_as="BADGE-SUPERVISOR", act_pin=aw.world.pins["supervisor"])
        assert r.status_code == 303, r.text
        ack = list(store.events(aw.production))[-1]
        assert ack.type == "complaint.acknowledged" and ack.payload["complaint"] == complaint
        assert ack.actor == p["supervisor"]


def test_the_public_page_needs_no_account_and_refuses_what_it_should(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        state = aw.app.state.coldcheck
        cs.issue_poster(aw.world.ctx, by=aw.world.people["producer"])
        token = cs.poster_token(state.secret, aw.production,
                                cs.active_poster(aw.world.state()) or {})
        c = aw.client
        assert c.get("/complaint/not-a-token").status_code == 404
        r = c.get(f"/complaint/{token}")
        assert r.status_code == 200 and "Rules test production" in r.text
        form_token = c.cookies.get("coldcheck_complaint")
        assert form_token
        r = c.post(f"/complaint/{token}", data={"text": "Gun left on a chair",
                                                "form_token": "wrong"})
        assert r.status_code == 403 and "CSRF_FAILED" in r.text
        r = c.post(f"/complaint/{token}", data={"text": "Gun left on a chair", "name": "Ana",
                                                "role": "PA", "form_token": form_token})
        assert r.status_code == 200, r.text
        e = list(store.events(aw.production))[-1]
        assert e.payload["name"] == "Ana" and e.payload["via"] == "poster"
        assert f'class="ticket-number">{e.payload["complaint"]}<' in r.text
        r = c.post("/complaint/not-a-token", data={"text": "x", "form_token": form_token})
        assert r.status_code == 404 and "COMPLAINT_PAGE_UNKNOWN" in r.text
        # Past the limit per address: 429, with Retry-After (every post above counted).
        for _ in range(state.complaint_limiter.limit):
            r = c.post(f"/complaint/{token}", data={"text": "again", "form_token": form_token})
        assert r.status_code == 429 and "COMPLAINT_RATE_LIMITED" in r.text
        assert int(r.headers["retry-after"]) > 0


def test_the_poster_is_made_and_revoked_by_the_supervisor_on_the_armorers_session(
        store: Store, backend_settings: Settings, clock: Any) -> None:
    with api_world(store, backend_settings, clock) as aw:
        p = aw.world.people
        csrf = web_sign_in(aw, "armorer")
        before = store.head(aw.production)
        # The armorer's own roles may not make one: refused, nothing recorded.
        r = post(aw, csrf, "complaints/poster")
        assert r.status_code == 403 and "ACTION_FORBIDDEN" in r.text
        assert store.head(aw.production) == before
        page = aw.client.get(f"/p/{aw.production}/complaints/poster").text
        assert "No QR complaint poster is in use" in page
        r = post(aw, csrf, "complaints/poster", act_as="BADGE-SUPERVISOR",
                 act_pin=aw.world.pins["supervisor"])
        assert r.status_code == 303, r.text
        e = list(store.events(aw.production))[-1]
        assert e.type == "complaint.poster_issued" and e.actor == p["supervisor"]
        assert e.payload["by"] == p["supervisor"]
        page = aw.client.get(f"/p/{aw.production}/complaints/poster").text
        url = re.search(r"https://testserver/complaint/[A-Za-z0-9_-]{32}", page)
        assert url is not None and "<svg" in page
        assert aw.client.get(url.group(0)).status_code == 200
        r = post(aw, csrf, "complaints/poster/revoke", act_as="BADGE-PRODUCER",
                 act_pin=aw.world.pins["producer"])
        assert r.status_code == 303, r.text
        assert list(store.events(aw.production))[-1].type == "complaint.poster_revoked"
        assert aw.client.get(url.group(0)).status_code == 404
        # Nothing left to revoke: the stable code, nothing recorded.
        head = store.head(aw.production)
        r = post(aw, csrf, "complaints/poster/revoke", act_as="BADGE-PRODUCER",
                 act_pin=aw.world.pins["producer"])
        assert r.status_code == 409 and "POSTER_NOT_ACTIVE" in r.text
        assert store.head(aw.production) == head
