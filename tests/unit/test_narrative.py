from __future__ import annotations

from coldcheck.domain.events import EVENT_TYPES
from coldcheck.domain.narrative import TEMPLATES, describe


def test_every_event_type_has_a_sentence_and_no_sentence_is_orphaned() -> None:
    assert set(TEMPLATES) == set(EVENT_TYPES)


def test_a_refused_handoff_reads_as_a_sentence_naming_people_and_the_rule() -> None:
    names = {"P3": "Dana Whitfield (P3)", "P6": "Alex Stone (P6)"}
    text = describe("weapon.handoff_refused",
                    {"weapon": "W1", "action": "handoff", "from": "P3", "to": "P6",
                     "codes": ["CUSTODY_DIRECT_HANDOFF"], "messages": ["…"]},
                    lambda i: names.get(i or "", str(i)))
    assert text == ("REFUSED handoff of W1 from Dana Whitfield (P3) to Alex Stone (P6): "
                    "CUSTODY_DIRECT_HANDOFF")
