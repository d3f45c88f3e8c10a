"""What a coldcheck SQLite database's schema may be: exactly what its
migrations create, at its revision, and nothing else.

SQL in the file runs inside coldcheck's own reads and writes: a trigger
planted by whoever can write the file (with no key) could rewrite an entry and
its hashes in the very transaction that appends the next event, before a
checkpoint is signed over them; a changed table definition (a default, a
check, a collation) could change what is stored. ``ledger verify`` compares
every row of ``sqlite_master`` (tables, indexes, triggers, views; by name and
SQL, whatever its ``type`` column says, which SQLite itself ignores when it
loads the schema) with a fresh database migrated to the same revision.
``coldcheck restore`` goes further: it never keeps a backup's schema at all,
and copies its rows into a freshly migrated file.
"""

from __future__ import annotations

import functools
import sqlite3
import tempfile
from pathlib import Path

Schema = frozenset[tuple[str, str]]  # (name, sql with whitespace folded)

# Every row, whatever its type says; SQLite's own objects (autoindexes, the
# sequence table) have no SQL of coldcheck's to compare.
QUERY = "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"


def fold(rows: object) -> Schema:
    return frozenset((str(n), " ".join(str(q).split()))
                     for n, q in rows)  # type: ignore[attr-defined]


def revision(db: sqlite3.Connection | sqlite3.Cursor) -> str | None:
    """The alembic revision a database says it is at (None: it says none)."""
    try:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


@functools.cache
def expected(rev: str) -> Schema | None:
    """The schema of a fresh database migrated to ``rev`` (None: no such
    revision)."""
    from .store import Store

    with tempfile.TemporaryDirectory(prefix="coldcheck-schema-") as d:
        fresh = Path(d) / "fresh.db"
        store = Store(str(fresh), lock=False)
        try:
            store.migrate(rev)
        except Exception:  # alembic's, for a revision it does not know
            return None
        finally:
            store.dispose()
        db = sqlite3.connect(fresh)
        try:
            return fold(db.execute(QUERY))
        finally:
            db.close()


def check(db: sqlite3.Connection | sqlite3.Cursor) -> list[str]:
    """What differs between the open database ``db`` and what coldcheck's
    migrations create at its revision, in words (empty: nothing)."""
    found = fold(db.execute(QUERY))
    return differences(revision(db), found)


def differences(rev: str | None, found: Schema) -> list[str]:
    """What differs between a database at ``rev`` holding ``found`` and what
    coldcheck's migrations create at that revision, in words (empty: nothing)."""
    if rev is None:
        return ["it records no coldcheck schema revision"]
    ours = expected(rev)
    if ours is None:
        return [f"its schema revision {rev!r} is not one of coldcheck's"]
    by_name = dict(found)
    mine = dict(ours)
    out = []
    extra = sorted(set(by_name) - set(mine))
    missing = sorted(set(mine) - set(by_name))
    changed = sorted(n for n in set(mine) & set(by_name) if mine[n] != by_name[n])
    if extra:
        out.append(f"objects coldcheck does not create: {', '.join(extra)}")
    if missing:
        out.append(f"objects missing: {', '.join(missing)}")
    if changed:
        out.append(f"objects whose definition differs: {', '.join(changed)}")
    if len(found) != len(by_name):
        out.append("objects defined twice under one name")
    return out
