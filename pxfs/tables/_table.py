"""`Table`: a handle on one table of the catalog; every change is one catalog transaction
and makes a new version.

A Table holds no lock and no open connection: it reloads its metadata from the catalog at
each call, so another process may change the table in between. ``get_table('t:3')``
returns a read-only Table pinned to version 3, which shows the same rows, columns and
values for as long as version 3 is retained.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence

from ..catalog import ColumnMeta, TableMeta, rows
from ..compute import CellJob, materialize, resolve_executor
from ..errors import CatalogError, DataError, PxfsError
from ..storage import Listed
from ..types import ColumnType, as_type
from ._expr import ColumnRef, Compare, Expr, Logical, Prop, expr_from_dict, result_type
from ._ingest import Prepared, list_objects, object_columns, prepare, prepare_columns
from ._media import MediaValue, check_many
from ._versions import cutoff, expire_table, free_media, history

if TYPE_CHECKING:
    from ..session import Session
    from ._query import Query
    from ._resultset import ResultSet

__all__ = ["Table", "UpdateStatus"]

logger = logging.getLogger("pxfs.tables")


@dataclass(frozen=True)
class UpdateStatus:
    """What a mutation did: rows affected, the table's new version, media objects removed."""

    num_rows: int = 0
    version: int = 0
    media_removed: int = 0

    def __repr__(self) -> str:
        return f"UpdateStatus(num_rows={self.num_rows}, version={self.version}, media_removed={self.media_removed})"


class Table:
    """A table: columns as attributes (``t.img``), queries, inserts, computed columns.

    Get one with ``pxt.create_table(path, schema)`` or ``pxt.get_table(path)``.
    """

    def __init__(self, path: str, table_id: str, version: int | None = None, *,
                 session: Session | None = None) -> None:
        self._path = path
        self._id = table_id
        self._pinned = version  # None: follows the latest version
        self._session = session  # None: the process's default session, whatever pxt.init() made it

    # -- metadata ------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        """The session (catalog, storage, configuration) this table belongs to: the one it
        was opened with, else the process's default session as ``pxt.init()`` left it."""
        if self._session is not None:
            return self._session
        from ..session import Session

        return Session.default()

    def _meta(self, con: Any = None) -> TableMeta:
        if con is None:
            with self.session.catalog.connect() as c:
                return self._meta(c)
        meta = rows.load_table(con, table_id=self._id, version=self._pinned)
        if meta is None or meta.path != self._path:
            raise CatalogError(f"table {self._path!r} no longer exists (dropped, perhaps by another process)")
        return meta

    def _writable(self) -> None:
        if self._pinned is not None:
            raise CatalogError(
                f"{self._path}:{self._pinned} is a read-only past version; use pxt.get_table({self._path!r})"
            )

    @property
    def path(self) -> str:
        return self._path

    @property
    def name(self) -> str:
        return self._path.rsplit(".", 1)[-1]

    @property
    def version(self) -> int:
        return self._meta().version

    def columns(self) -> list[str]:
        """Names of the table's columns, in order."""
        return [c.name for c in self._meta().columns]

    def __getattr__(self, name: str) -> ColumnRef:
        if name.startswith("_"):
            raise AttributeError(name)
        meta = self._meta()
        if not meta.has_column(name):
            raise AttributeError(
                f"table {self._path!r} has no column {name!r}; its columns are: "
                f"{', '.join(c.name for c in meta.columns) or '(none)'}"
            )
        return ColumnRef(name, self._id, self._path)

    def __getitem__(self, name: str) -> ColumnRef:
        return self.__getattr__(name)

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

    # -- inserting -------------------------------------------------------------------------
    def insert(self, rows: Any = None, /, **values: Any) -> UpdateStatus:
        """Insert rows: ``t.insert(col=value, ...)``, ``t.insert({...})``, ``t.insert([{...}, ...])``,
        or columns at once: ``t.insert(df)`` for a pandas DataFrame, a ``pyarrow.Table``, a
        record batch, a ``RecordBatchReader`` or a list of record batches.

        Media values may be local paths, URLs, bucket URIs, bytes or ``PIL.Image`` objects.
        Every value is checked before anything is written; a bad value raises
        :class:`~pxfs.errors.DataError` naming the row and column, and no row is added.
        Columns left out are None. With ``input_media_dest`` set, media are copied there first.

        Examples
        --------
        >>> t.insert(img='photos/p0.jpg', title='tomato')                       # doctest: +SKIP
        >>> t.insert(pd.DataFrame({'img': ['photos/p1.jpg'], 'year': [2022]}))  # doctest: +SKIP
        """
        self._writable()
        meta = self._meta()
        prepared = prepare(meta, rows, values)
        if prepared.n == 0:
            return UpdateStatus(0, meta.version)
        return self._insert_prepared(meta, prepared)

    def insert_objects(
        self, prefix: str | os.PathLike[str], column: str, *, pattern: str | None = None,
        key_column: str | None = None, values: Callable[[str], Mapping[str, Any]] | None = None,
    ) -> UpdateStatus:
        """Insert one row per object below `prefix` (a bucket prefix or a local folder), its
        URI in the media column `column`.

        `pattern` keeps the objects whose path below the prefix matches it (``'*.jpg'``,
        fnmatch rules: ``*`` also matches ``/``); `key_column` names a String column that
        receives that path; ``values(uri)`` may return the other columns of the row. The
        listing takes one request per page of 1,000 keys and proves the objects exist (no
        HEAD per object). An empty listing raises DataError naming the prefix.

        Examples
        --------
        >>> t.insert_objects('s3://my-bucket/photos/', column='img', pattern='*.jpg',
        ...                  key_column='name')                                   # doctest: +SKIP
        UpdateStatus(num_rows=2000000, version=2, media_removed=0)
        """
        self._writable()
        meta = self._meta()
        col = meta.column(column)
        if not col.is_media or col.is_computed:
            raise DataError(f"insert_objects(): column {column!r} is not a stored media column of {self._path!r}")
        if key_column is not None and meta.column(key_column).type.name != "String":
            raise DataError(f"insert_objects(): key_column {key_column!r} must be a String column")
        folder, objects = list_objects(self.session.storage, prefix, pattern)
        prepared = prepare_columns(meta, object_columns(folder, objects, column, key_column, values))
        return self._insert_prepared(meta, prepared, known={o.uri: o for o in objects})

    def _insert_prepared(
        self, meta: TableMeta, prepared: Prepared, known: Mapping[str, Listed] | None = None
    ) -> UpdateStatus:
        """Check the media of `prepared`, copy them where they go, then write its rows."""
        env = self.session
        checked = check_many(env.storage, prepared.media, known=known,
                             decode=env["media_validation"] == "on_write")
        uploaded = self._store_inputs(env, meta, prepared.media, checked)
        try:
            names = {name for name, _ in prepared.slots}
            cells: dict[str, list[MediaValue | None]] = {name: [None] * prepared.n for name in names}
            for (name, i), value in zip(prepared.slots, checked):
                cells[name][i] = value
            status = self._insert_rows(meta, prepared.n, prepared.scalars, cells)
        except BaseException:
            free_media(env, uploaded)
            raise
        return status

    def _store_inputs(
        self, env: Session, meta: TableMeta, checks: list[tuple[ColumnMeta, Any, str]], checked: list[MediaValue]
    ) -> list[str]:
        """Copy media to input_media_dest (or keep bytes/images in $PXFS_HOME/media)."""
        dest = env.default_input_media_dest
        todo = [(c, m) for (c, _, _), m in zip(checks, checked) if dest or m.upload is not None]
        if not todo:
            return []
        storage = env.storage
        target = dest or str(env.media_dir)
        sources: list[Any] = [m.upload if m.upload is not None else m.uri for _, m in todo]
        results = storage.put_many(
            sources, target,
            name_prefixes=[f"{meta.id}_{c.col_id}_" for c, _ in todo], return_exceptions=True,
        )
        ok = [r.uri for r in results if not isinstance(r, BaseException)]
        for (col, m), r in zip(todo, results):
            if isinstance(r, BaseException):
                free_media(env, ok)
                raise DataError(f"{m.where}: could not copy the media to {target}: {r}") from r
            m.uri, m.size, m.hash, m.upload = r.uri, r.size, r.sha256, True
        return ok

    def _insert_rows(
        self, meta: TableMeta, n: int, scalars: dict[str, Any], cells: dict[str, list[MediaValue | None]],
    ) -> UpdateStatus:
        import pyarrow as pa

        with self.session.catalog.transaction() as con:
            fresh = self._meta(con)
            if [c.col_id for c in fresh.columns] != [c.col_id for c in meta.columns]:
                raise CatalogError(f"the columns of {self._path!r} changed during the insert; retry it")
            version = fresh.last_made + 1
            arrays: dict[str, Any] = {
                "_rowid": pa.array(list(range(fresh.next_rowid, fresh.next_rowid + n)), type=pa.int64()),  # a range imports pandas
                "_v": pa.array([version] * n, type=pa.int32()),
            }
            for col in fresh.columns:
                if col.is_computed:
                    arrays[f"{col.phys}_done"] = pa.array([False] * n)
                    continue
                if col.is_media:
                    ms = cells.get(col.name, [None] * n)
                    arrays[col.phys] = pa.array([m.uri if m else None for m in ms], type=pa.string())
                    arrays[f"{col.phys}_size"] = pa.array([m.size if m else None for m in ms], type=pa.int64())
                    arrays[f"{col.phys}_hash"] = pa.array([m.hash if m else None for m in ms], type=pa.string())
                    arrays[f"{col.phys}_own"] = pa.array([bool(m and m.upload is True) for m in ms])
                else:
                    arrays[col.phys] = scalars[col.name]
            rows.insert(con, fresh, pa.table(arrays))
            rows.new_version(con, fresh, f"insert {n}", n, next_rowid=fresh.next_rowid + n)
        return UpdateStatus(n, version)

    # -- schema changes ----------------------------------------------------------------------
    def add_column(self, *, if_exists: str = "error", **columns: Any) -> UpdateStatus:
        """Add stored columns: ``t.add_column(caption=pxt.String)``; existing rows get None."""
        self._writable()
        if not columns:
            raise DataError("add_column(): name the column, e.g. t.add_column(caption=pxt.String)")
        specs = {name: as_type(t, f"column {name!r}") for name, t in columns.items()}
        return self._add_columns(specs, {}, None, if_exists)

    def add_computed_column(
        self, *, destination: str | os.PathLike[str] | None = None, if_exists: str = "error", **columns: Any
    ) -> UpdateStatus:
        """Add a computed column: ``t.add_computed_column(rotated=t.img.rotate(90))``.

        Nothing is computed now: cells are computed when first read, or by
        :meth:`materialize`. Media results are written to `destination`, else
        ``output_media_dest``, else ``$PXFS_HOME/media``; the destination is checked now
        (it resolves, the bucket exists, a probe object can be written and removed).
        Adding the same definition again is a no-op, so a notebook cell can be re-run.
        """
        self._writable()
        if len(columns) != 1:
            raise DataError("add_computed_column(): give exactly one name=expression")
        (name, expr), = columns.items()
        meta = self._meta()
        if not isinstance(expr, Expr):
            raise DataError(f"computed column {name!r}: {expr!r} is not an expression of table {self._path!r}")
        self._check_expr(meta, name, expr)
        col_types = {c.name: c.type for c in meta.columns}
        out_type = result_type(expr, col_types)
        dest: str | None = None
        if out_type.is_media:
            env = self.session
            chosen = os.fspath(destination) if destination is not None else (
                env.default_output_media_dest or str(env.media_dir)
            )
            # Pinned now, in canonical form: the column's files stay in one place even if
            # output_media_dest or the working directory change later.
            dest = env.storage.check_writable(chosen).uri  # raises naming it; nothing is added
        elif destination is not None:
            raise DataError(f"computed column {name!r} produces {out_type.name}, not media; it takes no destination")
        if meta.has_column(name) and if_exists == "error":
            old = meta.column(name)
            if old.computed == expr.to_dict() and old.destination == dest:
                return UpdateStatus(0, meta.version)  # the same definition again: nothing to do
        return self._add_columns({name: out_type}, {name: expr.to_dict()}, dest, if_exists)

    def _check_expr(self, meta: TableMeta, name: str, expr: Expr) -> None:
        for e in expr.walk():
            if isinstance(e, ColumnRef):
                if e.table_id and e.table_id != meta.id:
                    raise DataError(
                        f"computed column {name!r}: {expr.describe()} refers to table {e.table_path!r}, "
                        f"not {self._path!r}; a computed column can only use its own table's columns"
                    )
                meta.column(e.name)
            elif isinstance(e, (Prop, Compare, Logical)):
                raise DataError(f"computed column {name!r}: {e.describe()} cannot be a computed column")
        if not expr.columns():
            raise DataError(f"computed column {name!r}: {expr.describe()} uses no column of the table")

    def _add_columns(
        self, specs: dict[str, ColumnType], computed: dict[str, dict[str, Any]], destination: str | None, if_exists: str
    ) -> UpdateStatus:
        if if_exists not in ("error", "ignore", "replace"):
            raise DataError(f"if_exists must be 'error', 'ignore' or 'replace', got {if_exists!r}")
        for name in specs:
            if not name.isidentifier() or name.startswith("_"):
                raise DataError(f"{name!r} is not a valid column name (letters, digits, _; not starting with _)")
        with self.session.catalog.transaction() as con:
            meta = self._meta(con)
            version = meta.last_made + 1
            next_col = meta.next_col
            added = []
            for name, ctype in specs.items():
                if meta.has_column(name):
                    if if_exists == "ignore":
                        continue
                    if if_exists == "error":
                        raise DataError(
                            f"table {self._path!r} already has a column {name!r}; drop it first or pass "
                            "if_exists='replace'"
                        )
                    rows.drop_column(con, meta, meta.column(name), version)
                col = ColumnMeta(next_col, name, ctype, computed.get(name), destination, version)
                next_col += 1
                rows.add_column(con, meta, col)
                added.append(name)
            if not added:
                return UpdateStatus(0, meta.version)
            rows.new_version(con, meta, f"add column {', '.join(added)}", 0, next_col=next_col)
        return UpdateStatus(0, version)

    def drop_column(self, name: str) -> UpdateStatus:
        """Drop a column from the next version on; past versions keep it, and its media stay
        until every version that has it expires."""
        self._writable()
        with self.session.catalog.transaction() as con:
            meta = self._meta(con)
            col = meta.column(name)
            self._check_unused(meta, name)
            version = rows.new_version(con, meta, f"drop column {name}", 0)
            rows.drop_column(con, meta, col, version)
        return UpdateStatus(0, version)

    @staticmethod
    def _check_unused(meta: TableMeta, name: str) -> None:
        for other in meta.columns:
            if other.computed and other.name != name and name in expr_from_dict(other.computed).columns():
                raise DataError(f"column {name!r} is used by computed column {other.name!r}; drop that first")

    def delete(self, where: Expr | None = None) -> UpdateStatus:
        """Delete the rows matching `where` (all rows if None) from the next version on.

        Computed cells the predicate reads are computed first, so ``delete`` removes exactly
        the rows ``where(...).collect()`` returns. Past versions keep the rows, and their
        media stay until every version that has them expires.
        """
        self._writable()
        query = self._query() if where is None else self._query().where(where)
        for _ in range(5):  # rows with owed cells may arrive between computing and deleting
            query.compute_filter_cells()
            with self.session.catalog.transaction() as con:
                meta = self._meta(con)
                flt = query.filter(meta)
                if query.filter_owed(con, meta, flt):
                    continue
                n = rows.count(con, meta, flt)
                if n == 0:
                    return UpdateStatus(0, meta.version)
                version = rows.new_version(con, meta, f"delete {n}", -n)
                rows.soft_delete(con, meta, flt, version)
            return UpdateStatus(n, version)
        raise CatalogError(f"delete on {self._path!r}: other processes kept adding rows to compute; retry it")

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
