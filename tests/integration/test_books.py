"""Import and export (issue 16 part 7), on SQLite and PostgreSQL: an inventory
from CSV (all rows through the intake decisions in one transaction, or none;
every row error with its line), the inventory, the custody events and the
bound book out (CSV and PDF), and the CLI around them."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import QUALIFIED_UNTIL, World, build_world
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services import books
from coldcheck.services import rental as r
from coldcheck.services.context import Context
from coldcheck.services.verify import verify_ledger

runner = CliRunner()

WEAPONS_CSV = """serial,make,model,calibre,kind,chambers,magazine_capacity,storage
RH-92-001,Beretta,92FS,9mm PAK,blank_only,1,15,Weapons safe
RH-1911-7,Colt,M1911A1,.45 ACP,non_firing_replica,,7,ST2
RH-SAA-3,Colt,SAA,.45 Colt,firearm,6,,weapons SAFE
"""
LOTS_CSV = """kind,load,calibre,supplier,supplier_lot,count,storage
blank,half,9mm PAK,Stembridge,RH-B-44,200,Weapons safe
dummy,,.45 Colt,Stembridge,RH-D-12,50,ST1
"""


@pytest.fixture
def w(store: Store, backend_settings: Settings, clock: Any) -> Iterator[World]:
    yield build_world(store, backend_settings, clock, production="books-test")


def fresh(w: World, production: str = "books-next") -> tuple[Context, str]:
    """A second production in the same database: an armorer and the same two
    storage locations (by name), nothing else."""
    ctx = a.init_production(store=w.store, settings=w.ctx.settings, production=production,
                            name="The next show", at=w.ctx.now())
    ctx.clock = w.ctx.clock
    arm = str(a.add_person(ctx, name="Ana Ruiz", roles=["armorer"], badge="B-ANA", pin=None,
                           qualification_expires=QUALIFIED_UNTIL)[0].payload["person"])
    for name, kind in (("Weapons safe", "safe"), ("Weapons cart", "cart")):
        a.add_storage(ctx, name=name, kind=kind, actor=arm)
    return ctx, arm


def inventory(ctx: Context) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    st = ctx.store.state(ctx.production)
    ws = sorted((x.serial, x.make, x.model, x.calibre, x.kind, x.chambers,
                 x.magazine_capacity, st.storage[x.storage or ""]["name"],
                 st.weapon_classes.get(x.id)) for x in st.weapons.values()
                if x.state != "retired")
    ls = sorted((x.kind, x.load, x.calibre, x.supplier, x.supplier_lot, x.on_hand,
                 st.storage[x.storage or ""]["name"]) for x in st.lots.values()
                if x.kind != "evidence" and x.on_hand > 0)
    return ws, ls


def test_a_good_import_records_every_row_through_the_intake_rules_in_one_go(
        w: World) -> None:
    ctx, arm = fresh(w)
    head = ctx.store.head(ctx.production)
    res = books.import_csv(ctx, what="weapons", data=WEAPONS_CSV, armorer=arm,
                           file="w.csv")
    assert (res.rows, res.errors, res.ids) == (3, [], ["W1", "W2", "W3"])
    assert [e.type for e in res.events] == ["weapon.received"] * 3
    assert [e.seq for e in res.events] == [head, head + 1, head + 2]
    assert {e.actor for e in res.events} == {arm}
    st = ctx.store.state(ctx.production)
    assert [st.weapons[i].storage for i in res.ids] == ["ST1", "ST2", "ST1"]
    assert (st.weapons["W2"].chambers, st.weapons["W3"].magazine_capacity) == (1, 0)
    res = books.import_csv(ctx, what="lots", data=LOTS_CSV, armorer=arm)
    assert res.ids == ["L1", "L2"] and res.to_dict()["recorded"] == ["L1", "L2"]
    st = ctx.store.state(ctx.production)
    assert (st.lots["L1"].load, st.lots["L1"].on_hand, st.lots["L2"].kind) == ("half", 200,
                                                                               "dummy")
    assert verify_ledger(ctx).ok


def test_a_dry_run_lists_every_row_error_with_its_line_and_writes_nothing(w: World) -> None:
    head = w.seq()
    data = ("\ufeffSerial,Make,Model,Calibre,Kind,Storage,Chambers,Remarks\n"
            "NEW-1,Colt,SAA,.45 Colt,firearm,Weapons safe,6,ok\n"
            "colt-saa-5521,Colt,SAA,.45 Colt,firearm,Weapons safe,6,already here\n"
            "\n"
            "new-1,Colt,SAA,.45 Colt,firearm,Weapons safe,6,twice in the file\n"
            "NEW-2,Colt,SAA,.45 Colt,laser,Weapons safe,6,\n"
            ",Colt,SAA,.45 Colt,firearm,Weapons safe,6,\n"
            "NEW-3,Colt,SAA,.45 Colt,firearm,Garage,6,\n"
            "NEW-4,Colt,SAA,.45 Colt,firearm,Weapons safe,six,\n"
            '"NEW-5","Colt","Peacemaker, 7½ in",.45 Colt,firearm,Weapons safe,6,fine\n')
    res = books.import_csv(w.ctx, what="weapons", data=data, armorer=w.people["armorer"],
                           dry_run=True)
    assert res.rows == 8 and res.ignored_columns == ["remarks"]
    assert [(e["line"], e["code"]) for e in res.errors] == [
        (3, "DUPLICATE_SERIAL"), (5, "DUPLICATE_SERIAL"), (6, "INVALID_INPUT"),
        (7, "INVALID_INPUT"), (8, "NOT_FOUND"), (9, "INVALID_INPUT")]
    msgs = {e["line"]: e["message"] for e in res.errors}
    assert "already weapon" in msgs[3] and "line 2 of this file" in msgs[5]
    assert "weapon kind" in msgs[6] and "serial is empty" in msgs[7]
    assert "unknown storage 'Garage'" in msgs[8] and "whole number" in msgs[9]
    assert res.to_dict()["valid"] is False and res.to_dict()["recorded"] == []
    assert w.seq() == head  # nothing written
    # The same file for real: refused whole, with the same errors, nothing written.
    with pytest.raises(ColdcheckError) as e:
        books.import_csv(w.ctx, what="weapons", data=data, armorer=w.people["armorer"])
    assert e.value.code == "IMPORT_ROWS_INVALID" and e.value.kind == "invalid"
    assert e.value.details["errors"] == res.errors
    assert "line 3" in e.value.message and "(and 5 more)" in e.value.message
    assert w.seq() == head
    assert "NEW-1" not in {x.serial for x in w.state().weapons.values()}
    # A clean dry run says what would be taken in, and still writes nothing.
    ok = books.import_csv(w.ctx, what="weapons", data=WEAPONS_CSV,
                          armorer=w.people["armorer"], dry_run=True)
    assert ok.errors == [] and ok.to_dict()["would_record"] == ok.ids and len(ok.ids) == 3
    assert w.seq() == head


def test_one_bad_row_among_good_ones_writes_nothing_at_all(w: World) -> None:
    head, before = w.seq(), w.snapshot()
    bad = LOTS_CSV + "blank,full,9mm PAK,Stembridge,RH-B-45,0,Weapons safe\n"
    with pytest.raises(ColdcheckError) as e:
        books.import_csv(w.ctx, what="lots", data=bad, armorer=w.people["armorer"])
    assert [(x["line"], x["code"]) for x in e.value.details["errors"]] == [(4, "INVALID_INPUT")]
    assert w.seq() == head and w.snapshot() == before
    # ... and the next action works on the state as it was (nothing half-applied).
    ev = a.receive_lot(w.ctx, armorer=w.people["armorer"], kind="dummy", calibre=".45 Colt",
                       supplier="X", supplier_lot="X-1", count=5, storage=w.storage["safe"])
    assert ev[0].seq == head and ev[0].payload["lot"] == f"L{len(w.lots) + 1}"
    assert verify_ledger(w.ctx).ok


def test_a_live_row_refuses_the_whole_import_naming_its_line(w: World) -> None:
    head = w.seq()
    data = LOTS_CSV + "live,,9mm,Unknown,NONE,6,Weapons safe\n"
    for dry in (True, False):
        try:
            res = books.import_csv(w.ctx, what="lots", data=data,
                                   armorer=w.people["armorer"], dry_run=dry)
            errors = res.errors
            assert dry
        except ColdcheckError as e:
            assert not dry and e.code == "IMPORT_ROWS_INVALID"
            errors = e.details["errors"]
        assert [(x["line"], x["code"]) for x in errors] == [(4, "AMMO_LIVE_FORBIDDEN")]
    assert w.seq() == head  # no refusal, no incident: nothing at all
    assert not w.state().incidents or all(i.kind != "live_ammunition"
                                          for i in w.state().incidents.values())


def test_rule_refusals_are_row_errors_and_the_header_is_checked(w: World) -> None:
    head = w.seq()
    res = books.import_csv(w.ctx, what="weapons", data=WEAPONS_CSV,
                           armorer=w.people["expired"], dry_run=True)
    assert {x["code"] for x in res.errors} == {"CUSTODY_QUALIFICATION_EXPIRED"}
    assert [x["line"] for x in res.errors] == [2, 3, 4]
    assert res.errors[0]["codes"] == ["CUSTODY_QUALIFICATION_EXPIRED"]
    with pytest.raises(ColdcheckError) as e:
        books.import_csv(w.ctx, what="weapons", data="serial,make,model\nA,B,C\n",
                         armorer=w.people["armorer"])
    assert e.value.code == "IMPORT_ROWS_INVALID"
    assert e.value.details["errors"][0]["line"] == 1
    assert "calibre, kind, storage" in e.value.details["errors"][0]["message"]
    for data in ("", "serial,make,model,calibre,kind,storage\n"):
        with pytest.raises(ColdcheckError):
            books.import_csv(w.ctx, what="weapons", data=data, armorer=w.people["armorer"])
    with pytest.raises(ColdcheckError) as e:
        books.import_csv(w.ctx, what="weapons", data=WEAPONS_CSV, armorer="P99")
    assert e.value.code == "NOT_FOUND"
    assert w.seq() == head


def test_export_then_import_into_a_fresh_production_gives_the_same_inventory(
        w: World) -> None:
    a.classify_weapon(w.ctx, weapon=w.weapons["revolver"], weapon_class="handgun",
                      armorer=w.people["armorer"])
    a.retire_weapon(w.ctx, weapon=w.weapons["other"], reason="Cracked frame",
                    armorer=w.people["armorer"])
    st = w.state()
    wcsv = books.to_csv(books.WEAPON_EXPORT, books.weapon_rows(st))
    lcsv = books.to_csv(books.LOT_EXPORT, books.lot_rows(st))
    assert "UNK-38-005" not in wcsv  # retired: not in the inventory any more
    assert "UNK-38-005" in books.to_csv(books.WEAPON_EXPORT,
                                        books.weapon_rows(st, everything=True))
    ctx, arm = fresh(w)
    books.import_csv(ctx, what="weapons", data=wcsv, armorer=arm)
    books.import_csv(ctx, what="lots", data=lcsv, armorer=arm)
    assert inventory(ctx) == inventory(w.ctx)
    assert len(inventory(ctx)[0]) == len(w.weapons) - 1
    # The export of the new production reads the same, ids and all but state.
    assert books.to_csv(books.WEAPON_EXPORT, books.weapon_rows(
        ctx.store.state(ctx.production))).count("\n") == wcsv.count("\n")


def test_the_events_export_keeps_the_days_asked_for(w: World) -> None:
    rows = books.event_rows(w.ctx)
    assert [x["seq"] for x in rows] == list(range(w.seq()))
    day = rows[-1]["time_utc"][:10]
    assert books.event_rows(w.ctx, start=day, end=day) == rows  # the world is one day
    assert books.event_rows(w.ctx, start="2020-01-01", end="2020-01-02") == []
    got = next(x for x in rows if x["type"] == "weapon.received")
    assert got["actor"] == "Sam Reyes (P1)" and got["subjects"] == "weapon:W1"
    assert got["sentence"].startswith("W1 received into ST1")
    assert got["time_local"].endswith("UTC")
    assert books.event_rows(w.ctx, start="2026-11-30", end="2026-11-01") == []
    with pytest.raises(ColdcheckError):
        books.event_rows(w.ctx, start="yesterday")
    out = list(csv.DictReader(io.StringIO(books.to_csv(books.EVENT_EXPORT, rows))))
    assert list(out[0]) == books.EVENT_EXPORT and len(out) == len(rows)


def test_the_bound_book_has_a_line_per_weapon_and_corrections_as_new_entries(
        w: World) -> None:
    arm = w.people["armorer"]
    v = str(r.add_vendor(w.ctx, name="Stembridge Gun Rentals", kind="rental_house",
                         actor=arm)[0].payload["vendor"])
    r.record_owner(w.ctx, item=f"weapon:{w.weapons['pistol']}", vendor=v, actor=arm)
    r.record_owner(w.ctx, item=f"weapon:{w.weapons['revolver2']}", vendor=v, actor=arm)
    r.return_to_vendor(w.ctx, vendor=v, armorer=arm, pin=w.pins["armorer"],
                       weapons=[w.weapons["revolver2"]],
                       conditions={w.weapons["revolver2"]: "as received"})
    retired = a.retire_weapon(w.ctx, weapon=w.weapons["other"], reason="Cracked frame",
                              armorer=arm)[0]
    received = next(e for e in w.store.events(w.production)
                    if e.type == "weapon.received" and e.payload["weapon"] == w.weapons["rubber"])
    a.add_note(w.ctx, refers_to=received.seq, text="Make is Props Inc. of Atlanta", actor=arm)
    a.add_note(w.ctx, refers_to=retired.seq, text="Destroyed: certificate DC-2291", actor=arm)
    book = books.bound_book(w.ctx)
    acq = {x["weapon"]: x for x in book.acquisitions}
    assert list(acq) == sorted(w.weapons.values(), key=lambda i: int(i[1:]))
    assert acq[w.weapons["revolver"]]["received_from"] == "production"
    assert acq[w.weapons["revolver"]]["disposed_to"] == ""
    assert acq[w.weapons["pistol"]]["received_from"] == "Stembridge Gun Rentals (owner recorded)"
    back = acq[w.weapons["revolver2"]]
    assert back["disposed_to"].startswith("Stembridge Gun Rentals (vendor return VR")
    assert back["disposition_reason"] == "returned; condition out: as received"
    gone = acq[w.weapons["other"]]
    assert (gone["disposed_to"], gone["disposition_reason"], gone["disposed_seq"]) == (
        "retired", "Cracked frame", retired.seq)
    assert gone["date_disposed"] == retired.at[:10] and gone["serial"] == "UNK-38-005"
    # Corrections follow the line they are about; the line itself is unchanged.
    kinds = [(x["entry"], x["weapon"]) for x in book.entries]
    i = kinds.index(("acquisition", w.weapons["rubber"]))
    assert kinds[i + 1] == ("correction", w.weapons["rubber"])
    assert book.entries[i]["make"] == "Props Inc."
    assert book.entries[i + 1]["refers_to"] == received.seq
    assert [x["note"] for x in book.corrections] == ["Make is Props Inc. of Atlanta",
                                                     "Destroyed: certificate DC-2291"]
    rows = list(csv.DictReader(io.StringIO(book.csv())))
    assert list(rows[0]) == books.BOOK_COLUMNS and len(rows) == len(w.weapons) + 2


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext (poppler)")
def test_the_bound_book_pdf_reads_as_the_book(w: World, tmp_path: Path) -> None:
    from coldcheck.documents.bound_book import render_bound_book

    a.retire_weapon(w.ctx, weapon=w.weapons["other"], reason="Cracked frame",
                    armorer=w.people["armorer"])
    pdf = render_bound_book(books.bound_book(w.ctx), paper="letter")
    assert pdf.startswith(b"%PDF")
    (tmp_path / "b.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "b.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "acquisition and disposition record".upper() in text.upper()
    assert "Rules test production" in text
    for serial in ("COLT-SAA-5521", "GL17-BK-0932", "UNK-38-005"):
        assert serial in text
    assert "Cracked frame" in text and "retired" in text


# ---- the command line (SQLite) ------------------------------------------------

@pytest.fixture
def cli_world(sqlite_store: Store, settings: Settings, clock: Any) -> Iterator[World]:
    yield build_world(sqlite_store, settings, clock, production="books-cli")


def cli(w: World, *args: str) -> Any:
    s = w.ctx.settings
    return runner.invoke(app, [*args, "--db", s.database_url],
                         env={"COLDCHECK_KEY_DIR": str(s.key_dir)})


def test_the_cli_imports_reports_line_errors_and_exports(cli_world: World,
                                                         tmp_path: Path) -> None:
    w = cli_world
    arm = w.people["armorer"]
    good = tmp_path / "weapons.csv"
    good.write_text(WEAPONS_CSV)
    head = w.seq()
    r1 = cli(w, "import", "weapons", str(good), "--armorer", arm, "--dry-run", "--json")
    assert r1.exit_code == 0, r1.output
    out = json.loads(r1.output)
    assert out["valid"] and out["dry_run"] and len(out["would_record"]) == 3
    assert w.seq() == head
    bad = tmp_path / "bad.csv"
    bad.write_text(WEAPONS_CSV + "RH-92-001,Beretta,92FS,9mm PAK,blank_only,1,15,ST1\n")
    r2 = cli(w, "import", "weapons", str(bad), "--armorer", arm, "--dry-run")
    assert r2.exit_code == 2
    assert "line 5: DUPLICATE_SERIAL" in r2.output and "line 2 of this file" in r2.output
    r3 = cli(w, "import", "weapons", str(bad), "--armorer", arm, "--json")
    assert r3.exit_code == 2
    err = json.loads(r3.output)["error"]
    assert err["code"] == "IMPORT_ROWS_INVALID"
    assert [x["line"] for x in err["details"]["errors"]] == [5]
    r4 = cli(w, "import", "weapons", str(bad), "--armorer", arm)
    assert r4.exit_code == 2 and "IMPORT_ROWS_INVALID" in r4.output and "line 5" in r4.output
    assert w.seq() == head
    r5 = cli(w, "import", "weapons", str(good), "--armorer", arm)
    assert r5.exit_code == 0, r5.output
    assert "took in 3 weapons" in r5.output and w.seq() == head + 3
    r6 = cli(w, "import", "lots", str(tmp_path / "missing.csv"), "--armorer", arm)
    assert r6.exit_code == 2 and "cannot read" in r6.output
    target = tmp_path / "out.csv"
    r7 = cli(w, "export", "weapons", "--out", str(target), "--json")
    assert r7.exit_code == 0, r7.output
    assert json.loads(r7.output)["rows"] == len(w.weapons) + 3
    assert "RH-92-001" in target.read_text()
    r8 = cli(w, "export", "weapons", "--out", str(target))
    assert r8.exit_code == 4 and "FILE_EXISTS" in r8.output
    r9 = cli(w, "export", "events", "--out", "-", "--from", "2026-11-30", "--to", "2026-11-01")
    assert r9.exit_code == 2 and "is before --from" in r9.output
    r9 = cli(w, "export", "events", "--out", "-", "--from", w.state().days[w.day].date)
    assert r9.exit_code == 0 and r9.output.startswith("seq,time_utc,time_local,type")
    book = tmp_path / "book.pdf"
    r10 = cli(w, "export", "bound-book", "--out", str(book))
    assert r10.exit_code == 0, r10.output
    assert book.read_bytes().startswith(b"%PDF")
    r11 = cli(w, "export", "bound-book", "--csv", "--out", "-")
    assert r11.exit_code == 0 and r11.output.startswith("entry,weapon,received_seq")
    r12 = cli(w, "export", "lots", "--out", "-")
    assert r12.exit_code == 0 and "BLANKS9-2026" in r12.output


def test_a_weapon_checked_in_from_a_delivery_is_received_from_its_vendor(w: World) -> None:
    arm = w.people["armorer"]
    v = str(r.add_vendor(w.ctx, name="Stembridge Gun Rentals", kind="rental_house",
                         actor=arm)[0].payload["vendor"])
    rc = str(r.open_receipt(w.ctx, vendor=v, armorer=arm, manifest=[
        {"kind": "weapon", "serial": "RH-92-001", "make": "Beretta", "model": "92FS",
         "calibre": "9mm PAK", "weapon_kind": "blank_only", "chambers": 1,
         "magazine_capacity": 15}])[0].payload["receipt"])
    got = r.check_item(w.ctx, receipt=rc, armorer=arm, line=1, condition="good",
                       storage=w.storage["safe"])[0].payload["weapon"]
    line = next(x for x in books.bound_book(w.ctx).acquisitions if x["weapon"] == got)
    assert line["received_from"] == f"Stembridge Gun Rentals (delivery {rc})"
    assert line["serial"] == "RH-92-001"
    exported = books.weapon_rows(w.state())
    assert next(x for x in exported if x["id"] == got)["owner"] == "Stembridge Gun Rentals"


# ---- the API ------------------------------------------------------------------

@pytest.fixture
def aw(store: Store, backend_settings: Settings, clock: Any) -> Iterator[Any]:
    from api_support import api_world

    with api_world(store, backend_settings, clock, production="books-api") as aw:
        yield aw


def test_the_api_exports_the_same_files_with_the_read_permission(aw: Any) -> None:
    head = aw.world.seq()
    h = aw.h("alex", device=False)  # a performer: `read` is everyone's
    r1 = aw.client.get(aw.url("/exports/weapons.csv"), headers=h)
    assert r1.status_code == 200 and r1.headers["content-type"].startswith("text/csv")
    assert 'filename="books-api-weapons.csv"' in r1.headers["content-disposition"]
    assert r1.text == books.to_csv(books.WEAPON_EXPORT, books.weapon_rows(aw.world.state()))
    r2 = aw.client.get(aw.url("/exports/lots.csv"), params={"all": "true"}, headers=h)
    assert r2.status_code == 200 and r2.text.count("\r\n") == len(aw.world.lots) + 1
    day = aw.world.state().days[aw.world.day].date
    r3 = aw.client.get(aw.url("/exports/events.csv"), params={"from": day}, headers=h)
    assert r3.status_code == 200 and r3.text.startswith("seq,time_utc,time_local")
    assert f'books-api-events-{day}.csv' in r3.headers["content-disposition"]
    r4 = aw.client.get(aw.url("/exports/events.csv"),
                       params={"from": "2026-11-30", "to": "2026-11-01"}, headers=h)
    assert r4.status_code == 200 and r4.text == "seq,time_utc,time_local,type,actor," \
        "subjects,sentence\r\n"  # no day is in that range
    r4 = aw.client.get(aw.url("/exports/events.csv"), params={"from": "yesterday"}, headers=h)
    assert r4.status_code == 422
    r5 = aw.client.get(aw.url("/exports/bound-book.csv"), headers=h)
    assert r5.status_code == 200 and r5.text.startswith("entry,weapon,received_seq")
    r6 = aw.client.get(aw.url("/exports/bound-book.pdf"), params={"paper": "letter"},
                       headers=h)
    assert r6.status_code == 200 and r6.content.startswith(b"%PDF")
    r7 = aw.client.get(aw.url("/exports/weapons.csv"))
    assert r7.status_code == 401
    assert aw.world.seq() == head  # nothing recorded


def test_text_a_spreadsheet_would_run_is_exported_as_text_and_imported_back(
        w: World) -> None:
    arm = w.people["armorer"]
    data = ("serial,make,model,calibre,kind,storage\n"
            "=1+2,@SUM(A1),-rifle,+P,firearm,Weapons safe\n")
    books.import_csv(w.ctx, what="weapons", data=data, armorer=arm)
    a.add_note(w.ctx, refers_to=0, text='=HYPERLINK("http://x.example","click")', actor=arm)
    out = books.to_csv(books.WEAPON_EXPORT, books.weapon_rows(w.state()))
    assert "'=1+2,'@SUM(A1),'-rifle,'+P," in out
    events = books.to_csv(books.EVENT_EXPORT, books.event_rows(w.ctx))
    assert not any(c.startswith(books.FORMULA_START) for row in csv.reader(io.StringIO(events))
                   for c in row)
    ctx, other = fresh(w)
    books.import_csv(ctx, what="weapons", data=out, armorer=other)
    got = next(x for x in ctx.store.state(ctx.production).weapons.values()
               if x.make == "@SUM(A1)")
    assert (got.serial, got.model, got.calibre) == ("=1+2", "-rifle", "+P")


def test_a_crash_midway_leaves_the_production_as_it_was(w: World,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The process failing between rows (here: the third row's decision raises what
    no refusal is) rolls the one transaction back: no half-import."""
    head, before = w.seq(), w.snapshot()
    real, calls = books.custody.receive_weapon, []

    def flaky(*args: Any, **kw: Any) -> Any:
        calls.append(kw["serial"])
        if len(calls) == 3:
            raise OSError("the disk went away")
        return real(*args, **kw)

    monkeypatch.setattr(books.custody, "receive_weapon", flaky)
    with pytest.raises(OSError):
        books.import_csv(w.ctx, what="weapons", data=WEAPONS_CSV, armorer=w.people["armorer"])
    monkeypatch.undo()
    assert len(calls) == 3 and w.seq() == head and w.snapshot() == before
    res = books.import_csv(w.ctx, what="weapons", data=WEAPONS_CSV,
                           armorer=w.people["armorer"])  # run again: it all goes in
    assert [e.seq for e in res.events] == [head, head + 1, head + 2]
    assert verify_ledger(w.ctx).ok
