"""The daily report: what happened on one production day, gathered from the ledger.

A production day ``X`` covers every entry recorded during a shooting day dated
``X`` (from its ``day.opened`` to its ``day.wrapped``, even when a night or a
far time zone carries it past midnight UTC), and every other entry whose UTC
date is ``X``. Each entry therefore belongs to exactly one day, and the daily
reports of a production together cover its whole ledger, none twice.

States (weapons, lots, complaints, incidents) are those after the last entry of
that period: what the producer would have seen on the board when the day ended.
Open safety complaints are listed whatever day they were filed
(``COMPLAINT_ACKNOWLEDGE``: "open complaints show on every daily report").

The ledger section is the latest signed checkpoint, signed afresh when the
ledger grew (reason ``report``), so the paper copy commits to every entry it
lists: a later rewrite of any of them would contradict it. The verifier key is
public; the signing key never appears here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from ..domain.errors import ColdcheckError, InvalidInput
from ..domain.events import Event, parse_utc, utc_text
from ..domain.incidents import COMPLAINT_ACK_HOURS
from ..domain.narrative import describe
from ..domain.production import alerts
from ..domain.state import ProductionState
from ..domain.zones import local_date, local_text, localise
from ..services.context import Context
from ..services.ledger import latest_checkpoint, sign_checkpoint
from .wording import (
    attempt_words,
    incident_words,
    plain_item,
    plain_roles,
    plain_words,
    role_words,
    round_words,
)

CHECKPOINT_REASON = "report"
DAY_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
REFUSALS = frozenset({"action.refused", "weapon.handoff_refused", "ammo.intake_refused"})
CUSTODY_MOVES = frozenset({"weapon.inspected", "weapon.issued", "weapon.returned",
                           "weapon.stored", "weapon.frozen", "weapon.unfrozen",
                           "weapon.retired"})
STATE_WORDS = {"in_storage": "In storage", "inspected": "Inspected", "issued": "ISSUED",
               "returned": "Returned", "frozen": "FROZEN", "retired": "Retired"}
KIND_WORDS = {"firearm": "firearm", "blank_only": "blank-firing",
              "non_firing_replica": "non-firing replica", "rubber": "rubber",
              "airsoft": "airsoft", "other": "other (treated as a firearm)"}


def parse_day(value: str) -> date:
    """A production day as ``YYYY-MM-DD``; anything else is INVALID_INPUT."""
    text = (value or "").strip()
    try:
        if not DAY_RE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("INVALID_INPUT", f"a day is a date like 2026-11-24 (YYYY-MM-DD), "
                           f"not {value!r}", field="day") from None


def default_day(st: ProductionState, now: datetime, tz: tzinfo | None = None) -> str:
    """The day a report is wanted for when none is named: the open shooting day's;
    else the last shooting day's if it is dated yesterday or later on set (a day
    wrapped after midnight); else today on set. "On set" is the calendar in
    ``tz``, the zone the production's pages show (``Settings.zone_for``); None:
    the production's own zone from the record (``ProductionState.zone``, UTC when
    it has set none)."""
    current = st.day()
    if current is not None:
        return current.date
    today = date.fromisoformat(local_date(now, st.zone if tz is None else tz))
    last = max(st.days.values(), key=lambda d: int(d.id[1:]), default=None)
    if last is not None and date.fromisoformat(last.date) >= today - timedelta(days=1):
        return last.date
    return today.isoformat()


@dataclass
class ShootingDay:
    id: str
    date: str
    opened_seq: int
    opened_at: str
    wrapped_seq: int | None = None
    wrapped_at: str | None = None


@dataclass
class Checkpoint:
    tree_size: int
    note: str
    signed_now: bool  # signed for this report (the ledger grew since the last one)
    covers_report: bool  # every entry of the report is inside the signed tree
    warning: str | None = None

    @property
    def lines(self) -> list[str]:
        """The note's lines exactly as signed (the empty line included)."""
        return self.note.split("\n")[:-1] if self.note.endswith("\n") else \
            self.note.split("\n")


@dataclass
class DailyReport:
    production: str
    name: str
    origin: str
    verifier_key: str
    day: str
    generated_at: str
    generated_by: str | None
    as_of: str  # the time of the states shown (end of the period, or now)
    head: int  # entries in the ledger when the report was made
    shooting_days: list[ShootingDay]
    timeline: list[dict[str, Any]]
    weapons: list[dict[str, Any]]
    lots: list[dict[str, Any]]
    verifications: list[dict[str, Any]]
    inspections: list[dict[str, Any]]
    custody: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    overrides: list[dict[str, Any]]
    refusals: list[dict[str, Any]]
    meetings: list[dict[str, Any]]
    scenes: list[dict[str, Any]]
    complaints_open: list[dict[str, Any]]
    complaints_day: list[dict[str, Any]]
    alerts: list[dict[str, str]]
    checkpoint: Checkpoint | None
    summary: dict[str, int] = field(default_factory=dict)
    # Page 1, for people: who handled each weapon that moved, and the counts at wrap.
    handled: list[dict[str, Any]] = field(default_factory=list)
    untouched: int = 0  # weapons that stayed where they were all day
    at_wrap: dict[str, int] = field(default_factory=dict)
    # Times on paper are the production's local time with its zone (the ledger and
    # ``to_dict`` stay UTC): its own zone as it is now, else the server's default.
    zone: str = "UTC"
    tz: tzinfo = UTC

    @property
    def first_seq(self) -> int | None:
        return self.timeline[0]["seq"] if self.timeline else None

    @property
    def last_seq(self) -> int | None:
        return self.timeline[-1]["last"] if self.timeline else None

    def to_dict(self) -> dict[str, Any]:
        """What ``--json`` prints besides the file: enough to find and check it."""
        cp = self.checkpoint
        return {"production": self.production, "day": self.day,
                "generated_at": self.generated_at, "entries": self.summary.get("entries", 0),
                "first_seq": self.first_seq, "last_seq": self.last_seq,
                "shooting_days": [d.id for d in self.shooting_days],
                "open_complaints": [c["id"] for c in self.complaints_open],
                "incidents": [i["id"] for i in self.incidents],
                "overrides": [o["id"] for o in self.overrides],
                "refusals": [r["seq"] for r in self.refusals],
                "timezone": self.zone,
                "checkpoint": None if cp is None else {
                    "tree_size": cp.tree_size, "note": cp.note, "signed_now": cp.signed_now,
                    "covers_report": cp.covers_report, "warning": cp.warning},
                "verifier_key": self.verifier_key}


# ---- gathering ---------------------------------------------------------------------
def shooting_days(events: Sequence[Event]) -> list[ShootingDay]:
    out: dict[str, ShootingDay] = {}
    for e in events:
        if e.type == "day.opened":
            out[e.payload["day"]] = ShootingDay(e.payload["day"], e.payload["date"], e.seq, e.at)
        elif e.type == "day.wrapped" and e.payload["day"] in out:
            out[e.payload["day"]].wrapped_seq, out[e.payload["day"]].wrapped_at = e.seq, e.at
    return list(out.values())


def report_dates(events: Sequence[Event], days: list[ShootingDay]) -> list[str]:
    """The production day each entry belongs to (index = seq)."""
    spans = sorted((d.opened_seq, d.wrapped_seq if d.wrapped_seq is not None else 2**63,
                    d.date) for d in days)
    out, i = [], 0
    for e in events:
        while i < len(spans) and spans[i][1] < e.seq:
            i += 1
        inside = i < len(spans) and spans[i][0] <= e.seq <= spans[i][1]
        out.append(spans[i][2] if inside else e.at[:10])
    return out


def daily_report(ctx: Context, *, day: str, at: datetime | None = None,
                 generated_by: str | None = None, sign: bool = True) -> DailyReport:
    """Gather the report of production day ``day`` (``YYYY-MM-DD``). With ``sign``,
    first sign a checkpoint if the ledger grew since the last one."""
    the_day = parse_day(day).isoformat()
    now = ctx.now(at)
    prod = ctx.store.production(ctx.production)
    events = ctx.store.events(ctx.production)  # read before signing: the note covers them
    checkpoint = _checkpoint(ctx, now, sign, len(events))
    days = shooting_days(events)
    dates = report_dates(events, days)
    mine = [e for e, d in zip(events, dates, strict=True) if d == the_day]
    cut = 1 + max((e.seq for e, d in zip(events, dates, strict=True) if d <= the_day),
                  default=-1)
    st = ProductionState.replayed(ctx.production, events[:cut])
    later = events[cut:]
    if not later:
        as_of = utc_text(now)
    elif cut:
        as_of = events[cut - 1].at
    else:  # a day before the production's first entry
        as_of = min(utc_text(now), f"{the_day}T23:59:59.999999Z")
    if checkpoint is not None and mine:
        checkpoint.covers_report = checkpoint.tree_size > mine[-1].seq
    own = next((str(e.payload["timezone"]) for e in reversed(events)
                if e.type == "production.timezone_set"), None)
    r = DailyReport(
        production=ctx.production, name=str(prod["name"]), origin=str(prod["origin"]),
        verifier_key=str(prod["verifier_key"]), day=the_day, generated_at=utc_text(now),
        generated_by=generated_by, as_of=as_of, head=len(events),
        shooting_days=[d for d in days if d.date == the_day],
        timeline=[], weapons=[], lots=[], verifications=[], inspections=[], custody=[],
        incidents=[], overrides=[], refusals=[], meetings=[], scenes=[],
        complaints_open=[], complaints_day=[],
        alerts=[dict(x, message=_plain_alert(x["message"]))
                for x in (alerts(st, parse_utc(as_of)) if st.seq else [])],
        checkpoint=checkpoint,
        zone=ctx.settings.zone_name(own), tz=ctx.settings.zone_for(own))
    _Gather(r, st, mine, later).run()
    return r


def _checkpoint(ctx: Context, now: datetime, sign: bool, size: int) -> Checkpoint | None:
    warning = None
    before = latest_checkpoint(ctx)
    found = before
    if sign and (before is None or before[0] < size):
        try:
            found = sign_checkpoint(ctx, reason=CHECKPOINT_REASON, at=now)
        except ColdcheckError as err:  # no key here (a copy of the database): say so
            warning = (f"No new checkpoint could be signed ({err.code}: {err.message}). "
                       "The checkpoint below is the latest one signed before.")
    if found is None:
        return None
    tree_size, note = found
    if tree_size < size and warning is None:
        warning = (f"The checkpoint below covers entries #0-#{tree_size - 1}; the ledger "
                   f"holds {size} entries.")
    return Checkpoint(tree_size, note, signed_now=before is None or tree_size > before[0],
                      covers_report=True, warning=warning)


class _Gather:
    """Fill a report's sections from the state at the end of the day and the day's
    entries."""

    def __init__(self, r: DailyReport, st: ProductionState, mine: list[Event],
                 later: list[Event]) -> None:
        self.r, self.st, self.mine, self.later = r, st, mine, later

    def name(self, ident: str | None) -> str:
        p = self.st.people.get(ident or "")
        return f"{p.name} ({p.id})" if p else str(ident or "—")

    def names(self, ids: Sequence[str]) -> str:
        return ", ".join(self.name(i) for i in ids) or "—"

    def run(self) -> None:
        r, st = self.r, self.st
        r.timeline = self.timeline()
        self.weapons()
        self.lots()
        by_type: dict[str, list[Event]] = {}
        for e in self.mine:
            by_type.setdefault(e.type, []).append(e)
        self.inspections(by_type.get("weapon.inspected", []))
        r.custody = [self.entry(e) for e in self.mine if e.type in CUSTODY_MOVES]
        self.incidents()
        r.overrides = [{"id": o.id, "seq": e.seq, "at": e.at, "rule": o.rule,
                        "subject": o.subject, "supervisor": self.name(o.supervisor),
                        "reason": o.reason, "day": o.day}
                       for e in by_type.get("rule.overridden", [])
                       for o in [st.overrides[e.payload["override"]]]]
        r.refusals = [{"seq": e.seq, "at": e.at, "actor": self.name(e.actor),
                       "device": e.device, "what": self.attempt(e),
                       "codes": list(e.payload.get("codes") or []),
                       "messages": [plain_roles(str(m))
                                    for m in e.payload.get("messages") or []],
                       "incident": e.payload.get("incident")}
                      for e in self.mine if e.type in REFUSALS]
        self.meetings(by_type.get("meeting.held", []))
        self.complaints()
        self.handled()
        r.summary = {
            "entries": len(self.mine), "refusals": len(r.refusals),
            "overrides": len(r.overrides),
            "incidents_opened": sum(1 for i in r.incidents if i["opened_today"]),
            "incidents_open": sum(1 for i in st.incidents.values() if i.open),
            "complaints_open": len(r.complaints_open),
            "issued": len(by_type.get("weapon.issued", [])),
            "inspections": len(by_type.get("weapon.inspected", [])),
            "weapons_out": sum(1 for w in st.weapons.values()
                               if w.state in ("issued", "inspected", "returned")),
            "frozen": sum(1 for w in st.weapons.values() if w.state == "frozen")}
        r.at_wrap = {
            "weapons": len(st.weapons),
            "stored": sum(1 for w in st.weapons.values() if w.state == "in_storage"),
            "out": r.summary["weapons_out"], "frozen": r.summary["frozen"],
            "retired": sum(1 for w in st.weapons.values() if w.state == "retired"),
            "lots": len(st.lots),
            "unbalanced": sum(1 for lt in st.lots.values() if not lt.balanced)}

    def short(self, ident: str | None) -> str:
        """A person by name only (page 1 is for people; the ids are in the sections)."""
        p = self.st.people.get(ident or "")
        return p.name if p else str(ident or "—")

    def handled(self) -> None:
        """Who had each weapon in hand this day: the armorers who inspected, issued,
        took back or stored it, and each performer's turn with it."""
        rows: dict[str, dict[str, Any]] = {}
        for e in self.mine:
            if e.type not in CUSTODY_MOVES:
                continue
            p = e.payload
            row = rows.setdefault(p["weapon"], {"weapon": p["weapon"], "armorers": [],
                                                "turns": [], "frozen": False})
            arm = p.get("armorer")
            if arm and self.short(arm) not in row["armorers"]:
                row["armorers"].append(self.short(arm))
            if e.type == "weapon.issued":
                row["turns"].append({"performer": self.short(p["performer"]),
                                     "scene": p["scene"], "out": e.at, "back": None,
                                     "fired": None})
            elif e.type == "weapon.returned":
                turn = next((t for t in reversed(row["turns"]) if t["back"] is None), None)
                if turn is None:  # issued on an earlier day
                    turn = {"performer": self.short(p["performer"]), "scene": None,
                            "out": None, "back": None, "fired": None}
                    row["turns"].append(turn)
                turn["back"], turn["fired"] = e.at, p["fired"]
            elif e.type == "weapon.frozen":
                row["frozen"] = True
        ended = {w["id"]: w for w in self.r.weapons}
        for ident, row in rows.items():
            w = ended.get(ident)
            row["what"] = w["what"] if w else ident
            row["state"] = w["state"] if w else "—"
            row["raw_state"] = w["raw_state"] if w else ""
            row["where"] = _short_where(w["where"]) if w else "—"
        self.r.handled = sorted(rows.values(), key=lambda x: int(x["weapon"][1:])
                                if x["weapon"][1:].isdigit() else 0)
        self.r.untouched = len(self.st.weapons) - len(rows)

    def timeline(self) -> list[dict[str, Any]]:
        """One row per entry, except that a run of rounds verified one after the other
        (same lot, person and method: one entry per round) is one row with its range."""
        rows: list[dict[str, Any]] = []
        for e in self.mine:
            last = rows[-1] if rows else None
            if (e.type == "ammo.round_verified" and last is not None
                    and last["type"] == e.type and last["last"] == e.seq - 1
                    and last["key"] == _run_key(e)):
                last["last"], last["rounds"] = e.seq, last["rounds"] + 1
                last["text"] = (f"{last['by']} verified rounds {last['first_round']} to "
                                f"{e.payload['round']} of {e.payload['lot']} "
                                f"({e.payload['method']}), one entry per round")
                continue
            row = self.entry(e)
            if e.type == "ammo.round_verified":
                row.update(key=_run_key(e), rounds=1, first_round=e.payload["round"],
                           by=self.name(e.payload["verified_by"]))
            rows.append(row)
        return rows

    def entry(self, e: Event) -> dict[str, Any]:
        """A row: the entry as a sentence in plain words, with its times local, and
        apart (printed small beside it) the codes it carries: a refusal's rule
        codes, an incident's id and rule."""
        text, codes = describe(e.type, e.payload, self.name), []
        if e.type in REFUSALS or e.type == "incident.opened":
            plain = plain_item({"type": e.type, "payload": e.payload, "text": text,
                                "actor_name": self.name(e.actor)})
            text, codes = plain["text"], list(dict.fromkeys(plain["codes"]))
            if e.type == "incident.opened":
                codes.insert(0, str(e.payload["incident"]))
        else:
            text = plain_words(text)
        return {"seq": e.seq, "last": e.seq, "at": e.at, "type": e.type,
                "actor": self.name(e.actor)
                if e.actor in self.st.people else e.actor, "device": e.device,
                "text": self.local(e, text), "codes": codes,
                "refused": e.type in REFUSALS,
                "alarm": e.type in ("incident.opened", "weapon.frozen",
                                    "ammo.verification_failed", "rule.overridden")}

    def local(self, e: Event, text: str) -> str:
        """A sentence with the times in it in the report's zone: the narrative writes
        a due time as "due back 14:35 UTC" and other times as RFC 3339 UTC."""
        due = e.payload.get("due_at")
        if isinstance(due, str) and len(due) >= 16:
            text = text.replace(f"{due[11:16]} UTC",
                                local_text(due, self.r.tz, seconds=False))
        return localise(text, self.r.tz)

    def attempt(self, e: Event) -> str:
        p = e.payload
        if e.type == "weapon.handoff_refused":
            return (f"{p['action']} of {p['weapon']} from {self.name(p['from'])} "
                    f"to {self.name(p['to'])}")
        if e.type == "ammo.intake_refused":
            return (f"intake of {p['count']} {p['kind']} {p['calibre']} from "
                    f"{p['supplier']} (lot {p['supplier_lot']})")
        return attempt_words(str(p["action"]), str(p["subject"]))

    def weapons(self) -> None:
        st = self.st
        for w in st.weapons.values():
            if w.custodian:
                where = f"with {self.name(w.custodian)}"
            elif w.storage:
                where = f"locked in {st.storage.get(w.storage, {}).get('name', w.storage)} " \
                        f"({w.storage})"
            else:
                where = "—"
            load = _load(w.load) if w.is_firearm else "replica (takes no rounds)"
            self.r.weapons.append({
                "id": w.id, "serial": w.serial, "what": f"{w.make} {w.model}",
                "kind": KIND_WORDS.get(w.kind, w.kind), "calibre": w.calibre,
                "state": STATE_WORDS.get(w.state, w.state), "raw_state": w.state,
                "where": where, "load": load, "frozen_by": list(w.frozen_by),
                "due_at": w.due_at})

    def lots(self) -> None:
        st = self.st
        verified: dict[str, dict[str, Any]] = {}
        for e in self.mine:
            if e.type in ("ammo.round_verified", "ammo.verification_failed"):
                v = verified.setdefault(e.payload["lot"], {"lot": e.payload["lot"], "passed": 0,
                                                           "failed": [], "methods": set(),
                                                           "by": set()})
                if e.type == "ammo.round_verified":
                    v["passed"] += 1
                    v["methods"].add(e.payload["method"])
                    v["by"].add(self.name(e.payload["verified_by"]))
                else:
                    v["failed"].append(f"round {e.payload['round']}: {e.payload['finding']}")
        self.r.verifications = [dict(v, methods=", ".join(sorted(v["methods"])),
                                     by=", ".join(sorted(v["by"]))) for v in verified.values()]
        for lt in st.lots.values():
            s = lt.summary()
            status = []
            if lt.failed_verification:
                status.append("FAILED VERIFICATION")
            if lt.quarantined_by:
                status.append(f"QUARANTINED by {', '.join(lt.quarantined_by)}")
            if lt.kind == "evidence":
                status.append(f"evidence for {lt.incident}")
            if not lt.balanced:
                status.append(f"{lt.in_weapons} in weapons")
            kind = round_words(lt.kind) + (f" ({lt.load} load)" if lt.load else "")
            dummy = None
            if lt.kind == "dummy":
                dummy = (f"{lt.verified_total} of {lt.received} checked round by round; "
                         f"{lt.verified_in_stock} verified on hand, "
                         f"{max(0, lt.on_hand - lt.verified_in_stock)} not verified")
            self.r.lots.append({"id": lt.id, "kind": kind, "rounds": round_words(lt.kind),
                                "calibre": lt.calibre,
                                "supplier": lt.supplier, "supplier_lot": lt.supplier_lot,
                                "dummy": dummy, "status": "; ".join(status) or "ok", **s})

    def inspections(self, events: list[Event]) -> None:
        for e in events:
            i = self.st.inspections[e.payload["inspection"]]
            w = self.st.weapons[i.weapon]
            self.r.inspections.append({
                "id": i.id, "seq": e.seq, "at": e.at, "weapon": f"{w.id} ({w.serial})",
                "weapon_id": w.id, "serial": w.serial,
                "armorer": self.name(i.armorer), "scene": i.scene or "—",
                "load": _load(i.load), "complete": i.complete, "missing": i.missing,
                "positions": len(i.positions), "barrel_clear": i.barrel_clear,
                "witnesses": [f"{self.name(x['person'])} as {role_words(x['role'])}"
                              for x in i.witnesses],
                "used": i.used})

    def incidents(self) -> None:
        ids = {e.payload["incident"] for e in self.mine
               if e.type in ("incident.opened", "incident.closed")}
        opened = {e.payload["incident"]: e for e in self.mine if e.type == "incident.opened"}
        closed = {e.payload["incident"]: e for e in self.mine if e.type == "incident.closed"}
        for i in self.st.incidents.values():
            if i.id not in ids and not i.open:
                continue
            ev_lot = self.st.lots.get(i.evidence_lot or "")
            closer = closed.get(i.id)
            self.r.incidents.append({
                "id": i.id, "kind": i.kind.replace("_", " "), "headline": incident_words(i.kind),
                "description": i.description,
                "reported_by": self.name(i.reported_by), "opened_at": i.opened_at,
                "opened_seq": opened[i.id].seq if i.id in opened else None,
                "opened_today": i.id in opened, "open": i.open,
                "rule": opened[i.id].payload.get("rule") if i.id in opened else None,
                "weapons": i.weapons, "lots": i.lots,
                "evidence": (f"{ev_lot.id}: {ev_lot.received} round(s) recorded one by one"
                             if ev_lot else None),
                "closed_at": i.closed_at, "closed_seq": closer.seq if closer else None,
                "corrective_action": i.corrective_action,
                "closed_by": (f"{self.name(closer.payload['armorer'])} and "
                              f"{self.name(closer.payload['supervisor'])}" if closer else None)})

    def meetings(self, events: list[Event]) -> None:
        day_ids = {d.id for d in self.r.shooting_days}
        seen = set()
        for e in events:
            seen.add(e.payload["meeting"])
        for m in self.st.meetings.values():
            if m.id not in seen and m.day not in day_ids:
                continue
            held = next((e for e in events if e.payload["meeting"] == m.id), None)
            self.r.meetings.append({
                "id": m.id, "seq": held.seq if held else None, "at": held.at if held else None,
                "led_by": self.name(m.led_by), "scenes": m.scenes or ["general"],
                "attendees": [self.name(p) for p in m.attendees]})
        for sc in self.st.scenes.values():
            if sc.day in day_ids:
                self.r.scenes.append({
                    "id": sc.id, "name": sc.name, "hot": sc.hot, "rehearsal": sc.rehearsal,
                    "pointing": sc.pointing_description if sc.pointing else None,
                    "weapons": sc.weapons, "performers": self.names(sc.performers),
                    "meeting": any(sc.id in m.scenes for m in self.st.meetings.values())})

    def complaints(self) -> None:
        ack_later = {e.payload["complaint"]: e for e in self.later
                     if e.type == "complaint.acknowledged"}
        as_of = parse_utc(self.r.as_of)
        for c in self.st.complaints.values():
            hours = (as_of - parse_utc(c.filed_at)).total_seconds() / 3600
            if c.acknowledged_at is None:
                later = ack_later.get(c.id)
                self.r.complaints_open.append({
                    "id": c.id, "by": self.st.complainant(c, ids=True),
                    "by_name": self.st.complainant(c),
                    "text": c.text, "filed_at": c.filed_at,
                    "hours": int(hours), "overdue": hours > COMPLAINT_ACK_HOURS,
                    "later": None if later is None else {
                        "seq": later.seq, "at": later.at, "by": self.name(later.payload["by"]),
                        "response": later.payload["response"]}})
        for e in self.mine:
            if e.type in ("complaint.filed", "complaint.received", "complaint.acknowledged"):
                c = self.st.complaints[e.payload["complaint"]]
                ack = e.type == "complaint.acknowledged"
                self.r.complaints_day.append({
                    "seq": e.seq, "at": e.at, "id": c.id,
                    "what": "acknowledged" if ack else "filed",
                    "by": self.name(e.payload["by"]) if ack
                    else self.st.complainant(c, ids=True),
                    "text": e.payload["response"] if ack else c.text})


def _plain_alert(message: str) -> str:
    """An alert as the board words it, its kind codes read out: "incident INC1
    (live_ammunition) open" -> "incident INC1 (live ammunition) open"."""
    return plain_words(re.sub(r"\(([a-z]+(?:_[a-z]+)+)\)",
                              lambda m: f"({m.group(1).replace('_', ' ')})", message))


def _short_where(where: str) -> str:
    """"with Alex Stone (P6)" -> "with Alex Stone"; storage keeps its name only."""
    return re.sub(r" \((?:P|ST)[0-9]+\)$", "", where)


def _run_key(e: Event) -> tuple[str, str, str, str]:
    p = e.payload
    return e.actor, str(p["lot"]), str(p["verified_by"]), str(p["method"])


def _load(load: dict[str, object] | None) -> str:
    if not load or not load.get("count"):
        return "empty"
    n, kind = load["count"], str(load["kind"])
    # "6 dummies", "10 blanks", "1 dummy" (never "6 dummys")
    return plain_words(f"{n} {kind} from {load['lot']}")


