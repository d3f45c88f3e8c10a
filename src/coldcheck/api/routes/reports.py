"""Documents: the daily report as PDF, an incident's evidence package as ZIP."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query
from starlette.responses import Response

from ...documents import daily_report, evidence_package, render_pdf
from ..auth import Call, Reader
from ..schemas import IsoDate
from . import router
from .custody import IncidentId

PREFIX = "/api/v1/productions/{production}"
TAGS: list[str | Enum] = ["reports"]
PDF = "application/pdf"


ZIP = "application/zip"


class PdfResponse(Response):
    media_type = PDF


class ZipResponse(Response):
    media_type = ZIP


def binary(media: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answer of a route that returns a file."""
    return {200: {"content": {media: {"schema": {"type": "string", "format": "binary"}}},
                  "description": description}}


@router.get(PREFIX + "/reports/daily/{day}.pdf", tags=TAGS, response_class=PdfResponse,
            responses=binary(PDF, "The daily report (PDF) with the signed checkpoint as "
                                  "text and QR code"),
            summary="The daily report of a production day, as PDF (signs a checkpoint "
                    "first if the ledger grew)")
def daily(call: Annotated[Call, Depends(Reader("report.daily"))],
          day: Annotated[IsoDate, Path(description="The production day, YYYY-MM-DD "
                                                    "(e.g. 2026-11-24).")],
          paper: Annotated[Literal["a4", "letter"], Query(
              description="Paper size.")] = "a4") -> Response:
    rep = call.replica
    with rep.lock:
        who = rep.state.people.get(call.person)
    report = daily_report(call.ctx(), day=day, at=call.now(),
                          generated_by=f"{who.name} ({who.id})" if who else call.person)
    name = f"{call.production}-daily-{report.day}.pdf"
    return PdfResponse(render_pdf(report, paper=paper),
                       headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.get(PREFIX + "/labels.pdf", tags=TAGS, response_class=PdfResponse,
            responses=binary(PDF, "QR labels: a sheet to cut out, or one sticker per page"),
            summary="QR labels for weapons, lots and people's badges, as PDF (records "
                    "nothing)")
def labels(call: Annotated[Call, Depends(Reader("read"))],
           ids: Annotated[list[str] | None, Query(
               alias="id", max_length=500,
               description="A weapon, lot or person to print (W1, L2, P3 or weapon:W1); "
                           "repeat for several (at most 500). Default: every label.")] = None,
           size: Annotated[Literal["sheet", "2x1in", "62mm"], Query(
               description="sheet: every label on A4 or letter pages, to cut out; 2x1in: "
                           "one 2 x 1 inch sticker per page; 62mm: one 62 x 29 mm roll "
                           "label per page.")] = "sheet",
           paper: Annotated[Literal["a4", "letter"], Query(
               description="Paper of the sheet (sticker sizes ignore it).")] = "a4"
           ) -> Response:
    from ...documents.labels import choose, render_labels_pdf

    rep = call.replica
    with rep.lock:
        chosen = choose(rep.state, ids)
    name = f"{call.production}-labels-{size}.pdf"
    return PdfResponse(render_labels_pdf(chosen, size=size, paper=paper),
                       headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.get(PREFIX + "/incidents/{incident}/evidence.zip", tags=TAGS, response_class=ZipResponse,
            responses=binary(ZIP, "The incident's evidence package: exact ledger entries, "
                                  "their inclusion proofs, the signed checkpoint and the "
                                  "verifier key"),
            summary="An incident's evidence package, as ZIP (signs a checkpoint first if "
                    "the ledger grew)")
def evidence(call: Annotated[Call, Depends(Reader("incident.export"))],
             incident: IncidentId) -> Response:
    pkg = evidence_package(call.ctx(), incident, at=call.now())
    name = f"{call.production}-{incident}-evidence.zip"
    return ZipResponse(pkg.data,
                       headers={"Content-Disposition": f'attachment; filename="{name}"'})
