"""The ``pxfs://`` namespace: path grammar and resolution of a path to a :class:`Node`.

A pxfs path is the catalog path of a directory or table with ``/`` where pxfs writes
``.``, followed, inside a table, by a column and a row::

    pxfs://                          root: top-level directories and tables
    pxfs://dir/sub                   a directory (catalog path ``dir.sub``)
    pxfs://dir/table                 a table, as a directory of its columns
    pxfs://dir/table.parquet         the table's current version as Parquet
    pxfs://dir/table@3.parquet       version 3 as Parquet
    pxfs://dir/table/img             a column, as a directory
    pxfs://dir/table/img/17.jpg      the media of row 17 (``_rowid`` 17) of column ``img``

The segments are checked before anything is looked up: ``..``, ``.``, empty segments
(``a//b``) and absolute keys (``/a``) raise ``ValueError`` naming the path, so no path can
name anything outside the catalog. A well-formed path that names nothing raises
``FileNotFoundError``. To add a kind of node, add it to :data:`Kind`, to :func:`resolve`
and to the listing in ``_filesystem.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from ..catalog import ColumnMeta, TableMeta, rows
from ..errors import CatalogError
from . import _catalog as q

__all__ = ["Kind", "Node", "cell_name", "fs_name", "resolve", "split"]

Kind = Literal["root", "dir", "table", "snapshot", "column", "cell"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL = re.compile(r"^(0|[1-9][0-9]*)(\.[A-Za-z0-9]{1,8})$")
_SNAPSHOT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:@([1-9][0-9]*))?\.parquet$")


@dataclass(frozen=True)
class Node:
    """What a pxfs path names, with what the catalog said about it when it was resolved."""

    kind: Kind
    path: str  # without protocol, "/"-separated, no leading or trailing "/"
    dotted: str = ""  # catalog path of the directory or table
    meta: TableMeta | None = None  # latest metadata of the table (table, snapshot, column, cell)
    version: int | None = None  # snapshot: the pinned version, None for the current one
    column: ColumnMeta | None = None
    cell: q.Cell | None = None

    @property
    def url(self) -> str:
        return f"pxfs://{self.path}"


def split(path: str) -> list[str]:
    """The segments of a pxfs path (protocol already stripped); ``[]`` for the root.

    Raises
    ------
    ValueError
        An absolute key, an empty segment, ``.`` or ``..``.

    Examples
    --------
    >>> split("dir/table/img/3.jpg")
    ['dir', 'table', 'img', '3.jpg']
    """
    if not isinstance(path, str):
        raise TypeError(f"a pxfs path must be a string, got {type(path).__name__}")
    if path in ("", "/"):
        return []
    if path.startswith("/"):
        raise ValueError(
            f"pxfs path {path!r} is absolute; pxfs paths start at the catalog root: pxfs://dir/table"
        )
    segs = path.rstrip("/").split("/")
    for s in segs:
        if s in ("", ".", ".."):
            shown = "an empty segment" if s == "" else f"a {s!r} segment"
            raise ValueError(f"pxfs path {path!r} has {shown}; name directories, tables and columns explicitly")
    return segs


def fs_name(dotted: str) -> str:
    """The pxfs path of a catalog path: ``'dir.table'`` -> ``'dir/table'``."""
    return dotted.replace(".", "/")


def cell_name(column: ColumnMeta, cell: q.Cell) -> str:
    """``<rowid><ext>``: the extension of the stored URI, else the column type's default."""
    return f"{cell.rowid}{cell.ext(column)}"


def _names(segs: list[str]) -> bool:
    return all(_NAME.match(s) for s in segs)


def _not_found(path: str, what: str = "no such directory, table, column or cell") -> FileNotFoundError:
    return FileNotFoundError(f"pxfs://{path}: {what}")


def resolve(con: Any, path: str) -> Node:
    """The :class:`Node` that `path` names, looked up on the open catalog connection `con`.

    Raises
    ------
    ValueError
        A malformed path (see :func:`split`).
    FileNotFoundError
        A well-formed path that names nothing; the message names the path.
    """
    segs = split(path)
    path = "/".join(segs)
    if not segs:
        return Node("root", "")
    dotted = ".".join(segs)
    if _names(segs):
        if q.dir_exists(con, dotted):
            return Node("dir", path, dotted)
        meta = rows.load_table(con, dotted)
        if meta is not None:
            return Node("table", path, dotted, meta)
    last = segs[-1]
    m = _SNAPSHOT.match(last)
    if m and _names(segs[:-1]):
        table = ".".join([*segs[:-1], m.group(1)])
        meta = rows.load_table(con, table)
        if meta is not None:
            version = int(m.group(2)) if m.group(2) else None
            if version is not None:
                try:
                    rows.load_table(con, table, version=version)
                except CatalogError as e:
                    raise _not_found(path, str(e)) from None
            return Node("snapshot", path, table, meta, version)
    if len(segs) >= 2 and _names(segs[:-1]):
        meta = rows.load_table(con, ".".join(segs[:-1]))
        if meta is not None:
            if not meta.has_column(last):
                raise _not_found(path, f"table {meta.path!r} has no column {last!r}; its columns are: "
                                       f"{', '.join(c.name for c in meta.columns) or '(none)'}")
            return Node("column", path, meta.path, meta, column=meta.column(last))
    if len(segs) >= 3 and _names(segs[:-1]):
        meta = rows.load_table(con, ".".join(segs[:-2]))
        if meta is not None:
            col = meta.column(segs[-2]) if meta.has_column(segs[-2]) else None
            if col is None:
                raise _not_found(path, f"table {meta.path!r} has no column {segs[-2]!r}")
            m = _CELL.match(last)
            if not col.is_media:
                raise _not_found(path, f"column {col.name!r} holds {col.type.name} values, not files; "
                                       f"read them from pxfs://{fs_name(meta.path)}.parquet")
            if m is None:
                raise _not_found(path, "cells are named <rowid>.<extension>, e.g. 17.jpg")
            cells = q.cells(con, meta, col, rowid=int(m.group(1)))
            if not cells or m.group(2).lower() not in cells[0].names_ext(col):
                raise _not_found(path, f"column {meta.path}.{col.name} has no file {last!r}")
            return Node("cell", path, meta.path, meta, column=col, cell=cells[0])
    raise _not_found(path)
