"""The request handler of ``pxfs serve``: local media files, and the pages of the app.

::

    GET  /                                   the directory tree
    GET  /table/<path>[?version=N]           columns, row count, versions
    GET  /table/<path>/gallery/<col>?page=P&n=N   a page of thumbnails of a media column
    GET  /table/<path>/row/<rowid>           every column of one row
    POST /table/<path>/compute               compute one page's owed cells (the only write)
    GET  /cell/<path>/<col>/<rowid>          a local file a stored cell references (byte ranges)
    GET  /<route prefix>/<file>              files of the local destinations (byte ranges)

Media routes come first (a file must exist there), then the app's. Pages are built from
one page of rows (:mod:`._data`); nothing else is held in memory.
"""

from __future__ import annotations

import logging
import math
import re
import urllib.parse
from pathlib import Path
from typing import Any

from ..errors import PxfsError
from . import _data as data
from . import _pages as pages
from ._files import FileHandler, inside, resolve_under, send_file

__all__ = ["AppHandler", "DEFAULT_PER_PAGE", "MAX_PER_PAGE"]

logger = logging.getLogger("pxfs.web")

DEFAULT_PER_PAGE = 24
MAX_PER_PAGE = 200
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_TABLE = re.compile(r"/table/([^/]+)(/.*)?")


class _NotFound(Exception):
    pass


class AppHandler(FileHandler):
    """GET/HEAD of media files and pages; POST of the compute action; nothing else."""

    routes: list[tuple[str, Path]] = []  # (URL path prefix, folder), longest first
    server_version = "pxfs-serve"
    cache_control = "public, max-age=31536000, immutable"  # object names are content hashes

    # -- files ---------------------------------------------------------------------------
    def file_for(self, path: str) -> Path | None:
        for prefix, folder in self.routes:
            if path.startswith(prefix):
                found = resolve_under(folder, path[len(prefix):])
                if found is not None:
                    return found
        return None

    def _browser_url(self, uri: str, url: str) -> str:
        """What a page puts in ``src``: `url` if http(s), else a path this server answers."""
        if url.startswith(("http://", "https://")):
            return url
        if url.startswith("file://"):
            local = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
            for prefix, folder in self.routes:
                if inside(local, folder):
                    rel = local.resolve().relative_to(folder.resolve()).as_posix()
                    return prefix + urllib.parse.quote(rel)
        return ""  # set per cell by the caller (the /cell/ route)

    # -- dispatch ----------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._get(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._get(body=False)

    def _get(self, body: bool) -> None:
        split = urllib.parse.urlsplit(self.path)
        if self.file_for(split.path) is not None:
            self.send_named_file(body)
            return
        if not self._local_host():
            return
        query = urllib.parse.parse_qs(split.query)
        if split.path.startswith("/cell/"):
            self._cell(split.path, query, body)
            return
        try:
            self._html(200, self._page(split.path, query))
        except _NotFound as e:
            self._html(404, pages.error_page(404, str(e) or "not found"))
        except (PxfsError, ValueError) as e:
            self._html(404, pages.error_page(404, str(e)))

    def do_POST(self) -> None:  # noqa: N802
        split = urllib.parse.urlsplit(self.path)
        if not self._local_host():
            return
        origin = self.headers.get("Origin")
        if origin and urllib.parse.urlsplit(origin).netloc != self.headers.get("Host"):
            self._html(403, pages.error_page(403, "cross-site requests may not compute"))
            return
        m = _TABLE.fullmatch(split.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(min(length, 4096)).decode("utf-8", "replace"))
        if m is None or m.group(2) != "/compute":
            self._html(404, pages.error_page(404, "not found"))
            return
        try:
            path, version = self._table_path(m.group(1), urllib.parse.parse_qs(split.query))
            column = _one(form, "column")
            page_no, per_page = _int(form, "page", 1, 1, 10**9), _int(form, "n", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
            table = data.open_table(path, version)
            col = self._media_column(table, column)
            rows = data.page(table, (page_no - 1) * per_page, per_page, self._url_of(path, version))
            owed = [r.rowid for r in rows if r.cells[col.name].owed]
            done = data.compute(table, col.name, owed)
            logger.info("computed %d cells of %s.%s (page %d)", done, path, col.name, page_no)
        except (_NotFound, PxfsError, ValueError) as e:
            self._html(404, pages.error_page(404, str(e) or "not found"))
            return
        back = pages.table_href(path, version, "/gallery/" + urllib.parse.quote(col.name, safe=""),
                                page=page_no, n=per_page)
        self.send_text(303, "computed", headers={"Location": back})

    def _cell(self, path: str, query: dict[str, list[str]], body: bool) -> None:
        """A local file the catalog references: ``/cell/<table>/<column>/<rowid>``."""
        parts = path.split("/")
        target = None
        if len(parts) == 5 and parts[4].isdigit():
            try:
                table_path, version = self._table_path(parts[2], query)
                table = data.open_table(table_path, version)
                target = data.local_file(table, urllib.parse.unquote(parts[3]), int(parts[4]))
            except (_NotFound, PxfsError, ValueError):
                target = None
        if target is None or not target.is_file():
            self.send_text(404, "not found")
            return
        try:
            send_file(self, target, body=body, cache_control="private, max-age=60")
        except OSError:
            self.send_text(404, "not found")

    # -- pages -------------------------------------------------------------------------------
    def _page(self, path: str, query: dict[str, list[str]]) -> str:
        if path == "/":
            return pages.home_page(data.tree())
        m = _TABLE.fullmatch(path)
        if m is None:
            raise _NotFound("not found")
        table_path, version = self._table_path(m.group(1), query)
        table = data.open_table(table_path, version)
        rest = m.group(2) or ""
        cols = data.columns(table)
        if rest in ("", "/"):
            history = [dict(h) for h in table.history()] if version is None else []
            first = [r.rowid for r in data.page(table, 0, 10, lambda *_: "")]
            return pages.table_page(table_path, version, cols, table.count(), history, first)
        parts = rest.split("/")
        if len(parts) == 3 and parts[1] == "gallery":
            col = self._media_column(table, urllib.parse.unquote(parts[2]))
            per_page = _int(query, "n", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
            count = table.count()
            pages_n = max(1, math.ceil(count / per_page))
            page_no = min(_int(query, "page", 1, 1, 10**9), pages_n)
            rows = data.page(table, (page_no - 1) * per_page, per_page, self._url_of(table_path, version))
            owed = sum(1 for r in rows if r.cells[col.name].owed)
            return pages.gallery_page(table_path, version, col, rows, page_no, pages_n, count, per_page, owed)
        if len(parts) == 3 and parts[1] == "row" and parts[2].isdigit():
            row = data.row(table, int(parts[2]), self._url_of(table_path, version))
            if row is None:
                raise _NotFound(f"{table_path} has no row {parts[2]}")
            return pages.row_page(table_path, version, cols, row)
        raise _NotFound("not found")

    def _url_of(self, path: str, version: int | None) -> data.UrlOf:
        """Browser URLs of cells; local files outside the routes go through ``/cell/``."""
        def url_of(uri: str, url: str, rowid: int, col: str) -> str:
            return self._browser_url(uri, url) or pages.cell_href(path, version, col, rowid)
        return url_of

    @staticmethod
    def _table_path(raw: str, query: dict[str, list[str]]) -> tuple[str, int | None]:
        path = urllib.parse.unquote(raw)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", path):
            raise _NotFound(f"not a table path: {path}")
        return path, (_int(query, "version", 0, 1, 10**12) if "version" in query else None)

    @staticmethod
    def _media_column(table: Any, name: str) -> data.Column:
        for c in data.columns(table):
            if c.name == name and c.media:
                return c
        raise _NotFound(f"{table.path} has no media column {name!r}")

    # -- responses ---------------------------------------------------------------------------
    def _local_host(self) -> bool:
        """Pages only for a Host of this machine (no DNS rebinding onto the catalog)."""
        host = urllib.parse.urlsplit("//" + (self.headers.get("Host") or "")).hostname or ""
        bound = str(getattr(self.server, "server_address", ("",))[0])
        if host in _LOCAL_HOSTS or host == bound:
            return True
        self._html(403, pages.error_page(403, "pxfs serve answers pages on this machine's addresses only"))
        return False

    def _html(self, code: int, text: str) -> None:
        self.send_text(code, text, "text/html; charset=utf-8",
                       {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                        "Content-Security-Policy": "default-src 'none'; img-src * data:; media-src *; "
                                                   "style-src 'unsafe-inline'; form-action 'self'"})

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        logger.info("%s %s", self.address_string(), format % args)


def _one(form: dict[str, list[str]], key: str) -> str:
    values = form.get(key) or [""]
    if not values[0]:
        raise ValueError(f"missing {key}")
    return values[0]


def _int(form: dict[str, list[str]], key: str, default: int, lo: int, hi: int) -> int:
    raw = (form.get(key) or [""])[0]
    if not raw:
        return default
    if not raw.isdigit():
        raise ValueError(f"{key} must be a number, got {raw!r}")
    return min(max(int(raw), lo), hi)
