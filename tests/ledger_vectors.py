"""The ledger known-answer file, shared by the ledger tests.

``../shared/testdata/ledger-vectors.json`` (beside the repository root) holds
values computed by Go's golang.org/x/mod/sumdb/tlog and sumdb/note, never by
coldcheck itself. Importable from any test as ``from ledger_vectors import
vectors`` (``tests/`` is on ``sys.path`` because the root ``conftest.py`` lives
there).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any


def find_ledger_vectors() -> Path:
    """Locate ledger-vectors.json in the ``shared`` folder beside the repository root."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file():
            candidate = parent / ".." / "shared" / "testdata" / "ledger-vectors.json"
            if candidate.is_file():
                return candidate.resolve()
            raise FileNotFoundError(
                f"known-answer file not found at {candidate.resolve()}: the shared test "
                "data must sit beside the repository root (../shared/testdata/)"
            )
    raise FileNotFoundError("repository root (pyproject.toml) not found above this test")


@cache
def vectors() -> dict[str, Any]:
    """The parsed known-answer file (read once per test session)."""
    data: dict[str, Any] = json.loads(find_ledger_vectors().read_text(encoding="utf-8"))
    return data
