"""Exports: the inventory and the custody record as CSV, the bound book as PDF
or CSV (the same files as `coldcheck export …`; docs/import-export.md). Records
nothing."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from fastapi import Depends, Query
from starlette.responses import Response

from ...services import books
from ..auth import Call, Reader
from ..schemas import IsoDate
from . import router
from .reports import PDF, PdfResponse, binary

PREFIX = "/api/v1/productions/{production}/exports"
TAGS: list[str | Enum] = ["exports"]
CSV = "text/csv; charset=utf-8"
READ = Depends(Reader("read"))
EVERYTHING = Query(alias="all", description="Everything ever received, with its state "
                                            "(default: what is in inventory now, the rows "
                                            "an import into a new production reads).")


class CsvResponse(Response):
    media_type = CSV


def _csv(data: str, name: str) -> CsvResponse:
    return CsvResponse(data.encode(),
                       headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get(PREFIX + "/weapons.csv", tags=TAGS, response_class=CsvResponse,
            responses=binary(CSV, "One weapon a row: the columns an import reads, then id, "
                                  "storage_id, state, owner"),
            summary="The weapons as CSV (records nothing)")
def weapons_csv(call: Annotated[Call, READ],
                everything: Annotated[bool, EVERYTHING] = False) -> Response:
    rep = call.replica
    with rep.lock:
        rows = books.weapon_rows(rep.state, everything=everything)
    return _csv(books.to_csv(books.WEAPON_EXPORT, rows), f"{call.production}-weapons.csv")


@router.get(PREFIX + "/lots.csv", tags=TAGS, response_class=CsvResponse,
            responses=binary(CSV, "One lot a row: the columns an import reads (count: rounds "
                                  "on hand), then id, storage_id, received, on_hand, owner"),
            summary="The ammunition lots as CSV (records nothing)")
def lots_csv(call: Annotated[Call, READ],
             everything: Annotated[bool, EVERYTHING] = False) -> Response:
    rep = call.replica
    with rep.lock:
        rows = books.lot_rows(rep.state, everything=everything)
    return _csv(books.to_csv(books.LOT_EXPORT, rows), f"{call.production}-lots.csv")


@router.get(PREFIX + "/events.csv", tags=TAGS, response_class=CsvResponse,
            responses=binary(CSV, "One event a row: seq, time_utc, time_local, type, actor, "
                                  "subjects, sentence"),
            summary="The custody record of a day or a range of days as CSV (records nothing)")
def events_csv(call: Annotated[Call, READ],
               start: Annotated[IsoDate | None, Query(
                   alias="from", description="First day (the production's calendar), "
                                             "inclusive.")] = None,
               end: Annotated[IsoDate | None, Query(
                   alias="to", description="Last day, inclusive (default: the from day when "
                                           "given, else the last entry's).")] = None
               ) -> Response:
    last = end if end is not None else start
    rows = books.event_rows(call.ctx(), start=start, end=last)
    suffix = f"-{start}" + (f"-to-{last}" if last != start else "") if start else ""
    return _csv(books.to_csv(books.EVENT_EXPORT, rows),
                f"{call.production}-events{suffix}.csv")


@router.get(PREFIX + "/bound-book.pdf", tags=TAGS, response_class=PdfResponse,
            responses=binary(PDF, "The acquisition and disposition record, one line per "
                                  "weapon, corrections as entries of their own"),
            summary="The bound book (acquisitions and dispositions) as PDF (records nothing)")
def bound_book_pdf(call: Annotated[Call, READ],
                   paper: Annotated[Literal["a4", "letter"], Query(
                       description="Paper size (landscape).")] = "a4") -> Response:
    from ...documents.bound_book import render_bound_book

    pdf = render_bound_book(books.bound_book(call.ctx(), at=call.now()), paper=paper)
    return PdfResponse(pdf, headers={
        "Content-Disposition": f'inline; filename="{call.production}-bound-book.pdf"'})


@router.get(PREFIX + "/bound-book.csv", tags=TAGS, response_class=CsvResponse,
            responses=binary(CSV, "The bound book, one entry a row (docs/import-export.md)"),
            summary="The bound book (acquisitions and dispositions) as CSV (records nothing)")
def bound_book_csv(call: Annotated[Call, READ]) -> Response:
    return _csv(books.bound_book(call.ctx(), at=call.now()).csv(),
                f"{call.production}-bound-book.csv")
