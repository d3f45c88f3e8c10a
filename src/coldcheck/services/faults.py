"""Faults of the machine, not of the request: a full disk, a database another
program keeps locked, a read-only file system, a key folder that cannot be read.

:func:`fault_of` turns what the driver or the operating system raised into a
:class:`Fault` with a stable code and plain advice, or None when the exception
is not one of these (a defect: it stays a 500 with its traceback in the log).
Every surface renders a fault like any other error: the CLI prints its code and
advice, the API answers ``503`` (with ``Retry-After`` where waiting helps, never
``500``), the tablet shows what to do next.

A fault never says what was recorded by itself: the write paths make sure of
that (services/idempotency.py). A fault before the commit means nothing was
recorded; after the commit the answer is the recorded outcome, not the fault.
"""

from __future__ import annotations

import errno
from typing import Any

from sqlalchemy.exc import DBAPIError

from ..domain.errors import Unavailable

# code -> (kind, seconds to wait before retrying, or None where waiting alone
# does not help, advice). DATABASE_BUSY keeps its kind (CLI exit code 4).
FAULTS: dict[str, tuple[str, int | None, str]] = {
    "DISK_FULL": ("unavailable", 30, "the disk holding the database is full; nothing was "
                  "recorded. Free space on it (old backups, logs), then try again: what is "
                  "already recorded is safe"),
    "DATABASE_BUSY": ("conflict", 1, "the database stayed locked by another program; nothing "
                      "was recorded. Try again in a moment; if it persists, find the program "
                      "holding the database"),
    "DISK_IO_ERROR": ("unavailable", 30, "the disk holding the database failed a write (it "
                      "may be full, or failing); nothing was recorded. Check the free space "
                      "and the disk, then try again: what is already recorded is safe"),
    "READ_ONLY_STORAGE": ("unavailable", None, "the database is on storage that can only be "
                          "read (a read-only file system or database); nothing was recorded. "
                          "Whoever runs the server makes it writable again: what is already "
                          "recorded is safe"),
    "KEY_FOLDER_UNREADABLE": ("unavailable", None, "the key folder cannot be read or written "
                              "(permissions, or the disk); nothing was signed with it. "
                              "Whoever runs the server checks that the key folder exists and "
                              "belongs to the user coldcheck runs as"),
}

# SQLSTATEs of PostgreSQL: 53100 disk_full, 53000 insufficient_resources (a
# full WAL or temp disk), 25006 read_only_sql_transaction, 55P03
# lock_not_available (lock_timeout), 40P01 deadlock_detected (retry).
_PG_STATES = {"53100": "DISK_FULL", "53000": "DISK_FULL", "25006": "READ_ONLY_STORAGE",
              "55P03": "DATABASE_BUSY", "40P01": "DATABASE_BUSY"}


class Fault(Unavailable):
    """A fault of the machine: nothing was recorded by the step that failed.
    DATABASE_BUSY keeps its kind, ``conflict`` (see FAULTS)."""

    def __init__(self, code: str, said: str, *, where: str = "") -> None:
        kind, retry, advice = FAULTS[code]
        msg = f"{advice} ({where + ': ' if where else ''}{said})"
        details: dict[str, Any] = {}
        if retry is not None:
            details["retry_after"] = retry
        super().__init__(code, msg, **details)
        self.kind = kind


def _sqlite_code(said: str) -> str | None:
    s = said.lower()
    if "disk is full" in s or "database or disk is full" in s:
        return "DISK_FULL"
    if "database is locked" in s or "database table is locked" in s or "busy" in s:
        return "DATABASE_BUSY"
    if "readonly database" in s or "read-only" in s or "read only" in s:
        return "READ_ONLY_STORAGE"
    if "disk i/o error" in s:  # SQLite's word for a failed write, a full disk among them
        return "DISK_IO_ERROR"
    return None


def _os_code(e: OSError, *, key_folder: bool) -> str | None:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return "DISK_FULL"
    if e.errno == errno.EROFS:
        return "READ_ONLY_STORAGE"
    if key_folder and e.errno in (errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR,
                                  errno.EIO):
        return "KEY_FOLDER_UNREADABLE"
    return None


def fault_of(exc: BaseException, *, key_folder: bool = False) -> Fault | None:
    """The fault ``exc`` reports, or None. ``key_folder``: an OSError met while
    reading or writing the key folder (signing keys, the server secret, the
    kept checkpoint), where a missing permission is the key folder's fault."""
    if isinstance(exc, Fault):
        return exc
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        said = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        code = _PG_STATES.get(str(state)) if state else _sqlite_code(said)
        return None if code is None else Fault(code, said, where="database")
    if isinstance(exc, OSError):
        code = _os_code(exc, key_folder=key_folder)
        if code is None:
            return None
        where = str(exc.filename) if exc.filename else ""
        return Fault(code, exc.strerror or str(exc), where=where)
    return None
