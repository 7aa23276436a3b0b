"""Table and column metadata as stored in the catalog, and the physical row layout.

Rows of table ``T`` live in the DuckDB table ``rows_<T.id>``: ``_rowid``, ``_v`` (the
version that inserted the row), then per column ``c<col_id>`` (the value, or a media
URI) and, for media, ``c<id>_size``, ``c<id>_hash`` (sha256 or etag) and ``c<id>_own``
(pxfs wrote the object, so pxfs may delete it); for computed columns ``c<id>_done``,
``c<id>_err`` and ``c<id>_errtype``. Physical names use column ids, so dropping and
re-adding a name never mixes old and new data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import DataError
from ..types import ColumnType, type_named

__all__ = ["ColumnMeta", "TableMeta", "load_table", "rows_table"]


@dataclass(frozen=True)
class ColumnMeta:
    col_id: int
    name: str
    type: ColumnType
    computed: dict[str, Any] | None = None  # serialized expression
    destination: str | None = None
    added_version: int = 0

    @property
    def phys(self) -> str:
        return f"c{self.col_id}"

    @property
    def is_media(self) -> bool:
        return self.type.is_media

    @property
    def is_computed(self) -> bool:
        return self.computed is not None

    def physical_columns(self) -> list[tuple[str, str]]:
        """(name, DuckDB type) of every physical column this column needs."""
        cols = [(self.phys, self.type.sql)]
        if self.is_media:
            cols += [(f"{self.phys}_size", "BIGINT"), (f"{self.phys}_hash", "VARCHAR"), (f"{self.phys}_own", "BOOLEAN")]
        if self.is_computed:
            cols += [(f"{self.phys}_done", "BOOLEAN"), (f"{self.phys}_err", "VARCHAR"), (f"{self.phys}_errtype", "VARCHAR")]
        return cols


@dataclass(frozen=True)
class TableMeta:
    id: str
    path: str
    version: int
    next_rowid: int
    next_col: int
    columns: tuple[ColumnMeta, ...] = field(default=())

    @property
    def rows(self) -> str:
        return rows_table(self.id)

    def column(self, name: str) -> ColumnMeta:
        for c in self.columns:
            if c.name == name:
                return c
        raise DataError(
            f"table {self.path!r} has no column {name!r}; its columns are: "
            f"{', '.join(c.name for c in self.columns) or '(none)'}"
        )

    def has_column(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    def at_version(self, version: int) -> TableMeta:
        """This table as it was at `version` (columns added later are hidden)."""
        return replace(self, version=version, columns=tuple(c for c in self.columns if c.added_version <= version))


def rows_table(table_id: str) -> str:
    return f"rows_{table_id}"


def load_table(con: Any, path: str) -> TableMeta | None:
    row = con.execute(
        "select id, path, version, next_rowid, next_col from tables where path = ?", [path]
    ).fetchone()
    if row is None:
        return None
    cols = con.execute(
        "select col_id, name, type, computed, destination, added_version from columns "
        "where table_id = ? and dropped_version is null order by col_id",
        [row[0]],
    ).fetchall()
    return TableMeta(
        id=row[0], path=row[1], version=row[2], next_rowid=row[3], next_col=row[4],
        columns=tuple(
            ColumnMeta(c[0], c[1], type_named(c[2]), json.loads(c[3]) if c[3] else None, c[4], c[5]) for c in cols
        ),
    )
