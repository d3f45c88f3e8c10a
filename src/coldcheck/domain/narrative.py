"""One plain-English sentence per event, for timelines and reports.

An investigator reads "Sam Reyes (P1) handed W1 to Alex Stone (P6) for SC3",
not a JSON payload. Every event type has a sentence (a test checks it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Names = Callable[[str | None], str]


def _load(load: Mapping[str, Any] | None) -> str:
    if not load or not load.get("count"):
        return "empty"
    return f"{load['count']} {load['kind']} from {load['lot']}"


def _codes(p: Mapping[str, Any]) -> str:
    """The codes of a refusal, then what else its rules name (``subjects``
    beyond its own ``subject``), if anything."""
    codes = ", ".join(p.get("codes") or [])
    own = (p.get("subject"), f"weapon:{p.get('weapon')}")
    others = [x for x in p.get("subjects") or [] if x not in own]
    return codes + (f" (about {', '.join(others)})" if others else "")


TEMPLATES: dict[str, Callable[[Mapping[str, Any], Names], str]] = {
    "production.created": lambda p, n: f"Production {p['name']} created; ledger {p['origin']}",
    "production.timezone_set": lambda p, n: f"Time zone set to {p['timezone']}"
    + (f" (was {p['previous']})" if p["previous"] else ""),
    "production.webhook_set": lambda p, n: f"Alert webhook set to {p['url']}"
    + (f" (was {p['previous_url']})" if p["previous_url"] else "")
    + f"; secret {p['secret_fingerprint'][-8:]}",
    "production.webhook_cleared": lambda p, n: f"Alert webhook to {p['url']} removed",
    "person.added": lambda p, n: f"{p['name']} ({p['person']}) joined as "
                                 f"{', '.join(p['roles'])}",
    "person.pin_set": lambda p, n: f"{n(p['person'])} set a witness PIN",
    "account.linked": lambda p, n: f"account {p['account']} was linked to {n(p['person'])}",
    "device.registered": lambda p, n: f"device {p['device']} ({p['name']}) was registered",
    "device.revoked": lambda p, n: f"device {p['device']} was revoked",
    "person.credential_added": lambda p, n: (
        f"{n(p['person'])}'s {p['type'].replace('_', ' ')} {p['number']} ({p['issuer']}) "
        f"recorded as credential {p['credential']}, covering "
        f"{', '.join(c.replace('_', ' ') for c in p['classes'])} until {p['expires']}"),
    "person.credential_revoked": lambda p, n: f"{n(p['person'])}'s credential "
                                              f"{p['credential']} revoked: {p['reason']}",
    "person.qualification_renewed": lambda p, n: f"{n(p['person'])}'s armorer qualification "
                                                 f"renewed to {p['expires']}",
    "person.safety_briefed": lambda p, n: f"{n(p['person'])} received the weapons-safety "
                                          f"briefing from {n(p['briefed_by'])}",
    "person.role_conflict_flagged": lambda p, n: f"Role conflict flagged for "
                                                 f"{n(p['person'])}: {p['conflict']}",
    "person.pin_failed": lambda p, n: f"Wrong PIN for {n(p['person'])} "
                                      f"({p['failures']} so far) at {p['action']}",
    "person.pin_locked": lambda p, n: f"{n(p['person'])}'s PIN locked until {p['until']}",
    "storage.added": lambda p, n: f"Storage {p['storage']} registered: {p['name']} "
                                  f"({p['kind']})",
    "day.opened": lambda p, n: f"Shooting day {p['day']} opened ({p['date']})",
    "day.meal_break_started": lambda p, n: "Meal break started",
    "day.meal_break_ended": lambda p, n: "Meal break ended",
    "day.wrapped": lambda p, n: f"Day {p['day']} wrapped: every weapon stored, every lot "
                                "balanced",
    "weapon.received": lambda p, n: f"{p['weapon']} received into {p['storage']}: {p['make']} "
                                    f"{p['model']} ({p['kind']}, {p['calibre']}, serial "
                                    f"{p['serial']})",
    "weapon.inspected": lambda p, n: (
        f"{n(p['armorer'])} inspected {p['weapon']} ({p['inspection']}): "
        f"{_load(p['load'])}"
        + (f"; NOT COVERED: {', '.join(p['missing'])}" if p.get("missing") else
           "; every position, barrel and magazine checked")
        + (f"; unloaded {_load(dict(p['unloaded'], kind='rounds'))}" if p.get("unloaded")
           else "")),
    "inspection.witnessed": lambda p, n: f"{n(p['witness'])} witnessed inspection "
                                         f"{p['inspection']} of {p['weapon']} as {p['role']}",
    "weapon.issued": lambda p, n: f"{n(p['armorer'])} handed {p['weapon']} to "
                                  f"{n(p['performer'])} for {p['scene']}, due back "
                                  f"{p['due_at'][11:16]} UTC"
                                  + (f" (overrides: {', '.join(p['overrides'])})"
                                     if p.get("overrides") else ""),
    "weapon.returned": lambda p, n: f"{n(p['performer'])} returned {p['weapon']} to "
                                    f"{n(p['armorer'])}: fired {p['fired']}, lost {p['lost']}, "
                                    f"{p['returned']} back to {p['lot'] or 'no lot'}",
    "weapon.stored": lambda p, n: f"{n(p['armorer'])} locked {p['weapon']} in {p['storage']}",
    "weapon.handoff_refused": lambda p, n: f"REFUSED {p['action']} of {p['weapon']} from "
                                           f"{n(p['from'])} to {n(p['to'])}: {_codes(p)}",
    "weapon.frozen": lambda p, n: f"{p['weapon']} FROZEN by {p['incident']}",
    "weapon.unfrozen": lambda p, n: f"{p['weapon']} released by the close of {p['incident']}",
    "weapon.classified": lambda p, n: f"{p['weapon']} recorded as a "
                                      f"{p['weapon_class'].replace('_', ' ')}",
    "weapon.retired": lambda p, n: f"{p['weapon']} retired: {p['reason']}",
    "vendor.added": lambda p, n: f"Vendor {p['vendor']} recorded: {p['name']} ({p['kind']})",
    "inventory.owner_recorded": lambda p, n: (
        f"{p['item']} recorded as {p['vendor']}'s"
        + (f", agreement {p['agreement']}" if p['agreement'] else "")
        + (f", due back {p['due_back']}" if p['due_back'] else "")),
    "receipt.opened": lambda p, n: f"{n(p['armorer'])} opened receipt {p['receipt']} from "
                                   f"{p['vendor']}: {len(p['manifest'])} manifest lines",
    "receipt.item_checked": lambda p, n: (
        f"{n(p['armorer'])} checked in "
        + (f"line {p['line']}" if p['line'] is not None else "an extra item")
        + f" of {p['receipt']}: {p['description']}, {p['condition']}"
        + (f"; DIFFERENCE: {p['difference']}" if p['difference'] else "")),
    "receipt.signed": lambda p, n: f"{n(p['armorer'])} signed receipt {p['receipt']} "
                                   f"({p['lines']} lines, {len(p['differences'])} "
                                   "differences)",
    "accessory.added": lambda p, n: f"Accessory {p['accessory']} ({p['description']} x "
                                    f"{p['count']}) listed"
                                    + (f" on {p['weapon']}'s kit" if p['weapon'] else ""),
    "accessory.found": lambda p, n: f"{n(p['armorer'])} found missing accessory "
                                    f"{p['accessory']}",
    "weapon.kit_issued": lambda p, n: f"{p['weapon']}'s kit went out with it to "
                                      f"{n(p['performer'])}: {', '.join(p['accessories'])}",
    "weapon.kit_returned": lambda p, n: (
        f"{p['weapon']}'s kit came back: {', '.join(p['accessories']) or 'nothing'}"
        + (f"; MISSING: {', '.join(p['missing'])}" if p['missing'] else "")),
    "vendor.returned": lambda p, n: f"{n(p['armorer'])} returned to {p['vendor']} "
                                    f"({p['return']}): weapons "
                                    f"{', '.join(p['weapons']) or 'none'}, lots "
                                    f"{', '.join(p['lots']) or 'none'}",
    "weapon.cleaned": lambda p, n: f"{n(p['armorer'])} cleaned {p['weapon']}: {p['notes']}",
    "weapon.function_checked": lambda p, n: f"{n(p['armorer'])} function-checked "
                                            f"{p['weapon']}: {p['notes']}",
    "weapon.grounded": lambda p, n: f"{p['weapon']} grounded by {n(p['armorer'])} and "
                                    f"{n(p['supervisor'])}: {p['reason']}",
    "weapon.repaired": lambda p, n: f"{n(p['armorer'])} recorded a repair of "
                                    f"{p['weapon']}: {p['repair']}",
    "weapon.dud_recorded": lambda p, n: f"{n(p['armorer'])} recorded a dud blank from "
                                        f"{p['lot']} in {p['weapon']} ({p['scene']}): "
                                        f"{p['description']}",
    "ammo.lot_received": lambda p, n: f"Lot {p['lot']} received: {p['count']} {p['kind']} "
                                      f"{p['calibre']} from {p['supplier']} "
                                      f"({p['supplier_lot']})",
    "ammo.intake_refused": lambda p, n: f"REFUSED intake of {p['count']} {p['kind']} "
                                        f"{p['calibre']} from {p['supplier']}: {_codes(p)}; "
                                        f"incident {p['incident']}",
    "ammo.round_verified": lambda p, n: f"{n(p['verified_by'])} verified round {p['round']} of "
                                        f"{p['lot']} ({p['method']})",
    "ammo.verification_failed": lambda p, n: f"Round {p['round']} of {p['lot']} FAILED "
                                             f"verification: {p['finding']}",
    "ammo.verification_voided": lambda p, n: f"Incident {p['incident']} voided the "
                                              f"verification of dummy lot {p['lot']} "
                                              f"({p['count']} verified rounds on hand): "
                                              "verify again before loading",
    "ammo.evidence_lot_created": lambda p, n: f"Evidence lot {p['lot']} opened for "
                                              f"{p['incident']}",
    "ammo.evidence_recorded": lambda p, n: f"{n(p['recorded_by'])} recorded a round from "
                                           f"{p['weapon']} {p['position']} as evidence: "
                                           f"{p['description']}",
    "ammo.rounds_destroyed": lambda p, n: f"{p['count']} rounds of {p['lot']} destroyed: "
                                          f"{p['reason']}",
    "scene.planned": lambda p, n: f"Scene {p['scene']} planned: {p['name']} "
                                  f"({'HOT' if p['hot'] else 'cold'}"
                                  f"{', rehearsal' if p['rehearsal'] else ''}"
                                  f"{', pointing plan' if p['pointing'] else ''})",
    "scene.pointing_acknowledged": lambda p, n: f"{n(p['person'])} acknowledged the pointing "
                                                f"plan of {p['scene']} as {p['role']}",
    "meeting.held": lambda p, n: f"Safety meeting {p['meeting']} led by {n(p['led_by'])}, "
                                 f"{len(p['attendees'])} attending",
    "incident.opened": lambda p, n: f"INCIDENT {p['incident']} ({p['kind']}): "
                                    f"{p['description']}",
    "incident.closed": lambda p, n: f"Incident {p['incident']} closed by {n(p['armorer'])} and "
                                    f"{n(p['supervisor'])}: {p['corrective_action']}",
    "complaint.filed": lambda p, n: f"{n(p['by'])} filed complaint {p['complaint']}: "
                                    f"{p['text']}",
    "complaint.acknowledged": lambda p, n: f"{n(p['by'])} acknowledged {p['complaint']}: "
                                           f"{p['response']}",
    "complaint.received": lambda p, n: f"{_complainant(p)} filed complaint {p['complaint']} "
                                       f"without an account, {_via(p['via'])}: {p['text']}",
    "complaint.poster_issued": lambda p, n: f"{n(p['by'])} issued QR complaint poster "
                                            f"{p['poster']} (any earlier poster stops working)",
    "complaint.poster_revoked": lambda p, n: f"{n(p['by'])} revoked QR complaint poster "
                                             f"{p['poster']}",
    "rule.overridden": lambda p, n: f"{n(p['supervisor'])} overrode {p['rule']} for "
                                    f"{p['subject']}: {p['reason']}",
    "action.refused": lambda p, n: f"REFUSED {p['action']} ({p['subject']}): {_codes(p)}",
    "ledger.restored": lambda p, n: _restored(p),
    "note.added": lambda p, n: f"Note on event {p['refers_to']}: {p['text']}",
}


def _complainant(p: Mapping[str, Any]) -> str:
    """Who filed a complaint received without an account, as they gave it."""
    if not p["name"]:
        return "Someone anonymous"
    return f"{p['name']} ({p['role']})" if p["role"] else str(p["name"])


def _via(via: str) -> str:
    return {"tablet": "on the cart tablet", "poster": "from the QR poster"}.get(via, via)


def restore_loss(p: Mapping[str, Any]) -> str:
    """What a restore (ledger.restored) says it lost, in words."""
    n, known = int(p["entries"]), int(p["replaced_entries"] or 0)
    note = p["superseded_checkpoint"]
    if note:
        lines = str(note).split("\n")
        known = max(known, int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0)
    unread = p["replaced_entries"] is None
    if known > n:
        one = known - n == 1
        what = (f"{known - n} {'entry' if one else 'entries'} recorded after entry {n - 1} "
                f"before the restore {'is' if one else 'are'} not in this ledger")
        if unread:
            what += (" (the replaced database could not be read, or was not there: it may "
                     "have held more)")
    elif unread:
        what = ("the replaced database could not be read, or was not there: how much was "
                "recorded after the backup is unknown")
    else:
        what = "nothing recorded after the backup was lost"
    proven = int(p["proven_entries"])
    if proven < n:
        what += (f"; entries {proven}..{n - 1} were restored without proof that they belong "
                 "to the history last signed, as decided")
    return what


def _restored(p: Mapping[str, Any]) -> str:
    what = restore_loss(p)
    n = int(p["entries"])
    return (f"LEDGER RESTORED from a backup of {n} entries (sha256 "
            f"{str(p['backup_sha256'])[:16]}…) by decision of {p['decided_by']}: "
            f"{p['reason']}; {what}")


def describe(event_type: str, payload: Mapping[str, Any], names: Names) -> str:
    fn = TEMPLATES.get(event_type)
    if fn is None:
        return event_type
    return fn(payload, names)
