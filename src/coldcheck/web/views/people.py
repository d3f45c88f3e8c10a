"""People on the production: the list, adding a person (their own PIN typed
by them on this tablet), weapons-safety briefings, and your own PIN.

Each write is the API's: ``person.add`` runs what ``POST /people`` runs,
``person.brief`` what ``POST /people/{person}/briefings`` runs, and
``person.set_own_pin`` what ``POST /me/pin`` runs, through the same
authorisation (the permission matrix), device check and idempotency store
(``access.record``). PINs are read from the form, checked twice here (shape
only), hashed by the service with argon2id, and never put back into a page,
a log or the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from starlette.responses import Response

from ...domain.credentials import CREDENTIAL_TYPES, WEAPON_CLASSES
from ...domain.events import utc_text
from ...domain.people import ROLES, Person
from ...domain.zones import known_zones, zone_note
from ...services import actions as a
from ...services.accounts import AccessError
from ..access import Outcome, Page, authorised, production_page, record, submit
from ..errors import Problem
from ..http import Form, FormError, Req, many, optional, render, text, view

DEFAULT_TOPIC = "Weapons safety briefing (Safety Bulletin #1)"
ROLE_LABELS = {"armorer": "Armorer", "assistant_armorer": "Assistant armorer",
               "prop_master": "Prop master", "first_ad": "1st AD", "performer": "Performer",
               "safety_supervisor": "Safety supervisor", "producer": "Producer",
               "investigator": "Investigator (read-only)",
               "assistant_prop_master": "Assistant prop master", "stand_in": "Stand-in"}
EXPIRY_WARNING_DAYS = 30


# ---- reading -------------------------------------------------------------------
def qualification(p: Person, page: Page) -> dict[str, str] | None:
    """An armorer's qualification as the list shows it; None for everyone else.
    "Today" is the rule's own (CUSTODY_QUALIFICATION_EXPIRED dates the moment in
    the production's own zone, ``ProductionState.zone``), so the list never says
    valid when the rule would refuse."""
    if not p.is_armorer:
        return None
    exp = p.qualification_expires
    if exp is None:
        return {"state": "missing", "text": "✖ Not recorded: cannot act as armorer"}
    state, text = expiry(exp, page)
    return {"state": state, "text": text + (": cannot act as armorer"
                                            if state == "expired" else "")}


def expiry(exp: str, page: Page) -> tuple[str, str]:
    """An expiry date as the pages word it, on the rules' calendar (the
    production's zone): ``expired``, ``soon`` (within EXPIRY_WARNING_DAYS) or ``ok``."""
    today = page.now.astimezone(page.st.zone).date()
    until = date.fromisoformat(exp)
    if until < today:
        return "expired", f"✖ Expired {exp}"
    if until <= today + timedelta(days=EXPIRY_WARNING_DAYS):
        left = "last day today" if until == today else f"{(until - today).days} days left"
        return "soon", f"▲ Until {exp} ({left})"
    return "ok", f"✔ Until {exp}"


def pin_state(p: Person, page: Page) -> dict[str, str | None]:
    locked = p.pin_locked_until
    if locked and locked > utc_text(page.now):
        return {"state": "locked", "text": "✖ Locked until", "until": locked}
    if p.pin_set:
        # A PIN someone else recorded (typed on their tablet) does not sign an
        # incident closure together with that person (INCIDENT_CLOSE_NEEDS_ACTION).
        by = p.pin_set_by
        if by and by != p.id and by in page.st.people:
            return {"state": "set", "text": f"✔ Set in {page.name(by)}'s session", "until": None,
                    "by": page.name(by)}
        return {"state": "set", "text": "✔ Set", "until": None}
    return {"state": "none", "text": "✖ Not set", "until": None}


def row(p: Person, page: Page) -> dict[str, Any]:
    ack = next((o for o in page.st.overrides.values()
                if o.rule == "PEOPLE_ROLE_CONFLICT" and o.subject == f"person:{p.id}"), None)
    return {"p": p, "qualification": qualification(p, page), "pin": pin_state(p, page),
            "ack": ack}


def zone_ctx(page: Page) -> dict[str, Any]:
    """The production's time zone as the people page shows it, and, for whoever
    may change it (the producer), the names to choose from."""
    own = page.st.timezone
    shown = page.zone_name
    return {"zone": {"own": own, "shown": shown,
                     "note": zone_note(shown, page.tz, page.now),
                     "default": page.req.state.settings.timezone},
            "zones": sorted(known_zones()) if page.can("production.set_timezone") else []}


def people_ctx(page: Page) -> dict[str, Any]:
    people = sorted(page.st.people.values(), key=lambda p: int(p.id[1:]))
    rows = [row(p, page) for p in people]
    return {**zone_ctx(page), "rows": rows, "topic": DEFAULT_TOPIC,
            "unbriefed": [r["p"] for r in rows if not r["p"].briefed
                          and r["p"].receives],
            "conflicts": [r for r in rows if r["p"].role_conflicts and r["ack"] is None]}


@view
def people(req: Req) -> Response:
    page = production_page(req)
    return render(req, "people.html", page.ctx(**people_ctx(page)))


def credentials(p: Person, page: Page) -> list[dict[str, str]]:
    """A handler's credentials as the page lists them: in force, expiring (within
    30 days), expired or revoked, newest first."""
    out = []
    for c in reversed(list(page.st.credentials.get(p.id, {}).values())):
        state, word = ("expired", "✖ Revoked") if c["revoked"] else expiry(c["expires"], page)
        out.append({"state": state, "text": word, "id": c["id"],
                    "what": f"{c['type'].replace('_', ' ').capitalize()} {c['number']}",
                    "issuer": c["issuer"],
                    "classes": ", ".join(k.replace("_", " ") for k in c["classes"])})
    return out


def person_ctx(page: Page, person: str | None = None) -> dict[str, Any]:
    p = page.st.person(person or page.req.param("person"))
    return {"p": p, "r": row(p, page), "timeline": page.timeline(person=p.id),
            "topic": DEFAULT_TOPIC, "role_labels": ROLE_LABELS,
            "credentials": credentials(p, page), "credential_types": CREDENTIAL_TYPES,
            "weapon_classes": WEAPON_CLASSES}


@view
def person_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "person.html", page.ctx(**person_ctx(page)))


# ---- adding a person -------------------------------------------------------------
def new_ctx(page: Page) -> dict[str, Any]:
    return {"roles": ROLES, "role_labels": ROLE_LABELS}


@view
def new_person(req: Req) -> Response:
    """The form, only for those who may add people (anyone else: ACTION_FORBIDDEN,
    as the API answers, on a page that still has the navigation)."""
    page = production_page(req)
    try:
        authorised(req, page.call.principal, "person.add")
    except AccessError as err:
        problem = Problem.from_error(err)
        return render(req, "error.html", page.ctx(problem=problem), status=problem.status)
    return render(req, "person_new.html", page.ctx(**new_ctx(page)))


def typed_twice(f: Form, name: str, *, required: bool) -> str | None:
    """A new PIN from two fields that must match; None when both are empty and the
    PIN is optional. Shape only: PIN_WEAK (4 to 12 digits) is the service's."""
    first, again = f.get(name) or "", f.get(name + "_again") or ""
    if not first and not again:
        if required:
            raise FormError("New PIN is required: type it in both PIN fields")
        return None
    if not first or not again:
        raise FormError("Type the PIN twice, once in each PIN field")
    if first != again:
        raise FormError("The two PINs differ: type the same PIN in both fields")
    return first


@view
def add_person(req: Req) -> Response:
    f = req.form
    prod = req.param("production")

    def attempt() -> Outcome:
        # The form is read inside the recorded call: the permission matrix answers
        # first (a forged post is refused 403 whatever it holds).
        return record(req, "person.add", lambda ctx, call: a.add_person(
            ctx, name=text(f, "name", "Name"), roles=many(f, "roles"),
            badge=text(f, "badge", "Badge code"), pin=typed_twice(f, "pin", required=False),
            department=optional(f, "department") or "",
            qualification_expires=optional(f, "qualification_expires"), actor=call.person))

    return submit(req, attempt, template="person_new.html", block="person_form",
                  context=new_ctx,
                  success=lambda o: f"/p/{prod}/people/{o.payload('person.added', 'person')}")


# ---- briefings -------------------------------------------------------------------
@view
def brief(req: Req) -> Response:
    """Record a weapons-safety briefing given by the signed-in person, from the list
    (``back=list``) or from the person's page."""
    f = req.form
    prod, person = req.param("production"), req.param("person")
    from_list = f.get("back") == "list"

    def attempt() -> Outcome:
        return record(req, "person.brief", lambda ctx, call: a.brief(
            ctx, person=person, briefed_by=call.person, topic=text(f, "topic", "Topic")))

    if from_list:
        return submit(req, attempt, template="people.html", block="people_list",
                      context=people_ctx, success=lambda o: f"/p/{prod}/people")
    return submit(req, attempt, template="person.html", block="briefing_form",
                  context=lambda page: person_ctx(page, person),
                  success=lambda o: f"/p/{prod}/people/{person}")


# ---- a handler's credentials (the producer or the safety supervisor records them) ----
def _credential_submit(req: Req, attempt: Callable[[], Outcome]) -> Response:
    prod, person = req.param("production"), req.param("person")
    return submit(req, attempt, template="person.html", block="credential_form",
                  context=lambda page: person_ctx(page, person),
                  success=lambda o: f"/p/{prod}/people/{person}")


@view
def add_credential(req: Req) -> Response:
    f, person = req.form, req.param("person")
    return _credential_submit(req, lambda: record(
        req, "person.credential", lambda ctx, call: a.add_credential(
            ctx, person=person, type_=text(f, "type", "Credential"),
            issuer=text(f, "issuer", "Issued by"), number=text(f, "number", "Number"),
            classes=many(f, "classes"), expires=text(f, "expires", "Expires"),
            actor=call.person)))


@view
def revoke_credential(req: Req) -> Response:
    f, person = req.form, req.param("person")
    return _credential_submit(req, lambda: record(
        req, "person.credential", lambda ctx, call: a.revoke_credential(
            ctx, person=person, credential=text(f, "credential", "Credential"),
            reason=text(f, "reason", "Why"), actor=call.person)))


# ---- your own PIN ------------------------------------------------------------------
def my_pin_ctx(page: Page) -> dict[str, Any]:
    return {"pin": pin_state(page.me, page)}


@view
def my_pin(req: Req) -> Response:
    page = production_page(req)
    return render(req, "my_pin.html", page.ctx(**my_pin_ctx(page)))


@view
def set_my_pin(req: Req) -> Response:
    f = req.form
    prod = req.param("production")

    def attempt() -> Outcome:
        return record(req, "person.set_own_pin", lambda ctx, call: a.set_own_pin(
            ctx, person=call.person, pin=str(typed_twice(f, "pin", required=True)),
            current_pin=f.get("current_pin") or None))

    return submit(req, attempt, template="my_pin.html", block="pin_form", context=my_pin_ctx,
                  success=lambda o: f"/p/{prod}/me/pin")


# ---- the production's time zone ------------------------------------------------
@view
def set_timezone(req: Req) -> Response:
    """The producer sets the production's time zone: what ``POST /timezone`` runs
    (``production.set_timezone``: anyone else gets ACTION_FORBIDDEN, nothing
    recorded). A name the time zone database does not know is INVALID_INPUT,
    saying what to write instead."""
    f = req.form
    prod = req.param("production")

    def attempt() -> Outcome:
        return record(req, "production.set_timezone", lambda ctx, call: a.set_timezone(
            ctx, timezone=text(f, "timezone", "Time zone"), actor=call.person))

    return submit(req, attempt, template="people.html", block="zone_form",
                  context=people_ctx, success=lambda o: f"/p/{prod}/people")
