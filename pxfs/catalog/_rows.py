"""The rows layer: every statement on ``rows_<id>`` and on the tables, columns and versions
bookkeeping. Nothing else in pxfs writes SQL against them.

Versions are immutable (see :mod:`._meta` for the layout): an insert adds rows stamped
with the new version, a delete stamps rows with the version that deleted them, dropping a
column stamps the column. Only :func:`expire` and :func:`revert` remove stored data, and
they return the media URIs they freed, for the caller to remove after the commit (never
while the catalog is open: see :func:`unreferenced`).

Predicates and sort keys arrive compiled by :mod:`._predicates` (re-exported here), so a
filter means the same thing in ``count``, ``delete``, ``collect`` and a Parquet snapshot.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any, Iterable, Sequence

from ..errors import CatalogError, DataError
from ..types import type_named
from ._meta import ColumnMeta, TableMeta, rows_table
from ._predicates import EVERYTHING, Filter, compile_filter, compile_order

__all__ = [
    "EVERYTHING", "Filter", "add_column", "cells", "compile_filter", "compile_order", "count", "count_owed", "create_table",
    "destinations", "drop_column", "expire", "fetch", "fingerprint", "history", "insert", "load_table",
    "mark_dropped", "media_prefixes", "new_version", "owed_batch", "owed_rowids", "page", "purge_table",
    "record", "referenced", "revert", "select", "snapshot", "snapshot_page", "soft_delete", "table_ids",
    "tables_to_purge", "unreferenced", "version_times", "visible",
]



def visible(version: int) -> str:
    """SQL: the row is part of `version`."""
    v = int(version)
    return f"(_v <= {v} and (_vdel is null or _vdel > {v}))"


def _owed(col: ColumnMeta) -> str:
    return f"not coalesce({col.phys}_done, false)"


# -- tables and versions --------------------------------------------------------------

def load_table(con: Any, path: str | None = None, *, table_id: str | None = None,
               version: int | None = None) -> TableMeta | None:
    """The live table at `path` (or with id `table_id`), as `version` sees it (default:
    the latest); None if there is no such table. A version that does not exist (any more)
    raises :class:`CatalogError` saying which versions do."""
    where, key = ("path = ? and dropped is null", path) if table_id is None else ("id = ?", table_id)
    row = con.execute(
        f"select id, path, version, next_rowid, next_col, coalesce(last_made, version), coalesce(oldest, 1) "
        f"from tables where {where}", [key],
    ).fetchone()
    if row is None:
        return None
    table_id, path, latest, next_rowid, next_col, last_made, oldest = row
    if version is not None and version != latest:
        made = con.execute("select 1 from versions where table_id = ? and version = ?", [table_id, version]).fetchone()
        if made is None or version > latest:
            why = "it expired" if version < oldest else ("it was reverted" if version < last_made else "it was never made")
            raise CatalogError(
                f"table {path!r} has no version {version} ({why}); it has versions {oldest} to {latest} "
                "(t.history() lists them)"
            )
    stored = tuple(
        ColumnMeta(c[0], c[1], type_named(c[2]), json.loads(c[3]) if c[3] else None, c[4], c[5], c[6])
        for c in con.execute(
            "select col_id, name, type, computed, destination, added_version, dropped_version from columns "
            "where table_id = ? and not coalesce(purged, false) order by col_id", [table_id],
        ).fetchall()
    )
    at = latest if version is None else version
    return TableMeta(
        id=table_id, path=path, version=at, next_rowid=next_rowid, next_col=next_col,
        columns=tuple(c for c in stored if c.visible_at(at)), latest=latest, oldest=oldest,
        last_made=last_made, stored=stored,
    )


def create_table(con: Any, table_id: str, path: str, columns: Sequence[ColumnMeta]) -> None:
    phys = ["_rowid BIGINT NOT NULL", "_v INTEGER NOT NULL", "_vdel INTEGER"]
    phys += [f"{p} {sql}" for c in columns for p, sql in c.physical_columns()]
    con.execute(f"create table {rows_table(table_id)} ({', '.join(phys)})")
    now = dt.datetime.now()
    for c in columns:
        _insert_column(con, table_id, c)
    con.execute(
        "insert into tables (id, path, version, next_rowid, next_col, created, last_made, oldest, purged) "
        "values (?, ?, 1, 0, ?, ?, 1, 1, false)", [table_id, path, len(columns), now],
    )
    con.execute("insert into versions values (?, 1, ?, 'create', 0)", [table_id, now])


def new_version(con: Any, meta: TableMeta, op: str, row_count: int, **changes: int) -> int:
    """Record a new version of `meta`'s table (its number is never reused); returns it."""
    version = meta.last_made + 1
    sets = "".join(f", {k} = {int(v)}" for k, v in changes.items())  # next_rowid, next_col
    con.execute(f"update tables set version = ?, last_made = ?{sets} where id = ?", [version, version, meta.id])
    con.execute("insert into versions values (?, ?, ?, ?, ?)", [meta.id, version, dt.datetime.now(), op, row_count])
    return version


def history(con: Any, table_id: str) -> list[tuple[int, dt.datetime, str, int]]:
    """``(version, created, what changed, rows in that version)``, newest first."""
    out = []
    for version, created, op in con.execute(
        "select version, created, op from versions where table_id = ? order by version desc", [table_id]
    ).fetchall():
        n = con.execute(f"select count(*) from {rows_table(table_id)} where {visible(version)}").fetchone()[0]
        out.append((version, created, op, int(n)))
    return out


def version_times(con: Any, table_id: str) -> dict[int, dt.datetime]:
    """When each retained version of a table was made (naive local time)."""
    return {v: c for v, c in con.execute(
        "select version, created from versions where table_id = ?", [table_id]).fetchall() if c is not None}


def mark_dropped(con: Any, meta: TableMeta) -> None:
    """Drop the table from the namespace; its rows stay until :func:`purge_table`."""
    con.execute("update tables set dropped = ? where id = ?", [dt.datetime.now(), meta.id])


def tables_to_purge(con: Any) -> list[tuple[str, str]]:
    """``(id, path)`` of dropped tables whose rows (and so media) are not removed yet."""
    return [tuple(r) for r in con.execute(
        "select id, path from tables where dropped is not null and not coalesce(purged, false) order by dropped"
    ).fetchall()]


def owned_uris(con: Any, table_id: str) -> list[str]:
    """Every object a table's stored rows say pxfs wrote (any version, any stored column)."""
    out: list[str] = []
    for col_id, type_name in con.execute(
        "select col_id, type from columns where table_id = ? and not coalesce(purged, false)", [table_id]
    ).fetchall():
        if type_named(type_name).is_media:
            p = f"c{col_id}"
            out += [r[0] for r in con.execute(
                f"select distinct {p} from {rows_table(table_id)} where {p}_own and {p} is not null").fetchall()]
    return out


def purge_table(con: Any, table_id: str) -> None:
    """Forget a dropped table's rows; its id and destinations stay (gc's proof of ownership)."""
    con.execute(f"drop table if exists {rows_table(table_id)}")
    con.execute("delete from versions where table_id = ?", [table_id])
    con.execute("update columns set purged = true where table_id = ?", [table_id])
    con.execute("update tables set purged = true where id = ?", [table_id])


def table_ids(con: Any, live_only: bool = False) -> dict[str, str]:
    """``{id: path}`` of every table this catalog ever made (live, dropped, purged), or
    of the live ones only."""
    where = " where dropped is null" if live_only else ""
    return {r[0]: r[1] for r in con.execute(f"select id, path from tables{where} order by created").fetchall()}


def destinations(con: Any) -> list[str]:
    """Every destination a column was ever given (dropped tables and columns too)."""
    return [r[0] for r in con.execute(
        "select distinct destination from columns where destination is not null order by 1").fetchall()]


# -- columns ----------------------------------------------------------------------------

def _insert_column(con: Any, table_id: str, col: ColumnMeta) -> None:
    con.execute(
        "insert into columns values (?, ?, ?, ?, ?, ?, ?, null, false)",
        [table_id, col.col_id, col.name, col.type.name, json.dumps(col.computed) if col.computed else None,
         col.destination, col.added_version],
    )


def add_column(con: Any, meta: TableMeta, col: ColumnMeta) -> None:
    """Add `col` (its ``added_version`` is the new version) with empty cells everywhere."""
    for phys, sql_type in col.physical_columns():
        default = " default false" if phys.endswith("_done") else ""
        con.execute(f"alter table {meta.rows} add column {phys} {sql_type}{default}")
    _insert_column(con, meta.id, col)


def drop_column(con: Any, meta: TableMeta, col: ColumnMeta, version: int) -> None:
    """Hide `col` from `version` on; its cells stay for the versions before."""
    con.execute("update columns set dropped_version = ? where table_id = ? and col_id = ?", [version, meta.id, col.col_id])


# -- rows ---------------------------------------------------------------------------------

def insert(con: Any, meta: TableMeta, data: Any) -> None:
    """Append the rows of the Arrow table `data` (its columns are physical names)."""
    con.register("new_rows", data)
    try:
        names = ", ".join(data.column_names)
        con.execute(f"insert into {meta.rows} ({names}) select {names} from new_rows")
    finally:
        con.unregister("new_rows")


def soft_delete(con: Any, meta: TableMeta, where: Filter, version: int) -> int:
    """Mark the rows of `meta`'s version matching `where` deleted by `version`; how many."""
    sql, params = where
    n = con.execute(
        f"select count(*) from {meta.rows} where {visible(meta.version)} and ({sql})", params).fetchone()[0]
    _run(con, f"update {meta.rows} set _vdel = ? where {visible(meta.version)} and ({sql})", [version, *params],
         meta, "delete")
    return int(n)


def count(con: Any, meta: TableMeta, where: Filter = EVERYTHING) -> int:
    sql, params = where
    row = _run(con, f"select count(*) from {meta.rows} where {visible(meta.version)} and ({sql})", params,
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
        raise _data_error(e, meta, "query") from e


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
            raise _data_error(e, meta, "query") from e
        return {n: table.column(i).to_pylist() for i, n in enumerate(names)}
    rows = _run(con, sql, params, meta, "query").fetchall()
    if not rows:
        return {n: [] for n in names}
    return {n: list(values) for n, values in zip(names, zip(*rows))}


def _run(con: Any, sql: str, params: list[Any], meta: TableMeta | None, what: str) -> Any:
    import duckdb

    try:
        return con.execute(sql, params)
    except duckdb.Error as e:
        raise _data_error(e, meta, what) from e


def _data_error(e: Exception, meta: TableMeta | None, what: str) -> Exception:
    import duckdb

    where = f"table {meta.path!r}: " if meta is not None else ""
    if isinstance(e, (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException,
                      duckdb.OutOfRangeException)):
        return DataError(f"{where}{what}: {type(e).__name__}: {e}; check the types of the values compared")
    return CatalogError(f"{where}{what} failed in the catalog: {type(e).__name__}: {e}")


# -- computed cells ---------------------------------------------------------------------

def owed_batch(con: Any, meta: TableMeta, col: ColumnMeta, wanted: Sequence[str], after: int, limit: int,
               rowids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Up to `limit` owed cells of `col` in `meta`'s version with row id > `after`, as
    ``{physical name: value}`` rows with ``_rowid`` (only `rowids` if given)."""
    names = list(dict.fromkeys(["_rowid", *wanted]))
    sql = (f"select {', '.join(names)} from {meta.rows} where {_owed(col)} and {visible(meta.version)} "
           "and _rowid > ?")
    params: list[Any] = [after]
    if rowids is not None:
        sql += " and _rowid in (select unnest(?::bigint[]))"
        params.append(list(rowids))
    sql += " order by _rowid limit ?"
    params.append(limit)
    return [dict(zip(names, r)) for r in con.execute(sql, params).fetchall()]


def count_owed(con: Any, meta: TableMeta, col: ColumnMeta, rowids: Sequence[int] | None = None) -> int:
    sql = f"select count(*) from {meta.rows} where {_owed(col)} and {visible(meta.version)}"
    params: list[Any] = []
    if rowids is not None:
        sql += " and _rowid in (select unnest(?::bigint[]))"
        params.append(list(rowids))
    return int(con.execute(sql, params).fetchone()[0])


def owed_rowids(con: Any, meta: TableMeta, cols: Iterable[ColumnMeta], where: Filter = EVERYTHING) -> list[int]:
    """Row ids of `meta`'s version matching `where` with an owed cell in any of `cols`."""
    owed = " or ".join(_owed(c) for c in cols if c.is_computed)
    if not owed:
        return []
    sql, params = where
    return [r[0] for r in _run(
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
        owed, err = _owed(col), f"{p}_errtype, {p}_err"
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


# -- what media are referenced ------------------------------------------------------------

def _media_columns(con: Any, ignore_table: str | None = None) -> list[tuple[str, str]]:
    """``(rows table, physical column)`` of every stored media column of every unpurged table."""
    return [(rows_table(t), f"c{c}") for t, c, type_name in con.execute(
        "select c.table_id, c.col_id, c.type from columns c join tables t on t.id = c.table_id "
        "where not coalesce(c.purged, false) and not coalesce(t.purged, false) and t.id <> ?",
        [ignore_table or ""]).fetchall()
        if type_named(type_name).is_media]


def referenced(con: Any) -> set[str]:
    """Every media URI any stored row references: every retained version of every table,
    dropped tables not yet purged included."""
    out: set[str] = set()
    for rows, p in _media_columns(con):
        out.update(r[0] for r in con.execute(f"select distinct {p} from {rows} where {p} is not null").fetchall())
    return out


def unreferenced(con: Any, uris: Sequence[str], ignore_table: str | None = None) -> list[str]:
    """The URIs of `uris` that no stored row references (safe to remove); the rows of
    `ignore_table` (a dropped table being purged) do not count."""
    if not uris:
        return []
    taken: set[str] = set()
    for rows, p in _media_columns(con, ignore_table):
        taken.update(r[0] for r in con.execute(
            f"select distinct {p} from {rows} where {p} in (select unnest(?::varchar[]))", [list(uris)]).fetchall())
    return [u for u in dict.fromkeys(uris) if u not in taken]


def _owned_in(con: Any, meta: TableMeta, cols: Iterable[ColumnMeta], rows_sql: str) -> list[str]:
    out: list[str] = []
    for c in cols:
        if c.is_media:
            out += [r[0] for r in con.execute(
                f"select distinct {c.phys} from {meta.rows} where ({rows_sql}) and {c.phys}_own "
                f"and {c.phys} is not null").fetchall()]
    return out


# -- removing history: revert and expire ----------------------------------------------------

def revert(con: Any, meta: TableMeta) -> tuple[int, list[str]]:
    """Undo the latest version; returns ``(the version now latest, media URIs it freed)``."""
    v = meta.latest
    prev = con.execute("select max(version) from versions where table_id = ? and version < ?", [meta.id, v]).fetchone()[0]
    if prev is None or prev < meta.oldest:
        raise CatalogError(
            f"table {meta.path!r}: version {v} is the only version left; there is nothing to revert to "
            "(drop the table instead)"
        )
    added = [c for c in meta.stored if c.added_version == v]
    freed = _owned_in(con, meta, meta.stored, f"_v = {v}") + _owned_in(con, meta, added, "true")
    con.execute(f"delete from {meta.rows} where _v = ?", [v])
    con.execute(f"update {meta.rows} set _vdel = null where _vdel = ?", [v])
    for c in added:
        _purge_column(con, meta, c)
        con.execute("update columns set dropped_version = added_version where table_id = ? and col_id = ?",
                    [meta.id, c.col_id])
    con.execute("update columns set dropped_version = null where table_id = ? and dropped_version = ?", [meta.id, v])
    con.execute("delete from versions where table_id = ? and version = ?", [meta.id, v])
    con.execute("update tables set version = ? where id = ?", [prev, meta.id])
    return int(prev), freed


def retained_from(con: Any, table_id: str, cutoff: dt.datetime) -> int | None:
    """The oldest version to keep when versions replaced before `cutoff` expire: the newest
    version made before `cutoff` (it was current at `cutoff`); None if none was."""
    row = con.execute(
        "select max(version) from versions where table_id = ? and created < ?", [table_id, cutoff]).fetchone()
    return None if row[0] is None else int(row[0])


def expire(con: Any, meta: TableMeta, oldest: int) -> tuple[list[int], list[str]]:
    """Expire the versions of `meta`'s table before `oldest` (never the latest): remove the
    rows and columns only they saw. Returns ``(versions expired, media URIs freed)``."""
    oldest = min(oldest, meta.latest)
    if oldest <= meta.oldest:
        return [], []
    gone = [r[0] for r in con.execute(
        "select version from versions where table_id = ? and version < ? order by version", [meta.id, oldest]).fetchall()]
    dead_rows = f"_vdel is not null and _vdel <= {int(oldest)}"
    dead_cols = [c for c in meta.stored if c.dropped_version is not None and c.dropped_version <= oldest]
    live_cols = [c for c in meta.stored if c not in dead_cols]
    freed = _owned_in(con, meta, live_cols, dead_rows) + _owned_in(con, meta, dead_cols, "true")
    con.execute(f"delete from {meta.rows} where {dead_rows}")
    for c in dead_cols:
        _purge_column(con, meta, c)
    con.execute("delete from versions where table_id = ? and version < ?", [meta.id, oldest])
    con.execute("update tables set oldest = ? where id = ?", [oldest, meta.id])
    return gone, freed


def _purge_column(con: Any, meta: TableMeta, col: ColumnMeta) -> None:
    for phys, _ in col.physical_columns():
        con.execute(f"alter table {meta.rows} drop column {phys}")
    con.execute("update columns set purged = true where table_id = ? and col_id = ?", [meta.id, col.col_id])
