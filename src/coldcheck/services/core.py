"""Running a decision: one transaction, refusals recorded, checkpoints signed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from ..domain.errors import ColdcheckError, InvalidInput, Locked, NotFound
from ..domain.events import Event, NewEvent, parse_utc, utc_text
from ..domain.people import PIN_LOCK_MINUTES, PIN_MAX_FAILURES
from ..domain.state import ProductionState
from ..persistence.group import committer
from ..security import OneAtATime, verify
from .context import Context

log = logging.getLogger("coldcheck")
PIN_CHECKS = OneAtATime()  # per (database, production, person)
Decide = Callable[[ProductionState], list[NewEvent]]
CHECKPOINT_TRIGGERS = {"day.wrapped": "wrap", "incident.opened": "incident"}


def execute(ctx: Context, decide: Decide, *, actor: str, at: datetime) -> list[Event]:
    """Decide against the current state and append the result atomically. A
    refusal that carries events to record (the attempt, an incident) is committed
    in the same transaction, then raised. Concurrent callers on one production
    share a transaction (group commit); each returns only once its events are
    committed."""
    out = committer(ctx.store, ctx.production).submit(decide, actor=actor,
                                                       device=ctx.device, at=at)
    after_commit(ctx, out.events, at)
    if out.refusal is not None:
        out.refusal.details["recorded"] = [e.seq for e in out.events]
        raise out.refusal
    return out.events


def after_commit(ctx: Context, events: list[Event], at: datetime) -> None:
    reasons = {CHECKPOINT_TRIGGERS[e.type] for e in events if e.type in CHECKPOINT_TRIGGERS}
    if reasons:
        from .ledger import sign_checkpoint

        try:
            sign_checkpoint(ctx, reason=sorted(reasons)[0], at=at)
        except ColdcheckError as err:
            # The action is committed and acknowledged; the checkpoint can be signed
            # later (`coldcheck ledger checkpoint`) and covers these entries then.
            log.warning("checkpoint not signed after %s: %s", sorted(reasons)[0], err)
        except Exception as exc:
            # Nor does a fault of the machine (a full disk, an unreadable key
            # folder) or anything else turn a recorded action into a failure.
            from .faults import fault_of

            found = fault_of(exc, key_folder=isinstance(exc, OSError))
            if found is None:
                log.error("checkpoint not signed after %s", sorted(reasons)[0], exc_info=exc)
            else:
                log.warning("checkpoint not signed after %s: %s", sorted(reasons)[0], found)


def check_pin(ctx: Context, *, person: str, pin: str | None, action: str,
              at: datetime) -> str | None:
    """A witness or signer proves presence with their own PIN. Wrong PINs are
    recorded; PIN_MAX_FAILURES of them lock the PIN for PIN_LOCK_MINUTES.

    Returns who had recorded the PIN that was checked (``Person.pin_set_by``):
    the decision that follows, in its own transaction, passes it to the domain
    (``same_pins``), which refuses if the PIN was set again in between (the
    check ran on a PIN the decision no longer sees)."""
    # One check at a time per person: the lock test below must see the failure
    # the previous guess recorded, or parallel guesses all pass it.
    with PIN_CHECKS.hold((ctx.store.url, ctx.production, person)):
        return _check_pin(ctx, person=person, pin=pin, action=action, at=at)


def _check_pin(ctx: Context, *, person: str, pin: str | None, action: str,
               at: datetime) -> str | None:
    # One statement: the person's row (name, lock) and their PIN hash together.
    row, pin_hash = ctx.store.person_with_pin_hash(ctx.production, person)
    if row is None:
        raise NotFound("person", person)
    name, locked = row["name"], row["pin_locked_until"]
    if locked and at < parse_utc(locked):
        raise Locked("PIN_LOCKED", f"{name}'s PIN is locked until {locked} after "
                     f"{PIN_MAX_FAILURES} wrong entries", person=person, until=locked)
    if pin is None or pin == "":
        raise InvalidInput("PIN_INVALID", f"{name} ({person}) must enter their PIN",
                           person=person)
    # argon2 runs outside any transaction: a slow hash never holds the write lock.
    if verify(ctx.ph, pin_hash, pin):
        by = row.get("pin_set_by")
        return None if by is None else str(by)

    def record(s: ProductionState) -> list[NewEvent]:
        q = s.person(person)
        # Wrong PINs count towards a lock only within the lock window: five typos
        # spread over weeks must not lock a performer out mid-scene.
        recent = q.pin_failed_at is not None and \
            parse_utc(q.pin_failed_at) + timedelta(minutes=PIN_LOCK_MINUTES) > at
        failures = (q.pin_failures if recent else 0) + 1
        out = [NewEvent("person.pin_failed", {"person": q.id, "failures": failures,
                                              "action": action})]
        if failures >= PIN_MAX_FAILURES:
            until = utc_text(at + timedelta(minutes=PIN_LOCK_MINUTES))
            out.append(NewEvent("person.pin_locked", {"person": q.id, "until": until}))
        return out

    events = execute(ctx, record, actor=person, at=at)
    # checked=True: a PIN was verified and was wrong (rate limits count these).
    if any(e.type == "person.pin_locked" for e in events):
        raise Locked("PIN_LOCKED", f"wrong PIN for {name}; the PIN is now locked for "
                     f"{PIN_LOCK_MINUTES} minutes", person=person, checked=True)
    raise InvalidInput("PIN_INVALID", f"wrong PIN for {name} ({person})", person=person,
                       checked=True)
