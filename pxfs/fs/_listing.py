"""Listing ``pxfs://`` for :class:`~._filesystem.PxfsFileSystem`: ``ls``, ``ls_iter``,
``find`` and ``du``, and the info dictionaries of every kind of node (the keys are in
:mod:`._filesystem`'s docstring). Nothing here computes a cell or builds a snapshot.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

from fsspec import AbstractFileSystem

from ..catalog import rows
from . import _catalog as q
from ._paths import Node, cell_name, fs_name, resolve, split

LIST_BATCH = 10_000  # cells read from the catalog at a time when listing a media column


class _Listing(AbstractFileSystem):  # type: ignore[misc]  # fsspec is untyped
    """What a directory holds and what each entry says: part of :class:`~._filesystem.PxfsFileSystem`."""

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


def _is_dir(node: Node) -> bool:
    return node.kind in ("root", "dir", "table", "column")
