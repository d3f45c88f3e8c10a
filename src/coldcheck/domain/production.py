"""Decisions about the production itself: people, storage, days, scenes, safety
meetings, incidents, complaints, overrides and the wrap. Like those in
custody.py, they list the rule checks they apply (:mod:`coldcheck.domain.checks`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from . import bounds, checks, rules
from .common import (
    count,
    ev,
    iso_date,
    open_day,
    refuse_or_pass,
    refused_action,
    same_pins,
    text,
)
from .credentials import EXPIRY_NOTICE_DAYS, expiring, handler
from .custody import open_incident
from .errors import Conflict, InvalidInput
from .events import NewEvent, parse_utc, utc_text
from .incidents import COMPLAINT_VIA, DISCHARGE_KINDS, INCIDENT_KINDS, POSTER_PREFIX
from .narrative import restore_loss
from .people import (
    QUALIFICATION_RENEWERS,
    require_role,
    role_conflicts,
    validate_roles,
)
from .state import ProductionState
from .subjects import PERSON_ID
from .zones import check_zone

STORAGE_KINDS = ("safe", "cart", "vault", "locker")
# Who may lead a safety meeting (the 1st AD attends one; the armorer or the
# safety supervisor leads it).
MEETING_LEADERS = ("armorer", "assistant_armorer", "safety_supervisor")


def create_production(*, production: str, name: str, origin: str,
                      key_id: str) -> list[NewEvent]:
    return [ev("production.created", production=production,
               name=text(name, "name", bound=bounds.NAME),
               origin=origin, key_id=key_id)]


def set_timezone(s: ProductionState, *, timezone: str, by: str | None) -> list[NewEvent]:
    """The producer sets the production's IANA time zone (``by`` None: at init,
    before anyone joined). Setting the zone it already has records nothing new:
    INVALID_INPUT says so."""
    zone_name = check_zone(timezone)
    if by is not None:
        require_role(s.person(by), "producer")
    if zone_name == s.timezone:
        raise InvalidInput("INVALID_INPUT", f"the time zone is already {zone_name}",
                           field="timezone")
    return [ev("production.timezone_set", timezone=zone_name, previous=s.timezone)]


WEBHOOK_URL_MAX = 2000


def set_webhook(s: ProductionState, *, url: str, secret_fingerprint: str,
                by: str) -> list[NewEvent]:
    """The producer points the production's alert webhook at ``url`` (http or
    https). The secret itself never enters the record: only its fingerprint."""
    require_role(s.person(by), "producer")
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    if (not sep or scheme.lower() not in ("http", "https") or not host
            or len(url) > WEBHOOK_URL_MAX or any(c.isspace() for c in url)):
        raise InvalidInput("INVALID_INPUT", "the webhook URL must be an http:// or https:// "
                           f"address of at most {WEBHOOK_URL_MAX} characters", field="url")
    if "@" in rest.split("/", 1)[0]:
        raise InvalidInput("INVALID_INPUT", "put no user name or password in the webhook URL: "
                           "the secret signs each post", field="url")
    previous = s.webhook["url"] if s.webhook else None
    return [ev("production.webhook_set", url=url, secret_fingerprint=secret_fingerprint,
               previous_url=previous)]


def clear_webhook(s: ProductionState, *, by: str) -> list[NewEvent]:
    """The producer removes the alert webhook: nothing more is posted."""
    require_role(s.person(by), "producer")
    if s.webhook is None:
        raise InvalidInput("INVALID_INPUT", "no alert webhook is set: nothing to remove")
    return [ev("production.webhook_cleared", url=s.webhook["url"])]


def add_person(s: ProductionState, *, name: str, roles: list[str], badge: str,
               department: str = "", qualification_expires: str | None = None,
               pin_verifier: str | None = None) -> list[NewEvent]:
    """``pin_verifier``: the fingerprint of the stored PIN hash when the person
    is added with a PIN (services/vouch.py), recorded in their person.pin_set."""
    roles = validate_roles(roles)
    badge = text(badge, "badge", bound=bounds.BADGE)
    if badge in s.badges:
        raise InvalidInput("DUPLICATE_BADGE", f"badge {badge!r} already belongs to "
                           f"{s.badges[badge]}")
    q = iso_date(qualification_expires, "qualification expiry") \
        if qualification_expires else None
    pid = s.next_id("P")
    out = [ev("person.added", person=pid, name=text(name, "name", bound=bounds.NAME), roles=roles,
              badge=badge, department=department.strip(), qualification_expires=q)]
    if pin_verifier is not None:
        out.append(ev("person.pin_set", person=pid, verifier=pin_verifier))
    out += [ev("person.role_conflict_flagged", person=pid, conflict=c)
            for c in role_conflicts(roles, department)]
    return out


def renew_qualification(s: ProductionState, *, person: str, expires: str,
                        by: str) -> list[NewEvent]:
    """``by`` records it: the producer or the safety supervisor, whoever asks (the
    API's matrix and the CLI's ``--by`` both end here)."""
    p = s.person(person)
    require_role(p, "armorer", "assistant_armorer")
    when = iso_date(expires, "qualification expiry")
    require_role(s.person(by), *QUALIFICATION_RENEWERS)
    return [ev("person.qualification_renewed", person=p.id, expires=when)]


def brief(s: ProductionState, *, person: str, briefed_by: str, topic: str) -> list[NewEvent]:
    p, by = s.person(person), s.person(briefed_by)
    require_role(by, "armorer", "assistant_armorer", "safety_supervisor")
    return [ev("person.safety_briefed", person=p.id, briefed_by=by.id,
               topic=text(topic, "topic", bound=bounds.NAME))]


def add_storage(s: ProductionState, *, name: str, kind: str) -> list[NewEvent]:
    if kind not in STORAGE_KINDS:
        raise InvalidInput("INVALID_INPUT", f"storage kind must be one of "
                           f"{', '.join(STORAGE_KINDS)}")
    return [ev("storage.added", storage=s.next_id("ST"),
               name=text(name, "name", bound=bounds.NAME), kind=kind)]


def open_shooting_day(s: ProductionState, *, date: str) -> list[NewEvent]:
    if s.current_day is not None:
        raise Conflict("DAY_ALREADY_OPEN", f"day {s.current_day} is open; wrap it first")
    return [ev("day.opened", day=s.next_id("D"), date=iso_date(date, "date"))]


def meal_break(s: ProductionState, *, start: bool, by: str) -> list[NewEvent]:
    day = open_day(s)
    s.person(by)
    if not start:
        return [ev("day.meal_break_ended", day=day)]
    v = checks.custody.back_before_meal_break(s.weapons.values(), day)
    refuse_or_pass(s, v, refusal=refused_action("day.meal_break", f"day:{day}"))
    return [ev("day.meal_break_started", day=day)]


def plan_scene(s: ProductionState, *, name: str, hot: bool, rehearsal: bool,
               weapons: list[str], performers: list[str], pointing: bool = False,
               pointing_description: str = "", overdue_minutes: int = 30,
               min_distance_m: int | None = None, shielded: bool = False) -> list[NewEvent]:
    day = open_day(s)
    for w in weapons:
        s.weapon(w)
    for p in performers:
        require_role(s.person(p), "performer", "stand_in")
    count(overdue_minutes, "overdue limit (minutes)", bound=bounds.OVERDUE_MINUTES)
    if min_distance_m is not None:
        count(min_distance_m, "minimum distance (m)", bound=bounds.MIN_DISTANCE_M)
    if pointing and not pointing_description.strip():
        raise InvalidInput("INVALID_INPUT", "a pointing plan describes who is pointed at and "
                           "from where")
    return [ev("scene.planned", scene=s.next_id("SC"), day=day,
               name=text(name, "name", bound=bounds.NAME),
               hot=hot, rehearsal=rehearsal, weapons=sorted(set(weapons)),
               performers=sorted(set(performers)), pointing=pointing,
               pointing_description=pointing_description.strip(),
               overdue_minutes=overdue_minutes, min_distance_m=min_distance_m,
               shielded=shielded)]


def acknowledge_pointing(s: ProductionState, *, scene: str, person: str,
                         at: datetime) -> list[NewEvent]:
    sc, p = s.scene(scene), s.person(person)
    if not sc.pointing:
        raise InvalidInput("INVALID_INPUT", f"scene {sc.id} has no pointing plan")
    if p.is_armorer:
        refuse_or_pass(s, checks.people.armorer(p, at, s.zone),
                       refusal=refused_action("scene.pointing_ack", f"scene:{sc.id}"))
        role = "armorer"
    else:
        require_role(p, "first_ad")
        role = "first_ad"
    return [ev("scene.pointing_acknowledged", scene=sc.id, person=p.id, role=role)]


def hold_meeting(s: ProductionState, *, scenes: list[str], attendees: list[str],
                 led_by: str) -> list[NewEvent]:
    day = open_day(s)
    for sc in scenes:
        if s.scene(sc).day != day:
            raise InvalidInput("INVALID_INPUT", f"scene {sc} is not on today's schedule")
    for a in attendees:
        s.person(a)
    lead = s.person(led_by)
    require_role(lead, *MEETING_LEADERS)
    if not attendees:
        raise InvalidInput("INVALID_INPUT", "a safety meeting records who attended")
    return [ev("meeting.held", meeting=s.next_id("M"), day=day, scenes=sorted(set(scenes)),
               attendees=sorted(set(attendees) | {lead.id}), led_by=lead.id)]


def report_incident(s: ProductionState, *, kind: str, description: str, weapons: list[str],
                    lots: list[str], reported_by: str) -> list[NewEvent]:
    if kind not in INCIDENT_KINDS:
        raise InvalidInput("INVALID_INPUT", f"incident kind must be one of "
                           f"{', '.join(INCIDENT_KINDS)}")
    s.person(reported_by)
    for w in weapons:
        if s.weapon(w).state == "retired":
            raise InvalidInput("INVALID_INPUT", f"weapon {w} is retired")
    for lot in lots:
        s.lot(lot)
    unnamed = checks.incident.discharge_names_weapons(kind, weapons)
    if unnamed:
        refuse_or_pass(s, unnamed,
                       refusal=refused_action("incident.report", f"person:{reported_by}"))
    # The lots involved include whatever is loaded in a weapon the report names:
    # the reporter may not know which box the rounds came from; the record does.
    # A discharge, misfire or squib also names the box of the last rounds the
    # weapon held, fired or unloaded since: a squib found after the weapon came
    # back empty, or a bang from a weapon shown empty, points at that box.
    loaded = {w.load_lot for w in map(s.weapon, weapons) if w.load_lot}
    if kind in DISCHARGE_KINDS:
        loaded |= {s.last_lot[w] for w in weapons if w in s.last_lot}
    return open_incident(s, kind=kind, description=text(description, "description"),
                         weapons=sorted(set(weapons)), lots=sorted(set(lots) | loaded),
                         reported_by=reported_by,
                         rule="INCIDENT_DISCHARGE" if kind in DISCHARGE_KINDS else "")


def close_incident(s: ProductionState, *, incident: str, corrective_action: str,
                   armorer: str, supervisor: str, at: datetime,
                   pins_checked: bool = True,
                   pins: dict[str, str | None] | None = None) -> list[NewEvent]:
    """Both signatures' PINs are checked by the service before this is called;
    it skips them only for signers it expects this to refuse (``pins_checked``
    False), and a closure that would pass without them is refused. ``pins``:
    who had recorded each PIN checked (``same_pins``)."""
    inc = s.incident(incident)
    same_pins(s, pins)
    if not inc.open:
        raise Conflict("INCIDENT_CLOSED", f"incident {inc.id} is already closed")
    a, sup = s.person(armorer), s.person(supervisor)
    subj = f"incident:{inc.id}"
    v = [*checks.incident.corrective_action(corrective_action, subj),
         *checks.incident.armorer_signs(s, a, at, subj),
         *checks.incident.supervisor_signs(sup, subj),
         *checks.incident.two_signers(a, sup, subj)]
    for wid in inc.weapons:
        w = s.weapons[wid]
        v += [*checks.incident.weapon_back(s.people, w, subj),
              *checks.incident.emptied_before_close(w, subj)]
    v += checks.incident.pins_entered(pins_checked, bool(v), subj)
    refuse_or_pass(s, v, refusal=refused_action("incident.close", subj))
    return [ev("incident.closed", incident=inc.id, corrective_action=corrective_action.strip(),
               armorer=a.id, supervisor=sup.id)] + [
        ev("weapon.unfrozen", weapon=wid, incident=inc.id) for wid in inc.weapons]


def file_complaint(s: ProductionState, *, by: str, text_: str) -> list[NewEvent]:
    s.person(by)
    return [ev("complaint.filed", complaint=s.next_id("C"), by=by,
               text=text(text_, "complaint"))]


def acknowledge_complaint(s: ProductionState, *, complaint: str, by: str,
                          response: str) -> list[NewEvent]:
    c, p = s.complaint(complaint), s.person(by)
    require_role(p, "safety_supervisor", "producer")
    if c.acknowledged_at is not None:
        raise Conflict("ALREADY_ACKNOWLEDGED", f"complaint {c.id} was acknowledged already")
    return [ev("complaint.acknowledged", complaint=c.id, by=p.id,
               response=text(response, "response"))]


def receive_complaint(s: ProductionState, *, text_: str, name: str, role: str, via: str,
                      device: str) -> list[NewEvent]:
    """A complaint from someone without an account: typed on the cart tablet
    (``via`` "tablet", ``device`` the tablet's ``device:<id>``) or on the page of
    the QR poster (``via`` "poster", no device). ``name`` and ``role`` are what
    they chose to give: both empty for an anonymous complaint. It is a complaint
    like a filed one (COMPLAINT_ACKNOWLEDGE), acknowledged the same way."""
    if via not in COMPLAINT_VIA:
        raise InvalidInput("INVALID_INPUT", f"via must be one of {', '.join(COMPLAINT_VIA)}, "
                           f"not {via!r}", field="via")
    if via == "tablet" and not device.startswith("device:"):
        raise InvalidInput("INVALID_INPUT", "a complaint typed on a tablet names the tablet "
                           "(device:<id>)", field="device")
    if via == "poster" and device:
        raise InvalidInput("INVALID_INPUT", "a complaint from the poster page names no device",
                           field="device")
    given = {"name": text(name, "name", bound=bounds.COMPLAINANT),
             "role": text(role, "role", bound=bounds.COMPLAINANT)}
    for what, value in given.items():
        if PERSON_ID.fullmatch(value):  # it would put the complaint in that person's timeline
            raise InvalidInput("INVALID_INPUT", f"the {what} is words, not a person's id "
                               f"like {value!r}", field=what)
    return [ev("complaint.received", complaint=s.next_id("C"), text=text(text_, "complaint"),
               via=via, device=device, **given)]


def issue_poster(s: ProductionState, *, by: str, nonce: str) -> list[NewEvent]:
    """A new QR complaint poster (the producer or the safety supervisor); the one
    before it, if any, stops working. ``nonce`` is random: the page's secret
    address is derived from it on the server and never recorded."""
    require_role(s.person(by), "safety_supervisor", "producer")
    if not (16 <= len(nonce) <= 64 and all(c in "0123456789abcdef" for c in nonce)):
        raise InvalidInput("INVALID_INPUT", "a poster nonce is 16 to 64 hex digits",
                           field="nonce")
    last = int(s.poster["poster"][len(POSTER_PREFIX):]) if s.poster else 0
    return [ev("complaint.poster_issued", poster=f"{POSTER_PREFIX}{last + 1}", nonce=nonce,
               by=by)]


def revoke_poster(s: ProductionState, *, by: str) -> list[NewEvent]:
    """Revoke the QR complaint poster (the producer or the safety supervisor)."""
    require_role(s.person(by), "safety_supervisor", "producer")
    if s.poster is None or s.poster["revoked_at"] is not None:
        raise Conflict("POSTER_NOT_ACTIVE", "no QR complaint poster is in use: nothing to "
                       "revoke")
    return [ev("complaint.poster_revoked", poster=s.poster["poster"], by=by)]


_SUBJECT_TABLES = {"person": "people", "weapon": "weapons", "lot": "lots", "scene": "scenes",
                   "day": "days", "complaint": "complaints", "inspection": "inspections",
                   "incident": "incidents"}


# The subject each soft rule's violations name (see the checks in domain/checks/).
OVERRIDE_SUBJECTS: dict[str, tuple[str, ...]] = {
    "CUSTODY_OVERDUE": ("day",),
    "SCENE_BLANK_DISTANCE": ("scene",),
    "SCENE_REHEARSAL_REPLICA": ("scene",),
    "COMPLAINT_ACKNOWLEDGE": ("complaint",),
    "PEOPLE_ROLE_CONFLICT": ("person",),
}


def override(s: ProductionState, *, rule: str, subject: str, reason: str,
             supervisor: str) -> list[NewEvent]:
    """Bend a soft rule for one subject, with a reason. Hard rules never bend."""
    if rule not in rules.RULES:
        raise InvalidInput("INVALID_INPUT", f"no rule {rule!r} in the catalogue")
    kind, _, ident = subject.partition(":")
    table: dict[str, Any] | None = getattr(s, _SUBJECT_TABLES.get(kind, ""), None)
    if table is None or ident not in table:
        raise InvalidInput("INVALID_INPUT", f"subject must name something on this production "
                           f"as kind:id (e.g. scene:SC1), not {subject!r}")
    sup = s.person(supervisor)
    reason = text(reason, "reason", bound=bounds.OVERRIDE_REASON)
    fits = OVERRIDE_SUBJECTS.get(rule)
    if fits is not None and kind not in fits:
        raise InvalidInput("INVALID_INPUT", f"{rule} is about {' or '.join(fits)}; name one "
                           f"as {fits[0]}:ID, not {subject!r}")
    if rule != "PEOPLE_ROLE_CONFLICT" and rules.is_soft(rule) and s.current_day is None:
        raise InvalidInput("DAY_NOT_OPEN", "an override stands for the open shooting day: "
                           "open the day first")
    problem = None
    if not rules.is_soft(rule):
        problem = f"{rule} is a hard rule: it never bends"
    elif "safety_supervisor" not in sup.roles:
        problem = f"only the safety supervisor can override {rule}"
    elif rule == "PEOPLE_ROLE_CONFLICT" and ident == sup.id:
        problem = "nobody acknowledges their own role conflict"
    if problem:
        err = InvalidInput("OVERRIDE_NOT_ALLOWED", problem, rule=rule)
        err.record = [ev("action.refused", action="rule.override", subject=subject,
                         codes=["OVERRIDE_NOT_ALLOWED"], messages=[problem],
                         subjects=[subject])]
        raise err
    return [ev("rule.overridden", override=s.next_id("O"), rule=rule, subject=subject,
               reason=reason, supervisor=sup.id, day=s.current_day)]


def wrap(s: ProductionState, *, armorer: str, at: datetime,
         counts: dict[str, int] | None = None) -> list[NewEvent]:
    """WRAP_RECONCILE: every weapon in storage, every lot balanced, physical
    counts (when given) equal to the books; any difference opens an incident."""
    day = open_day(s)
    a = s.person(armorer)
    v = [*handler(s, a, at),
         *checks.wrap.weapons_stored(s.weapons.values()),
         *checks.wrap.lots_balanced(s.lots.values())]
    diff: list[str] = []
    for lot_id, counted in (counts or {}).items():
        lot = s.lot(lot_id)
        count(counted, f"count of lot {lot_id}")
        differs = checks.wrap.count_matches(lot, counted)
        if differs:
            diff.append(lot_id)
            v += differs
    record: list[NewEvent] = []
    investigated = {lot_id for i in s.incidents.values()
                    if i.open and i.kind == "count_discrepancy" for lot_id in i.lots}
    diff = [lot_id for lot_id in diff if lot_id not in investigated]
    if diff:
        record = open_incident(s, kind="count_discrepancy",
                               description="Wrap count differs from the record for lot(s) "
                                           + ", ".join(diff),
                               weapons=[], lots=diff, reported_by=armorer,
                               rule="WRAP_RECONCILE")
    refuse_or_pass(s, v, record=record, refusal=refused_action("day.wrap", f"day:{day}"))
    return [ev("day.wrapped", day=day,
               lots={lot.id: lot.summary() for lot in s.lots.values()},
               weapons={w.id: w.state for w in s.weapons.values()})]


def add_note(s: ProductionState, *, refers_to: int, text_: str) -> list[NewEvent]:
    if not 0 <= refers_to < s.seq:
        raise InvalidInput("INVALID_INPUT", f"there is no event {refers_to}")
    return [ev("note.added", refers_to=refers_to, text=text(text_, "note"))]


def alerts(s: ProductionState, at: datetime,
           signed: int | None = None) -> list[dict[str, str]]:
    """What the board shows in red: overdue and frozen weapons, open incidents,
    unacknowledged complaints, unacknowledged role conflicts; and, given the
    tree size of the latest signed checkpoint (``signed``, 0 for none), an
    incident or wrap that no signed checkpoint covers yet (signing it, right
    after the commit, failed: a missing key file, say)."""
    now = utc_text(at)
    out: list[dict[str, str]] = []
    due = s.checkpoint_due
    if signed is not None and due is not None and signed <= due[0]:
        out.append({"code": "CHECKPOINT_MISSING", "subject": f"event:{due[0]}",
                    "message": f"no signed checkpoint covers event {due[0]} ({due[1]}) yet: "
                               "restore the signing key if it is missing, then sign one "
                               "(coldcheck ledger checkpoint)"})
    if s.restored is not None and parse_utc(s.restored[1]) > at - timedelta(days=1):
        seq, when, payload = s.restored
        out.append({"code": "LEDGER_RESTORED", "subject": f"event:{seq}",
                    "message": f"the database was restored from a backup at "
                               f"{when[:16].replace('T', ' ')} UTC "
                               f"(event {seq}): {restore_loss(payload)}"})
    day = s.day()
    for w in s.weapons.values():
        if w.state == "issued" and w.due_at and (w.due_at < now or (day and day.meal_break)):
            out.append({"code": "CUSTODY_OVERDUE", "subject": f"weapon:{w.id}",
                        "message": f"weapon {w.id} with {w.custodian} was due back at "
                                   f"{w.due_at}"})
        if w.state == "frozen":
            out.append({"code": "CUSTODY_WEAPON_FROZEN", "subject": f"weapon:{w.id}",
                        "message": f"weapon {w.id} frozen by {', '.join(w.frozen_by)}"})
    for i in s.incidents.values():
        if i.open:
            out.append({"code": "INCIDENT_OPEN", "subject": f"incident:{i.id}",
                        "message": f"incident {i.id} ({i.kind}) open: {i.description}"})
    for c in s.complaints.values():
        if c.acknowledged_at is None:
            out.append({"code": "COMPLAINT_ACKNOWLEDGE", "subject": f"complaint:{c.id}",
                        "message": f"complaint {c.id} not acknowledged: {c.text}"})
    out += rental_alerts(s, at)
    out += credential_alerts(s, at)
    for p in s.people.values():
        if p.role_conflicts and not s.has_override("PEOPLE_ROLE_CONFLICT", f"person:{p.id}"):
            out.append({"code": "PEOPLE_ROLE_CONFLICT", "subject": f"person:{p.id}",
                        "message": f"{p.name}: {', '.join(p.role_conflicts)}"})
    return out


def credential_alerts(s: ProductionState, at: datetime) -> list[dict[str, str]]:
    """Handlers' credentials expiring within 30 days (the first notice), within 7
    (the second, which says so), or expired and not revoked: the days count on
    the production's calendar."""
    today = at.astimezone(s.zone).date()
    out: list[dict[str, str]] = []
    for p, c, left in expiring(s, today):
        kind = c["type"].replace("_", " ")
        if left < 0:
            when = f"expired on {c['expires']}: it covers nothing"
        elif left == 0:
            when = "expires today"
        else:
            notice = "final notice: " if left <= EXPIRY_NOTICE_DAYS[1] else ""
            when = f"{notice}expires in {left} day{'s' if left != 1 else ''} ({c['expires']})"
        out.append({"code": "CREDENTIAL_EXPIRING", "subject": f"person:{p.id}",
                    "message": f"{p.name}'s {kind} {c['number']} ({c['id']}) {when}"})
    return out


def rental_alerts(s: ProductionState, at: datetime) -> list[dict[str, str]]:
    """Rented weapons and lots due back within 7 days (or overdue), differences
    from a delivery's manifest while anything of that delivery is still here,
    and kit accessories noted missing."""
    out: list[dict[str, str]] = []
    soon = (at + timedelta(days=7)).date().isoformat()
    for item, o in s.owners.items():
        if o["returned"] is None and o["due_back"] and o["due_back"] <= soon \
                and not item.startswith("accessory:"):
            name = s.vendors[o["vendor"]]["name"]
            late = "overdue" if o["due_back"] < at.date().isoformat() else "due"
            out.append({"code": "RENTAL_DUE_BACK", "subject": item,
                        "message": f"{item.replace(':', ' ')} is {late} back to {name} on "
                                   f"{o['due_back']}"})
    for rc in s.receipts.values():
        here = any(o["receipt"] == rc["id"] and o["returned"] is None
                   for o in s.owners.values())
        if not here and rc["signed"] is not None:
            continue
        for c in rc["checked"]:
            if c["difference"] is not None:
                where = f"line {c['line']}" if c["line"] is not None else "extra item"
                out.append({"code": "RECEIPT_DIFFERENCE", "subject": f"receipt:{rc['id']}",
                            "message": f"receipt {rc['id']} {where} ({c['description']}): "
                                       f"{c['difference'].replace('_', ' ')}"})
    for acc in s.accessories.values():
        if acc["state"] == "missing":
            out.append({"code": "KIT_ACCESSORY_MISSING", "subject": f"accessory:{acc['id']}",
                        "message": f"{acc['description']} ({acc['id']}) did not come back "
                                   f"with weapon {acc['weapon']}"})
    return out
