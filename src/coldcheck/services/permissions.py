"""Who may ask for what: the role × action matrix, written once.

An account is a *member* of a production through one person; that person's
roles on the production are the account's roles there. Every production route
and page declares exactly one action from :data:`ACTIONS` (services/authorise.py
enforces it, in one place); an action not in the table is refused to everyone.
docs/permissions.md carries the same matrix as a table, and a test compares
the two.

The matrix decides who may *ask*. The domain rules still decide whether the
action is allowed on set (an armorer with an expired qualification may ask to
issue a weapon; CUSTODY_QUALIFICATION_EXPIRED refuses it and the refusal is
recorded). Incidents, complaints and notes are open to every role but the
investigator on purpose: anyone on set must be able to report a hazard.

The custody and safety actions (:data:`RULED`) are *rules*, not permissions:
every member may ask, and the rule engine refuses whoever may not do them
(CUSTODY_ARMORER_ONLY, CUSTODY_DIRECT_HANDOFF, …), recording the attempt with
the device and the person, exactly as from the CLI. Their row of the matrix
says who the rules let through, which is who the tablet offers the form to.

A non-member (or a bearer token scoped to another production) gets 404
NOT_FOUND for every route of the production, exactly as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.people import QUALIFICATION_RENEWERS, ROLES

ALL = frozenset(ROLES)
ON_SET = ALL - {"investigator"}
ARMORERS = frozenset({"armorer", "assistant_armorer"})
# Lawful handlers: the armorers, and property masters when a current credential
# covers the weapon (the rules check the credential: CUSTODY_CREDENTIAL_NOT_COVERED).
HANDLERS = ARMORERS | frozenset({"prop_master", "assistant_prop_master"})


def _r(*roles: str) -> frozenset[str]:
    unknown = set(roles) - ALL
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return frozenset(roles)


# The actions whose request carries someone's PIN: wrong PINs entered through
# them count against the caller's account (services/authorise.py, ``pin_limiter``).
PIN_ACTIONS = frozenset({"person.set_own_pin", "inspection.witness", "incident.close",
                         "weapon.ground", "receipt.sign", "vendor.return"})

# Actions a person may do on someone else's signed-in, registered tablet by
# badge + their own PIN ("acting by PIN", services/authorise.py ``act_as``):
# the matrix is read for the PIN holder's roles, not the session holder's. The
# custody actions keep their rules (only armorers inspect, issue, return, store);
# witnessing and closing an incident already take each signer's own PIN.
ACTING = frozenset({"day.open", "day.meal_break", "scene.plan", "scene.acknowledge_pointing",
                    "meeting.hold", "person.brief", "incident.report", "complaint.file",
                    "complaint.acknowledge", "rule.override", "note.add"})

ACTIONS: dict[str, frozenset[str]] = {
    # reading: the board, timelines, people, events and their live stream, the ledger
    "read": ALL,
    # the account's own bearer tokens and witness PIN
    "token.own": ALL,
    "person.set_own_pin": ON_SET,
    # people and the production's set-up
    "person.add": _r("producer", "safety_supervisor"),
    "person.brief": ARMORERS | _r("safety_supervisor"),
    "person.renew_qualification": _r(*QUALIFICATION_RENEWERS),  # the domain checks it too
    "person.credential": _r(*QUALIFICATION_RENEWERS),  # record or revoke a credential
    "member.manage": _r("producer"),
    "production.set_timezone": _r("producer"),  # the domain checks it too
    "production.set_webhook": _r("producer"),  # set or remove; the domain checks it too
    "device.manage": _r("armorer", "producer"),
    "storage.add": ARMORERS,
    # weapons and ammunition
    "weapon.receive": HANDLERS,
    "lot.receive": HANDLERS,
    "lot.verify": HANDLERS,
    "lot.destroy": HANDLERS,
    "weapon.inspect": HANDLERS,
    "inspection.witness": ARMORERS | _r("first_ad", "performer", "stand_in",
                                        "safety_supervisor"),
    "weapon.issue": HANDLERS,
    "weapon.return": HANDLERS,
    "weapon.handoff": ON_SET,
    "weapon.store": HANDLERS,
    "weapon.record_evidence": ARMORERS,
    "weapon.classify": ARMORERS,
    "weapon.dud": HANDLERS,
    "weapon.clean": HANDLERS,
    "weapon.function_check": HANDLERS,
    "weapon.ground": ARMORERS | _r("safety_supervisor"),
    "weapon.repair": HANDLERS,
    # where weapons come from and go back to: the vendors and the terms they rent
    # on are the producer's paperwork as much as the armorer's; deliveries, kits
    # and returns are custody (the rules let armorers through)
    "vendor.add": ARMORERS | _r("producer"),
    "owner.record": ARMORERS | _r("producer"),
    "receipt.open": ARMORERS,
    "receipt.check": ARMORERS,
    "receipt.sign": ARMORERS,
    "accessory.add": ARMORERS,
    "accessory.found": ARMORERS,
    "vendor.return": ARMORERS,
    # the shooting day
    "day.open": _r("first_ad", "producer"),
    "day.meal_break": _r("first_ad"),
    "scene.plan": _r("first_ad", "producer"),
    "scene.acknowledge_pointing": ARMORERS | _r("first_ad"),
    "meeting.hold": ARMORERS | _r("first_ad", "safety_supervisor"),
    "day.wrap": HANDLERS,
    # safety
    "incident.report": ON_SET,
    "incident.close": ARMORERS | _r("safety_supervisor"),
    "complaint.file": ON_SET,
    "complaint.acknowledge": _r("safety_supervisor", "producer"),
    "rule.override": _r("safety_supervisor"),
    "note.add": ON_SET,
    # documents
    "report.daily": ARMORERS | _r("first_ad", "safety_supervisor", "producer", "investigator"),
    "incident.export": ARMORERS | _r("safety_supervisor", "producer", "investigator"),
    "vendor.manifest": ARMORERS | _r("producer"),
}

# Custody and safety actions: the rule engine decides who may do them, for every
# member of the production. A member whose roles the matrix does not list is not
# refused here (403): the request reaches the rules, which refuse it with the
# rule's code and record the attempt (`action.refused`, `weapon.handoff_refused`),
# as the CLI does. On purpose: on *Rust* the 1st AD declaring a gun cold was the
# step that failed, and that attempt must be in the record whichever door it came
# through. Administration (people, members, devices, tokens, storage, the
# production's time zone and alert webhook, the day's planning, overrides) stays a permission:
# 403 ACTION_FORBIDDEN, nothing recorded.
RULED: frozenset[str] = frozenset({
    "weapon.receive", "lot.receive", "lot.verify", "lot.destroy", "weapon.inspect",
    "inspection.witness", "weapon.issue", "weapon.return", "weapon.handoff", "weapon.store",
    "weapon.record_evidence", "weapon.dud", "weapon.clean", "weapon.function_check",
    "weapon.ground", "weapon.repair", "day.wrap", "incident.close",
    "receipt.open", "receipt.check", "receipt.sign", "accessory.add", "accessory.found",
    "vendor.return"})

# Actions that append events to the production's ledger: they need a registered
# device (X-Coldcheck-Device), recorded in every event they write.
RECORDING: frozenset[str] = frozenset(ACTIONS) - {
    "read", "token.own", "member.manage", "device.manage", "report.daily", "incident.export",
    "vendor.manifest"}


def allowed(action: str, roles: Iterable[str]) -> bool:
    """May someone holding ``roles`` ask for ``action``? Unknown actions: nobody."""
    return bool(ACTIONS.get(action, frozenset()) & set(roles))


def may_ask(action: str, roles: Iterable[str]) -> bool:
    """May a member holding ``roles`` have ``action`` reach the rules? Every member
    for a :data:`RULED` action (the rules refuse and record), else :func:`allowed`."""
    return (action in RULED and action in ACTIONS) or allowed(action, roles)


def matrix() -> list[tuple[str, list[bool]]]:
    """The table as rows of (action, allowed per role in ROLES order)."""
    return [(a, [r in roles for r in ROLES]) for a, roles in ACTIONS.items()]
