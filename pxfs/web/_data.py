"""What the web app shows of the catalog: the tree, a table's columns, and pages of rows.

Read-only, like the views behind ``pxfs://`` (:mod:`pxfs.fs._catalog`): a page is one
query of at most `limit` rows in row-id order, so memory is a page whatever the size of
the table, and nothing here computes an owed cell (the app's compute action calls
:meth:`Table.materialize` with the page's row ids, and nothing else writes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pxfs as pxt

from ..catalog import ColumnMeta, TableMeta, rows
from ..tables._expr import expr_from_dict

__all__ = ["Cell", "Column", "Row", "UrlOf", "columns", "compute", "local_file", "open_table", "page", "row", "tree"]

#: ``(uri, url .url gives, rowid, column)`` -> a URL the browser can GET.
UrlOf = Callable[[str, str, int, str], str]


@dataclass(frozen=True)
class Column:
    """A column as the pages show it."""

    name: str
    type: str
    media: bool
    computed: str | None = None  # the expression, described
    destination: str | None = None


@dataclass(frozen=True)
class Cell:
    """One cell: its text (scalars), where its bytes are (media), or why it has none."""

    text: str | None = None
    uri: str | None = None
    url: str | None = None  # what the browser fetches
    owed: bool = False
    errortype: str | None = None
    errormsg: str | None = None


@dataclass(frozen=True)
class Row:
    rowid: int
    cells: dict[str, Cell] = field(default_factory=dict)


def open_table(path: str, version: int | None = None) -> pxt.Table:
    """The table at `path` (at `version`); CatalogError if there is none."""
    return pxt.get_table(path if version is None else f"{path}:{int(version)}")


def tree() -> list[tuple[str, str]]:
    """``(path, "dir" | "table")`` of everything in the catalog, sorted, parents first."""
    entries = [(p, "dir") for p in pxt.list_dirs()] + [(p, "table") for p in pxt.list_tables()]
    return sorted(entries, key=lambda e: e[0].split("."))


def columns(table: pxt.Table) -> list[Column]:
    """The columns of `table`'s version."""
    return [_column(c) for c in table._meta().columns]


def _column(c: ColumnMeta) -> Column:
    described = expr_from_dict(c.computed).describe() if c.computed is not None else None
    return Column(c.name, c.type.name, c.is_media, described, c.destination)


def page(table: pxt.Table, offset: int, limit: int, url_of: UrlOf) -> list[Row]:
    """Rows ``offset .. offset + limit - 1`` in row-id order, every column, nothing computed."""
    with table.session.catalog.connect() as con:
        meta = table._meta(con)
        data = rows.page(con, meta, _phys(meta), limit=limit, offset=offset)
    return _rows(table, meta, data.to_pylist(), url_of)


def row(table: pxt.Table, rowid: int, url_of: UrlOf) -> Row | None:
    """One row by id (None if this version has no such row)."""
    with table.session.catalog.connect() as con:
        meta = table._meta(con)
        data = rows.page(con, meta, _phys(meta), limit=1, rowids=[rowid])
    found = _rows(table, meta, data.to_pylist(), url_of)
    return found[0] if found else None


def local_file(table: pxt.Table, column: str, rowid: int) -> Path | None:
    """The local file of a stored media cell (None: no such cell, owed, failed, or not local)."""
    with table.session.catalog.connect() as con:
        meta = table._meta(con)
        col = meta.column(column)
        if not col.is_media:
            return None
        p = col.phys
        phys = [p, f"{p}_done", f"{p}_err"] if col.is_computed else [p]
        found = rows.page(con, meta, phys, limit=1, rowids=[rowid]).to_pylist()
    if not found or found[0][p] is None or (col.is_computed and not found[0][f"{p}_done"]):
        return None
    loc = table.session.storage.location(found[0][p])
    return Path(loc.key) if loc.kind == "local" else None


def compute(table: pxt.Table, column: str, rowids: list[int]) -> int:
    """Compute the owed cells of `column` (and what it reads) in these rows; how many."""
    return table.materialize([column], rowids=rowids, show_progress=False) if rowids else 0


def _phys(meta: TableMeta) -> list[str]:
    return [p for c in meta.columns for p, _ in c.physical_columns() if not p.endswith(("_own", "_hash"))]


def _rows(table: pxt.Table, meta: TableMeta, records: list[dict[str, Any]], url_of: UrlOf) -> list[Row]:
    storage = table.session.storage
    out = [Row(int(r["_rowid"])) for r in records]
    for c in meta.columns:
        p = c.phys
        owed = [c.is_computed and not r.get(f"{p}_done") for r in records]
        errs = [(r.get(f"{p}_errtype"), r.get(f"{p}_err")) if c.is_computed else (None, None) for r in records]
        values = [None if o or e[1] is not None else r.get(p) for r, o, e in zip(records, owed, errs)]
        urls: list[str | None] = [None] * len(values)
        if c.is_media:
            urls = storage.urls(values)
        for i, r in enumerate(out):
            v = values[i]
            if c.is_media:
                cell = Cell(uri=v, url=url_of(v, urls[i] or "", r.rowid, c.name) if v is not None else None)
            else:
                cell = Cell(text=_text(v))
            if owed[i]:
                cell = Cell(owed=True)
            elif errs[i][1] is not None:
                cell = Cell(errortype=errs[i][0], errormsg=errs[i][1])
            r.cells[c.name] = cell
    return out


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    return str(v)
