"""Writes to a :class:`~._table.Table`: inserting rows (checked, media copied first) and deleting them."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..catalog import ColumnMeta, TableMeta, rows
from ..errors import CatalogError, DataError
from ..storage import Listed
from ._expr import Expr
from ._ingest import Prepared, list_objects, object_columns, prepare, prepare_columns
from ._media import MediaValue, check_many
from ._table_base import UpdateStatus, _TableBase
from ._versions import free_media

if TYPE_CHECKING:
    from ..session import Session


class _WriteOps(_TableBase):
    """Inserting and deleting rows: part of :class:`~._table.Table`."""

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
        with self.session.catalog.transaction() as con:
            fresh = self._meta(con)
            if [c.col_id for c in fresh.columns] != [c.col_id for c in meta.columns]:
                raise CatalogError(f"the columns of {self._path!r} changed during the insert; retry it")
            version = fresh.last_made + 1
            values: dict[str, Any] = {
                "_rowid": range(fresh.next_rowid, fresh.next_rowid + n),
                "_v": [version] * n,
            }
            for col in fresh.columns:
                if col.is_computed:
                    values[f"{col.phys}_done"] = [False] * n
                elif col.is_media:
                    ms = cells.get(col.name, [None] * n)
                    values[col.phys] = [m.uri if m else None for m in ms]
                    values[f"{col.phys}_size"] = [m.size if m else None for m in ms]
                    values[f"{col.phys}_hash"] = [m.hash if m else None for m in ms]
                    values[f"{col.phys}_own"] = [bool(m and m.upload is True) for m in ms]
                else:
                    values[col.phys] = scalars[col.name]
            if all(isinstance(v, (list, range)) for v in values.values()):
                rows.insert(con, fresh, values)  # rows given as dicts: no Arrow needed
            else:  # Arrow columns from a DataFrame or Arrow data: the rest joins them
                rows.insert(con, fresh, _arrow_table(fresh, values))
            rows.new_version(con, fresh, f"insert {n}", n, next_rowid=fresh.next_rowid + n)
        return UpdateStatus(n, version)

    # -- deleting ----------------------------------------------------------------------------
    def delete(self, where: Expr | None = None) -> UpdateStatus:
        """Delete the rows matching `where` (all rows if None) from the next version on.

        Computed cells the predicate reads are computed first, so ``delete`` removes exactly
        the rows ``where(...).collect()`` returns. Past versions keep the rows, and their
        media stay until every version that has them expires.
        """
        self._writable()
        query = self._query() if where is None else self._query().where(where)

        def soft_delete(con: Any, meta: TableMeta, flt: rows.Filter) -> UpdateStatus:
            n = rows.count(con, meta, flt)
            if n == 0:
                return UpdateStatus(0, meta.version)
            version = rows.new_version(con, meta, f"delete {n}", -n)
            rows.soft_delete(con, meta, flt, version)
            return UpdateStatus(n, version)

        return query.with_filter(soft_delete, write=True)


def _arrow_table(meta: TableMeta, values: dict[str, Any]) -> Any:
    """``values`` (Arrow arrays and Python lists) as one Arrow table of the physical types."""
    import pyarrow as pa

    types = {"_rowid": pa.int64(), "_v": pa.int32()}
    for col in meta.columns:
        if col.is_media:
            types.update({col.phys: pa.string(), f"{col.phys}_size": pa.int64(), f"{col.phys}_hash": pa.string(),
                          f"{col.phys}_own": pa.bool_()})
        elif col.is_computed:
            types[f"{col.phys}_done"] = pa.bool_()
    return pa.table({name: v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(list(v), type=types.get(name))
                     for name, v in values.items()})
