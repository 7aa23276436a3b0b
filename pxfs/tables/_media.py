"""Checking and preparing media values at insert, before anything is written.

A media value may be a local path (``str`` or ``Path``), a ``file://``, ``http(s)://`` or
bucket URI, raw ``bytes``, or a ``PIL.Image``. Every value is checked first (the file
exists and, for an Image column, is an image; a URL answers; a bucket object exists), so
a bad row fails the whole insert with the row and column named, and nothing is written.
"""

from __future__ import annotations

import concurrent.futures as cf
import io
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from ..catalog import ColumnMeta
from ..errors import DataError, PxfsError
from ..storage import Storage

__all__ = ["MediaValue", "check_media"]


@dataclass
class MediaValue:
    """A checked media value: what to store (upload) or reference (uri)."""

    where: str
    uri: str | None = None  # referenced in place
    upload: Any = None  # bytes or a path/URI to copy to a destination
    size: int | None = None
    hash: str | None = None


def check_media(storage: Storage, col: ColumnMeta, value: Any, where: str) -> MediaValue:
    """Check one value of media column `col`; `where` is "row 3, column 'img'"."""
    is_image = col.type.name == "Image"
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a core dependency
        Image = None  # type: ignore[assignment]
    if Image is not None and isinstance(value, Image.Image):
        buf = io.BytesIO()
        fmt = value.format if value.format in ("JPEG", "PNG", "WEBP", "GIF") else "PNG"
        if fmt == "JPEG" and value.mode not in ("RGB", "L", "CMYK"):
            fmt = "PNG"
        value.save(buf, format=fmt)
        return MediaValue(where, upload=buf.getvalue())
    if isinstance(value, (bytes, bytearray, memoryview)):
        if is_image:
            _check_image_bytes(bytes(value), where)
        return MediaValue(where, upload=bytes(value))
    if not isinstance(value, (str, os.PathLike)):
        raise DataError(
            f"{where}: expected a file path, a URL or an image for this {col.type.name} column, "
            f"got {type(value).__name__}"
        )
    text = os.fspath(value)
    try:
        loc = storage.location(text)
    except PxfsError as e:
        raise DataError(f"{where}: {e}") from e
    if loc.kind == "local":
        if not os.path.exists(loc.key):
            raise DataError(f"{where}: file {loc.key} does not exist")
        if not os.path.isfile(loc.key):
            raise DataError(f"{where}: {loc.key} is a folder, not a file")
        if is_image:
            _check_image_file(loc.key, where)
        return MediaValue(where, uri=loc.uri, size=os.path.getsize(loc.key))
    if loc.kind == "http":
        size, etag = _check_url(loc.uri, where, storage.config.request_timeout)
        return MediaValue(where, uri=loc.uri, size=size, hash=etag)
    try:
        info = storage.info(loc)
    except FileNotFoundError as e:
        raise DataError(f"{where}: {loc.uri} does not exist ({e})") from e
    except OSError as e:
        raise DataError(f"{where}: cannot read {loc.uri}: {e}") from e
    if info.get("type") == "directory":
        raise DataError(f"{where}: {loc.uri} is a folder, not a file")
    etag = info.get("ETag") or info.get("etag") or info.get("md5Hash")
    return MediaValue(where, uri=loc.uri, size=info.get("size"), hash=str(etag).strip('"') if etag else None)


def check_many(storage: Storage, items: list[tuple[ColumnMeta, Any, str]]) -> list[MediaValue]:
    """:func:`check_media` for many values, remote ones checked concurrently; first error raised."""
    if len(items) <= 1:
        return [check_media(storage, c, v, w) for c, v, w in items]
    with cf.ThreadPoolExecutor(min(16, len(items))) as pool:
        futures = [pool.submit(check_media, storage, c, v, w) for c, v, w in items]
        return [f.result() for f in futures]


def _check_image_file(path: str, where: str) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.size  # header only
    except UnidentifiedImageError:
        raise DataError(f"{where}: {path} is not an image Pillow can read") from None
    except OSError as e:
        raise DataError(f"{where}: cannot read {path}: {e}") from e


def _check_image_bytes(data: bytes, where: str) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.size
    except (UnidentifiedImageError, OSError):
        raise DataError(f"{where}: the bytes given are not an image Pillow can read") from None


def _check_url(url: str, where: str, timeout: float) -> tuple[int | None, str | None]:
    for method in ("HEAD", "GET"):
        req = urllib.request.Request(url, method=method)
        if method == "GET":
            req.add_header("Range", "bytes=0-0")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                size = r.headers.get("Content-Length")
                etag = r.headers.get("ETag")
                return (int(size) if size and method == "HEAD" else None), (etag.strip('"') if etag else None)
        except urllib.error.HTTPError as e:
            if method == "HEAD" and e.code in (403, 405, 501):
                continue  # some servers refuse HEAD; try a one-byte GET
            raise DataError(f"{where}: {url} answered HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError) as e:
            raise DataError(f"{where}: cannot reach {url}: {getattr(e, 'reason', e)}") from None
    raise DataError(f"{where}: {url} refused both HEAD and GET")  # pragma: no cover
