"""Writes to ``pxfs://`` for :class:`~._filesystem.PxfsFileSystem`: the one write (a media
file put or piped into a media column directory inserts a row) and the refusal of every
other (``rm``, ``mkdir``, ``mv``, ``cp``, ``touch``...) with ``PermissionError`` saying what to do.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.callbacks import DEFAULT_CALLBACK

from ._paths import Node, resolve, split

_PUT_HINT = "to add a row, put or pipe a media file into a media column directory such as pxfs://dir/table/img/"


class _Writes(AbstractFileSystem):  # type: ignore[misc]  # fsspec is untyped
    """Inserting rows by ``put``/``pipe``, refusing every other write: part of
    :class:`~._filesystem.PxfsFileSystem`."""

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
