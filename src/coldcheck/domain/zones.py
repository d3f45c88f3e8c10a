"""The production's time zone: what "today" is on set, and how times read.

The record stays in UTC (every event's ``at``); a production names one IANA
time zone (``production.timezone_set``) that its pages, CLI output and PDFs
show times in, and whose calendar decides the date of a new shooting day and
of the daily report. Standard library only (zoneinfo reads the system's time
zone database, or the ``tzdata`` package where the system has none)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .errors import InvalidInput


@lru_cache(maxsize=1)
def known_zones() -> frozenset[str]:
    """Every IANA zone name this machine's time zone database holds (plus UTC)."""
    return frozenset(available_timezones()) | {"UTC"}


def zone(name: str) -> tzinfo:
    """The time zone named ``name``; ValueError (saying what to write instead) for
    a name that is not an IANA zone here. ``UTC`` needs no database."""
    if name == "UTC":
        return UTC
    if name in known_zones():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed but unreadable
            pass
    hint = ("" if len(known_zones()) > 1 else
            " (this machine has no time zone database: install the system's tzdata "
            "package, or `pip install tzdata`)")
    raise ValueError(f"unknown time zone {name!r}: use an IANA name such as America/Denver, "
                     f"Europe/London or UTC{hint}")


def check_zone(name: str) -> str:
    """``name`` (trimmed) if it is a known IANA zone, else INVALID_INPUT."""
    name = (name or "").strip()
    try:
        zone(name)
    except ValueError as e:
        raise InvalidInput("INVALID_INPUT", str(e), field="timezone") from None
    return name


def zone_or_utc(name: str | None) -> tzinfo:
    """The zone named ``name``; UTC for None, or for a name this machine's time
    zone database does not know (a ledger moved to a machine without tzdata)."""
    if name is None:
        return UTC
    try:
        return zone(name)
    except ValueError:
        return UTC


def local_date(at: datetime, tz: tzinfo) -> str:
    """The calendar date (YYYY-MM-DD) on set at the instant ``at``."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: every time in coldcheck is timezone-aware")
    return at.astimezone(tz).date().isoformat()


def as_moment(at: str | datetime) -> datetime:
    """An RFC 3339 UTC text as stored (``...Z``), or an aware datetime."""
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ValueError("naive datetime: every time in coldcheck is timezone-aware")
        return at
    text = at.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    t = datetime.fromisoformat(text)
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def zone_abbr(t: datetime) -> str:
    """The zone's abbreviation at ``t`` (EST, EDT, UTC); zones that have none (the
    tz database writes "-03") read as UTC-03."""
    name = t.tzname() or ""
    return f"UTC{name}" if name[:1] in ("+", "-") else name or "UTC"


def local_text(at: str | datetime | None, tz: tzinfo = UTC, *, date: bool = False,
               seconds: bool = True) -> str:
    """``at`` in ``tz`` with the zone's abbreviation: "14:03:27 EST", or with
    ``date``, "2026-01-15 14:03:27 EST". Empty for no time."""
    if at is None or at == "":
        return ""
    t = as_moment(at).astimezone(tz)
    fmt = ("%Y-%m-%d " if date else "") + ("%H:%M:%S" if seconds else "%H:%M")
    return f"{t.strftime(fmt)} {zone_abbr(t)}"


def is_utc(tz: tzinfo) -> bool:
    return tz is UTC or getattr(tz, "key", None) in ("UTC", "Etc/UTC", "Etc/Zulu", "Zulu")


def zone_offset(tz: tzinfo, at: datetime) -> str:
    """"UTC-05:00" for America/New_York in winter; "UTC" for UTC."""
    off = at.astimezone(tz).utcoffset()
    if not off:
        return "UTC"
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_note(name: str, tz: tzinfo, at: datetime) -> str:
    """"America/New_York (EST, UTC-05:00)" at ``at``; "UTC" for UTC."""
    if is_utc(tz):
        return "UTC"
    return f"{name} ({zone_abbr(at.astimezone(tz))}, {zone_offset(tz, at)})"


_STAMP = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\b")


def localise(text: str, tz: tzinfo) -> str:
    """``text`` (an alert's message, say) with every RFC 3339 UTC time in it
    written as local time with its zone ("2026-01-15 14:35 EST"); unchanged
    when ``tz`` is UTC but for the form ("2026-01-15 19:35 UTC")."""
    return _STAMP.sub(lambda m: local_text(m.group(0), tz, date=True, seconds=False), text)
