"""`Table`: a handle on one table of the catalog; every change is one catalog transaction
and makes a new version.

A Table holds no lock and no open connection: it reloads its metadata from the catalog at
each call, so another process may change the table in between. ``get_table('t:3')``
returns a read-only Table pinned to version 3, which shows the same rows, columns and
values for as long as version 3 is retained.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Literal, Sequence

from ..catalog import TableMeta, rows
from ..compute import CellJob, materialize, resolve_executor
from ..errors import DataError, PxfsError
from ._expr import ColumnRef, Expr, expr_from_dict
from ._table_base import UpdateStatus
from ._table_schema import _SchemaOps
from ._table_write import _WriteOps
from ._versions import cutoff, expire_table, free_media, history

if TYPE_CHECKING:
    from ._query import Query
    from ._resultset import ResultSet

__all__ = ["Table", "UpdateStatus"]

logger = logging.getLogger("pxfs.tables")


class Table(_SchemaOps, _WriteOps):
    """A table: columns as attributes (``t.img``), queries, inserts, computed columns.

    Get one with ``pxt.create_table(path, schema)`` or ``pxt.get_table(path)``.
    """

    # Its parts: the handle, metadata and columns as attributes (_table_base.py), inserts and
    # deletes (_table_write.py), schema changes (_table_schema.py); the rest is here.

    # -- display ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        try:
            meta = self._meta()
        except PxfsError:
            return f"Table({self._path!r}, dropped)"
        lines = [f"Table {self._path!r} (version {meta.version})"]
        for c in meta.columns:
            extra = ""
            if c.computed is not None:
                extra = f" = {expr_from_dict(c.computed).describe()}"
                if c.destination:
                    extra += f"  -> {c.destination}"
            lines.append(f"  {c.name}: {c.type.name}{extra}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The schema, the row count and the first rows of the stored columns, for notebooks.

        Nothing is computed: computed columns are listed, not read (``t.show()`` reads them).
        Every name and value is HTML-escaped.
        """
        import html

        try:
            meta = self._meta()
            count = self.count()
        except PxfsError as e:
            return f"<p>{html.escape(repr(self))}: {html.escape(str(e))}</p>"
        cols = "".join(
            f"<tr><td>{html.escape(c.name)}</td><td>{html.escape(c.type.name)}</td><td>"
            + (html.escape(expr_from_dict(c.computed).describe()) if c.computed is not None else "")
            + "</td></tr>"
            for c in meta.columns)
        stored = [ColumnRef(c.name, self._id, self._path) for c in meta.columns if not c.is_computed]
        preview = self.select(*stored).limit(5).collect()._repr_html_() if stored and count else ""
        return (f"<p><b>{html.escape(self._path)}</b> (version {meta.version}, {count:,} rows)</p>"
                f"<table><thead><tr><th>column</th><th>type</th><th>computed as</th></tr></thead>"
                f"<tbody>{cols}</tbody></table>{preview}")

    def describe(self) -> None:
        """Print the schema."""
        print(repr(self))

    def count(self) -> int:
        """Number of rows (in this version)."""
        return self._query().count()

    # -- versions ----------------------------------------------------------------------
    def history(self) -> Any:
        """The table's retained versions, newest first: version, created, change, rows.

        A :class:`ResultSet` (``.to_pandas()`` for a DataFrame).
        """
        return history(self.session, self._id)

    def revert(self) -> UpdateStatus:
        """Drop the latest version: the table is again what the version before it was.

        Rows it inserted and columns it added are removed (with the media pxfs wrote for
        them); rows it deleted and columns it dropped come back. Its number is not reused.
        """
        self._writable()
        env = self.session
        with env.catalog.transaction() as con:
            meta = self._meta(con)
            version, freed = rows.revert(con, meta)
        return UpdateStatus(0, version, free_media(env, freed))

    def expire_versions(self, older_than_days: float | None = None) -> list[int]:
        """Expire the versions replaced more than `older_than_days` ago (default: the
        ``version_retention_days`` setting, 7); the latest version is always kept.

        Rows, columns and media that only expired versions had are removed; returns the
        versions expired. ``t.expire_versions(0)`` keeps only the latest version.
        """
        self._writable()
        env = self.session
        return list(expire_table(env, self._id, cutoff(env, older_than_days)).versions)

    # -- computing ---------------------------------------------------------------------
    def materialize(
        self, columns: Sequence[str] | None = None, where: Expr | None = None, *,
        rowids: Sequence[int] | None = None, show_progress: bool | None = None, executor: Any = None,
    ) -> int:
        """Compute every owed cell (of `columns`, of the rows matching `where`, or of the
        rows with these `rowids`); returns how many.

        Works in batches, uploading one batch while the next is computed; a progress bar
        shows when writing to a terminal (``show_progress=False`` turns it off). Computed
        cells the `where` predicate reads are computed first, for the whole table.

        `executor` says where cells are computed (default: the ``executor`` setting,
        ``"threads"``): ``"threads"`` (this process), a ``dask.distributed.Client`` or a
        scheduler address (``"tcp://host:port"``), ``"ray"`` or ``"ray://host:port"``.
        Workers fetch, compute and upload; this process alone records (docs/scaling.md).

        Examples
        --------
        >>> t.materialize()                                   # doctest: +SKIP
        >>> t.materialize(['rotated'], where=t.year > 2000)   # doctest: +SKIP
        >>> t.materialize(executor=distributed.Client("tcp://scheduler:8786"))  # doctest: +SKIP
        """
        meta = self._meta()
        names = list(columns) if columns is not None else [c.name for c in meta.columns if c.is_computed]
        for name in names:
            if not meta.column(name).is_computed:
                raise DataError(f"column {name!r} is not computed; materialize() computes computed columns")
        progress = self.session["show_progress"] if show_progress is None else show_progress
        if where is not None:
            ids = self._query().where(where).rowids()
            rowids = ids if rowids is None else sorted(set(ids) & set(rowids))
            meta = self._meta()
        runner = resolve_executor(self.session["executor"] if executor is None else executor)
        return sum(self._materialize(meta, n, rowids, progress, runner or "threads")
                   for n in self._with_dependencies(meta, names))

    def _with_dependencies(self, meta: TableMeta, names: Iterable[str]) -> list[str]:
        """`names` and the computed columns they read, dependencies first."""
        order: list[str] = []

        def visit(name: str) -> None:
            col = meta.column(name)
            if not col.is_computed or name in order:
                return
            for dep in expr_from_dict(col.computed or {}).columns():
                visit(dep)
            order.append(name)

        for n in names:
            visit(n)
        return order

    def _materialize(self, meta: TableMeta, name: str, rowids: Sequence[int] | None, progress: bool = False,
                     executor: Any = None) -> int:
        """Materialize one column on `executor` (None: the ``executor`` setting)."""
        env = self.session
        runner = resolve_executor(env["executor"] if executor is None else executor)
        col = meta.column(name)
        expr = expr_from_dict(col.computed or {})
        inputs = tuple(meta.column(n) for n in sorted(expr.columns()))
        dest = col.destination or env.default_output_media_dest or str(env.media_dir)
        job = CellJob(col, inputs, col.computed or {}, dest)
        return materialize(
            env.catalog, env.storage, meta, job, rowids,
            batch_size=env["materialize_batch_size"], progress=progress, name_prefix=f"{meta.id}_{col.col_id}_",
            executor=runner,
        )

    # -- queries ------------------------------------------------------------------------------
    def _query(self) -> Query:
        from ._query import Query

        return Query(self)

    def select(self, *exprs: Expr, **named: Expr) -> Query:
        """Choose what to return: columns, media properties, image functions. No arguments: all columns."""
        return self._query().select(*exprs, **named)

    def where(self, predicate: Expr) -> Query:
        return self._query().where(predicate)

    def order_by(self, *exprs: Expr, asc: bool = True) -> Query:
        return self._query().order_by(*exprs, asc=asc)

    def limit(self, n: int) -> Query:
        return self._query().limit(n)

    def collect(self) -> ResultSet:
        """All rows, all columns."""
        return self._query().collect()

    def show(self, n: int = 20) -> ResultSet:
        return self._query().show(n)

    def head(self, n: int = 10) -> ResultSet:
        return self._query().head(n)

    def to_pandas(self) -> Any:
        return self._query().collect().to_pandas()

    def iter_batches(self, n: int = 10_000, *, format: Literal["arrow", "pandas"] = "arrow") -> Iterator[Any]:
        """Every row, `n` at a time, as Arrow record batches (or pandas frames): see
        :meth:`Query.iter_batches`.

        Examples
        --------
        >>> for batch in t.iter_batches(50_000):  # doctest: +SKIP
        ...     handle(batch)
        """
        query = self._query()
        return query.iter_batches(n, format="pandas") if format == "pandas" else query.iter_batches(n)

    def to_reader(self, n: int = 10_000) -> Any:
        """Every row as a streaming ``pyarrow.RecordBatchReader``: see :meth:`Query.to_reader`.

        Examples
        --------
        >>> reader = t.to_reader()                                 # doctest: +SKIP
        >>> duckdb.sql("select count(*) from reader").fetchall()   # doctest: +SKIP
        """
        return self._query().to_reader(n)

    def to_parquet(self, uri: str | os.PathLike[str]) -> str:
        """Write this version as Parquet (media as their ``fileurl``); returns where it was written.

        Owed cells are computed first, so the file holds every media URI.
        """
        from ._parquet import write_parquet

        return write_parquet(self, uri)
