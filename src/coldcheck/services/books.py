"""Import and export: an inventory from CSV, the inventory and the custody
events as CSV, and the bound book (acquisitions and dispositions).

An import is one write transaction. Every row goes through the intake decision
the single commands use (``custody.receive_weapon`` / ``custody.receive_lot``,
which ``actions.receive_weapon`` / ``actions.receive_lot`` run), in file order,
each against the state the rows before it left, so every intake rule holds and
a serial twice in the file is a duplicate like one already on the production.
Every row is tried; if any is refused, or the run is a dry run, the
transaction is rolled back: nothing at all is written (not even a refusal: a
line of a spreadsheet is not an action on set). Otherwise the transaction
commits every row at once. A process that dies before the commit leaves the
database as it was; there is no half-import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..domain import checks, credentials, custody
from ..domain.errors import ColdcheckError, InvalidInput, RuleViolation
from ..domain.events import Event, NewEvent
from ..domain.narrative import describe
from ..domain.state import ProductionState
from ..domain.subjects import subjects
from ..domain.zones import local_date, local_text
from .context import Context

IMPORT_MAX_ROWS = 5000

# name: (required, what it holds) — docs/import-export.md has the same tables.
WEAPON_COLUMNS: dict[str, tuple[bool, str]] = {
    "serial": (True, "The serial number, unique on the production (case ignored)."),
    "make": (True, "The maker."),
    "model": (True, "The model."),
    "calibre": (True, "The calibre, as the lots name it (9mm, .45 Colt…)."),
    "kind": (True, "firearm, blank_only, non_firing_replica, rubber, airsoft or other."),
    "chambers": (False, "Cylinder positions, or 1 for a single chamber (default 1)."),
    "magazine_capacity": (False, "Rounds in a full magazine, 0 if none (default 0)."),
    "storage": (True, "Where it is locked: a storage id (ST1) or a storage name."),
    "weapon_class": (False, "handgun, long_gun or full_auto, as `weapon classify` records "
                            "it (a property master's credential must cover it); empty: "
                            "none recorded."),
}
LOT_COLUMNS: dict[str, tuple[bool, str]] = {
    "kind": (True, "dummy or blank. A live row refuses the whole import."),
    "load": (False, "Blanks: full, half or quarter. Empty for dummies."),
    "calibre": (True, "The calibre."),
    "supplier": (True, "Who supplied the lot."),
    "supplier_lot": (True, "The supplier's lot number."),
    "count": (True, "Rounds in the box, a whole number of at least 1."),
    "storage": (True, "Where it is locked: a storage id (ST1) or a storage name."),
}
COLUMNS = {"weapons": WEAPON_COLUMNS, "lots": LOT_COLUMNS}


class _RollBack(Exception):
    """Leave the import's transaction without committing anything."""


@dataclass
class ImportResult:
    what: str  # weapons | lots
    file: str
    dry_run: bool
    rows: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "file": self.file, "dry_run": self.dry_run,
                "rows": self.rows, "valid": not self.errors, "errors": self.errors,
                "recorded": [] if self.dry_run else self.ids,
                "would_record": self.ids if self.dry_run else [],
                "events": [e.seq for e in self.events],
                "ignored_columns": self.ignored_columns}


def read_rows(data: str, what: str) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The rows of a CSV file (a header line, then one item a line) with the
    line each starts on, and the header's columns this import does not read.
    A file without a required column is refused whole (IMPORT_ROWS_INVALID,
    line 1)."""
    cols = COLUMNS[what]
    text = data.removeprefix("\ufeff")  # a spreadsheet's UTF-8 byte order mark
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise _invalid(what, [_row_error(1, "INVALID_INPUT", "the file is empty: it needs a "
                                         "header line naming the columns")], 0) from None
    except csv.Error as e:
        raise _invalid(what, [_row_error(1, "INVALID_INPUT", f"not CSV: {e}")], 0) from None
    names = [h.strip().lower().replace(" ", "_") for h in header]
    missing = [c for c, (req, _) in cols.items() if req and c not in names]
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if missing or dupes:
        why = "; ".join(([f"missing column(s) {', '.join(missing)}"] if missing else [])
                        + ([f"column(s) {', '.join(dupes)} twice"] if dupes else []))
        raise _invalid(what, [_row_error(1, "INVALID_INPUT", f"header: {why}")], 0)
    ignored = [n for n in names if n and n not in cols]
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        line = reader.line_num + 1
        for raw in reader:
            if any(v.strip() for v in raw):
                if len(raw) > len(names):
                    rows.append((line, {"__extra__": str(len(raw) - len(names))}))
                else:
                    rows.append((line, {n: uncell(raw[i].strip())
                                        for i, n in enumerate(names)
                                        if n and i < len(raw)}))
            line = reader.line_num + 1
            if len(rows) > IMPORT_MAX_ROWS:
                raise _invalid(what, [_row_error(line, "INVALID_INPUT", f"more than "
                                                 f"{IMPORT_MAX_ROWS} rows: split the file")], 0)
    except csv.Error as e:
        raise _invalid(what, [_row_error(reader.line_num, "INVALID_INPUT",
                                         f"not CSV: {e}")], len(rows)) from None
    return rows, ignored


def _row_error(line: int, code: str, message: str, **more: Any) -> dict[str, Any]:
    return {"line": line, "code": code, "message": message, **more}


def _invalid(what: str, errors: list[dict[str, Any]], rows: int) -> InvalidInput:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidInput("IMPORT_ROWS_INVALID",
                        f"nothing was imported: line {first['line']}: {first['message']}"
                        f"{more}", what=what, rows=rows, errors=errors)


def _storage(s: ProductionState, value: str) -> str:
    if value in s.storage:
        return value
    named = [k for k, v in s.storage.items() if str(v["name"]).casefold() == value.casefold()]
    if len(named) == 1:
        return named[0]
    if named:
        raise InvalidInput("INVALID_INPUT", f"storage {value!r} names {len(named)} locations "
                           f"({', '.join(named)}): give its id", field="storage")
    known = ", ".join(f"{k} ({v['name']})" for k, v in s.storage.items()) or "none yet"
    raise InvalidInput("NOT_FOUND", f"unknown storage {value!r} (storage: {known})",
                       field="storage")


def _whole(row: dict[str, str], name: str, default: int | None) -> int:
    raw = row.get(name, "")
    if raw == "" and default is not None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput("INVALID_INPUT", f"{name.replace('_', ' ')} must be a whole "
                           f"number, not {raw!r}", field=name) from None


def _decide(s: ProductionState, what: str, row: dict[str, str], *, armorer: str,
            at: datetime) -> list[NewEvent]:
    if "__extra__" in row:
        raise InvalidInput("INVALID_INPUT", f"{row['__extra__']} more value(s) than the "
                           "header has columns")
    for c, (req, _) in COLUMNS[what].items():
        if req and not row.get(c):
            raise InvalidInput("INVALID_INPUT", f"{c.replace('_', ' ')} is empty", field=c)
    if what == "weapons":
        return custody.receive_weapon(
            s, serial=row["serial"], make=row["make"], model=row["model"],
            calibre=row["calibre"], kind=row["kind"].lower(),
            chambers=_whole(row, "chambers", 1),
            magazine_capacity=_whole(row, "magazine_capacity", 0),
            storage=_storage(s, row["storage"]), armorer=armorer, at=at)
    kind = row["kind"].lower()
    live = checks.ammo.live_listed(kind, supplier_lot=row["supplier_lot"])
    if live:
        raise RuleViolation(live)
    return custody.receive_lot(
        s, kind=kind, calibre=row["calibre"], supplier=row["supplier"],
        supplier_lot=row["supplier_lot"], count_=_whole(row, "count", None),
        storage=_storage(s, row["storage"]), armorer=armorer, at=at,
        load=(row.get("load") or "").lower() or None)


def import_csv(ctx: Context, *, what: str, data: str, armorer: str, file: str = "-",
               dry_run: bool = False, at: datetime | None = None) -> ImportResult:
    """Import weapons or lots (``what``) from CSV text ``data`` as ``armorer``.
    Raises IMPORT_ROWS_INVALID, with every row error, if any row is refused
    (nothing is written); a dry run returns the errors instead, and writes
    nothing either way."""
    if what not in COLUMNS:
        raise InvalidInput("INVALID_INPUT", f"import weapons or lots, not {what!r}")
    when = ctx.now(at)
    rows, ignored = read_rows(data, what)
    result = ImportResult(what=what, file=file, dry_run=dry_run, rows=len(rows),
                          ignored_columns=ignored)
    if not rows:
        raise _invalid(what, [_row_error(2, "INVALID_INPUT", "no rows after the header")], 0)
    # The armorer must exist before anything is tried: one error, not one per row.
    ctx.store.state(ctx.production).person(armorer)
    try:
        with ctx.store.write(ctx.production) as tx:
            tx.state.person(armorer)
            seen: dict[str, int] = {}  # serial (case ignored) -> its line in the file
            for line, row in rows:
                serial = row.get("serial", "").casefold() if what == "weapons" else ""
                try:
                    if serial in seen:
                        raise InvalidInput("DUPLICATE_SERIAL", f"serial {row['serial']!r} is "
                                           f"on line {seen[serial]} of this file already",
                                           field="serial")
                    if serial:
                        seen[serial] = line
                    new = _decide(tx.state, what, row, armorer=armorer, at=when)
                except ColdcheckError as err:
                    # A decision is pure: refused, it changed nothing, and the next
                    # row is tried against the same state.
                    extra = {"field": err.details["field"]} if "field" in err.details else {}
                    codes = [v.code for v in getattr(err, "violations", [])]
                    if codes:
                        extra["codes"] = codes
                    result.errors.append(_row_error(line, err.code, err.message, **extra))
                    continue
                events = tx.append(new, actor=armorer, device=ctx.device, at=when)
                result.events += events
                ident = str(events[0].payload["weapon" if what == "weapons" else "lot"])
                result.ids.append(ident)
                if row.get("weapon_class"):
                    try:
                        result.events += tx.append(credentials.classify(
                            tx.state, weapon=ident, class_=row["weapon_class"].lower(),
                            armorer=armorer, at=when), actor=armorer, device=ctx.device,
                            at=when)
                    except ColdcheckError as err:
                        # The row's weapon is in the state now: the import is rolled
                        # back whole, as for any other refused row.
                        result.errors.append(_row_error(line, err.code, err.message,
                                                        field="weapon_class"))
            if dry_run or result.errors:
                raise _RollBack
    except _RollBack:
        result.events = []
    if result.errors and not dry_run:
        raise _invalid(what, result.errors, len(rows))
    return result


# ---- export ------------------------------------------------------------------

WEAPON_EXPORT = ["id", *WEAPON_COLUMNS, "storage_id", "state", "owner"]
LOT_EXPORT = ["id", *LOT_COLUMNS, "storage_id", "received", "on_hand", "owner"]
EVENT_EXPORT = ["seq", "time_utc", "time_local", "type", "actor", "subjects", "sentence"]


# A cell a spreadsheet would run as a formula (=, +, -, @, or a tab or carriage
# return first): text recorded on set (a note, a complaint's sentence, a make)
# must not become a command on the computer that opens the export. Such a cell
# is written with an apostrophe first, which spreadsheets show as text and the
# import takes off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def uncell(value: str) -> str:
    """A cell as the import reads it: the apostrophe :func:`cell` adds, taken off."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) \
        else value


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\r\n",
                       extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: cell(v) for k, v in r.items()})
    return buf.getvalue()


def _owner(s: ProductionState, kind: str, ident: str) -> str:
    o = s.owners.get(f"{kind}:{ident}")
    if o is None:
        return ""
    return str(s.vendors.get(o["vendor"], {}).get("name", o["vendor"]))


def weapon_rows(s: ProductionState, *, everything: bool = False) -> list[dict[str, Any]]:
    """Every weapon in inventory (``everything``: retired and returned ones too),
    by id, in the columns an import reads plus what only the export gives."""
    out = []
    for w in sorted(s.weapons.values(), key=lambda w: _num(w.id)):
        if w.state == "retired" and not everything:
            continue
        where = s.storage.get(w.storage or "", {})
        out.append({"id": w.id, "serial": w.serial, "make": w.make, "model": w.model,
                    "calibre": w.calibre, "kind": w.kind, "chambers": w.chambers,
                    "magazine_capacity": w.magazine_capacity,
                    "storage": where.get("name", ""), "storage_id": w.storage,
                    "state": w.state, "owner": _owner(s, "weapon", w.id),
                    "weapon_class": s.weapon_classes.get(w.id, "")})
    return out


def lot_rows(s: ProductionState, *, everything: bool = False) -> list[dict[str, Any]]:
    """Every lot with rounds on hand (``everything``: empty, evidence and returned
    lots too); ``count`` is the rounds on hand, what a new production takes in."""
    out = []
    for lt in sorted(s.lots.values(), key=lambda x: _num(x.id)):
        gone = s.gone_back("lot", lt.id)
        if not everything and (lt.kind == "evidence" or lt.on_hand <= 0 or gone):
            continue
        where = s.storage.get(lt.storage or "", {})
        out.append({"id": lt.id, "kind": lt.kind, "load": lt.load, "calibre": lt.calibre,
                    "supplier": lt.supplier, "supplier_lot": lt.supplier_lot,
                    "count": lt.on_hand, "storage": where.get("name", ""),
                    "storage_id": lt.storage, "received": lt.received, "on_hand": lt.on_hand,
                    "owner": _owner(s, "lot", lt.id)})
    return out


def _num(ident: str) -> int:
    digits = "".join(ch for ch in ident if ch.isdigit())
    return int(digits or 0)


def parse_date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("INVALID_INPUT", f"{what} is a date YYYY-MM-DD, not {value!r}",
                           field=what) from None


def event_rows(ctx: Context, *, start: str | None = None,
               end: str | None = None) -> list[dict[str, Any]]:
    """The custody record as rows: every event whose local date (the
    production's time zone) is from ``start`` to ``end`` inclusive (either may
    be open; an ``end`` before ``start`` holds no day)."""
    first = parse_date(start, "from") if start else None
    last = parse_date(end, "to") if end else None
    if first and last and last < first:
        return []  # no day is in the range (the CLI refuses it as a typo first)
    st = ctx.store.state(ctx.production)
    tz = ctx.settings.zone_for(st.timezone)

    def name(ident: str | None) -> str:
        p = st.people.get(ident or "")
        return f"{p.name} ({p.id})" if p else str(ident or "—")

    out = []
    for e in ctx.store.events(ctx.production):
        moment = datetime.fromisoformat(e.at.replace("Z", "+00:00"))
        day = date.fromisoformat(local_date(moment, tz))
        if (first and day < first) or (last and day > last):
            continue
        named = sorted(f"{k}:{i}" for k, i in subjects(e) if not (k == "person"
                                                                and i == e.actor))
        out.append({"seq": e.seq, "time_utc": e.at,
                    "time_local": local_text(e.at, tz, date=True),
                    "type": e.type, "actor": name(e.actor) if e.actor in st.people else e.actor,
                    "subjects": " ".join(named),
                    "sentence": describe(e.type, e.payload, name)})
    return out


# ---- the bound book ------------------------------------------------------------

BOOK_COLUMNS = ["entry", "weapon", "received_seq", "received_from", "date_received",
                "serial", "make", "model", "calibre", "kind", "disposed_to",
                "disposition_reason", "date_disposed", "disposed_seq", "note_seq", "note_date",
                "refers_to", "note"]


@dataclass
class BoundBook:
    production: str
    name: str
    zone: str
    made_at: str
    entries: list[dict[str, Any]]

    @property
    def acquisitions(self) -> list[dict[str, Any]]:
        return [x for x in self.entries if x["entry"] == "acquisition"]

    @property
    def corrections(self) -> list[dict[str, Any]]:
        return [x for x in self.entries if x["entry"] == "correction"]

    def to_dict(self) -> dict[str, Any]:
        return {"production": self.production, "name": self.name, "zone": self.zone,
                "made_at": self.made_at, "weapons": len(self.acquisitions),
                "corrections": len(self.corrections), "entries": self.entries}

    def csv(self) -> str:
        return to_csv(BOOK_COLUMNS, self.entries)


def bound_book(ctx: Context, *, at: datetime | None = None) -> BoundBook:
    """One acquisition line per weapon, in the order received: from whom, when,
    what; and, once it left, to whom and why. A note added about one of those
    entries is a correction line of its own, after the weapon's line: nothing
    already in the book is edited."""
    st = ctx.store.state(ctx.production)
    tz = ctx.settings.zone_for(st.timezone)
    events = ctx.store.events(ctx.production)

    def day(e: Event) -> str:
        return local_date(datetime.fromisoformat(e.at.replace("Z", "+00:00")), tz)

    lines: dict[str, dict[str, Any]] = {}
    about: dict[int, str] = {}  # seq of a book entry -> weapon
    returns: dict[int, Mapping[str, Any]] = {}  # seq of vendor.returned -> payload
    notes: list[Event] = []
    receipts = st.receipts
    for e in events:
        p = e.payload
        if e.type == "weapon.received":
            w = str(p["weapon"])
            lines[w] = {"entry": "acquisition", "weapon": w, "received_seq": e.seq,
                        "received_from": "production", "date_received": day(e),
                        "serial": p["serial"], "make": p["make"], "model": p["model"],
                        "calibre": p["calibre"], "kind": p["kind"], "disposed_to": "",
                        "disposition_reason": "", "date_disposed": "", "disposed_seq": "",
                        "note_seq": "", "note_date": "", "refers_to": "", "note": ""}
            about[e.seq] = w
        elif e.type == "receipt.item_checked" and p.get("weapon") in lines:
            rc = receipts.get(p["receipt"], {})
            vendor = st.vendors.get(rc.get("vendor", ""), {})
            lines[p["weapon"]]["received_from"] = (f"{vendor.get('name', rc.get('vendor'))} "
                                                    f"(delivery {p['receipt']})")
        elif e.type == "vendor.returned":
            returns[e.seq] = p
            about[e.seq] = ",".join(p["weapons"])
        elif e.type == "weapon.retired" and p["weapon"] in lines:
            line = lines[p["weapon"]]
            back = next((r for seq, r in sorted(returns.items(), reverse=True)
                         if p["weapon"] in r["weapons"]), None)
            if back is not None:
                vendor = st.vendors.get(back["vendor"], {})
                line["disposed_to"] = (f"{vendor.get('name', back['vendor'])} "
                                       f"(vendor return {back['return']})")
                cond = back["conditions"].get(p["weapon"], "")
                line["disposition_reason"] = f"returned; condition out: {cond}" if cond \
                    else "returned"
            else:
                line["disposed_to"] = "retired"
                line["disposition_reason"] = p["reason"]
            line["date_disposed"], line["disposed_seq"] = day(e), e.seq
            about[e.seq] = p["weapon"]
        elif e.type == "note.added":
            notes.append(e)
    # The owner recorded later (inventory.owner_recorded) says whose it is.
    for w, line in lines.items():
        if line["received_from"] == "production":
            owner = _owner(st, "weapon", w)
            if owner:
                line["received_from"] = f"{owner} (owner recorded)"
    entries: list[dict[str, Any]] = []
    by_weapon: dict[str, list[dict[str, Any]]] = {}
    for n in notes:
        ref = int(n.payload["refers_to"])
        target = about.get(ref)
        if target is None:
            continue
        for w in target.split(","):
            by_weapon.setdefault(w, []).append({
                "entry": "correction", "weapon": w, "received_seq": "", "received_from": "",
                "date_received": "", "serial": lines[w]["serial"] if w in lines else "",
                "make": "", "model": "", "calibre": "", "kind": "", "disposed_to": "",
                "disposition_reason": "", "date_disposed": "", "disposed_seq": "",
                "note_seq": n.seq, "note_date": day(n), "refers_to": ref,
                "note": n.payload["text"]})
    for w, line in lines.items():
        entries.append(line)
        entries += by_weapon.get(w, [])
    now = ctx.now(at)
    return BoundBook(production=ctx.production, name=str(st.name or ctx.production),
                     zone=ctx.settings.zone_name(st.timezone),
                     made_at=local_text(now, tz, date=True), entries=entries)

