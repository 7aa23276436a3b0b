"""Which process has the catalog open: an OS lock on ``<catalog>.lock`` beside the file.

DuckDB locks its database file against other processes too, but says so only in an
exception's text (``IOException``, the same type as a disk error). pxfs takes its own lock
first, so waiting for another pxfs process is decided by the OS, and an error DuckDB raises
afterwards is a real error. Inside one process every opener of a path shares one lock, as
DuckDB shares one database instance per file.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import ClassVar

__all__ = ["ProcessFileLock"]


class ProcessFileLock:
    """An exclusive, non-blocking lock on `path`, shared by the threads of this process.

    Examples
    --------
    >>> lock = ProcessFileLock.for_path(Path(tempfile.mkdtemp()) / "catalog.duckdb.lock")
    >>> lock.try_acquire()
    True
    >>> lock.release()
    """

    _by_path: ClassVar[dict[Path, ProcessFileLock]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._users = 0

    def __repr__(self) -> str:
        return f"ProcessFileLock({str(self.path)!r}, users={self._users})"

    @classmethod
    def for_path(cls, path: Path) -> ProcessFileLock:
        with cls._guard:
            key = path.resolve()
            lock = cls._by_path.get(key)
            if lock is None:
                lock = cls._by_path[key] = cls(key)
            return lock

    def try_acquire(self) -> bool:
        """Take the lock (or join this process's hold of it); False if another process has it."""
        with self._guard:
            if self._users:
                self._users += 1
                return True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _lock(fd):
                os.close(fd)
                return False
            self._fd, self._users = fd, 1
            return True

    def release(self) -> None:
        with self._guard:
            self._users -= 1
            if self._users == 0 and self._fd is not None:
                fd, self._fd = self._fd, None
                _unlock(fd)
                os.close(fd)


def _forget_after_fork() -> None:
    """A forked child does not hold its parent's locks: drop them without unlocking (an
    unlock through the inherited descriptor would release the parent's lock)."""
    for lock in ProcessFileLock._by_path.values():
        if lock._fd is not None:
            os.close(lock._fd)
    ProcessFileLock._by_path = {}
    ProcessFileLock._guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
