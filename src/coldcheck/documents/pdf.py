"""Rendering documents: Jinja2 templates to HTML, WeasyPrint to PDF.

WeasyPrint (and the Pango library under it) is imported only when a PDF is
made, so the CLI and the server start, and everything else works, on a machine
where it is missing."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2
import segno
from markupsafe import Markup, escape

from ..domain.errors import InvalidInput
from ..domain.zones import as_moment, local_text, localise, zone_abbr, zone_note
from .daily import DailyReport
from .wording import plain_roles

TEMPLATES = Path(__file__).parent / "templates"
PAPER = {"a4": ("A4", 210.0), "letter": ("letter", 215.9)}  # CSS size, width in mm
MARGIN_MM = 12.0
MONO_ADVANCE = 0.602  # DejaVu Sans Mono (and Liberation Mono: 0.600) advance per em
MONO_MAX_PT, MONO_MIN_PT = 8.5, 5.5
# Page 1 is one page whatever the day held: at most this many rows of each list
# (the sections after it have them all).
FRONT = {"handled": 6, "incidents": 3, "complaints": 3, "lots": 5,
         "turns": 2}  # performers named per weapon

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True,
                          lstrip_blocks=True)
_env.filters["plain_roles"] = plain_roles


# ---- times: the production's local time with its zone (the report's ``tz``) --------
def _tz(ctx: jinja2.runtime.Context) -> tzinfo:
    r = ctx.get("r") or ctx.get("m")  # the daily report, or a return manifest
    tz = getattr(r, "tz", None)
    return tz if isinstance(tz, tzinfo) else UTC


def _local(at: str, tz: tzinfo) -> datetime:
    return as_moment(at).astimezone(tz)


@jinja2.pass_context
def _when(ctx: jinja2.runtime.Context, at: str | None) -> str:
    """Date and time to the minute, with the zone: "2026-11-24 09:00 MST"."""
    return local_text(at, _tz(ctx), date=True, seconds=False) if at else ""


def _clock_parts(ctx: jinja2.runtime.Context, at: str, seconds: bool) -> tuple[str, list[str]]:
    """A time of day where the column head names the zone ("Time, MST"): "14:03:27",
    and what else it needs: the zone when the day's times are in more than one (a
    change to or from summer time), the date when it is not the report's day (a
    night shoot carried past local midnight)."""
    t = _local(at, _tz(ctx))
    extra = []
    if not ctx.get("zone_abbr"):
        extra.append(zone_abbr(t))
    r = ctx.get("r")
    if r is not None and t.date().isoformat() != getattr(r, "day", ""):
        extra.append(f"{t.strftime('%b')} {t.day}")
    return t.strftime("%H:%M:%S" if seconds else "%H:%M"), extra


@jinja2.pass_context
def _clock(ctx: jinja2.runtime.Context, at: str | None) -> Markup:
    """A table cell's time: the extras (see _clock_parts) on a line of their own,
    so that the narrow time column never overflows."""
    if not at:
        return Markup("")
    time, extra = _clock_parts(ctx, at, seconds=True)
    if not extra:
        return escape(time)
    return Markup('{}<br><span class="muted">{}</span>').format(time, " ".join(extra))


@jinja2.pass_context
def _hm(ctx: jinja2.runtime.Context, at: str | None) -> str:
    """A time to the minute inside a sentence ("out 14:03–14:20"): "14:03", or
    "14:03 MDT, Nov 25" when it needs its extras."""
    if not at:
        return ""
    time, extra = _clock_parts(ctx, at, seconds=False)
    return " ".join([time, ", ".join(extra)]) if extra else time


@jinja2.pass_context
def _stamps(ctx: jinja2.runtime.Context, text: str) -> str:
    """Recorded text (an alert, a refusal's reason) with its UTC times local."""
    return localise(text, _tz(ctx))


_env.filters["when"] = _when
_env.filters["hms"] = _clock
_env.filters["hm"] = _hm
_env.filters["stamps"] = _stamps


def zone_abbrs(report: DailyReport) -> set[str]:
    """The zone abbreviations of the times the report's tables show (one, but for
    a day that changes to or from summer time)."""
    ats = [report.generated_at, report.as_of]
    ats += [e["at"] for e in report.timeline]
    ats += [t[k] for h in report.handled for t in h["turns"] for k in ("out", "back") if t[k]]
    return {zone_abbr(_local(at, report.tz)) for at in ats if at}


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
    abbrs = zone_abbrs(report)
    at = as_moment(report.as_of)
    ctx: dict[str, Any] = {
        "zone_abbr": next(iter(abbrs)) if len(abbrs) == 1 else None,
        "zone_note": zone_note(report.zone, report.tz, at),
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
