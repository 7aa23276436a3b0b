"""Queries: ``t.select(...).where(...).order_by(...).limit(n).collect()``.

One path for every reader of rows (``collect``, ``count``, ``delete``,
``materialize(where=)``, snapshots, ``pxfs url --where``): first the owed cells of the
computed columns the predicate and the order read are computed (so a filter never reads
an uncomputed cell as null); then the predicate, order and limit run in the catalog
(:mod:`pxfs.catalog.rows`); then the owed cells of the selected computed columns are
computed, for the returned rows only; then each selected expression is evaluated
column-wise (media properties) or per row (functions).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Iterator, Literal as TypingLiteral, TypeVar, overload

from ..catalog import TableMeta, rows
from ..errors import CatalogError, DataError
from ._expr import Call, ColumnRef, Compare, Expr, Literal, Logical, Prop
from ._eval import evaluate, media_column
from ._resultset import ResultSet
from ._stream import DEFAULT_BATCH_ROWS, arrow_schema, iter_batches

if TYPE_CHECKING:
    from ._table import Table

__all__ = ["Query"]

T = TypeVar("T")


class Query:
    """A query on one table; each method returns a new Query, ``collect()`` runs it."""

    def __init__(
        self, table: Table, selects: list[tuple[str, Expr]] | None = None, where: Expr | None = None,
        order: list[tuple[Expr, bool]] | None = None, limit: int | None = None,
    ) -> None:
        self._table = table
        self._selects = selects
        self._where = where
        self._order = order or []
        self._limit = limit

    def _copy(self, **changes: Any) -> Query:
        args: dict[str, Any] = dict(selects=self._selects, where=self._where, order=self._order, limit=self._limit)
        args.update(changes)
        return Query(self._table, **args)

    def select(self, *exprs: Expr, **named: Expr) -> Query:
        items: list[tuple[str, Expr]] = []
        for e in exprs:
            if not isinstance(e, Expr):
                raise DataError(f"select(): {e!r} is not a column or expression of {self._table.path!r}")
            items.append((e.default_name(), e))
        for name, e in named.items():
            if not isinstance(e, Expr):
                raise DataError(f"select(): {name}={e!r} is not a column or expression")
            items.append((name, e))
        seen: dict[str, int] = {}
        unique = []
        for name, e in items:
            if name in seen:
                seen[name] += 1
                name = f"{name}_{seen[name]}"
            else:
                seen[name] = 0
            unique.append((name, e))
        return self._copy(selects=unique or None)

    def where(self, predicate: Expr) -> Query:
        if not isinstance(predicate, Expr):
            raise DataError(f"where(): expected a predicate such as t.year > 2000, got {predicate!r}")
        combined = predicate if self._where is None else Logical("and", [self._where, predicate])
        return self._copy(where=combined)

    def order_by(self, *exprs: Expr, asc: bool = True) -> Query:
        return self._copy(order=self._order + [(e, asc) for e in exprs])

    def limit(self, n: int) -> Query:
        if not isinstance(n, int) or n < 0:
            raise DataError(f"limit(): expected a non-negative integer, got {n!r}")
        return self._copy(limit=n)

    def head(self, n: int = 10) -> ResultSet:
        return self.limit(n).collect()

    def show(self, n: int = 20) -> ResultSet:
        """The first `n` rows; renders as a table with thumbnails in a notebook."""
        return self.limit(n).collect()

    def to_pandas(self) -> Any:
        return self.collect().to_pandas()

    def count(self) -> int:
        """Number of rows matching the query's predicate (computing the cells it reads)."""
        return self.with_filter(lambda con, meta, flt: rows.count(con, meta, flt))

    def rowids(self) -> list[int]:
        """Row ids of the matching rows, in the query's order, up to its limit."""
        return self.with_filter(lambda con, meta, flt: rows.select(
            con, meta, [], flt, self._order_sql(meta), self._limit)["_rowid"])

    # -- the filter, shared by every reader -------------------------------------------------
    def filter(self, meta: TableMeta) -> rows.Filter:
        """The predicate compiled for `meta`'s version."""
        if self._where is None:
            return rows.EVERYTHING
        _check_refs(self._table, meta, self._where)
        return rows.compile_filter(meta, self._where.to_dict())

    def _order_sql(self, meta: TableMeta) -> rows.Filter:
        for e, _ in self._order:
            _check_refs(self._table, meta, e)
        return rows.compile_order(meta, [(e.to_dict(), asc) for e, asc in self._order])

    def _filter_columns(self, meta: TableMeta) -> list[str]:
        """The computed columns the predicate and the order read."""
        names: set[str] = set()
        for f in [self._where, *(o for o, _ in self._order)]:
            if f is not None:
                _check_refs(self._table, meta, f)
                names |= {c for c in f.columns() if meta.column(c).is_computed}
        return sorted(names)

    def compute_filter_cells(self) -> None:
        """Compute the owed cells of the computed columns the predicate and order read."""
        meta = self._table._meta()
        names = self._filter_columns(meta)
        if names:
            self._table.materialize(names, show_progress=False)

    def filter_owed(self, con: Any, meta: TableMeta, flt: rows.Filter) -> bool:
        """Whether a row of `meta`'s version still has an owed cell the filter reads (one
        inserted meanwhile by another process)."""
        cols = [meta.column(n) for n in self._filter_columns(meta)]
        return bool(cols) and bool(rows.owed_rowids(con, meta, cols))

    def with_filter(self, fn: Callable[[Any, TableMeta, rows.Filter], T], *, write: bool = False) -> T:
        """`fn(con, meta, filter)` once every cell the filter reads is computed, in one
        transaction when `write`; retried while other processes add rows with owed cells."""
        catalog = self._table.session.catalog
        for _ in range(5):
            self.compute_filter_cells()
            with catalog.transaction() if write else catalog.connect() as con:
                meta = self._table._meta(con)
                flt = self.filter(meta)
                if not self.filter_owed(con, meta, flt):
                    return fn(con, meta, flt)
        raise CatalogError(f"{self!r}: other processes kept adding rows to compute; retry it")

    def __repr__(self) -> str:
        parts = [f"Query({self._table.path!r}"]
        if self._selects:
            parts.append(f"select={[n for n, _ in self._selects]}")
        if self._where is not None:
            parts.append(f"where={self._where.describe()}")
        if self._limit is not None:
            parts.append(f"limit={self._limit}")
        return ", ".join(parts) + ")"

    # -- execution --------------------------------------------------------------------------
    def collect(self) -> ResultSet:
        with self._table.session.catalog.held():  # one DuckDB open for the whole query
            return self._collect()

    def _items(self, meta: TableMeta) -> tuple[list[tuple[str, Expr]], list[str]]:
        """The selected ``(name, expression)`` pairs and the physical columns they read."""
        items = self._selects or [(c.name, ColumnRef(c.name)) for c in meta.columns]
        for name, e in items:
            _check_refs(self._table, meta, e)
        used = sorted({c for _, e in items for c in e.columns()})
        return items, _physical(meta, used)

    # -- streaming ----------------------------------------------------------------------------
    @overload
    def iter_batches(self, n: int = ..., *, format: TypingLiteral["arrow"] = ...) -> Iterator[Any]: ...
    @overload
    def iter_batches(self, n: int = ..., *, format: TypingLiteral["pandas"]) -> Iterator[Any]: ...

    def iter_batches(self, n: int = DEFAULT_BATCH_ROWS, *, format: str = "arrow") -> Iterator[Any]:
        """The result in batches of at most `n` rows: ``pyarrow.RecordBatch`` es, or pandas
        DataFrames with ``format='pandas'``; memory is bounded by the batch, not the table.

        Each batch's owed cells are computed just before it is yielded (a loop that stops
        early computes nothing more); ``.url`` is signed per batch. Media columns come as
        their ``fileurl`` strings and Json columns as JSON text; image functions that make
        images cannot be streamed (store them with ``add_computed_column``).

        Examples
        --------
        >>> for batch in t.select(t.img.fileurl, t.img.url).iter_batches(10_000):  # doctest: +SKIP
        ...     print(batch.num_rows, batch.column("img_url")[0])
        """
        if format not in ("arrow", "pandas"):
            raise DataError(f"iter_batches(): format must be 'arrow' or 'pandas', got {format!r}")
        meta = self._table._meta()
        items, phys = self._items(meta)
        arrow_schema(meta, items)  # refuse what Arrow cannot hold before the first batch is asked for
        batches = iter_batches(self, items, phys, n)
        return batches if format == "arrow" else (b.to_pandas() for b in batches)

    def to_reader(self, n: int = DEFAULT_BATCH_ROWS) -> Any:
        """The result as a ``pyarrow.RecordBatchReader`` of batches of at most `n` rows
        (see :meth:`iter_batches`); ``.read_all()`` makes it one ``pyarrow.Table``.

        Examples
        --------
        >>> reader = t.where(t.year > 2000).select(t.title, t.img.url).to_reader()  # doctest: +SKIP
        >>> duckdb.sql("select count(*) from reader")                               # doctest: +SKIP
        """
        import pyarrow as pa

        meta = self._table._meta()
        items, phys = self._items(meta)
        return pa.RecordBatchReader.from_batches(arrow_schema(meta, items), iter_batches(self, items, phys, n))

    def to_arrow(self, n: int = DEFAULT_BATCH_ROWS) -> Any:
        """:meth:`to_reader`: a streaming ``pyarrow.RecordBatchReader`` (``.read_all()`` for a Table).

        Examples
        --------
        >>> t.select(t.img.fileurl).to_arrow().read_all().num_rows  # doctest: +SKIP
        4
        """
        return self.to_reader(n)

    def _collect(self) -> ResultSet:
        table = self._table
        env = table.session
        meta = table._meta()
        items, phys = self._items(meta)
        data = self.with_filter(lambda con, meta, flt: rows.select(
            con, meta, phys, flt, self._order_sql(meta), self._limit))
        used = sorted({c for _, e in items for c in e.columns()})
        computed = [c for c in used if meta.column(c).is_computed]
        if computed and data["_rowid"] and any(
            d is not True for c in computed for d in data[f"{meta.column(c).phys}_done"]
        ):
            # Lazy: compute the owed cells of the returned rows only (dependencies first).
            for name in table._with_dependencies(meta, computed):
                table._materialize(meta, name, data["_rowid"])
            with env.catalog.connect() as con:
                fresh = rows.select(con, meta, phys, rowids=data["_rowid"])
            position = {rid: i for i, rid in enumerate(fresh["_rowid"])}
            order = [position[rid] for rid in data["_rowid"]]
            data = {k: [v[i] for i in order] for k, v in fresh.items()}
        result = {name: _evaluate_column(env, meta, e, data) for name, e in items}
        return ResultSet([n for n, _ in items], result)


def _check_refs(table: Table, meta: TableMeta, expr: Expr) -> None:
    for e in expr.walk():
        if isinstance(e, ColumnRef):
            if e.table_id and e.table_id != meta.id:
                raise DataError(
                    f"{expr.describe()} refers to table {e.table_path!r}; this query is on {table.path!r}"
                )
            meta.column(e.name)


def _physical(meta: TableMeta, names: list[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        col = meta.column(n)
        out.append(col.phys)
        if col.is_computed:
            out += [f"{col.phys}_done", f"{col.phys}_err", f"{col.phys}_errtype"]
    return out


def _evaluate_column(env: Any, meta: TableMeta, expr: Expr, data: dict[str, list[Any]]) -> list[Any]:
    storage = env.storage
    if isinstance(expr, ColumnRef):
        col = meta.column(expr.name)
        values = data[col.phys]
        if col.is_computed:
            values = [None if err else v for v, err in zip(values, data[f"{col.phys}_err"])]
        if col.type.name == "Image":
            return [_open_image(storage, v, col.name, rid) if v is not None else None
                    for v, rid in zip(values, data["_rowid"])]
        if col.is_media:
            return [storage.localpath(v) if v is not None else None for v in values]
        if col.type.name == "Json":
            return [json.loads(v) if v is not None else None for v in values]
        return values
    if isinstance(expr, Prop):
        col = media_column(meta, expr)
        if expr.prop in ("errormsg", "errortype"):
            if not col.is_computed:
                return [None] * len(data["_rowid"])
            return list(data[f"{col.phys}_err" if expr.prop == "errormsg" else f"{col.phys}_errtype"])
        uris = data[col.phys]
        if expr.prop == "fileurl":
            return list(uris)
        if expr.prop == "url":
            urls: list[Any] = storage.urls(uris)
            return urls
        return [storage.localpath(u) if u is not None else None for u in uris]
    if isinstance(expr, Literal):
        return [expr.value] * len(data["_rowid"])
    if isinstance(expr, Call):
        inputs = {n: _evaluate_column(env, meta, ColumnRef(n), data) for n in expr.columns()}
        out = []
        for i in range(len(data["_rowid"])):
            row = {n: vals[i] for n, vals in inputs.items()}
            try:
                out.append(evaluate(expr, row))
            except Exception as e:  # a failing function gives None for that row, like a computed cell
                raise DataError(f"{expr.describe()} failed on row {data['_rowid'][i]}: {type(e).__name__}: {e}") from e
        return out
    raise DataError(f"{expr.describe()} cannot be selected")


def _open_image(storage: Any, uri: str, column: str, rowid: int) -> Any:
    from ..compute._image_fns import open_image

    path = storage.localpath(uri)
    try:
        img = open_image(path)
        img.load()
    except Exception as e:  # Pillow's many ways to refuse a file (OSError, bombs, ValueError...)
        raise DataError(
            f"row {rowid}, column {column!r}: {uri} is not a readable image ({type(e).__name__}: {e}); "
            f"select {column}.fileurl to find it, or delete the row"
        ) from e
    return img