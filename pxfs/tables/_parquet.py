"""Parquet snapshots of a table version: one column per table column, media as fileurl."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._table import Table

__all__ = ["arrow_snapshot", "write_parquet"]


def arrow_snapshot(table: Table) -> Any:
    """The table's version as a ``pyarrow.Table`` (owed cells computed first)."""
    import pyarrow as pa

    table.materialize(show_progress=False)  # past versions share cells with the present
    meta = table._meta()
    env = table._env()
    if not meta.columns:
        return pa.table({})
    select = []
    for col in meta.columns:
        value = col.phys
        if col.is_computed:
            value = f"case when {col.phys}_err is null then {col.phys} end"
        if col.type.name == "Json":
            value = f"{value}::json"
        select.append(f'{value} as "{col.name}"')
    with env.catalog.connect() as con:
        return con.sql(
            f"select {', '.join(select)} from {meta.rows} where _v <= ? order by _rowid", params=[meta.version]
        ).to_arrow_table()


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
