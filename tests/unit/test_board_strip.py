"""The board's strip and its split of alerts into today's and earlier ones
(web.views.board), on a hand-made state: what the browser tests cannot reach
(an alert about a closed incident) and the edges of "earlier"."""

from __future__ import annotations

from types import SimpleNamespace as NS
from typing import Any

from coldcheck.web.views.board import split_alerts, strip

WRAP = "2026-12-01T18:00:00.000000Z"  # the last day's wrap: the board's present began
BEFORE, AFTER = "2026-12-01T10:00:00.000000Z", "2026-12-01T19:00:00.000000Z"


def state() -> Any:
    incidents = {"INC1": NS(opened_at=BEFORE, open=True), "INC2": NS(opened_at=AFTER, open=True),
                 "INC3": NS(opened_at=AFTER, open=False)}
    complaints = {"C1": NS(filed_at=BEFORE), "C2": NS(filed_at=AFTER)}
    weapons = {"W1": NS(frozen_by=["INC1"]), "W2": NS(frozen_by=["INC1", "INC2"]),
               "W3": NS(frozen_by=["INC3"])}
    return NS(incidents=incidents, complaints=complaints, weapons=weapons)


def alert(code: str, subject: str) -> dict[str, str]:
    return {"code": code, "subject": subject, "message": f"{code} {subject}"}


def subjects(alerts: list[dict[str, str]]) -> list[str]:
    return [a["subject"] for a in alerts]


def test_alerts_from_before_the_last_wrap_or_about_closed_incidents_are_earlier() -> None:
    alerts = [alert("INCIDENT_OPEN", "incident:INC1"), alert("INCIDENT_OPEN", "incident:INC2"),
              alert("INCIDENT_OPEN", "incident:INC3"),
              alert("COMPLAINT_ACKNOWLEDGE", "complaint:C1"),
              alert("COMPLAINT_ACKNOWLEDGE", "complaint:C2"),
              alert("CUSTODY_WEAPON_FROZEN", "weapon:W1"),
              alert("CUSTODY_WEAPON_FROZEN", "weapon:W2"),
              alert("CUSTODY_WEAPON_FROZEN", "weapon:W3"),
              alert("CUSTODY_OVERDUE", "weapon:W4"),
              alert("PEOPLE_ROLE_CONFLICT", "person:P1"),
              alert("RENTAL_DUE_BACK", "weapon:W5")]
    now, earlier = split_alerts(state(), alerts, WRAP)
    assert subjects(earlier) == ["incident:INC1", "incident:INC3", "complaint:C1", "weapon:W1",
                                 "weapon:W3"]
    # W2 was frozen again since the wrap; overdue, role and rental alerts are always today's.
    assert subjects(now) == ["incident:INC2", "complaint:C2", "weapon:W2", "weapon:W4",
                             "person:P1", "weapon:W5"]
    assert len(now) + len(earlier) == len(alerts)  # folded, never dropped


def test_before_any_day_every_open_alert_is_current() -> None:
    alerts = [alert("INCIDENT_OPEN", "incident:INC1"),
              alert("COMPLAINT_ACKNOWLEDGE", "complaint:C1")]
    assert split_alerts(state(), alerts, None) == (alerts, [])


def test_the_strip_counts_out_hot_frozen_and_overdue_weapons() -> None:
    blanks = {"count": 9, "kind": "blank", "lot": "L2"}
    dummies = {"count": 6, "kind": "dummy", "lot": "L1"}
    empty = {"count": 0, "kind": "empty", "lot": None}
    rows = [{"state": "issued", "load": blanks}, {"state": "issued", "load": dummies},
            {"state": "inspected", "load": blanks}, {"state": "frozen", "load": blanks},
            {"state": "in_storage", "load": empty}, {"state": "retired", "load": empty}]
    overdue = [alert("CUSTODY_OVERDUE", "weapon:W1"), alert("CUSTODY_OVERDUE", "weapon:W2"),
               alert("INCIDENT_OPEN", "incident:INC1")]
    assert strip(rows, overdue) == {"out": 2, "hot": 3, "frozen": 1, "overdue": 2}
