"""What SQL a coldcheck SQLite database may hold besides its tables: the
triggers and views its migrations create, and nothing else.

A trigger runs inside coldcheck's own writes. One planted in the file (by
whoever can write it, with no key) could rewrite an entry and its hashes in
the very transaction that appends the next event, before a checkpoint is
signed over it. ``ledger verify`` and ``coldcheck restore`` compare the file's
triggers and views with those of a freshly migrated database.
"""

from __future__ import annotations

import functools
import sqlite3
import tempfile
from pathlib import Path

Schema = frozenset[tuple[str, str, str]]  # (type, name, sql with whitespace folded)

QUERY = "SELECT type, name, sql FROM sqlite_master WHERE type IN ('trigger', 'view')"


def fold(rows: object) -> Schema:
    return frozenset((str(t), str(n), " ".join(str(q).split()))
                     for t, n, q in rows)  # type: ignore[attr-defined]


@functools.cache
def expected() -> tuple[str | None, Schema]:
    """The revision and the triggers and views of a database migrated now."""
    from .store import Store

    with tempfile.TemporaryDirectory(prefix="coldcheck-schema-") as d:
        fresh = Path(d) / "fresh.db"
        store = Store(str(fresh), lock=False)
        try:
            store.migrate()
        finally:
            store.dispose()
        db = sqlite3.connect(fresh)
        try:
            rev = db.execute("SELECT version_num FROM alembic_version").fetchone()
            return str(rev[0]), fold(db.execute(QUERY))
        finally:
            db.close()


def differences(revision: str | None, found: Schema) -> tuple[list[str], list[str]]:
    """(extra, missing) trigger and view names of a database at ``revision``
    holding ``found``: extra ones are never coldcheck's; missing ones count only
    at the latest revision (an older database is migrated when next opened)."""
    head, ours = expected()
    extra = sorted({n for _, n, _ in found - ours})
    missing = sorted({n for _, n, _ in ours - found}) if revision == head else []
    return extra, missing
