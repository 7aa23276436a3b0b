"""Directories and tables: create, get, drop, list. Paths are dotted: ``'dir.sub.table'``."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from ..catalog import ColumnMeta, load_table, rows_table
from ..errors import CatalogError, DataError
from ..types import as_type
from ._table import Table, remove_media

__all__ = [
    "create_dir", "create_table", "drop_dir", "drop_table", "get_table", "list_dirs", "list_tables",
]

_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env() -> Any:
    from ..env import Env

    return Env.get()


def _norm(path: str, what: str) -> str:
    if not isinstance(path, str):
        raise DataError(f"{what} path must be a string like 'dir.name', got {path!r}")
    p = path.strip().replace("/", ".").strip(".")
    if not p or not all(_SEGMENT.match(s) for s in p.split(".")):
        raise DataError(
            f"{path!r} is not a valid {what} path: use names of letters, digits and _ joined by '.' ('dir.name')"
        )
    return p


def _parent(path: str) -> str:
    return path.rpartition(".")[0]


def _check_parent(con: Any, path: str) -> None:
    parent = _parent(path)
    if parent and con.execute("select 1 from dirs where path = ?", [parent]).fetchone() is None:
        raise CatalogError(f"directory {parent!r} does not exist; create it first with pxt.create_dir({parent!r})")


def _kind(con: Any, path: str) -> str | None:
    if con.execute("select 1 from dirs where path = ?", [path]).fetchone():
        return "dir"
    if con.execute("select 1 from tables where path = ?", [path]).fetchone():
        return "table"
    return None


def create_dir(path: str, if_exists: str = "error") -> None:
    """Create a directory (``'a.b'`` needs ``'a'``); ``if_exists='ignore'`` makes it idempotent.

    Examples
    --------
    >>> pxt.create_dir('blob_storage_demo', if_exists='ignore')  # doctest: +SKIP
    """
    path = _norm(path, "directory")
    if if_exists not in ("error", "ignore", "replace", "replace_force"):
        raise DataError(f"if_exists must be 'error', 'ignore', 'replace' or 'replace_force', got {if_exists!r}")
    with _env().catalog.transaction() as con:
        kind = _kind(con, path)
        if kind == "table":
            raise CatalogError(f"{path!r} is a table, not a directory")
        if kind == "dir":
            if if_exists == "ignore":
                return
            if if_exists == "error":
                raise CatalogError(f"directory {path!r} already exists; pass if_exists='ignore' to keep it")
    if kind == "dir":
        drop_dir(path, force=if_exists == "replace_force")
    with _env().catalog.transaction() as con:
        _check_parent(con, path)
        con.execute("insert into dirs values (?, ?)", [path, dt.datetime.now()])


def drop_dir(path: str, force: bool = False, if_not_exists: str = "error") -> None:
    """Drop a directory; ``force=True`` also drops what it contains (and a missing one is fine).

    Dropping a table removes the media objects pxfs wrote for it.
    """
    path = _norm(path, "directory")
    with _env().catalog.connect() as con:
        kind = _kind(con, path)
        if kind is None:
            if force or if_not_exists == "ignore":
                return
            raise CatalogError(f"directory {path!r} does not exist")
        if kind == "table":
            raise CatalogError(f"{path!r} is a table; use pxt.drop_table({path!r})")
        tables = [r[0] for r in con.execute(
            "select path from tables where path like ? order by path", [path + ".%"]).fetchall()]
        dirs = [r[0] for r in con.execute(
            "select path from dirs where path like ? order by length(path) desc", [path + ".%"]).fetchall()]
    if (tables or dirs) and not force:
        raise CatalogError(
            f"directory {path!r} is not empty ({len(tables)} tables, {len(dirs)} directories); "
            "pass force=True to drop it with its contents"
        )
    for t in tables:
        drop_table(t, force=True)
    with _env().catalog.transaction() as con:
        for d in [*dirs, path]:
            con.execute("delete from dirs where path = ?", [d])


def create_table(path: str, schema: dict[str, Any], if_exists: str = "error") -> Table:
    """Create a table: ``pxt.create_table('demo.media', {'img': pxt.Image, 'title': pxt.String})``."""
    path = _norm(path, "table")
    if not isinstance(schema, dict):
        raise DataError(f"create_table({path!r}): schema must be a dict of column name -> type")
    if if_exists not in ("error", "ignore", "replace"):
        raise DataError(f"if_exists must be 'error', 'ignore' or 'replace', got {if_exists!r}")
    types = {}
    for name, t in schema.items():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise DataError(f"create_table({path!r}): {name!r} is not a valid column name")
        types[name] = as_type(t, f"create_table({path!r}), column {name!r}")
    with _env().catalog.connect() as con:
        kind = _kind(con, path)
    if kind == "dir":
        raise CatalogError(f"{path!r} is a directory")
    if kind == "table":
        if if_exists == "ignore":
            return get_table(path)
        if if_exists == "error":
            raise CatalogError(
                f"table {path!r} already exists; use pxt.get_table({path!r}) or pass if_exists='replace'"
            )
        drop_table(path, force=True)
    table_id = uuid.uuid4().hex[:12]
    with _env().catalog.transaction() as con:
        _check_parent(con, path)
        if _kind(con, path) is not None:
            raise CatalogError(f"table {path!r} already exists")
        cols = [ColumnMeta(i, name, t, None, None, 1) for i, (name, t) in enumerate(types.items())]
        phys = ["_rowid BIGINT NOT NULL", "_v INTEGER NOT NULL"]
        phys += [f"{p} {sql}" for c in cols for p, sql in c.physical_columns()]
        con.execute(f"create table {rows_table(table_id)} ({', '.join(phys)})")
        for c in cols:
            con.execute("insert into columns values (?, ?, ?, ?, null, null, 1, null)", [table_id, c.col_id, c.name, c.type.name])
        con.execute("insert into tables values (?, ?, 1, 0, ?, ?)", [table_id, path, len(cols), dt.datetime.now()])
        con.execute("insert into versions values (?, 1, ?, 'create', 0)", [table_id, dt.datetime.now()])
    return Table(path, table_id)


def get_table(path: str) -> Table:
    """The table at `path`; ``'path:N'`` gives a read-only handle on version N."""
    version = None
    if isinstance(path, str) and ":" in path:
        path, _, v = path.rpartition(":")
        if not v.isdigit():
            raise DataError(f"{path}:{v}: the version after ':' must be a number")
        version = int(v)
    path = _norm(path, "table")
    with _env().catalog.connect() as con:
        meta = load_table(con, path)
    if meta is None:
        raise CatalogError(f"table {path!r} does not exist; tables: {', '.join(list_tables()) or '(none)'}")
    if version is not None and not 1 <= version <= meta.version:
        raise CatalogError(f"table {path!r} has versions 1 to {meta.version}, not {version}")
    return Table(path, meta.id, version)


def drop_table(path: str | Table, force: bool = False, if_not_exists: str = "error") -> None:
    """Drop a table and remove the media objects pxfs wrote for it (never files it did not write)."""
    if isinstance(path, Table):
        path = path.path
    path = _norm(path, "table")
    with _env().catalog.transaction() as con:
        meta = load_table(con, path)
        if meta is None:
            if if_not_exists == "ignore" or force:
                return
            raise CatalogError(f"table {path!r} does not exist")
        owned: list[str] = []
        for col in meta.columns:
            if col.is_media:
                owned += [r[0] for r in con.execute(
                    f"select distinct {col.phys} from {meta.rows} where {col.phys}_own and {col.phys} is not null"
                ).fetchall()]
        con.execute(f"drop table {meta.rows}")
        for t in ("columns", "versions"):
            con.execute(f"delete from {t} where table_id = ?", [meta.id])
        con.execute("delete from tables where id = ?", [meta.id])
    remove_media(owned)


def list_tables(dir_path: str = "", recursive: bool = True) -> list[str]:
    """Paths of the tables under `dir_path` (all tables by default).

    Examples
    --------
    >>> pxt.list_tables('blob_storage_demo')  # doctest: +SKIP
    ['blob_storage_demo.media']
    """
    return _list("tables", dir_path, recursive)


def list_dirs(dir_path: str = "", recursive: bool = True) -> list[str]:
    """Paths of the directories under `dir_path`."""
    return _list("dirs", dir_path, recursive)


def _list(kind: str, dir_path: str, recursive: bool) -> list[str]:
    prefix = _norm(dir_path, "directory") + "." if dir_path else ""
    with _env().catalog.connect() as con:
        paths = [r[0] for r in con.execute(f"select path from {kind} order by path").fetchall()]
    out = [p for p in paths if p.startswith(prefix)]
    if not recursive:
        out = [p for p in out if "." not in p[len(prefix):]]
    return out
