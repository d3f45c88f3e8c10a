"""The return manifest: what goes back to a vendor, made from the record.

For a recorded return (``vendor.returned``, VR1 …) it lists what went back, in
the condition noted then, with the rounds used per lot as they stood at the
return. Before a return it lists what of the vendor's is still here, to go
back, with blank lines for the condition out and, for anything RENTAL_RETURN_HELD
would keep, why. Either way it shows what came in on the vendor's receipts (line
by line, with every difference from their manifest), the rounds fired through
each weapon and used from each lot, the incidents naming any of the items, and
signature lines for the vendor and the armorer. Making it records nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from ..domain import checks
from ..domain.errors import NotFound
from ..domain.events import utc_text
from ..domain.rental import rounds_used, still_here
from ..domain.state import ProductionState
from ..services.context import Context
from .daily import KIND_WORDS
from .wording import incident_words, plain_words

DIFFERENCE_WORDS = {"missing_item": "missing", "extra_item": "extra (not on the manifest)",
                    "count_differs": "count differs", "serial_differs": "serial differs",
                    "refused_at_intake": "refused at intake"}


@dataclass
class ReceiptLine:
    line: int | None
    kind: str
    description: str
    serial: str
    count: int  # on the manifest (extra items: as found)
    found: int | None  # as checked in (None: not checked in yet)
    condition: str | None
    difference: str | None
    item: str | None  # what it became: W1, L2, AC3
    now: str = ""  # "goes back", "still here", "went back (VR1)", "" (nothing taken in)


@dataclass
class ReceiptPart:
    id: str
    opened_at: str
    agreement: str
    insurance: str
    due_back: str | None
    armorer: str
    signed_by: str | None
    signed_at: str | None
    lines: list[ReceiptLine]


@dataclass
class WeaponPart:
    id: str
    serial: str
    description: str
    kind: str
    came_in: str  # "receipt RC1 line 1", "owner recorded"
    condition_in: str | None
    condition_out: str | None  # None: to be noted at the counter
    fired: int  # blanks fired through it, as the returns to the armorer counted them
    issues: int  # times it went out to a performer
    kit: list[str]  # accessories going back with it
    kit_missing: list[str]  # noted missing from its kit
    held: str | None = None  # before a return: why RENTAL_RETURN_HELD keeps it


@dataclass
class LotPart:
    id: str
    description: str
    came_in: str
    rounds: dict[str, int]  # received, fired, lost, destroyed, evidence, returned
    condition_out: str | None
    held: str | None = None


@dataclass
class IncidentPart:
    id: str
    kind: str
    opened_at: str
    description: str
    names: list[str]  # the weapons and lots of this manifest it names
    open: bool
    corrective_action: str | None
    closed_at: str | None


@dataclass
class ReturnManifest:
    production: str
    name: str
    vendor_id: str
    vendor_name: str
    vendor_kind: str
    vendor_contact: str
    return_id: str | None  # None: what is to go back (nothing recorded yet)
    returned_at: str | None
    returned_seq: int | None
    armorer: str | None  # "Sam Reyes (P1)": who recorded the return
    generated_at: str
    head: int
    agreements: list[str]
    receipts: list[ReceiptPart] = field(default_factory=list)
    weapons: list[WeaponPart] = field(default_factory=list)
    lots: list[LotPart] = field(default_factory=list)
    loose: list[str] = field(default_factory=list)  # accessories not on a weapon's kit
    incidents: list[IncidentPart] = field(default_factory=list)
    # Times on paper: the production's zone as it is now, else the server's default
    # (as the daily report); the ledger and to_dict stay UTC.
    zone: str = "UTC"
    tz: tzinfo = UTC

    @property
    def draft(self) -> bool:
        return self.return_id is None

    def to_dict(self) -> dict[str, Any]:
        return {"production": self.production, "vendor": self.vendor_id,
                "vendor_name": self.vendor_name, "return": self.return_id,
                "returned_at": self.returned_at, "generated_at": self.generated_at,
                "head": self.head,
                "receipts": [r.id for r in self.receipts],
                "weapons": [asdict(w) for w in self.weapons],
                "lots": [asdict(x) for x in self.lots], "accessories": list(self.loose),
                "incidents": [i.id for i in self.incidents]}


def _person(st: ProductionState, pid: str | None) -> str | None:
    if pid is None:
        return None
    p = st.people.get(pid)
    return f"{p.name} ({p.id})" if p else pid


def _accessory(st: ProductionState, ident: str) -> str:
    a = st.accessories[ident]
    n = f"{a['count']} × " if a["count"] != 1 else ""
    return f"{n}{a['description']}" + (f" #{a['serial']}" if a["serial"] else "") + \
        f" ({ident})"


def _came_in(st: ProductionState, kind: str, ident: str) -> tuple[str, str | None]:
    o = st.owner(kind, ident) or {}
    rc = o.get("receipt")
    if rc is None:
        return "owner recorded (no receipt)", None
    for c in st.receipts[rc]["checked"]:
        if c[kind] == ident:
            where = f"line {c['line']}" if c["line"] is not None else "extra item"
            return f"receipt {rc}, {where}", c["condition"]
    return f"receipt {rc}", None  # pragma: no cover - an owner from a receipt has its line


def _now(st: ProductionState, x: ReceiptLine, going: set[str]) -> str:
    """Where the item of a receipt line is now, seen from this manifest."""
    if x.item is None:
        return ""
    if x.item in going:
        return "goes back"
    kind = x.kind
    back = st.gone_back(kind, x.item)
    if back is not None:
        return f"went back ({back})"
    if kind == "accessory" and st.accessories[x.item]["state"] == "missing":
        return "missing from its kit"
    return "still here"


def return_manifest(ctx: Context, vendor: str, *, return_id: str | None = None,
                    at: datetime) -> ReturnManifest:
    """The manifest of return ``return_id`` to ``vendor``; without one, of the
    vendor's latest return, or of what is to go back while something of theirs is
    still here."""
    st = ctx.store.state(ctx.production)
    v = st.vendor(vendor)
    returns = [x for x in st.vendor_returns.values() if x["vendor"] == v["id"]]
    here = still_here(st, v["id"])
    if return_id is not None:
        vr = st.vendor_returns.get(return_id)
        if vr is None or vr["vendor"] != v["id"]:
            raise NotFound("return", return_id)
    elif returns and not (here["weapon"] or here["lot"] or here["accessory"]):
        vr = returns[-1]
    else:
        vr = None
    if vr is not None:
        weapons, lots = list(vr["weapons"]), list(vr["lots"])
        accs, conditions = list(vr["accessories"]), dict(vr["conditions"])
        rounds = {lot: dict(r) for lot, r in vr["rounds"].items()}
        before = vr["seq"]
    else:
        weapons, lots = here["weapon"], here["lot"]
        accs = [a["id"] for w in weapons for a in st.kit(w) if a["state"] == "present"]
        accs += [a for a in here["accessory"] if st.accessories[a]["weapon"] is None
                 and st.accessories[a]["state"] == "present"]
        conditions = {}
        rounds = {lot: rounds_used(st, lot) for lot in lots}
        before = st.seq + 1

    # Rounds fired through each weapon, and its issues, from its own timeline.
    fired = dict.fromkeys(weapons, 0)
    issues = dict.fromkeys(weapons, 0)
    if weapons:
        seqs = [s for s in ctx.store.timeline_seqs(ctx.production,
                                                   [("weapon", w) for w in weapons])
                if s < before]
        for e in ctx.store.events_at(ctx.production, seqs):
            w = e.payload.get("weapon")
            if w in fired and e.type == "weapon.returned":
                fired[w] += int(e.payload.get("fired") or 0)
            elif w in issues and e.type == "weapon.issued":
                issues[w] += 1

    m = ReturnManifest(
        production=st.production, name=st.name, vendor_id=v["id"], vendor_name=v["name"],
        vendor_kind=v["kind"], vendor_contact=v["contact"],
        return_id=vr["id"] if vr else None, returned_at=vr["at"] if vr else None,
        returned_seq=vr["seq"] if vr else None, armorer=_person(st, vr["armorer"]) if vr
        else None, generated_at=utc_text(at), head=st.seq,
        zone=ctx.settings.zone_name(st.timezone), tz=ctx.settings.zone_for(st.timezone),
        agreements=sorted({o["agreement"] for o in st.owners.values()
                           if o["vendor"] == v["id"] and o["agreement"]}))
    for w_id in weapons:
        w = st.weapons[w_id]
        came, cond_in = _came_in(st, "weapon", w_id)
        kit = st.kit(w_id)
        held = None
        if vr is None:
            viol = checks.rental.weapon_returnable(st, w)
            held = viol[0].message if viol else None
        m.weapons.append(WeaponPart(
            id=w_id, serial=w.serial, description=f"{w.make} {w.model} ({w.calibre})",
            kind=KIND_WORDS.get(w.kind, w.kind), came_in=came, condition_in=cond_in,
            condition_out=conditions.get(w_id), fired=fired[w_id], issues=issues[w_id],
            kit=[_accessory(st, a["id"]) for a in kit if a["id"] in accs],
            kit_missing=[_accessory(st, a["id"]) for a in kit if a["state"] == "missing"],
            held=held))
    for lot_id in lots:
        lot = st.lots[lot_id]
        came, _ = _came_in(st, "lot", lot_id)
        held = None
        if vr is None:
            viol = checks.rental.lot_returnable(st, lot)
            held = viol[0].message if viol else None
        m.lots.append(LotPart(
            id=lot_id, description=f"{lot.kind}{f' ({lot.load})' if lot.load else ''} "
            f"{lot.calibre}, lot {lot.supplier_lot}", came_in=came, rounds=rounds[lot_id],
            condition_out=conditions.get(lot_id), held=held))
    m.loose = [_accessory(st, a) for a in accs if st.accessories[a]["weapon"] is None]
    going = set(weapons) | set(lots) | set(accs)
    for rc in st.receipts.values():
        if rc["vendor"] != v["id"]:
            continue
        by_line = {c["line"]: c for c in rc["checked"] if c["line"] is not None}
        lines = []
        for x in rc["manifest"]:
            c = by_line.get(x["line"])
            lines.append(ReceiptLine(
                line=x["line"], kind=x["kind"], description=x["description"],
                serial=x["serial"], count=x["count"], found=None if c is None else c["count"],
                condition=None if c is None else c["condition"],
                difference=None if c is None else c["difference"],
                item=None if c is None else (c["weapon"] or c["lot"] or c["accessory"])))
        for c in rc["checked"]:
            if c["line"] is None:
                lines.append(ReceiptLine(
                    line=None, kind=c["kind"], description=c["description"],
                    serial=c["serial"], count=c["count"], found=c["count"],
                    condition=c["condition"], difference=c["difference"],
                    item=c["weapon"] or c["lot"] or c["accessory"]))
        for x in lines:
            x.now = _now(st, x, going)
        sig = rc["signed"]
        m.receipts.append(ReceiptPart(
            id=rc["id"], opened_at=rc["opened_at"], agreement=rc["agreement"],
            insurance=rc["insurance"], due_back=rc["due_back"],
            armorer=_person(st, rc["armorer"]) or "", signed_by=_person(
                st, sig["armorer"]) if sig else None, signed_at=sig["at"] if sig else None,
            lines=lines))
    named = set(weapons) | set(lots)
    for i in st.incidents.values():
        hits = [x for x in [*i.weapons, *i.lots] if x in named]
        if hits:
            m.incidents.append(IncidentPart(
                id=i.id, kind=incident_words(i.kind), opened_at=i.opened_at,
                description=plain_words(i.description), names=hits, open=i.open,
                corrective_action=i.corrective_action, closed_at=i.closed_at))
    return m


def render_manifest_html(m: ReturnManifest, *, paper: str = "a4") -> str:
    from .pdf import MARGIN_MM, PAPER, _env, check_paper

    paper = check_paper(paper)
    return _env.get_template("manifest.html").render(
        m=m, page_size=PAPER[paper][0], margin=MARGIN_MM, differences=DIFFERENCE_WORDS)


def render_manifest_pdf(m: ReturnManifest, *, paper: str = "a4") -> bytes:
    from .pdf import write_pdf

    return write_pdf(render_manifest_html(m, paper=paper))
