"""Reading: the live board, the armory, a weapon, a lot; scanning and labels."""

from __future__ import annotations

import io
from typing import Any

import segno
from starlette.responses import Response

from ...documents import default_day
from ...domain.custody import VERIFY_METHODS
from ...domain.errors import NotFound
from ...domain.events import EVENT_TYPES, parse_utc
from ...domain.weapons import Weapon
from ...services import queries, webhook
from ..access import Page, production_page
from ..http import Req, go, json_response, render, view
from ..present import load_class


def weapon_rows(page: Page, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The board's weapons (``data``: the board, if already built), with what the
    tablet shows about each."""
    if data is None:  # the weapons' own alerts need no checkpoint read
        data = queries.board(page.st, page.now)
    alerts: dict[str, list[str]] = {}
    for a in data["alerts"]:
        kind, _, ident = a["subject"].partition(":")
        if kind == "weapon":
            alerts.setdefault(ident, []).append(a["code"])
    rows = []
    for w in data["weapons"]:
        out = page.st.weapons[w["id"]]
        where = (page.st.storage.get(w["storage"] or "", {}).get("name")
                 if w["storage"] else None)
        rows.append({**w, "where": where, "alerts": alerts.get(w["id"], []),
                     "out_minutes": _minutes(page, w["issued_at"]),
                     "firearm": out.is_firearm, "kind_label": out.kind})
    order = {"issued": 0, "frozen": 1, "inspected": 2, "returned": 3, "in_storage": 4,
             "retired": 5}
    rows.sort(key=lambda r: (order.get(r["state"], 9), int(r["id"][1:])))
    return rows


def _minutes(page: Page, at: str | None) -> int | None:
    from ..present import minutes_since

    return minutes_since(at, page.now)


def since(page: Page) -> str | None:
    """When the board's present began: the open day's opening, else the last
    day's wrap (None before any day). Alerts that arose before it are earlier ones."""
    st = page.st
    day = st.day()
    if day is not None:
        want, ident = "day.opened", day.id
    else:
        closed = [d for d in st.days.values() if not d.open]
        if not closed:
            return None
        want, ident = "day.wrapped", closed[-1].id
    for e in reversed(page.events(page.seqs(ident))):
        if e["type"] == want:
            return str(e["at"])
    return None


def split_alerts(st: Any, alerts: list[dict[str, str]],
                 start: str | None) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The board's alerts as (current, earlier): earlier ones arose before
    ``start`` (on a day already wrapped: an open incident, an unacknowledged
    complaint, a weapon frozen then) or concern only closed incidents. Overdue
    weapons, rentals, role conflicts and the ledger's alerts are always current.
    Earlier ones are still shown, folded away, never dropped."""
    current: list[dict[str, str]] = []
    earlier: list[dict[str, str]] = []
    for a in alerts:
        kind, _, ident = a["subject"].partition(":")
        origin: str | None = None
        closed = False
        if kind == "incident" and ident in st.incidents:
            inc = st.incidents[ident]
            origin, closed = inc.opened_at, not inc.open
        elif kind == "complaint" and ident in st.complaints:
            origin = st.complaints[ident].filed_at
        elif a["code"] == "CUSTODY_WEAPON_FROZEN" and ident in st.weapons:
            incs = [st.incidents[i] for i in st.weapons[ident].frozen_by if i in st.incidents]
            if incs:
                origin = max(i.opened_at for i in incs)
                closed = not any(i.open for i in incs)
        old = closed or (start is not None and origin is not None
                         and parse_utc(origin) < parse_utc(start))
        (earlier if old else current).append(a)
    return current, earlier


def strip(rows: list[dict[str, Any]], alerts: list[dict[str, str]]) -> dict[str, int]:
    """The counts at the top of the board: weapons out (issued), hot (blanks in
    them), frozen and overdue."""
    live = [r for r in rows if r["state"] != "retired"]
    return {"out": sum(r["state"] == "issued" for r in live),
            "hot": sum(load_class(r["load"]) == "hot" for r in live),
            "frozen": sum(r["state"] == "frozen" for r in live),
            "overdue": len({a["subject"] for a in alerts if a["code"] == "CUSTODY_OVERDUE"})}


def board_ctx(page: Page) -> dict[str, Any]:
    # Page views run in a worker thread: the checkpoint read may block.
    data = queries.board(page.st, page.now,
                         signed=queries.signed_size(page.call.state.store, page.st))
    data["alerts"] += webhook.failing(page.call.state.store, page.production, page.st)
    report_day = default_day(page.st, page.now, page.tz)
    report = (f"/api/v1/productions/{page.production}/reports/daily/{report_day}.pdf"
              if page.can("report.daily") else None)
    rows = weapon_rows(page, data)
    current, earlier = split_alerts(page.st, data["alerts"], since(page))
    return {"rows": rows, "alerts": data["alerts"], "day": page.st.day(),
            "current_alerts": current, "earlier_alerts": earlier,
            "counts": strip(rows, data["alerts"]),
            "report_day": report_day, "report_url": report,
            "lots": list(page.st.lots.values()),
            "stream": f"/api/v1/productions/{page.production}/events/stream",
            "event_types": " ".join(sorted(EVENT_TYPES))}


@view
def board(req: Req) -> Response:
    page = production_page(req)
    return render(req, "board.html", page.ctx(**board_ctx(page)), block="board")


@view
def armory(req: Req) -> Response:
    page = production_page(req)
    return render(req, "armory.html", page.ctx(rows=weapon_rows(page)))


def weapon_ctx(page: Page, weapon: str) -> dict[str, Any]:
    w: Weapon = page.st.weapon(weapon)
    insp = page.st.inspections.get(w.inspection or "")
    scenes = [s for s in page.st.scenes.values()
              if s.day == page.st.current_day and w.id in s.weapons]
    armorers = [p for p in page.st.people.values() if p.is_armorer]
    return {"w": w, "insp": insp, "scenes": scenes, "seen": page.version(w.id),
            "timeline": page.timeline(weapon=w.id), "armorers": armorers,
            "armorer_ids": {p.id for p in armorers},
            "storage": list(page.st.storage.values()),
            "incidents": [page.st.incidents[i] for i in w.frozen_by],
            "people": list(page.st.people.values())}


@view
def weapon_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "weapon.html", page.ctx(**weapon_ctx(page, req.param("weapon"))))


def lot_ctx(page: Page, lot: str) -> dict[str, Any]:
    lt = page.st.lot(lot)
    return {"lot": lt, "seen": page.version(lt.id), "timeline": page.timeline(lot=lt.id),
            "unverified": lt.on_hand - lt.verified_in_stock,
            "storage": page.st.storage.get(lt.storage or "", {}).get("name", "")}


@view
def lot_page(req: Req) -> Response:
    page = production_page(req)
    method = req.query("method")
    return render(req, "lot.html", page.ctx(**lot_ctx(page, req.param("lot")),
                                            method=method if method in VERIFY_METHODS else ""))


# ---- scanning ------------------------------------------------------------------
def resolve(page: Page, code: str) -> dict[str, str] | None:
    """What a scanned or typed code names: ``weapon:W1``, ``lot:L1``, ``person:P1``,
    a bare id, a weapon's serial number or a badge code (case-insensitive)."""
    raw = code.strip()
    kind, sep, ident = raw.partition(":")
    st = page.st
    if sep and kind in ("weapon", "lot", "person"):
        raw = ident.strip()
    up = raw.upper()
    if up in st.weapons:
        w = st.weapons[up]
        return {"kind": "weapon", "id": w.id, "label": f"{w.id} · {w.make} {w.model}",
                "url": page.url(f"weapons/{w.id}")}
    if up in st.lots:
        lt = st.lots[up]
        return {"kind": "lot", "id": lt.id, "label": f"{lt.id} · {lt.kind} {lt.calibre}",
                "url": page.url(f"lots/{lt.id}")}
    if up in st.people:
        p = st.people[up]
        return {"kind": "person", "id": p.id, "label": f"{p.name} ({p.id})",
                "url": page.url(f"people/{p.id}")}
    wid = st.serials.get(raw.casefold())
    if wid:
        return resolve(page, wid)
    for badge, pid in st.badges.items():
        if badge.casefold() == raw.casefold():
            return resolve(page, pid)
    return None


@view
def scan_page(req: Req) -> Response:
    page = production_page(req)
    code = req.query("code").strip()
    found = resolve(page, code) if code else None
    if found and not req.query("stay"):
        return go(req, found["url"])
    return render(req, "scan.html", page.ctx(code=code, found=found))


@view
def resolve_json(req: Req) -> Response:
    page = production_page(req)
    found = resolve(page, req.query("code"))
    if found is None:
        err = NotFound("weapon, lot or person", req.query("code") or "")
        return json_response({"code": err.code, "detail": err.message}, 404)
    return json_response(found)


# ---- labels --------------------------------------------------------------------
def label_text(kind: str, ident: str, page: Page) -> str:
    """What a label's QR code holds: badges carry the badge code printed on them."""
    if kind == "person":
        return page.st.person(ident).badge
    return f"{kind}:{ident}"


def qr_svg(data: str, *, scale: int = 6) -> str:
    buf = io.BytesIO()
    segno.make_qr(data, error="m").save(buf, kind="svg", scale=scale, border=4, xmldecl=False,
                                     svgns=True, title=data, dark="#000", light="#fff")
    return buf.getvalue().decode()


@view
def labels(req: Req) -> Response:
    from ...documents.labels import all_labels

    page = production_page(req)
    items = [{"kind": lb.kind, "id": lb.id, "title": lb.title,
              "lines": [x for x in lb.lines if x], "svg": qr_svg(lb.data)}
             for lb in all_labels(page.st)]
    return render(req, "labels.html", page.ctx(
        items=items,
        pdf=f"/api/v1/productions/{page.production}/labels.pdf"))


@view
def label_png(req: Req) -> Response:
    """One label's QR code as PNG (for printing elsewhere)."""
    page = production_page(req)
    kind, ident = req.param("kind"), req.param("ident")
    if kind not in ("weapon", "lot", "person"):
        return Response(status_code=404)
    if kind == "weapon":
        page.st.weapon(ident)
    elif kind == "lot":
        page.st.lot(ident)
    buf = io.BytesIO()
    segno.make_qr(label_text(kind, ident, page), error="m").save(buf, kind="png", scale=8,
                                                                border=4)
    return Response(buf.getvalue(), media_type="image/png")
