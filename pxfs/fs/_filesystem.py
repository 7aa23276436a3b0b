"""`PxfsFileSystem`: the catalog as an fsspec filesystem under the protocol ``pxfs``.

The namespace is described in :mod:`._paths`. This module implements fsspec's
primitives on it (``ls``, ``info``, ``_open``, ``cat_file``, ``put_file``, ``pipe_file``)
and lets :class:`fsspec.AbstractFileSystem` build ``find``, ``glob``, ``walk``, ``get``,
``cat`` and ``read_block`` on them, so their semantics are fsspec's own. Every other write
raises ``PermissionError``.

Info dictionaries carry fsspec's ``name``, ``size`` and ``type`` plus:

======================  =========================================================
key                     meaning
======================  =========================================================
``mtime``               when the version (snapshot, table, cell's row) was made
``table``               catalog path of the table (``dir.table``)
``version``             table version (tables and snapshots)
``column``              column name; ``column_type`` and ``computed`` on columns
``rowid``               the row's ``_rowid`` (cells)
``uri``                 where the cell's bytes are (``.fileurl``); None while owed
``hash``                recorded sha256 or etag of the bytes (cells)
``owed``                True for a computed cell that has not been computed yet
======================  =========================================================

``size`` is None where it is not known without computing something: an owed cell
(``info`` never computes a cell; reading it does) and a Parquet snapshot in a listing
(``ls``/``find``/``walk`` never build snapshots; ``info`` and ``size`` of a snapshot do).
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import logging
import os
import threading
from typing import Any, Iterator

from fsspec import AbstractFileSystem
from fsspec.callbacks import DEFAULT_CALLBACK

from ..catalog import rows
from . import _catalog as q
from ._paths import Node, cell_name, fs_name, resolve, split
from ._snapshot import SnapshotCache, snapshot_open, snapshot_size

__all__ = ["PxfsFile", "PxfsFileSystem"]

logger = logging.getLogger("pxfs.fs")

LIST_BATCH = 10_000  # cells read from the catalog at a time when listing a media column

_PUT_HINT = "to add a row, put or pipe a media file into a media column directory such as pxfs://dir/table/img/"


class PxfsFile(io.BufferedReader):
    """A read-only, seekable file of ``pxfs://``; ``path`` and ``size`` as fsspec files have."""

    def __init__(self, raw: io.RawIOBase | io.BytesIO, path: str, size: int) -> None:
        super().__init__(raw)  # a BytesIO works too: BufferedReader needs only readinto
        self.path = path
        self.size = size

    def __repr__(self) -> str:
        return f"<PxfsFile pxfs://{self.path} size={self.size}>"


class PxfsFileSystem(AbstractFileSystem):  # type: ignore[misc]  # fsspec is untyped
    """The pxfs catalog as a filesystem: directories, tables, columns and media files.

    Registered under the protocol ``pxfs`` through the ``fsspec.specs`` entry point, so
    ``fsspec.filesystem("pxfs")``, ``fsspec.open("pxfs://...")`` and
    ``pandas.read_parquet("pxfs://...")`` work without importing pxfs. It reads the
    catalog of the process's :class:`~pxfs.env.Env` (``$PXFS_HOME``) at every call and
    holds no connection between calls.

    Examples
    --------
    >>> import fsspec
    >>> fs = fsspec.filesystem("pxfs")
    >>> fs.ls("pxfs://demo/films/poster", detail=False)  # doctest: +SKIP
    ['demo/films/poster/0.jpg', 'demo/films/poster/1.jpg']
    >>> fs.cat_file("pxfs://demo/films/poster/0.jpg", start=0, end=3)  # doctest: +SKIP
    b'\\xff\\xd8\\xff'
    >>> import duckdb
    >>> duckdb.register_filesystem(fs)  # doctest: +SKIP
    >>> duckdb.sql("select * from read_parquet('pxfs://demo/films.parquet')")  # doctest: +SKIP
    """

    protocol = "pxfs"
    root_marker = ""
    cachable = False  # no hidden instances kept alive by constructor arguments
    async_impl = False

    def __init__(self, *args: Any, session: Any = None, home: str | None = None, **storage_options: Any) -> None:
        super().__init__(*args, session=session, home=home, **storage_options)
        self._snapshots = SnapshotCache()
        self._batch = threading.local()
        if session is None and home is not None:
            from ..session import Session

            session = Session(home=home)
        self._own_session = session

    @property
    def session(self) -> Any:
        """The session whose catalog this filesystem shows: the one given (or opened at
        `home`), else the process's default session, whatever ``pxt.init()`` made it."""
        if self._own_session is not None:
            return self._own_session
        from ..session import Session

        return Session.default()

    # -- resolution ---------------------------------------------------------------------

    def _resolve(self, path: str) -> Node:
        path = self._strip_protocol(path)
        split(path)  # malformed paths fail before the catalog is opened
        with self.session.catalog.connect() as con:
            return resolve(con, path)

    # -- listing --------------------------------------------------------------------------

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        """Entries under `path` (a file lists itself), without computing anything."""
        return list(self.ls_iter(path, detail=detail))

    def ls_iter(self, path: str, detail: bool = True, batch: int = LIST_BATCH) -> Iterator[Any]:
        """:meth:`ls` as an iterator: a media column's cells are read from the catalog
        `batch` row ids at a time, so listing a column of millions of rows needs the memory of
        one batch (``pxfs ls`` prints them this way).

        Examples
        --------
        >>> for entry in fsspec.filesystem("pxfs").ls_iter("pxfs://demo/photos/img"):  # doctest: +SKIP
        ...     print(entry["name"], entry["size"])
        """
        path = self._strip_protocol(path)
        split(path)
        catalog = self.session.catalog
        with catalog.connect() as con:
            node = resolve(con, path)
            if node.kind != "column":
                entries = [e for e, _ in self._children(con, node)] if _is_dir(node) else [self._entry(con, node)]
        if node.kind != "column":
            yield from (entries if detail else [e["name"] for e in entries])
            return
        assert node.meta is not None and node.column is not None
        if not node.column.is_media:
            return
        with catalog.held():
            with catalog.connect() as con:
                times = q.version_times(con, node.meta.id)
            for after in q.windows(node.meta, batch):
                with catalog.connect() as con:
                    page = q.cells(con, node.meta, node.column, after=after, upto=after + batch)
                for c in page:
                    entry = self._cell_entry(node.path, node.meta, node.column, c, times)
                    yield entry if detail else entry["name"]

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
             **kwargs: Any) -> Any:
        """Everything below `path`, as fsspec's ``find`` (and so ``glob`` and ``du``) define it,
        listed on one catalog connection instead of one per directory."""
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        path = self._strip_protocol(path)
        split(path)
        out: dict[str, dict[str, Any]] = {}
        with self.session.catalog.connect() as con:
            try:
                node = resolve(con, path)
            except FileNotFoundError:
                return {} if detail else []
            if not _is_dir(node):
                out[path] = self._entry(con, node)
            else:
                if withdirs and path != "":
                    out[path] = self._entry(con, node)
                todo = [(node, 1)]
                while todo:
                    parent, depth = todo.pop()
                    for entry, child in self._children(con, parent):
                        if entry["type"] != "directory":
                            out[entry["name"]] = entry
                            continue
                        if withdirs:
                            out[entry["name"]] = entry
                        if child is not None and (maxdepth is None or depth < maxdepth):
                            todo.append((child, depth + 1))
        names = sorted(out)
        return {n: out[n] for n in names} if detail else names

    def _children(self, con: Any, node: Node) -> list[tuple[dict[str, Any], Node | None]]:
        """``(entry, node)`` for what is directly in directory `node` (node None for files)."""
        out: list[tuple[dict[str, Any], Node | None]] = []
        if node.kind in ("root", "dir"):
            dirs, tables = q.children(con, node.dotted)
            for p, created in dirs:
                out.append(({"name": fs_name(p), "size": 0, "type": "directory", "mtime": created},
                            Node("dir", fs_name(p), p)))
            for p, _table_id, _version in tables:
                meta = rows.load_table(con, p)
                if meta is None:  # dropped meanwhile
                    continue
                when = q.version_times(con, meta.id).get(meta.version)
                common = {"table": p, "version": meta.version, "mtime": when}
                out.append(({"name": fs_name(p), "size": 0, "type": "directory", **common},
                            Node("table", fs_name(p), p, meta)))
                out.append(({"name": fs_name(p) + ".parquet", "size": None, "type": "file", **common}, None))
            return sorted(out, key=lambda pair: pair[0]["name"])
        assert node.meta is not None
        if node.kind == "table":
            return [(self._column_entry(node, c), Node("column", f"{node.path}/{c.name}", node.meta.path,
                                                        node.meta, column=c))
                    for c in node.meta.columns]
        assert node.kind == "column" and node.column is not None
        if not node.column.is_media:
            return []  # scalar values are in the Parquet snapshot, not in files
        times = q.version_times(con, node.meta.id)
        return [(self._cell_entry(node.path, node.meta, node.column, c, times), None)
                for c in q.cells(con, node.meta, node.column)]  # find/glob/du: fsspec wants them all

    def _entry(self, con: Any, node: Node) -> dict[str, Any]:
        """The listing entry of one node (sizes only where known without computing)."""
        if node.kind == "root":
            return {"name": "", "size": 0, "type": "directory", "mtime": None}
        if node.kind == "dir":
            return {"name": node.path, "size": 0, "type": "directory", "mtime": q.dir_created(con, node.dotted)}
        meta = node.meta
        assert meta is not None
        times = q.version_times(con, meta.id)
        if node.kind == "table":
            return {"name": node.path, "size": 0, "type": "directory", "table": meta.path,
                    "version": meta.version, "mtime": times.get(meta.version)}
        if node.kind == "snapshot":
            version = node.version or meta.version
            return {"name": node.path, "size": None, "type": "file", "table": meta.path,
                    "version": version, "mtime": times.get(version)}
        if node.kind == "column":
            assert node.column is not None
            return self._column_entry(Node("table", node.path.rpartition("/")[0], meta=meta), node.column)
        assert node.column is not None and node.cell is not None
        return self._cell_entry(node.path.rpartition("/")[0], meta, node.column, node.cell, times)

    @staticmethod
    def _column_entry(table: Node, col: Any) -> dict[str, Any]:
        assert table.meta is not None
        return {"name": f"{table.path}/{col.name}", "size": 0, "type": "directory", "table": table.meta.path,
                "column": col.name, "column_type": col.type.name, "computed": col.is_computed}

    @staticmethod
    def _cell_entry(folder: str, meta: Any, col: Any, cell: q.Cell, times: dict[int, dt.datetime]) -> dict[str, Any]:
        return {"name": f"{folder}/{cell_name(col, cell)}", "size": cell.size, "type": "file",
                "table": meta.path, "column": col.name, "rowid": cell.rowid, "uri": cell.uri,
                "hash": cell.hash, "owed": cell.owed, "mtime": times.get(cell.row_version)}

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """Details of `path`; builds a snapshot to know its size, never computes a cell."""
        path = self._strip_protocol(path)
        split(path)
        with self.session.catalog.connect() as con:
            node = resolve(con, path)
            entry = self._entry(con, node)
        if node.kind == "snapshot":
            entry["size"] = snapshot_size(node, self._snapshots, self.session)
        elif node.kind == "cell" and entry["size"] is None and entry["uri"] is not None:
            entry["size"] = self.session.storage.info(entry["uri"]).get("size")
        return entry

    def exists(self, path: str, **kwargs: Any) -> bool:
        """Whether `path` names something (malformed paths raise ``ValueError``)."""
        try:
            self._resolve(path)
        except FileNotFoundError:
            return False
        return True

    def isdir(self, path: str) -> bool:
        try:
            return _is_dir(self._resolve(path))
        except FileNotFoundError:
            return False

    def isfile(self, path: str) -> bool:
        try:
            return not _is_dir(self._resolve(path))
        except FileNotFoundError:
            return False

    def modified(self, path: str) -> dt.datetime:
        """When the version that `path` shows was made (the catalog's time for the root)."""
        path = self._strip_protocol(path)
        split(path)
        with self.session.catalog.connect() as con:
            entry = self._entry(con, resolve(con, path))
        when: dt.datetime | None = entry.get("mtime")
        if when is None:
            stamp = os.path.getmtime(self.session.catalog_path)
            when = dt.datetime.fromtimestamp(stamp).astimezone()
        return when

    def du(self, path: str, total: bool = True, maxdepth: int | None = None, withdirs: bool = False,
           **kwargs: Any) -> int | dict[str, int | None]:
        """Bytes used under `path`, from the listing: owed cells and snapshots count as unknown.

        With ``total=False`` unknown sizes are None; the total counts known sizes only.
        """
        sizes: dict[str, int | None] = {}
        if withdirs and self.isdir(path):
            sizes[self._strip_protocol(path)] = 0
        for name, entry in self.find(path, maxdepth=maxdepth, withdirs=withdirs, detail=True, **kwargs).items():
            sizes[name] = entry.get("size") if entry else self.info(name)["size"]
        if total:
            return sum(s for s in sizes.values() if s is not None)
        return sizes

    # -- reading --------------------------------------------------------------------------

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, autocommit: bool = True,
              cache_options: Any = None, **kwargs: Any) -> PxfsFile:
        path = self._strip_protocol(path)
        if mode != "rb":
            split(path)
            raise PermissionError(
                f"pxfs://{path}: pxfs files are read-only and cannot be opened with mode {mode!r}; {_PUT_HINT} "
                "with fs.put or fs.pipe"
            )
        node = self._resolve(path)
        if _is_dir(node):
            raise IsADirectoryError(errno.EISDIR, f"pxfs://{path} is a directory")
        if node.kind == "snapshot":
            raw, size = snapshot_open(node, self._snapshots, self.session)
            return PxfsFile(raw, path, size)
        uri = self._materialized_uri(node)
        local = self.session.storage.localpath(uri)
        return PxfsFile(io.FileIO(local, "r"), path, os.path.getsize(local))

    def _materialized_uri(self, node: Node) -> str:
        """The URI of a cell's bytes, computing the cell (and only it) if it is owed."""
        assert node.cell is not None and node.meta is not None and node.column is not None
        if not node.cell.owed:
            assert node.cell.uri is not None
            return node.cell.uri
        rowid = node.cell.rowid
        table = self.session.get_table(node.meta.path)
        logger.debug("computing owed cell %s (row %d of %s.%s)", node.url, rowid, node.meta.path, node.column.name)
        table.materialize([node.column.name], rowids=[rowid], show_progress=False)
        with self.session.catalog.connect() as con:
            cell = q.cell(con, node.meta, node.column, rowid)
        if cell is not None and cell.uri is not None:
            return cell.uri
        if cell is not None and cell.error:
            raise OSError(errno.EIO, f"{node.url}: computing the cell failed: {cell.errtype}: {cell.error}")
        raise FileNotFoundError(f"{node.url}: the cell was computed and holds no media (the function returned None)")

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        """Bytes ``[start, end)`` of a file; negative offsets count from the end."""
        with self.open(path, "rb") as f:
            size = f.size
            begin = 0 if start is None else (max(0, size + start) if start < 0 else min(start, size))
            stop = size if end is None else (max(0, size + end) if end < 0 else min(end, size))
            f.seek(begin)
            return f.read(max(0, stop - begin))  # type: ignore[no-any-return]

    def sign(self, path: str, expiration: int = 3600, **kwargs: Any) -> str:
        """A URL a browser can GET for a cell (computing it if owed): ``.url`` of the cell."""
        node = self._resolve(path)
        if node.kind != "cell":
            raise NotImplementedError(f"{node.url}: only media cells have URLs; snapshots are read through pxfs")
        return self.session.storage.url(self._materialized_uri(node), expiration)  # type: ignore[no-any-return]

    # -- the one write: a media file into a media column inserts a row ---------------------

    def put(self, lpath: Any, rpath: Any, recursive: bool = False, callback: Any = DEFAULT_CALLBACK,
            maxdepth: int | None = None, **kwargs: Any) -> None:
        """Insert one row per file into the media column directory `rpath`, in one version.

        All files are checked first; if one is refused, no row is added.
        """
        with self._batched():
            super().put(lpath, rpath, recursive=recursive, callback=callback, maxdepth=maxdepth, **kwargs)

    def pipe(self, path: Any, value: Any = None, **kwargs: Any) -> None:
        """Insert a row with these bytes (or one row per ``{path: bytes}`` item, in one version)."""
        with self._batched():
            super().pipe(path, value, **kwargs)

    def put_file(self, lpath: str, rpath: str, callback: Any = DEFAULT_CALLBACK, mode: str = "overwrite",
                 **kwargs: Any) -> None:
        """Insert a row whose media column is the local file `lpath` (other columns null).

        With ``input_media_dest`` set the file is copied there; otherwise its bytes are
        stored in ``$PXFS_HOME/media``, so the row never depends on the local file.
        """
        rpath = self._strip_protocol(rpath)
        if os.path.isdir(lpath):
            if self.isdir(rpath):
                return  # the directory is there already; its files come as their own calls
            raise PermissionError(f"pxfs://{rpath}: pxfs cannot create directories; {_PUT_HINT}")
        target = self._insert_target(rpath)
        size = os.path.getsize(lpath)
        callback.set_size(size)
        value: Any = lpath if self.session.default_input_media_dest else _read(lpath)
        self._insert(target, value)
        callback.relative_update(size)

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        """Insert a row whose media column holds `value` (other columns null)."""
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"pipe into pxfs://{path}: expected bytes, got {type(value).__name__}")
        self._insert(self._insert_target(self._strip_protocol(path)), bytes(value))

    def _insert_target(self, path: str) -> Node:
        """The media column node a new file at `path` goes into, or PermissionError saying why not."""
        segs = split(path)
        if not segs:
            raise PermissionError(f"pxfs://: the root is read-only; {_PUT_HINT}")
        with self.session.catalog.connect() as con:
            try:
                existing: Node | None = resolve(con, path)
            except FileNotFoundError:
                existing = None
            if existing is not None and existing.kind == "cell":
                raise PermissionError(
                    f"{existing.url}: existing cells are read-only; put a file under a new name in "
                    f"pxfs://{path.rpartition('/')[0]}/ to add a row"
                )
            if existing is not None and existing.kind == "column":
                raise IsADirectoryError(
                    errno.EISDIR, f"{existing.url} is a column directory; put or pipe files into it, "
                    f"e.g. {existing.url}/<name>"
                )
            if existing is not None:
                raise PermissionError(_read_only(existing))
            parent = resolve(con, "/".join(segs[:-1]))
        if parent.kind != "column":
            raise PermissionError(_read_only(parent, child=segs[-1]))
        assert parent.column is not None
        if not parent.column.is_media:
            raise PermissionError(
                f"{parent.url}: column {parent.column.name!r} holds {parent.column.type.name} values, not files; "
                f"only media columns accept files"
            )
        if parent.column.is_computed:
            raise PermissionError(
                f"{parent.url}: {parent.column.name!r} is a computed column; its files are computed "
                "from other columns and are read-only"
            )
        return parent

    def _insert(self, target: Node, value: Any) -> None:
        assert target.meta is not None and target.column is not None
        batch = getattr(self._batch, "rows", None)
        if batch is not None:
            batch.append((target.meta.path, target.meta.id, target.column.name, value))
            return
        _insert_rows(self.session, [(target.meta.path, target.meta.id, target.column.name, value)])

    def _batched(self) -> Any:
        fs = self

        class _Batch:
            def __enter__(self) -> None:
                self.outer = getattr(fs._batch, "rows", None)
                if self.outer is None:
                    fs._batch.rows = []

            def __exit__(self, exc_type: Any, *exc: Any) -> None:
                if self.outer is not None:
                    return
                rows, fs._batch.rows = fs._batch.rows, None
                if exc_type is None and rows:
                    _insert_rows(fs.session, rows)

        return _Batch()

    # -- every other write is refused --------------------------------------------------------

    def _refuse(self, path: Any, action: str) -> PermissionError:
        shown = ", ".join(f"pxfs://{self._strip_protocol(p)}" for p in (path if isinstance(path, list) else [path]))
        return PermissionError(f"{shown}: cannot {action}: pxfs:// is read-only except for adding rows; {_PUT_HINT}")

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        raise self._refuse(path, "remove (drop tables and delete rows through the pxfs API)")

    def rm_file(self, path: str) -> None:
        raise self._refuse(path, "remove (drop tables and delete rows through the pxfs API)")

    def _rm(self, path: str) -> None:
        raise self._refuse(path, "remove (drop tables and delete rows through the pxfs API)")

    def rmdir(self, path: str) -> None:
        raise self._refuse(path, "remove a directory (use pxfs.drop_dir)")

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        raise self._refuse(path, "create a directory (use pxfs.create_dir / pxfs.create_table)")

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        if exist_ok and self.isdir(path):
            return
        raise self._refuse(path, "create a directory (use pxfs.create_dir / pxfs.create_table)")

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        raise self._refuse(path2, "copy inside pxfs://")

    def copy(self, path1: Any, path2: Any, recursive: bool = False, maxdepth: int | None = None,
             on_error: Any = None, **kwargs: Any) -> None:
        raise self._refuse(path2, "copy inside pxfs://")

    def mv(self, path1: Any, path2: Any, recursive: bool = False, maxdepth: int | None = None,
           **kwargs: Any) -> None:
        raise self._refuse(path1, "move or rename")

    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        raise self._refuse(path, "create or touch files")


def _is_dir(node: Node) -> bool:
    return node.kind in ("root", "dir", "table", "column")


def _read_only(node: Node, child: str | None = None) -> str:
    what = {
        "root": "the root",
        "dir": f"directory {node.dotted!r}",
        "table": f"table {node.dotted!r} (its columns)",
        "snapshot": f"the Parquet snapshot of table {node.dotted!r}",
        "column": "this column",
        "cell": "this cell",
    }[node.kind]
    where = f"{node.url}/{child}" if child is not None else node.url
    return f"{where}: {what} is read-only; {_PUT_HINT}"


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _insert_rows(session: Any, items: list[tuple[str, str, str, Any]]) -> None:
    """One ``Table.insert`` per table: ``(table path, table id, column, value)`` rows."""
    by_table: dict[str, list[dict[str, Any]]] = {}
    for path, _table_id, column, value in items:
        by_table.setdefault(path, []).append({column: value})
    for path, batch in by_table.items():
        session.get_table(path).insert(batch)
