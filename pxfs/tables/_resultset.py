"""`ResultSet`: the rows a query returned, as a list of dicts, columns, pandas or Arrow.

In a notebook it renders as an HTML table with image thumbnails; in a terminal as text.
"""

from __future__ import annotations

import base64
import html
import io
import urllib.parse
from typing import Any, Iterator, overload

__all__ = ["ResultSet"]

_THUMB = 128  # thumbnails fit in _THUMB x _THUMB pixels
_HTML_ROWS = 50  # rows an HTML rendering shows
_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp")
_IMG_STYLE = f"max-width:{_THUMB}px;max-height:{_THUMB}px;object-fit:contain"


class ResultSet:
    """Query results. ``len(rs)``, ``rs[i]`` (a dict), ``rs['col']`` (a list), iteration.

    Examples
    --------
    >>> rs = ResultSet(["a"], {"a": [1, 2]})
    >>> rs[0], rs["a"], len(rs)
    ({'a': 1}, [1, 2], 2)
    """

    def __init__(self, columns: list[str], data: dict[str, list[Any]]) -> None:
        self._columns = list(columns)
        self._data = data
        self._len = len(data[columns[0]]) if columns else 0

    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, key: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, key: str) -> list[Any]: ...

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            if key not in self._data:
                raise KeyError(f"no column {key!r} in this result; columns: {', '.join(self._columns)}")
            return list(self._data[key])
        if isinstance(key, int):
            if key < 0:
                key += self._len
            if not 0 <= key < self._len:
                raise IndexError(f"row {key} out of range for a result of {self._len} rows")
            return {c: self._data[c][key] for c in self._columns}
        raise TypeError(f"index a ResultSet with a row number or a column name, not {type(key).__name__}")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in range(self._len):
            yield {c: self._data[c][i] for c in self._columns}

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` (images stay ``PIL.Image`` objects)."""
        import pandas as pd

        return pd.DataFrame({c: self._data[c] for c in self._columns}, columns=self._columns)

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table``; images become their PNG/JPEG bytes."""
        import pyarrow as pa

        cols = {}
        for c in self._columns:
            values = self._data[c]
            if any(_is_image(v) for v in values):
                values = [_image_bytes(v) if v is not None else None for v in values]
            cols[c] = pa.array(values)
        return pa.table(cols)

    # -- display -----------------------------------------------------------------------
    def __repr__(self) -> str:
        rows = [[_text(self._data[c][i]) for c in self._columns] for i in range(min(self._len, 50))]
        widths = [min(60, max([len(c)] + [len(r[j]) for r in rows])) for j, c in enumerate(self._columns)]
        def line(cells: list[str]) -> str:
            return "  ".join((s if len(s) <= w else s[: w - 1] + "…").ljust(w) for s, w in zip(cells, widths))

        out = [line(self._columns), line(["-" * w for w in widths])] + [line(r) for r in rows]
        if self._len > 50:
            out.append(f"... {self._len - 50} more rows")
        return "\n".join(out) if self._columns else "(no columns)"

    def _repr_html_(self) -> str:
        """An HTML table for notebooks: at most 50 rows, thumbnails at most 128 px, every
        string escaped (a cell holding ``<script>`` shows as text)."""
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self._columns)
        body = []
        for i in range(min(self._len, _HTML_ROWS)):
            cells = "".join(f"<td>{_html(self._data[c][i])}</td>" for c in self._columns)
            body.append(f"<tr>{cells}</tr>")
        more = f"<p>{self._len - _HTML_ROWS} more rows</p>" if self._len > _HTML_ROWS else ""
        return (f'<table class="pxfs-result"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
                f"</table>{more}")


def _is_image(v: Any) -> bool:
    return hasattr(v, "size") and hasattr(v, "mode") and hasattr(v, "save")


def _image_bytes(img: Any) -> bytes:
    buf = io.BytesIO()
    fmt = "JPEG" if getattr(img, "format", None) == "JPEG" and img.mode in ("RGB", "L") else "PNG"
    img.save(buf, format=fmt)
    return buf.getvalue()


def _text(v: Any) -> str:
    if _is_image(v):
        return f"<Image {v.size[0]}x{v.size[1]} {v.mode}>"
    return "None" if v is None else str(v)


def _html(v: Any) -> str:
    """One cell as HTML: an image as an inline thumbnail, an http(s) URL of an image as a
    linked thumbnail, anything else as escaped text."""
    if _is_image(v):
        thumb = v.copy()
        thumb.thumbnail((_THUMB, _THUMB))
        if thumb.mode not in ("RGB", "L"):
            thumb = thumb.convert("RGBA")
        buf = io.BytesIO()
        thumb.save(buf, format="PNG")
        data = base64.b64encode(buf.getvalue()).decode()
        return (f'<img src="data:image/png;base64,{data}" width="{thumb.width}" height="{thumb.height}" '
                f'style="{_IMG_STYLE}"/>')
    text = html.escape(_text(v))
    if isinstance(v, str) and v.startswith(("http://", "https://")):
        href = html.escape(v, quote=True)
        if urllib.parse.urlsplit(v).path.lower().endswith(_IMAGE_EXTS):
            return f'<a href="{href}"><img src="{href}" alt="{text}" style="{_IMG_STYLE}"/></a>'
        return f'<a href="{href}">{text}</a>'
    return text
