"""The production's outgoing alert webhook (issue 15 part 3).

The producer points it at a URL with a secret; coldcheck then posts the alerts a
studio wants on its phones: an incident opened, an issued weapon overdue, a
safety complaint still unacknowledged 24 hours after it was filed.

Which alerts are due is read off the production's state (the record), never
written by the custody path: an inspection, an issue or a return never touches
the network nor these tables, so a dead receiver cannot slow or block one.
:func:`deliver` (the ``coldcheck serve`` background thread, or ``coldcheck
webhook deliver`` from cron) puts each due alert once in the outbox
(``webhook_deliveries``, keyed by the alert's id) and posts what is due, outside
any transaction, retrying with exponential backoff. Delivery is at least once:
the alert's id is in the body and in ``Coldcheck-Alert-Id``, the same at every
attempt, for the receiver to drop repeats. Failures show on the board
(``WEBHOOK_FAILING``).

Each post is signed like Stripe's: ``Coldcheck-Signature: t=<unix>,v1=<hex>``,
the hex HMAC-SHA256 under the secret of ``"<t>.<body>"``. The secret is kept in
``webhooks``, outside the record: the event (``production.webhook_set``) carries
its fingerprint only, and no answer, log line or error message carries it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import __version__
from ..config import Settings
from ..domain import production as prod
from ..domain.errors import InvalidInput
from ..domain.events import Event, parse_utc, utc_text
from ..domain.state import ProductionState
from ..persistence import tables as t
from ..persistence.store import Store
from .context import Context, utc_now
from .vouch import fingerprint

log = logging.getLogger("coldcheck.webhook")

SIGNATURE_HEADER = "Coldcheck-Signature"
ID_HEADER = "Coldcheck-Alert-Id"
TIMEOUT_S = 5.0  # one post; a receiver slower than this counts as failed
BACKOFF_FIRST_S = 30  # the wait after the first failure, doubled after each one
BACKOFF_CAP_S = 3600  # never more than an hour between tries
CLAIM_S = 60  # an attempt in progress: no other deliverer takes the alert meanwhile
COMPLAINT_WAIT = timedelta(hours=24)
SCAN_EVERY_S = 15.0  # the serve thread's round
PER_ROUND = 50  # posts per production and round at most
SECRET_MIN, SECRET_MAX = 16, 200


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_secret(secret: str) -> str:
    if not SECRET_MIN <= len(secret) <= SECRET_MAX or any(not "!" <= c <= "~" for c in secret):
        raise InvalidInput("INVALID_INPUT", f"a webhook secret is {SECRET_MIN} to {SECRET_MAX} "
                           "printable ASCII characters without spaces", field="secret")
    return secret


def secret_fingerprint(secret: str) -> str:
    return fingerprint("webhook", secret)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Coldcheck-Signature`` header value for ``body`` posted at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does (and the tests): recompute and compare."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(sign(secret, ts, body), f"t={ts},v1={parts.get('v1', '')}")


# ---- keeping the secret -----------------------------------------------------------
# With a master key (COLDCHECK_MASTER_KEY_FILE, the one that seals signing keys)
# the secret is kept sealed (AES-256-GCM, ledger.keys.seal_secret): a copy of the
# database does not give it away. Without one it is kept as it is, like the
# bearer of a token would be; the server must read it back to sign.
SEALED, PLAIN = "sealed:", "plain:"
PURPOSE = "webhook"


class SecretUnavailable(Exception):
    """The kept secret cannot be read (sealed, and the master key is missing or
    another): the posts are not signed, nor sent; the board says why."""


def keep_secret(settings: Settings, production: str, secret: str) -> str:
    if settings.master_key_file is None:
        return PLAIN + secret
    from ..ledger.keys import seal_secret
    from .ledger import master_key

    sealed = seal_secret(secret.encode(), master_key(settings), purpose=PURPOSE,
                         production=production)
    return SEALED + base64.b64encode(sealed).decode()


def read_secret(settings: Settings | None, production: str, kept: str) -> str:
    if kept.startswith(PLAIN):
        return kept[len(PLAIN):]
    if settings is None or settings.master_key_file is None:
        raise SecretUnavailable("the webhook secret is sealed: set COLDCHECK_MASTER_KEY_FILE "
                                "to the master key it was sealed with")
    from ..domain.errors import ColdcheckError
    from ..ledger.keys import SealedKeyError, unseal_secret
    from .ledger import master_key

    try:
        return unseal_secret(base64.b64decode(kept[len(SEALED):]), master_key(settings),
                             purpose=PURPOSE, production=production).decode()
    except (ColdcheckError, SealedKeyError, ValueError) as err:
        raise SecretUnavailable(f"the webhook secret does not open: {err}") from None


# ---- setting it ----------------------------------------------------------------
def set_webhook(ctx: Context, *, url: str, secret: str | None, actor: str,
                at: datetime | None = None) -> tuple[list[Event], str | None]:
    """The producer (``actor``) sets the webhook. Without ``secret`` one is
    generated and returned (show it once); with one, None is returned."""
    generated = secret is None
    secret = new_secret() if secret is None else check_secret(secret)
    when = ctx.now(at)
    with ctx.store.write(ctx.production) as tx:
        new = prod.set_webhook(tx.state, url=url, secret_fingerprint=secret_fingerprint(secret),
                               by=actor)
        events = tx.append(new, actor=actor, device=ctx.device, at=when)
        kept = keep_secret(ctx.settings, ctx.production, secret)
        ins = _insert(ctx.store)(t.webhooks).values(
            production_id=ctx.production, secret=kept, set_at=utc_text(when))
        tx.conn.execute(ins.on_conflict_do_update(
            index_elements=["production_id"], set_={"secret": kept,
                                                    "set_at": utc_text(when)}))
    return events, secret if generated else None


def clear_webhook(ctx: Context, *, actor: str, at: datetime | None = None) -> list[Event]:
    """The producer removes the webhook: the secret goes, and so do the alerts
    not yet delivered (nothing more is posted)."""
    when = ctx.now(at)
    with ctx.store.write(ctx.production) as tx:
        new = prod.clear_webhook(tx.state, by=actor)
        events = tx.append(new, actor=actor, device=ctx.device, at=when)
        tx.conn.execute(delete(t.webhooks).where(t.webhooks.c.production_id == ctx.production))
        d = t.webhook_deliveries
        tx.conn.execute(delete(d).where(d.c.production_id == ctx.production,
                                        d.c.delivered_at.is_(None)))
    return events


def _insert(store: Store) -> Any:
    return pg_insert if store.dialect == "postgresql" else sqlite_insert


# ---- what is due -----------------------------------------------------------------
@dataclass(frozen=True)
class Alert:
    id: str  # stable: the idempotency id
    kind: str  # incident_opened | weapon_overdue | complaint_unacknowledged
    subject: str
    since: str  # when it became due (UTC)
    message: str


def due_alerts(st: ProductionState, at: datetime) -> list[Alert]:
    """The alerts to post now, from the state alone. An incident is posted if it
    is open or was opened since the webhook was set; an overdue weapon once per
    issue; a complaint once it has waited 24 hours unacknowledged."""
    hook = st.webhook
    if hook is None:
        return []
    now = utc_text(at)
    out: list[Alert] = []
    for i in st.incidents.values():
        if i.open or i.opened_at >= hook["set_at"]:
            out.append(Alert(f"incident.opened:{i.id}", "incident_opened", f"incident:{i.id}",
                             i.opened_at, f"incident {i.id} ({i.kind}) opened: "
                                          f"{i.description}"))
    day = st.day()
    for w in st.weapons.values():
        if w.state == "issued" and w.due_at and (w.due_at < now or (day and day.meal_break)):
            since = min(w.due_at, now)
            who = st.people[w.custodian].name if w.custodian in st.people else w.custodian
            out.append(Alert(f"weapon.overdue:{w.id}:{w.issued_at}", "weapon_overdue",
                             f"weapon:{w.id}", since,
                             f"weapon {w.id} ({w.make} {w.model}) with {who} was due back at "
                             f"{w.due_at}"))
    for c in st.complaints.values():
        if c.acknowledged_at is None and parse_utc(c.filed_at) + COMPLAINT_WAIT <= at:
            out.append(Alert(f"complaint.unacknowledged:{c.id}", "complaint_unacknowledged",
                             f"complaint:{c.id}", utc_text(parse_utc(c.filed_at)
                                                           + COMPLAINT_WAIT),
                             f"complaint {c.id} filed at {c.filed_at} is not acknowledged "
                             "after 24 hours"))
    return out


def body_of(st: ProductionState, a: Alert) -> str:
    return json.dumps({"id": a.id, "production": st.production, "production_name": st.name,
                       "kind": a.kind, "subject": a.subject, "since": a.since,
                       "message": a.message}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


# ---- delivering -------------------------------------------------------------------
Post = Callable[[str, bytes, dict[str, str]], None]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kw: Any) -> None:
        return None  # a 3xx is a failure: the producer sets the final URL


_OPENER = urllib.request.build_opener(_NoRedirect)


def http_post(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST ``body``; return on a 2xx answer, raise otherwise."""
    if not url.lower().startswith(("http://", "https://")):  # set_webhook allows no other
        raise ValueError("not an http(s) URL")
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with _OPENER.open(req, timeout=TIMEOUT_S) as r:
        r.read(1024)


def describe_failure(err: BaseException) -> str:
    """A short reason that never carries the secret (headers are not in it)."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}".strip()
    if isinstance(err, urllib.error.URLError):
        reason = err.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return f"no answer within {TIMEOUT_S:g} s"
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused"
        return f"cannot connect: {reason}"[:300]
    if isinstance(err, TimeoutError):
        return f"no answer within {TIMEOUT_S:g} s"
    return f"{type(err).__name__}: {err}"[:300]


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed tries (1, 2, …): 30 s, 60 s, … an hour."""
    return timedelta(seconds=min(BACKOFF_FIRST_S * 2 ** max(attempts - 1, 0), BACKOFF_CAP_S))


def deliver(store: Store, settings: Settings | None = None, *, at: datetime | None = None,
            production: str | None = None,
            post: Post = http_post) -> dict[str, dict[str, int]]:
    """One round: for each production with a webhook (or just ``production``),
    queue the alerts newly due and post those whose next try has come. Returns
    per production how many were queued, delivered and failed. Never raises
    for a receiver's failure; it is recorded on the alert's row. ``settings``
    gives the master key a sealed secret needs."""
    out: dict[str, dict[str, int]] = {}
    with store.engine.connect() as c:
        q = select(t.webhooks.c.production_id, t.webhooks.c.secret)
        if production is not None:
            q = q.where(t.webhooks.c.production_id == production)
        hooks = [(str(p), str(s)) for p, s in c.execute(q)]
    for prod_id, kept in hooks:
        try:
            secret: str | SecretUnavailable = read_secret(settings, prod_id, kept)
        except SecretUnavailable as err:
            secret = err
        try:
            out[prod_id] = _deliver_one(store, prod_id, secret, at or utc_now(), post)
        except Exception:  # one production's trouble holds up no other's alerts
            log.exception("webhook round failed for %s", prod_id)
    return out


def _deliver_one(store: Store, production: str, secret: str | SecretUnavailable,
                 at: datetime, post: Post) -> dict[str, int]:
    st = store.state(production)
    counts = {"queued": 0, "delivered": 0, "failed": 0}
    if st.webhook is None:
        return counts
    url, now = st.webhook["url"], utc_text(at)
    d = t.webhook_deliveries
    with store.engine.connect() as c, c.begin():
        known = set(c.execute(select(d.c.alert_id).where(d.c.production_id == production))
                    .scalars())
        for a in due_alerts(st, at):
            if a.id in known:
                continue
            c.execute(_insert(store)(d).values(
                production_id=production, alert_id=a.id, kind=a.kind,
                payload=body_of(st, a), created_at=now, attempts=0,
                next_try_at=now).on_conflict_do_nothing())
            counts["queued"] += 1
    with store.engine.connect() as c:
        rows = c.execute(select(d.c.alert_id, d.c.payload, d.c.attempts, d.c.next_try_at)
                         .where(d.c.production_id == production, d.c.delivered_at.is_(None),
                                d.c.next_try_at <= now)
                         .order_by(d.c.created_at, d.c.alert_id).limit(PER_ROUND)).all()
    for alert_id, payload, attempts, next_try in rows:
        if not _claim(store, production, alert_id, next_try, at):
            continue  # another deliverer took it
        body = payload.encode()
        error: str | None = None
        if isinstance(secret, SecretUnavailable):
            error = str(secret)
        else:
            headers = {"Content-Type": "application/json", ID_HEADER: alert_id,
                       SIGNATURE_HEADER: sign(secret, int(at.timestamp()), body),
                       "User-Agent": f"coldcheck/{__version__}"}
            try:
                post(url, body, headers)
            except Exception as err:  # any failure of the receiver or the network
                error = describe_failure(err)
        tries = int(attempts) + 1
        with store.engine.connect() as c, c.begin():
            where = and_(d.c.production_id == production, d.c.alert_id == alert_id)
            if error is None:
                c.execute(update(d).where(where).values(
                    attempts=tries, last_try_at=now, delivered_at=now, last_error=None))
                counts["delivered"] += 1
            else:
                c.execute(update(d).where(where).values(
                    attempts=tries, last_try_at=now, last_error=error,
                    next_try_at=utc_text(at + backoff(tries))))
                counts["failed"] += 1
                log.warning("webhook post of %s for %s failed (attempt %d): %s", alert_id,
                            production, tries, error)
                if "HTTP" not in error:
                    break  # unreachable, or unsigned: the rest wait for the next round
    return counts


def _claim(store: Store, production: str, alert_id: str, next_try: str,
           at: datetime) -> bool:
    d = t.webhook_deliveries
    with store.engine.connect() as c, c.begin():
        r = c.execute(update(d).where(
            d.c.production_id == production, d.c.alert_id == alert_id,
            d.c.next_try_at == next_try, d.c.delivered_at.is_(None))
            .values(next_try_at=utc_text(at + timedelta(seconds=CLAIM_S))))
        return bool(r.rowcount == 1)


# ---- what the board shows ---------------------------------------------------------
def failing(store: Store, production: str, st: ProductionState,
            conn: Connection | None = None) -> list[dict[str, str]]:
    """The WEBHOOK_FAILING alert while any alert is undelivered after a failed
    try: how many, the last error, the next try. Reads the database."""
    if st.webhook is None:
        return []
    d = t.webhook_deliveries
    q = (select(d.c.last_error, d.c.last_try_at, d.c.next_try_at, d.c.attempts)
         .where(d.c.production_id == production, d.c.delivered_at.is_(None)))
    if conn is None:
        with store.engine.connect() as c:
            rows = c.execute(q).all()
    else:
        rows = conn.execute(q).all()
        conn.rollback()  # leave no read transaction open on a shared connection
    tried = sorted((r for r in rows if r.attempts > 0), key=lambda r: r.last_try_at)
    if not tried:
        return []  # nothing has failed yet: the first tries are still to come
    last_error, last_try = tried[-1].last_error, tried[-1].last_try_at
    nxt = min(r.next_try_at for r in tried)
    n = len(rows)  # every alert waiting, tried or queued behind the failing ones
    return [{"code": "WEBHOOK_FAILING", "subject": f"production:{production}",
             "message": f"{n} alert{'s' if n != 1 else ''} not delivered to the webhook "
                        f"{st.webhook['url']}: {last_error} (last try {last_try[:19]}Z); "
                        f"next try {nxt[:19]}Z"}]


def deliveries(store: Store, production: str) -> list[dict[str, Any]]:
    """The outbox rows of ``production``, oldest first (for the CLI and tests)."""
    d = t.webhook_deliveries
    with store.engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(
            select(d.c.alert_id, d.c.kind, d.c.attempts, d.c.last_error, d.c.last_try_at,
                   d.c.next_try_at, d.c.delivered_at)
            .where(d.c.production_id == production).order_by(d.c.created_at, d.c.alert_id))]


# ---- the serve thread ---------------------------------------------------------------
class Worker:
    """Runs :func:`deliver` every SCAN_EVERY_S seconds in a daemon thread, on its
    own store, until :meth:`stop`. Nothing it meets stops it."""

    def __init__(self, settings: Settings, every: float = SCAN_EVERY_S) -> None:
        self.settings, self.every = settings, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="coldcheck-webhook",
                                        daemon=True)

    def start(self) -> Worker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=TIMEOUT_S + 1)

    close = stop  # for contextlib.closing

    def _run(self) -> None:
        store = Store(self.settings.database_url)
        try:
            while not self._stop.wait(self.every):
                try:
                    if inspect(store.engine).has_table("webhooks"):
                        deliver(store, self.settings)
                except Exception:
                    log.exception("webhook round failed")
        finally:
            store.dispose()
