"""Parquet bytes of a table version for ``pxfs://dir/table.parquet`` and ``table@N.parquet``.

Reading a snapshot is reading the table: the owed cells of the version are computed
first (for version N, the owed cells of rows that version holds). Tools ask for a file's
size before they read it (DuckDB calls ``size``, ``open``, then ``size`` again), so the
bytes are kept in a small per-filesystem LRU keyed by a fingerprint of the version that
changes whenever the snapshot could (see :func:`pxfs.catalog.rows.fingerprint`).
"""

from __future__ import annotations

import collections
import io
import threading
from typing import Any

from ..catalog import rows
from ._paths import Node

__all__ = ["SnapshotCache", "snapshot_bytes"]


class SnapshotCache:
    """Least recently used Parquet bytes, at most `max_bytes` in all (larger ones are not kept)."""

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._items: collections.OrderedDict[tuple[Any, ...], bytes] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: tuple[Any, ...], data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while sum(len(v) for v in self._items.values()) > self.max_bytes:
                self._items.popitem(last=False)


def snapshot_bytes(node: Node, cache: SnapshotCache) -> bytes:
    """The Parquet file of the snapshot `node` names (computing owed cells first)."""
    import pyarrow.parquet as pq

    import pxfs

    from ..env import Env
    from ..tables._parquet import arrow_snapshot

    assert node.kind == "snapshot" and node.meta is not None
    env = Env.get()
    with env.catalog.connect() as con:
        meta = rows.load_table(con, node.dotted, version=node.version)
    if meta is None or meta.id != node.meta.id:
        raise FileNotFoundError(f"pxfs://{node.path}: table {node.dotted!r} was dropped meanwhile")
    table = pxfs.get_table(f"{node.dotted}:{meta.version}")  # a version never changes
    table.materialize(show_progress=False)
    with env.catalog.connect() as con:
        key = rows.fingerprint(con, meta)
    data = cache.get(key)
    if data is None:
        buf = io.BytesIO()
        pq.write_table(arrow_snapshot(table), buf)
        data = buf.getvalue()
        cache.put(key, data)
    return data
