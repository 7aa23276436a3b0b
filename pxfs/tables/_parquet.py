"""Parquet snapshots of a table version: one column per table column, media as fileurl."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..catalog import rows
from ..errors import CatalogError

if TYPE_CHECKING:
    from ._table import Table

__all__ = ["arrow_snapshot", "write_parquet"]


def arrow_snapshot(table: Table) -> Any:
    """The table's version as a ``pyarrow.Table``, every owed cell of it computed first."""
    env = table._env()
    for _ in range(5):  # rows with owed cells may arrive from another process meanwhile
        table.materialize(show_progress=False)
        with env.catalog.connect() as con:
            meta = table._meta(con)
            if not rows.owed_rowids(con, meta, meta.columns):
                return rows.snapshot(con, meta)
    raise CatalogError(f"snapshot of {table.path!r}: other processes kept adding rows to compute; retry it")


def write_parquet(table: Table, uri: str | os.PathLike[str]) -> str:
    """Write the snapshot to a local path or any destination URI; returns the canonical URI."""
    import pyarrow.parquet as pq

    data = arrow_snapshot(table)
    storage = table._env().storage
    loc = storage.location(uri)
    if loc.kind == "local":
        os.makedirs(os.path.dirname(loc.key) or ".", exist_ok=True)
        tmp = loc.key + ".tmp"
        pq.write_table(data, tmp)
        os.replace(tmp, loc.key)
    else:
        with storage.open(loc, "wb") as f:
            pq.write_table(data, f)
    return loc.uri
