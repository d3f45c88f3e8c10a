"""Small helpers shared by the decision modules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from . import bounds, rules
from .bounds import Bound
from .errors import InvalidInput, RuleViolation, Violation
from .events import NewEvent
from .state import ProductionState


def ev(type_: str, **payload: Any) -> NewEvent:
    return NewEvent(type_, payload)


def refuse_or_pass(s: ProductionState, violations: Iterable[Violation], *,
                   record: list[NewEvent] | None = None,
                   refusal: tuple[str, dict[str, Any]] | None = None) -> list[str]:
    """Apply the rule engine. If the action is refused, attach the events that
    record the attempt (``refusal`` names the refusal event type and its fixed
    payload; codes and messages are filled in). Returns the ids of the soft rules
    that were bent by a standing override."""
    try:
        bent = rules.enforce(s, violations)
    except RuleViolation as err:
        recs = list(record or [])
        if refusal is not None:
            type_, payload = refusal
            recs.insert(0, NewEvent(type_, dict(
                payload, codes=[v.code for v in err.violations],
                messages=[v.message for v in err.violations],
                subjects=violation_subjects(err.violations))))
        err.record = recs
        raise
    return [f"{v.code}@{v.subject}" for v in bent]


def violation_subjects(violations: Iterable[Violation]) -> list[str]:
    """Every subject the violations name (``lot:L1``, ``scene:SC1``, ``person:P1``),
    once each, in the order of the codes: recorded with the refusal so that the
    attempt is on the timeline of each of them, not only of its own subject."""
    out: list[str] = []
    for v in violations:
        if ":" in v.subject and v.subject not in out:
            out.append(v.subject)
    return out


def refused_action(action: str, subject: str) -> tuple[str, dict[str, Any]]:
    return "action.refused", {"action": action, "subject": subject}


def text(value: str, what: str, *, bound: Bound = bounds.TEXT) -> str:
    """``value`` trimmed, refused unless its length is within ``bound``."""
    min_len, max_len = bound.low, bound.high
    v = (value or "").strip()
    if not min_len <= len(v) <= max_len:
        raise InvalidInput("INVALID_INPUT",
                           f"{what} must be {min_len} to {max_len} characters", field=what)
    if any("\ud800" <= ch <= "\udfff" for ch in v):
        # A lone surrogate (undecodable bytes a shell passed through) is no text:
        # it could not be written as UTF-8 into the record.
        raise InvalidInput("INVALID_INPUT", f"{what} holds bytes that are not valid text "
                           "(UTF-8)", field=what)
    return v


def count(value: int, what: str, *, bound: Bound = bounds.ROUNDS, low: int | None = None,
          high: int | None = None) -> int:
    """``value``, refused unless a whole number within ``bound``; ``low`` or ``high``
    narrow it where the production's state sets the limit (rounds loaded, on hand)."""
    low = bound.low if low is None else low
    high = bound.high if high is None else high
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput("INVALID_INPUT", f"{what} must be a whole number from {low} to "
                           f"{high}, not {value!r}", field=what)
    return value


def iso_date(value: str, what: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise InvalidInput("INVALID_INPUT", f"{what} must be a date like 2026-11-24, "
                           f"not {value!r}", field=what) from None


def same_calibre(a: str, b: str) -> bool:
    def norm(x: str) -> str:
        return x.strip().casefold().replace(" ", "").lstrip(".")
    return norm(a) == norm(b)


def open_day(s: ProductionState) -> str:
    if s.current_day is None:
        raise InvalidInput("DAY_NOT_OPEN", "no shooting day is open: run `coldcheck day open`")
    return s.current_day


def aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise InvalidInput("INVALID_INPUT", "times must carry a timezone")
    return at


def same_pins(s: ProductionState, checked: Mapping[str, str | None] | None) -> None:
    """The PINs the service checked, outside the transaction, are still the ones
    in force: ``checked`` maps each person to who had recorded the PIN that was
    verified. A PIN set again in between (its recorder is what the rules on
    independent confirmations look at) is PIN_INVALID: enter the new one.
    None: not known (a projection row written before coldcheck kept the
    recorder, until ``coldcheck rebuild``); nothing to compare."""
    for pid, by in (checked or {}).items():
        p = s.person(pid)
        if by is not None and p.pin_set_by != by:
            raise InvalidInput("PIN_INVALID", f"{p.name}'s PIN was set again while it was "
                               "being checked: enter the PIN now in force", person=pid)
