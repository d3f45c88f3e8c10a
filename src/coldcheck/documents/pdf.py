"""Rendering documents: Jinja2 templates to HTML, WeasyPrint to PDF.

WeasyPrint (and the Pango library under it) is imported only when a PDF is
made, so the CLI and the server start, and everything else works, on a machine
where it is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import segno

from ..domain.errors import InvalidInput
from .daily import DailyReport
from .wording import plain_roles

TEMPLATES = Path(__file__).parent / "templates"
PAPER = {"a4": ("A4", 210.0), "letter": ("letter", 215.9)}  # CSS size, width in mm
MARGIN_MM = 12.0
MONO_ADVANCE = 0.602  # DejaVu Sans Mono (and Liberation Mono: 0.600) advance per em
MONO_MAX_PT, MONO_MIN_PT = 8.5, 5.5
# Page 1 is one page whatever the day held: at most this many rows of each list
# (the sections after it have them all).
FRONT = {"handled": 6, "incidents": 3, "complaints": 3, "lots": 5}

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True)
_env.filters["hms"] = lambda at: at[11:19] if at else ""
_env.filters["plain_roles"] = plain_roles
_env.filters["hm"] = lambda at: at[11:16] if at else ""
_env.filters["when"] = lambda at: f"{at[:10]} {at[11:16]}" if at else ""


def qr_data_uri(text: str, *, eci: bool = True) -> str:
    """A QR code of ``text`` exactly (UTF-8, with the ECI marker that says so unless
    ``eci`` is false: a label's ASCII code reads on every scanner), as an SVG data
    URI."""
    qr = (segno.make_qr(text, encoding="utf-8", eci=True, error="m") if eci
          else segno.make_qr(text, error="m"))
    return str(qr.svg_data_uri(scale=1, border=4, dark="#000", light="#fff"))


def mono_size(lines: list[str], paper: str, inset_mm: float = 12.0) -> float:
    """The largest monospace size (pt) at which the longest line fits the printed
    width, so that every line of a signed note prints as one line; never below
    MONO_MIN_PT (longer lines then wrap, and the QR code still holds them)."""
    width_pt = (PAPER[paper][1] - 2 * MARGIN_MM - inset_mm) * 72 / 25.4
    longest = max((len(x) for x in lines), default=1) or 1
    return round(max(MONO_MIN_PT, min(MONO_MAX_PT, width_pt / (MONO_ADVANCE * longest))), 2)


def check_paper(paper: str) -> str:
    p = (paper or "").strip().lower()
    if p not in PAPER:
        raise InvalidInput("INVALID_INPUT", f"paper is a4 or letter, not {paper!r}",
                           field="paper")
    return p


def render_html(report: DailyReport, *, paper: str = "a4") -> str:
    paper = check_paper(paper)
    cp = report.checkpoint
    ctx: dict[str, Any] = {
        "r": report, "cp": cp, "page_size": PAPER[paper][0], "margin": MARGIN_MM,
        "front": FRONT,
        "qr": qr_data_uri(cp.note) if cp else None,
        "note_pt": mono_size(cp.lines, paper) if cp else MONO_MAX_PT,
        "key_pt": mono_size([report.verifier_key], paper),
    }
    return _env.get_template("daily.html").render(ctx)


def render_pdf(report: DailyReport, *, paper: str = "a4") -> bytes:
    """The report as PDF bytes."""
    return write_pdf(render_html(report, paper=paper))


def write_pdf(html: str) -> bytes:
    """A page of ours (every image in it a data: URI) as PDF bytes."""
    from weasyprint import HTML  # type: ignore[import-untyped]
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

    # Everything is in the page (the QR code is a data: URI): fetch nothing else, so
    # no text recorded on set can make the server read a file or call a URL.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    pdf = HTML(string=html, base_url=str(TEMPLATES), url_fetcher=fetcher).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
