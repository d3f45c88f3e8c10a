"""Shooting days, scenes, safety meetings."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_OVERDUE_MINUTES = 30
BLANK_MIN_DISTANCE_M = 6


@dataclass
class Day:
    id: str
    date: str
    open: bool = True
    meal_break: bool = False


@dataclass
class Scene:
    id: str
    day: str
    name: str
    hot: bool
    rehearsal: bool
    weapons: list[str]
    performers: list[str]
    pointing: bool = False
    pointing_description: str = ""
    overdue_minutes: int = DEFAULT_OVERDUE_MINUTES
    min_distance_m: int | None = None  # closest person in the line of fire, blanks only
    shielded: bool = False
    pointing_acks: dict[str, str] = field(default_factory=dict)  # role -> person


@dataclass
class Meeting:
    id: str
    day: str
    scenes: list[str]
    attendees: list[str]
    led_by: str
