"""Every rule of the catalogue, allowed and refused, through the services on SQLite.

Each test is registered with ``@covers(code, kind)``; the wrapper fails the
test unless it actually asserted that outcome for that code (through
``refused``/``allowed``/``soft_cycle``), and the last test checks that every
code in ``coldcheck.domain.rules.RULES`` has an allowed and a refused test (and
every soft rule an override test).

A refused case asserts the code, the exact events the refusal recorded, and
that no weapon or lot changed (live projection rows and a fresh replay).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import World, WorldTemplate, codes, cyl, refusal, subject_of

from coldcheck.domain.errors import ColdcheckError
from coldcheck.domain.events import Event
from coldcheck.domain.rules import RULES, Strength
from coldcheck.services import actions as a
from coldcheck.services.queries import status

HARD = sorted(c for c, r in RULES.items() if r.strength is Strength.HARD)
SOFT = sorted(c for c, r in RULES.items() if r.strength is Strength.SOFT)
KINDS = ("allowed", "refused", "overridden")

REGISTRY: dict[str, dict[str, list[str]]] = {c: {k: [] for k in KINDS} for c in RULES}
_checked: list[tuple[str, str]] = []


def covers(code: str, kind: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a test as covering ``kind`` of rule ``code``; fail it if it never
    asserted that outcome."""
    assert code in RULES, code
    assert kind in KINDS, kind

    def deco(fn: Callable[..., None]) -> Callable[..., None]:
        REGISTRY[code][kind].append(fn.__name__)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> None:
            _checked.clear()
            fn(*args, **kw)
            assert (kind, code) in _checked, (
                f"{fn.__name__} is registered as {kind} for {code} but never checked it")

        return wrapper

    return deco


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> WorldTemplate:
    return WorldTemplate.build(tmp_path_factory.mktemp("rules-world") / "w")


@pytest.fixture(scope="session")
def template_no_meeting(tmp_path_factory: pytest.TempPathFactory) -> WorldTemplate:
    return WorldTemplate.build(tmp_path_factory.mktemp("rules-world") / "w", meeting=False)


@pytest.fixture
def w(template: WorldTemplate, tmp_path: Path, clock: Any) -> Iterator[World]:
    """A fresh copy of the world (see helpers.build_world) on SQLite."""
    world = template.clone(tmp_path / "world", clock)
    yield world
    world.store.dispose()


def refused(w: World, code: str, fn: Callable[..., Any], *args: Any,
            records: Iterable[str] = ("action.refused",), primary: bool = True,
            changes: bool = False, **kw: Any) -> ColdcheckError:
    """``fn`` must be refused with ``code`` (the reported code unless ``primary`` is
    false), record exactly ``records`` and, unless ``changes``, leave every weapon
    and lot as it was."""
    before, seq = w.snapshot(), w.seq()
    err = refusal(fn, *args, **kw)
    if primary:
        assert err.code == code, f"expected {code}, got {err}"
    else:
        assert code in codes(err), f"expected {code} among {codes(err)}"
    recorded = w.events_since(seq)
    assert [e.type for e in recorded] == list(records), err
    for e in recorded:
        if e.type in ("action.refused", "weapon.handoff_refused", "ammo.intake_refused"):
            assert code in e.payload["codes"]
    if not changes:
        assert w.snapshot() == before, "a refused action changed a weapon or a lot"
    _checked.append(("refused", code))
    return err


def allowed(w: World, code: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> list[Event]:
    """``fn`` goes through and records events, none of them a refusal."""
    seq = w.seq()
    out = fn(*args, **kw)
    types = w.types_since(seq)
    assert types, "an allowed action recorded nothing"
    assert not {"action.refused", "weapon.handoff_refused", "ammo.intake_refused"} & set(types)
    _checked.append(("allowed", code))
    return list(out) if out is not None else []


def soft_cycle(w: World, code: str, attempt: Callable[[], Any], *,
               records: Iterable[str] = ("action.refused",)) -> list[Event]:
    """A soft rule: refused without an override; someone other than the safety
    supervisor cannot override it; the supervisor can, naming the violation's
    subject; then the same attempt goes through."""
    records = tuple(records)
    err = refused(w, code, attempt, records=records)
    subject = subject_of(err, code)
    for who in ("ad", "producer", "armorer"):
        refused(w, "OVERRIDE_NOT_ALLOWED", w.override, code, subject, by=who)
    refused(w, code, attempt, records=records)  # still refused
    seq = w.seq()
    w.override(code, subject)
    (ov,) = w.events_since(seq)
    assert ov.type == "rule.overridden"
    assert ov.payload["rule"] == code and ov.payload["subject"] == subject
    assert ov.payload["supervisor"] == w.people["supervisor"]
    out = allowed(w, code, attempt)
    _checked.append(("overridden", code))
    return out


def incident_of(w: World, weapon: str | None = None, lot: str | None = None) -> str:
    st = w.state()
    return next(i.id for i in st.incidents.values() if i.open
                and (weapon is None or w.weapons[weapon] in i.weapons)
                and (lot is None or w.lots[lot] in i.lots))


def new_dummy_lot(w: World, n: int = 10, verify: int = 0, calibre: str = ".45 Colt") -> str:
    ev = a.receive_lot(w.ctx, armorer=w.people["armorer"], kind="dummy", calibre=calibre,
                       supplier="Props Ammo Ltd", supplier_lot=f"D-{w.seq()}", count=n,
                       storage=w.storage["safe"])
    lot = str(ev[0].payload["lot"])
    if verify:
        a.verify_rounds(w.ctx, lot=lot, count=verify, method="drilled",
                        armorer=w.people["armorer"])
    return lot


# ---------------------------------------------------------------- AMMO_LIVE_FORBIDDEN


@covers("AMMO_LIVE_FORBIDDEN", "refused")
def test_live_rounds_are_refused_at_intake_and_open_an_incident(w: World) -> None:
    seq = w.seq()
    refused(w, "AMMO_LIVE_FORBIDDEN", a.receive_lot, w.ctx, armorer=w.people["armorer"],
            kind="live", calibre=".45 Colt", supplier="unknown", supplier_lot="mixed box",
            count=6, storage=w.storage["safe"],
            records=("ammo.intake_refused", "incident.opened"))
    refusal_ev, opened = w.events_since(seq)
    assert opened.payload["kind"] == "live_ammunition"
    assert opened.payload["rule"] == "AMMO_LIVE_FORBIDDEN"
    assert refusal_ev.payload["incident"] == opened.payload["incident"]
    st = w.state()
    assert st.incidents[opened.payload["incident"]].open
    assert all(lot.kind != "live" for lot in st.lots.values())


@covers("AMMO_LIVE_FORBIDDEN", "refused")
def test_live_rounds_are_refused_even_from_a_qualified_armorer_with_a_load(w: World) -> None:
    refused(w, "AMMO_LIVE_FORBIDDEN", a.receive_lot, w.ctx, armorer=w.people["assistant"],
            kind="live", load="full", calibre="9mm", supplier="gun shop", supplier_lot="X1",
            count=50, storage=w.storage["cart"],
            records=("ammo.intake_refused", "incident.opened"))


@covers("AMMO_LIVE_FORBIDDEN", "refused")
def test_a_live_round_found_in_a_box_of_dummies_quarantines_that_box(w: World) -> None:
    """Rust: a live round among the dummies. Presented at intake with the box it
    was found in, the incident names that lot, which nobody may load from."""
    seq = w.seq()
    box = w.lots["dummies"]
    refused(w, "AMMO_LIVE_FORBIDDEN", a.receive_lot, w.ctx, armorer=w.people["armorer"],
            kind="live", calibre=".45 Colt", supplier="unknown", supplier_lot="found loose",
            count=1, storage=w.storage["safe"], found_in=box,
            records=("ammo.intake_refused", "incident.opened"), changes=True)
    opened = w.events_since(seq)[1]
    assert opened.payload["lots"] == [box]
    assert f"found in lot {box}" in opened.payload["description"]
    assert w.state().lot(box).quarantined
    refused(w, "AMMO_LOT_QUARANTINED", w.inspect, "revolver", content="dummy", n=1,
            lot="dummies", scene="cold")
    err = refusal(a.receive_lot, w.ctx, armorer=w.people["armorer"], kind="dummy",
                  calibre=".45 Colt", supplier="x", supplier_lot="y", count=1,
                  storage=w.storage["safe"], found_in=box)
    assert err.code == "INVALID_INPUT"  # only live rounds are "found in" a box


@covers("AMMO_LIVE_FORBIDDEN", "allowed")
def test_dummy_and_blank_lots_are_taken_into_inventory(w: World) -> None:
    st0 = w.state()
    ev = allowed(w, "AMMO_LIVE_FORBIDDEN", a.receive_lot, w.ctx, armorer=w.people["armorer"],
                 kind="blank", load="half", calibre="9mm PAK", supplier="Blank Supply Co.",
                 supplier_lot="B9-HALF-1", count=40, storage=w.storage["safe"])
    assert [e.type for e in ev] == ["ammo.lot_received"]
    lot = w.state().lots[ev[0].payload["lot"]]
    assert (lot.kind, lot.load, lot.received, lot.on_hand) == ("blank", "half", 40, 40)
    assert len(w.state().incidents) == len(st0.incidents)


# ---------------------------------------------------------------- AMMO_DUMMY_UNVERIFIED


@covers("AMMO_DUMMY_UNVERIFIED", "refused")
def test_dummies_cannot_be_loaded_beyond_the_number_verified(w: World) -> None:
    lot = new_dummy_lot(w, n=10, verify=3)
    err = refused(w, "AMMO_DUMMY_UNVERIFIED", w.inspect, "revolver", content="dummy", n=4,
                  lot=lot, scene="cold")
    assert subject_of(err, "AMMO_DUMMY_UNVERIFIED") == f"lot:{lot}"


@covers("AMMO_DUMMY_UNVERIFIED", "refused")
def test_an_unverified_dummy_lot_cannot_be_loaded_at_all(w: World) -> None:
    lot = new_dummy_lot(w, n=10)
    refused(w, "AMMO_DUMMY_UNVERIFIED", w.inspect, "revolver", content="dummy", n=1, lot=lot)


@covers("AMMO_DUMMY_UNVERIFIED", "allowed")
def test_verified_dummies_can_be_loaded_up_to_the_verified_count(w: World) -> None:
    lot = new_dummy_lot(w, n=10, verify=3)
    allowed(w, "AMMO_DUMMY_UNVERIFIED", w.inspect, "revolver", content="dummy", n=3, lot=lot)
    x = w.state().lots[lot]
    assert (x.verified_in_stock, x.on_hand, x.in_weapons) == (0, 7, 3)
    # The three verified rounds are in the revolver now: none left for another weapon.
    refused(w, "AMMO_DUMMY_UNVERIFIED", w.inspect, "revolver2", content="dummy", n=1, lot=lot)


def test_reinspecting_a_loaded_weapon_counts_its_own_verified_dummies_back(w: World) -> None:
    lot = new_dummy_lot(w, n=10, verify=4)
    w.inspect("revolver", content="dummy", n=4, lot=lot)
    # Unload and reload the same four: they were verified, so this is allowed.
    w.inspect("revolver", content="dummy", n=4, lot=lot)
    x = w.state().lots[lot]
    assert (x.verified_in_stock, x.in_weapons, x.on_hand) == (0, 4, 6)
    err = refusal(w.inspect, "revolver", content="dummy", n=5, lot=lot)
    assert err.code == "AMMO_DUMMY_UNVERIFIED"


@covers("AMMO_DUMMY_UNVERIFIED", "refused")
def test_dummies_a_performer_hands_back_must_be_verified_again(w: World) -> None:
    lot = new_dummy_lot(w, n=10, verify=6)
    w.give("revolver", "alex", "cold", content="dummy", n=6, lot=lot)
    w.take_back("revolver", "alex")
    x = w.state().lots[lot]
    assert (x.verified_in_stock, x.on_hand, x.returned) == (0, 10, 6)
    refused(w, "AMMO_DUMMY_UNVERIFIED", w.inspect, "revolver", content="dummy", n=1, lot=lot,
            scene="cold")
    a.verify_rounds(w.ctx, lot=lot, count=6, method="drilled", armorer=w.people["armorer"])
    allowed(w, "AMMO_DUMMY_UNVERIFIED", w.inspect, "revolver", content="dummy", n=6, lot=lot,
            scene="cold")


@covers("AMMO_DUMMY_UNVERIFIED", "allowed")
def test_dummies_the_armorer_unloads_into_storage_stay_verified(w: World) -> None:
    lot = new_dummy_lot(w, n=10, verify=6)
    w.inspect("revolver", content="dummy", n=6, lot=lot)
    w.put_away("revolver")  # never left the armorer's hands
    x = w.state().lots[lot]
    assert (x.verified_in_stock, x.on_hand, x.in_weapons) == (6, 10, 0)
    allowed(w, "AMMO_DUMMY_UNVERIFIED", w.inspect, "revolver2", content="dummy", n=6, lot=lot)


@covers("AMMO_DUMMY_UNVERIFIED", "refused")
def test_an_incident_naming_a_dummy_lot_voids_its_verification(w: World) -> None:
    lot = new_dummy_lot(w, n=10, verify=6)
    seq = w.seq()
    a.report_incident(w.ctx, kind="other", description="Dummy box found open on the cart",
                      weapons=[], lots=[lot], reported_by=w.people["props"])
    opened, voided = w.events_since(seq)
    assert (opened.type, voided.type) == ("incident.opened", "ammo.verification_voided")
    assert voided.payload == {"lot": lot, "incident": opened.payload["incident"], "count": 6}
    w.close(opened.payload["incident"])
    x = w.state().lots[lot]
    assert not x.quarantined and (x.verified_in_stock, x.on_hand) == (0, 10)
    # Out of quarantine, but every round is checked again before any is loaded.
    err = refused(w, "AMMO_DUMMY_UNVERIFIED", w.inspect, "revolver", content="dummy", n=1,
                  lot=lot)
    assert subject_of(err, "AMMO_DUMMY_UNVERIFIED") == f"lot:{lot}"
    a.verify_rounds(w.ctx, lot=lot, count=10, method="xray", armorer=w.people["armorer"])
    allowed(w, "AMMO_DUMMY_UNVERIFIED", w.inspect, "revolver", content="dummy", n=6, lot=lot)


@covers("AMMO_DUMMY_UNVERIFIED", "refused")
def test_dummies_loaded_before_an_incident_named_their_lot_are_not_issued_after_it(
        w: World) -> None:
    """An incident that names a dummy lot freezes the weapons already loaded from
    it (they hold suspect rounds: review, the Rust pattern); their rounds come
    out as evidence before it closes, and what is left of the box counts as
    unverified until each round is verified again."""
    lot = new_dummy_lot(w, n=10, verify=6)
    w.ready("revolver", "alex", content="dummy", n=3, lot=lot, scene="cold")
    w.inspect("revolver2", content="dummy", n=3, lot=lot)
    ev = a.report_incident(w.ctx, kind="other", description="Supplier recalled the box",
                           weapons=[], lots=[lot], reported_by=w.people["armorer"])
    inc = ev[0].payload["incident"]
    loaded = [w.weapons["revolver"], w.weapons["revolver2"]]
    assert ev[0].payload["weapons"] == loaded
    assert all(w.state().weapons[x].state == "frozen" for x in loaded)
    refused(w, "CUSTODY_WEAPON_FROZEN", w.issue, "revolver", "alex", "cold",
            records=("weapon.handoff_refused",))
    refused(w, "INCIDENT_EVIDENCE_PRESERVED", w.close, inc, primary=False)
    for x in loaded:
        for k in range(1, 4):
            a.record_evidence(w.ctx, weapon=x, incident=inc, position=f"cylinder {k}",
                              description="dummy, rattles, no primer visible",
                              armorer=w.people["armorer"])
    w.close(inc)
    x = w.state().lots[lot]
    assert (x.verified_in_stock, x.on_hand, x.in_weapons) == (0, 4, 0)
    err = refused(w, "AMMO_DUMMY_UNVERIFIED", w.inspect, "revolver", content="dummy", n=3,
                  lot=lot)
    assert subject_of(err, "AMMO_DUMMY_UNVERIFIED") == f"lot:{lot}"
    a.verify_rounds(w.ctx, lot=lot, count=4, method="drilled", armorer=w.people["armorer"])
    w.ready("revolver", "alex", content="dummy", n=4, lot=lot, scene="cold")
    allowed(w, "AMMO_DUMMY_UNVERIFIED", w.issue, "revolver", "alex", "cold")


# ---------------------------------------------------------------- AMMO_LOT_QUARANTINED


@covers("AMMO_LOT_QUARANTINED", "refused")
def test_a_dummy_lot_with_a_failed_round_is_quarantined(w: World) -> None:
    lot = new_dummy_lot(w, n=10)
    seq = w.seq()
    a.verify_rounds(w.ctx, lot=lot, count=4, method="shake", armorer=w.people["armorer"],
                    failed_finding="round 5 has a primer and rattles no powder check")
    assert w.types_since(seq) == ["ammo.round_verified"] * 4 + [
        "ammo.verification_failed", "incident.opened"]
    assert w.state().lots[lot].quarantined
    err = refused(w, "AMMO_LOT_QUARANTINED", w.inspect, "revolver", content="dummy", n=1,
                  lot=lot)
    assert subject_of(err, "AMMO_LOT_QUARANTINED") == f"lot:{lot}"
    # Verifying more of it is refused too.
    refused(w, "AMMO_LOT_QUARANTINED", a.verify_rounds, w.ctx, lot=lot, count=1,
            method="shake", armorer=w.people["armorer"])


@covers("AMMO_LOT_QUARANTINED", "refused")
def test_a_lot_named_by_an_open_incident_cannot_be_loaded(w: World) -> None:
    a.report_incident(w.ctx, kind="other", description="Box found open on the cart",
                      weapons=[], lots=[w.lots["blanks45"]], reported_by=w.people["props"])
    refused(w, "AMMO_LOT_QUARANTINED", w.inspect, "revolver", content="blank", n=6,
            lot="blanks45", scene="hot")


@covers("CUSTODY_WEAPON_FROZEN", "refused")
def test_a_weapon_loaded_from_a_lot_quarantined_after_inspection_is_not_issued(
        w: World) -> None:
    w.ready("revolver", "rita", content="blank", n=6, lot="blanks45", scene="hot")
    a.report_incident(w.ctx, kind="other", description="Supplier recalled the lot",
                      weapons=[], lots=[w.lots["blanks45"]], reported_by=w.people["armorer"])
    # The incident froze the weapon holding the lot's rounds too (review: the
    # Rust pattern); the issue names both reasons.
    assert w.state().weapons[w.weapons["revolver"]].state == "frozen"
    refused(w, "CUSTODY_WEAPON_FROZEN", w.issue, "revolver", "rita", "hot",
            records=("weapon.handoff_refused",))


@covers("AMMO_LOT_QUARANTINED", "allowed")
def test_a_lot_is_usable_again_once_its_incident_closes(w: World) -> None:
    a.report_incident(w.ctx, kind="other", description="Box found open on the cart",
                      weapons=[], lots=[w.lots["blanks45"]], reported_by=w.people["props"])
    w.close(incident_of(w, lot="blanks45"))
    assert not w.state().lots[w.lots["blanks45"]].quarantined
    allowed(w, "AMMO_LOT_QUARANTINED", w.inspect, "revolver", content="blank", n=6,
            lot="blanks45", scene="hot")


def test_a_lot_that_failed_verification_stays_quarantined_after_its_incident_closes(
        w: World) -> None:
    lot = new_dummy_lot(w, n=10)
    a.verify_rounds(w.ctx, lot=lot, count=2, method="shake", armorer=w.people["armorer"],
                    failed_finding="live primer")
    inc = next(i.id for i in w.state().incidents.values() if lot in i.lots)
    w.close(inc, action="Lot returned to supplier; every box now drilled on arrival.")
    assert refusal(w.inspect, "revolver", content="dummy", n=1,
                   lot=lot).code == "AMMO_LOT_QUARANTINED"


# ---------------------------------------------------------------- AMMO_CALIBRE_MISMATCH


@covers("AMMO_CALIBRE_MISMATCH", "refused")
def test_rounds_of_another_calibre_cannot_be_loaded(w: World) -> None:
    err = refused(w, "AMMO_CALIBRE_MISMATCH", w.inspect, "revolver", content="blank", n=6,
                  lot="blanks9", scene="hot")
    assert subject_of(err, "AMMO_CALIBRE_MISMATCH") == f"weapon:{w.weapons['revolver']}"


@covers("AMMO_CALIBRE_MISMATCH", "allowed")
def test_rounds_of_the_weapons_calibre_load_however_the_calibre_is_spelled(
        w: World) -> None:
    allowed(w, "AMMO_CALIBRE_MISMATCH", w.inspect, "revolver", content="blank", n=6,
            lot="blanks45", scene="hot")
    lot = new_dummy_lot(w, n=6, verify=6, calibre="45 colt")
    allowed(w, "AMMO_CALIBRE_MISMATCH", w.inspect, "revolver2", content="dummy", n=6,
            lot=lot)


# ---------------------------------------------------------------- CUSTODY_ARMORER_ONLY


@covers("CUSTODY_ARMORER_ONLY", "refused")
@pytest.mark.parametrize("who", ["ad", "props", "supervisor", "producer", "alex"])
def test_only_an_armorer_inspects_or_declares_a_weapon_cold(w: World, who: str) -> None:
    err = refused(w, "CUSTODY_ARMORER_ONLY", w.inspect, "revolver", armorer=who)
    assert subject_of(err, "CUSTODY_ARMORER_ONLY") == f"person:{w.people[who]}"


@covers("CUSTODY_ARMORER_ONLY", "refused")
def test_a_performer_cannot_issue_a_weapon(w: World) -> None:
    w.ready("revolver", "alex", scene="cold")
    refused(w, "CUSTODY_ARMORER_ONLY", w.issue, "revolver", "alex", "cold", armorer="rita",
            records=("weapon.handoff_refused",))


@covers("CUSTODY_ARMORER_ONLY", "refused")
def test_only_an_armorer_takes_ammunition_into_inventory(w: World) -> None:
    refused(w, "CUSTODY_ARMORER_ONLY", a.receive_lot, w.ctx, armorer=w.people["props"],
            kind="dummy", calibre=".45 Colt", supplier="Props Ammo Ltd", supplier_lot="D9",
            count=20, storage=w.storage["cart"])


@covers("CUSTODY_ARMORER_ONLY", "allowed")
def test_an_assistant_armorer_inspects_issues_and_stores(w: World) -> None:
    allowed(w, "CUSTODY_ARMORER_ONLY", w.inspect, "pistol", armorer="assistant")
    ins = w.state().weapons[w.weapons["pistol"]].inspection
    assert ins is not None
    w.witness(ins, "alex", "supervisor")
    allowed(w, "CUSTODY_ARMORER_ONLY", w.issue, "pistol", "alex", "cold", armorer="assistant")
    w.take_back("pistol", "alex", armorer="assistant")
    allowed(w, "CUSTODY_ARMORER_ONLY", w.put_away, "pistol", armorer="assistant")


# ---------------------------------------------------------- CUSTODY_CREDENTIAL_NOT_COVERED


def _credential(w: World, who: str = "props", classes: tuple[str, ...] = ("handgun",),
                expires: str = "2031-01-31") -> str:
    ev = a.add_credential(w.ctx, person=w.people[who], type_="entertainment_firearms_permit",
                          issuer="California DOJ", number=f"EFP-{who}", classes=list(classes),
                          expires=expires, actor=w.people["producer"])
    return str(ev[0].payload["credential"])


def _classify(w: World, weapon: str, cls: str) -> None:
    a.classify_weapon(w.ctx, weapon=w.weapons[weapon], weapon_class=cls,
                      armorer=w.people["armorer"])


@covers("CUSTODY_CREDENTIAL_NOT_COVERED", "allowed")
def test_a_prop_master_with_a_handgun_permit_inspects_and_issues_a_handgun(w: World) -> None:
    _credential(w)
    _classify(w, "revolver", "handgun")
    allowed(w, "CUSTODY_CREDENTIAL_NOT_COVERED", w.inspect, "revolver", armorer="props",
            scene="cold")
    w.witness(w.state().weapon(w.weapons["revolver"]).inspection or "", "alex", "ad")
    ev = w.issue("revolver", "alex", "cold", armorer="props")
    assert ev[0].type == "weapon.issued" and ev[0].actor == w.people["props"]


@covers("CUSTODY_CREDENTIAL_NOT_COVERED", "refused")
def test_a_prop_masters_permit_must_cover_the_weapons_class(w: World) -> None:
    _credential(w)
    _classify(w, "revolver", "long_gun")
    err = refused(w, "CUSTODY_CREDENTIAL_NOT_COVERED", w.inspect, "revolver", armorer="props")
    assert subject_of(err, "CUSTODY_CREDENTIAL_NOT_COVERED") == f"person:{w.people['props']}"
    assert "handgun, not long gun" in str(err)


@covers("CUSTODY_CREDENTIAL_NOT_COVERED", "refused")
def test_a_firearm_with_no_recorded_class_is_refused_to_a_prop_master(w: World) -> None:
    _credential(w)
    err = refused(w, "CUSTODY_CREDENTIAL_NOT_COVERED", w.inspect, "revolver", armorer="props")
    assert "no recorded class" in str(err)


@covers("CUSTODY_CREDENTIAL_NOT_COVERED", "refused")
def test_an_expired_or_revoked_credential_covers_nothing(w: World, clock: Any) -> None:
    _classify(w, "revolver", "handgun")
    today = clock.t.date().isoformat()
    cred = _credential(w, expires=today)
    allowed(w, "CUSTODY_CREDENTIAL_NOT_COVERED", w.inspect, "revolver", armorer="props")
    clock.t += timedelta(days=1)
    err = refused(w, "CUSTODY_CREDENTIAL_NOT_COVERED", w.put_away, "revolver",
                  armorer="props")
    assert "no credential in force" in str(err)
    a.revoke_credential(w.ctx, person=w.people["props"], credential=cred,
                        reason="Permit surrendered", actor=w.people["supervisor"])
    # Revoked and expired: no longer a lawful handler at all.
    refused(w, "CUSTODY_ARMORER_ONLY", w.put_away, "revolver", armorer="props")


@covers("CUSTODY_CREDENTIAL_NOT_COVERED", "refused")
def test_a_full_auto_weapon_needs_a_full_auto_credential_even_for_an_armorer(
        w: World) -> None:
    _classify(w, "revolver2", "full_auto")
    refused(w, "CUSTODY_CREDENTIAL_NOT_COVERED", w.inspect, "revolver2")
    _credential(w, "armorer", ("full_auto", "handgun", "long_gun"))
    allowed(w, "CUSTODY_CREDENTIAL_NOT_COVERED", w.inspect, "revolver2")


def test_only_the_producer_or_safety_supervisor_records_a_credential(w: World) -> None:
    seq = w.seq()
    for who in ("props", "armorer", "ad"):  # nobody vouches for themself
        err = refusal(a.add_credential, w.ctx, person=w.people["props"],
                      type_="entertainment_firearms_permit", issuer="CA DOJ", number="X",
                      classes=["handgun"], expires="2031-01-01", actor=w.people[who])
        assert err.code == "ROLE_REQUIRED", err
    err = refusal(a.add_credential, w.ctx, person=w.people["ad"],
                  type_="entertainment_firearms_permit", issuer="CA DOJ", number="X",
                  classes=["handgun"], expires="2031-01-01", actor=w.people["producer"])
    assert err.code == "ROLE_REQUIRED"  # a 1st AD is no handler
    assert w.seq() == seq


# ---------------------------------------------------------- CUSTODY_QUALIFICATION_EXPIRED


@covers("CUSTODY_QUALIFICATION_EXPIRED", "refused")
def test_an_armorer_with_an_expired_qualification_cannot_inspect(w: World) -> None:
    err = refused(w, "CUSTODY_QUALIFICATION_EXPIRED", w.inspect, "revolver",
                  armorer="expired")
    assert subject_of(err, "CUSTODY_QUALIFICATION_EXPIRED") == f"person:{w.people['expired']}"


@covers("CUSTODY_QUALIFICATION_EXPIRED", "refused")
def test_an_armorer_with_no_recorded_qualification_cannot_receive_a_weapon(
        w: World) -> None:
    ev = a.add_person(w.ctx, name="Quinn Doe", roles=["assistant_armorer"], badge="B-QD",
                      pin="1357", department="armory")
    refused(w, "CUSTODY_QUALIFICATION_EXPIRED", a.receive_weapon, w.ctx,
            armorer=ev[0].payload["person"], serial="SW-29-1", make="S&W", model="29",
            calibre=".44 Magnum", kind="firearm", chambers=6, magazine_capacity=0,
            storage=w.storage["safe"])


@covers("CUSTODY_QUALIFICATION_EXPIRED", "allowed")
def test_a_renewed_armorer_can_inspect_again(w: World) -> None:
    a.renew_qualification(w.ctx, person=w.people["expired"], expires="2031-01-31",
                          actor=w.people["producer"])
    allowed(w, "CUSTODY_QUALIFICATION_EXPIRED", w.inspect, "revolver", armorer="expired")


def test_only_the_producer_or_safety_supervisor_renews_a_qualification(w: World) -> None:
    seq = w.seq()
    for who in ("expired", "armorer", "ad", "props"):  # nobody vouches for themself
        err = refusal(a.renew_qualification, w.ctx, person=w.people["expired"],
                      expires="2031-01-31", actor=w.people[who])
        assert err.code == "ROLE_REQUIRED", err
    assert w.seq() == seq  # not recorded: nothing happened
    for who in ("supervisor", "producer"):
        ev = a.renew_qualification(w.ctx, person=w.people["expired"], expires="2031-01-31",
                                   actor=w.people[who])
        assert (ev[0].type, ev[0].actor) == ("person.qualification_renewed", w.people[who])


@covers("CUSTODY_QUALIFICATION_EXPIRED", "allowed")
def test_a_qualification_is_valid_through_its_expiry_day(w: World, clock: Any) -> None:
    today = clock.t.date().isoformat()
    a.renew_qualification(w.ctx, person=w.people["expired"], expires=today,
                          actor=w.people["producer"])
    allowed(w, "CUSTODY_QUALIFICATION_EXPIRED", w.inspect, "revolver", armorer="expired")
    clock.t += timedelta(days=1)
    refused(w, "CUSTODY_QUALIFICATION_EXPIRED", w.put_away, "revolver", armorer="expired")


# ---------------------------------------------------------------- CUSTODY_DIRECT_HANDOFF


@covers("CUSTODY_DIRECT_HANDOFF", "refused")
def test_first_ad_cannot_hand_weapon_to_performer(w: World) -> None:
    w.ready("revolver", "alex", scene="cold")
    seq = w.seq()
    refused(w, "CUSTODY_DIRECT_HANDOFF", a.handoff, w.ctx, weapon=w.weapons["revolver"],
            from_=w.people["ad"], to=w.people["alex"], scene=w.scenes["cold"],
            records=("weapon.handoff_refused",))
    (rec,) = w.events_since(seq)
    assert rec.payload["from"] == w.people["ad"] and rec.payload["to"] == w.people["alex"]
    assert rec.actor == w.people["ad"]
    assert w.state().weapons[w.weapons["revolver"]].custodian == w.people["armorer"]


@covers("CUSTODY_DIRECT_HANDOFF", "refused")
def test_a_performer_cannot_pass_a_weapon_to_another_performer(w: World) -> None:
    w.give("replica", "alex", "cold")
    refused(w, "CUSTODY_DIRECT_HANDOFF", a.handoff, w.ctx, weapon=w.weapons["replica"],
            from_=w.people["alex"], to=w.people["rita"], records=("weapon.handoff_refused",))


@covers("CUSTODY_DIRECT_HANDOFF", "refused")
def test_a_weapon_is_never_issued_to_someone_who_is_not_a_performer(w: World) -> None:
    ins = w.inspect("revolver")
    w.witness(ins, "ad")
    refused(w, "CUSTODY_DIRECT_HANDOFF", w.issue, "revolver", "ad", "cold",
            records=("weapon.handoff_refused",))
    refused(w, "CUSTODY_DIRECT_HANDOFF", a.handoff, w.ctx, weapon=w.weapons["revolver"],
            from_=w.people["armorer"], to=w.people["ad"], scene=w.scenes["cold"],
            records=("weapon.handoff_refused",))


@covers("CUSTODY_DIRECT_HANDOFF", "refused")
def test_a_weapon_comes_back_only_from_the_performer_holding_it(w: World) -> None:
    w.give("revolver", "alex", "cold")
    refused(w, "CUSTODY_DIRECT_HANDOFF", w.take_back, "revolver", "rita",
            records=("weapon.handoff_refused",))


@covers("CUSTODY_DIRECT_HANDOFF", "refused")
def test_an_armorer_cannot_issue_a_weapon_another_armorer_holds(w: World) -> None:
    w.ready("revolver", "alex", scene="cold")
    refused(w, "CUSTODY_DIRECT_HANDOFF", w.issue, "revolver", "alex", "cold",
            armorer="assistant", records=("weapon.handoff_refused",))


@covers("CUSTODY_DIRECT_HANDOFF", "allowed")
def test_weapons_pass_armorer_to_performer_to_armorer(w: World) -> None:
    w.ready("revolver", "alex", scene="cold")
    ev = allowed(w, "CUSTODY_DIRECT_HANDOFF", a.handoff, w.ctx, weapon=w.weapons["revolver"],
                 from_=w.people["armorer"], to=w.people["alex"], scene=w.scenes["cold"])
    assert [e.type for e in ev] == ["weapon.issued"]
    assert w.state().weapons[w.weapons["revolver"]].custodian == w.people["alex"]
    ev = allowed(w, "CUSTODY_DIRECT_HANDOFF", a.handoff, w.ctx, weapon=w.weapons["revolver"],
                 from_=w.people["alex"], to=w.people["armorer"])
    assert [e.type for e in ev] == ["weapon.returned"]
    wp = w.state().weapons[w.weapons["revolver"]]
    assert (wp.state, wp.custodian) == ("returned", w.people["armorer"])


# ---------------------------------------------------------- CUSTODY_INSPECTION_REQUIRED


@covers("CUSTODY_INSPECTION_REQUIRED", "refused")
def test_a_weapon_in_storage_cannot_be_issued_without_an_inspection(w: World) -> None:
    refused(w, "CUSTODY_INSPECTION_REQUIRED", w.issue, "revolver", "alex", "cold",
            records=("weapon.handoff_refused",))


@covers("CUSTODY_INSPECTION_REQUIRED", "refused")
def test_an_inspection_serves_one_issue_so_a_returned_weapon_needs_a_new_one(
        w: World) -> None:
    ins = w.ready("revolver", "alex", scene="cold")
    w.issue("revolver", "alex", "cold")
    w.take_back("revolver", "alex")
    refused(w, "CUSTODY_INSPECTION_REQUIRED", w.issue, "revolver", "alex", "cold",
            records=("weapon.handoff_refused",))
    # Nor can the old inspection be witnessed again.
    refused(w, "CUSTODY_INSPECTION_REQUIRED", w.witness, ins, "supervisor")


@covers("CUSTODY_INSPECTION_REQUIRED", "refused")
def test_a_superseded_inspection_cannot_be_witnessed(w: World) -> None:
    first = w.inspect("revolver")
    w.inspect("revolver")
    refused(w, "CUSTODY_INSPECTION_REQUIRED", w.witness, first, "alex")


@covers("CUSTODY_INSPECTION_REQUIRED", "allowed")
def test_a_fresh_witnessed_inspection_after_return_allows_the_next_issue(w: World) -> None:
    w.give("revolver", "alex", "cold")
    w.take_back("revolver", "alex")
    w.ready("revolver", "alex", scene="cold")
    allowed(w, "CUSTODY_INSPECTION_REQUIRED", w.issue, "revolver", "alex", "cold")


# -------------------------------------------------------- CUSTODY_INSPECTION_INCOMPLETE


@covers("CUSTODY_INSPECTION_INCOMPLETE", "refused")
def test_a_cylinder_inspection_with_missing_positions_cannot_be_witnessed(w: World) -> None:
    ins = a.inspect_weapon(w.ctx, weapon=w.weapons["revolver"], armorer=w.people["armorer"],
                           positions=cyl(3), barrel_clear=True,
                           magazine_checked=False)[0].payload["inspection"]
    insp = w.state().inspections[ins]
    assert not insp.complete
    assert insp.missing == ["cylinder 4", "cylinder 5", "cylinder 6"]
    err = refused(w, "CUSTODY_INSPECTION_INCOMPLETE", w.witness, ins, "alex")
    assert subject_of(err, "CUSTODY_INSPECTION_INCOMPLETE") == f"inspection:{ins}"
    assert w.state().inspections[ins].witnesses == []


@covers("CUSTODY_INSPECTION_INCOMPLETE", "refused")
def test_an_incomplete_inspection_cannot_be_used_to_issue(w: World) -> None:
    w.inspect("revolver", complete=False)
    err = refused(w, "CUSTODY_INSPECTION_INCOMPLETE", w.issue, "revolver", "alex", "cold",
                  records=("weapon.handoff_refused",))
    assert "CUSTODY_WITNESS_REQUIRED" in codes(err)


@covers("CUSTODY_INSPECTION_INCOMPLETE", "refused")
@pytest.mark.parametrize(("weapon", "flag", "missing"), [
    ("revolver", "barrel_clear", "barrel"), ("pistol", "magazine_checked", "magazine")])
def test_an_inspection_covers_the_barrel_and_the_magazine(w: World, weapon: str, flag: str,
                                                          missing: str) -> None:
    ins = w.inspect(weapon, **{flag: False})
    assert w.state().inspections[ins].missing == [missing]
    refused(w, "CUSTODY_INSPECTION_INCOMPLETE", w.witness, ins, "alex")


@covers("CUSTODY_INSPECTION_INCOMPLETE", "allowed")
def test_a_complete_inspection_can_be_witnessed(w: World) -> None:
    ins = w.inspect("revolver", content="dummy", n=6, lot="dummies")
    insp = w.state().inspections[ins]
    assert insp.complete and len(insp.positions) == 6
    allowed(w, "CUSTODY_INSPECTION_INCOMPLETE", w.witness, ins, "alex")
    # A revolver has no magazine: it need not be checked.
    ins2 = w.inspect("revolver2", magazine_checked=False)
    allowed(w, "CUSTODY_INSPECTION_INCOMPLETE", w.witness, ins2, "alex")


# ---------------------------------------------------------- CUSTODY_WITNESS_REQUIRED


@covers("CUSTODY_WITNESS_REQUIRED", "refused")
@pytest.mark.parametrize("witnesses", [(), ("alex",), ("ad",), ("rita", "ad"),
                                       ("alex", "rita")])
def test_a_weapon_is_issued_only_on_the_performers_and_ads_confirmation(
        w: World, witnesses: tuple[str, ...]) -> None:
    ins = w.inspect("revolver")
    w.witness(ins, *witnesses)
    refused(w, "CUSTODY_WITNESS_REQUIRED", w.issue, "revolver", "alex", "cold",
            records=("weapon.handoff_refused",))


@covers("CUSTODY_WITNESS_REQUIRED", "refused")
def test_nobody_witnesses_their_own_inspection(w: World) -> None:
    ev = a.add_person(w.ctx, name="Jamie Cole", roles=["armorer", "safety_supervisor"],
                      badge="B-JC", pin="2468", department="armory",
                      qualification_expires="2030-01-01")
    jc = ev[0].payload["person"]
    w.people["jamie"], w.pins["jamie"] = jc, "2468"
    w.override("PEOPLE_ROLE_CONFLICT", f"person:{jc}")
    ins = w.inspect("revolver", armorer="jamie")
    refused(w, "CUSTODY_WITNESS_REQUIRED", w.witness, ins, "jamie")


@covers("CUSTODY_WITNESS_REQUIRED", "refused")
def test_the_armorer_cannot_confirm_through_a_pin_they_recorded(w: World) -> None:
    """'Each with their own PIN': a PIN the inspecting armorer typed in for a
    performer is one the armorer knows, so it confirms nothing of theirs."""
    arm = w.people["armorer"]
    a.set_pin(w.ctx, person=w.people["alex"], pin="8642", actor=arm)
    w.pins["alex"] = "8642"
    ins = w.inspect("revolver")
    head = w.seq()
    err = refused(w, "CUSTODY_WITNESS_REQUIRED", w.witness, ins, "alex")
    assert "PIN was recorded by Sam Reyes, who made inspection" in repr(err.details) + repr(err)
    assert w.types_since(head) == ["action.refused"]  # the right PIN: no failure counted
    assert w.state().people[w.people["alex"]].pin_failures == 0
    # The 1st AD still confirms; the weapon cannot go out on the AD's word alone.
    w.witness(ins, "ad")
    refused(w, "CUSTODY_WITNESS_REQUIRED", w.issue, "revolver", "alex", "cold",
            records=("weapon.handoff_refused",))
    # Once the performer has a PIN nobody in this chain recorded, it counts.
    a.set_pin(w.ctx, person=w.people["alex"], pin="9753", actor=w.people["producer"])
    w.pins["alex"] = "9753"
    w.witness(ins, "alex")
    allowed(w, "CUSTODY_WITNESS_REQUIRED", w.issue, "revolver", "alex", "cold")


@covers("CUSTODY_WITNESS_REQUIRED", "refused")
@pytest.mark.parametrize("first", ["alex", "supervisor"])
def test_one_witness_cannot_confirm_for_the_other(w: World, first: str) -> None:
    """The safety supervisor adds performers (and may type their PIN in); the
    supervisor is also a witness. The two confirmations must be two people's:
    whichever of them comes first, the second is refused."""
    sup = w.people["supervisor"]
    a.set_pin(w.ctx, person=w.people["alex"], pin="8642", actor=sup)
    w.pins["alex"] = "8642"
    ins = w.inspect("revolver")
    w.witness(ins, first)
    second = "supervisor" if first == "alex" else "alex"
    err = refused(w, "CUSTODY_WITNESS_REQUIRED", w.witness, ins, second)
    assert "recorded by Lee Okafor" in repr(err.details) + repr(err)
    assert len(w.state().inspections[ins].witnesses) == 1
    # The 1st AD, who recorded neither PIN, is an independent second witness.
    if first == "alex":
        w.witness(ins, "ad")
        allowed(w, "CUSTODY_WITNESS_REQUIRED", w.issue, "revolver", "alex", "cold")


@covers("CUSTODY_WITNESS_REQUIRED", "refused")
def test_changing_a_pin_after_confirming_does_not_make_the_confirmation_independent(
        w: World) -> None:
    """Review: Alex confirms with a PIN the supervisor recorded; the supervisor
    is refused; Alex then sets a PIN of their own. The confirmation already on
    the record was still made with the supervisor's PIN, so the supervisor
    stays refused, and the issue too."""
    sup = w.people["supervisor"]
    a.set_pin(w.ctx, person=w.people["alex"], pin="8642", actor=sup)
    w.pins["alex"] = "8642"
    ins = w.inspect("revolver")
    w.witness(ins, "alex")
    refused(w, "CUSTODY_WITNESS_REQUIRED", w.witness, ins, "supervisor")
    a.set_own_pin(w.ctx, person=w.people["alex"], pin="97531", current_pin="8642")
    w.pins["alex"] = "97531"
    err = refused(w, "CUSTODY_WITNESS_REQUIRED", w.witness, ins, "supervisor")
    assert "confirmed inspection" in repr(err.details) + repr(err)
    # The replayed state keeps who had recorded the PIN each confirmation used.
    assert w.state().inspections[ins].witnesses == [
        {"person": w.people["alex"], "role": "performer", "pin_set_by": sup}]
    w.witness(ins, "ad")  # the 1st AD recorded neither PIN
    allowed(w, "CUSTODY_WITNESS_REQUIRED", w.issue, "revolver", "alex", "cold")


def test_a_pin_set_again_while_it_is_checked_confirms_nothing(
        w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review: the PIN is verified outside the transaction. If it is set again
    in between, by someone the rules would accept as independent, the decision
    must not accept a confirmation made with the PIN that was replaced."""
    sup, alex = w.people["supervisor"], w.people["alex"]
    a.set_pin(w.ctx, person=alex, pin="8642", actor=sup)  # the supervisor knows it
    w.pins["alex"] = "8642"
    ins = w.inspect("revolver")
    w.witness(ins, "supervisor")
    real = a.check_pin

    def racing(ctx: Any, **kw: Any) -> str | None:
        by = real(ctx, **kw)
        a.set_pin(w.ctx, person=alex, pin="97531", actor=w.people["producer"])
        return by

    monkeypatch.setattr(a, "check_pin", racing)
    err = refusal(w.witness, ins, "alex")
    assert err.code == "PIN_INVALID" and "set again while it was being checked" in err.message
    assert [x["person"] for x in w.state().inspections[ins].witnesses] == [sup]
    assert w.state().people[alex].pin_failures == 0  # not a wrong PIN
    monkeypatch.setattr(a, "check_pin", real)
    w.pins["alex"] = "97531"
    w.witness(ins, "alex")  # the new PIN, recorded by the producer, confirms
    assert [x["person"] for x in w.state().inspections[ins].witnesses] == [sup, alex]


def test_a_signers_pin_set_again_while_it_is_checked_closes_nothing(
        w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    a.report_incident(w.ctx, kind="other", description="Cart left unlocked",
                      weapons=[], lots=[], reported_by=w.people["ad"])
    inc = incident_of(w)
    real = a.check_pin

    def racing(ctx: Any, **kw: Any) -> str | None:
        by = real(ctx, **kw)
        if kw["person"] == w.people["armorer"]:
            a.set_pin(w.ctx, person=kw["person"], pin="97531", actor=w.people["producer"])
        return by

    monkeypatch.setattr(a, "check_pin", racing)
    err = refusal(w.close, inc)
    assert err.code == "PIN_INVALID" and "Sam Reyes's PIN was set again" in err.message
    assert w.state().incidents[inc].open


@covers("CUSTODY_WITNESS_REQUIRED", "refused")
def test_the_armorer_handing_over_cannot_have_recorded_the_performers_pin(w: World) -> None:
    """At issue the confirmations are checked again, as recorded, against the
    armorer handing the weapon over (who need not be the one who inspected)."""
    a.set_pin(w.ctx, person=w.people["alex"], pin="8642", actor=w.people["assistant"])
    w.pins["alex"] = "8642"
    w.witness(w.inspect("revolver"), "alex", "ad")
    err = refused(w, "CUSTODY_WITNESS_REQUIRED", w.issue, "revolver", "alex", "cold",
                  armorer="assistant", records=("weapon.handoff_refused",), primary=False)
    assert "with a PIN recorded by Jo Park" in repr(err.details) + repr(err)


@covers("CUSTODY_WITNESS_REQUIRED", "allowed")
def test_a_pin_someone_outside_the_chain_recorded_still_confirms(w: World) -> None:
    """A producer (or anyone who neither inspected nor witnesses) recording a
    performer's PIN at onboarding is how most sets work; it stays allowed."""
    a.set_pin(w.ctx, person=w.people["alex"], pin="8642", actor=w.people["producer"])
    w.pins["alex"] = "8642"
    ins = w.inspect("revolver")
    w.witness(ins, "alex", "ad")
    allowed(w, "CUSTODY_WITNESS_REQUIRED", w.issue, "revolver", "alex", "cold")


@covers("CUSTODY_WITNESS_REQUIRED", "allowed")
@pytest.mark.parametrize("second", ["ad", "supervisor"])
def test_the_performer_and_the_ad_or_safety_supervisor_confirm_the_inspection(
        w: World, second: str) -> None:
    ins = w.inspect("revolver")
    w.witness(ins, "alex", second)
    roles = [x["role"] for x in w.state().inspections[ins].witnesses]
    assert roles == ["performer", "first_ad" if second == "ad" else "safety_supervisor"]
    allowed(w, "CUSTODY_WITNESS_REQUIRED", w.issue, "revolver", "alex", "cold")


def test_a_wrong_pin_confirms_nothing_and_five_lock_the_pin(w: World) -> None:
    ins = w.inspect("revolver")
    for n in range(1, 5):
        err = refusal(w.witness, ins, "alex", pin="0000")
        assert err.code == "PIN_INVALID"
        assert w.state().people[w.people["alex"]].pin_failures == n
    assert refusal(w.witness, ins, "alex", pin="0000").code == "PIN_LOCKED"
    # Even the right PIN is refused while locked.
    assert refusal(w.witness, ins, "alex").code == "PIN_LOCKED"
    assert w.state().inspections[ins].witnesses == []
    assert w.types_since(0).count("inspection.witnessed") == 0


def test_a_person_who_is_not_a_witness_role_cannot_confirm(w: World) -> None:
    ins = w.inspect("revolver")
    assert refusal(w.witness, ins, "props").code == "ROLE_REQUIRED"


# ---------------------------------------------------------- CUSTODY_WEAPON_FROZEN


@covers("CUSTODY_WEAPON_FROZEN", "refused")
def test_a_weapon_named_by_an_open_incident_cannot_be_issued(w: World) -> None:
    w.ready("revolver", "alex", scene="cold")
    a.report_incident(w.ctx, kind="other", description="Cylinder binds; check before use",
                      weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["ad"])
    assert w.state().weapons[w.weapons["revolver"]].state == "frozen"
    refused(w, "CUSTODY_WEAPON_FROZEN", w.issue, "revolver", "alex", "cold",
            records=("weapon.handoff_refused",))
    refused(w, "CUSTODY_WEAPON_FROZEN", w.inspect, "revolver")


@covers("CUSTODY_WEAPON_FROZEN", "refused")
def test_a_frozen_weapon_in_storage_is_refused_as_frozen(w: World) -> None:
    a.report_incident(w.ctx, kind="other", description="Serial plate loose",
                      weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["ad"])
    err = refused(w, "CUSTODY_WEAPON_FROZEN", w.issue, "revolver", "alex", "cold",
                  records=("weapon.handoff_refused",))
    assert all("None" not in v.message for v in err.violations)  # type: ignore[attr-defined]
    refused(w, "CUSTODY_WEAPON_FROZEN", w.inspect, "revolver")


@covers("CUSTODY_WEAPON_FROZEN", "allowed")
def test_a_weapon_is_released_when_its_incident_closes(w: World) -> None:
    a.report_incident(w.ctx, kind="other", description="Cylinder binds; check before use",
                      weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["ad"])
    w.close(incident_of(w, weapon="revolver"))
    wp = w.state().weapons[w.weapons["revolver"]]
    assert (wp.state, wp.frozen_by) == ("in_storage", [])
    w.ready("revolver", "alex", scene="cold")
    allowed(w, "CUSTODY_WEAPON_FROZEN", w.issue, "revolver", "alex", "cold")


def test_a_weapon_frozen_by_two_incidents_stays_frozen_until_both_close(w: World) -> None:
    for text in ("first report", "second report"):
        a.report_incident(w.ctx, kind="other", description=text,
                          weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["ad"])
    incs = [i.id for i in w.state().incidents.values() if i.open]
    w.close(incs[0])
    assert w.state().weapons[w.weapons["revolver"]].state == "frozen"
    assert refusal(w.inspect, "revolver").code == "CUSTODY_WEAPON_FROZEN"
    w.close(incs[1])
    assert w.state().weapons[w.weapons["revolver"]].state == "in_storage"


# ---------------------------------------------------------------- CUSTODY_OVERDUE


def meal(w: World, start: bool = True) -> list[Event]:
    return a.meal_break(w.ctx, start=start, actor=w.people["ad"])


@covers("CUSTODY_OVERDUE", "refused")
@covers("CUSTODY_OVERDUE", "overridden")
def test_a_meal_break_is_refused_while_a_weapon_is_out_unless_overridden(w: World) -> None:
    w.give("revolver", "alex", "cold")
    soft_cycle(w, "CUSTODY_OVERDUE", lambda: meal(w))
    assert w.state().days[w.day].meal_break
    # The weapon still out during the break shows as overdue.
    board = status(w.ctx)
    assert {"CUSTODY_OVERDUE"} <= {x["code"] for x in board["alerts"]}


@covers("CUSTODY_OVERDUE", "refused")
def test_no_weapon_is_issued_during_a_meal_break(w: World) -> None:
    meal(w)
    w.ready("revolver", "alex", scene="cold")
    err = refused(w, "CUSTODY_OVERDUE", w.issue, "revolver", "alex", "cold",
                  records=("weapon.handoff_refused",))
    assert subject_of(err, "CUSTODY_OVERDUE") == f"day:{w.day}"


@covers("CUSTODY_OVERDUE", "allowed")
def test_a_meal_break_starts_when_every_weapon_is_back(w: World) -> None:
    w.give("revolver", "alex", "cold")
    w.take_back("revolver", "alex")
    allowed(w, "CUSTODY_OVERDUE", meal, w)
    meal(w, start=False)
    w.ready("revolver", "alex", scene="cold")
    allowed(w, "CUSTODY_OVERDUE", w.issue, "revolver", "alex", "cold")


def test_a_weapon_kept_past_the_scene_limit_shows_as_overdue(w: World, clock: Any) -> None:
    ev = w.give("revolver", "alex", "cold")
    due = ev[0].payload["due_at"]
    assert "CUSTODY_OVERDUE" not in {x["code"] for x in status(w.ctx)["alerts"]}
    clock.t += timedelta(minutes=31)
    alerts = [x for x in status(w.ctx)["alerts"] if x["code"] == "CUSTODY_OVERDUE"]
    assert [x["subject"] for x in alerts] == [f"weapon:{w.weapons['revolver']}"]
    assert due in alerts[0]["message"]


# ---------------------------------------------------------------- SCENE_BLANKS_NEED_HOT


@covers("SCENE_BLANKS_NEED_HOT", "refused")
def test_blanks_cannot_be_loaded_for_a_cold_scene(w: World) -> None:
    err = refused(w, "SCENE_BLANKS_NEED_HOT", w.inspect, "pistol", content="blank", n=10,
                  lot="blanks9", scene="cold")
    assert subject_of(err, "SCENE_BLANKS_NEED_HOT") == f"scene:{w.scenes['cold']}"


@covers("SCENE_BLANKS_NEED_HOT", "refused")
def test_a_weapon_holding_blanks_is_not_issued_into_a_cold_scene(w: World) -> None:
    # Loaded for the hot scene, then taken to a cold one: the issue checks again.
    w.ready("pistol", "rita", content="blank", n=10, lot="blanks9", scene="hot")
    refused(w, "SCENE_BLANKS_NEED_HOT", w.issue, "pistol", "rita", "cold",
            records=("weapon.handoff_refused",))


@covers("SCENE_BLANKS_NEED_HOT", "allowed")
def test_blanks_are_loaded_and_issued_for_a_hot_scene(w: World) -> None:
    allowed(w, "SCENE_BLANKS_NEED_HOT", w.inspect, "pistol", content="blank", n=10,
            lot="blanks9", scene="hot")
    ins = w.state().weapons[w.weapons["pistol"]].inspection
    assert ins is not None
    w.witness(ins, "rita", "ad")
    allowed(w, "SCENE_BLANKS_NEED_HOT", w.issue, "pistol", "rita", "hot")
    assert w.state().lots[w.lots["blanks9"]].in_weapons == 10


# ---------------------------------------------------------------- SCENE_SAFETY_MEETING


@pytest.fixture
def w_no_meeting(template_no_meeting: WorldTemplate, tmp_path: Path,
                 clock: Any) -> Iterator[World]:
    world = template_no_meeting.clone(tmp_path / "world", clock)
    yield world
    world.store.dispose()


@covers("SCENE_SAFETY_MEETING", "refused")
def test_no_firearm_is_issued_for_a_scene_without_that_days_safety_meeting(
        w_no_meeting: World) -> None:
    w = w_no_meeting
    w.ready("revolver", "alex", scene="cold")
    err = refused(w, "SCENE_SAFETY_MEETING", w.issue, "revolver", "alex", "cold",
                  records=("weapon.handoff_refused",))
    assert subject_of(err, "SCENE_SAFETY_MEETING") == f"scene:{w.scenes['cold']}"


@covers("SCENE_SAFETY_MEETING", "refused")
def test_a_hot_scene_needs_a_meeting_that_names_it(w: World) -> None:
    w.plan("hot2", hot=True, min_distance_m=10)
    w.ready("pistol", "rita", content="blank", n=5, lot="blanks9", scene="hot2")
    refused(w, "SCENE_SAFETY_MEETING", w.issue, "pistol", "rita", "hot2",
            records=("weapon.handoff_refused",))


@covers("SCENE_SAFETY_MEETING", "refused")
def test_everyone_in_the_scene_must_have_attended_the_meeting(w_no_meeting: World) -> None:
    w = w_no_meeting
    w.hold_meeting(["cold"], attendees=["armorer", "ad", "alex"])
    w.ready("revolver", "alex", scene="cold")
    # The scene also has rita, chris and nico, who were not there.
    refused(w, "SCENE_SAFETY_MEETING", w.issue, "revolver", "alex", "cold",
            records=("weapon.handoff_refused",))
    w.plan("solo", weapons=["revolver"], performers=["alex"])
    allowed(w, "SCENE_SAFETY_MEETING", w.issue, "revolver", "alex", "solo")


@covers("SCENE_SAFETY_MEETING", "refused")
def test_the_armorer_and_the_witnesses_are_in_the_scene_too(w_no_meeting: World) -> None:
    w = w_no_meeting
    w.plan("solo", weapons=["revolver"], performers=["alex"])
    # The safety supervisor held the meeting with the performer only: the armorer who
    # shows the revolver clear and issues it, and the 1st AD who witnesses, missed it.
    w.hold_meeting(["solo"], attendees=["alex"], led_by="supervisor")
    w.ready("revolver", "alex", scene="solo")
    err = refused(w, "SCENE_SAFETY_MEETING", w.issue, "revolver", "alex", "solo",
                  records=("weapon.handoff_refused",))
    assert err.message.endswith(f"not recorded at one: Sam Reyes ({w.people['armorer']}), "
                                f"Dana Whitfield ({w.people['ad']})"), err.message


@covers("SCENE_SAFETY_MEETING", "allowed")
def test_the_scene_is_covered_when_its_armorer_and_witnesses_attended(
        w_no_meeting: World) -> None:
    w = w_no_meeting
    w.plan("solo", weapons=["revolver"], performers=["alex"])
    w.hold_meeting(["solo"], attendees=["alex"], led_by="supervisor")
    # The assistant armorer shows the revolver clear to the performer and the safety
    # supervisor (who led the meeting) and issues it; still not at a meeting.
    w.ready("revolver", "alex", scene="solo", witnesses=("supervisor",), armorer="assistant")
    assert refusal(w.issue, "revolver", "alex", "solo",
                   armorer="assistant").code == "SCENE_SAFETY_MEETING"
    # A second meeting the same day, led by the assistant armorer, covers them too.
    w.hold_meeting(["solo"], attendees=["alex"], led_by="assistant")
    allowed(w, "SCENE_SAFETY_MEETING", w.issue, "revolver", "alex", "solo",
            armorer="assistant")


@covers("SCENE_SAFETY_MEETING", "allowed")
def test_a_firearm_is_issued_once_the_safety_meeting_is_held(w_no_meeting: World) -> None:
    w = w_no_meeting
    w.ready("revolver", "alex", scene="cold")
    assert refusal(w.issue, "revolver", "alex", "cold").code == "SCENE_SAFETY_MEETING"
    w.hold_meeting(["cold"])
    allowed(w, "SCENE_SAFETY_MEETING", w.issue, "revolver", "alex", "cold")


@covers("SCENE_SAFETY_MEETING", "allowed")
def test_a_replica_needs_no_safety_meeting(w_no_meeting: World) -> None:
    w = w_no_meeting
    w.inspect("replica")
    allowed(w, "SCENE_SAFETY_MEETING", w.issue, "replica", "newbie", "cold")


# ---------------------------------------------------------------- SCENE_POINTING_PLAN


def ack(w: World, *who: str, scene: str = "pointing") -> None:
    for k in who:
        a.acknowledge_pointing(w.ctx, scene=w.scenes[scene], person=w.people[k])


@covers("SCENE_POINTING_PLAN", "refused")
@pytest.mark.parametrize("acks", [(), ("armorer",), ("ad",)])
def test_pointing_at_a_person_needs_the_plan_acknowledged_by_armorer_and_ad(
        w: World, acks: tuple[str, ...]) -> None:
    ack(w, *acks)
    w.ready("revolver", "alex", content="dummy", n=6, lot="dummies", scene="pointing")
    err = refused(w, "SCENE_POINTING_PLAN", w.issue, "revolver", "alex", "pointing",
                  records=("weapon.handoff_refused",))
    assert subject_of(err, "SCENE_POINTING_PLAN") == f"scene:{w.scenes['pointing']}"


@covers("SCENE_POINTING_PLAN", "refused")
def test_a_weapon_loaded_with_blanks_is_never_pointed_at_a_person(w: World) -> None:
    w.plan("hot_pointing", hot=True, min_distance_m=10, pointing=True,
           pointing_description="Rita fires toward the camera position")
    w.hold_meeting(["hot_pointing"])
    ack(w, "armorer", "ad", scene="hot_pointing")
    w.ready("pistol", "rita", content="blank", n=3, lot="blanks9", scene="hot_pointing")
    refused(w, "SCENE_POINTING_PLAN", w.issue, "pistol", "rita", "hot_pointing",
            records=("weapon.handoff_refused",))


def test_only_the_armorer_and_the_ad_acknowledge_a_pointing_plan(w: World) -> None:
    err = refusal(ack, w, "alex")
    assert err.code == "ROLE_REQUIRED"
    assert w.state().scenes[w.scenes["pointing"]].pointing_acks == {}


@covers("SCENE_POINTING_PLAN", "allowed")
@pytest.mark.parametrize("load", [{}, {"content": "dummy", "n": 6, "lot": "dummies"}])
def test_an_acknowledged_plan_allows_pointing_an_empty_or_dummy_loaded_weapon(
        w: World, load: dict[str, Any]) -> None:
    ack(w, "armorer", "ad")
    w.ready("revolver", "alex", scene="pointing", **load)
    allowed(w, "SCENE_POINTING_PLAN", w.issue, "revolver", "alex", "pointing")


# ---------------------------------------------------------------- SCENE_BLANK_DISTANCE


@covers("SCENE_BLANK_DISTANCE", "refused")
@covers("SCENE_BLANK_DISTANCE", "overridden")
def test_blanks_closer_than_six_metres_are_refused_unless_overridden(w: World) -> None:
    w.plan("close", hot=True, min_distance_m=3)
    w.hold_meeting(["close"])
    w.ready("pistol", "rita", content="blank", n=5, lot="blanks9", scene="close")
    ev = soft_cycle(w, "SCENE_BLANK_DISTANCE", lambda: w.issue("pistol", "rita", "close"),
                    records=("weapon.handoff_refused",))
    assert ev[0].payload["overrides"] == [f"SCENE_BLANK_DISTANCE@scene:{w.scenes['close']}"]


@covers("SCENE_BLANK_DISTANCE", "refused")
def test_blanks_need_a_recorded_distance(w: World) -> None:
    w.plan("unmeasured", hot=True)
    w.hold_meeting(["unmeasured"])
    w.ready("pistol", "rita", content="blank", n=5, lot="blanks9", scene="unmeasured")
    refused(w, "SCENE_BLANK_DISTANCE", w.issue, "pistol", "rita", "unmeasured",
            records=("weapon.handoff_refused",))


@covers("SCENE_BLANK_DISTANCE", "allowed")
@pytest.mark.parametrize("plan", [{"min_distance_m": 6}, {"min_distance_m": 2, "shielded": True}])
def test_blanks_at_six_metres_or_behind_a_shield_are_allowed(
        w: World, plan: dict[str, Any]) -> None:
    w.plan("ok", hot=True, **plan)
    w.hold_meeting(["ok"])
    w.ready("pistol", "rita", content="blank", n=5, lot="blanks9", scene="ok")
    ev = allowed(w, "SCENE_BLANK_DISTANCE", w.issue, "pistol", "rita", "ok")
    assert ev[0].payload["overrides"] == []


# ---------------------------------------------------------------- SCENE_REHEARSAL_REPLICA


@covers("SCENE_REHEARSAL_REPLICA", "refused")
@covers("SCENE_REHEARSAL_REPLICA", "overridden")
def test_a_rehearsal_with_a_real_firearm_is_refused_unless_overridden(w: World) -> None:
    w.ready("revolver", "alex", scene="rehearsal")
    soft_cycle(w, "SCENE_REHEARSAL_REPLICA", lambda: w.issue("revolver", "alex", "rehearsal"),
               records=("weapon.handoff_refused",))


@covers("SCENE_REHEARSAL_REPLICA", "allowed")
@pytest.mark.parametrize("weapon", ["replica", "rubber"])
def test_a_rehearsal_uses_a_replica_or_rubber_weapon(w: World, weapon: str) -> None:
    w.inspect(weapon)
    allowed(w, "SCENE_REHEARSAL_REPLICA", w.issue, weapon, "alex", "rehearsal")


# ---------------------------------------------------------------- INCIDENT_DISCHARGE


@covers("INCIDENT_DISCHARGE", "refused")
@pytest.mark.parametrize("kind", ["discharge", "misfire", "squib"])
def test_a_discharge_report_must_name_the_weapon(w: World, kind: str) -> None:
    refused(w, "INCIDENT_DISCHARGE", a.report_incident, w.ctx, kind=kind,
            description="Heard a shot near the cart", weapons=[], lots=[],
            reported_by=w.people["ad"], records=("action.refused",))
    assert w.state().incidents == {}  # the attempt is on record, no incident opened


@covers("INCIDENT_DISCHARGE", "allowed")
def test_a_discharge_opens_an_incident_and_freezes_the_weapon_and_lot(w: World) -> None:
    w.give("pistol", "rita", "hot", content="blank", n=8, lot="blanks9")
    ev = allowed(w, "INCIDENT_DISCHARGE", a.report_incident, w.ctx, kind="discharge",
                 description="Pistol discharged between takes, muzzle down",
                 weapons=[w.weapons["pistol"]], lots=[w.lots["blanks9"]],
                 reported_by=w.people["ad"])
    assert [e.type for e in ev] == ["incident.opened", "weapon.frozen"]
    assert ev[0].payload["rule"] == "INCIDENT_DISCHARGE"
    st = w.state()
    assert st.weapons[w.weapons["pistol"]].state == "frozen"
    assert st.lots[w.lots["blanks9"]].quarantined


@covers("INCIDENT_DISCHARGE", "allowed")
def test_a_discharge_report_naming_only_the_weapon_freezes_the_lot_loaded_in_it(
        w: World) -> None:
    """domain.md: a discharge freezes "the weapon and the lots involved". The
    reporter may not know which box the rounds came from; the record does."""
    lot = new_dummy_lot(w, n=10, verify=6)
    w.give("revolver", "alex", "cold", content="dummy", n=3, lot=lot)
    ev = allowed(w, "INCIDENT_DISCHARGE", a.report_incident, w.ctx, kind="squib",
                 description="Revolver made a noise on the trigger pull",
                 weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["ad"])
    assert [e.type for e in ev] == ["incident.opened", "weapon.frozen",
                                    "ammo.verification_voided"]
    assert ev[0].payload["lots"] == [lot]
    st = w.state()
    assert st.lots[lot].quarantined and st.lots[lot].verified_in_stock == 0


@covers("INCIDENT_DISCHARGE", "allowed")
def test_a_squib_found_after_an_empty_return_quarantines_the_box_it_was_fired_from(
        w: World) -> None:
    """Review: the weapon came back empty (every blank fired) and went into the
    safe; the armorer then found a wad lodged in the barrel. The report names
    the weapon only: the box its last rounds came from must not be loaded again
    until the incident is closed."""
    w.give("revolver", "alex", "hot", content="blank", n=6, lot="blanks45")
    w.take_back("revolver", "alex", fired=6)
    w.put_away("revolver")
    assert w.state().weapons[w.weapons["revolver"]].load_count == 0
    ev = allowed(w, "INCIDENT_DISCHARGE", a.report_incident, w.ctx, kind="squib",
                 description="Wad lodged in the barrel, found at cleaning",
                 weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["armorer"])
    assert ev[0].payload["lots"] == [w.lots["blanks45"]]
    st = w.state()
    assert st.lots[w.lots["blanks45"]].quarantined
    assert st.weapons[w.weapons["revolver"]].state == "frozen"
    # The box is refused for another weapon while the incident is open.
    refused(w, "AMMO_LOT_QUARANTINED", w.inspect, "revolver2", content="blank", n=2,
            lot="blanks45", scene="hot")


def test_only_a_discharge_misfire_or_squib_reaches_back_to_the_last_box(w: World) -> None:
    """Other reports (a complaint about a weapon, say) name what is loaded now,
    not what was fired from it earlier; a weapon never loaded names no box."""
    w.give("pistol", "rita", "hot", content="blank", n=8, lot="blanks9")
    w.take_back("pistol", "rita", fired=8)
    w.put_away("pistol")
    ev = a.report_incident(w.ctx, kind="other", description="Front sight loose",
                           weapons=[w.weapons["pistol"]], lots=[],
                           reported_by=w.people["armorer"])
    assert ev[0].payload["lots"] == []
    ev = a.report_incident(w.ctx, kind="discharge", description="Bang from the replica crate",
                           weapons=[w.weapons["replica"]], lots=[],
                           reported_by=w.people["armorer"])
    assert ev[0].payload["lots"] == []


@covers("INCIDENT_DISCHARGE", "allowed")
def test_a_misfire_at_return_freezes_the_weapon_and_keeps_its_rounds(w: World) -> None:
    w.give("pistol", "rita", "hot", content="blank", n=8, lot="blanks9")
    ev = allowed(w, "INCIDENT_DISCHARGE", w.take_back, "pistol", "rita", fired=3,
                 misfire="Round 4 failed to fire")
    assert [e.type for e in ev] == ["weapon.returned", "incident.opened", "weapon.frozen"]
    st = w.state()
    wp, lot = st.weapons[w.weapons["pistol"]], st.lots[w.lots["blanks9"]]
    assert (wp.state, wp.custodian, wp.load_count) == ("frozen", w.people["armorer"], 5)
    assert (lot.fired, lot.in_weapons, lot.quarantined) == (3, 5, True)


# ---------------------------------------------------------- INCIDENT_EVIDENCE_PRESERVED


def misfired_pistol(w: World) -> str:
    w.give("pistol", "rita", "hot", content="blank", n=4, lot="blanks9")
    w.take_back("pistol", "rita", fired=1, misfire="Round 2 failed to fire")
    return incident_of(w, weapon="pistol")


def record_all(w: World, weapon: str, inc: str) -> None:
    for n in range(w.state().weapons[w.weapons[weapon]].load_count):
        a.record_evidence(w.ctx, weapon=w.weapons[weapon], incident=inc,
                          position="chamber" if n == 0 else f"magazine {n}",
                          description="9mm PAK blank, crimp intact",
                          armorer=w.people["armorer"])


@covers("INCIDENT_EVIDENCE_PRESERVED", "refused")
def test_a_frozen_weapon_is_not_put_away_with_its_rounds_still_in_it(w: World) -> None:
    misfired_pistol(w)
    refused(w, "INCIDENT_EVIDENCE_PRESERVED", w.put_away, "pistol")


@covers("INCIDENT_EVIDENCE_PRESERVED", "refused")
def test_rounds_of_a_lot_under_an_open_incident_are_not_destroyed(w: World) -> None:
    misfired_pistol(w)
    refused(w, "INCIDENT_EVIDENCE_PRESERVED", a.destroy_rounds, w.ctx, lot=w.lots["blanks9"],
            count=5, reason="clean-up", armorer=w.people["armorer"])


@covers("INCIDENT_EVIDENCE_PRESERVED", "refused")
def test_an_evidence_lot_is_neither_destroyed_nor_loaded_while_its_incident_is_open(
        w: World) -> None:
    a.report_incident(w.ctx, kind="discharge", description="Revolver fired off-camera",
                      weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["ad"])
    inc = incident_of(w, weapon="revolver")
    a.record_evidence(w.ctx, weapon=w.weapons["revolver"], incident=inc,
                      position="cylinder 1", description="spent case",
                      armorer=w.people["armorer"])
    ev_lot = w.state().incidents[inc].evidence_lot
    assert ev_lot is not None
    refused(w, "INCIDENT_EVIDENCE_PRESERVED", a.destroy_rounds, w.ctx, lot=ev_lot, count=1,
            reason="thrown away", armorer=w.people["armorer"])
    refused(w, "INCIDENT_EVIDENCE_PRESERVED", w.inspect, "revolver2", content="dummy", n=1,
            lot=ev_lot)


@covers("INCIDENT_EVIDENCE_PRESERVED", "refused")
@pytest.mark.parametrize("how", ["frozen lost", "frozen fired", "misfire lost"])
def test_rounds_that_are_evidence_cannot_be_written_off_on_return(w: World, how: str) -> None:
    """Review: a frozen weapon's rounds were counted fired or lost on its return,
    so no evidence lot was ever made and the wrap balanced."""
    w.give("revolver", "alex", "hot", content="blank", n=6, lot="blanks45")
    if how.startswith("frozen"):
        a.report_incident(w.ctx, kind="discharge", description="Went off between takes",
                          weapons=[w.weapons["revolver"]], lots=[],
                          reported_by=w.people["ad"])
        kw: dict[str, Any] = {"lost": 5} if how == "frozen lost" else {"fired": 1}
    else:
        kw = {"lost": 5, "misfire": "Cylinder 3 clicked"}
    refused(w, "INCIDENT_EVIDENCE_PRESERVED", w.take_back, "revolver", "alex", **kw,
            records=("weapon.handoff_refused",))
    assert w.state().weapons[w.weapons["revolver"]].load_count == 6


@covers("INCIDENT_EVIDENCE_PRESERVED", "refused")
def test_an_incident_does_not_close_while_a_weapon_it_froze_holds_rounds(w: World) -> None:
    """Review: closing unfroze the weapon and storing it put the misfired round
    back in its lot, unexamined."""
    inc = misfired_pistol(w)
    refused(w, "INCIDENT_EVIDENCE_PRESERVED", w.close, inc, primary=False)
    assert w.state().incidents[inc].open
    record_all(w, "pistol", inc)
    w.close(inc)
    assert not w.state().incidents[inc].open


@covers("INCIDENT_EVIDENCE_PRESERVED", "refused")
def test_an_evidence_lot_is_never_loaded_even_with_a_soft_rule_overridden(w: World) -> None:
    """Review: an armorer whose role conflict had been acknowledged loaded an
    evidence lot after its incident closed (the evidence check ran only when
    no violation at all had been found, and the overridden one counted)."""
    inc = misfired_pistol(w)
    record_all(w, "pistol", inc)
    w.close(inc)
    ev_lot = w.state().incidents[inc].evidence_lot
    assert ev_lot is not None
    w.put_away("pistol")  # empty now: back in storage, anyone's to take out
    w.override("PEOPLE_ROLE_CONFLICT", f"person:{w.people['props_armorer']}")
    for who in ("armorer", "props_armorer"):
        err = refusal(w.inspect, "pistol", content="blank", n=1, lot=ev_lot, armorer=who,
                      scene="hot")
        assert err.code == "LOT_NOT_USABLE", (who, err)
    _checked.append(("refused", "INCIDENT_EVIDENCE_PRESERVED"))


@covers("CUSTODY_DIRECT_HANDOFF", "refused")
@pytest.mark.parametrize("to", ["alex", "rita"])
def test_issuing_a_weapon_a_performer_holds_is_refused_and_recorded(w: World, to: str) -> None:
    """Review: the refusal was raised by the state machine before the handoff
    violation could be recorded, so the attempt left no trace."""
    w.give("revolver", "alex", "cold")
    err = refused(w, "CUSTODY_DIRECT_HANDOFF", w.issue, "revolver", to, "cold",
                  records=("weapon.handoff_refused",), primary=False)
    assert "held by" in repr(err.details) + repr(err)
    assert w.state().weapons[w.weapons["revolver"]].custodian == w.people["alex"]


@covers("CUSTODY_DIRECT_HANDOFF", "refused")
def test_a_return_is_from_a_performer_only(w: World) -> None:
    """Review: a weapon frozen in the armorer's hands was "returned" by that
    armorer to the assistant armorer, a handoff the handoff route refuses."""
    w.inspect("revolver", content="blank", n=6, lot="blanks45", scene="hot")
    a.report_incident(w.ctx, kind="other", description="Cylinder binds",
                      weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["ad"])
    refused(w, "CUSTODY_DIRECT_HANDOFF", w.take_back, "revolver", "armorer",
            armorer="assistant", records=("weapon.handoff_refused",))
    assert w.state().weapons[w.weapons["revolver"]].custodian == w.people["armorer"]


@covers("CUSTODY_DIRECT_HANDOFF", "refused")
def test_another_armorer_does_not_take_a_weapon_by_inspecting_it(w: World) -> None:
    """Review: the assistant armorer took the revolver from the armorer by
    recording an inspection of it."""
    w.inspect("revolver")
    refused(w, "CUSTODY_DIRECT_HANDOFF", w.inspect, "revolver", armorer="assistant")
    assert w.state().weapons[w.weapons["revolver"]].custodian == w.people["armorer"]
    w.put_away("revolver")
    w.inspect("revolver", armorer="assistant")  # out of storage: theirs now
    assert w.state().weapons[w.weapons["revolver"]].custodian == w.people["assistant"]


@covers("AMMO_LOT_QUARANTINED", "refused")
def test_a_failed_dummy_freezes_and_recalls_the_weapons_loaded_from_its_lot(w: World) -> None:
    """The Rust pattern (review): a weapon loaded with dummies from a box is out
    with a performer in a scene that points at a person when a round of that box
    turns out live. The quarantine reaches the weapon: it is frozen and named,
    nobody may issue it again, and it comes back as evidence."""
    lot = new_dummy_lot(w, n=12, verify=6)
    w.give("revolver", "alex", "cold", content="dummy", n=6, lot=lot)
    a.verify_rounds(w.ctx, lot=lot, count=0, method="shake", armorer=w.people["armorer"],
                    failed_finding="round 7: primer dented, powder inside; it is live")
    st = w.state()
    rev = w.weapons["revolver"]
    (inc,) = [i for i in st.incidents.values() if i.open]
    assert rev in inc.weapons and st.weapons[rev].state == "frozen"
    assert st.weapons[rev].custodian == w.people["alex"]  # still to be recalled
    w.take_back("revolver", "alex")  # a frozen weapon still comes back
    refused(w, "INCIDENT_EVIDENCE_PRESERVED", w.close, inc.id, primary=False)
    err = refused(w, "AMMO_LOT_QUARANTINED", w.inspect, "revolver2", content="dummy", n=1,
                  lot=lot, primary=False)
    assert "AMMO_LOT_QUARANTINED" in codes(err)


@covers("INCIDENT_EVIDENCE_PRESERVED", "allowed")
def test_rounds_from_a_frozen_weapon_are_recorded_one_by_one_as_evidence(w: World) -> None:
    inc = misfired_pistol(w)
    seq = w.seq()
    record_all(w, "pistol", inc)
    _checked.append(("allowed", "INCIDENT_EVIDENCE_PRESERVED"))
    assert w.types_since(seq) == ["ammo.evidence_lot_created"] + ["ammo.evidence_recorded"] * 3
    st = w.state()
    ev_lot = st.lots[st.incidents[inc].evidence_lot or ""]
    src = st.lots[w.lots["blanks9"]]
    assert (ev_lot.kind, ev_lot.received, ev_lot.incident) == ("evidence", 3, inc)
    assert (src.to_evidence, src.fired, src.in_weapons, src.balanced) == (3, 1, 0, True)
    assert st.weapons[w.weapons["pistol"]].load_count == 0
    allowed(w, "INCIDENT_EVIDENCE_PRESERVED", w.put_away, "pistol")
    w.close(inc)
    allowed(w, "INCIDENT_EVIDENCE_PRESERVED", a.destroy_rounds, w.ctx, lot=ev_lot.id, count=3,
            reason="released by investigators", armorer=w.people["armorer"])


# ---------------------------------------------------------- INCIDENT_CLOSE_NEEDS_ACTION


@covers("INCIDENT_CLOSE_NEEDS_ACTION", "refused")
@pytest.mark.parametrize(("kw", "why"), [
    ({"action": "fixed"}, "no real corrective action"),
    ({"supervisor": "ad"}, "the 1st AD is not the safety supervisor"),
    ({"armorer": "supervisor"}, "the supervisor cannot sign as armorer"),
    ({"armorer": "expired"}, "an expired armorer cannot sign"),
])
def test_an_incident_closes_only_with_a_corrective_action_signed_by_armorer_and_supervisor(
        w: World, kw: dict[str, str], why: str) -> None:
    a.report_incident(w.ctx, kind="misfire", description="Revolver misfired on take 2",
                      weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["ad"])
    inc = incident_of(w, weapon="revolver")
    refused(w, "INCIDENT_CLOSE_NEEDS_ACTION", w.close, inc, **kw)
    assert w.state().incidents[inc].open, why


@covers("INCIDENT_CLOSE_NEEDS_ACTION", "refused")
def test_an_incident_does_not_close_while_its_weapon_is_with_a_performer(w: World) -> None:
    w.give("revolver", "alex", "cold")
    a.report_incident(w.ctx, kind="other", description="Alex reports the hammer slips",
                      weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["alex"])
    refused(w, "INCIDENT_CLOSE_NEEDS_ACTION", w.close, incident_of(w, weapon="revolver"))


@covers("INCIDENT_CLOSE_NEEDS_ACTION", "allowed")
def test_an_incident_closes_with_a_signed_corrective_action(w: World) -> None:
    a.report_incident(w.ctx, kind="misfire", description="Revolver misfired on take 2",
                      weapons=[w.weapons["revolver"]], lots=[w.lots["blanks45"]],
                      reported_by=w.people["ad"])
    inc = incident_of(w, weapon="revolver")
    ev = allowed(w, "INCIDENT_CLOSE_NEEDS_ACTION", w.close, inc)
    assert [e.type for e in ev] == ["incident.closed", "weapon.unfrozen"]
    st = w.state()
    assert not st.incidents[inc].open
    assert st.incidents[inc].corrective_action
    assert not st.lots[w.lots["blanks45"]].quarantined
    assert refusal(w.close, inc).code == "INCIDENT_CLOSED"


def test_an_armorer_with_an_acknowledged_role_conflict_can_sign_an_incident_closed(
        w: World) -> None:
    a.report_incident(w.ctx, kind="other", description="Cart left unlocked",
                      weapons=[], lots=[], reported_by=w.people["ad"])
    inc = incident_of(w)
    err = refusal(w.close, inc, armorer="props_armorer")
    assert err.code == "INCIDENT_CLOSE_NEEDS_ACTION"
    w.override("PEOPLE_ROLE_CONFLICT", f"person:{w.people['props_armorer']}")
    w.close(inc, armorer="props_armorer")
    assert not w.state().incidents[inc].open


def test_one_person_cannot_sign_a_closure_twice_or_through_a_person_they_gave_a_pin(
        w: World) -> None:
    """Security review: a safety supervisor added "Ghost Armorer" with a PIN of
    their choosing and closed an incident signing as both."""
    a.report_incident(w.ctx, kind="misfire", description="Revolver misfired on take 2",
                      weapons=[w.weapons["revolver"]], lots=[], reported_by=w.people["ad"])
    inc = incident_of(w, weapon="revolver")
    sup = w.people["supervisor"]
    ghost = a.add_person(w.ctx, name="Ghost Armorer", roles=["armorer"], badge="B-GHOST",
                         pin="1234", qualification_expires="2030-01-01",
                         actor=sup)[0].payload["person"]
    w.people["ghost"], w.pins["ghost"] = ghost, "1234"
    err = refused(w, "INCIDENT_CLOSE_NEEDS_ACTION", w.close, inc, armorer="ghost")
    assert "recorded by Lee Okafor" in str(err.details) + err.message
    # The same person cannot be both signers either (a supervisor who is also armorer).
    a.add_person(w.ctx, name="Both Hats", roles=["armorer", "safety_supervisor"],
                 badge="B-BOTH", pin="4321", qualification_expires="2030-01-01")
    both = w.state().badges["B-BOTH"]
    w.people["both"], w.pins["both"] = both, "4321"
    err = refused(w, "INCIDENT_CLOSE_NEEDS_ACTION", w.close, inc, armorer="both",
                  supervisor="both", primary=False)
    assert "must be two people" in repr(err.details) + repr(err)
    assert w.state().incidents[inc].open
    # Once the new armorer has set their own PIN, the two signatures are two people's.
    a.set_own_pin(w.ctx, person=ghost, pin="5678", current_pin="1234")
    w.pins["ghost"] = "5678"
    w.close(inc, armorer="ghost")
    assert not w.state().incidents[inc].open


def test_a_made_up_incident_or_a_non_signer_cannot_be_used_to_guess_a_pin(w: World) -> None:
    head = w.seq()
    w.pins["alex"] = "0000"
    for _ in range(6):
        assert refusal(w.close, "INC-DOESNOTEXIST", armorer="alex").code == "NOT_FOUND"
    assert w.events_since(head) == []
    a.report_incident(w.ctx, kind="other", description="Cart left unlocked",
                      weapons=[], lots=[], reported_by=w.people["ad"])
    inc, head = incident_of(w), w.seq()
    for _ in range(6):  # a performer named as the armorer: refused, recorded, no PIN asked
        assert refusal(w.close, inc, armorer="alex").code == "INCIDENT_CLOSE_NEEDS_ACTION"
    assert {e.type for e in w.events_since(head)} == {"action.refused"}
    assert not w.state().people[w.people["alex"]].pin_failures


def test_closing_an_incident_needs_both_signers_pins(w: World) -> None:
    a.report_incident(w.ctx, kind="other", description="Cart left unlocked",
                      weapons=[], lots=[], reported_by=w.people["ad"])
    inc = incident_of(w)
    w.pins["supervisor"] = "0000"
    assert refusal(w.close, inc).code == "PIN_INVALID"
    assert w.state().incidents[inc].open


# ---------------------------------------------------------------- COMPLAINT_ACKNOWLEDGE


def complain(w: World, by: str = "chris") -> str:
    ev = a.file_complaint(w.ctx, by=w.people[by], text="Blank smoke drifts into video village")
    return str(ev[0].payload["complaint"])


@covers("COMPLAINT_ACKNOWLEDGE", "refused")
@covers("COMPLAINT_ACKNOWLEDGE", "overridden")
def test_a_complaint_unacknowledged_for_a_day_stops_firearm_issues_unless_overridden(
        w: World, clock: Any) -> None:
    c = complain(w)
    clock.t += timedelta(hours=25)
    w.ready("revolver", "alex", scene="cold")
    soft_cycle(w, "COMPLAINT_ACKNOWLEDGE", lambda: w.issue("revolver", "alex", "cold"),
               records=("weapon.handoff_refused",))
    # The override does not acknowledge the complaint: it stays on the board.
    assert ("COMPLAINT_ACKNOWLEDGE", f"complaint:{c}") in {
        (x["code"], x["subject"]) for x in status(w.ctx)["alerts"]}


@covers("COMPLAINT_ACKNOWLEDGE", "allowed")
def test_a_fresh_complaint_does_not_block_but_shows_on_the_board(w: World) -> None:
    c = complain(w)
    assert f"complaint:{c}" in {x["subject"] for x in status(w.ctx)["alerts"]}
    w.ready("revolver", "alex", scene="cold")
    allowed(w, "COMPLAINT_ACKNOWLEDGE", w.issue, "revolver", "alex", "cold")


@covers("COMPLAINT_ACKNOWLEDGE", "allowed")
def test_an_acknowledged_complaint_no_longer_blocks(w: World, clock: Any) -> None:
    c = complain(w)
    clock.t += timedelta(hours=30)
    a.acknowledge_complaint(w.ctx, complaint=c, by=w.people["producer"],
                            response="Monitors moved upwind")
    assert f"complaint:{c}" not in {x["subject"] for x in status(w.ctx)["alerts"]}
    w.ready("revolver", "alex", scene="cold")
    allowed(w, "COMPLAINT_ACKNOWLEDGE", w.issue, "revolver", "alex", "cold")


def test_only_the_safety_supervisor_or_producer_acknowledges_a_complaint(w: World) -> None:
    c = complain(w)
    assert refusal(a.acknowledge_complaint, w.ctx, complaint=c, by=w.people["ad"],
                   response="noted").code == "ROLE_REQUIRED"


# ---------------------------------------------------------------- WRAP_RECONCILE


def wrap(w: World, counts: dict[str, int] | None = None) -> list[Event]:
    st = w.state()
    if counts is None:
        counts = {lid: lot.on_hand for lid, lot in st.lots.items()}
    return a.wrap(w.ctx, armorer=w.people["armorer"], counts=counts)


@covers("WRAP_RECONCILE", "refused")
def test_the_day_does_not_wrap_with_a_weapon_out_of_storage(w: World) -> None:
    w.give("pistol", "rita", "hot", content="blank", n=6, lot="blanks9")
    err = refused(w, "WRAP_RECONCILE", wrap, w)
    subjects = {v.subject for v in err.violations}  # type: ignore[attr-defined]
    assert {f"weapon:{w.weapons['pistol']}", f"lot:{w.lots['blanks9']}"} <= subjects
    assert w.state().current_day == w.day


@covers("WRAP_RECONCILE", "refused")
def test_a_count_that_differs_from_the_record_opens_an_incident(w: World) -> None:
    lot = w.lots["blanks45"]
    err = refused(w, "WRAP_RECONCILE", wrap, w, {lot: 49},
                  records=("action.refused", "incident.opened"), changes=True)
    assert subject_of(err, "WRAP_RECONCILE") == f"lot:{lot}"
    st = w.state()
    (inc,) = [i for i in st.incidents.values() if i.kind == "count_discrepancy"]
    assert inc.lots == [lot] and inc.open
    # The only change to any lot: the counted one is now quarantined by the incident.
    assert st.lots[lot].quarantined_by == [inc.id]
    assert st.lots[lot].on_hand == 50


@covers("WRAP_RECONCILE", "refused")
def test_a_count_difference_in_a_dummy_lot_also_voids_its_verification(w: World) -> None:
    lot = w.lots["dummies"]
    refused(w, "WRAP_RECONCILE", wrap, w, {lot: 49},
            records=("action.refused", "incident.opened", "ammo.verification_voided"),
            changes=True)
    x = w.state().lots[lot]
    assert x.quarantined and (x.verified_in_stock, x.on_hand) == (0, 50)


@covers("WRAP_RECONCILE", "allowed")
def test_the_day_wraps_when_everything_is_stored_and_counted(w: World) -> None:
    w.give("pistol", "rita", "hot", content="blank", n=6, lot="blanks9")
    w.take_back("pistol", "rita", fired=4, lost=1)
    w.put_away("pistol")
    ev = allowed(w, "WRAP_RECONCILE", wrap, w)
    assert ev[0].type == "day.wrapped"
    assert ev[0].payload["lots"][w.lots["blanks9"]]["on_hand"] == 95
    st = w.state()
    assert st.current_day is None and not st.days[w.day].open


# ---------------------------------------------------------------- PEOPLE_TRAINING_REQUIRED


@covers("PEOPLE_TRAINING_REQUIRED", "refused")
def test_a_performer_without_the_safety_briefing_is_not_issued_a_firearm(w: World) -> None:
    w.ready("revolver", "newbie", scene="cold")
    err = refused(w, "PEOPLE_TRAINING_REQUIRED", w.issue, "revolver", "newbie", "cold",
                  records=("weapon.handoff_refused",))
    assert subject_of(err, "PEOPLE_TRAINING_REQUIRED") == f"person:{w.people['newbie']}"


@covers("PEOPLE_TRAINING_REQUIRED", "allowed")
def test_a_briefed_performer_is_issued_a_firearm(w: World) -> None:
    a.brief(w.ctx, person=w.people["newbie"], briefed_by=w.people["armorer"],
            topic="Weapons safety briefing")
    w.ready("revolver", "newbie", scene="cold")
    allowed(w, "PEOPLE_TRAINING_REQUIRED", w.issue, "revolver", "newbie", "cold")


@covers("PEOPLE_TRAINING_REQUIRED", "allowed")
def test_a_performer_without_the_briefing_may_hold_a_replica(w: World) -> None:
    w.inspect("replica")
    allowed(w, "PEOPLE_TRAINING_REQUIRED", w.issue, "replica", "newbie", "cold")


def test_only_an_armorer_or_the_safety_supervisor_gives_the_briefing(w: World) -> None:
    assert refusal(a.brief, w.ctx, person=w.people["newbie"], briefed_by=w.people["ad"],
                   topic="quick chat").code == "ROLE_REQUIRED"
    assert not w.state().people[w.people["newbie"]].briefed


# ---------------------------------------------------------------- PEOPLE_ROLE_CONFLICT


@covers("PEOPLE_ROLE_CONFLICT", "refused")
@covers("PEOPLE_ROLE_CONFLICT", "overridden")
def test_an_armorer_who_is_also_props_acts_only_after_the_supervisor_acknowledges(
        w: World) -> None:
    pid = w.people["props_armorer"]
    assert w.state().people[pid].role_conflicts == ["armorer_other_department"]
    soft_cycle(w, "PEOPLE_ROLE_CONFLICT", lambda: w.inspect("revolver", armorer="props_armorer"))
    assert f"person:{pid}" not in {x["subject"] for x in status(w.ctx)["alerts"]}


@covers("PEOPLE_ROLE_CONFLICT", "allowed")
def test_an_armorer_of_the_armory_department_has_no_conflict(w: World) -> None:
    assert w.state().people[w.people["armorer"]].role_conflicts == []
    allowed(w, "PEOPLE_ROLE_CONFLICT", w.inspect, "revolver", armorer="armorer")


def add_ad_supervisor(w: World) -> str:
    ev = a.add_person(w.ctx, name="Dale Reese", roles=["first_ad", "safety_supervisor"],
                      badge="B-DR", pin="1470")
    assert [e.type for e in ev] == ["person.added", "person.pin_set",
                                    "person.role_conflict_flagged"]
    assert ev[2].payload["conflict"] == "first_ad_safety_supervisor"
    pid = str(ev[0].payload["person"])
    w.people["dale"], w.pins["dale"] = pid, "1470"
    return pid


def test_a_first_ad_who_is_also_safety_supervisor_is_flagged_until_acknowledged(
        w: World) -> None:
    pid = add_ad_supervisor(w)
    alert = [x for x in status(w.ctx)["alerts"] if x["subject"] == f"person:{pid}"]
    assert [x["code"] for x in alert] == ["PEOPLE_ROLE_CONFLICT"]
    w.override("PEOPLE_ROLE_CONFLICT", f"person:{pid}")
    assert f"person:{pid}" not in {x["subject"] for x in status(w.ctx)["alerts"]}


def test_nobody_acknowledges_their_own_role_conflict(w: World) -> None:
    pid = add_ad_supervisor(w)
    err = refused(w, "OVERRIDE_NOT_ALLOWED", w.override, "PEOPLE_ROLE_CONFLICT",
                  f"person:{pid}", by="dale")
    assert err.details["rule"] == "PEOPLE_ROLE_CONFLICT"
    assert f"person:{pid}" in {x["subject"] for x in status(w.ctx)["alerts"]}


# ---------------------------------------------------------------- overrides


@pytest.mark.parametrize("code", HARD)
def test_the_safety_supervisor_cannot_override_a_hard_rule(w: World, code: str) -> None:
    err = refused(w, "OVERRIDE_NOT_ALLOWED", w.override, code,
                  f"weapon:{w.weapons['revolver']}")
    assert err.details["rule"] == code
    assert w.state().overrides == {}


def test_an_override_names_a_real_rule_and_subject(w: World) -> None:
    assert refusal(w.override, "NO_SUCH_RULE", f"scene:{w.scenes['cold']}").code == \
        "INVALID_INPUT"
    assert refusal(w.override, "SCENE_REHEARSAL_REPLICA", "scene:SC999").code == \
        "INVALID_INPUT"
    assert refusal(w.override, "SCENE_REHEARSAL_REPLICA", f"scene:{w.scenes['cold']}",
                   reason="ok").code == "INVALID_INPUT"


def test_an_override_for_one_subject_does_not_bend_the_rule_for_another(w: World) -> None:
    w.plan("rehearsal2", rehearsal=True)
    w.hold_meeting(["rehearsal2"])
    w.override("SCENE_REHEARSAL_REPLICA", f"scene:{w.scenes['rehearsal']}")
    w.ready("revolver", "alex", scene="rehearsal2")
    assert refusal(w.issue, "revolver", "alex", "rehearsal2").code == "SCENE_REHEARSAL_REPLICA"


def test_an_override_lapses_when_the_day_wraps_but_a_role_conflict_acknowledgement_stands(
        w: World, clock: Any) -> None:
    c = complain(w)
    clock.t += timedelta(hours=25)
    w.override("COMPLAINT_ACKNOWLEDGE", f"complaint:{c}")
    w.override("PEOPLE_ROLE_CONFLICT", f"person:{w.people['props_armorer']}")
    w.give("revolver", "alex", "cold")
    w.take_back("revolver", "alex")
    w.put_away("revolver")
    wrap(w)
    a.open_day(w.ctx, date=clock().date().isoformat(), actor=w.people["ad"])
    w.plan("day2")
    w.hold_meeting(["day2"])
    w.ready("revolver", "alex", scene="day2", armorer="props_armorer")
    err = refusal(w.issue, "revolver", "alex", "day2", armorer="props_armorer")
    assert codes(err) == ["COMPLAINT_ACKNOWLEDGE"]


# ---------------------------------------------------------- CUSTODY_FUNCTION_CHECK_DUE


def cleaned_after_a_take(w: World) -> str:
    """The revolver fired six blanks in the hot take, came back and was cleaned
    by the armorer who holds it. Returns its id."""
    wid = w.weapons["revolver"]
    w.give("revolver", "alex", "hot", content="blank", n=6, lot="blanks45")
    w.take_back("revolver", "alex", fired=6)
    assert status(w.ctx)["due"]["cleaning"] == [
        {"weapon": wid, "serial": w.state().weapons[wid].serial, "fired": 6}]
    a.clean_weapon(w.ctx, weapon=wid, armorer=w.people["armorer"], notes="bore and cylinder")
    due = status(w.ctx)["due"]
    assert due["cleaning"] == [] and [x["weapon"] for x in due["function_check"]] == [wid]
    return wid


@covers("CUSTODY_FUNCTION_CHECK_DUE", "refused")
def test_a_weapon_cleaned_since_its_function_check_is_not_issued(w: World) -> None:
    wid = cleaned_after_a_take(w)
    w.ready("revolver", "alex", scene="cold")
    err = refused(w, "CUSTODY_FUNCTION_CHECK_DUE", w.issue, "revolver", "alex", "cold",
                  records=("weapon.handoff_refused",))
    assert "was cleaned since its last function check" in str(err)
    assert w.state().weapons[wid].state == "inspected"


@covers("CUSTODY_FUNCTION_CHECK_DUE", "allowed")
def test_a_function_check_after_cleaning_lets_the_weapon_be_issued(w: World) -> None:
    wid = cleaned_after_a_take(w)
    # Not while it is loaded for a scene: the check is done unloaded, with the armorer.
    ins = w.inspect("revolver", scene="cold")
    err = refusal(a.function_check, w.ctx, weapon=wid, armorer=w.people["armorer"])
    assert err.code == "WEAPON_INVALID_TRANSITION"
    w.put_away("revolver")
    a.function_check(w.ctx, weapon=wid, armorer=w.people["armorer"])
    assert status(w.ctx)["due"]["function_check"] == []
    ins = w.ready("revolver", "alex", scene="cold")
    ev = allowed(w, "CUSTODY_FUNCTION_CHECK_DUE", w.issue, "revolver", "alex", "cold")
    assert ev[0].type == "weapon.issued" and ev[0].payload["inspection"] == ins


# ---------------------------------------------------------- CUSTODY_WEAPON_GROUNDED


def ground(w: World, weapon: str, *, armorer: str = "armorer", supervisor: str = "supervisor",
           armorer_pin: str | None = None, supervisor_pin: str | None = None) -> list[Event]:
    return a.ground_weapon(w.ctx, weapon=w.weapons[weapon], reason="Cylinder does not lock "
                           "on chamber 4 at the function check", armorer=w.people[armorer],
                           armorer_pin=armorer_pin or w.pins[armorer],
                           supervisor=w.people[supervisor],
                           supervisor_pin=supervisor_pin or w.pins[supervisor])


@covers("CUSTODY_WEAPON_GROUNDED", "refused")
def test_grounding_needs_the_armorer_and_the_safety_supervisor(w: World) -> None:
    # The 1st AD is no safety supervisor: refused and recorded, no PIN asked.
    refused(w, "CUSTODY_WEAPON_GROUNDED", ground, w, "revolver", supervisor="ad")
    # A wrong supervisor PIN: PIN_INVALID, recorded as a failed PIN.
    seq = w.seq()
    err = refusal(ground, w, "revolver", supervisor_pin="0000")
    assert err.code == "PIN_INVALID" and w.types_since(seq) == ["person.pin_failed"]
    assert w.state().weapons[w.weapons["revolver"]].state == "in_storage"


@covers("CUSTODY_WEAPON_GROUNDED", "refused")
def test_a_grounded_weapon_is_neither_inspected_nor_issued_until_repaired(w: World) -> None:
    wid = w.weapons["revolver"]
    ev = allowed(w, "CUSTODY_WEAPON_GROUNDED", ground, w, "revolver")
    assert [e.type for e in ev] == ["weapon.grounded"]
    assert ev[0].payload["supervisor"] == w.people["supervisor"]
    assert w.state().weapons[wid].state == "grounded"
    assert [x["weapon"] for x in status(w.ctx)["due"]["grounded"]] == [wid]
    refused(w, "CUSTODY_WEAPON_GROUNDED", w.inspect, "revolver", scene="cold")
    refused(w, "CUSTODY_WEAPON_GROUNDED", w.issue, "revolver", "alex", "cold",
            records=("weapon.handoff_refused",))


@covers("CUSTODY_WEAPON_GROUNDED", "allowed")
def test_a_recorded_repair_returns_a_grounded_weapon_after_a_function_check(
        w: World) -> None:
    wid = w.weapons["revolver"]
    ground(w, "revolver")
    # An incident while it is grounded freezes it; closing the incident leaves it grounded.
    inc = a.report_incident(w.ctx, kind="other", description="Dropped from the cart",
                            weapons=[wid], lots=[], reported_by=w.people["armorer"])
    w.close(inc[0].payload["incident"])
    assert w.state().weapons[wid].state == "grounded"
    a.repair_weapon(w.ctx, weapon=wid, armorer=w.people["armorer"],
                    repair="Cylinder hand replaced by the rental house")
    st = w.state()
    assert st.weapons[wid].state == "in_storage" and wid not in st.grounded
    w.ready("revolver", "alex", scene="cold")
    refused(w, "CUSTODY_FUNCTION_CHECK_DUE", w.issue, "revolver", "alex", "cold",
            records=("weapon.handoff_refused",))
    w.put_away("revolver")
    a.function_check(w.ctx, weapon=wid, armorer=w.people["armorer"])
    w.ready("revolver", "alex", scene="cold")
    ev = allowed(w, "CUSTODY_WEAPON_GROUNDED", w.issue, "revolver", "alex", "cold")
    assert ev[0].type == "weapon.issued"


# ---------------------------------------------------------------- rentals


def _rented(w: World, key: str) -> tuple[str, str]:
    from coldcheck.services import rental
    v = str(rental.add_vendor(w.ctx, name="Stembridge Gun Rentals", kind="rental_house",
                              contact="Burbank counter",
                              actor=w.people["armorer"])[0].payload["vendor"])
    wid = w.weapons[key]
    rental.record_owner(w.ctx, item=f"weapon:{wid}", vendor=v, agreement="SGR-2026-118",
                        due_back="2026-12-20", actor=w.people["armorer"])
    return v, wid


@covers("RENTAL_RETURN_HELD", "refused")
def test_a_rented_weapon_out_with_a_performer_cannot_go_back_to_the_vendor(w: World) -> None:
    from coldcheck.services import rental
    v, wid = _rented(w, "revolver")
    w.give("revolver", "alex", "cold")
    err = refused(w, "RENTAL_RETURN_HELD", rental.return_to_vendor, w.ctx, vendor=v,
                  armorer=w.people["armorer"], pin=w.pins["armorer"], conditions={wid: "good"})
    assert "out with" in str(err)


@covers("RENTAL_RETURN_HELD", "allowed")
def test_a_stored_rented_weapon_goes_back_to_the_vendor(w: World) -> None:
    from coldcheck.services import rental
    v, wid = _rented(w, "revolver")
    ev = allowed(w, "RENTAL_RETURN_HELD", rental.return_to_vendor, w.ctx, vendor=v,
                 armorer=w.people["armorer"], pin=w.pins["armorer"], conditions={wid: "good"})
    assert [e.type for e in ev] == ["vendor.returned", "weapon.retired"]


# ---------------------------------------------------------------- the catalogue


def test_every_rule_in_the_catalogue_has_an_allowed_and_a_refused_test() -> None:
    missing = [(code, kind) for code in RULES for kind in ("allowed", "refused")
               if not REGISTRY[code][kind]]
    missing += [(code, "overridden") for code in SOFT if not REGISTRY[code]["overridden"]]
    assert not missing, f"rules without tests: {missing}"
    assert len(RULES) == 28
    assert sorted(["CUSTODY_OVERDUE", "SCENE_BLANK_DISTANCE", "SCENE_REHEARSAL_REPLICA",
                           "COMPLAINT_ACKNOWLEDGE", "PEOPLE_ROLE_CONFLICT"]) == SOFT


def test_every_registered_rule_test_exists_in_this_module() -> None:
    names = {n for n, v in globals().items() if n.startswith("test_") and callable(v)}
    registered = {t for kinds in REGISTRY.values() for tests in kinds.values() for t in tests}
    assert registered <= names


def test_blanks_cannot_be_loaded_without_naming_the_scene_they_are_for(w: World) -> None:
    before = w.state().lots[w.lots["blanks9"]].loaded
    with pytest.raises(ColdcheckError) as e:
        w.inspect("pistol", content="blank", n=10, lot="blanks9")
    assert e.value.code == "INVALID_INPUT"
    assert w.state().lots[w.lots["blanks9"]].loaded == before
