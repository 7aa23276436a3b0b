"""Statements on the rows of one table version: insert, soft delete, count, select, page.

Every statement sees a version through :func:`visible`; a DuckDB error caused by the
user's values (a comparison of mismatched types) is a :class:`DataError` naming the table.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from ...errors import CatalogError, DataError
from .._meta import ColumnMeta, TableMeta
from .._predicates import EVERYTHING, Filter

__all__ = ["count", "fetch", "insert", "page", "select", "soft_delete", "visible"]

_INSERT_SLICE = 2048  # rows per statement when rows arrive as Python lists (bounds DuckDB's copies)


def visible(version: int) -> str:
    """SQL: the row is part of `version`."""
    v = int(version)
    return f"(_v <= {v} and (_vdel is null or _vdel > {v}))"


def owed_sql(col: ColumnMeta) -> str:
    """SQL: the cell of computed column `col` is not computed yet."""
    return f"not coalesce({col.phys}_done, false)"


def insert(con: Any, meta: TableMeta, data: Any) -> None:
    """Append rows: `data` is an Arrow table, or ``{physical name: list of Python values}``.

    Python lists go to DuckDB as list parameters (``unnest`` zips them into rows): a plain
    ``insert`` of dicts builds no Arrow array, and so never imports pyarrow and pandas
    (``pyarrow.array`` imports pandas to check its argument: ~0.2 s and ~40 MB).
    """
    if isinstance(data, dict):
        types = {"_rowid": "BIGINT", "_v": "INTEGER", **{p: t for c in meta.stored for p, t in c.physical_columns()}}
        names = list(data)
        source = ", ".join(f"unnest(?::{types[n]}[]) as {n}" for n in names)
        sql = f"insert into {meta.rows} ({', '.join(names)}) select {', '.join(names)} from (select {source})"
        n = len(data[names[0]]) if names else 0
        for start in range(0, n, _INSERT_SLICE):  # DuckDB converts each parameter value to its own object
            run(con, sql, [list(data[c][start:start + _INSERT_SLICE]) for c in names], meta, "insert")
        return
    con.register("new_rows", data)
    try:
        listed = ", ".join(data.column_names)
        con.execute(f"insert into {meta.rows} ({listed}) select {listed} from new_rows")
    finally:
        con.unregister("new_rows")


def soft_delete(con: Any, meta: TableMeta, where: Filter, version: int) -> int:
    """Mark the rows of `meta`'s version matching `where` deleted by `version`; how many."""
    sql, params = where
    n = con.execute(
        f"select count(*) from {meta.rows} where {visible(meta.version)} and ({sql})", params).fetchone()[0]
    run(con, f"update {meta.rows} set _vdel = ? where {visible(meta.version)} and ({sql})", [version, *params],
         meta, "delete")
    return int(n)


def count(con: Any, meta: TableMeta, where: Filter = EVERYTHING) -> int:
    sql, params = where
    row = run(con, f"select count(*) from {meta.rows} where {visible(meta.version)} and ({sql})", params,
               meta, "count").fetchone()
    return int(row[0])


def select(con: Any, meta: TableMeta, phys: Sequence[str], where: Filter = EVERYTHING,
           order: Filter = ("", []), limit: int | None = None, rowids: Sequence[int] | None = None) -> dict[str, list[Any]]:
    """``{physical name: values}`` of the rows of `meta`'s version matching `where`, in
    `order` (then row id); ``_rowid`` is always included. With `rowids`: those rows."""
    names = ["_rowid", *[p for p in phys if p != "_rowid"]]
    sql, params = where
    order_sql, order_params = order
    text = f"select {', '.join(names)} from {meta.rows} where {visible(meta.version)} and ({sql})"
    if rowids is not None:
        text += " and _rowid in (select unnest(?::bigint[]))"
        params = [*params, list(rowids)]
    text += f" order by {order_sql + ', ' if order_sql else ''}_rowid"
    if limit is not None:
        text += f" limit {int(limit)}"
    return fetch(con, text, [*params, *order_params], names, meta)


def page(con: Any, meta: TableMeta, phys: Sequence[str], where: Filter = EVERYTHING, order: Filter = ("", []),
         *, limit: int, after: int | None = None, upto: int | None = None, offset: int = 0,
         rowids: Sequence[int] | None = None) -> Any:
    """One page of :func:`select` as a ``pyarrow.Table`` (``_rowid`` first), at most `limit` rows.

    Without an `order`, pages are keyset-paginated on the row id: the rows with
    ``_rowid > after`` (and ``<= upto``). With an `order`, the page starts at row number
    `offset` of that order (then row id). The result is read in Arrow batches and closed before this
    returns, so no DuckDB result stays open while the caller waits on storage.

    Examples
    --------
    >>> first = page(con, meta, ["c0"], limit=1000)            # doctest: +SKIP
    >>> nxt = page(con, meta, ["c0"], limit=1000, after=first["_rowid"][-1].as_py())  # doctest: +SKIP
    """
    import duckdb
    import pyarrow as pa

    names = ["_rowid", *[p for p in phys if p != "_rowid"]]
    sql, params = where
    order_sql, order_params = order
    text = f"select {', '.join(names)} from {meta.rows} where {visible(meta.version)} and ({sql})"
    if after is not None:
        text += f" and _rowid > {int(after)}"
    if upto is not None:
        text += f" and _rowid <= {int(upto)}"
    if rowids is not None:
        text += " and _rowid in (select unnest(?::bigint[]))"
        params = [*params, list(rowids)]
    text += f" order by {order_sql + ', ' if order_sql else ''}_rowid limit {int(limit)}"
    if offset:
        text += f" offset {int(offset)}"
    try:
        reader = con.sql(text, params=[*params, *order_params]).to_arrow_reader(max(1, int(limit)))
        try:
            return reader.read_all()
        finally:
            reader.close()
    except duckdb.Error as e:
        raise data_error(e, meta, "query") from e


def fetch(con: Any, sql: str, params: list[Any], names: list[str], meta: TableMeta | None = None) -> dict[str, list[Any]]:
    """The result as one list of Python values per column.

    Through Arrow when pyarrow is already loaded (fastest: ~45 ms per 100,000 rows);
    else with ``fetchall`` (~80 ms per 100,000 rows), which spares the first query of a
    process the ~100 ms import of pyarrow and numpy. Both give the same Python values.
    """
    if "pyarrow" in sys.modules:
        import duckdb

        try:
            table = con.sql(sql, params=params).to_arrow_table()
        except duckdb.Error as e:
            raise data_error(e, meta, "query") from e
        return {n: table.column(i).to_pylist() for i, n in enumerate(names)}
    rows = run(con, sql, params, meta, "query").fetchall()
    if not rows:
        return {n: [] for n in names}
    return {n: list(values) for n, values in zip(names, zip(*rows))}


def run(con: Any, sql: str, params: list[Any], meta: TableMeta | None, what: str) -> Any:
    import duckdb

    try:
        return con.execute(sql, params)
    except duckdb.Error as e:
        raise data_error(e, meta, what) from e


def data_error(e: Exception, meta: TableMeta | None, what: str) -> Exception:
    import duckdb

    where = f"table {meta.path!r}: " if meta is not None else ""
    if isinstance(e, (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException,
                      duckdb.OutOfRangeException)):
        return DataError(f"{where}{what}: {type(e).__name__}: {e}; check the types of the values compared")
    return CatalogError(f"{where}{what} failed in the catalog: {type(e).__name__}: {e}")
