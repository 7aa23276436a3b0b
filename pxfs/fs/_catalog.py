"""Read-only catalog queries behind ``pxfs://``: directories, tables, cells, version times.

Listing must never compute anything, and the tables layer has no call that reads the
state of cells (value, size, owed) without computing them, so these queries read the
physical row layout described in :mod:`pxfs.catalog._meta` directly. They only read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..catalog import ColumnMeta, TableMeta
from ..storage._naming import extension_of

__all__ = [
    "Cell", "cell_error", "cells", "children", "destinations", "dir_created", "dir_exists", "referenced_uris",
    "snapshot_fingerprint", "version_times",
]


@dataclass(frozen=True)
class Cell:
    """One media cell: its row, where the bytes are (None while owed), what was recorded."""

    rowid: int
    uri: str | None
    size: int | None
    hash: str | None
    owed: bool
    row_version: int

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
    return con.execute("select 1 from dirs where path = ?", [dotted]).fetchone() is not None


def dir_created(con: Any, dotted: str) -> dt.datetime | None:
    row = con.execute("select created from dirs where path = ?", [dotted]).fetchone()
    return _aware(row[0]) if row else None


def children(con: Any, dotted: str) -> tuple[list[tuple[str, dt.datetime | None]], list[tuple[str, str, int]]]:
    """Directly under directory `dotted` ("" for the root): ``(dirs, tables)`` where dirs
    are ``(path, created)`` and tables ``(path, id, version)``."""
    prefix = dotted + "." if dotted else ""

    def direct(p: str) -> bool:
        return p.startswith(prefix) and "." not in p[len(prefix):]

    dirs = [(p, _aware(c)) for p, c in con.execute("select path, created from dirs order by path").fetchall()
            if direct(p)]
    tables = [(p, i, v) for p, i, v in con.execute("select path, id, version from tables order by path").fetchall()
              if direct(p)]
    return dirs, tables


def version_times(con: Any, table_id: str) -> dict[int, dt.datetime]:
    """When each version of a table was made (local time, timezone-aware)."""
    rows = con.execute("select version, created from versions where table_id = ?", [table_id]).fetchall()
    return {v: _aware(c) for v, c in rows if c is not None}  # type: ignore[misc]


def cells(con: Any, meta: TableMeta, col: ColumnMeta, rowid: int | None = None) -> list[Cell]:
    """The cells of media column `col` that are files: stored, or owed (not yet computed).

    Null cells and computed cells that failed or produced nothing have no file.
    """
    p = col.phys
    if col.is_computed:
        owed = f"not coalesce({p}_done, false)"
        cond = f"({p} is not null or {owed})"
    else:
        owed, cond = "false", f"{p} is not null"
    sql = (f"select _rowid, {p}, {p}_size, {p}_hash, {owed}, _v from {meta.rows} "
           f"where _v <= ? and {cond}")
    params: list[Any] = [meta.version]
    if rowid is not None:
        sql += " and _rowid = ?"
        params.append(rowid)
    sql += " order by _rowid"
    return [Cell(r[0], None if r[4] else r[1], r[2], r[3], bool(r[4]), r[5])
            for r in con.execute(sql, params).fetchall()]


def cell_error(con: Any, meta: TableMeta, col: ColumnMeta, rowid: int) -> tuple[str | None, str | None]:
    """``(error type, message)`` recorded for a computed cell, ``(None, None)`` if none."""
    if not col.is_computed:
        return None, None
    row = con.execute(f"select {col.phys}_errtype, {col.phys}_err from {meta.rows} where _rowid = ?",
                      [rowid]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def snapshot_fingerprint(con: Any, meta: TableMeta) -> tuple[Any, ...]:
    """Changes whenever a Parquet snapshot of any version of the table could change.

    Every change to a table makes a new version except computing owed cells, which the
    number of computed cells per computed column captures.
    """
    done = [f"count(*) filter (where {c.phys}_done)" for c in meta.columns if c.is_computed]
    counts = con.execute(f"select count(*), {', '.join(done) or '0'} from {meta.rows}").fetchone()
    return (meta.version, *counts)


def destinations(con: Any) -> list[str]:
    """Every destination a column was ever given (dropped columns too: their media may remain)."""
    return [r[0] for r in con.execute(
        "select distinct destination from columns where destination is not null order by 1").fetchall()]


def referenced_uris(con: Any) -> set[str]:
    """Every media URI any row of any table references (all versions, all media columns)."""
    from ..catalog import load_table

    out: set[str] = set()
    for (path,) in con.execute("select path from tables").fetchall():
        meta = load_table(con, path)
        if meta is None:
            continue
        for col in meta.columns:
            if col.is_media:
                out.update(r[0] for r in con.execute(
                    f"select distinct {col.phys} from {meta.rows} where {col.phys} is not null").fetchall())
    return out


def _aware(value: Any) -> dt.datetime | None:
    """Catalog timestamps are naive local time; fsspec tools expect aware datetimes."""
    if value is None:
        return None
    return value.astimezone() if isinstance(value, dt.datetime) else None
