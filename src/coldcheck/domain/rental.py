"""Where each weapon comes from and goes back to: vendors, deliveries checked in
item by item against their manifest, kits, and returns to the vendor.

Intake from a delivery goes through the intake decisions (custody.receive_weapon,
custody.receive_lot): every intake rule holds, live rounds are refused with
AMMO_LIVE_FORBIDDEN and open their incident, and the refused line is recorded
as such on the receipt. A weapon or lot with no owner recorded (taken in before
vendors existed, or bought) is production-owned or unknown: nothing is rewritten.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from . import bounds, checks
from .common import count, ev, iso_date, refuse_or_pass, refused_action, same_pins, text
from .custody import receive_lot, receive_weapon
from .errors import Conflict, InvalidInput, RuleViolation
from .events import NewEvent
from .state import ProductionState
from .weapons import KINDS

VENDOR_KINDS = ("rental_house", "production")
ITEM_KINDS = ("weapon", "accessory", "lot")
DIFFERENCES = ("missing_item", "extra_item", "count_differs", "serial_differs",
               "refused_at_intake")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def add_vendor(s: ProductionState, *, name: str, kind: str, contact: str = "") -> list[NewEvent]:
    if kind not in VENDOR_KINDS:
        raise InvalidInput("INVALID_INPUT", f"vendor kind must be one of {', '.join(VENDOR_KINDS)}")
    return [ev("vendor.added", vendor=s.next_id("V"), name=text(name, "name", bound=bounds.NAME),
               kind=kind, contact=contact.strip()[:bounds.NAME.high])]


def _terms(agreement: str, insurance: str, due_back: str | None) -> tuple[str, str, str | None]:
    return (agreement.strip()[:bounds.NAME.high], insurance.strip()[:bounds.NAME.high],
            iso_date(due_back, "due-back date") if due_back else None)


def record_owner(s: ProductionState, *, item: str, vendor: str, agreement: str = "",
                 insurance: str = "", due_back: str | None = None) -> list[NewEvent]:
    """Who owns a weapon or lot already in inventory (``weapon:W1``, ``lot:L2``)."""
    kind, _, ident = item.partition(":")
    if kind == "weapon":
        s.weapon(ident)
    elif kind == "lot":
        s.lot(ident)
    else:
        raise InvalidInput("INVALID_INPUT", f"item must be weapon:ID or lot:ID, not {item!r}")
    v = s.vendor(vendor)
    ag, ins, due = _terms(agreement, insurance, due_back)
    return [ev("inventory.owner_recorded", item=f"{kind}:{ident}", vendor=v["id"],
               agreement=ag, insurance=ins, due_back=due)]


def _manifest_line(n: int, raw: dict[str, Any]) -> dict[str, Any]:
    kind = raw.get("kind")
    if kind not in ITEM_KINDS:
        raise InvalidInput("INVALID_INPUT", f"manifest line {n}: kind must be one of "
                           f"{', '.join(ITEM_KINDS)}")
    line: dict[str, Any] = {"line": n, "kind": kind}
    if kind == "weapon":
        line["serial"] = text(str(raw.get("serial", "")), f"line {n} serial", bound=bounds.SERIAL)
        for f in ("make", "model"):
            line[f] = text(str(raw.get(f, "")), f"line {n} {f}", bound=bounds.NAME)
        line["calibre"] = text(str(raw.get("calibre", "")), f"line {n} calibre",
                               bound=bounds.CALIBRE)
        wk = raw.get("weapon_kind", "firearm")
        if wk not in KINDS:
            raise InvalidInput("INVALID_INPUT", f"line {n}: weapon kind must be one of "
                               f"{', '.join(KINDS)}")
        line["weapon_kind"] = wk
        line["chambers"] = count(raw.get("chambers", 1), f"line {n} chambers",
                                 bound=bounds.CHAMBERS)
        line["magazine_capacity"] = count(raw.get("magazine_capacity", 0),
                                          f"line {n} magazine capacity",
                                          bound=bounds.MAGAZINE_CAPACITY)
        line["count"] = 1
        line["description"] = f"{line['make']} {line['model']} ({line['calibre']})"
    elif kind == "accessory":
        line["description"] = text(str(raw.get("description", "")), f"line {n} description",
                                   bound=bounds.NAME)
        line["count"] = count(raw.get("count", 1), f"line {n} count", bound=bounds.LOT_ROUNDS)
        line["serial"] = str(raw.get("serial", "")).strip()[:bounds.SERIAL.high]
        line["for_serial"] = str(raw.get("for_serial", "")).strip()[:bounds.SERIAL.high]
    else:
        lk = raw.get("lot_kind")
        if lk not in ("dummy", "blank", "live"):
            raise InvalidInput("INVALID_INPUT", f"line {n}: lot kind must be dummy, blank or live")
        line["lot_kind"] = lk
        line["load"] = raw.get("load")
        line["calibre"] = text(str(raw.get("calibre", "")), f"line {n} calibre",
                               bound=bounds.CALIBRE)
        line["supplier_lot"] = text(str(raw.get("supplier_lot", "")), f"line {n} supplier lot",
                                    bound=bounds.NAME)
        line["count"] = count(raw.get("count", 0), f"line {n} count", bound=bounds.LOT_ROUNDS)
        line["serial"] = ""
        line["description"] = f"{lk} {line['calibre']} lot {line['supplier_lot']}"
    return line


def open_receipt(s: ProductionState, *, vendor: str, manifest: list[dict[str, Any]],
                 armorer: str, at: datetime, agreement: str = "", insurance: str = "",
                 due_back: str | None = None) -> list[NewEvent]:
    v = s.vendor(vendor)
    if not manifest:
        raise InvalidInput("INVALID_INPUT", "a manifest lists at least one item")
    if len(manifest) > 500:
        raise InvalidInput("INVALID_INPUT", "a manifest lists at most 500 items")
    lines = [_manifest_line(i, dict(raw)) for i, raw in enumerate(manifest, start=1)]
    serials = [x["serial"].casefold() for x in lines if x["kind"] == "weapon"]
    if len(set(serials)) != len(serials):
        raise InvalidInput("DUPLICATE_SERIAL", "the manifest lists one serial twice")
    ag, ins, due = _terms(agreement, insurance, due_back)
    a = s.person(armorer)
    rid = s.next_id("RC")
    refuse_or_pass(s, checks.people.armorer(a, at, s.zone),
                   refusal=refused_action("receipt.open", f"vendor:{v['id']}"))
    return [ev("receipt.opened", receipt=rid, vendor=v["id"], agreement=ag, insurance=ins,
               due_back=due, manifest=lines, armorer=a.id)]


def _checked(rc: dict[str, Any], line: int) -> bool:
    return any(c["line"] == line for c in rc["checked"])


def check_item(s: ProductionState, *, receipt: str, armorer: str, at: datetime,
               line: int | None = None, condition: str = "", storage: str | None = None,
               serial: str | None = None, count_: int | None = None, missing: bool = False,
               photo_sha256: str | None = None, photo_ref: str = "",
               extra: dict[str, Any] | None = None) -> list[NewEvent]:
    """Check one item of a delivery in: a manifest ``line``, or an ``extra`` item
    the manifest does not list (given like a manifest line). The weapon, lot or
    accessory found is taken in through the intake rules; a difference from the
    manifest (missing, extra, count or serial differs, refused at intake) is
    recorded on the item."""
    rc = s.receipt(receipt)
    if rc["signed"] is not None:
        raise Conflict("RECEIPT_SIGNED", f"receipt {rc['id']} is signed: nothing more is "
                       "checked in on it (record a new receipt)")
    if (line is None) == (extra is None):
        raise InvalidInput("INVALID_INPUT", "check in either a manifest line or an extra item")
    if line is not None:
        if not 1 <= line <= len(rc["manifest"]):
            raise InvalidInput("INVALID_INPUT", f"receipt {rc['id']} has lines 1 to "
                               f"{len(rc['manifest'])}")
        if _checked(rc, line):
            raise Conflict("RECEIPT_LINE_CHECKED", f"line {line} of receipt {rc['id']} is "
                           "checked in already")
        item = rc["manifest"][line - 1]
        difference: str | None = None
    else:
        if missing:
            raise InvalidInput("INVALID_INPUT", "an extra item is there, not missing")
        item = _manifest_line(0, dict(extra or {}))
        difference = "extra_item"
    if photo_sha256 is not None and not SHA256.match(photo_sha256):
        raise InvalidInput("INVALID_INPUT", "photo SHA-256 is 64 lowercase hex digits")
    photo_ref = photo_ref.strip()[:bounds.NAME.high]
    a = s.person(armorer)
    vendor = s.vendor(rc["vendor"])
    found_serial, found_count = item["serial"], item["count"]
    weapon = lot = accessory = None
    out: list[NewEvent] = []
    if missing:
        difference, found_count = "missing_item", 0
        condition = text(condition.strip() or "not delivered", "condition")
        refuse_or_pass(s, checks.people.armorer(a, at, s.zone),
                       refusal=refused_action("receipt.check", f"receipt:{rc['id']}"))
    else:
        condition = text(condition, "condition")
        if item["kind"] == "weapon":
            found_serial = text(serial or item["serial"], "serial", bound=bounds.SERIAL)
            if difference is None and found_serial.casefold() != item["serial"].casefold():
                difference = "serial_differs"
            if storage is None:
                raise InvalidInput("INVALID_INPUT", "a weapon checked in goes into storage: "
                                   "name it")
            out = receive_weapon(s, serial=found_serial, make=item["make"], model=item["model"],
                                 calibre=item["calibre"], kind=item["weapon_kind"],
                                 chambers=item["chambers"],
                                 magazine_capacity=item["magazine_capacity"], storage=storage,
                                 armorer=a.id, at=at)
            weapon = out[0].payload["weapon"]
        else:
            found_count = count(item["count"] if count_ is None else count_, "count",
                                bound=bounds.LOT_ROUNDS)
            if difference is None and found_count != item["count"]:
                difference = "count_differs"
            if item["kind"] == "lot":
                if storage is None:
                    raise InvalidInput("INVALID_INPUT", "a lot checked in goes into storage: "
                                       "name it")
                try:
                    out = receive_lot(s, kind=item["lot_kind"], calibre=item["calibre"],
                                      supplier=vendor["name"], supplier_lot=item["supplier_lot"],
                                      count_=found_count, storage=storage, armorer=a.id, at=at,
                                      load=item["load"])
                except RuleViolation as err:
                    if any(v.code == "AMMO_LIVE_FORBIDDEN" for v in err.violations):
                        err.record = [*err.record, _item_event(
                            rc, item, line, found_serial, found_count, condition,
                            photo_sha256, photo_ref, "refused_at_intake", None, None, None,
                            a.id)]
                    raise
                lot = out[0].payload["lot"]
            else:
                on = None
                if item["for_serial"]:
                    on = s.serials.get(item["for_serial"].casefold())
                    if on is None:
                        raise InvalidInput("INVALID_INPUT", f"accessory for serial "
                                           f"{item['for_serial']}: check that weapon in first")
                refuse_or_pass(s, checks.people.armorer(a, at, s.zone),
                               refusal=refused_action("receipt.check", f"receipt:{rc['id']}"))
                accessory = s.next_id("AC")
                out = [ev("accessory.added", accessory=accessory, weapon=on,
                          description=item["description"], count=found_count,
                          serial=item["serial"])]
    return [*out, _item_event(rc, item, line, found_serial, found_count, condition, photo_sha256,
                              photo_ref, difference, weapon, lot, accessory, a.id)]


def _item_event(rc: dict[str, Any], item: dict[str, Any], line: int | None, serial: str,
                count_: int, condition: str, photo_sha256: str | None, photo_ref: str,
                difference: str | None, weapon: str | None, lot: str | None,
                accessory: str | None, armorer: str) -> NewEvent:
    return ev("receipt.item_checked", receipt=rc["id"], line=line, kind=item["kind"],
              description=item["description"], serial=serial, count=count_,
              condition=condition, photo_sha256=photo_sha256, photo_ref=photo_ref,
              difference=difference, weapon=weapon, lot=lot, accessory=accessory,
              armorer=armorer)


def differences(rc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every difference from the manifest recorded on a receipt, in order."""
    return [{"line": c["line"], "difference": c["difference"], "description": c["description"]}
            for c in rc["checked"] if c["difference"] is not None]


def sign_receipt(s: ProductionState, *, receipt: str, armorer: str, at: datetime,
                 pins: dict[str, str | None] | None = None) -> list[NewEvent]:
    """The receiving armorer signs (their PIN checked by the service) once every
    manifest line is checked in or recorded missing."""
    rc = s.receipt(receipt)
    same_pins(s, pins)
    if rc["signed"] is not None:
        raise Conflict("RECEIPT_SIGNED", f"receipt {rc['id']} is signed already")
    open_lines = [x["line"] for x in rc["manifest"] if not _checked(rc, x["line"])]
    if open_lines:
        raise InvalidInput("RECEIPT_INCOMPLETE", f"receipt {rc['id']}: line(s) "
                           f"{', '.join(map(str, open_lines))} not checked in (or recorded "
                           "missing) yet", lines=open_lines)
    a = s.person(armorer)
    refuse_or_pass(s, checks.people.armorer(a, at, s.zone),
                   refusal=refused_action("receipt.sign", f"receipt:{rc['id']}"))
    return [ev("receipt.signed", receipt=rc["id"], armorer=a.id, lines=len(rc["manifest"]),
               differences=differences(rc))]


# ---- kits ------------------------------------------------------------------

def add_accessory(s: ProductionState, *, weapon: str, description: str, armorer: str,
                  at: datetime, count_: int = 1, serial: str = "") -> list[NewEvent]:
    w, a = s.weapon(weapon), s.person(armorer)
    refuse_or_pass(s, checks.people.armorer(a, at, s.zone),
                   refusal=refused_action("accessory.add", f"weapon:{w.id}"))
    return [ev("accessory.added", accessory=s.next_id("AC"), weapon=w.id,
               description=text(description, "description", bound=bounds.NAME),
               count=count(count_, "count", bound=bounds.LOT_ROUNDS),
               serial=serial.strip()[:bounds.SERIAL.high])]


def found_accessory(s: ProductionState, *, accessory: str, armorer: str,
                    at: datetime) -> list[NewEvent]:
    acc, a = s.accessory(accessory), s.person(armorer)
    if acc["state"] != "missing":
        raise Conflict("ACCESSORY_NOT_MISSING", f"accessory {acc['id']} is {acc['state']}, "
                       "not missing")
    refuse_or_pass(s, checks.people.armorer(a, at, s.zone),
                   refusal=refused_action("accessory.found", f"accessory:{acc['id']}"))
    return [ev("accessory.found", accessory=acc["id"], weapon=acc["weapon"], armorer=a.id)]


# ---- returning to the vendor -------------------------------------------------

def still_here(s: ProductionState, vendor: str) -> dict[str, list[str]]:
    """What the vendor owns that has not gone back: weapons, lots, accessories."""
    out: dict[str, list[str]] = {"weapon": [], "lot": [], "accessory": []}
    for key, o in s.owners.items():
        kind, _, ident = key.partition(":")
        if o["vendor"] == vendor and o["returned"] is None and kind in out:
            out[kind].append(ident)
    for ids in out.values():
        ids.sort(key=lambda x: int(re.sub(r"\D", "", x) or 0))
    return out


def rounds_used(s: ProductionState, lot_id: str) -> dict[str, int]:
    lt = s.lots[lot_id]
    return {"received": lt.received, "fired": lt.fired, "lost": lt.lost,
            "destroyed": lt.destroyed, "evidence": lt.to_evidence, "returned": lt.on_hand}


def return_to_vendor(s: ProductionState, *, vendor: str, armorer: str, at: datetime,
                     conditions: dict[str, str], weapons: list[str] | None = None,
                     lots: list[str] | None = None,
                     pins: dict[str, str | None] | None = None) -> list[NewEvent]:
    """Weapons (with their kit accessories) and lots go back to the vendor who
    owns them (all that is still here when none are named), each weapon with its
    condition out; RENTAL_RETURN_HELD refuses (and records) a weapon frozen, in an
    open incident or out, and a lot in a weapon or an open incident."""
    v = s.vendor(vendor)
    same_pins(s, pins)
    here = still_here(s, v["id"])
    ws = here["weapon"] if weapons is None else list(dict.fromkeys(weapons))
    ls = here["lot"] if lots is None else list(dict.fromkeys(lots))
    for kind, ids in (("weapon", ws), ("lot", ls)):
        for ident in ids:
            if ident not in here[kind]:
                why = "went back already" if s.gone_back(kind, ident) else \
                    f"is not recorded as {v['name']}'s"
                raise InvalidInput("NOT_FROM_VENDOR", f"{kind} {ident} {why}")
    if not ws and not ls:
        raise InvalidInput("INVALID_INPUT", f"nothing of {v['name']} is here to go back")
    a = s.person(armorer)
    conds: dict[str, str] = {}
    for ident in ws + ls:
        c = (conditions or {}).get(ident, "")
        if ident.startswith("W") and not c.strip():
            raise InvalidInput("INVALID_INPUT", f"weapon {ident} goes back with its condition "
                               "out noted")
        conds[ident] = text(c or "as counted", f"condition of {ident}")
    viol = [*checks.people.armorer(a, at, s.zone)]
    for w in ws:
        viol += checks.rental.weapon_returnable(s, s.weapon(w))
    for lot in ls:
        viol += checks.rental.lot_returnable(s, s.lot(lot))
    refuse_or_pass(s, viol, refusal=refused_action("vendor.return", f"vendor:{v['id']}"))
    # The kit goes back with its weapon (an accessory noted missing does not);
    # loose accessories of the vendor go back with the first return.
    accs = [x["id"] for w in ws for x in s.kit(w) if x["state"] == "present"]
    accs += [x for x in here["accessory"] if s.accessories[x]["weapon"] is None
             and s.accessories[x]["state"] == "present"]
    incs = sorted(i.id for i in s.incidents.values()
                  if set(i.weapons) & set(ws) or set(i.lots) & set(ls))
    rid = s.next_id("VR")
    return [ev("vendor.returned", **{"return": rid}, vendor=v["id"], weapons=ws,
               lots={lot: s.lots[lot].on_hand for lot in ls}, accessories=accs,
               conditions=conds, rounds={lot: rounds_used(s, lot) for lot in ls},
               incidents=incs, armorer=a.id)] + [
        ev("weapon.retired", weapon=w, reason=f"returned to {v['name']} ({rid})") for w in ws]
