"""The bounds of every free-text and counted field, in one table.

The rule engine checks them (``common.text``/``common.count``) and the API's
request schema is built from them (``api/schemas.py``), so the OpenAPI document
promises exactly what the server accepts: a request the schema allows is never
refused for its shape, and one it forbids never reaches the rules. Bounds that
depend on the production's state (rounds fired cannot exceed rounds loaded) are
checked by the rules alone and answered 422 ``INVALID_INPUT`` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """Inclusive bounds: characters after trimming for text, the value for numbers."""

    low: int
    high: int


TEXT = Bound(1, 2000)  # descriptions, findings, complaints, responses, notes, reasons
OVERRIDE_REASON = Bound(10, 2000)  # a soft rule bent needs a reason worth reading
COMPLAINANT = Bound(0, 120)  # the name (or role) someone without an account gives; may be empty
NAME = Bound(1, 200)  # people, productions, scenes, storage, makes, models, suppliers, topics
SERIAL = Bound(1, 64)
BADGE = Bound(1, 64)
CALIBRE = Bound(1, 32)
POSITION = Bound(1, 40)  # "chamber 3", "magazine", "barrel"
CHAMBERS = Bound(1, 20)
MAGAZINE_CAPACITY = Bound(0, 200)
LOT_ROUNDS = Bound(1, 100_000)  # rounds received in one lot
ROUNDS = Bound(0, 100_000)  # any other count of rounds
OVERDUE_MINUTES = Bound(1, 600)
MIN_DISTANCE_M = Bound(0, 10_000)
