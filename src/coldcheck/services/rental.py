"""Vendors, deliveries, kits and returns to the vendor (issue 16, part 3).

The receiving armorer's PIN is checked here, outside the write transaction,
before the receipt is signed; so is the returning armorer's before a return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain import rental
from ..domain.errors import NotFound
from ..domain.events import Event
from ..domain.state import ProductionState
from .actions import _run
from .context import Context
from .core import check_pin


def add_vendor(ctx: Context, *, name: str, kind: str, contact: str = "", actor: str,
               at: datetime | None = None) -> list[Event]:
    return _run(ctx, actor, at, rental.add_vendor, name=name, kind=kind, contact=contact)


def record_owner(ctx: Context, *, item: str, vendor: str, actor: str, agreement: str = "",
                 insurance: str = "", due_back: str | None = None,
                 at: datetime | None = None) -> list[Event]:
    return _run(ctx, actor, at, rental.record_owner, item=item, vendor=vendor,
                agreement=agreement, insurance=insurance, due_back=due_back)


def open_receipt(ctx: Context, *, vendor: str, manifest: list[dict[str, Any]], armorer: str,
                 agreement: str = "", insurance: str = "", due_back: str | None = None,
                 at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, rental.open_receipt, vendor=vendor, manifest=manifest,
                armorer=armorer, agreement=agreement, insurance=insurance, due_back=due_back)


def check_item(ctx: Context, *, receipt: str, armorer: str, line: int | None = None,
               condition: str = "", storage: str | None = None, serial: str | None = None,
               count: int | None = None, missing: bool = False,
               photo_sha256: str | None = None, photo_ref: str = "",
               extra: dict[str, Any] | None = None, at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, rental.check_item, receipt=receipt, armorer=armorer,
                line=line, condition=condition, storage=storage, serial=serial, count_=count,
                missing=missing, photo_sha256=photo_sha256, photo_ref=photo_ref, extra=extra)


def _exists(ctx: Context, table: str, what: str, ident: str) -> None:
    """What the PIN is entered for must exist before it is checked: a made-up
    receipt or vendor must not serve to guess (and lock) anyone's PIN."""
    if ident not in getattr(ctx.store.state(ctx.production), table):
        raise NotFound(what, ident)


def sign_receipt(ctx: Context, *, receipt: str, armorer: str, pin: str | None,
                 at: datetime | None = None) -> list[Event]:
    when = ctx.now(at)
    _exists(ctx, "receipts", "receipt", receipt)
    checked = {armorer: check_pin(ctx, person=armorer, pin=pin, action=f"sign {receipt}",
                                  at=when)}
    return _run(ctx, armorer, when, rental.sign_receipt, receipt=receipt, armorer=armorer,
                pins=checked)


def add_accessory(ctx: Context, *, weapon: str, description: str, armorer: str,
                  count: int = 1, serial: str = "", at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, rental.add_accessory, weapon=weapon,
                description=description, armorer=armorer, count_=count, serial=serial)


def found_accessory(ctx: Context, *, accessory: str, armorer: str,
                    at: datetime | None = None) -> list[Event]:
    return _run(ctx, armorer, at, rental.found_accessory, accessory=accessory,
                armorer=armorer)


def return_to_vendor(ctx: Context, *, vendor: str, armorer: str, pin: str | None,
                     conditions: dict[str, str], weapons: list[str] | None = None,
                     lots: list[str] | None = None,
                     at: datetime | None = None) -> list[Event]:
    when = ctx.now(at)
    _exists(ctx, "vendors", "vendor", vendor)
    checked = {armorer: check_pin(ctx, person=armorer, pin=pin,
                                  action=f"return to {vendor}", at=when)}
    return _run(ctx, armorer, when, rental.return_to_vendor, vendor=vendor, armorer=armorer,
                conditions=conditions, weapons=weapons, lots=lots, pins=checked)


# ---- reading ------------------------------------------------------------------

def vendor_rows(st: ProductionState) -> list[dict[str, Any]]:
    """Every vendor, what of theirs is still here, and their returns (oldest first)."""
    return [{"id": v["id"], "name": v["name"], "kind": v["kind"], "contact": v["contact"],
             "still_here": rental.still_here(st, v["id"]),
             "receipts": [rc["id"] for rc in st.receipts.values() if rc["vendor"] == v["id"]],
             "returns": [x["id"] for x in st.vendor_returns.values()
                         if x["vendor"] == v["id"]]}
            for v in st.vendors.values()]


def vendors(ctx: Context) -> list[dict[str, Any]]:
    return vendor_rows(ctx.store.state(ctx.production))


def receipt_row(st: ProductionState, rc: dict[str, Any]) -> dict[str, Any]:
    """A receipt as the CLI, the API and the tablet show it: each manifest line
    with what was checked in against it (None: not yet), the extra items, and
    the signature."""
    by_line = {c["line"]: c for c in rc["checked"] if c["line"] is not None}
    return {"id": rc["id"], "vendor": rc["vendor"],
            "vendor_name": st.vendors[rc["vendor"]]["name"],
            "agreement": rc["agreement"], "insurance": rc["insurance"],
            "due_back": rc["due_back"], "armorer": rc["armorer"], "opened_at": rc["opened_at"],
            "lines": [dict(x, checked=by_line.get(x["line"])) for x in rc["manifest"]],
            "extras": [c for c in rc["checked"] if c["line"] is None],
            "open_lines": [x["line"] for x in rc["manifest"] if x["line"] not in by_line],
            "differences": rental.differences(rc), "signed": rc["signed"]}


def receipts(ctx: Context) -> list[dict[str, Any]]:
    st = ctx.store.state(ctx.production)
    return [receipt_row(st, rc) for rc in st.receipts.values()]


def receipt_view(ctx: Context, receipt: str) -> dict[str, Any]:
    st = ctx.store.state(ctx.production)
    return receipt_row(st, st.receipt(receipt))
