"""Where each weapon comes from and goes back to (issue 16 part 3), through each
door, on SQLite and PostgreSQL: the CLI (`coldcheck vendor …`, `owner record`,
`receipt open/check/sign/show`, `vendor return`, `vendor manifest`) and the API
(the same steps, the matrix of who may ask, RULED refusals recorded), and the
return manifest PDF made from the record."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import api_world
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.persistence.store import Store

runner = CliRunner()

MANIFEST: list[dict[str, Any]] = [
    {"kind": "weapon", "serial": "RH-92-001", "make": "Beretta", "model": "92FS",
     "calibre": "9mm PAK", "weapon_kind": "blank_only", "magazine_capacity": 15},
    {"kind": "accessory", "description": "Magazine, 15 rounds", "count": 3,
     "for_serial": "RH-92-001"},
    {"kind": "weapon", "serial": "RH-1911-7", "make": "Colt", "model": "M1911A1",
     "calibre": ".45 ACP", "weapon_kind": "non_firing_replica", "magazine_capacity": 7},
    {"kind": "lot", "lot_kind": "blank", "load": "half", "calibre": "9mm PAK",
     "supplier_lot": "RH-B-44", "count": 200},
    {"kind": "accessory", "description": "Shoulder holster"},
]


def pdf_text(data: bytes, tmp: Path) -> str:
    if shutil.which("pdftotext") is None:  # pragma: no cover - poppler-utils (scripts/test)
        pytest.skip("pdftotext (poppler-utils) is not installed")
    f = tmp / "m.pdf"
    f.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(f), "-"], capture_output=True,
                          text=True, check=True).stdout


# ---- the CLI ---------------------------------------------------------------------
@pytest.fixture
def db(backend_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLDCHECK_ARGON2_PROFILE", "fast-insecure-for-tests")
    monkeypatch.setenv("COLDCHECK_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.delenv("COLDCHECK_DATABASE_URL", raising=False)
    url = backend_settings.database_url
    cc(url, "init", "--production", "rent-a", "--name", "Rentals")
    cc(url, "person", "add", "--name", "Sam Reyes", "--role", "armorer", "--badge", "B1",
       "--qualification-expires", "2099-01-01", input="4821\n")
    cc(url, "person", "add", "--name", "Alex Stone", "--role", "performer", "--badge", "B2",
       input="5566\n")
    cc(url, "storage", "add", "--name", "Safe", "--kind", "safe", "--by", "P1")
    return url


def cc(db: str, *args: str, input: str | None = None, code: int = 0) -> str:
    r = runner.invoke(app, [*args, "--db", db], input=input)
    assert r.exit_code == code, f"{args}: exit {r.exit_code}\n{r.output}"
    return r.output


def cj(db: str, *args: str, input: str | None = None, code: int = 0) -> Any:
    return json.loads(cc(db, *args, "--json", input=input, code=code))


def test_the_cli_checks_a_delivery_in_returns_it_and_prints_the_manifest(
        db: str, tmp_path: Path) -> None:
    ev = cj(db, "vendor", "add", "--name", "Stembridge Gun Rentals", "--contact",
            "Burbank counter", "--by", "P1")
    assert ev[0]["type"] == "vendor.added" and ev[0]["payload"]["vendor"] == "V1"
    mf = tmp_path / "manifest.json"
    mf.write_text(json.dumps(MANIFEST))
    # A performer cannot receive a delivery: refused by the rule (exit 3), recorded.
    err = cj(db, "receipt", "open", "--vendor", "V1", "--manifest", str(mf), "--armorer",
             "P2", code=3)
    assert err["error"]["code"] == "CUSTODY_ARMORER_ONLY"
    ev = cj(db, "receipt", "open", "--vendor", "V1", "--manifest", str(mf), "--armorer", "P1",
            "--agreement", "SGR-2026-118", "--insurance", "COI-55", "--due-back",
            "2026-12-20")
    rc = ev[0]["payload"]["receipt"]
    photo = tmp_path / "IMG_0412.jpg"
    photo.write_bytes(b"not really a photo")
    ev = cj(db, "receipt", "check", rc, "--line", "1", "--armorer", "P1", "--storage", "ST1",
            "--condition", "good", "--photo", str(photo))
    assert [e["type"] for e in ev] == ["weapon.received", "receipt.item_checked"]
    import hashlib
    assert ev[1]["payload"]["photo_sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert ev[1]["payload"]["photo_ref"] == "IMG_0412.jpg"
    ev = cj(db, "receipt", "check", rc, "--line", "2", "--armorer", "P1", "--condition",
            "two only", "--count", "2")
    assert ev[-1]["payload"]["difference"] == "count_differs"
    cj(db, "receipt", "check", rc, "--line", "3", "--armorer", "P1", "--storage", "ST1",
       "--condition", "scuffed slide", "--serial", "RH-1911-8")
    # Not everything is checked in: nothing is signed (exit 2).
    err = cj(db, "receipt", "sign", rc, "--armorer", "P1", input="4821\n", code=2)
    assert err["error"]["code"] == "RECEIPT_INCOMPLETE"
    cj(db, "receipt", "check", rc, "--line", "4", "--armorer", "P1", "--storage", "ST1",
       "--condition", "sealed box")
    ev = cj(db, "receipt", "check", rc, "--line", "5", "--armorer", "P1", "--missing")
    assert ev[0]["payload"]["difference"] == "missing_item"
    err = cj(db, "receipt", "check", rc, "--line", "5", "--armorer", "P1", "--missing",
             code=4)
    assert err["error"]["code"] == "RECEIPT_LINE_CHECKED"
    cj(db, "receipt", "check", rc, "--armorer", "P1", "--condition", "ok", "--extra",
       json.dumps({"kind": "accessory", "description": "Cleaning kit"}))
    err = cj(db, "receipt", "sign", rc, "--armorer", "P1", input="0000\n", code=2)
    assert err["error"]["code"] == "PIN_INVALID"
    ev = cj(db, "receipt", "sign", rc, "--armorer", "P1", input="4821\n")
    assert ev[-1]["type"] == "receipt.signed" and len(ev[-1]["payload"]["differences"]) == 4
    shown = cj(db, "receipt", "show", rc)
    assert shown["open_lines"] == [] and shown["signed"]["armorer"] == "P1"
    assert [x["checked"]["difference"] for x in shown["lines"]] == [
        None, "count_differs", "serial_differs", None, "missing_item"]
    assert "Stembridge" in cc(db, "receipt", "show", rc)

    # A weapon taken in before, now recorded as the vendor's (bare id or weapon:W3).
    cj(db, "weapon", "add", "--serial", "RH-SAA-3", "--make", "Colt", "--model", "SAA",
       "--calibre", ".45 Colt", "--kind", "firearm", "--chambers", "6", "--storage", "ST1",
       "--armorer", "P1")
    ev = cj(db, "owner", "record", "W3", "--vendor", "V1", "--agreement", "SGR-2026-118",
            "--due-back", "2026-12-20", "--by", "P1")
    assert ev[0]["payload"]["item"] == "weapon:W3"
    err = cj(db, "owner", "record", "ST1", "--vendor", "V1", code=2)
    assert err["error"]["code"] == "INVALID_INPUT"
    vendors = cj(db, "vendor", "list")
    assert vendors[0]["still_here"] == {"weapon": ["W1", "W2", "W3"], "lot": ["L1"],
                                        "accessory": ["AC1", "AC2"]}

    # A kit piece on W3; found when it was never missing is a conflict (exit 4).
    ev = cj(db, "kit", "add", "W3", "--description", "Western holster", "--armorer", "P1")
    assert ev[0]["type"] == "accessory.added" and ev[0]["payload"]["weapon"] == "W3"
    err = cj(db, "kit", "found", ev[0]["payload"]["accessory"], "--armorer", "P1", code=4)
    assert err["error"]["code"] == "ACCESSORY_NOT_MISSING"
    err = cj(db, "kit", "add", "W3", "--description", "Belt", "--armorer", "P2", code=3)
    assert err["error"]["code"] == "CUSTODY_ARMORER_ONLY"

    # An open incident holds W3 back: RENTAL_RETURN_HELD (exit 3), recorded.
    cj(db, "incident", "report", "--kind", "other", "--description", "Cylinder binds",
       "--by", "P1", "--weapon", "W3")
    err = cj(db, "vendor", "return", "V1", "--armorer", "P1", "--condition", "W1=good",
             "--condition", "W2=scuffed", "--condition", "W3=binds", input="4821\n", code=3)
    assert err["error"]["code"] == "RENTAL_RETURN_HELD"
    assert err["error"]["details"]["recorded"]
    # The manifest before the return: what is to go back, and why W3 is held.
    draft = tmp_path / "draft.pdf"
    res = cj(db, "vendor", "manifest", "V1", "--out", str(draft))
    assert res["return"] is None and [w["id"] for w in res["weapons"]] == ["W1", "W2", "W3"]
    assert res["weapons"][2]["held"] and "INC1" in res["weapons"][2]["held"]
    text = pdf_text(draft.read_bytes(), tmp_path)
    assert "To go back to Stembridge Gun Rentals" in text and "Held: weapon W3" in text
    # The file is not replaced without --force.
    err = cj(db, "vendor", "manifest", "V1", "--out", str(draft), code=4)
    assert err["error"]["code"] == "FILE_EXISTS"

    ev = cj(db, "vendor", "return", "V1", "--armorer", "P1", "--weapon", "W1", "--weapon",
            "W2", "--lot", "L1", "--condition", "W1=good", "--condition", "W2=scuffed slide",
            input="4821\n")
    assert [e["type"] for e in ev] == ["vendor.returned", "weapon.retired", "weapon.retired"]
    p = ev[0]["payload"]
    assert p["weapons"] == ["W1", "W2"] and p["lots"] == {"L1": 200}
    assert p["accessories"] == ["AC1", "AC2"]

    out = tmp_path / "vr1.pdf"
    res = cj(db, "vendor", "manifest", "V1", "--return", "VR1", "--out", str(out))
    assert res["return"] == "VR1" and res["receipts"] == ["RC1"]
    assert [w["condition_out"] for w in res["weapons"]] == ["good", "scuffed slide"]
    assert res["lots"][0]["rounds"]["returned"] == 200
    text = pdf_text(out.read_bytes(), tmp_path)
    for s in ("Return VR1 to Stembridge Gun Rentals", "RH-92-001", "RH-1911-8", "RH-B-44",
              "scuffed slide", "serial differs", "missing", "For Stembridge Gun Rentals",
              "Armorer: signature", "Sam Reyes (P1)"):
        assert s in text, s
    # To standard output: the PDF's bytes, nothing else.
    r = runner.invoke(app, ["vendor", "manifest", "V1", "--return", "VR1", "--out", "-",
                            "--db", db])
    assert r.exit_code == 0 and r.stdout_bytes.startswith(b"%PDF")
    err = cj(db, "vendor", "manifest", "V1", "--return", "VR9", "--out",
             str(tmp_path / "none.pdf"), code=2)
    assert err["error"]["code"] == "NOT_FOUND"


# ---- the API ----------------------------------------------------------------------
@pytest.fixture
def aw(store: Store, backend_settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(store, backend_settings, clock, production="rent-api") as aw:
        yield aw


def test_the_api_checks_a_delivery_in_and_returns_it_with_the_matrix_and_the_rules(
        aw: Any, tmp_path: Path) -> None:
    w = aw.world
    # Vendors and owner records: the producer's and the armorers' paperwork.
    r = aw.post("alex", "/vendors", {"name": "Stembridge Gun Rentals"})
    assert r.status_code == 403 and r.json()["code"] == "ACTION_FORBIDDEN"
    r = aw.post("producer", "/vendors", {"name": "Stembridge Gun Rentals",
                                         "contact": "Burbank counter"})
    assert r.status_code == 200, r.text
    v = r.json()["events"][0]["payload"]["vendor"]
    revolver = w.weapons["revolver"]
    r = aw.post("producer", "/owners", {"item": f"weapon:{revolver}", "vendor": v,
                                        "agreement": "SGR-7", "due_back": "2026-12-20"})
    assert r.status_code == 200, r.text
    # Receipts are custody: a performer reaches the rule, which refuses and records.
    before = w.seq()
    r = aw.post("alex", "/receipts", {"vendor": v, "manifest": MANIFEST})
    assert r.status_code == 409 and r.json()["code"] == "CUSTODY_ARMORER_ONLY"
    assert w.types_since(before) == ["action.refused"]
    r = aw.post("armorer", "/receipts", {"vendor": v, "manifest": MANIFEST,
                                         "agreement": "SGR-8", "due_back": "2026-12-20"})
    assert r.status_code == 200, r.text
    rc = r.json()["events"][0]["payload"]["receipt"]
    safe = w.storage["safe"]
    for line, body in [(1, {"condition": "good", "storage": safe,
                            "photo_sha256": "ab" * 32, "photo_ref": "IMG_1"}),
                       (2, {"condition": "good", "count": 2}),
                       (3, {"condition": "scuffed", "storage": safe}),
                       (4, {"condition": "sealed", "storage": safe})]:
        r = aw.post("armorer", f"/receipts/{rc}/lines/{line}", body)
        assert r.status_code == 200, r.text
    r = aw.post("armorer", f"/receipts/{rc}/lines/1", {"condition": "again", "storage": safe})
    assert r.status_code == 409 and r.json()["code"] == "RECEIPT_LINE_CHECKED"
    r = aw.post("armorer", f"/receipts/{rc}/signature", {"pin": w.pins["armorer"]})
    assert r.status_code == 422 and r.json()["code"] == "RECEIPT_INCOMPLETE"
    r = aw.post("armorer", f"/receipts/{rc}/lines/5/missing", {})
    assert r.status_code == 200 and r.json()["events"][0]["payload"]["difference"] == \
        "missing_item"
    r = aw.post("armorer", f"/receipts/{rc}/extras",
                {"item": {"kind": "accessory", "description": "Cleaning kit"},
                 "condition": "ok"})
    assert r.status_code == 200, r.text
    # A signature is the caller's own PIN.
    r = aw.post("armorer", f"/receipts/{rc}/signature", {"pin": "0000"})
    assert r.status_code == 422 and r.json()["code"] == "PIN_INVALID"
    r = aw.post("armorer", f"/receipts/{rc}/signature", {"pin": w.pins["armorer"]})
    assert r.status_code == 200 and r.json()["events"][-1]["type"] == "receipt.signed"
    got = aw.get("investigator", f"/receipts/{rc}").json()
    assert got["signed"]["armorer"] == w.people["armorer"] and got["open_lines"] == []
    assert len(got["extras"]) == 1 and len(got["differences"]) == 3
    assert [x["id"] for x in aw.get("ad", "/receipts").json()] == [rc]
    here = aw.get("alex", "/vendors").json()[0]["still_here"]
    assert revolver in here["weapon"] and len(here["weapon"]) == 3 and len(here["lot"]) == 1

    # A kit: an accessory on the revolver goes out with it and one piece is missing.
    r = aw.post("armorer", f"/weapons/{revolver}/accessories", {"description": "Holster"})
    assert r.status_code == 200, r.text
    holster = r.json()["events"][0]["payload"]["accessory"]
    w.give("revolver", "alex", "cold")
    # Out with a performer: RENTAL_RETURN_HELD refuses the return, and records it.
    before = w.seq()
    r = aw.post("armorer", f"/vendors/{v}/returns", {"pin": w.pins["armorer"],
                                                   "weapons": [revolver],
                                                   "conditions": {revolver: "good"}})
    assert r.status_code == 409 and r.json()["code"] == "RENTAL_RETURN_HELD", r.text
    assert w.types_since(before) == ["action.refused"]
    r = aw.post("armorer", f"/weapons/{revolver}/return",
                {"performer": w.people["alex"], "missing_accessories": [holster]})
    assert r.status_code == 200, r.text
    assert r.json()["events"][-1]["payload"]["missing"] == [holster]
    r = aw.post("armorer", f"/accessories/{holster}/found")
    assert r.status_code == 200 and r.json()["events"][0]["type"] == "accessory.found"
    w.put_away("revolver")

    # The manifest before the return, then the return, then the manifest of it.
    r = aw.get("producer", f"/vendors/{v}/manifest.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(r.content, tmp_path).split())
    assert "To go back to Stembridge" in text and "Times in UTC" in text, text[:1500]
    assert "UTC UTC" not in text
    # On paper, times are the production's local time with its zone.
    assert aw.post("producer", "/timezone", {"timezone": "America/Denver"}).status_code == 200
    text = " ".join(pdf_text(aw.get("producer", f"/vendors/{v}/manifest.pdf").content,
                             tmp_path).split())
    assert "Times in America/Denver" in text and " MST" in text, text[:600]
    assert aw.get("alex", f"/vendors/{v}/manifest.pdf").status_code == 403
    conds = {k.partition(":")[2]: "good" for k, o in w.state().owners.items()
             if k.startswith("weapon:") and o["returned"] is None}
    r = aw.post("alex", f"/vendors/{v}/returns", {"pin": w.pins["alex"], "conditions": conds})
    assert r.status_code == 409 and r.json()["code"] == "CUSTODY_ARMORER_ONLY"
    r = aw.post("armorer", f"/vendors/{v}/returns", {"pin": w.pins["armorer"],
                                                   "conditions": conds})
    assert r.status_code == 200, r.text
    ret = r.json()["events"][0]["payload"]
    assert revolver in ret["weapons"] and holster in ret["accessories"] and ret["lots"]
    r = aw.get("armorer", f"/vendors/{v}/manifest.pdf", **{"return": ret["return"]})
    assert r.status_code == 200
    text = pdf_text(r.content, tmp_path)
    assert f"Return {ret['return']} to Stembridge" in text and "Holster" in text
    assert aw.get("armorer", f"/vendors/{v}/manifest.pdf",
                  **{"return": "VR9"}).json()["code"] == "NOT_FOUND"
    # Every door wrote the same kind of record: the ledger verifies.
    from coldcheck.services.verify import verify_ledger

    rep = verify_ledger(w.ctx)
    assert rep.ok, [f.line() for f in rep.failures]


def test_a_schema_valid_manifest_line_the_rules_refuse_is_a_rule_not_a_shape(
        aw: Any) -> None:
    """Live rounds on a manifest pass the schema (the rules decide): the line is
    refused at intake with AMMO_LIVE_FORBIDDEN, an incident opens, and the line
    is recorded as checked, refused_at_intake."""
    w = aw.world
    v = aw.post("armorer", "/vendors", {"name": "Oops Props"}).json()[
        "events"][0]["payload"]["vendor"]
    r = aw.post("armorer", "/receipts", {"vendor": v, "manifest": [
        {"kind": "lot", "lot_kind": "live", "calibre": "9mm", "supplier_lot": "OOPS-1",
         "count": 50}]})
    rc = r.json()["events"][0]["payload"]["receipt"]
    before = w.seq()
    r = aw.post("armorer", f"/receipts/{rc}/lines/1", {"condition": "sealed",
                                                      "storage": w.storage["safe"]})
    assert r.status_code == 409 and r.json()["code"] == "AMMO_LIVE_FORBIDDEN"
    assert w.types_since(before) == ["ammo.intake_refused", "incident.opened",
                                     "receipt.item_checked"]
    # A line that is not a known kind is the schema's: 422 with its list of errors.
    r = aw.post("armorer", "/receipts", {"vendor": v, "manifest": [{"kind": "tank"}]})
    assert r.status_code == 422 and "errors" in r.json()
