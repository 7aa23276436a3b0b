"""The HTML of ``pxfs serve``: small functions that return whole pages.

Every value from the catalog goes through :func:`esc` (``html.escape``, quotes too), in
text and in attributes alike; URLs in ``href``/``src`` are only ever http(s) or paths of
this server. Thumbnails are bounded by CSS (``max-width``/``max-height``).
"""

from __future__ import annotations

import html
import urllib.parse
from typing import Any, Sequence

from ._data import Cell, Column, Row

__all__ = ["cell_href", "error_page", "gallery_page", "home_page", "row_page", "table_page"]

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
a{color:#0b5cad;text-decoration:none} a:hover{text-decoration:underline}
table{border-collapse:collapse;margin:.5em 0} th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;
vertical-align:top} th{background:#f5f5f5}
.crumbs{margin-bottom:1em;color:#666} .muted{color:#888}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.tile{border:1px solid #ddd;border-radius:6px;padding:6px;text-align:center;background:#fafafa}
.tile img,.thumb{max-width:100%;max-height:150px;object-fit:contain}
.detail img{max-width:480px;max-height:360px}
.owed{height:150px;display:flex;align-items:center;justify-content:center;background:#fff6d5;color:#8a6d00}
.failed{height:150px;display:flex;align-items:center;justify-content:center;background:#fde8e8;color:#a40000;
overflow:hidden;font-size:12px}
.pager{margin:1em 0} .pager a,.pager span{margin-right:1em}
button{font:inherit;padding:4px 12px;cursor:pointer}
code{background:#f3f3f3;padding:0 3px;word-break:break-all}
"""


def esc(value: Any) -> str:
    """`value` as HTML text, safe in text and in quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def _q(path: str) -> str:
    return urllib.parse.quote(path, safe="")


def _layout(title: str, crumbs: Sequence[tuple[str, str | None]], body: str) -> str:
    trail = " / ".join(f'<a href="{esc(href)}">{esc(text)}</a>' if href else esc(text) for text, href in crumbs)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)} - pxfs</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,"><style>{_CSS}</style></head>'
            f'<body><div class="crumbs">{trail}</div><h1>{esc(title)}</h1>{body}</body></html>')


def table_href(path: str, version: int | None = None, rest: str = "", **query: Any) -> str:
    """The app's URL of a table page (``rest``: ``/gallery/img``, ``/row/3``, ...)."""
    params = {k: v for k, v in query.items() if v is not None}
    if version is not None:
        params["version"] = version
    return f"/table/{_q(path)}{rest}" + (f"?{urllib.parse.urlencode(params)}" if params else "")


def cell_href(path: str, version: int | None, column: str, rowid: int) -> str:
    """The app's URL of a local file a cell references (``/cell/<table>/<column>/<rowid>``)."""
    return f"/cell/{_q(path)}/{_q(column)}/{int(rowid)}" + (f"?version={int(version)}" if version is not None else "")


def _crumbs(path: str, version: int | None, *more: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    label = path if version is None else f"{path}:{version}"
    return [("pxfs", "/"), (label, table_href(path, version)), *more]


def home_page(entries: Sequence[tuple[str, str]]) -> str:
    """The directory tree: directories and tables, indented by depth."""
    items = []
    for path, kind in entries:
        depth = path.count(".")
        name = path.rsplit(".", 1)[-1]
        pad = f' style="margin-left:{depth * 1.5}em"'
        if kind == "dir":
            items.append(f'<li{pad} class="dir">{esc(name)}/</li>')
        else:
            items.append(f'<li{pad} class="table"><a href="{esc(table_href(path))}">{esc(name)}</a>'
                         f' <span class="muted">{esc(path)}</span></li>')
    body = f'<ul style="list-style:none;padding:0">{"".join(items)}</ul>' if items else "<p>No tables yet.</p>"
    return _layout("Tables", [("pxfs", None)], body)


def table_page(path: str, version: int | None, cols: Sequence[Column], count: int,
               history: Sequence[dict[str, Any]], first_rows: Sequence[int]) -> str:
    """Columns, row count, versions, links to each media column's gallery."""
    col_rows = "".join(
        f"<tr><td>{esc(c.name)}</td><td>{esc(c.type)}</td><td>{esc(c.computed or '')}</td>"
        f"<td>{esc(c.destination or '')}</td><td>"
        + (f'<a href="{esc(table_href(path, version, "/gallery/" + _q(c.name)))}">gallery</a>' if c.media else "")
        + "</td></tr>"
        for c in cols)
    versions = "".join(
        f'<tr><td><a href="{esc(table_href(path, int(h["version"])))}">{esc(h["version"])}</a></td>'
        f'<td>{esc(h["created"])}</td><td>{esc(h["change"])}</td><td>{esc(h["rows"])}</td></tr>'
        for h in history)
    rows_links = " ".join(f'<a href="{esc(table_href(path, version, f"/row/{r}"))}">{r}</a>' for r in first_rows)
    body = (f'<p><b class="count">{count:,}</b> rows'
            + (f" at version {version} (read-only)" if version is not None else "") + "</p>"
            "<h2>Columns</h2><table><tr><th>name</th><th>type</th><th>computed as</th><th>destination</th>"
            f"<th></th></tr>{col_rows}</table>"
            + (f"<p>Rows: {rows_links}</p>" if rows_links else "")
            + "<h2>Versions</h2><table class=\"versions\"><tr><th>version</th><th>created</th><th>change</th>"
            f"<th>rows</th></tr>{versions}</table>")
    return _layout(path if version is None else f"{path}:{version}", _crumbs(path, version)[:-1] + [(path, None)],
                   body)


def media_html(col: Column, cell: Cell, css_class: str = "thumb") -> str:
    """A cell of a media column: a thumbnail (images), a player, a link, or its state."""
    if cell.owed:
        return '<div class="owed">owed: not computed yet</div>'
    if cell.errormsg is not None:
        return (f'<div class="failed" title="{esc(cell.errormsg)}">failed: {esc(cell.errortype)}</div>')
    if cell.url is None:
        return '<span class="muted">None</span>'
    src = esc(cell.url)
    if col.type == "Image":
        return f'<img class="{css_class}" src="{src}" alt="{esc(col.name)}">'
    if col.type == "Video":
        return f'<video class="{css_class}" src="{src}" controls preload="metadata"></video>'
    if col.type == "Audio":
        return f'<audio src="{src}" controls preload="none"></audio>'
    return f'<a href="{src}">open</a>'


def gallery_page(path: str, version: int | None, col: Column, rows: Sequence[Row], page_no: int, pages: int,
                 count: int, per_page: int, owed: int) -> str:
    """A paged grid of one media column's thumbnails, with compute for this page's owed cells."""
    tiles = []
    for r in rows:
        cell = r.cells[col.name]
        href = table_href(path, version, f"/row/{r.rowid}")
        tiles.append(f'<div class="tile" data-rowid="{r.rowid}">{media_html(col, cell)}'
                     f'<div><a href="{esc(href)}">row {r.rowid}</a></div></div>')

    def link(n: int, text: str, rel: str) -> str:
        if n < 1 or n > pages or n == page_no:
            return f'<span class="muted">{esc(text)}</span>'
        href = table_href(path, version, "/gallery/" + _q(col.name), page=n, n=per_page)
        return f'<a rel="{rel}" href="{esc(href)}">{esc(text)}</a>'

    position = f'<span class="position">page {page_no} of {pages} ({count:,} rows)</span>'
    pager = (f'<div class="pager">{link(page_no - 1, "< previous", "prev")}{position}'
             f'{link(page_no + 1, "next >", "next")}</div>')
    action = ""
    if owed:
        target = table_href(path, version, "/compute")
        action = (f'<form method="post" action="{esc(target)}"><input type="hidden" name="column" '
                  f'value="{esc(col.name)}"><input type="hidden" name="page" value="{page_no}">'
                  f'<input type="hidden" name="n" value="{per_page}">'
                  f'<button type="submit" id="compute">compute the {owed} owed cell{"s" if owed != 1 else ""} '
                  f"of this page</button></form>")
    body = f'{pager}{action}<div class="grid">{"".join(tiles)}</div>{pager}'
    title = f"{col.name}" + (f" = {col.computed}" if col.computed else "")
    return _layout(title, _crumbs(path, version, (col.name, None)), body)


def row_page(path: str, version: int | None, cols: Sequence[Column], row: Row) -> str:
    """Every column of one row: values, media with ``fileurl``, errors of failed cells."""
    lines = []
    for c in cols:
        cell = row.cells[c.name]
        if c.media:
            value = media_html(c, cell, "full")
            if cell.uri is not None:
                value += f'<div>fileurl: <code class="fileurl">{esc(cell.uri)}</code></div>'
        elif cell.owed:
            value = '<span class="owed-text">owed: not computed yet</span>'
        elif cell.errormsg is not None:
            value = ""
        else:
            value = esc(cell.text) if cell.text is not None else '<span class="muted">None</span>'
        if cell.errormsg is not None:
            value += (f'<div class="error">errortype: <code>{esc(cell.errortype)}</code><br>'
                      f"errormsg: <code>{esc(cell.errormsg)}</code></div>")
        lines.append(f'<tr data-column="{esc(c.name)}"><th>{esc(c.name)}</th><td class="muted">{esc(c.type)}</td>'
                     f"<td>{value}</td></tr>")
    body = f'<table class="detail">{"".join(lines)}</table>'
    return _layout(f"row {row.rowid}", _crumbs(path, version, (f"row {row.rowid}", None)), body)


def error_page(code: int, message: str) -> str:
    """A small page for 400/403/404."""
    return _layout(f"{code}", [("pxfs", "/")], f"<p>{esc(message)}</p>")
