"""How things read and look on the tablet: state labels with shapes (never
colour alone), loads, times. Jinja filters and globals."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..domain.events import parse_utc

# state -> (shape, words); the CSS gives each a colour as well, never only a colour
STATES: dict[str, tuple[str, str]] = {
    "in_storage": ("■", "In storage"),
    "inspected": ("◆", "Inspected"),
    "issued": ("▲", "Issued"),
    "returned": ("●", "Returned"),
    "frozen": ("✖", "Frozen"),
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


def hhmm(at: str | None) -> str:
    return f"{at[11:16]} UTC" if at else ""


def when(at: str | None) -> str:
    return f"{at[:10]} {at[11:19]} UTC" if at else ""


def roles_text(roles: list[str]) -> str:
    return ", ".join(r.replace("_", " ") for r in roles)


FILTERS: dict[str, Callable[..., Any]] = {
    "state_label": state_label, "load_text": load_text, "load_class": load_class,
    "load_word": load_word, "hhmm": hhmm, "when": when, "roles_text": roles_text,
}
GLOBALS: dict[str, Any] = {"minutes_since": minutes_since, "STATES": STATES, "KINDS": KINDS}
