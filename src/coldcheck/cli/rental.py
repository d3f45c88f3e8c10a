"""`coldcheck vendor …`, `coldcheck owner …`, `coldcheck receipt …`: where each
weapon comes from and goes back to (issue 16, part 3).

Thin wrappers over services/rental.py, like the custody commands: refusals exit
3 (a rule: CUSTODY_ARMORER_ONLY, RENTAL_RETURN_HELD, AMMO_LIVE_FORBIDDEN …), 2
for invalid input or an unknown id, 4 for a conflict (a signed receipt, a line
checked in already) or a locked PIN. PINs are prompted (or read from standard
input), never passed as arguments."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..domain.errors import InvalidInput
from .app import group
from .common import (
    DbOpt,
    ForceOpt,
    JsonOpt,
    PaperOpt,
    ProdOpt,
    ctx_for,
    err,
    out,
    read_pin,
    refuse_existing,
    run,
    table,
    write_file,
)

Req = typer.Option

vendor = group("Vendors (rental houses, the production): add, return to them, the return "
               "manifest.")
owner = group("Who owns a weapon or lot already in inventory: vendor, agreement, insurance, "
              "due-back date.")
receipt = group("Deliveries from a vendor, checked in item by item against their manifest "
                "and signed by the receiving armorer.")
kit = group("A weapon's kit: accessories that go out and come back with it.")


def register(app: typer.Typer) -> None:
    app.add_typer(vendor, name="vendor")
    app.add_typer(owner, name="owner")
    app.add_typer(receipt, name="receipt")
    app.add_typer(kit, name="kit")


def item_ref(value: str) -> str:
    """``weapon:W1`` or ``lot:L2`` as given, or a bare id (``W1``, ``L2``) made so."""
    v = value.strip()
    if ":" in v:
        return v
    if v[:1].upper() == "W":
        return f"weapon:{v}"
    if v[:1].upper() == "L":
        return f"lot:{v}"
    raise InvalidInput("INVALID_INPUT", f"name a weapon or lot: W1, L2, weapon:W1 or lot:L2, "
                       f"not {value!r}", field="item")


def _json_file(path: str, what: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidInput("INVALID_INPUT", f"cannot read {path}: {e.strerror or e}",
                           field=what) from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise InvalidInput("INVALID_INPUT", f"{what} in {path} is not JSON: {e}",
                           field=what) from None


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for spec in values or []:
        key, sep, val = spec.partition("=")
        if not sep or not key.strip():
            raise InvalidInput("INVALID_INPUT", f"{option} takes ID=TEXT, not {spec!r}",
                               field=option)
        found[key.strip()] = val.strip()
    return found


# ---------------------------------------------------------------- vendors
@vendor.command("add")
def vendor_add(name: Annotated[str, Req(help="The vendor's name, e.g. Stembridge Gun "
                                        "Rentals.")],
               kind: Annotated[str, Req(help="rental_house or production (the production's "
                                        "own weapons).")] = "rental_house",
               contact: Annotated[str, Req(help="Who to call, where the counter is.")] = "",
               by: Annotated[str, Req(help="Who records it (person id).")] = "system",
               db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Record an owner of weapons or ammunition: a rental house, or the production."""
    from ..services import rental as r

    run(as_json, lambda: r.add_vendor(ctx_for(db, production), name=name, kind=kind,
                                      contact=contact, actor=by))


@vendor.command("list")
def vendor_list(db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """Vendors, and what of each is still here (weapons, lots, accessories) or went back."""
    from ..services import rental as r

    def show(rows: list[dict[str, Any]]) -> None:
        table("Vendors", ["id", "name", "kind", "contact", "still here", "returns"],
              [[v["id"], v["name"], v["kind"], v["contact"],
                ", ".join(v["still_here"]["weapon"] + v["still_here"]["lot"]) or "nothing",
                ", ".join(v["returns"])] for v in rows])
    run(as_json, lambda: r.vendors(ctx_for(db, production)), show)


@vendor.command("return")
def vendor_return(vendor_id: Annotated[str, typer.Argument(metavar="VENDOR",
                                                           help="The vendor, e.g. V1.")],
                  armorer: Annotated[str, Req(help="The returning armorer (PIN prompted).")],
                  condition: Annotated[list[str] | None, Req(
                      help="ID=CONDITION OUT, e.g. 'W3=good, light holster wear' (repeat; "
                           "every weapon going back needs one; lots default to 'as "
                           "counted').")] = None,
                  weapon_ids: Annotated[list[str] | None, Req(
                      "--weapon", help="A weapon that goes back (repeat). Naming weapons or "
                                       "lots sends only those; naming none sends everything "
                                       "of the vendor's still here.")] = None,
                  lot: Annotated[list[str] | None, Req(
                      help="A lot that goes back, with the rounds on hand (repeat).")]
                  = None,
                  db: DbOpt = None, production: ProdOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Weapons (with their kits) and lots go back to the vendor who owns them, each
    weapon with its condition out. RENTAL_RETURN_HELD refuses, and records, a weapon
    that is out, frozen or named by an open incident. Signed with the armorer's PIN;
    the returned weapons are retired. Print the manifest with `coldcheck vendor
    manifest`."""
    from ..services import rental as r

    def go() -> Any:
        ctx = ctx_for(db, production)
        conds = _pairs(condition, "--condition")
        pin = read_pin(f"{armorer} (armorer), your PIN to sign the return to {vendor_id}")
        only_w = [x for x in weapon_ids or [] if x] or None
        only_l = [x for x in lot or [] if x] or None
        # Naming only weapons sends no lots back, and the other way round.
        if only_w is not None or only_l is not None:
            only_w, only_l = only_w or [], only_l or []
        return r.return_to_vendor(ctx, vendor=vendor_id, armorer=armorer, pin=pin,
                                  conditions=conds, weapons=only_w, lots=only_l)
    run(as_json, go)


@vendor.command("manifest")
def vendor_manifest(vendor_id: Annotated[str, typer.Argument(metavar="VENDOR",
                                                             help="The vendor, e.g. V1.")],
                    return_id: Annotated[str | None, Req(
                        "--return", metavar="VR",
                        help="A recorded return (VR1). Default: the vendor's latest return, "
                             "or, while something of theirs is still here, what is to go "
                             "back.")] = None,
                    out_file: Annotated[str | None, typer.Option(
                        "--out", metavar="FILE.pdf",
                        help="Where to write the PDF ('-': standard output; default "
                             "./<production>-<vendor>-manifest.pdf).")] = None,
                    paper: PaperOpt = "a4",
                    force: ForceOpt = False,
                    db: DbOpt = None, production: ProdOpt = None,
                    as_json: JsonOpt = False) -> None:
    """The return manifest as PDF, made from the record: what came in on each receipt
    (with its differences), what goes back and in what condition, rounds used per lot
    and fired per weapon, the incidents naming the items, and signature lines for the
    vendor and the armorer. Records nothing."""
    def go() -> dict[str, Any]:
        from ..documents import check_paper
        from ..documents.manifest import render_manifest_pdf, return_manifest

        size = check_paper(paper)
        ctx = ctx_for(db, production)
        m = return_manifest(ctx, vendor_id, return_id=return_id, at=ctx.now())
        target = out_file or f"{ctx.production}-{m.vendor_id}-" \
            f"{m.return_id or 'to-return'}-manifest.pdf"
        if target != "-":
            refuse_existing(target, force=force)
        pdf = render_manifest_pdf(m, paper=size)
        if target == "-":
            sys.stdout.buffer.write(pdf)
            sys.stdout.flush()
        else:
            write_file(target, pdf, force=force)
        return {"file": target, "bytes": len(pdf), "paper": size, **m.to_dict()}

    def show(res: dict[str, Any]) -> None:
        where = err if res["file"] == "-" else out
        what = f"return {res['return']}" if res["return"] else "what is to go back"
        where.print(f"[green]✔[/] manifest of {what} to [bold]{res['vendor']}[/] "
                    f"({len(res['weapons'])} weapon(s), {len(res['lots'])} lot(s)) written "
                    f"to {res['file']}", soft_wrap=True)
    run(as_json and out_file != "-", go, show)


# ---------------------------------------------------------------- owners
@owner.command("record")
def owner_record(item: Annotated[str, typer.Argument(
                     help="The weapon or lot: W1, L2, weapon:W1 or lot:L2.")],
                 vendor_id: Annotated[str, Req("--vendor", help="Who owns it (V1).")],
                 agreement: Annotated[str, Req(help="The rental agreement's number.")] = "",
                 insurance: Annotated[str, Req(help="The certificate of insurance.")] = "",
                 due_back: Annotated[str | None, Req(
                     help="When it is due back to the vendor, YYYY-MM-DD (alerts "
                          "RENTAL_DUE_BACK from seven days before).")] = None,
                 by: Annotated[str, Req(help="Who records it (person id).")] = "system",
                 db: DbOpt = None, production: ProdOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Record who owns a weapon or lot already in inventory (taken in without a
    receipt): vendor, rental agreement, insurance, due-back date. Recording it again
    replaces the terms; nothing earlier is rewritten."""
    from ..services import rental as r

    run(as_json, lambda: r.record_owner(ctx_for(db, production), item=item_ref(item),
                                        vendor=vendor_id, agreement=agreement,
                                        insurance=insurance, due_back=due_back, actor=by))


# ---------------------------------------------------------------- receipts
@receipt.command("open")
def receipt_open(vendor_id: Annotated[str, Req("--vendor", help="Who delivers (V1).")],
                 manifest: Annotated[str, Req(
                     metavar="FILE.json",
                     help="The delivery's manifest: a JSON list of lines, each "
                          "{\"kind\": \"weapon\", \"serial\", \"make\", \"model\", "
                          "\"calibre\", \"weapon_kind\", \"chambers\", "
                          "\"magazine_capacity\"}, {\"kind\": \"accessory\", "
                          "\"description\", \"count\", \"for_serial\"} or {\"kind\": "
                          "\"lot\", \"lot_kind\", \"load\", \"calibre\", "
                          "\"supplier_lot\", \"count\"} ('-': standard input).")],
                 armorer: Annotated[str, Req(help="The receiving armorer.")],
                 agreement: Annotated[str, Req(help="The rental agreement's number.")] = "",
                 insurance: Annotated[str, Req(help="The certificate of insurance.")] = "",
                 due_back: Annotated[str | None, Req(
                     help="When it all goes back, YYYY-MM-DD.")] = None,
                 db: DbOpt = None, production: ProdOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Open the receipt of a delivery with its manifest; then check each line in
    (`coldcheck receipt check`) and sign it (`coldcheck receipt sign`)."""
    from ..services import rental as r

    def go() -> Any:
        lines = _json_file(manifest, "manifest")
        if not isinstance(lines, list) or not all(isinstance(x, dict) for x in lines):
            raise InvalidInput("INVALID_INPUT", "a manifest is a JSON list of objects, one "
                               "a line", field="manifest")
        return r.open_receipt(ctx_for(db, production), vendor=vendor_id, manifest=lines,
                              armorer=armorer, agreement=agreement, insurance=insurance,
                              due_back=due_back)
    run(as_json, go)


@receipt.command("check")
def receipt_check(receipt_id: Annotated[str, typer.Argument(metavar="RECEIPT",
                                                            help="The receipt, e.g. RC1.")],
                  armorer: Annotated[str, Req()],
                  line: Annotated[int | None, Req(help="The manifest line checked in.")]
                  = None,
                  extra: Annotated[str | None, Req(
                      metavar="JSON",
                      help="An item the manifest does not list, as a manifest line in "
                           "JSON, e.g. '{\"kind\": \"accessory\", \"description\": "
                           "\"Cleaning kit\"}'.")] = None,
                  condition: Annotated[str, Req(help="Its condition on arrival.")] = "",
                  storage_id: Annotated[str | None, Req(
                      "--storage", help="Where a weapon or lot goes (ST1).")] = None,
                  serial: Annotated[str | None, Req(
                      help="The serial on the weapon, if not the manifest's (recorded as "
                           "serial_differs).")] = None,
                  count: Annotated[int | None, Req(
                      help="How many arrived, if not the manifest's count (count_differs).")]
                  = None,
                  missing: Annotated[bool, Req(
                      help="The line was not delivered (missing_item).")] = False,
                  photo: Annotated[str | None, Req(
                      metavar="FILE", help="A photo of the item: its SHA-256 is recorded "
                                           "(the file stays where it is).")] = None,
                  photo_ref: Annotated[str, Req(
                      help="Where the photo is kept (default: the photo's file name).")] = "",
                  db: DbOpt = None, production: ProdOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Check one item of a delivery in: a manifest line (--line) or an extra item
    (--extra). Weapons and lots are taken in through the intake rules (live rounds are
    refused: AMMO_LIVE_FORBIDDEN, and the line is recorded refused_at_intake); any
    difference from the manifest is recorded on the item."""
    import hashlib

    from ..services import rental as r

    def go() -> Any:
        sha = None
        ref = photo_ref
        if photo is not None:
            try:
                sha = hashlib.sha256(Path(photo).read_bytes()).hexdigest()
            except OSError as e:
                raise InvalidInput("INVALID_INPUT", f"cannot read {photo}: "
                                   f"{e.strerror or e}", field="photo") from None
            ref = ref or Path(photo).name
        item = None
        if extra is not None:
            try:
                item = json.loads(extra)
            except ValueError as e:
                raise InvalidInput("INVALID_INPUT", f"--extra is not JSON: {e}",
                                   field="extra") from None
            if not isinstance(item, dict):
                raise InvalidInput("INVALID_INPUT", "--extra is one manifest line: a JSON "
                                   "object", field="extra")
        return r.check_item(ctx_for(db, production), receipt=receipt_id, armorer=armorer,
                            line=line, condition=condition, storage=storage_id,
                            serial=serial, count=count, missing=missing, photo_sha256=sha,
                            photo_ref=ref, extra=item)
    run(as_json, go)


@receipt.command("sign")
def receipt_sign(receipt_id: Annotated[str, typer.Argument(metavar="RECEIPT",
                                                           help="The receipt, e.g. RC1.")],
                 armorer: Annotated[str, Req(help="The receiving armorer (PIN prompted).")],
                 db: DbOpt = None, production: ProdOpt = None,
                 as_json: JsonOpt = False) -> None:
    """The receiving armorer signs the delivery with their PIN, once every manifest
    line is checked in or recorded missing (RECEIPT_INCOMPLETE otherwise)."""
    from ..services import rental as r

    def go() -> Any:
        ctx = ctx_for(db, production)
        return r.sign_receipt(ctx, receipt=receipt_id, armorer=armorer,
                              pin=read_pin(f"{armorer} (armorer), your PIN to sign "
                                           f"{receipt_id}"))
    run(as_json, go)


@receipt.command("show")
def receipt_show(receipt_id: Annotated[str, typer.Argument(metavar="RECEIPT",
                                                           help="The receipt, e.g. RC1.")],
                 db: DbOpt = None, production: ProdOpt = None,
                 as_json: JsonOpt = False) -> None:
    """A receipt: its manifest line by line, what was checked in, differences, signature."""
    from ..services import rental as r

    def show(rc: dict[str, Any]) -> None:
        signed = f"signed by {rc['signed']['armorer']}" if rc["signed"] else "not signed"
        out.print(f"[bold]{rc['id']}[/] from {rc['vendor_name']} ({rc['vendor']}) · "
                  f"{signed}", soft_wrap=True)
        table("Manifest", ["line", "kind", "item", "count", "checked in", "difference"],
              [[x["line"], x["kind"], x["description"] + (f" #{x['serial']}"
                                                          if x["serial"] else ""),
                x["count"], x["checked"]["condition"] if x["checked"] else "—",
                (x["checked"] or {}).get("difference") or ""]
               for x in rc["lines"]] +
              [["extra", c["kind"], c["description"], c["count"], c["condition"],
                c["difference"]] for c in rc["extras"]])
    run(as_json, lambda: r.receipt_view(ctx_for(db, production), receipt_id), show)


# ---------------------------------------------------------------- kits
@kit.command("add")
def kit_add(weapon_id: Annotated[str, typer.Argument(metavar="WEAPON",
                                                     help="The weapon, e.g. W1.")],
            description: Annotated[str, Req(help="What it is: a holster, magazines, a "
                                            "sling.")],
            armorer: Annotated[str, Req()],
            count: Annotated[int, Req(help="How many pieces.")] = 1,
            serial: Annotated[str, Req(help="Its serial, if it has one.")] = "",
            db: DbOpt = None, production: ProdOpt = None, as_json: JsonOpt = False) -> None:
    """List an accessory on a weapon's kit: it goes out with the weapon at issue and
    is expected back with it at return."""
    from ..services import rental as r

    run(as_json, lambda: r.add_accessory(ctx_for(db, production), weapon=weapon_id,
                                         description=description, armorer=armorer,
                                         count=count, serial=serial))


@kit.command("found")
def kit_found(accessory_id: Annotated[str, typer.Argument(metavar="ACCESSORY",
                                                          help="The accessory, e.g. AC2.")],
              armorer: Annotated[str, Req()], db: DbOpt = None, production: ProdOpt = None,
              as_json: JsonOpt = False) -> None:
    """An accessory noted missing from a kit (KIT_ACCESSORY_MISSING) was found: it is
    back with its weapon."""
    from ..services import rental as r

    run(as_json, lambda: r.found_accessory(ctx_for(db, production), accessory=accessory_id,
                                           armorer=armorer))
