"""An incident's evidence package: exact entries, proofs Go's tlog accepts, a usable timeline."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import api_world
from demo_db import demo_copy
from go_verifier import go_document, go_verifier_or_skip, inclusion_item, run_go_verifier
from sqlalchemy import select
from typer.testing import CliRunner

from coldcheck.cli import app
from coldcheck.config import Settings
from coldcheck.documents import evidence_package
from coldcheck.domain.errors import ColdcheckError, NotFound
from coldcheck.ledger import Checkpoint, Signer, sign_checkpoint
from coldcheck.persistence import tables as t
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services import ledger as service
from coldcheck.services.context import Context, context

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    s = demo_copy(tmp_path_factory.mktemp("evidence"))
    ctx = context(s, None)
    yield ctx
    ctx.store.dispose()


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_the_package_holds_the_exact_entries_of_everything_the_incident_names(
        demo: Context) -> None:
    st = demo.store.state(demo.production)
    inc = st.incidents["INC2"]  # the demo's rifle misfire: weapon, lot and evidence lot
    files = unzip(evidence_package(demo, "INC2", at=demo.now()).data)
    seqs = sorted(int(n[len("entries/"):-len(".json")]) for n in files
                  if n.startswith("entries/"))
    for n in seqs:
        assert files[f"entries/{n:08d}.json"] == service.entry(demo, n)
    events = {e.seq: e for e in demo.store.events(demo.production)}
    lots = {*inc.lots, inc.evidence_lot}
    named = {e.seq for e in events.values()
             if e.payload.get("weapon") in inc.weapons or e.payload.get("lot") in lots
             or e.payload.get("incident") == "INC2"}
    assert len(named) > 10
    assert named <= set(seqs)  # every entry naming the rifle, its lot or the evidence lot
    # ... from the rifle's intake to the incident's close, and the reporter's record.
    types = {events[n].type for n in seqs}
    assert {"weapon.received", "incident.opened", "weapon.frozen", "incident.closed",
            "weapon.unfrozen", "person.added"} <= types
    assert all(events[n].payload.get("person", inc.reported_by) in st.people for n in seqs)
    info = json.loads(files["incident.json"])
    assert (info["incident"], info["weapons"], info["lots"], info["open"]) == (
        "INC2", inc.weapons, inc.lots, False)
    assert info["entries"] == seqs
    # Entry 0, proven like the others, names the key verifier-key.txt holds.
    assert seqs[0] == 0 and "proofs/00000000.json" in files
    genesis = json.loads(files["entries/00000000.json"])
    _, key_id, _ = files["verifier-key.txt"].decode().strip().split("+", 2)
    assert (genesis["type"], genesis["payload"]["key_id"]) == ("production.created", key_id)
    assert "Entry 00000000 is the production's creation" in files["README.txt"].decode()


def test_go_accepts_the_checkpoint_and_every_proof_and_rejects_a_changed_byte(
        demo: Context) -> None:
    go = go_verifier_or_skip()
    files = unzip(evidence_package(demo, "INC2", at=demo.now()).data)
    key = files["verifier-key.txt"].decode().strip()
    note = files["checkpoint.txt"].decode()
    assert key == demo.store.production(demo.production)["verifier_key"]
    items = []
    for name in sorted(n for n in files if n.startswith("proofs/")):
        p = json.loads(files[name])
        entry = files[name.replace("proofs/", "entries/")]
        leaf = base64.b64decode(p["leaf_hash"])
        assert leaf == hashlib.sha256(b"\x00" + entry).digest()  # tlog.RecordHash
        items.append(inclusion_item(p["index"], p["tree_size"], leaf,
                                    base64.b64decode(p["root_hash"]),
                                    [base64.b64decode(h) for h in p["proof"]]))
    result = run_go_verifier(go, go_document(key, note, inclusion=items))
    assert result.ok, result.failures
    assert result.output["checked"]["inclusion"] == len(items) > 10
    # One flipped bit in one proof hash: Go says no.
    bad = dict(items[3])
    h = bytearray(base64.b64decode(bad["proof"][0]))
    h[0] ^= 1
    bad["proof"] = [base64.b64encode(bytes(h)).decode(), *bad["proof"][1:]]
    result = run_go_verifier(go, go_document(key, note, inclusion=[*items[:3], bad]))
    assert not result.ok and any("CheckRecord" in f for f in result.failures)


def test_every_earlier_checkpoint_comes_with_a_consistency_proof_go_accepts(
        demo: Context) -> None:
    """A printed daily report's checkpoint, or the one signed when the incident
    was reported, is checked against the package offline: Go opens each earlier
    note with the same key and checks its proof to checkpoint.txt."""
    go = go_verifier_or_skip()
    pkg = evidence_package(demo, "INC2", at=demo.now())
    files = unzip(pkg.data)
    key = files["verifier-key.txt"].decode().strip()
    note = files["checkpoint.txt"].decode()
    with demo.store.engine.connect() as c:
        stored = {int(r[0]): (str(r[1]), str(r[2])) for r in c.execute(
            select(t.checkpoints.c.tree_size, t.checkpoints.c.note, t.checkpoints.c.reason)
            .where(t.checkpoints.c.production_id == demo.production))}
    earlier = sorted(n for n in stored if 0 < n < pkg.tree_size)
    assert pkg.earlier == earlier and len(earlier) >= 3
    assert {"init", "incident"} <= {stored[n][1] for n in earlier}
    notes, proofs = [], []
    for n in earlier:
        assert files[f"checkpoints/{n:08d}.txt"].decode() == stored[n][0]  # as signed
        notes.append(stored[n][0])
        proofs.append(json.loads(files[f"consistency/{n:08d}.json"]))
        assert proofs[-1]["old_size"] == n and proofs[-1]["tree_size"] == pkg.tree_size
    result = run_go_verifier(go, go_document(key, note, consistency=proofs,
                                             earlier_notes=notes))
    assert result.ok, result.failures
    assert result.output["checked"]["earlier"] == result.output["checked"][
        "consistency"] == len(earlier)
    readme = files["README.txt"].decode()
    assert "CheckTree" in readme
    assert all(f"size {n:>8}" in readme for n in earlier)
    opened = next(e.seq for e in demo.store.events(demo.production)
                  if e.type == "incident.opened" and e.payload["incident"] == "INC2")
    first_after = min(n for n in earlier if n > opened)
    assert f"size {first_after:>8}  signed" in next(
        ln for ln in readme.splitlines() if "the first after INC2 was reported" in ln)
    # One flipped bit in one consistency proof: Go says no.
    bad = dict(proofs[-1])
    h = bytearray(base64.b64decode(bad["proof"][0]))
    h[-1] ^= 0x80
    bad["proof"] = [base64.b64encode(bytes(h)).decode(), *bad["proof"][1:]]
    result = run_go_verifier(go, go_document(key, note, consistency=[*proofs[:-1], bad],
                                             earlier_notes=notes))
    assert not result.ok and any("CheckTree" in f for f in result.failures)
    # An old root that is not the earlier checkpoint's: Go says no.
    swapped = [dict(p) for p in proofs]
    swapped[0]["old_root"] = proofs[1]["old_root"]
    result = run_go_verifier(go, go_document(key, note, consistency=swapped,
                                             earlier_notes=notes))
    assert not result.ok and any("earlier signed checkpoint" in f for f in result.failures)
    # A note without a proof from its size, or a second root for one size (a
    # fork, signed with the production's own key): Go says no.
    result = run_go_verifier(go, go_document(key, note, consistency=proofs[1:],
                                             earlier_notes=notes))
    assert not result.ok and any(f"no consistency proof from size {earlier[0]}" in f
                                 for f in result.failures)
    origin = demo.store.production(demo.production)["origin"]
    fork = sign_checkpoint(Checkpoint(origin, earlier[0], bytes(32)), service.signer(demo))
    result = run_go_verifier(go, go_document(key, note, consistency=proofs,
                                             earlier_notes=[*notes, fork]))
    assert not result.ok and any("two roots (a fork)" in f for f in result.failures)


def test_a_stored_checkpoint_the_ledger_contradicts_is_kept_and_named(tmp_path: Path) -> None:
    """A checkpoint row signed by another key (or for another root) is evidence
    too: the package holds it as stored and its warning names its size."""
    s = demo_copy(tmp_path / "forged")
    ctx = context(s, None)
    try:
        prod = ctx.store.production(ctx.production)
        with ctx.store.engine.connect() as c:
            taken = {int(n) for n in c.execute(select(t.checkpoints.c.tree_size).where(
                t.checkpoints.c.production_id == ctx.production)).scalars()}
        size = next(n for n in range(2, ctx.store.head(ctx.production)) if n not in taken)
        other = Signer.from_seed(str(prod["origin"]), bytes(range(32)))
        forged = sign_checkpoint(Checkpoint(str(prod["origin"]), size, bytes(32)), other)
        with ctx.store.engine.begin() as c:
            c.execute(t.checkpoints.insert().values(
                production_id=ctx.production, tree_size=size, note=forged, reason="demand",
                created_at="2026-01-01T00:00:00Z"))
        pkg = evidence_package(ctx, "INC2", at=ctx.now())
        files = unzip(pkg.data)
        assert files[f"checkpoints/{size:08d}.txt"].decode() == forged
        assert pkg.warning is not None and f"size {size} do not match" in pkg.warning
        assert pkg.warning in files["README.txt"].decode()
        # Only that one: the genuine checkpoints are not named.
        assert all(f" {n}," not in pkg.warning for n in pkg.earlier if n != size)
    finally:
        ctx.store.dispose()


def test_the_timeline_lists_the_entries_in_order_in_utc(demo: Context) -> None:
    files = unzip(evidence_package(demo, "INC2", at=demo.now()).data)
    lines = files["timeline.txt"].decode().splitlines()
    assert lines[0].startswith("Incident INC2 (misfire), closed at ")
    rows = [ln for ln in lines if ln.startswith("#")]
    seqs = [int(r[1:].split()[0]) for r in rows]
    assert seqs == sorted(seqs) and len(rows) == sum(
        1 for n in files if n.startswith("entries/"))
    assert any("incident.opened" in r and r.split()[2].endswith("Z") for r in rows)
    readme = files["README.txt"].decode()
    assert "CheckRecord" in readme and "coldcheck ledger verify" in readme


def test_two_exports_at_the_same_size_differ_only_in_the_export_time(demo: Context) -> None:
    first = unzip(evidence_package(demo, "INC1", at=demo.now()).data)
    second = unzip(evidence_package(demo, "INC1", at=demo.now()).data)
    assert first.keys() == second.keys()
    assert [n for n in first if first[n] != second[n]] in ([], ["README.txt"])


def test_an_unknown_incident_is_not_found(demo: Context) -> None:
    with pytest.raises(NotFound) as err:
        evidence_package(demo, "INC99", at=demo.now())
    assert err.value.code == "NOT_FOUND"


def test_the_export_signs_a_checkpoint_when_the_ledger_grew(tmp_path: Path) -> None:
    s = demo_copy(tmp_path / "grow")
    ctx = context(s, None)
    try:
        before = service.latest_checkpoint(ctx)
        assert before is not None
        a.add_note(ctx, text="Rifle returned from the rental house", refers_to=0, actor="P1")
        pkg = evidence_package(ctx, "INC2", at=ctx.now())
        assert pkg.signed_now and pkg.tree_size == before[0] + 1
        assert service.latest_checkpoint(ctx) == (pkg.tree_size,
                                                  unzip(pkg.data)["checkpoint.txt"].decode())
    finally:
        ctx.store.dispose()


def test_without_the_key_an_incident_after_the_last_checkpoint_is_not_exported(
        tmp_path: Path) -> None:
    """Review: on a copy without the signing key, the package of an incident
    recorded after the last checkpoint described it (from the current state)
    while holding none of its entries or proofs."""
    s = demo_copy(tmp_path / "nokey")
    ctx = context(s, None)
    try:
        service.key_path(s.resolved_key_dir(), ctx.production).unlink()
        signed = service.latest_checkpoint(ctx)
        assert signed is not None
        ev = a.report_incident(ctx, kind="other", description="Cart found unlocked",
                               weapons=[], lots=[], reported_by="P3")
        new = ev[0].payload["incident"]
        assert service.latest_checkpoint(ctx) == signed  # nothing could sign it
        with pytest.raises(ColdcheckError) as err:
            evidence_package(ctx, new, at=ctx.now())
        assert err.value.code == "KEY_MISSING" and "after the latest signed" in err.value.message
        # An incident the checkpoint covers is still exported, proven against it.
        pkg = evidence_package(ctx, "INC2", at=ctx.now())
        assert pkg.tree_size == signed[0] and pkg.warning and not pkg.signed_now
        assert json.loads(unzip(pkg.data)["incident.json"])["incident"] == "INC2"
    finally:
        ctx.store.dispose()


def test_the_cli_writes_the_zip_and_never_overwrites_without_force(tmp_path: Path) -> None:
    s = demo_copy(tmp_path / "cli")
    env = {"COLDCHECK_KEY_DIR": str(s.key_dir)}
    target = tmp_path / "inc2.zip"
    args = ["incident", "export", "INC2", "--out", str(target), "--db", s.database_url]
    r = runner.invoke(app, [*args, "--json"], env=env)
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert summary["incident"] == "INC2" and summary["file"] == str(target)
    data = target.read_bytes()
    assert summary["bytes"] == len(data) and "checkpoint.txt" in unzip(data)
    r = runner.invoke(app, [*args, "--json"], env=env)
    assert r.exit_code == 4 and json.loads(r.output)["error"]["code"] == "FILE_EXISTS"
    assert target.read_bytes() == data
    r = runner.invoke(app, [*args, "--force"], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["incident", "export", "INC77", "--out", str(tmp_path / "x.zip"),
                            "--db", s.database_url, "--json"], env=env)
    assert r.exit_code == 2 and json.loads(r.output)["error"]["code"] == "NOT_FOUND"
    assert not (tmp_path / "x.zip").exists()


@pytest.fixture
def aw(sqlite_store: Store, settings: Settings, clock: Any) -> Iterator[Any]:
    with api_world(sqlite_store, settings, clock, production="evidence-test") as aw:
        yield aw


def test_the_api_serves_the_zip_to_permitted_roles_only(aw: Any) -> None:
    w = aw.world
    a.report_incident(w.ctx, kind="squib", description="Revolver made a noise on the pull",
                      weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["ad"])
    inc = next(iter(w.state().incidents))
    url = aw.url(f"/incidents/{inc}/evidence.zip")
    r = aw.client.get(url, headers=aw.h("investigator", device=False))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert f'filename="evidence-test-{inc}-evidence.zip"' in r.headers["content-disposition"]
    assert "checkpoint.txt" in unzip(r.content)
    r = aw.client.get(url, headers=aw.h("alex", device=False))  # a performer
    assert r.status_code == 403 and r.json()["code"] == "ACTION_FORBIDDEN"
    r = aw.client.get(aw.url("/incidents/INC404/evidence.zip"),
                      headers=aw.h("producer", device=False))
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
