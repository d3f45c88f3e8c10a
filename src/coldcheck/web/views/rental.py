"""Deliveries on the tablet (issue 16, part 3): the receipts from vendors, and a
receipt's manifest checked in item by item (condition, storage, the serial or
count found, a photo reference), a line not delivered marked missing, and the
receiving armorer's PIN signature. Each POST calls services/rental.py through
the API's Writer (access.record), as every other form does."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ...services import rental as r
from ..access import Outcome, Page, production_page, record, submit
from ..http import Req, integer, optional, render, text, view


def receipts_ctx(page: Page) -> dict[str, Any]:
    rows = [r.receipt_row(page.st, rc) for rc in page.st.receipts.values()]
    rows.reverse()  # the latest delivery first
    return {"receipts": rows, "vendors": r.vendor_rows(page.st)}


@view
def receipts(req: Req) -> Response:
    page = production_page(req)
    return render(req, "receipts.html", page.ctx(**receipts_ctx(page)))


def receipt_ctx(page: Page, receipt: str) -> dict[str, Any]:
    rc = r.receipt_row(page.st, page.st.receipt(receipt))
    return {"rc": rc, "storage": list(page.st.storage.values()),
            "vendor": page.st.vendors[rc["vendor"]]}


@view
def receipt_page(req: Req) -> Response:
    page = production_page(req)
    return render(req, "receipt.html", page.ctx(**receipt_ctx(page, req.param("receipt"))))


@view
def check_line(req: Req) -> Response:
    """Check one manifest line in, or (``missing``) record it not delivered."""
    f = req.form
    prod, receipt = req.param("production"), req.param("receipt")

    def attempt() -> Outcome:
        line = integer(f, "line", "Line")
        if f.get("missing"):
            return record(req, "receipt.check", lambda ctx, call: r.check_item(
                ctx, receipt=receipt, armorer=call.person, line=line, missing=True,
                condition=f.get("condition") or ""))
        condition = text(f, "condition", "Condition on arrival")
        raw_count = optional(f, "count")
        count = integer(f, "count", "Count found") if raw_count is not None else None
        return record(req, "receipt.check", lambda ctx, call: r.check_item(
            ctx, receipt=receipt, armorer=call.person, line=line, condition=condition,
            storage=optional(f, "storage"), serial=optional(f, "serial"), count=count,
            photo_ref=f.get("photo_ref") or ""))

    return submit(req, attempt, template="receipt.html", block="lines",
                  context=lambda p: receipt_ctx(p, receipt),
                  success=lambda o: f"/p/{prod}/receipts/{receipt}")


@view
def extra(req: Req) -> Response:
    """An accessory that came in the delivery without being on its manifest."""
    f = req.form
    prod, receipt = req.param("production"), req.param("receipt")

    def attempt() -> Outcome:
        item = {"kind": "accessory", "description": text(f, "description", "What it is"),
                "count": integer(f, "count", "Count found", default=1)}
        condition = text(f, "condition", "Condition on arrival")
        return record(req, "receipt.check", lambda ctx, call: r.check_item(
            ctx, receipt=receipt, armorer=call.person, extra=item, condition=condition,
            photo_ref=f.get("photo_ref") or ""))

    return submit(req, attempt, template="receipt.html", block="extra_form",
                  context=lambda p: receipt_ctx(p, receipt),
                  success=lambda o: f"/p/{prod}/receipts/{receipt}")


@view
def sign(req: Req) -> Response:
    f = req.form
    prod, receipt = req.param("production"), req.param("receipt")

    def attempt() -> Outcome:
        pin = text(f, "pin", "Your PIN")
        return record(req, "receipt.sign", lambda ctx, call: r.sign_receipt(
            ctx, receipt=receipt, armorer=call.person, pin=pin))

    return submit(req, attempt, template="receipt.html", block="sign_form",
                  context=lambda p: receipt_ctx(p, receipt),
                  success=lambda o: f"/p/{prod}/receipts/{receipt}")
