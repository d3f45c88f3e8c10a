"""Safety complaints from crew without an account (issue 15, part 5).

Two doors, one event (``complaint.received``), one complaint like any filed one
(numbered ``C<n>``, on the board and the daily report until acknowledged,
acknowledged as ``complaint.acknowledged``):

* **the cart tablet**: the page "File a safety complaint" on the armorer's
  signed-in, registered tablet (web action ``complaint.file``). The complaint
  is not the session holder's: the actor is :data:`CREW`, the device the
  tablet's ``device:<id>`` (without the session holder: it is not theirs);
* **the QR poster**: a public page, ``/complaint/<token>``, that needs no
  sign-in. ``<token>`` is derived from the production's last
  ``complaint.poster_issued`` (its random nonce) with the server's secret
  (HMAC-SHA256, :func:`poster_token`): it is never stored, compared in
  constant time, and stops working when the poster is revoked or replaced (a
  new one issued). Posts to it are limited per client address
  (``COMPLAINT_RATE_LIMITED``); the events say ``poster:<id>`` as device.

Anonymous means empty ``name`` and ``role``: nothing about the person is
recorded, and the page's copy says so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from datetime import datetime
from typing import Any

from ..domain import production as prod
from ..domain.errors import UnknownPage
from ..domain.events import Event
from ..domain.state import ProductionState
from .authorise import AppState
from .context import Context
from .core import execute

log = logging.getLogger("coldcheck")
CREW = "crew"  # the actor of a complaint received without an account
TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters


def poster_token(secret: bytes, production: str, poster: dict[str, Any]) -> str:
    """The public page's secret path segment for ``poster`` (a ``ProductionState.poster``)."""
    msg = "\0".join(("coldcheck complaint poster", production, str(poster["poster"]),
                     str(poster["nonce"]))).encode()
    mac = hmac.new(secret, msg, hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def active_poster(st: ProductionState) -> dict[str, Any] | None:
    p = st.poster
    return dict(p) if p is not None and p["revoked_at"] is None else None


def _unknown() -> UnknownPage:
    return UnknownPage("COMPLAINT_PAGE_UNKNOWN", "there is no complaint page at this address: "
                       "it was mistyped, or its poster was revoked or replaced")


def find_poster(state: AppState, token: str) -> tuple[str, str]:
    """The production and poster id whose current poster's token is ``token``,
    else COMPLAINT_PAGE_UNKNOWN (kind not_found: answered 404)."""
    sent = token.encode("utf-8", "replace")
    found: tuple[str, str] | None = None
    for row in state.store.productions():
        rep = state.reads.get(str(row["id"]))
        with rep.lock:
            poster = active_poster(rep.state)
        if poster is None:
            continue
        want = poster_token(state.secret, str(row["id"]), poster).encode()
        if hmac.compare_digest(want, sent) and found is None:
            found = (str(row["id"]), str(poster["poster"]))
    if found is None:
        raise _unknown()
    return found


def receive_complaint(ctx: Context, *, text: str, name: str = "", role: str = "",
                      via: str, poster: str | None = None,
                      at: datetime | None = None) -> list[Event]:
    """Record a complaint from someone without an account (``complaint.received``).
    From the tablet, ``ctx.device`` is the tablet's ``device:<id>``; from the
    poster page, ``poster`` must still be the production's current poster when
    the decision runs (else COMPLAINT_PAGE_UNKNOWN, nothing recorded)."""
    when = ctx.now(at)
    device = ctx.device.split(";")[0] if via == "tablet" else ""

    def decide(s: ProductionState) -> list[Any]:
        if via == "poster":
            current = active_poster(s)
            if current is None or current["poster"] != poster:
                raise _unknown()
        return prod.receive_complaint(s, text_=text, name=name, role=role, via=via,
                                      device=device)

    return execute(ctx, decide, actor=CREW, at=when)


def receive_by_poster(state: AppState, *, token: str, remote: str, text: str, name: str,
                      role: str) -> list[Event]:
    """The public page's post: counted against ``remote`` first (every post, a bad
    address too), then the token, then the complaint, recorded with device
    ``poster:<id>``."""
    state.complaint_limiter.spend(remote)
    production, poster = find_poster(state, token)
    ctx = Context(store=state.store, production=production, settings=state.settings,
                  device=f"poster:{poster}", clock=state.clock, ph=state.ph)
    events = receive_complaint(ctx, text=text, name=name, role=role, via="poster",
                               poster=poster)
    try:
        state.hub.notify(production)
    except Exception as exc:  # the complaint stands: the streams catch up on their own
        log.error("live streams not woken for %s", production, exc_info=exc)
    return events


def issue_poster(ctx: Context, *, by: str, at: datetime | None = None) -> list[Event]:
    """A new QR complaint poster, by the producer or the safety supervisor; the
    one before it stops working."""
    nonce = secrets.token_hex(16)
    return execute(ctx, lambda s: prod.issue_poster(s, by=by, nonce=nonce), actor=by,
                   at=ctx.now(at))


def revoke_poster(ctx: Context, *, by: str, at: datetime | None = None) -> list[Event]:
    """Revoke the QR complaint poster (POSTER_NOT_ACTIVE if none is in use)."""
    return execute(ctx, lambda s: prod.revoke_poster(s, by=by), actor=by, at=ctx.now(at))
