"""Plain English for paper and for the incident page: role names as a set says
them ("a 1st AD", "the safety supervisor"), kinds of rounds as people count them
("dummies"), incident kinds as a headline a person reads. Stable codes (rule
codes, event types, ids) are never turned into words here: pages print them
small beside the sentence they belong to.

Recorded text (a refusal's messages, kept in the ledger as written) is shown
with its role codes read out (``first_ad`` -> ``1st AD``); the ledger itself is
never changed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

ROLE_WORDS = {"armorer": "armorer", "assistant_armorer": "assistant armorer",
              "prop_master": "prop master", "first_ad": "1st AD", "performer": "performer",
              "safety_supervisor": "safety supervisor", "producer": "producer",
              "investigator": "investigator", "assistant_prop_master": "assistant prop master",
              "stand_in": "stand-in"}
ROUND_WORDS = {"dummy": "dummies", "blank": "blanks", "live": "live rounds",
               "evidence": "evidence rounds"}
INCIDENT_WORDS = {"discharge": "Discharge", "misfire": "Misfire", "squib": "Squib load",
                  "live_ammunition": "Live ammunition found",
                  "failed_verification": "Dummy round failed its check",
                  "count_discrepancy": "Round count does not match",
                  "complaint": "Safety complaint", "other": "Other safety incident"}
ACTION_WORDS = {"weapon.inspect": "inspect", "weapon.issue": "issue", "weapon.return": "return",
                "weapon.store": "store", "day.meal_break": "call a meal break",
                "day.wrap": "wrap the day", "day.open": "open the day",
                "ammo.load": "load", "scene.plan": "plan a scene"}
_ROLE_RE = re.compile(r"\b(" + "|".join(sorted((r for r in ROLE_WORDS if "_" in r),
                                                key=len, reverse=True)) + r")\b")
_SUBJECT_RE = re.compile(r"^(weapon|lot|person|day|scene|incident):([A-Za-z0-9-]+)$")


def role_words(role: str) -> str:
    """``first_ad`` -> ``1st AD``; an unknown role keeps its text, with spaces."""
    return ROLE_WORDS.get(role, role.replace("_", " "))


def roles_words(roles: Iterable[str]) -> str:
    return ", ".join(role_words(r) for r in roles)


def plain_roles(text: str) -> str:
    """Recorded text with the role codes in it read out: "Dana Whitfield (first_ad)
    cannot hand…" -> "Dana Whitfield (1st AD) cannot hand…"."""
    return _ROLE_RE.sub(lambda m: ROLE_WORDS[m.group(1)], text)


def round_words(kind: str) -> str:
    return ROUND_WORDS.get(kind, kind.replace("_", " "))


def incident_words(kind: str) -> str:
    """An incident's kind as a headline: ``live_ammunition`` -> "Live ammunition found"."""
    return INCIDENT_WORDS.get(kind, kind.replace("_", " ").capitalize())


def attempt_words(action: str, subject: str) -> str:
    """A refused action as words: ``weapon.inspect`` on ``weapon:W3`` -> "inspect W3"."""
    verb = ACTION_WORDS.get(action, action.rpartition(".")[2].replace("_", " "))
    m = _SUBJECT_RE.match(subject or "")
    what = m.group(2) if m else (subject or "")
    return f"{verb} {what}".strip()


KIND_CODE_WORDS = {"blank_only": "blank-firing", "non_firing_replica": "non-firing replica"}
_KIND_RE = re.compile(r"\b(" + "|".join(KIND_CODE_WORDS) + r")\b")
_COUNT_RE = re.compile(r"\b(\d+) (dummy|blank|live)(?= from )")
REFUSAL_TYPES = frozenset({"action.refused", "weapon.handoff_refused", "ammo.intake_refused"})


def plain_words(text: str) -> str:
    """A recorded sentence with role codes read out and rounds counted as people
    count them: "6 dummy from L1" -> "6 dummies from L1"."""
    def count(m: re.Match[str]) -> str:
        n, kind = m.group(1), m.group(2)
        if n == "1":  # "1 dummy", "1 live round"
            return f"1 {kind} round" if kind == "live" else f"1 {kind}"
        return f"{n} {round_words(kind)}"

    text = _KIND_RE.sub(lambda m: KIND_CODE_WORDS[m.group(1)], plain_roles(text))
    return _COUNT_RE.sub(count, text)


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    """A timeline item (``type``, ``payload``, ``text``, ``actor_name``) as the
    incident page shows it: a sentence in plain words and, apart, the rule codes
    it carries (printed small beside the sentence, never in it)."""
    p: dict[str, Any] = item.get("payload") or {}
    codes = [str(c) for c in p.get("codes") or []]
    if item.get("type") in REFUSAL_TYPES:
        reasons = "; ".join(plain_roles(str(m)) for m in p.get("messages") or [])
        if item["type"] == "action.refused":
            what = f"{item.get('actor_name', 'Someone')} could not " \
                   f"{attempt_words(str(p.get('action')), str(p.get('subject')))}"
        else:
            what = re.sub(r":\s*[A-Z0-9_, ]+(?: \(about [^)]*\))?(;|$)", r"\1",
                          str(item.get("text", "")))
            what = what.replace("REFUSED ", "Refused: ", 1)
        text = f"{what}: {reasons}" if reasons else what
    else:
        text = str(item.get("text", ""))
        if item.get("type") == "incident.opened":
            # "Incident opened: Misfire. Rifle failed…", not "Misfire reported:"
            # (a headline such as "Live ammunition found" takes no verb after it).
            text = f"Incident opened: {incident_words(str(p.get('kind')))}. " \
                   f"{p.get('description')}"
            codes = [str(p["rule"])] if p.get("rule") else []
    return {**item, "text": plain_words(text), "codes": codes}
