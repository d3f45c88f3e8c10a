"""A refused attempt is on the timeline of every subject its rules name (issue 19,
part 2), and what each rule records is what docs/rules.md says.

For every rule whose "On refusal" in docs/rules.md names a subject (`lot:<id>`,
`scene:<id>`, `person:<id>` …) a scenario below provokes that refusal through
the services; the recorded refusal must carry a subject of that kind (in
``subject`` or ``subjects``), the violation of that rule must name it, and the
timeline of that subject (by the index, as the CLI, API and web app read it)
must show the attempt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import Clock, World, build_world, refusal

from coldcheck.config import Settings
from coldcheck.domain.errors import ColdcheckError, RuleViolation
from coldcheck.persistence.store import Store
from coldcheck.services import actions as a
from coldcheck.services import queries as q

RULES_MD = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
TIMELINE_KINDS = {"weapon", "lot", "person", "scene", "day"}


def documented_subjects() -> dict[str, set[str]]:
    """Rule code -> the subject kinds its "On refusal" paragraph names."""
    text = RULES_MD.read_text()
    out: dict[str, set[str]] = {}
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        code = section.split("\n", 1)[0].strip()
        m = re.search(r"- \*\*On refusal\.\*\*(.*?)(?=\n- \*\*|\n### |\Z)", section, re.S)
        if not m:
            continue
        kinds = set(re.findall(r"subject(?:\s+is)?\s+`([a-z_]+):<id>`", m.group(1)))
        if kinds:
            out[code] = kinds
    return out


# ---- one refusal per rule -----------------------------------------------------

Scenario = Callable[[World], None]


def unverified_dummies(w: World) -> None:
    w.inspect("revolver", content="dummy", n=6, lot="dummies", scene="cold")


def quarantined_lot(w: World) -> None:
    a.report_incident(w.ctx, kind="other", description="A suspect round in the box.",
                      weapons=[], lots=[w.lots["dummies"]], reported_by=w.people["ad"])
    w.inspect("revolver", content="dummy", n=1, lot="dummies", scene="cold")


def wrong_calibre(w: World) -> None:
    w.inspect("pistol", content="dummy", n=1, lot="dummies", scene="cold")


def not_an_armorer(w: World) -> None:
    w.inspect("revolver", armorer="props")


def expired_armorer(w: World) -> None:
    w.inspect("revolver", armorer="expired")


def uncovered_class(w: World) -> None:
    a.add_credential(w.ctx, person=w.people["props"], type_="entertainment_firearms_permit",
                     issuer="California DOJ", number="EFP-1", classes=["handgun"],
                     expires="2031-01-31", actor=w.people["producer"])
    a.classify_weapon(w.ctx, weapon=w.weapons["revolver"], weapon_class="long_gun",
                      armorer=w.people["armorer"])
    w.inspect("revolver", armorer="props")


def stale_inspection(w: World) -> None:
    old = w.inspect("revolver")
    w.inspect("revolver")
    w.witness(old, "alex")


def blanks_for_a_cold_scene(w: World) -> None:
    w.inspect("revolver", content="blank", n=2, lot="blanks45", scene="cold")


def closing_without_action(w: World) -> None:
    ev = a.report_incident(w.ctx, kind="other", description="Muzzle swept the crew.",
                           weapons=[], lots=[], reported_by=w.people["ad"])
    w.close(str(ev[0].payload["incident"]), action="nothing")


def wrapping_with_a_weapon_out(w: World) -> None:
    w.give("replica", "alex", "cold")
    a.wrap(w.ctx, armorer=w.people["armorer"])


def role_conflict(w: World) -> None:
    w.inspect("revolver", armorer="props_armorer")


SCENARIOS: dict[str, Scenario] = {
    "AMMO_DUMMY_UNVERIFIED": unverified_dummies,
    "AMMO_LOT_QUARANTINED": quarantined_lot,
    "AMMO_CALIBRE_MISMATCH": wrong_calibre,
    "CUSTODY_ARMORER_ONLY": not_an_armorer,
    "CUSTODY_QUALIFICATION_EXPIRED": expired_armorer,
    "CUSTODY_CREDENTIAL_NOT_COVERED": uncovered_class,
    "CUSTODY_INSPECTION_REQUIRED": stale_inspection,
    "SCENE_BLANKS_NEED_HOT": blanks_for_a_cold_scene,
    "INCIDENT_CLOSE_NEEDS_ACTION": closing_without_action,
    "WRAP_RECONCILE": wrapping_with_a_weapon_out,
    "PEOPLE_ROLE_CONFLICT": role_conflict,
}


def test_every_rule_whose_refusal_names_a_subject_has_a_scenario() -> None:
    documented = documented_subjects()
    assert len(documented) >= 8, documented  # the parser still finds them
    assert set(documented) == set(SCENARIOS), (
        "docs/rules.md names a refusal subject for these rules; give each a scenario "
        f"here: {sorted(set(documented) ^ set(SCENARIOS))}")


@pytest.fixture
def world(settings: Settings) -> World:
    return build_world(Store(settings.database_url), settings, Clock(), verified_dummies=3)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_the_recorded_refusal_names_the_documented_subject(code: str, world: World) -> None:
    w, kinds = world, documented_subjects()[code]
    seq = w.seq()
    err = refusal(SCENARIOS[code], w)
    assert isinstance(err, RuleViolation), err
    violation = next((v for v in err.violations if v.code == code), None)
    assert violation is not None, (code, [v.code for v in err.violations])
    recorded = [e for e in w.events_since(seq)
                if e.type in ("action.refused", "weapon.handoff_refused")]
    assert recorded, w.types_since(seq)
    e = recorded[-1]
    assert code in e.payload["codes"]
    named = {e.payload.get("subject"), *e.payload["subjects"]}
    assert {x.partition(":")[0] for x in named if x} & kinds, (code, named, kinds)
    # Every violation's subject is recorded, in the order of the codes.
    want = [v.subject for v in err.violations if ":" in v.subject]
    assert e.payload["subjects"] == list(dict.fromkeys(want))
    # ... and the attempt is on the timeline of each subject a timeline can ask for.
    for subject in named:
        kind, _, ident = (subject or "").partition(":")
        if kind in TIMELINE_KINDS:
            seqs = [x["seq"] for x in q.timeline(w.ctx, **{kind: ident})]
            assert e.seq in seqs, (subject, e.type)


def test_the_issue_19_repro_unverified_dummies_are_on_the_lots_timeline(world: World) -> None:
    """coldcheck inspect W1 --all dummy --lot L1 … refused AMMO_DUMMY_UNVERIFIED:
    the attempt is recorded with lot:L1 and shows in `timeline --lot L1`."""
    w = world
    err = refusal(unverified_dummies, w)
    assert isinstance(err, ColdcheckError) and err.code == "AMMO_DUMMY_UNVERIFIED"
    e = w.events_since(w.seq() - 1)[0]
    lot = w.lots["dummies"]
    assert e.type == "action.refused" and e.payload["subject"] == f"weapon:{w.weapons['revolver']}"
    assert f"lot:{lot}" in e.payload["subjects"]
    assert e.seq in [x["seq"] for x in q.timeline(w.ctx, lot=lot)]
    assert e.seq in [x["seq"] for x in q.timeline_scan(w.ctx, lot=lot)]
    line = next(x for x in q.timeline(w.ctx, lot=lot) if x["seq"] == e.seq)
    assert f"(about lot:{lot})" in line["text"]


def test_a_refused_weapon_intake_records_the_serial_as_events_md_says(world: World) -> None:
    w = world
    seq = w.seq()
    refusal(a.receive_weapon, w.ctx, armorer=w.people["props"], serial="SN-404", make="Colt",
            model="SAA", calibre=".45 Colt", kind="firearm", chambers=6, magazine_capacity=0,
            storage=w.storage["safe"])
    e = w.events_since(seq)[-1]
    assert (e.type, e.payload["action"], e.payload["subject"]) == \
        ("action.refused", "weapon.receive", "serial:SN-404")
    events_md = (RULES_MD.parent / "events.md").read_text()
    assert "For `weapon.receive` it is `serial:<serial>`" in events_md
