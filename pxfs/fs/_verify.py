"""``pxfs verify``: every media object a table references exists, with the size recorded.

Checked by listing, not one request per object: the cells of each media column are
grouped by folder (the URI without its last segment); a folder holding at least
`list_min` of them is listed once (``fs.ls(detail=True)``: one request per 1,000 keys on
S3) and each cell's recorded size is compared with the listing's. A cell whose object is
not in its folder's listing, a folder that cannot be listed, an ``http(s)`` URL and the
cells of folders holding fewer than `list_min` of them are checked one at a time
(``info``, i.e. a HEAD request), `concurrency` at a time.

Cells are read from the catalog in pages, folder by folder, and the catalog is never
open while storage is listed or asked; memory is one folder's listing and one page.
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..catalog import ColumnMeta, TableMeta, rows
from . import _catalog as q

__all__ = ["LIST_MIN", "Problem", "VerifyReport", "verify_table"]

LIST_MIN = 8  # list a folder when the table references at least this many objects in it
PAGE = 10_000


@dataclass(frozen=True)
class Problem:
    """One object that is not as recorded: ``kind`` is missing, wrong size or unreadable."""

    kind: str
    text: str


@dataclass
class VerifyReport:
    """What :func:`verify_table` found: cells checked, owed cells, problems by kind, requests made."""

    table: str
    checked: int = 0
    owed: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"missing": 0, "wrong size": 0, "unreadable": 0})
    listings: int = 0
    lookups: int = 0

    @property
    def ok(self) -> bool:
        return not any(self.counts.values())

    def summary(self) -> str:
        found = ", ".join(f"{n} {k}" for k, n in self.counts.items() if n) or "all present"
        extra = f"; {self.owed} owed cell(s) not computed yet" if self.owed else ""
        return f"{self.table}: {self.checked} object(s) checked: {found}{extra}"


def verify_table(meta: TableMeta, on_problem: Callable[[Problem], None], *, concurrency: int = 16,
                 list_min: int = LIST_MIN, session: Any = None) -> VerifyReport:
    """Check every stored media cell of `meta`'s version; `on_problem` is called for each
    problem as it is found (folder by folder, by row id within a folder).

    Examples
    --------
    >>> report = verify_table(meta, lambda p: print(p.kind, p.text))  # doctest: +SKIP
    >>> report.summary()                                             # doctest: +SKIP
    'demo.films: 8 object(s) checked: all present'
    """
    from ..session import Session

    env = session if session is not None else Session.default()
    catalog, storage = env.catalog, env.storage
    report = VerifyReport(meta.path)
    with catalog.held(), cf.ThreadPoolExecutor(concurrency) as pool:
        for col in meta.columns:
            if not col.is_media:
                continue
            with catalog.connect() as con:
                folders = q.prefixes(con, meta, col)
                if col.is_computed:
                    report.owed += rows.count_owed(con, meta, col)
            small: list[str] = []
            for folder, n in folders:
                loc = storage.location(folder)
                if n < list_min or loc.kind == "http":
                    small.append(folder)
                    continue
                listing = _listing(storage, folder)
                report.listings += 1
                for page in _pages(catalog, meta, col, [folder]):
                    _check(pool, storage, meta, col, page, listing, report, on_problem, (folder, loc.path))
                del listing
            if small:
                for page in _pages(catalog, meta, col, small):
                    _check(pool, storage, meta, col, page, None, report, on_problem)
    return report


def _pages(catalog: Any, meta: TableMeta, col: ColumnMeta, folders: list[str]) -> Iterator[list[q.Cell]]:
    """Stored cells of `col` in any of `folders`, a page of row ids at a time."""
    for after in q.windows(meta, PAGE):
        with catalog.connect() as con:
            page = q.cells(con, meta, col, after=after, upto=after + PAGE, folders=folders)
        page = [c for c in page if not c.owed and c.uri is not None]
        if page:
            yield page


def _listing(storage: Any, folder: str) -> dict[str, tuple[str, int | None]] | None:
    """``{fsspec path: (type, size)}`` of what is directly in `folder`; None if it cannot be listed."""
    loc = storage.location(folder)
    try:
        fs = storage.filesystem(loc)
        fs.invalidate_cache(loc.path)  # a listing cached earlier in this process may be stale
        entries = fs.ls(loc.path, detail=True)
    except FileNotFoundError:
        return {}
    except Exception:  # noqa: BLE001 - listing refused (permissions, odd backend): ask per object
        return None
    finally:
        try:
            fs.invalidate_cache(loc.path)  # do not keep a million entries in s3fs's cache
        except Exception:  # noqa: BLE001
            pass
    return {e["name"]: (e.get("type", "file"), e.get("size")) for e in entries}


def _check(pool: cf.ThreadPoolExecutor, storage: Any, meta: TableMeta, col: ColumnMeta, page: list[q.Cell],
           listing: dict[str, tuple[str, int | None]] | None, report: VerifyReport,
           on_problem: Callable[[Problem], None], folder: tuple[str, str] = ("", "")) -> None:
    """Compare `page` with the `listing` of `folder` (its URI, and its path as the listing
    names it); what the listing lacks is asked for one object at a time."""
    uri_head, path_head = folder[0] + "/", folder[1].rstrip("/") + "/"
    results: list[Problem | None | cf.Future[Problem | None]] = []
    for cell in page:
        found, uri = None, cell.uri or ""
        if listing is not None and uri.startswith(uri_head):  # the URI's path, without parsing it
            found = listing.get(path_head + uri[len(uri_head):])
        if found is None:
            report.lookups += 1
            results.append(pool.submit(_info_check, storage, meta, col, cell))
        else:
            results.append(_compare(meta, col, cell, *found))
    report.checked += len(page)
    for r in results:
        problem = r.result() if isinstance(r, cf.Future) else r
        if problem is not None:
            report.counts[problem.kind] += 1
            on_problem(problem)


def _where(meta: TableMeta, col: ColumnMeta, cell: q.Cell) -> str:
    return f"{meta.path}.{col.name} row {cell.rowid}"


def _compare(meta: TableMeta, col: ColumnMeta, cell: q.Cell, kind: str, size: Any) -> Problem | None:
    where = _where(meta, col, cell)
    if kind == "directory":
        return Problem("missing", f"{where}: {cell.uri} is a folder, not a file")
    if cell.size is not None and size is not None and int(size) != cell.size:
        return Problem("wrong size", f"{where}: {cell.uri}: recorded {cell.size} bytes, found {size}")
    return None


def _info_check(storage: Any, meta: TableMeta, col: ColumnMeta, cell: q.Cell) -> Problem | None:
    where = _where(meta, col, cell)
    try:
        info = storage.info(cell.uri)
    except FileNotFoundError:
        return Problem("missing", f"{where}: {cell.uri}")
    except OSError as e:
        return Problem("unreadable", f"{where}: {cell.uri}: {' '.join(str(e).split())}")
    return _compare(meta, col, cell, info.get("type", "file"), info.get("size"))
