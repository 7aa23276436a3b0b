"""The catalog database: one DuckDB file, opened per operation, never held between calls.

DuckDB locks a database file against every other process while a connection is open, so
pxfs opens the catalog for one public call (one transaction) and closes it. Before it
opens the file, pxfs takes an OS lock on ``<catalog>.lock`` (see _filelock); a caller that
finds it held by another process waits, with backoff, up to ``catalog_lock_timeout``
seconds, then raises :class:`~pxfs.errors.CatalogBusyError`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any, ClassVar, Iterator

from ..errors import CatalogBusyError, CatalogError
from ._filelock import ProcessFileLock

__all__ = ["Catalog"]

SCHEMA = [
    """create table if not exists pxfs_meta (key varchar primary key, value varchar)""",
    """create table if not exists dirs (path varchar primary key, created timestamp)""",
    # A dropped table keeps its row (dropped set) so that gc can still prove which
    # objects it wrote; purged once its rows table and media are gone.
    """create table if not exists tables (
        id varchar primary key, path varchar not null, version integer not null,
        next_rowid bigint not null, next_col integer not null, created timestamp,
        last_made integer, oldest integer default 1, dropped timestamp, purged boolean default false)""",
    # purged: the column's physical columns are gone (expired or reverted).
    """create table if not exists columns (
        table_id varchar not null, col_id integer not null, name varchar not null,
        type varchar not null, computed varchar, destination varchar,
        added_version integer not null, dropped_version integer, purged boolean default false)""",
    """create table if not exists versions (
        table_id varchar not null, version integer not null, created timestamp,
        op varchar, row_count bigint)""",
]
SCHEMA_VERSION = "2"

_RETRY_MAX = 0.05  # longest pause between two attempts to open a catalog another process holds
_GIVE_WAY = 0.12  # how long a long operation leaves the catalog free each time it lets go


class Catalog:
    """Short-lived DuckDB connections to the catalog file at `path`.

    Examples
    --------
    >>> cat = Catalog(Path(tempfile.mkdtemp()) / "catalog.duckdb")
    >>> with cat.transaction() as con:
    ...     _ = con.execute("select 1").fetchone()
    """

    # DuckDB shares one database instance per file inside a process: serialize our use of
    # each file (two sessions on two catalogs do not wait for each other).
    _locks: ClassVar[dict[Path, threading.RLock]] = {}
    _locks_guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path, lock_timeout: float = 30.0) -> None:
        self.path = Path(path)
        with self._locks_guard:
            self._process_lock = self._locks.setdefault(self.path.resolve(), threading.RLock())
        self.lock_timeout = lock_timeout
        self._file_lock = ProcessFileLock.for_path(self.path.with_name(self.path.name + ".lock"))
        self._initialized = False
        self._held: Any = None  # a connection kept open inside `held()`
        self._held_since = 0.0
        self._hold_seconds = 0.0
        self._last_used = 0.0
        self._given_up = 0.0

    def __repr__(self) -> str:
        return f"Catalog({str(self.path)!r})"

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """An open connection (autocommit); closed on exit, unless inside :meth:`held`."""
        import duckdb

        with self._process_lock:
            if self._hold_seconds:
                if self._held is not None and time.monotonic() - self._held_since > self._hold_seconds:
                    self._release(for_others=True)  # let other processes in between our batches
                if self._held is None:
                    # After giving the file up, leave it free long enough for a waiting
                    # process (which retries every _RETRY_MAX seconds at most) to get in.
                    gap = self._given_up + _GIVE_WAY - time.monotonic()
                    if gap > 0:
                        time.sleep(gap)
                    self._held = self._open(duckdb)
                    self._held_since = time.monotonic()
                    if not self._initialized:
                        self._init_schema(self._held)
                try:
                    with self._translated(duckdb):
                        yield self._held
                finally:
                    self._last_used = time.monotonic()
                return
            con = self._open(duckdb)
            try:
                with self._translated(duckdb):
                    if not self._initialized:
                        self._init_schema(con)
                    yield con
            finally:
                self._close(con)

    @contextlib.contextmanager
    def _translated(self, duckdb: Any) -> Iterator[None]:
        """A DuckDB error that reaches a user is a :class:`CatalogError` naming the catalog."""
        try:
            yield
        except duckdb.Error as e:
            raise CatalogError(f"the catalog {self.path}: {type(e).__name__}: {e}") from e

    @contextlib.contextmanager
    def held(self, seconds: float = 2.0, idle: float = 0.5) -> Iterator[None]:
        """Reuse one connection for up to `seconds` at a time (opening DuckDB costs ~20-50 ms).

        For long operations made of many small catalog steps (``materialize``): the file is
        released at least every `seconds`, and `idle` seconds after its last use, by a
        watchdog thread, so a step that waits on storage (a stalled endpoint) never keeps
        other processes out of the catalog.
        """
        with self._process_lock:
            outer = self._hold_seconds
            self._hold_seconds = outer or seconds
        stop = threading.Event()
        watchdog = None
        if not outer:
            watchdog = threading.Thread(
                target=self._watch, args=(stop, self._hold_seconds, idle), name="pxfs-catalog-release", daemon=True
            )
            watchdog.start()
        try:
            yield
        finally:
            stop.set()
            if watchdog is not None:
                watchdog.join()
            with self._process_lock:
                self._hold_seconds = outer
                if not outer:
                    self._release()

    def _watch(self, stop: threading.Event, seconds: float, idle: float) -> None:
        """Close the held connection once it is idle for `idle` or open for `seconds`."""
        while not stop.wait(min(0.1, idle / 2)):
            if not self._process_lock.acquire(timeout=0.05):
                continue  # in use right now
            try:
                now = time.monotonic()
                if self._held is not None and (
                    now - self._last_used > idle or now - self._held_since > seconds
                ):
                    self._release(for_others=True)
            finally:
                self._process_lock.release()

    def _release(self, for_others: bool = False) -> None:
        if self._held is not None:
            con, self._held = self._held, None
            self._close(con)
            if for_others:
                self._given_up = time.monotonic()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        with self.connect() as con:
            con.execute("begin transaction")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")

    def _open(self, duckdb: Any) -> Any:
        """Take the catalog's file lock (waiting for another process), then open DuckDB."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CatalogError(
                f"cannot create the folder of the catalog {self.path} ({e.strerror or type(e).__name__}); "
                "point PXFS_HOME at a folder you can write"
            ) from e
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.005
        while not self._acquire_file_lock():
            if time.monotonic() >= deadline:
                raise CatalogBusyError(
                    f"the catalog {self.path} is held by another process and was not released "
                    f"within {self.lock_timeout:g}s; close the other process's long-running "
                    "operation or raise catalog_lock_timeout"
                )
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)
        try:
            return duckdb.connect(str(self.path))
        except BaseException as e:
            self._file_lock.release()
            if isinstance(e, duckdb.Error):
                raise CatalogError(
                    f"cannot open the catalog {self.path}: {type(e).__name__}: {e}; if another program "
                    "(the DuckDB CLI, a notebook's duckdb.connect) has it open, close it there: pxfs "
                    "opens the file for each call"
                ) from e
            raise

    def _acquire_file_lock(self) -> bool:
        try:
            return self._file_lock.try_acquire()
        except OSError as e:  # e.g. a read-only PXFS_HOME
            raise CatalogError(
                f"cannot open the catalog {self.path}: cannot create its lock file {self._file_lock.path} "
                f"({e.strerror or type(e).__name__}); make the folder writable or point PXFS_HOME elsewhere"
            ) from e

    def _close(self, con: Any) -> None:
        try:
            con.close()
        finally:
            self._file_lock.release()

    def _init_schema(self, con: Any) -> None:
        con.execute("begin transaction")
        try:
            found = None
            if con.execute(
                "select 1 from information_schema.tables where table_name = 'pxfs_meta'"
            ).fetchone():
                row = con.execute("select value from pxfs_meta where key = 'schema_version'").fetchone()
                found = row[0] if row else None
            if found == "1":
                _migrate_from_1(con)
            elif found not in (None, SCHEMA_VERSION):
                raise CatalogError(
                    f"the catalog {self.path} has schema version {found}, newer than this pxfs "
                    f"understands ({SCHEMA_VERSION}); upgrade pxfs"
                )
            for stmt in SCHEMA:
                con.execute(stmt)
            con.execute(
                "insert into pxfs_meta values ('schema_version', ?) on conflict do nothing", [SCHEMA_VERSION]
            )
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
        self._initialized = True


def _migrate_from_1(con: Any) -> None:
    """Schema 1 deleted rows and dropped columns in place; schema 2 keeps them per version."""
    con.execute("alter table tables add column last_made integer")
    con.execute("alter table tables add column oldest integer default 1")
    con.execute("alter table tables add column dropped timestamp")
    con.execute("alter table tables add column purged boolean default false")
    con.execute("update tables set last_made = version, oldest = 1, purged = false")
    con.execute("alter table columns add column purged boolean default false")
    # Schema 1 dropped the physical columns of a dropped column.
    con.execute("update columns set purged = (dropped_version is not null)")
    for (table_id,) in con.execute("select id from tables").fetchall():
        con.execute(f"alter table rows_{table_id} add column _vdel integer")
    con.execute("update pxfs_meta set value = ? where key = 'schema_version'", [SCHEMA_VERSION])
