"""How things read and look on the tablet: state labels with shapes (never
colour alone), loads, times. Jinja filters and globals."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

import jinja2
from markupsafe import Markup

from ..documents.wording import incident_words, role_words, round_words
from ..domain.events import parse_utc
from ..domain.zones import is_utc
from ..domain.zones import local_text as _local_text
from ..domain.zones import zone_abbr as zone_abbr
from ..domain.zones import zone_offset as zone_offset

# state -> (shape, words); the CSS gives each a colour as well, never only a colour
STATES: dict[str, tuple[str, str]] = {
    "in_storage": ("■", "In storage"),
    "inspected": ("◆", "Inspected"),
    "issued": ("▲", "Issued"),
    "returned": ("●", "Returned"),
    "frozen": ("✖", "Frozen"),
    "grounded": ("⊘", "Grounded"),
    "retired": ("—", "Retired"),
}
KINDS = {"firearm": "Firearm", "blank_only": "Blank-firing", "non_firing_replica":
         "Non-firing replica", "rubber": "Rubber", "airsoft": "Airsoft", "other": "Other"}


def state_label(state: str) -> str:
    shape, words = STATES.get(state, ("?", state))
    return f"{shape} {words}"


def load_text(load: Mapping[str, Any] | None) -> str:
    if not load or not load.get("count"):
        return "Empty"
    kind = str(load.get("kind"))
    n = int(load["count"])
    plural = {"dummy": "dummies", "blank": "blanks"}.get(kind, kind + "s") if n != 1 else kind
    return f"{n} {plural} from {load.get('lot')}"


def load_class(load: Mapping[str, Any] | None) -> str:
    """hot (blanks in it), dummy or empty."""
    if not load or not load.get("count"):
        return "empty"
    return "hot" if load.get("kind") == "blank" else "dummy"


def load_word(load: Mapping[str, Any] | None) -> str:
    return {"hot": "HOT", "dummy": "COLD", "empty": "COLD"}[load_class(load)]


def minutes_since(at: str | None, now: datetime) -> int | None:
    if not at:
        return None
    return max(0, int((now - parse_utc(at)).total_seconds() // 60))


# ---- times: shown in the set's time zone (Settings.timezone), UTC kept beside ----
Moment = str | datetime | None


def moment(at: Moment) -> datetime | None:
    """An RFC 3339 UTC text as stored (or an aware datetime) as an aware datetime."""
    if at is None or at == "":
        return None
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError("naive datetime: every time in coldcheck is timezone-aware")
        return at
    return parse_utc(at)


def local_text(at: Moment, tz: tzinfo = UTC, *, date: bool = False,
               seconds: bool = True) -> str:
    """``at`` in ``tz`` with the zone's abbreviation: "14:03:27 MST", or with
    ``date``, "2025-01-15 14:03:27 MST". Empty for no time."""
    return _local_text(moment(at), tz, date=date, seconds=seconds)


def utc_line(at: Moment, tz: tzinfo = UTC, *, seconds: bool = True) -> str:
    """The UTC time shown beside a local one ("21:03:27 UTC"), with the UTC date
    when it is not the local date. Empty when the pages already show UTC."""
    t = moment(at)
    if t is None or is_utc(tz):
        return ""
    u = t.astimezone(UTC)
    other_day = u.date() != t.astimezone(tz).date()
    fmt = ("%Y-%m-%d " if other_day else "") + ("%H:%M:%S" if seconds else "%H:%M")
    return f"{u.strftime(fmt)} UTC"


def time_html(at: Moment, tz: tzinfo = UTC, *, date: bool = False, seconds: bool = True,
              utc_beside: bool = False) -> Markup:
    """A ``<time>`` element: local time with its zone; the exact UTC instant in its
    ``datetime`` attribute and in its ``title``; with ``utc_beside``, the UTC time
    also in a small line after it (timelines: investigators reason in UTC)."""
    t = moment(at)
    if t is None:
        return Markup("")
    u = t.astimezone(UTC)
    shown = local_text(t, tz, date=date, seconds=seconds)
    if is_utc(tz):
        return Markup('<time datetime="{}">{}</time>').format(
            u.strftime("%Y-%m-%dT%H:%M:%SZ"), shown)
    html = Markup('<time datetime="{}" title="{}">{}</time>').format(
        u.strftime("%Y-%m-%dT%H:%M:%SZ"), u.strftime("%Y-%m-%d %H:%M:%S UTC"), shown)
    if utc_beside:
        html += Markup(' <small class="utc">({})</small>').format(utc_line(t, tz,
                                                                        seconds=seconds))
    return html


def _tz(ctx: jinja2.runtime.Context) -> tzinfo:
    tz = ctx.get("tz")
    return tz if isinstance(tz, tzinfo) else UTC


@jinja2.pass_context
def hhmm(ctx: jinja2.runtime.Context, at: Moment) -> Markup:
    """A time of day to the minute (due back 14:35 MDT)."""
    return time_html(at, _tz(ctx), seconds=False)


@jinja2.pass_context
def clock(ctx: jinja2.runtime.Context, at: Moment) -> Markup:
    """A time of day to the second (updated 14:03:27 MDT)."""
    return time_html(at, _tz(ctx))


@jinja2.pass_context
def when(ctx: jinja2.runtime.Context, at: Moment) -> Markup:
    """Date and time, with the UTC time beside it when the pages are not in UTC."""
    return time_html(at, _tz(ctx), date=True, utc_beside=True)


@jinja2.pass_context
def localised(ctx: jinja2.runtime.Context, text: str) -> str:
    """An alert's message with its RFC 3339 UTC times in the pages' zone."""
    from ..domain.zones import localise

    return localise(text, _tz(ctx))


def roles_text(roles: list[str]) -> str:
    return ", ".join(role_words(r) for r in roles)


# PEOPLE_ROLE_CONFLICT: the combinations domain.people.role_conflicts flags
CONFLICTS = {"armorer_other_department": "Armorer with another department's role",
             "first_ad_safety_supervisor": "1st AD also safety supervisor"}


def conflict_text(conflict: str) -> str:
    return CONFLICTS.get(conflict, conflict.replace("_", " "))


FILTERS: dict[str, Callable[..., Any]] = {
    "state_label": state_label, "load_text": load_text, "load_class": load_class,
    "load_word": load_word, "hhmm": hhmm, "when": when, "clock": clock,
    "localised": localised,
    "roles_text": roles_text, "conflict_text": conflict_text,
    "incident_words": incident_words, "round_words": round_words,
}
GLOBALS: dict[str, Any] = {"minutes_since": minutes_since, "STATES": STATES, "KINDS": KINDS}
