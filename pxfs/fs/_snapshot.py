"""Parquet files of a table version for ``pxfs://dir/table.parquet`` and ``table@N.parquet``.

Reading a snapshot is reading the table: the owed cells of the version are computed
first (for version N, the owed cells of rows that version holds). The file is written
page by page (see :func:`pxfs.tables._parquet.write_snapshot`) to a temporary file, so
a snapshot of millions of rows never sits in memory: small ones (up to ``small_bytes``)
are then kept as bytes, larger ones as files in a private temporary folder.

Tools ask for a file's size before they read it (DuckDB calls ``size``, ``open``, then
``size`` again), so snapshots are kept in a small per-filesystem LRU keyed by a
fingerprint of the version that changes whenever the snapshot could (see
:func:`pxfs.catalog.rows.fingerprint`). To change how much is kept, build the cache with
other limits.
"""

from __future__ import annotations

import collections
import io
import os
import shutil
import tempfile
import threading
import weakref
from typing import Any

from ..catalog import rows
from ._paths import Node

__all__ = ["SnapshotCache", "snapshot_open", "snapshot_size"]


class SnapshotCache:
    """Least recently used snapshots: bytes up to `max_bytes` in all, and at most `max_files`
    temporary files (snapshots larger than `small_bytes`), removed when evicted.

    Examples
    --------
    >>> cache = SnapshotCache(max_bytes=2**20, small_bytes=2**16, max_files=2)
    >>> cache.put(("t", 1), b"PAR1...")
    >>> cache.get(("t", 1))
    b'PAR1...'
    """

    def __init__(self, max_bytes: int = 64 * 2**20, small_bytes: int = 16 * 2**20, max_files: int = 4) -> None:
        self.max_bytes = max_bytes
        self.small_bytes = small_bytes
        self.max_files = max_files
        self._items: collections.OrderedDict[tuple[Any, ...], bytes | str] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._dir: str | None = None

    def get(self, key: tuple[Any, ...]) -> bytes | str | None:
        """The snapshot's bytes, or the path of its file; None if not kept."""
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: tuple[Any, ...], data: bytes | str) -> None:
        """Keep bytes (dropped if over `max_bytes`) or a file this cache made (see :meth:`new_path`)."""
        if isinstance(data, bytes) and len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if isinstance(old, str) and old != data:
                _remove(old)
            self._items[key] = data
            while (sum(len(v) for v in self._items.values() if isinstance(v, bytes)) > self.max_bytes
                   or sum(isinstance(v, str) for v in self._items.values()) > self.max_files):
                _, gone = self._items.popitem(last=False)
                if isinstance(gone, str):
                    _remove(gone)  # a reader that has it open keeps reading it (POSIX)

    def new_path(self) -> str:
        """A fresh file name in this cache's temporary folder (removed with the cache)."""
        with self._lock:
            if self._dir is None:
                self._dir = tempfile.mkdtemp(prefix="pxfs-snapshots-")
                weakref.finalize(self, shutil.rmtree, self._dir, True)
            fd, path = tempfile.mkstemp(suffix=".parquet", dir=self._dir)
        os.close(fd)
        return path


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _build(node: Node, cache: SnapshotCache, session: Any) -> bytes | str:
    """The snapshot `node` names, from the cache or written now (computing owed cells first)."""
    from ..tables._parquet import write_snapshot

    assert node.kind == "snapshot" and node.meta is not None
    env = session
    with env.catalog.connect() as con:
        meta = rows.load_table(con, node.dotted, version=node.version)
    if meta is None or meta.id != node.meta.id:
        raise FileNotFoundError(f"pxfs://{node.path}: table {node.dotted!r} was dropped meanwhile")
    table = session.get_table(f"{node.dotted}:{meta.version}")  # a version never changes
    table.materialize(show_progress=False)
    with env.catalog.connect() as con:
        key = rows.fingerprint(con, meta)
    found = cache.get(key)
    if found is not None and (isinstance(found, bytes) or os.path.exists(found)):
        return found
    path = cache.new_path()
    try:
        with open(path, "wb") as f:
            write_snapshot(table, f)
        data: bytes | str = path
        if os.path.getsize(path) <= cache.small_bytes:
            with open(path, "rb") as f:
                data = f.read()
            _remove(path)
    except BaseException:
        _remove(path)
        raise
    cache.put(key, data)
    return data


def snapshot_size(node: Node, cache: SnapshotCache, session: Any) -> int:
    """The size in bytes of the Parquet file of the snapshot `node` names.

    Examples
    --------
    >>> snapshot_size(resolve(con, "demo/photos.parquet"), SnapshotCache(), pxt.Session())  # doctest: +SKIP
    2291
    """
    data = _build(node, cache, session)
    return len(data) if isinstance(data, bytes) else os.path.getsize(data)


def snapshot_open(node: Node, cache: SnapshotCache, session: Any) -> tuple[io.RawIOBase | io.BytesIO, int]:
    """An open, seekable binary file of the snapshot `node` names, and its size.

    Examples
    --------
    >>> raw, size = snapshot_open(resolve(con, "demo/photos.parquet"), SnapshotCache(), pxt.Session())  # doctest: +SKIP
    """
    data = _build(node, cache, session)
    if isinstance(data, bytes):
        return io.BytesIO(data), len(data)
    raw = io.FileIO(data, "r")
    return raw, os.fstat(raw.fileno()).st_size
