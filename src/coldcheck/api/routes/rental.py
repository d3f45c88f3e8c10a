"""Where each weapon comes from and goes back to (issue 16, part 3): vendors, who
owns what, deliveries checked in item by item against their manifest and signed
with the receiving armorer's PIN, kit accessories, returns to the vendor (signed
with the returning armorer's PIN), and the return manifest as PDF.

The caller is the armorer of every custody step (receipts, kits, returns): those
are rules (CUSTODY_ARMORER_ONLY, RENTAL_RETURN_HELD, AMMO_LIVE_FORBIDDEN …),
refused and recorded whoever asks. Vendors and owner records are paperwork: a
permission (services/permissions.py)."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query
from starlette.responses import Response

from ...services import rental as r
from ..auth import Call, Reader
from ..schemas import (
    AccessoryIn,
    CheckLineIn,
    ExtraItemIn,
    MissingLineIn,
    OwnerIn,
    ReceiptIn,
    ReceiptOut,
    Recorded,
    SignIn,
    VendorIn,
    VendorOut,
    VendorReturnIn,
)
from . import router
from .custody import PREFIX, WeaponId, act, ident
from .reports import PDF, PdfResponse, binary

TAGS: list[str | Enum] = ["rentals"]
READ = Depends(Reader("read"))
JSON = "application/json"

VendorId = Annotated[str, ident("Vendor")]
ReceiptId = Annotated[str, ident("Receipt")]
AccessoryId = Annotated[str, ident("Accessory")]
LineNo = Annotated[int, Path(ge=1, le=500, description="The manifest line (from 1).")]


def _json(data: Any) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), media_type=JSON)


# ---- reading ---------------------------------------------------------------------
@router.get(PREFIX + "/vendors", tags=TAGS, response_model=list[VendorOut],
            summary="Vendors, what of each is still here, their receipts and returns")
def list_vendors(call: Annotated[Call, READ]) -> Response:
    rep = call.replica
    with rep.lock:
        return _json(r.vendor_rows(rep.state))


@router.get(PREFIX + "/receipts", tags=TAGS, response_model=list[ReceiptOut],
            summary="Delivery receipts, line by line with what was checked in")
def list_receipts(call: Annotated[Call, READ]) -> Response:
    rep = call.replica
    with rep.lock:
        return _json([r.receipt_row(rep.state, rc) for rc in rep.state.receipts.values()])


@router.get(PREFIX + "/receipts/{receipt}", tags=TAGS, response_model=ReceiptOut,
            summary="One delivery receipt, line by line with what was checked in")
def get_receipt(receipt: ReceiptId, call: Annotated[Call, READ]) -> Response:
    rep = call.replica
    with rep.lock:
        return _json(r.receipt_row(rep.state, rep.state.receipt(receipt)))


# ---- vendors and owners ----------------------------------------------------------
@router.post(PREFIX + "/vendors", tags=TAGS, response_model=Recorded,
             summary="Record a vendor: a rental house, or the production")
def add_vendor(body: VendorIn, call: Annotated[Call, act("vendor.add")]) -> Response:
    return call.record(lambda ctx: r.add_vendor(ctx, name=body.name, kind=body.kind,
                                                contact=body.contact, actor=call.person))


@router.post(PREFIX + "/owners", tags=TAGS, response_model=Recorded,
             summary="Record who owns a weapon or lot in inventory: agreement, insurance, "
                     "due-back date")
def record_owner(body: OwnerIn, call: Annotated[Call, act("owner.record")]) -> Response:
    return call.record(lambda ctx: r.record_owner(
        ctx, item=body.item, vendor=body.vendor, agreement=body.agreement,
        insurance=body.insurance, due_back=body.due_back, actor=call.person))


# ---- deliveries --------------------------------------------------------------------
@router.post(PREFIX + "/receipts", tags=TAGS, response_model=Recorded,
             summary="Open a delivery's receipt with its manifest (the caller receives it)")
def open_receipt(body: ReceiptIn, call: Annotated[Call, act("receipt.open")]) -> Response:
    return call.record(lambda ctx: r.open_receipt(
        ctx, vendor=body.vendor, manifest=[x.model_dump() for x in body.manifest],
        armorer=call.person, agreement=body.agreement, insurance=body.insurance,
        due_back=body.due_back))


@router.post(PREFIX + "/receipts/{receipt}/lines/{line}", tags=TAGS, response_model=Recorded,
             summary="Check a manifest line in: condition, storage, any difference")
def check_line(receipt: ReceiptId, line: LineNo, body: CheckLineIn,
               call: Annotated[Call, act("receipt.check")]) -> Response:
    return call.record(lambda ctx: r.check_item(
        ctx, receipt=receipt, armorer=call.person, line=line, condition=body.condition,
        storage=body.storage, serial=body.serial, count=body.count,
        photo_sha256=body.photo_sha256, photo_ref=body.photo_ref))


@router.post(PREFIX + "/receipts/{receipt}/lines/{line}/missing", tags=TAGS,
             response_model=Recorded, summary="Record a manifest line as not delivered")
def missing_line(receipt: ReceiptId, line: LineNo, body: MissingLineIn,
                 call: Annotated[Call, act("receipt.check")]) -> Response:
    return call.record(lambda ctx: r.check_item(
        ctx, receipt=receipt, armorer=call.person, line=line, missing=True,
        condition=body.condition, photo_sha256=body.photo_sha256, photo_ref=body.photo_ref))


@router.post(PREFIX + "/receipts/{receipt}/extras", tags=TAGS, response_model=Recorded,
             summary="Check in an item the manifest does not list (extra_item)")
def extra_item(receipt: ReceiptId, body: ExtraItemIn,
               call: Annotated[Call, act("receipt.check")]) -> Response:
    return call.record(lambda ctx: r.check_item(
        ctx, receipt=receipt, armorer=call.person, extra=body.item.model_dump(),
        condition=body.condition, storage=body.storage, count=body.count,
        photo_sha256=body.photo_sha256, photo_ref=body.photo_ref))


@router.post(PREFIX + "/receipts/{receipt}/signature", tags=TAGS, response_model=Recorded,
             summary="The receiving armorer (the caller) signs the delivery with their PIN")
def sign_receipt(receipt: ReceiptId, body: SignIn,
                 call: Annotated[Call, act("receipt.sign")]) -> Response:
    return call.record(lambda ctx: r.sign_receipt(ctx, receipt=receipt, armorer=call.person,
                                                  pin=body.pin))


# ---- kits --------------------------------------------------------------------------
@router.post(PREFIX + "/weapons/{weapon}/accessories", tags=TAGS, response_model=Recorded,
             summary="List an accessory on a weapon's kit (it goes out and back with it)")
def add_accessory(weapon: WeaponId, body: AccessoryIn,
                  call: Annotated[Call, act("accessory.add")]) -> Response:
    return call.record(lambda ctx: r.add_accessory(
        ctx, weapon=weapon, description=body.description, armorer=call.person,
        count=body.count, serial=body.serial))


@router.post(PREFIX + "/accessories/{accessory}/found", tags=TAGS, response_model=Recorded,
             summary="An accessory noted missing from a kit was found")
def found_accessory(accessory: AccessoryId,
                    call: Annotated[Call, act("accessory.found")]) -> Response:
    return call.record(lambda ctx: r.found_accessory(ctx, accessory=accessory,
                                                     armorer=call.person))


# ---- returns -----------------------------------------------------------------------
@router.post(PREFIX + "/vendors/{vendor}/returns", tags=TAGS, response_model=Recorded,
             summary="Weapons (with their kits) and lots go back to their vendor, signed "
                     "with the caller's PIN (RENTAL_RETURN_HELD refuses and records)")
def return_to_vendor(vendor: VendorId, body: VendorReturnIn,
                     call: Annotated[Call, act("vendor.return")]) -> Response:
    weapons, lots = body.weapons, body.lots
    if weapons is not None or lots is not None:  # naming some sends only those back
        weapons, lots = weapons or [], lots or []
    return call.record(lambda ctx: r.return_to_vendor(
        ctx, vendor=vendor, armorer=call.person, pin=body.pin,
        conditions=dict(body.conditions), weapons=weapons, lots=lots))


@router.get(PREFIX + "/vendors/{vendor}/manifest.pdf", tags=TAGS, response_class=PdfResponse,
            responses=binary(PDF, "The return manifest (PDF) with signature lines for the "
                                  "vendor and the armorer"),
            summary="The return manifest to a vendor, as PDF: what came in, what goes "
                    "back, rounds used, incidents (records nothing)")
def manifest(vendor: VendorId, call: Annotated[Call, Depends(Reader("vendor.manifest"))],
             return_id: Annotated[str | None, Query(
                 alias="return", min_length=1, max_length=32,
                 description="A recorded return (VR1). Default: the vendor's latest return, "
                             "or what is to go back while anything of theirs is still "
                             "here.")] = None,
             paper: Annotated[Literal["a4", "letter"], Query(
                 description="Paper size.")] = "a4") -> Response:
    from ...documents.manifest import render_manifest_pdf, return_manifest

    m = return_manifest(call.ctx(), vendor, return_id=return_id, at=call.now())
    name = f"{call.production}-{m.vendor_id}-{m.return_id or 'to-return'}-manifest.pdf"
    return PdfResponse(render_manifest_pdf(m, paper=paper),
                       headers={"Content-Disposition": f'inline; filename="{name}"'})
