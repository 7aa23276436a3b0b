"""Streaming query results: ``query.iter_batches(n)``, ``query.to_reader()``.

A query's rows are read from the catalog one page of `n` rows at a time (keyset pages
on the row id; pages by row number under an ``order_by``), always at the version the
query started on, so the pages add up to exactly what ``collect()`` returns even if
other processes change the table meanwhile. For each page: the owed cells of the
selected computed columns are computed (for that page's rows only), then each selected
expression is evaluated column-wise (``.url`` signs the page's URIs in one call), and
the page is yielded as a ``pyarrow.RecordBatch``. Memory is bounded by the page.

In Arrow, a media column is its ``fileurl`` string (as in Parquet snapshots), never a
``PIL.Image`` or a local copy: select ``.localpath`` to fetch files, or use
``collect()``. Json columns are their JSON text. Image functions that produce images
(``t.img.rotate(45)``) cannot be streamed: store them with ``add_computed_column``.

The catalog is held (one reused connection, see :meth:`Catalog.held`) while pages are
read; each page's DuckDB result is read in full and closed before anything waits on
storage, and the held connection is let go while storage is slow or the caller is busy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from ..catalog import TableMeta, rows
from ..errors import DataError
from ..types import ColumnType
from ._eval import media_column
from ._expr import Call, ColumnRef, Expr, Literal, Prop, result_type

if TYPE_CHECKING:
    from ._query import Query

__all__ = ["DEFAULT_BATCH_ROWS", "arrow_schema", "iter_batches"]

DEFAULT_BATCH_ROWS = 10_000


def _arrow_type(t: ColumnType) -> Any:
    import pyarrow as pa

    if t.is_media or t.name == "Json":
        return pa.string()
    return {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "VARCHAR": pa.string(),
            "TIMESTAMP": pa.timestamp("us")}[t.sql]


def arrow_schema(meta: TableMeta, items: list[tuple[str, Expr]]) -> Any:
    """The ``pyarrow.Schema`` of a streamed result; DataError for what Arrow cannot hold."""
    import pyarrow as pa

    types = {c.name: c.type for c in meta.columns}
    fields = []
    for name, e in items:
        if isinstance(e, Literal):
            fields.append(pa.field(name, pa.scalar(e.value).type))
            continue
        t = result_type(e, types)
        if isinstance(e, Call) and t.is_media:
            raise DataError(
                f"{e.describe()} makes images, which a streamed (Arrow) result cannot hold; store it with "
                f"t.add_computed_column({name}={e.describe()}) and select its .fileurl or .url, or use collect()"
            )
        fields.append(pa.field(name, _arrow_type(t)))
    return pa.schema(fields)


def iter_batches(query: Query, items: list[tuple[str, Expr]], phys: list[str], n: int) -> Iterator[Any]:
    """The query's rows as ``pyarrow.RecordBatch`` es of at most `n` rows (see the module)."""
    import pyarrow as pa

    table = query._table
    env = table.session
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise DataError(f"iter_batches(): n must be a positive number of rows, got {n!r}")
    with env.catalog.held():
        meta, flt, order = query.with_filter(lambda con, meta, flt: (meta, flt, query._order_sql(meta)))
        schema = arrow_schema(meta, items)
        used = sorted({c for _, e in items for c in e.columns()})
        computed = [c for c in used if meta.column(c).is_computed]
        pages = _ordered_pages if order[0] else _rowid_pages
        for data in pages(env.catalog, meta, phys, flt, order, n, query._limit):
            rowids = data["_rowid"].to_pylist()
            if computed and _owes(meta, computed, data):
                data = _computed(query, meta, computed, phys, data, rowids)
            yield pa.RecordBatch.from_arrays(
                [_evaluate(env, meta, e, data, rowids, schema.field(name).type) for name, e in items], schema=schema
            )


def _rowid_pages(catalog: Any, meta: TableMeta, phys: list[str], flt: rows.Filter, order: rows.Filter, n: int,
                 limit: int | None) -> Iterator[Any]:
    """Pages of at most `n` rows by row id, read window by window of row ids: each query
    reads only the row groups of its window (DuckDB skips the others by their min/max),
    so a page costs the same at the end of a big table as at its start. A window that
    finds few rows (deleted rows, a selective filter) is doubled, up to 64 pages wide."""
    import pyarrow as pa

    end = meta.next_rowid  # every row id of the version is below it
    after, window, remaining = -1, n, limit
    while after < end - 1 and (remaining is None or remaining > 0):
        want = n if remaining is None else min(n, remaining)
        parts: list[Any] = []
        got = 0
        while got < want and after < end - 1:
            with catalog.connect() as con:
                part = rows.page(con, meta, phys, flt, limit=want - got, after=after, upto=after + window)
            if part.num_rows == want - got:
                after = part["_rowid"][-1].as_py()  # full: the window may hold more
            else:
                after += window
                if part.num_rows < (want - got) // 2:
                    window = min(window * 2, 64 * n)
            if part.num_rows:
                parts.append(part)
                got += part.num_rows
        if got:
            yield parts[0] if len(parts) == 1 else pa.concat_tables(parts)
            if remaining is not None:
                remaining -= got


def _ordered_pages(catalog: Any, meta: TableMeta, phys: list[str], flt: rows.Filter, order: rows.Filter, n: int,
                   limit: int | None) -> Iterator[Any]:
    """Pages of at most `n` rows in the query's order, by row number."""
    offset, remaining = 0, limit
    while remaining is None or remaining > 0:
        size = n if remaining is None else min(n, remaining)
        with catalog.connect() as con:
            data = rows.page(con, meta, phys, flt, order, limit=size, offset=offset)
        if data.num_rows:
            yield data
        if data.num_rows < size:
            return
        offset += data.num_rows
        if remaining is not None:
            remaining -= data.num_rows


def _owes(meta: TableMeta, computed: list[str], data: Any) -> bool:
    import pyarrow.compute as pc

    for c in computed:
        done = data[f"{meta.column(c).phys}_done"]
        if not pc.all(pc.fill_null(done, False)).as_py():
            return True
    return False


def _computed(query: Query, meta: TableMeta, computed: list[str], phys: list[str], data: Any,
              rowids: list[int]) -> Any:
    """Compute the page's owed cells (dependencies first), then read the page again."""
    import pyarrow.compute as pc

    table = query._table
    for name in table._with_dependencies(meta, computed):
        table._materialize(meta, name, rowids)
    with table.session.catalog.connect() as con:
        fresh = rows.page(con, meta, phys, limit=len(rowids), rowids=rowids)
    return fresh.take(pc.index_in(data["_rowid"], value_set=fresh["_rowid"]))


def _evaluate(env: Any, meta: TableMeta, expr: Expr, data: Any, rowids: list[int], typ: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    storage = env.storage
    if isinstance(expr, ColumnRef):
        col = meta.column(expr.name)
        values = data[col.phys]
        if col.is_computed:
            values = pc.if_else(pc.is_null(data[f"{col.phys}_err"]), values, pa.scalar(None, values.type))
        return _as(values, typ)
    if isinstance(expr, Prop):
        col = media_column(meta, expr)
        if expr.prop in ("errormsg", "errortype"):
            if not col.is_computed:
                return pa.nulls(len(rowids), pa.string())
            return _as(data[f"{col.phys}_err" if expr.prop == "errormsg" else f"{col.phys}_errtype"], typ)
        uris = data[col.phys]
        if expr.prop == "fileurl":
            return _as(uris, typ)
        if expr.prop == "url":
            return pa.array(storage.urls(uris.to_pylist()), pa.string())
        return pa.array([storage.localpath(u) if u is not None else None for u in uris.to_pylist()], pa.string())
    if isinstance(expr, Literal):
        return pa.array([expr.value] * len(rowids), typ)
    from ._query import _evaluate_column  # a function of images: per row, in Python

    names = set(expr.columns())
    pydata: dict[str, list[Any]] = {"_rowid": rowids}
    for c in names:
        col = meta.column(c)
        for p in (col.phys, f"{col.phys}_err"):
            if p in data.column_names:
                pydata[p] = data[p].to_pylist()
    return pa.array(_evaluate_column(env, meta, expr, pydata), typ)


def _as(values: Any, typ: Any) -> Any:
    """A chunked column as one array of the schema's type."""
    arr = values.combine_chunks() if hasattr(values, "combine_chunks") else values
    return arr if arr.type == typ else arr.cast(typ)
