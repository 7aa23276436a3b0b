"""`PxfsFileSystem`: the catalog as an fsspec filesystem under the protocol ``pxfs``.

The namespace is described in :mod:`._paths`. This module implements fsspec's
primitives on it (``ls``, ``info``, ``_open``, ``cat_file``, ``put_file``, ``pipe_file``)
and lets :class:`fsspec.AbstractFileSystem` build ``find``, ``glob``, ``walk``, ``get``,
``cat`` and ``read_block`` on them, so their semantics are fsspec's own. Every other write
raises ``PermissionError``. The listing is in :mod:`._listing`, the writes and refusals in
:mod:`._writes`; this module resolves, describes and reads one path.

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
from typing import Any

from . import _catalog as q
from ._listing import _is_dir, _Listing
from ._paths import Node, resolve, split
from ._snapshot import SnapshotCache, snapshot_open, snapshot_size
from ._writes import _PUT_HINT, _Writes

__all__ = ["PxfsFile", "PxfsFileSystem"]

logger = logging.getLogger("pxfs.fs")


class PxfsFile(io.BufferedReader):
    """A read-only, seekable file of ``pxfs://``; ``path`` and ``size`` as fsspec files have."""

    def __init__(self, raw: io.RawIOBase | io.BytesIO, path: str, size: int) -> None:
        super().__init__(raw)  # a BytesIO works too: BufferedReader needs only readinto
        self.path = path
        self.size = size

    def __repr__(self) -> str:
        return f"<PxfsFile pxfs://{self.path} size={self.size}>"


class PxfsFileSystem(_Listing, _Writes):
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

    # -- one path (listing: _listing.py; put, pipe and the refused writes: _writes.py) ----

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
