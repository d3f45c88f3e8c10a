"""COMPLAINT_ACKNOWLEDGE: safety complaints are acknowledged within 24 h."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..errors import Violation
from ..events import parse_utc
from ..incidents import COMPLAINT_ACK_HOURS
from . import produces

if TYPE_CHECKING:
    from ..incidents import Complaint


@produces("COMPLAINT_ACKNOWLEDGE")
def acknowledged_in_time(complaints: Iterable[Complaint], at: datetime) -> list[Violation]:
    """At issue of a firearm: no complaint has waited more than 24 h for
    acknowledgement, whatever it is about (one violation per complaint)."""
    return [Violation("COMPLAINT_ACKNOWLEDGE",
                      f"safety complaint {c.id} has waited more than "
                      f"{COMPLAINT_ACK_HOURS} h for acknowledgement", f"complaint:{c.id}")
            for c in complaints
            if c.acknowledged_at is None and parse_utc(c.filed_at) + timedelta(
                hours=COMPLAINT_ACK_HOURS) < at]
