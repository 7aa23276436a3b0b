"""Table and column metadata as stored in the catalog, and the physical row layout.

Rows of table ``T`` live in the DuckDB table ``rows_<T.id>``: ``_rowid``, ``_v`` (the
version that inserted the row), ``_vdel`` (the version that deleted it, null while it is
live), then per column ``c<col_id>`` (the value, or a media URI) and, for media,
``c<id>_size``, ``c<id>_hash`` (sha256 or etag) and ``c<id>_own`` (pxfs wrote the
object, so pxfs may delete it once no retained version references it); for computed
columns ``c<id>_done``, ``c<id>_err`` and ``c<id>_errtype``. Physical names use column
ids, so dropping and re-adding a name never mixes old and new data.

Version ``V`` sees a row when ``_v <= V`` and it was not deleted by ``V``, and a column
when it was added by ``V`` and not dropped by ``V``. Deleted rows and dropped columns stay
stored until every version that sees them has expired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import DataError
from ..types import ColumnType

__all__ = ["ColumnMeta", "TableMeta", "rows_table"]


@dataclass(frozen=True)
class ColumnMeta:
    col_id: int
    name: str
    type: ColumnType
    computed: dict[str, Any] | None = None  # serialized expression
    destination: str | None = None
    added_version: int = 0
    dropped_version: int | None = None

    @property
    def phys(self) -> str:
        return f"c{self.col_id}"

    @property
    def is_media(self) -> bool:
        return self.type.is_media

    @property
    def is_computed(self) -> bool:
        return self.computed is not None

    def visible_at(self, version: int) -> bool:
        return self.added_version <= version and (self.dropped_version is None or self.dropped_version > version)

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
    """One table as version `version` sees it.

    `columns` are the columns of that version; `stored` every column whose data is still
    stored (those of every retained version). `latest` is the table's current version,
    `oldest` its oldest retained one, `last_made` the highest version number ever made
    (a reverted version's number is never used again).
    """

    id: str
    path: str
    version: int
    next_rowid: int
    next_col: int
    columns: tuple[ColumnMeta, ...] = field(default=())
    latest: int = 0
    oldest: int = 1
    last_made: int = 0
    stored: tuple[ColumnMeta, ...] = field(default=())

    @property
    def rows(self) -> str:
        return rows_table(self.id)

    @property
    def pinned(self) -> bool:
        """Whether this is a past version (read-only)."""
        return self.version != self.latest

    def column(self, name: str) -> ColumnMeta:
        for c in self.columns:
            if c.name == name:
                return c
        raise DataError(
            f"table {self.path!r} has no column {name!r}"
            + (f" at version {self.version}" if self.pinned else "")
            + f"; its columns are: {', '.join(c.name for c in self.columns) or '(none)'}"
        )

    def has_column(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)


def rows_table(table_id: str) -> str:
    return f"rows_{table_id}"
