"""The ledger known-answer file, shared by the ledger tests.

``tests/data/ledger-vectors.json`` holds values computed by Go's
golang.org/x/mod/sumdb/tlog and sumdb/note, never by coldcheck itself: it is
what ``tests/interop/vectors`` prints (regenerate with
``bash tests/interop/regenerate-vectors``; ``test_known_answers_are_what_go_prints``
checks the committed bytes whenever Go is present, and always under CI).
Importable from any test as ``from ledger_vectors import vectors`` (``tests/``
is on ``sys.path`` because the root ``conftest.py`` lives there).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

VECTORS_FILE = Path(__file__).resolve().parent / "data" / "ledger-vectors.json"


@cache
def vectors() -> dict[str, Any]:
    """The parsed known-answer file (read once per test session)."""
    data: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    return data
