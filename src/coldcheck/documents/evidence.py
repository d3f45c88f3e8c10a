"""An incident's evidence package: a ZIP an investigator can check without trusting coldcheck.

After the *Rust* shooting nobody could say for an hour what had happened, or
later who was responsible. The package answers both from the record itself:

* ``entries/<seq>.json``: the exact stored bytes of every ledger entry that
  concerns the incident, the weapons and lots it names, its evidence lot and
  the people it names (reporter, signers): their whole history up to the
  export, since the question is always "how did that round get there"; and
  entry 0, the production's creation, which records the id of its signing key;
* ``proofs/<seq>.json``: the RFC 9162 inclusion proof of each entry in the tree
  of the signed checkpoint, in the shape ``coldcheck ledger prove-inclusion
  --json`` prints;
* ``checkpoint.txt`` and ``verifier-key.txt``: the signed checkpoint (signed
  first if the ledger grew) and the production's public verifier key;
* ``checkpoints/<size>.txt`` and ``consistency/<size>.json``: every earlier
  checkpoint the production signed (at its creation, each wrap, each incident,
  each report), exactly as signed, with the RFC 9162 consistency proof from it
  to ``checkpoint.txt``: a printed daily report or a checkpoint anyone kept is
  then checked against the package offline, and so is the checkpoint signed
  when the incident was reported (nothing recorded before it was changed since);
* ``timeline.txt``: one line per entry, UTC to the second, with sequence
  number, actor, device and what happened in words;
* ``README.txt``: how to check all of it with Go's ``sumdb/note`` and
  ``sumdb/tlog``, or with ``coldcheck ledger verify``.

The proofs are read in one snapshot with one read of stored hashes. Two
exports at the same tree size differ only in ``README.txt``'s export line:
names are sorted and every ZIP member carries the same fixed timestamp.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..domain.errors import ColdcheckError, NotFound
from ..domain.events import Event, utc_text
from ..domain.narrative import describe
from ..domain.state import ProductionState
from ..ledger import (
    NoteError,
    ProofPlan,
    Verifier,
    open_checkpoint,
    prove_record,
    prove_tree,
    stored_hash_index,
    tree_hash,
)
from ..persistence import tables as t
from ..services.context import Context
from ..services.ledger import KnownHashes, latest_checkpoint, read_known, sign_checkpoint
from ..services.queries import mentions

__all__ = ["CHECKPOINT_REASON", "EvidencePackage", "evidence_package"]

CHECKPOINT_REASON = "export"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a ZIP can hold: the same in every export


@dataclass
class EvidencePackage:
    production: str
    incident: str
    tree_size: int
    signed_now: bool
    entries: list[int]
    data: bytes = field(repr=False)
    warning: str | None = None
    earlier: list[int] = field(default_factory=list)  # earlier checkpoints' sizes

    def to_dict(self) -> dict[str, Any]:
        return {"production": self.production, "incident": self.incident,
                "tree_size": self.tree_size, "signed_now": self.signed_now,
                "entries": len(self.entries), "first_seq": self.entries[0],
                "last_seq": self.entries[-1], "earlier_checkpoints": len(self.earlier),
                "bytes": len(self.data), "warning": self.warning}


@dataclass(frozen=True)
class _Earlier:
    """An earlier checkpoint as stored: its size, signed note, why and when signed."""

    size: int
    note: str
    reason: str
    at: str


def _relevant(st: ProductionState, incident: str, events: list[Event]) -> list[Event]:
    inc = st.incidents[incident]
    weapons = set(inc.weapons)
    lots = set(inc.lots) | ({inc.evidence_lot} if inc.evidence_lot else set())
    people = {inc.reported_by}
    out: list[Event] = []
    for e in events:
        p = e.payload
        if p.get("incident") == incident or p.get("subject") == f"incident:{incident}":
            out.append(e)
            people |= {v for k, v in p.items() if isinstance(v, str) and v in st.people
                       and k != "subject"}
            continue
        if (any(mentions(e, "weapon", w) for w in weapons)
                or any(mentions(e, "lot", x) for x in lots)):
            out.append(e)
    # The people the incident names: when they joined, their roles, briefings and
    # qualifications, conflicts and PIN lockouts (not every action they took).
    taken = {e.seq for e in out}
    for e in events:
        if e.type.startswith("person.") and e.payload.get("person") in people \
                and e.seq not in taken:
            out.append(e)
    return sorted(out, key=lambda e: e.seq)


def _checkpoint(ctx: Context, at: datetime) -> tuple[int, str, bool, str | None]:
    before = latest_checkpoint(ctx)
    head = ctx.store.head(ctx.production)
    warning = None
    found = before
    if before is None or before[0] < head:
        try:
            found = sign_checkpoint(ctx, reason=CHECKPOINT_REASON, at=at)
        except ColdcheckError as err:  # a copy of the database without its key
            if before is None:
                raise
            warning = (f"no new checkpoint could be signed ({err.code}: {err.message}); "
                       f"the package is proven against the latest one, of size {before[0]}, "
                       "and leaves out later entries")
    assert found is not None
    size, note = found
    return size, note, before is None or size > before[0], warning


def _timeline_line(e: Event, st: ProductionState) -> str:
    def names(ident: str | None) -> str:
        p = st.people.get(ident or "")
        return f"{p.name} ({p.id})" if p else str(ident)

    return (f"#{e.seq:<6} {e.at[:19].replace('T', ' ')}Z  {names(e.actor)}  [{e.device}]  "
            f"{e.type}: {describe(e.type, e.payload, names)}")


def evidence_package(ctx: Context, incident: str, *, at: datetime) -> EvidencePackage:
    """Build the evidence package of ``incident`` (see the module docstring)."""
    st = ctx.store.state(ctx.production)
    if incident not in st.incidents:
        raise NotFound("incident", incident)
    size, note, signed_now, warning = _checkpoint(ctx, at)
    events = ctx.store.events(ctx.production, 0, size)
    if size < st.seq:
        # No checkpoint covers the newest entries (no key here to sign one): the
        # package describes the incident as of the checkpoint it is proven
        # against, never beyond it.
        st = ProductionState.replayed(ctx.production, events)
        if incident not in st.incidents:
            raise ColdcheckError("KEY_MISSING", f"incident {incident} was recorded after the "
                                 f"latest signed checkpoint (size {size}) and no new one can "
                                 "be signed here: sign one where the production's key is "
                                 "(`coldcheck ledger checkpoint`), then export")
    chosen = _relevant(st, incident, events)
    if not chosen or chosen[0].seq != 0:
        # Entry 0, the production's creation, records its origin and the id of
        # its signing key: proven like the others, it ties verifier-key.txt to
        # this ledger rather than to whoever wrote the package.
        chosen.insert(0, events[0])
    seqs = [e.seq for e in chosen]
    prod = ctx.store.production(ctx.production)
    # One snapshot: the exact bytes of the chosen entries, the earlier
    # checkpoints, and every stored hash their proofs and the roots need, in
    # one read.
    cps = t.checkpoints.c
    with ctx.store.engine.connect() as c:
        if ctx.store.dialect == "postgresql":  # three reads, one snapshot
            c = c.execution_options(isolation_level="REPEATABLE READ",
                                    postgresql_readonly=True)
        with c.begin():
            earlier = [_Earlier(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in c.execute(
                select(cps.tree_size, cps.note, cps.reason, cps.created_at).where(
                    cps.production_id == ctx.production, cps.tree_size < size,
                    cps.tree_size > 0).order_by(cps.tree_size))]
            needed = sorted({stored_hash_index(0, n) for n in seqs}
                            | {i for n in seqs for i in ProofPlan.record(size, n).indexes}
                            | set(ProofPlan.root(size).indexes)
                            | {i for e in earlier for i in (*ProofPlan.tree(size, e.size).indexes,
                                                            *ProofPlan.root(e.size).indexes)})
            raw = {int(s): bytes(b) for s, b in c.execute(
                t.events.select().with_only_columns(t.events.c.seq, t.events.c.entry).where(
                    t.events.c.production_id == ctx.production, t.events.c.seq.in_(seqs)))}
            known = read_known(ctx, c, needed)
    found = known.found
    root = tree_hash(size, known)
    b64 = base64.b64encode

    files: dict[str, bytes] = {}
    for n in seqs:
        proof = prove_record(size, n, known)
        files[f"entries/{n:08d}.json"] = raw[n]
        files[f"proofs/{n:08d}.json"] = (json.dumps(
            {"index": n, "tree_size": size,
             "leaf_hash": b64(found[stored_hash_index(0, n)]).decode(),
             "root_hash": b64(root).decode(), "proof": [b64(h).decode() for h in proof]},
            indent=2) + "\n").encode()
    unsound = _earlier_files(files, earlier, size, root, known, str(prod["verifier_key"]),
                             str(prod["origin"]))
    if unsound:
        # Never left out: a stored checkpoint the ledger contradicts is itself
        # evidence. The investigator's check of it fails, as it should.
        warning = "; ".join(filter(None, [warning, (
            "the stored checkpoint(s) of size " + ", ".join(map(str, unsound))
            + " do not match this ledger (signature or root): run `coldcheck ledger "
            "verify`, and trust a printed copy over the database")]))
    inc = st.incidents[incident]
    files["checkpoint.txt"] = note.encode()
    files["verifier-key.txt"] = (str(prod["verifier_key"]) + "\n").encode()
    files["timeline.txt"] = _timeline(st, incident, chosen, size).encode()
    files["incident.json"] = (json.dumps(
        {"incident": inc.id, "kind": inc.kind, "description": inc.description,
         "open": inc.open, "opened_at": inc.opened_at, "reported_by": inc.reported_by,
         "weapons": inc.weapons, "lots": inc.lots, "evidence_lot": inc.evidence_lot,
         "corrective_action": inc.corrective_action, "closed_at": inc.closed_at,
         "tree_size": size, "entries": seqs}, indent=2, ensure_ascii=False) + "\n").encode()
    files["README.txt"] = _readme(ctx.production, str(prod["name"]), incident, size,
                                  len(seqs), utc_text(at), warning, earlier,
                                  _reported_at(chosen, incident)).encode()
    return EvidencePackage(ctx.production, incident, size, signed_now, seqs, _zip(files),
                           warning, [e.size for e in earlier])


def _earlier_files(files: dict[str, bytes], earlier: list[_Earlier], size: int, root: bytes,
                   known: KnownHashes, verifier_key: str, origin: str) -> list[int]:
    """Add each earlier checkpoint and its consistency proof to ``files``; return
    the sizes of those whose signature or root the ledger contradicts."""
    b64 = base64.b64encode
    verifier = Verifier.from_key(verifier_key)
    unsound = []
    for e in earlier:
        old_root = tree_hash(e.size, known)
        try:
            cp = open_checkpoint(e.note, verifier, origin)
            sound = cp.size == e.size and cp.root_hash == old_root
        except NoteError:
            sound = False
        if not sound:
            unsound.append(e.size)
        files[f"checkpoints/{e.size:08d}.txt"] = e.note.encode()
        files[f"consistency/{e.size:08d}.json"] = (json.dumps(
            {"old_size": e.size, "old_root": b64(old_root).decode(), "tree_size": size,
             "root_hash": b64(root).decode(),
             "proof": [b64(h).decode() for h in prove_tree(size, e.size, known)]},
            indent=2) + "\n").encode()
    return unsound


def _reported_at(chosen: list[Event], incident: str) -> int:
    """The sequence number of the entry that reported ``incident``."""
    return next(e.seq for e in chosen
                if e.type == "incident.opened" and e.payload.get("incident") == incident)


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, files[name])
    return buf.getvalue()


def _timeline(st: ProductionState, incident: str, chosen: list[Event], size: int) -> str:
    inc = st.incidents[incident]
    state = "OPEN" if inc.open else f"closed at {inc.closed_at}"
    who = st.people.get(inc.reported_by)
    head = [f"Incident {inc.id} ({inc.kind}), {state}",
            f"Reported by {who.name + ' (' + who.id + ')' if who else inc.reported_by} at "
            f"{inc.opened_at}: {inc.description}",
            f"Froze weapons: {', '.join(inc.weapons) or 'none'}; lots: "
            f"{', '.join(inc.lots) or 'none'}"
            + (f"; evidence lot {inc.evidence_lot}" if inc.evidence_lot else ""),
            *([f"Corrective action: {inc.corrective_action}"] if inc.corrective_action else []),
            f"Entries below: {len(chosen)} of the {size} in the signed checkpoint, in order "
            "(times UTC).", ""]
    return "\n".join(head + [_timeline_line(e, st) for e in chosen]) + "\n"


def _readme(production: str, name: str, incident: str, size: int, count: int, when: str,
            warning: str | None, earlier: list[_Earlier], reported: int) -> str:
    def line(e: _Earlier) -> str:
        mark = (f"  <- the first after {incident} was reported (#{reported})"
                if e.size > reported and first is e else "")
        return f"  size {e.size:>8}  signed {e.at[:19].replace('T', ' ')}Z  ({e.reason}){mark}\n"

    first = next((e for e in earlier if e.size > reported), None)
    listed = "".join(map(line, earlier)) or "  none\n"
    return f"""coldcheck evidence package
==========================

Production: {name} ({production})
Incident:   {incident}
Exported:   {when}
Checkpoint: tree size {size}; {count} entries included
{"Note: " + warning + chr(10) if warning else ""}
What is here
------------
entries/NNNNNNNN.json  the exact bytes of ledger entry NNNNNNNN, as recorded: every
                       entry about the incident, the weapons and lots it names and
                       the people it names, up to the checkpoint; and entry 0, the
                       production's creation, which names its signing key's id.
proofs/NNNNNNNN.json   the inclusion proof of that entry in the tree of the
                       checkpoint: index, tree_size, leaf_hash, root_hash and the
                       audit path, hashes in standard base64 (RFC 9162).
checkpoint.txt         the signed checkpoint (C2SP tlog-checkpoint, signed note).
verifier-key.txt       the production's public verifier key.
checkpoints/NNNNNNNN.txt
                       every earlier checkpoint of this production, of tree size
                       NNNNNNNN, exactly as signed (listed below).
consistency/NNNNNNNN.json
                       the consistency proof from that checkpoint to
                       checkpoint.txt: old_size, old_root, tree_size, root_hash and
                       the proof, hashes in standard base64 (RFC 9162).
timeline.txt           the same entries as one line each, for reading.
incident.json          the incident as the record stands at the checkpoint.

How to check it without trusting coldcheck
------------------------------------------
1. Get the verifier key from the producer's paper copy of a daily report, not
   only from this package, and compare it with verifier-key.txt.
2. Check the signature of checkpoint.txt with that key, for example with Go's
   golang.org/x/mod/sumdb/note (note.NewVerifier, note.Open). Its second line
   is the tree size, its third the root hash.
3. For each entry: its leaf hash is SHA-256(0x00 || the file's bytes)
   (tlog.RecordHash). It must equal leaf_hash in the proof. Check the proof
   with golang.org/x/mod/sumdb/tlog CheckRecord(proof, tree_size, root, index,
   leaf). The root must be the checkpoint's root.
4. Entry 00000000 is the production's creation: its payload's key_id must be
   the hex key id in verifier-key.txt (between its first and second '+'), so the
   key that signed the checkpoint is the one the ledger began with.
5. For each earlier checkpoint checkpoints/NNNNNNNN.txt: check its signature
   with the same key; its size must be old_size and its root old_root in
   consistency/NNNNNNNN.json, whose root_hash must be the root of
   checkpoint.txt. Check the proof with
   tlog.CheckTree(proof, tree_size, root_hash, old_size, old_root).
6. Compare with the checkpoints you hold from outside this database: a printed
   daily report, the producer's copy, one sent to the studio. Each must be,
   byte for byte, the file of its size here (checkpoint.txt at the package's
   size). One that is missing from checkpoints/ means a stored checkpoint was
   removed: that is a finding. One newer than checkpoint.txt: ask for a
   package exported later, or run `coldcheck ledger prove-consistency`.
7. If every step passes, each entry is exactly what was recorded at that
   position of the ledger, and everything recorded before a checkpoint you
   hold from outside is as it was when that checkpoint was signed. The
   checkpoints stored here were signed with the same key on the same machine:
   on their own they show the record grew without changing, not that nobody
   holding both the database and the key rewrote and re-signed it all. A
   checkpoint kept elsewhere is what rules that out.

Earlier checkpoints (why and when each was signed is coldcheck's own note of
it, not part of what was signed):
{listed}
Anyone who holds the database can also run, with the key they trust:
  coldcheck ledger verify --key verifier-key.txt --checkpoint checkpoint.txt
"""
