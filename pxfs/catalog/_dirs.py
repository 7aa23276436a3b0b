"""The directory namespace: dotted paths of directories and (live) tables.

Descendants are matched by exact prefix (``starts_with``), never with ``LIKE``: a user's
``_`` or ``%`` is a character of a name, not a wildcard.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["children", "create", "created", "kind", "paths_under", "remove"]


def kind(con: Any, path: str) -> str | None:
    """``'dir'``, ``'table'`` or None."""
    if con.execute("select 1 from dirs where path = ?", [path]).fetchone():
        return "dir"
    if con.execute("select 1 from tables where path = ? and dropped is null", [path]).fetchone():
        return "table"
    return None


def created(con: Any, path: str) -> dt.datetime | None:
    row = con.execute("select created from dirs where path = ?", [path]).fetchone()
    return row[0] if row else None


def create(con: Any, path: str) -> None:
    con.execute("insert into dirs values (?, ?)", [path, dt.datetime.now()])


def remove(con: Any, paths: list[str]) -> None:
    for p in paths:
        con.execute("delete from dirs where path = ?", [p])


def paths_under(con: Any, path: str) -> tuple[list[str], list[str]]:
    """``(tables, dirs)`` anywhere below directory `path` ("" for the root); dirs deepest first."""
    prefix = path + "." if path else ""
    tables = [r[0] for r in con.execute(
        "select path from tables where dropped is null and starts_with(path, ?) order by path", [prefix]).fetchall()]
    dirs = [r[0] for r in con.execute(
        "select path from dirs where starts_with(path, ?) order by length(path) desc, path", [prefix]).fetchall()]
    return tables, dirs


def children(con: Any, path: str) -> tuple[list[tuple[str, dt.datetime | None]], list[tuple[str, str, int]]]:
    """Directly under directory `path` ("" for the root): ``(dirs, tables)``, dirs as
    ``(path, created)``, tables as ``(path, id, version)``."""
    prefix = path + "." if path else ""
    dirs = con.execute(
        "select path, created from dirs where starts_with(path, ?) and position('.' in path[?:]) = 0 order by path",
        [prefix, len(prefix) + 1]).fetchall()
    tables = con.execute(
        "select path, id, version from tables where dropped is null and starts_with(path, ?) "
        "and position('.' in path[?:]) = 0 order by path", [prefix, len(prefix) + 1]).fetchall()
    return [tuple(r) for r in dirs], [tuple(r) for r in tables]
