"""Directories and tables: create, get, drop, list. Paths are dotted: ``'dir.sub.table'``."""

from __future__ import annotations

import logging
import re
import uuid
from typing import TYPE_CHECKING, Any

from ..catalog import ColumnMeta, dirs, rows
from ..errors import CatalogError, DataError
from ..types import as_type
from ._sources import infer_schema, read_source
from ._table import Table
from ._versions import purge_dropped

if TYPE_CHECKING:
    from ..session import Session

__all__ = [
    "create_dir", "create_table", "drop_dir", "drop_table", "get_table", "list_dirs", "list_tables",
]

logger = logging.getLogger("pxfs.tables")

_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _session(session: Session | None) -> Session:
    from ..session import Session

    return session if session is not None else Session.default()


def _explicit(session: Session) -> Session | None:
    """What a Table keeps: an explicit session, or None to follow the default one."""
    from ..session import Session

    return None if session is Session._default else session


def _norm(path: str, what: str) -> str:
    """The dotted path, exactly as given (``/`` may separate names too); never renamed."""
    if not isinstance(path, str):
        raise CatalogError(f"{what} path must be a string like 'dir.name', got {type(path).__name__} {path!r}")
    segments = path.replace("/", ".").split(".")
    if not all(_SEGMENT.fullmatch(s) for s in segments):
        raise CatalogError(
            f"{path!r} is not a valid {what} path: use names made of letters, digits and _ (not starting "
            "with a digit), joined by '.', e.g. 'dir.name'; no spaces, no leading, trailing or double separators"
        )
    return ".".join(segments)


def _parent(path: str) -> str:
    return path.rpartition(".")[0]


def _check_parent(con: Any, path: str) -> None:
    parent = _parent(path)
    if parent and dirs.kind(con, parent) != "dir":
        raise CatalogError(f"directory {parent!r} does not exist; create it first with pxt.create_dir({parent!r})")


def create_dir(path: str, if_exists: str = "error", *, session: Session | None = None) -> None:
    """Create a directory (``'a.b'`` needs ``'a'``); ``if_exists='ignore'`` makes it idempotent.

    Examples
    --------
    >>> pxt.create_dir('blob_storage_demo', if_exists='ignore')  # doctest: +SKIP
    """
    path = _norm(path, "directory")
    if if_exists not in ("error", "ignore", "replace", "replace_force"):
        raise DataError(f"if_exists must be 'error', 'ignore', 'replace' or 'replace_force', got {if_exists!r}")
    session = _session(session)
    with session.catalog.transaction() as con:
        kind = dirs.kind(con, path)
        if kind == "table":
            raise CatalogError(f"{path!r} is a table, not a directory")
        if kind == "dir":
            if if_exists == "ignore":
                return
            if if_exists == "error":
                raise CatalogError(f"directory {path!r} already exists; pass if_exists='ignore' to keep it")
    if kind == "dir":
        drop_dir(path, force=if_exists == "replace_force", session=session)
    with session.catalog.transaction() as con:
        _check_parent(con, path)
        dirs.create(con, path)


def drop_dir(path: str, force: bool = False, if_not_exists: str = "error", *,
             session: Session | None = None) -> None:
    """Drop a directory; ``force=True`` also drops what it contains (and a missing one is fine).

    Dropping a table removes the media objects pxfs wrote for it.

    Examples
    --------
    >>> pxt.drop_dir('blob_storage_demo', force=True)  # doctest: +SKIP
    """
    path = _norm(path, "directory")
    session = _session(session)
    with session.catalog.connect() as con:
        kind = dirs.kind(con, path)
        if kind is None:
            if force or if_not_exists == "ignore":
                return
            raise CatalogError(f"directory {path!r} does not exist")
        if kind == "table":
            raise CatalogError(f"{path!r} is a table; use pxt.drop_table({path!r})")
        tables, subdirs = dirs.paths_under(con, path)
    if (tables or subdirs) and not force:
        raise CatalogError(
            f"directory {path!r} is not empty ({len(tables)} tables, {len(subdirs)} directories); "
            "pass force=True to drop it with its contents"
        )
    for t in tables:
        drop_table(t, force=True, session=session)
    with session.catalog.transaction() as con:
        dirs.remove(con, [*subdirs, path])


def create_table(
    path: str, schema: dict[str, Any] | None = None, if_exists: str = "error", *, source: Any = None,
    schema_overrides: dict[str, Any] | None = None, session: Session | None = None,
) -> Table:
    """Create a table from a schema, or from data whose columns give the schema.

    ``schema`` maps column names to types. ``source`` (instead of a schema) is a pandas
    DataFrame, a ``pyarrow.Table`` (or batch / reader), or a ``.parquet``, ``.csv`` or
    ``.tsv`` file (a local path or any URI pxfs reads); the column types are inferred from
    its Arrow types (int -> Int, float -> Float, bool -> Bool, string -> String,
    timestamp/date -> Timestamp, struct/list -> Json), ``schema_overrides`` sets the type
    of any column (media columns must be named there: ``{'img': pxt.Image}``), and its
    rows are inserted, checked like any insert. If they fail, no table is left.
    ``if_exists='ignore'`` returns an existing table as it is, without inserting.

    Examples
    --------
    >>> t = pxt.create_table('demo.media', {'img': pxt.Image, 'title': pxt.String})   # doctest: +SKIP
    >>> t = pxt.create_table('demo.products', source='products.parquet',
    ...                      schema_overrides={'photo': pxt.Image})                   # doctest: +SKIP
    """
    path = _norm(path, "table")
    session = _session(session)
    if if_exists not in ("error", "ignore", "replace"):
        raise DataError(f"if_exists must be 'error', 'ignore' or 'replace', got {if_exists!r}")
    data = None
    if source is not None:
        if schema is not None:
            raise DataError(f"create_table({path!r}): give a schema or a source (with schema_overrides), not both")
        data = read_source(session.storage, source)
        schema = dict(infer_schema(data, schema_overrides or {}))
    elif schema_overrides is not None:
        raise DataError(f"create_table({path!r}): schema_overrides goes with source=; put the types in the schema")
    if not isinstance(schema, dict):
        raise DataError(f"create_table({path!r}): schema must be a dict of column name -> type")
    table, created = _create_table(path, schema, if_exists, session)
    if data is None or not created:
        return table
    try:
        table.insert(data)
    except BaseException:
        drop_table(path, force=True, session=session)  # all or nothing: the insert wrote nothing, the table goes too
        raise
    return table


def _create_table(path: str, schema: dict[str, Any], if_exists: str, session: Session) -> tuple[Table, bool]:
    """The table at `path` and whether it was created now (False: kept by if_exists='ignore')."""
    types = {}
    for name, t in schema.items():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise DataError(f"create_table({path!r}): {name!r} is not a valid column name")
        types[name] = as_type(t, f"create_table({path!r}), column {name!r}")
    with session.catalog.connect() as con:
        kind = dirs.kind(con, path)
    if kind == "dir":
        raise CatalogError(f"{path!r} is a directory")
    if kind == "table":
        if if_exists == "ignore":
            return get_table(path, session=session), False
        if if_exists == "error":
            raise CatalogError(
                f"table {path!r} already exists; use pxt.get_table({path!r}) or pass if_exists='replace'"
            )
        drop_table(path, force=True, session=session)
    table_id = uuid.uuid4().hex[:12]
    with session.catalog.transaction() as con:
        _check_parent(con, path)
        if dirs.kind(con, path) is not None:
            raise CatalogError(f"table {path!r} already exists")
        rows.create_table(con, table_id, path, [ColumnMeta(i, name, t, None, None, 1) for i, (name, t) in enumerate(types.items())])
    return Table(path, table_id, session=_explicit(session)), True


def get_table(path: str, *, session: Session | None = None) -> Table:
    """The table at `path`; ``'path:N'`` gives a read-only handle on version N.

    Examples
    --------
    >>> t = pxt.get_table('demo.films')      # doctest: +SKIP
    >>> t3 = pxt.get_table('demo.films:3')   # version 3, as it was, read-only  # doctest: +SKIP
    """
    version = None
    if isinstance(path, str) and ":" in path:
        path, _, v = path.rpartition(":")
        if not v.isdigit():
            raise CatalogError(f"{path}:{v}: the version after ':' must be a number")
        version = int(v)
    path = _norm(path, "table")
    session = _session(session)
    with session.catalog.connect() as con:
        meta = rows.load_table(con, path, version=version)
    if meta is None:
        tables = ", ".join(list_tables(session=session)) or "(none)"
        raise CatalogError(f"table {path!r} does not exist; tables: {tables}")
    return Table(path, meta.id, version, session=_explicit(session))


def drop_table(path: str | Table, force: bool = False, if_not_exists: str = "error", *,
               session: Session | None = None) -> None:
    """Drop a table and remove the media objects pxfs wrote for it (never files it did not write).

    The drop commits first; if the media cannot be removed now (storage down, process
    killed), the table stays recorded as dropped and ``pxfs gc --apply`` finishes the job.

    Examples
    --------
    >>> pxt.drop_table('demo.films', if_not_exists='ignore')  # doctest: +SKIP
    """
    if isinstance(path, Table):
        path = path.path
    path = _norm(path, "table")
    env = _session(session)
    with env.catalog.transaction() as con:
        meta = rows.load_table(con, path)
        if meta is None:
            if if_not_exists == "ignore" or force:
                return
            raise CatalogError(f"table {path!r} does not exist")
        rows.mark_dropped(con, meta)
    try:
        purge_dropped(env, meta.id)
    except Exception as e:  # the drop stands; gc finishes it
        logger.warning(
            "table %r is dropped but its media could not be removed now (%s); `pxfs gc --apply` will remove them",
            path, e)


def list_tables(dir_path: str = "", recursive: bool = True, *, session: Session | None = None) -> list[str]:
    """Paths of the tables under `dir_path` (all tables by default).

    Examples
    --------
    >>> pxt.list_tables('blob_storage_demo')  # doctest: +SKIP
    ['blob_storage_demo.media']
    """
    return _list(0, dir_path, recursive, session)


def list_dirs(dir_path: str = "", recursive: bool = True, *, session: Session | None = None) -> list[str]:
    """Paths of the directories under `dir_path`.

    Examples
    --------
    >>> pxt.list_dirs()  # doctest: +SKIP
    ['blob_storage_demo']
    """
    return sorted(_list(1, dir_path, recursive, session))


def _list(which: int, dir_path: str, recursive: bool, session: Session | None) -> list[str]:
    prefix = _norm(dir_path, "directory") if dir_path else ""
    with _session(session).catalog.connect() as con:
        found = dirs.paths_under(con, prefix)[which]
    if not recursive:
        start = len(prefix) + 1 if prefix else 0
        found = [p for p in found if "." not in p[start:]]
    return sorted(found)
