"""The advisory lock that keeps ``coldcheck restore`` from swapping a SQLite file
under anyone using it.

An open SQLite connection follows its file, not its name: after a restore
renames the database aside and puts the backup in its place, a server or a
command that had it open would go on recording into the replaced file, with
caches (state, Merkle frontier, hashes) from the replaced ledger. So every
``Store`` on a SQLite file holds a shared ``flock`` on ``<file>.lock`` (the
file's real path, links resolved) for as long as it is open, ``serve`` holds
one from before it first reads, and a restore needs it exclusively.

Where the lock file cannot be created (a write-protected stick an investigator
reads a backup from), users go without: nobody can restore there either.
"""

from __future__ import annotations

import logging
import os
import weakref
from pathlib import Path

from ..domain.errors import Conflict, InvalidInput

log = logging.getLogger("coldcheck")


def lock_path(database: Path) -> Path:
    return Path(f"{database.resolve()}.lock")


class DatabaseLock:
    """A held ``flock`` on ``<database>.lock``: shared, or exclusive for a
    restore. DATABASE_BUSY if it cannot be had at once. ``required=False``:
    go without if the lock file cannot be created."""

    def __init__(self, database: Path, *, exclusive: bool, required: bool = True) -> None:
        import fcntl

        path = lock_path(database)
        self._release = None
        try:
            # As private as the database (0600 for a new one): whoever may read
            # the database may take the shared lock, on a read-only descriptor
            # if need be, and nobody else.
            try:
                mode = database.stat().st_mode & 0o666
            except OSError:
                mode = 0o600
            fd = os.open(path, os.O_RDWR | os.O_CREAT, mode)
        except OSError as e:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                # It cannot be created (a write-protected stick): nobody can
                # restore there either.
                if required:
                    raise InvalidInput("DATABASE_UNREADABLE", f"cannot create {path} ({e}); "
                                       "nothing was changed") from None
                log.debug("no lock at %s (%s): going without", path, e)
                return
            except OSError as e2:
                # It is there but not ours to open: going without would let a
                # restore swap the database under us.
                raise InvalidInput("DATABASE_UNREADABLE", f"{path} cannot be opened ({e2}): "
                                   "every coldcheck on this database (the server, the CLI, a "
                                   "restore) must run as the same user; nothing was "
                                   "changed") from None
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if exclusive:
                raise Conflict("DATABASE_BUSY", f"a coldcheck server or command is using "
                               f"{database} (it holds {path}): stop it, then restore; "
                               "nothing was changed") from None
            raise Conflict("DATABASE_BUSY", f"{database} is being restored (the restore "
                           f"holds {path}); try again when it has finished") from None
        except BaseException:
            os.close(fd)
            raise
        # Closing the descriptor releases the lock: on release(), or when the
        # holder is collected without being released.
        self._release = weakref.finalize(self, os.close, fd)

    def release(self) -> None:
        if self._release is not None:
            self._release()

    def __enter__(self) -> DatabaseLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
