"""Schema changes of a :class:`~._table.Table`: adding stored and computed columns, dropping one."""

from __future__ import annotations

import os
from typing import Any

from ..catalog import ColumnMeta, TableMeta, rows
from ..errors import DataError
from ..types import ColumnType, as_type
from ._expr import ColumnRef, Compare, Expr, Logical, Prop, expr_from_dict, result_type
from ._table_base import UpdateStatus, _TableBase


class _SchemaOps(_TableBase):
    """Adding and dropping columns: part of :class:`~._table.Table`."""

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
