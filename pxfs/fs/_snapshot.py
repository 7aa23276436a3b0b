"""Parquet bytes of a table version for ``pxfs://dir/table.parquet`` and ``table@N.parquet``.

Reading a snapshot is reading the table: the owed cells of the version are computed
first (for version N, the owed cells of rows that version holds). Tools ask for a file's
size before they read it (DuckDB calls ``size``, ``open``, then ``size`` again), so the
bytes are kept in a small per-filesystem LRU keyed by a fingerprint of the table that
changes whenever the snapshot could (see :func:`~._catalog.snapshot_fingerprint`).
"""

from __future__ import annotations

import collections
import io
import threading
from typing import Any

from . import _catalog as q
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

    from ..env import Env
    from ..tables._parquet import arrow_snapshot
    from ..tables._table import Table

    assert node.kind == "snapshot" and node.meta is not None
    latest = Table(node.dotted, node.meta.id)
    if node.version is None:
        latest.materialize(show_progress=False)
    else:
        _materialize_version(latest, node.version)
    env = Env.get()
    with env.catalog.connect() as con:
        meta = latest._meta(con)
        key = (meta.id, node.version, q.snapshot_fingerprint(con, meta))
    data = cache.get(key)
    if data is None:
        table = Table(node.dotted, meta.id, node.version if node.version is not None else meta.version)
        buf = io.BytesIO()
        pq.write_table(arrow_snapshot(table), buf)
        data = buf.getvalue()
        cache.put(key, data)
    return data


def _materialize_version(latest: Any, version: int) -> None:
    """Compute the owed cells of the rows version `version` holds, in the columns it has."""
    from ..env import Env

    meta = latest._meta()
    names = [c.name for c in meta.columns if c.is_computed and c.added_version <= version]
    if not names:
        return
    with Env.get().catalog.connect() as con:
        owed = {
            c.name: [r[0] for r in con.execute(
                f"select _rowid from {meta.rows} where _v <= ? and not coalesce({c.phys}_done, false)",
                [version]).fetchall()]
            for c in meta.columns if c.name in names
        }
    rowids = sorted({r for ids in owed.values() for r in ids})
    if rowids:
        for name in latest._with_dependencies(meta, names):
            latest._materialize(meta, name, rowids)
