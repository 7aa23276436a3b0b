"""Computed and media cells: which are owed, recording results, listing stored files, and
the Parquet snapshot of a version."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from .._meta import ColumnMeta, TableMeta
from .._predicates import EVERYTHING, Filter
from ._sql import owed_sql, run, visible

__all__ = [
    "cells", "count_owed", "fingerprint", "media_prefixes", "owed_batch", "owed_rowids", "record",
    "snapshot", "snapshot_page",
]


def owed_batch(con: Any, meta: TableMeta, col: ColumnMeta, wanted: Sequence[str], after: int, limit: int,
               rowids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Up to `limit` owed cells of `col` in `meta`'s version with row id > `after`, as
    ``{physical name: value}`` rows with ``_rowid`` (only `rowids` if given)."""
    names = list(dict.fromkeys(["_rowid", *wanted]))
    sql = (f"select {', '.join(names)} from {meta.rows} where {owed_sql(col)} and {visible(meta.version)} "
           "and _rowid > ?")
    params: list[Any] = [after]
    if rowids is not None:
        sql += " and _rowid in (select unnest(?::bigint[]))"
        params.append(list(rowids))
    sql += " order by _rowid limit ?"
    params.append(limit)
    return [dict(zip(names, r)) for r in con.execute(sql, params).fetchall()]


def count_owed(con: Any, meta: TableMeta, col: ColumnMeta, rowids: Sequence[int] | None = None) -> int:
    sql = f"select count(*) from {meta.rows} where {owed_sql(col)} and {visible(meta.version)}"
    params: list[Any] = []
    if rowids is not None:
        sql += " and _rowid in (select unnest(?::bigint[]))"
        params.append(list(rowids))
    return int(con.execute(sql, params).fetchone()[0])


def owed_rowids(con: Any, meta: TableMeta, cols: Iterable[ColumnMeta], where: Filter = EVERYTHING) -> list[int]:
    """Row ids of `meta`'s version matching `where` with an owed cell in any of `cols`."""
    owed = " or ".join(owed_sql(c) for c in cols if c.is_computed)
    if not owed:
        return []
    sql, params = where
    return [r[0] for r in run(
        con, f"select _rowid from {meta.rows} where {visible(meta.version)} and ({owed}) and ({sql}) order by _rowid",
        params, meta, "query").fetchall()]


def record(con: Any, meta: TableMeta, col: ColumnMeta, records: list[tuple[Any, ...]]) -> None:
    """Mark the cells of `records` done, with their values, in one conditional UPDATE
    (``where not done``: two processes never record a cell twice).

    Media records are ``(rowid, uri, size, hash, own, err, errtype)``, others
    ``(rowid, value, err, errtype)``. The values go to DuckDB as list parameters
    (``unnest`` zips them into rows): no Arrow table to build, no pandas import.
    """
    p = col.phys
    if col.is_media:
        names = ["_rowid", "uri", "size", "hash", "own", "err", "errtype"]
        types = ["bigint", "varchar", "bigint", "varchar", "boolean", "varchar", "varchar"]
        sets = f"{p} = u.uri, {p}_size = u.size, {p}_hash = u.hash, {p}_own = u.own, "
    else:
        names = ["_rowid", "val", "err", "errtype"]
        types = ["bigint", col.type.sql.lower(), "varchar", "varchar"]
        sets = f"{p} = u.val, "
    columns = [list(values) for values in zip(*records)]
    source = ", ".join(f"unnest(?::{t}[]) as {n}" for n, t in zip(names, types))
    con.execute(
        f"update {meta.rows} set {sets}{p}_done = true, {p}_err = u.err, {p}_errtype = u.errtype "
        f"from (select {source}) u where {meta.rows}._rowid = u._rowid "
        f"and not coalesce({meta.rows}.{p}_done, false)",
        columns,
    )


def cells(con: Any, meta: TableMeta, col: ColumnMeta, rowid: int | None = None,
          files_only: bool = True, *, after: int | None = None, upto: int | None = None,
          folders: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
    """``(rowid, uri, size, hash, owed, row version, errtype, err)`` of the cells of media
    column `col` in `meta`'s version, by row id: those that are files (stored, or owed),
    or with ``files_only=False`` every cell (failed and empty ones too).

    Pages: the cells with a row id in ``(after, upto]`` (each page reads only the row
    groups of those row ids); with `folders`, only stored cells whose URI is directly in
    one of those folders (``<folder>/<name>``).

    Examples
    --------
    >>> cells(con, meta, meta.column("img"), after=999, upto=1999)  # doctest: +SKIP
    [(1000, 's3://b/a.jpg', 2048, 'd41d8c...', False, 2, None, None), ...]
    """
    p = col.phys
    if col.is_computed:
        owed, err = owed_sql(col), f"{p}_errtype, {p}_err"
        cond = f"({p} is not null or {owed})"
    else:
        owed, err, cond = "false", "null, null", f"{p} is not null"
    sql = f"select _rowid, {p}, {p}_size, {p}_hash, {owed}, _v, {err} from {meta.rows} where {visible(meta.version)}"
    params: list[Any] = []
    if files_only:
        sql += f" and {cond}"
    if rowid is not None:
        sql += " and _rowid = ?"
        params.append(rowid)
    if after is not None:
        sql += f" and _rowid > {int(after)}"
    if upto is not None:
        sql += f" and _rowid <= {int(upto)}"
    if folders is not None:
        sql += f" and {_in_folder(p)} in (select unnest(?::varchar[]))"
        params.append(list(folders))
    return [tuple(r) for r in con.execute(f"{sql} order by _rowid", params).fetchall()]


def _in_folder(phys: str) -> str:
    """SQL: the folder part of a media URI (everything before its last ``/``)."""
    return f"regexp_replace({phys}, '/[^/]*$', '')"


def media_prefixes(con: Any, meta: TableMeta, col: ColumnMeta) -> list[tuple[str, int]]:
    """``(folder, stored cells)`` of the folders holding the stored cells of media column
    `col` in `meta`'s version, most cells first.

    Examples
    --------
    >>> media_prefixes(con, meta, meta.column("img"))  # doctest: +SKIP
    [('s3://bucket/in', 1000000)]
    """
    p = col.phys
    return [(r[0], int(r[1])) for r in con.execute(
        f"select {_in_folder(p)} as folder, count(*) from {meta.rows} where {visible(meta.version)} "
        f"and {p} is not null group by folder order by 2 desc, 1").fetchall()]


def fingerprint(con: Any, meta: TableMeta) -> tuple[Any, ...]:
    """Changes whenever a snapshot of `meta`'s version could: versions never change, but
    owed cells get computed (version numbers are never reused)."""
    done = [f"count(*) filter (where {c.phys}_done)" for c in meta.columns if c.is_computed]
    counts = con.execute(f"select {', '.join(['count(*)', *done])} from {meta.rows} where {visible(meta.version)}").fetchone()
    return (meta.id, meta.version, *counts)


def snapshot(con: Any, meta: TableMeta) -> Any:
    """`meta`'s version as a ``pyarrow.Table``: one column per table column, media as URIs,
    failed computed cells as null, rows by row id."""
    import pyarrow as pa

    if not meta.columns:
        return pa.table({})
    return con.sql(
        f"select {_snapshot_columns(meta)} from {meta.rows} where {visible(meta.version)} order by _rowid"
    ).to_arrow_table()


def snapshot_page(con: Any, meta: TableMeta, after: int, upto: int) -> Any:
    """The rows of :func:`snapshot` with a row id in ``(after, upto]``: a snapshot written
    page by page, each page reading only the row groups of its row ids.

    Examples
    --------
    >>> snapshot_page(con, meta, -1, 65535).num_rows  # doctest: +SKIP
    65536
    """
    import pyarrow as pa

    if not meta.columns:
        return pa.table({})
    reader = con.sql(
        f"select {_snapshot_columns(meta)} from {meta.rows} where {visible(meta.version)} "
        f"and _rowid > {int(after)} and _rowid <= {int(upto)} order by _rowid"
    ).to_arrow_reader(max(1, int(upto) - int(after)))
    try:
        return reader.read_all()
    finally:
        reader.close()


def _snapshot_columns(meta: TableMeta) -> str:
    select_sql = []
    for col in meta.columns:
        value = col.phys
        if col.is_computed:
            value = f"case when {col.phys}_err is null then {col.phys} end"
        if col.type.name == "Json":
            value = f"{value}::json"
        select_sql.append(f'{value} as "{col.name}"')
    return ", ".join(select_sql)
