"""Reading a production: the board, timelines, people, events (listed or
streamed live), and the ledger's checkpoints and proofs."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ...domain.errors import InvalidInput
from ...services import ledger as L
from ...services.queries import signed_size
from ...services.readmodel import event_json
from ...services.webhook import failing
from .. import stream
from ..auth import Call, Reader, Writer
from ..schemas import (
    BoardOut,
    CheckpointOut,
    ConsistencyOut,
    EventsOut,
    InclusionOut,
    PersonOut,
    ProductionOut,
    TimelineEntry,
)
from . import router

PREFIX = "/api/v1/productions/{production}"
TAGS: list[str | Enum] = ["reading"]
READ = Depends(Reader("read"))
JSON = "application/json"


def _json(data: Any) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), media_type=JSON)


@router.get(PREFIX + "", tags=TAGS,
            response_model=ProductionOut, summary="The production, and who you are on it")
def production(call: Annotated[Call, READ]) -> Response:
    p = call.state.store.production(call.production)
    return _json({"id": p["id"], "name": p["name"], "origin": p["origin"],
                  "verifier_key": p["verifier_key"], "head": call.replica.seq,
                  "person": call.person, "roles": call.roles})


@router.get(PREFIX + "/status", tags=TAGS, response_model=BoardOut,
            summary="The board: every weapon's state, custodian and load; lots; alerts")
async def status(call: Annotated[Call, READ]) -> Response:
    rep, api = call.replica, call.state
    # Whether a signed checkpoint covers the last incident or wrap: nothing to
    # read once one is known to; otherwise one lookup, on the loop's own SQLite
    # connection or, on PostgreSQL, in a worker thread (never on the loop).
    due = rep.state.checkpoint_due
    signed = None if due is None else api.store.signed_known(rep.production)
    if due is not None and signed is not None and signed <= due[0]:
        if api.loop_conn is None:
            signed = await run_in_threadpool(signed_size, api.store, rep.state)
        else:
            signed = signed_size(api.store, rep.state, api.loop_conn)
    # The alert webhook's failures (WEBHOOK_FAILING): read only when one is set.
    extra = None
    if rep.state.webhook is not None:
        if api.loop_conn is None:
            extra = await run_in_threadpool(failing, api.store, rep.production, rep.state)
        else:
            extra = failing(api.store, rep.production, rep.state, api.loop_conn)
    return Response(rep.board_json(call.now(), signed, extra), media_type=JSON)


@router.get(PREFIX + "/timeline", tags=TAGS, response_model=list[TimelineEntry],
            summary="Every event about a weapon, lot or person, as sentences")
async def timeline(call: Annotated[Call, READ],
             weapon: Annotated[str | None, Query(max_length=32)] = None,
             lot: Annotated[str | None, Query(max_length=32)] = None,
             person: Annotated[str | None, Query(max_length=32)] = None) -> Response:
    return Response(call.replica.timeline_json(weapon=weapon, lot=lot, person=person),
                    media_type=JSON)


@router.get(PREFIX + "/people", tags=TAGS,
            response_model=list[PersonOut], summary="People, roles and warnings")
async def people(call: Annotated[Call, READ]) -> Response:
    return _json(call.replica.people())


@router.get(PREFIX + "/events", tags=TAGS, response_model=EventsOut,
            summary="Events after a seq, oldest first (page with ?after=<last seq>)")
async def events(call: Annotated[Call, READ],
           after: Annotated[int, Query(ge=-1, le=2**53)] = -1,
           limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    return _json({"events": [event_json(e) for e in call.replica.since(after, limit)],
                  "head": call.replica.seq})


SSE_FRAME = {
    "type": "object", "required": ["event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": r"^[0-9]+$", "description": "The event's seq."},
        "event": {"type": "string"},
        "data": {"oneOf": [{"$ref": "#/components/schemas/EventOut"},
                           {"$ref": "#/components/schemas/Problem"}]},
    },
}


@router.get(PREFIX + "/events/stream", tags=TAGS, response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {
                "schema": {"type": "string"},
                # What each frame's fields hold (OpenAPI 3.1 has no item schema for
                # a stream): tests/e2e/test_api_schema.py reads frames against it.
                "x-coldcheck-frame": SSE_FRAME}},
                "description": "Server-Sent Events: id = seq, event = the event's type "
                               "(or `error`), data = the event as JSON (an `error` "
                               "frame's data is a problem document, and ends the "
                               "stream)"}},
            summary="Live events (Server-Sent Events), resumable with Last-Event-ID")
def events_stream(call: Annotated[Call, READ],
                  last_event_id: Annotated[str | None, Header(
                      alias="Last-Event-ID", max_length=20,
                      description="Resume after this seq (browsers send it on "
                                  "reconnecting).")] = None,
                  after: Annotated[int | None, Query(
                      ge=-1, le=2**53, description="Start after this seq (-1: from the "
                                                   "first event). Default: only new events.")]
                  = None,
                  max_events: Annotated[int | None, Query(ge=1, le=100_000)] = None,
                  timeout: Annotated[float | None, Query(
                      gt=0, le=86_400, description="Close the stream after this many "
                                                   "seconds.")] = None) -> StreamingResponse:
    start = call.replica.seq - 1 if after is None else after
    if last_event_id is not None:
        if not last_event_id.strip().lstrip("-").isdigit() or int(last_event_id) < -1:
            raise InvalidInput("INVALID_INPUT", "Last-Event-ID is the seq of the last event "
                               "received")
        start = int(last_event_id)
    body = stream.events(reads=call.state.reads, hub=call.state.hub, production=call.production,
                         after=start, max_events=max_events, timeout=timeout,
                         recheck=call.recheck)
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# ---- the ledger ----------------------------------------------------------------
@router.get(PREFIX + "/ledger/checkpoint", tags=TAGS, response_model=CheckpointOut,
            summary="The latest signed checkpoint")
def checkpoint(call: Annotated[Call, READ]) -> Response:
    cp = L.latest_checkpoint(call.ctx())
    if cp is None:
        raise InvalidInput("NOT_FOUND", "no checkpoint signed yet", what="checkpoint")
    return _json({"tree_size": cp[0], "note": cp[1]})


@router.post(PREFIX + "/ledger/checkpoint", tags=TAGS, response_model=CheckpointOut,
             summary="Sign a checkpoint if entries were added since the last one")
def sign(call: Annotated[Call, Depends(Writer("read", idempotent=False))]) -> Response:
    size, note = L.sign_checkpoint(call.ctx(), reason="on_demand", at=call.now())
    return _json({"tree_size": size, "note": note})


@router.get(PREFIX + "/ledger/entries/{index}", tags=TAGS, response_class=Response,
            responses={200: {"content": {JSON: {"schema": {"type": "object"}}},
                             "description": "Entry N's exact bytes (canonical JSON, as hashed)"}},
            summary="A ledger entry, byte for byte as hashed into the tree")
def entry(index: Annotated[int, Path(ge=0, le=2**53)], call: Annotated[Call, READ]) -> Response:
    return Response(L.entry(call.ctx(), index), media_type=JSON)


@router.get(PREFIX + "/ledger/proofs/inclusion", tags=TAGS, response_model=InclusionOut,
            summary="Inclusion proof of entry INDEX in the tree of SIZE (default: current)")
def inclusion(call: Annotated[Call, READ], index: Annotated[int, Query(ge=0, le=2**53)],
              size: Annotated[int | None, Query(ge=1, le=2**53)] = None) -> Response:
    return _json(L.inclusion_proof(call.ctx(), index, size))


@router.get(PREFIX + "/ledger/proofs/consistency", tags=TAGS, response_model=ConsistencyOut,
            summary="Consistency proof from tree size OLD to SIZE (default: current)")
def consistency(call: Annotated[Call, READ], old: Annotated[int, Query(ge=1, le=2**53)],
                size: Annotated[int | None, Query(ge=1, le=2**53)] = None) -> Response:
    return _json(L.consistency_proof(call.ctx(), old, size))
