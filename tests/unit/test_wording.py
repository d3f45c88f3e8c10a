"""Plain English for paper and the incident page (documents/wording.py): role
codes read as people say them, rounds counted as people count them, refusals as
sentences with their codes kept apart."""

from __future__ import annotations

from coldcheck.documents.wording import (
    attempt_words,
    incident_words,
    plain_item,
    plain_roles,
    plain_words,
    role_words,
    roles_words,
)
from coldcheck.domain.incidents import INCIDENT_KINDS
from coldcheck.domain.people import ROLES


def test_every_role_and_incident_kind_has_words_without_underscores() -> None:
    for role in ROLES:
        assert "_" not in role_words(role)
    for kind in INCIDENT_KINDS:
        assert "_" not in incident_words(kind) and incident_words(kind)[0].isupper()
    assert role_words("first_ad") == "1st AD"
    assert roles_words(["first_ad", "safety_supervisor"]) == "1st AD, safety supervisor"


def test_recorded_text_reads_roles_and_counts_as_words() -> None:
    assert plain_roles("Dana Whitfield (first_ad) cannot hand it; by armorer and first_ad") \
        == "Dana Whitfield (1st AD) cannot hand it; by armorer and 1st AD"
    assert plain_words("inspected W1 (IN2): 6 dummy from L1") == \
        "inspected W1 (IN2): 6 dummies from L1"
    assert plain_words("1 dummy from L1; 10 blank from L2") == "1 dummy from L1; 10 blanks from L2"
    assert plain_words("1 live from L9; 2 live from L9") == \
        "1 live round from L9; 2 live rounds from L9"
    assert plain_words("(blank_only, 9mm PAK)") == "(blank-firing, 9mm PAK)"
    assert plain_words("a dummy lot, first_address") == "a dummy lot, first_address"
    assert attempt_words("day.meal_break", "day:D1") == "call a meal break D1"


def test_a_refusal_is_a_sentence_and_its_codes_stand_apart() -> None:
    item = {"type": "action.refused", "actor_name": "Sam Reyes",
            "text": "REFUSED weapon.inspect (weapon:W3): CUSTODY_WEAPON_FROZEN",
            "payload": {"action": "weapon.inspect", "subject": "weapon:W3",
                        "codes": ["CUSTODY_WEAPON_FROZEN"],
                        "messages": ["weapon W3 is frozen by incident(s) INC2"]}}
    got = plain_item(item)
    assert got["text"] == "Sam Reyes could not inspect W3: weapon W3 is frozen by incident(s) INC2"
    assert got["codes"] == ["CUSTODY_WEAPON_FROZEN"]
    handoff = plain_item({"type": "weapon.handoff_refused", "actor_name": "Alex Stone",
                          "text": "REFUSED handoff of W4 from Alex Stone (P6) to Dana "
                                  "Whitfield (P3): CUSTODY_DIRECT_HANDOFF",
                          "payload": {"codes": ["CUSTODY_DIRECT_HANDOFF"],
                                      "messages": ["Dana Whitfield (first_ad) may not"]}})
    assert handoff["text"] == ("Refused: handoff of W4 from Alex Stone (P6) to Dana Whitfield "
                               "(P3): Dana Whitfield (1st AD) may not")
    opened = plain_item({"type": "incident.opened", "text": "INCIDENT INC2 (misfire): x",
                         "payload": {"kind": "misfire", "description": "Rifle failed",
                                     "rule": "INCIDENT_DISCHARGE"}})
    assert opened["text"] == "Incident opened: Misfire. Rifle failed"
    assert opened["codes"] == ["INCIDENT_DISCHARGE"]
    other = plain_item({"type": "weapon.stored", "text": "Sam locked W1 in ST1", "payload": {}})
    assert other == {"type": "weapon.stored", "text": "Sam locked W1 in ST1", "payload": {},
                     "codes": []}
