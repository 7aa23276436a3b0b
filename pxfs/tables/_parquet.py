"""Parquet snapshots of a table version: one column per table column, media as fileurl.

A snapshot is written page by page (:data:`SNAPSHOT_BATCH_ROWS` rows, one Parquet row
group each) through a ``pyarrow.parquet.ParquetWriter``, so writing a table of millions
of rows needs the memory of one page, not of the table.
"""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING, Any

from ..catalog import TableMeta, rows
from ..errors import CatalogError

if TYPE_CHECKING:
    from ._table import Table

__all__ = ["SNAPSHOT_BATCH_ROWS", "arrow_snapshot", "write_parquet", "write_snapshot"]

SNAPSHOT_BATCH_ROWS = 65_536


def _computed_version(table: Table) -> TableMeta:
    """The table's version once every owed cell of it is computed."""
    env = table.session
    for _ in range(5):  # rows with owed cells may arrive from another process meanwhile
        table.materialize(show_progress=False)
        with env.catalog.connect() as con:
            meta = table._meta(con)
            if not rows.owed_rowids(con, meta, meta.columns):
                return meta
    raise CatalogError(f"snapshot of {table.path!r}: other processes kept adding rows to compute; retry it")


def arrow_snapshot(table: Table) -> Any:
    """The table's version as a ``pyarrow.Table``, every owed cell of it computed first.

    Examples
    --------
    >>> arrow_snapshot(t).num_rows  # doctest: +SKIP
    4
    """
    meta = _computed_version(table)
    with table.session.catalog.connect() as con:
        return rows.snapshot(con, meta)


def write_snapshot(table: Table, f: IO[bytes], batch_rows: int | None = None) -> int:
    """Write the table's version as Parquet to the binary file `f`, page by page (every
    owed cell computed first), `batch_rows` rows (default :data:`SNAPSHOT_BATCH_ROWS`) per
    row group; returns the number of rows written.

    Examples
    --------
    >>> with open("t.parquet", "wb") as f:  # doctest: +SKIP
    ...     write_snapshot(t, f)
    4
    """
    import pyarrow.parquet as pq

    batch_rows = batch_rows or SNAPSHOT_BATCH_ROWS
    meta = _computed_version(table)
    catalog = table.session.catalog
    writer = None
    written = 0
    with catalog.held():
        for after in range(-1, max(meta.next_rowid, 1) - 1, batch_rows):  # row ids below next_rowid
            with catalog.connect() as con:
                data = rows.snapshot_page(con, meta, after, after + batch_rows)
            if writer is None:
                writer = pq.ParquetWriter(f, data.schema)
            if data.num_rows:
                writer.write_table(data)
                written += data.num_rows
    assert writer is not None
    writer.close()
    return written


def write_parquet(table: Table, uri: str | os.PathLike[str]) -> str:
    """Write the snapshot to a local path or any destination URI; returns the canonical URI.

    Examples
    --------
    >>> write_parquet(t, "/tmp/photos.parquet")  # doctest: +SKIP
    'file:///tmp/photos.parquet'
    """
    storage = table.session.storage
    loc = storage.location(uri)
    if loc.kind == "local":
        os.makedirs(os.path.dirname(loc.key) or ".", exist_ok=True)
        tmp = loc.key + ".tmp"
        try:
            with open(tmp, "wb") as f:
                write_snapshot(table, f)
            os.replace(tmp, loc.key)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        with storage.open(loc, "wb") as f:
            write_snapshot(table, f)
    return loc.uri
