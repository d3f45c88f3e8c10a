"""Where each weapon comes from and goes back to (issue 16 part 3), through the
services, on SQLite and PostgreSQL: vendors, a delivery checked in item by item
against its manifest (differences recorded, intake rules kept: live rounds are
refused with AMMO_LIVE_FORBIDDEN), the receiving armorer's PIN signature, kits
that go out and come back with their weapon, and the return to the vendor
(RENTAL_RETURN_HELD refuses, and records, what may not go back)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpers import World, build_world, codes, refusal

from coldcheck.config import Settings
from coldcheck.domain.errors import RuleViolation
from coldcheck.persistence.store import Store
from coldcheck.services import rental as r
from coldcheck.services.queries import board as status
from coldcheck.services.verify import verify_ledger

MANIFEST: list[dict[str, Any]] = [
    {"kind": "weapon", "serial": "RH-92-001", "make": "Beretta", "model": "92FS",
     "calibre": "9mm PAK", "weapon_kind": "blank_only", "chambers": 1,
     "magazine_capacity": 15},
    {"kind": "accessory", "description": "Magazine, 15 rounds", "count": 3,
     "for_serial": "RH-92-001"},
    {"kind": "accessory", "description": "Shoulder holster", "count": 1,
     "for_serial": "RH-92-001"},
    {"kind": "weapon", "serial": "RH-1911-7", "make": "Colt", "model": "M1911A1",
     "calibre": ".45 ACP", "weapon_kind": "non_firing_replica", "chambers": 1,
     "magazine_capacity": 7},
    {"kind": "lot", "lot_kind": "blank", "load": "half", "calibre": "9mm PAK",
     "supplier_lot": "RH-B-44", "count": 200},
]


@pytest.fixture
def w(store: Store, backend_settings: Settings, clock: Any) -> Iterator[World]:
    yield build_world(store, backend_settings, clock, production="rental-test")


def _vendor(w: World) -> str:
    ev = r.add_vendor(w.ctx, name="Stembridge Gun Rentals", kind="rental_house",
                      contact="Burbank counter", actor=w.people["armorer"])
    return str(ev[0].payload["vendor"])


def _receipt(w: World, vendor: str, manifest: list[dict[str, Any]] | None = None) -> str:
    ev = r.open_receipt(w.ctx, vendor=vendor, manifest=manifest or MANIFEST,
                        armorer=w.people["armorer"], agreement="SGR-2026-118",
                        insurance="COI-55-0192", due_back="2026-12-20")
    return str(ev[0].payload["receipt"])


def _check(w: World, rc: str, line: int | None, **kw: Any) -> list[Any]:
    kw.setdefault("condition", "good, light holster wear")
    return r.check_item(w.ctx, receipt=rc, armorer=w.people["armorer"], line=line,
                        storage=w.storage["safe"], **kw)


def test_a_delivery_is_checked_in_item_by_item_with_its_differences_and_signed(
        w: World) -> None:
    v = _vendor(w)
    rc = _receipt(w, v)
    before = w.seq()
    ev = _check(w, rc, 1, photo_sha256="ab" * 32, photo_ref="IMG_0412")
    assert [e.type for e in ev] == ["weapon.received", "receipt.item_checked"]
    beretta = ev[0].payload["weapon"]
    assert ev[1].payload["weapon"] == beretta and ev[1].payload["difference"] is None
    assert ev[1].payload["photo_sha256"] == "ab" * 32
    ev = _check(w, rc, 2, count=2, condition="two magazines only")
    assert [e.type for e in ev] == ["accessory.added", "receipt.item_checked"]
    assert ev[0].payload["weapon"] == beretta and ev[1].payload["difference"] == "count_differs"
    _check(w, rc, 3)
    ev = _check(w, rc, 4, serial="RH-1911-8")  # the serial on the gun is not the manifest's
    assert ev[1].payload["difference"] == "serial_differs"
    assert w.state().weapons[ev[0].payload["weapon"]].serial == "RH-1911-8"
    # Not everything is checked: the armorer cannot sign yet.
    err = refusal(r.sign_receipt, w.ctx, receipt=rc, armorer=w.people["armorer"],
                  pin=w.pins["armorer"])
    assert err.code == "RECEIPT_INCOMPLETE"
    ev = _check(w, rc, 5, missing=True)
    assert ev[0].payload["difference"] == "missing_item" and ev[0].payload["lot"] is None
    ev = _check(w, rc, None, extra={"kind": "accessory", "description": "Cleaning kit"})
    assert ev[1].payload["difference"] == "extra_item" and ev[1].payload["line"] is None
    assert refusal(_check, w, rc, 1).code == "RECEIPT_LINE_CHECKED"
    # A wrong PIN is refused and signs nothing.
    err = refusal(r.sign_receipt, w.ctx, receipt=rc, armorer=w.people["armorer"], pin="0000")
    assert err.code == "PIN_INVALID"
    ev = r.sign_receipt(w.ctx, receipt=rc, armorer=w.people["armorer"], pin=w.pins["armorer"])
    assert ev[-1].type == "receipt.signed"
    assert [d["difference"] for d in ev[-1].payload["differences"]] == [
        "count_differs", "serial_differs", "missing_item", "extra_item"]
    assert refusal(_check, w, rc, None, extra={"kind": "accessory",
                                               "description": "Sling"}).code == "RECEIPT_SIGNED"
    st = w.state()
    owner = st.owner("weapon", beretta)
    assert owner is not None
    assert (owner["vendor"], owner["agreement"], owner["insurance"], owner["due_back"],
            owner["receipt"]) == (v, "SGR-2026-118", "COI-55-0192", "2026-12-20", rc)
    assert [a["description"] for a in st.kit(beretta)] == ["Magazine, 15 rounds",
                                                           "Shoulder holster"]
    # Weapons taken in before vendors existed keep no owner: production-owned or unknown.
    assert st.owner("weapon", w.weapons["revolver"]) is None
    board = status(w.store.state(w.production), w.ctx.now())
    diff = [x for x in board["alerts"] if x["code"] == "RECEIPT_DIFFERENCE"]
    assert len(diff) == 4 and all(x["subject"] == f"receipt:{rc}" for x in diff)
    assert w.types_since(before).count("receipt.item_checked") == 6
    rep = verify_ledger(w.ctx)
    assert rep.ok, [f.line() for f in rep.failures]


def test_live_rounds_on_a_manifest_are_refused_at_intake_and_the_line_says_so(
        w: World) -> None:
    v = _vendor(w)
    rc = _receipt(w, v, [{"kind": "lot", "lot_kind": "live", "calibre": "9mm",
                          "supplier_lot": "OOPS-1", "count": 50}])
    before = w.seq()
    err = refusal(_check, w, rc, 1)
    assert isinstance(err, RuleViolation) and codes(err) == ["AMMO_LIVE_FORBIDDEN"]
    assert w.types_since(before) == ["ammo.intake_refused", "incident.opened",
                                     "receipt.item_checked"]
    st = w.state()
    checked = st.receipts[rc]["checked"]
    assert [c["difference"] for c in checked] == ["refused_at_intake"]
    assert not any(lot.supplier_lot == "OOPS-1" for lot in st.lots.values())
    # The refused line counts as checked: the delivery can be signed, difference and all.
    ev = r.sign_receipt(w.ctx, receipt=rc, armorer=w.people["armorer"], pin=w.pins["armorer"])
    assert ev[-1].payload["differences"][0]["difference"] == "refused_at_intake"


def test_a_kit_goes_out_and_comes_back_with_its_weapon_a_missing_piece_noted(
        w: World) -> None:
    wid, arm = w.weapons["revolver"], w.people["armorer"]
    holster = r.add_accessory(w.ctx, weapon=wid, description="Western holster",
                              armorer=arm)[0].payload["accessory"]
    belt = r.add_accessory(w.ctx, weapon=wid, description="Cartridge belt",
                           armorer=arm)[0].payload["accessory"]
    ev = w.give("revolver", "alex", "cold")
    assert [e.type for e in ev] == ["weapon.issued", "weapon.kit_issued"]
    assert ev[1].payload["accessories"] == [holster, belt]
    from coldcheck.services import actions as a
    ev = a.return_weapon(w.ctx, weapon=wid, performer=w.people["alex"], armorer=arm,
                         missing_accessories=[belt])
    assert [e.type for e in ev] == ["weapon.returned", "weapon.kit_returned"]
    assert (ev[1].payload["accessories"], ev[1].payload["missing"]) == ([holster], [belt])
    st = w.state()
    assert st.accessories[belt]["state"] == "missing"
    board = status(st, w.ctx.now())
    assert any(x["code"] == "KIT_ACCESSORY_MISSING" and x["subject"] == f"accessory:{belt}"
               for x in board["alerts"])
    r.found_accessory(w.ctx, accessory=belt, armorer=arm)
    assert w.state().accessories[belt]["state"] == "present"
    assert refusal(r.found_accessory, w.ctx, accessory=belt,
                   armorer=arm).code == "ACCESSORY_NOT_MISSING"
    # A weapon without a kit is issued as before: no kit event.
    ev = w.give("revolver2", "alex", "cold")
    assert [e.type for e in ev] == ["weapon.issued"]


def _owned(w: World, vendor: str, *keys: str) -> None:
    for key in keys:
        r.record_owner(w.ctx, item=f"weapon:{w.weapons[key]}", vendor=vendor,
                       agreement="SGR-2026-118", due_back="2026-12-20",
                       actor=w.people["armorer"])


def test_a_weapon_out_frozen_or_in_an_open_incident_cannot_go_back(w: World) -> None:
    v = _vendor(w)
    _owned(w, v, "revolver")
    wid, arm = w.weapons["revolver"], w.people["armorer"]
    w.give("revolver", "alex", "cold")
    before = w.seq()
    err = refusal(r.return_to_vendor, w.ctx, vendor=v, armorer=arm, pin=w.pins["armorer"],
                  conditions={wid: "good"})
    assert codes(err) == ["RENTAL_RETURN_HELD"] and "out with" in str(err)
    assert w.types_since(before) == ["action.refused"]
    refused = w.events_since(before)[0].payload
    assert refused["codes"] == ["RENTAL_RETURN_HELD"] and f"weapon:{wid}" in refused["subjects"]
    w.take_back("revolver", "alex")
    w.put_away("revolver")
    from coldcheck.services import actions as a
    inc = a.report_incident(w.ctx, kind="other", description="Cylinder binds after a take",
                            weapons=[wid], lots=[], reported_by=arm)[0].payload["incident"]
    err = refusal(r.return_to_vendor, w.ctx, vendor=v, armorer=arm, pin=w.pins["armorer"],
                  conditions={wid: "good"})
    assert codes(err) == ["RENTAL_RETURN_HELD"] and inc in str(err)
    assert w.state().weapons[wid].state == "frozen"
    w.close(inc)
    ev = r.return_to_vendor(w.ctx, vendor=v, armorer=arm, pin=w.pins["armorer"],
                            conditions={wid: "cylinder binds: see incident"})
    assert [e.type for e in ev] == ["vendor.returned", "weapon.retired"]
    assert ev[0].payload["incidents"] == [inc] and ev[0].payload["weapons"] == [wid]
    st = w.state()
    assert st.weapons[wid].state == "retired" and st.gone_back("weapon", wid)
    assert refusal(r.return_to_vendor, w.ctx, vendor=v, armorer=arm, pin=w.pins["armorer"],
                   conditions={}, weapons=[wid]).code == "NOT_FROM_VENDOR"
    rep = verify_ledger(w.ctx)
    assert rep.ok, [f.line() for f in rep.failures]


def test_the_return_takes_the_kit_and_the_lot_and_the_lot_is_used_no_more(w: World) -> None:
    v = _vendor(w)
    rc = _receipt(w, v)
    for line in (1, 2, 3, 4, 5):
        _check(w, rc, line)
    r.sign_receipt(w.ctx, receipt=rc, armorer=w.people["armorer"], pin=w.pins["armorer"])
    st = w.state()
    beretta = st.serials["rh-92-001"]
    lot = next(x.id for x in st.lots.values() if x.supplier_lot == "RH-B-44")
    arm = w.people["armorer"]
    err = refusal(r.return_to_vendor, w.ctx, vendor=v, armorer=arm, pin=w.pins["armorer"],
                  conditions={beretta: "good"})
    assert err.code == "INVALID_INPUT"  # the other weapon needs its condition out too
    colt = st.serials["rh-1911-7"]
    ev = r.return_to_vendor(w.ctx, vendor=v, armorer=arm, pin=w.pins["armorer"],
                            conditions={beretta: "good", colt: "scuffed slide"})
    p = ev[0].payload
    assert p["weapons"] == [beretta, colt] and p["lots"] == {lot: 200}
    assert len(p["accessories"]) == 2 and p["rounds"][lot]["received"] == 200
    st = w.state()
    assert st.lots[lot].storage is None and st.gone_back("lot", lot)
    alerts = status(st, w.ctx.now())["alerts"]
    assert not [x for x in alerts if x["code"] in ("RENTAL_DUE_BACK", "RECEIPT_DIFFERENCE")]
    rep = verify_ledger(w.ctx)
    assert rep.ok, [f.line() for f in rep.failures]


def test_rented_items_due_back_soon_alert_on_the_board(w: World) -> None:
    v = _vendor(w)
    due = w.ctx.now().date().isoformat()
    r.record_owner(w.ctx, item=f"weapon:{w.weapons['revolver']}", vendor=v, due_back=due,
                   actor=w.people["armorer"])
    alerts = status(w.state(), w.ctx.now())["alerts"]
    assert [x["subject"] for x in alerts if x["code"] == "RENTAL_DUE_BACK"] == [
        f"weapon:{w.weapons['revolver']}"]
    # The state row loaded from the projections equals the replay.
    assert w.store.state(w.production).meta() == w.store.replay(w.production).meta()
