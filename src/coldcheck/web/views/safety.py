"""Safety: reporting a discharge or misfire, incidents and their timelines,
complaints, and the safety supervisor's overrides of soft rules."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...domain.incidents import INCIDENT_KINDS
from ...domain.rules import RULES, Strength
from ...services import actions as a
from ..access import Outcome, Page, production_page, record, submit
from ..http import Req, many, render, text, view


def report_ctx(page: Page) -> dict[str, Any]:
    st = page.st
    return {"kinds": INCIDENT_KINDS,
            "weapons": [w for w in st.weapons.values() if w.state != "retired"],
            "lots": [lt for lt in st.lots.values() if lt.kind != "evidence"],
            "preset": page.req.query("weapon")}


@view
def report_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "report.html", page.ctx(**report_ctx(page)))


@view
def report(req: Req) -> Response:
    f = req.form
    prod = req.param("production")

    def attempt() -> Outcome:
        return record(req, "incident.report", lambda ctx, call: a.report_incident(
            ctx, kind=text(f, "kind", "What happened"),
            description=text(f, "description", "Description"), weapons=many(f, "weapons"),
            lots=many(f, "lots"), reported_by=call.person))

    return submit(req, attempt, template="report.html", block="report_form",
                  context=report_ctx,
                  success=lambda o: f"/p/{prod}/incidents/"
                                    f"{o.payload('incident.opened', 'incident')}")


@view
def incidents(req: Req) -> Response:
    page = production_page(req)
    items = sorted(page.st.incidents.values(), key=lambda i: (not i.open, -int(i.id[3:])))
    return render(req, "incidents.html", page.ctx(items=items))


def incident_ctx(page: Page, incident: str) -> dict[str, Any]:
    from ...documents.wording import incident_words, plain_item

    inc = page.st.incident(incident)
    lots = list(inc.lots) + ([inc.evidence_lot] if inc.evidence_lot else [])
    people = list(page.st.people.values())
    rep = page.call.replica
    with rep.lock:
        opened = next((e for e in rep.events if e.type == "incident.opened"
                       and e.payload.get("incident") == inc.id), None)
    export = (f"/api/v1/productions/{page.production}/incidents/{inc.id}/evidence.zip"
              if page.can("incident.export") else None)
    return {"inc": inc, "headline": incident_words(inc.kind),
            "rule": opened.payload.get("rule") if opened else None, "evidence_url": export,
            "weapon_timelines": [(page.st.weapons[w],
                                  [plain_item(x) for x in page.timeline(weapon=w)])
                                 for w in inc.weapons],
            "lot_timelines": [(page.st.lots[lt], [plain_item(x) for x in page.timeline(lot=lt)])
                              for lt in lots],
            "armorers": [p for p in people if p.is_armorer],
            "supervisors": [p for p in people if "safety_supervisor" in p.roles]}


@view
def incident_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "incident.html", page.ctx(**incident_ctx(page, req.param("incident"))))


@view
def close_incident(req: Req) -> Response:
    f = req.form
    prod, incident = req.param("production"), req.param("incident")

    def attempt() -> Outcome:
        return record(req, "incident.close", lambda ctx, call: a.close_incident(
            ctx, incident=incident, corrective_action=text(f, "corrective_action",
                                                           "Corrective action"),
            armorer=text(f, "armorer", "Armorer"), armorer_pin=f.get("armorer_pin") or None,
            supervisor=text(f, "supervisor", "Safety supervisor"),
            supervisor_pin=f.get("supervisor_pin") or None))

    return submit(req, attempt, template="incident.html", block="close_form",
                  context=lambda p: incident_ctx(p, incident),
                  success=lambda o: f"/p/{prod}/incidents/{incident}")


# ---- complaints --------------------------------------------------------------------
def complaints_ctx(page: Page) -> dict[str, Any]:
    items = sorted(page.st.complaints.values(),
                   key=lambda c: (c.acknowledged_at is not None, -int(c.id[1:])))
    return {"items": items}


@view
def complaints(req: Req) -> Response:
    page = production_page(req)
    return render(req, "complaints.html", page.ctx(**complaints_ctx(page)))


@view
def file_complaint(req: Req) -> Response:
    f = req.form
    prod = req.param("production")
    return submit(req, lambda: record(req, "complaint.file", lambda ctx, call:
                                      a.file_complaint(ctx, by=call.person,
                                                       text=text(f, "text", "Complaint"))),
                  template="complaints.html", block="complaint_form", context=complaints_ctx,
                  success=lambda o: f"/p/{prod}/complaints")


@view
def acknowledge_complaint(req: Req) -> Response:
    f = req.form
    prod, complaint = req.param("production"), req.param("complaint")
    return submit(req, lambda: record(req, "complaint.acknowledge", lambda ctx, call:
                                      a.acknowledge_complaint(
                                          ctx, complaint=complaint, by=call.person,
                                          response=text(f, "response", "Response"))),
                  template="complaints.html", block="complaint_list", context=complaints_ctx,
                  success=lambda o: f"/p/{prod}/complaints")


# ---- overrides ---------------------------------------------------------------------
SOFT = [r for r in RULES.values() if r.strength is Strength.SOFT]


def overrides_ctx(page: Page) -> dict[str, Any]:
    st = page.st
    subjects = ([f"scene:{s.id}" for s in st.scenes.values()]
                + [f"person:{p.id}" for p in st.people.values() if p.role_conflicts]
                + [f"weapon:{w.id}" for w in st.weapons.values()]
                + [f"complaint:{c.id}" for c in st.complaints.values()]
                + ([f"day:{st.current_day}"] if st.current_day else []))
    return {"soft": SOFT, "subjects": subjects,
            "items": sorted(st.overrides.values(), key=lambda o: -int(o.id[1:])),
            "preset_rule": page.req.query("rule"), "preset_subject": page.req.query("subject")}


@view
def overrides(req: Req) -> Response:
    page = production_page(req)
    return render(req, "overrides.html", page.ctx(**overrides_ctx(page)))


@view
def override(req: Req) -> Response:
    f = req.form
    prod = req.param("production")
    return submit(req, lambda: record(req, "rule.override", lambda ctx, call: a.override(
        ctx, rule=text(f, "rule", "Rule"), subject=text(f, "subject", "Subject"),
        reason=text(f, "reason", "Reason"), supervisor=call.person)),
        template="overrides.html", block="override_form", context=overrides_ctx,
        success=lambda o: f"/p/{prod}/overrides")
