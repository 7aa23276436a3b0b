"""Column types: ``Image, Video, Audio, Document`` (media) and ``String, Int, Float, Bool,
Timestamp, Json`` (scalars).

Use them in a schema: ``pxt.create_table('films', {'poster': pxt.Image, 'year': pxt.Int})``.
Media cells hold a reference to a file (a URI); scalar cells hold the value itself.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Audio", "Bool", "ColumnType", "Document", "Float", "Image", "Int", "Json", "String",
    "Timestamp", "Video", "type_named",
]


@dataclass(frozen=True)
class ColumnType:
    """A column type: its name, whether it is media, and its DuckDB storage type."""

    name: str
    sql: str
    is_media: bool = False
    default_ext: str = ".bin"

    def __repr__(self) -> str:
        return f"pxfs.{self.name}"

    def __call__(self, *args: Any, **kwargs: Any) -> ColumnType:
        """``pxt.Image()`` is ``pxt.Image``: both spellings work in a schema."""
        return self

    def check(self, value: Any) -> Any:
        """The value as stored, or ``TypeError`` saying what was expected (media: see tables)."""
        if value is None:
            return None
        if self.name == "String":
            if not isinstance(value, str):
                raise TypeError(f"expected a string, got {type(value).__name__} {value!r:.60}")
            return value
        if self.name == "Int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"expected an integer, got {type(value).__name__} {value!r:.60}")
            return value
        if self.name == "Float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"expected a number, got {type(value).__name__} {value!r:.60}")
            return float(value)
        if self.name == "Bool":
            if not isinstance(value, bool):
                raise TypeError(f"expected True or False, got {type(value).__name__} {value!r:.60}")
            return value
        if self.name == "Timestamp":
            if isinstance(value, str):
                try:
                    return dt.datetime.fromisoformat(value)
                except ValueError:
                    raise TypeError(f"expected a datetime or an ISO 8601 string, got {value!r:.60}") from None
            if not isinstance(value, dt.datetime):
                raise TypeError(f"expected a datetime, got {type(value).__name__} {value!r:.60}")
            return value
        if self.name == "Json":
            try:
                return json.dumps(value)
            except (TypeError, ValueError) as e:
                raise TypeError(f"expected a JSON-serializable value: {e}") from None
        return value


Image = ColumnType("Image", "VARCHAR", is_media=True, default_ext=".png")
Video = ColumnType("Video", "VARCHAR", is_media=True, default_ext=".mp4")
Audio = ColumnType("Audio", "VARCHAR", is_media=True, default_ext=".mp3")
Document = ColumnType("Document", "VARCHAR", is_media=True, default_ext=".pdf")
String = ColumnType("String", "VARCHAR")
Int = ColumnType("Int", "BIGINT")
Float = ColumnType("Float", "DOUBLE")
Bool = ColumnType("Bool", "BOOLEAN")
Timestamp = ColumnType("Timestamp", "TIMESTAMP")
Json = ColumnType("Json", "VARCHAR")

_BY_NAME = {t.name: t for t in (Image, Video, Audio, Document, String, Int, Float, Bool, Timestamp, Json)}


def type_named(name: str) -> ColumnType:
    """The type called `name` (as stored in the catalog)."""
    return _BY_NAME[name]


def as_type(value: Any, where: str) -> ColumnType:
    """Accept ``pxt.Image``, ``pxt.Image()``, Python ``str/int/float/bool``; else DataError."""
    py = {str: String, int: Int, float: Float, bool: Bool, dict: Json, list: Json, dt.datetime: Timestamp}
    if isinstance(value, ColumnType):
        return value
    if isinstance(value, type) and value in py:
        return py[value]
    from .errors import DataError

    raise DataError(f"{where}: {value!r} is not a column type; use one of pxfs.{', pxfs.'.join(_BY_NAME)}")
