"""What ``pxfs://`` shows of the catalog: directories, tables, cells, version times.

Listing never computes anything; these are thin, read-only views over
:mod:`pxfs.catalog.rows` and :mod:`pxfs.catalog.dirs`, with times made timezone-aware as
fsspec tools expect.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..catalog import ColumnMeta, TableMeta, dirs, rows
from ..storage._naming import extension_of

__all__ = ["Cell", "cell", "cells", "children", "dir_created", "dir_exists", "prefixes", "version_times", "windows"]


@dataclass(frozen=True)
class Cell:
    """One media cell: its row, where the bytes are (None while owed), what was recorded."""

    rowid: int
    uri: str | None
    size: int | None
    hash: str | None
    owed: bool
    row_version: int
    errtype: str | None = None
    error: str | None = None

    def ext(self, column: ColumnMeta) -> str:
        """The extension of the stored URI, else the column type's default (``.png``)."""
        return (extension_of(self.uri) if self.uri else "") or column.type.default_ext

    def names_ext(self, column: ColumnMeta) -> tuple[str, ...]:
        """Extensions this cell answers to: its own, and, for a computed column, the
        default one it was listed under while it was owed."""
        own = self.ext(column)
        if column.is_computed and own != column.type.default_ext:
            return (own, column.type.default_ext)
        return (own,)


def dir_exists(con: Any, dotted: str) -> bool:
    return dirs.kind(con, dotted) == "dir"


def dir_created(con: Any, dotted: str) -> dt.datetime | None:
    return _aware(dirs.created(con, dotted))


def children(con: Any, dotted: str) -> tuple[list[tuple[str, dt.datetime | None]], list[tuple[str, str, int]]]:
    """Directly under directory `dotted` ("" for the root): ``(dirs, tables)`` where dirs
    are ``(path, created)`` and tables ``(path, id, version)``."""
    found_dirs, tables = dirs.children(con, dotted)
    return [(p, _aware(c)) for p, c in found_dirs], tables


def version_times(con: Any, table_id: str) -> dict[int, dt.datetime]:
    """When each version of a table was made (local time, timezone-aware)."""
    return {v: _aware(c) for v, c in rows.version_times(con, table_id).items()}  # type: ignore[misc]


def cells(con: Any, meta: TableMeta, col: ColumnMeta, rowid: int | None = None, *, after: int | None = None,
          upto: int | None = None, folders: list[str] | None = None) -> list[Cell]:
    """The cells of media column `col` that are files: stored, or owed (not yet computed);
    a page of them with row ids in ``(after, upto]``; those in `folders` (URIs) only.

    Null cells and computed cells that failed or produced nothing have no file.
    """
    return [_cell(r) for r in rows.cells(con, meta, col, rowid, after=after, upto=upto, folders=folders)]


def windows(meta: TableMeta, size: int) -> range:
    """Where pages of `size` row ids start (``after`` values): together they cover every
    row id of `meta`'s table, each page ``(after, after + size]``."""
    return range(-1, max(meta.next_rowid, 1) - 1, size)


def prefixes(con: Any, meta: TableMeta, col: ColumnMeta) -> list[tuple[str, int]]:
    """``(folder URI, stored cells)`` of the folders holding `col`'s stored cells, most first."""
    return rows.media_prefixes(con, meta, col)


def cell(con: Any, meta: TableMeta, col: ColumnMeta, rowid: int) -> Cell | None:
    """One cell of `col`, whatever its state (failed and empty ones too)."""
    found = rows.cells(con, meta, col, rowid, files_only=False)
    return _cell(found[0]) if found else None


def _cell(r: tuple[Any, ...]) -> Cell:
    return Cell(r[0], None if r[4] else r[1], r[2], r[3], bool(r[4]), r[5], r[6], r[7])


def _aware(value: Any) -> dt.datetime | None:
    """Catalog timestamps are naive local time; fsspec tools expect aware datetimes."""
    if value is None:
        return None
    return value.astimezone() if isinstance(value, dt.datetime) else None
