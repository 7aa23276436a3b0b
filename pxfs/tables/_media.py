"""Checking and preparing media values at insert, before anything is written.

A media value may be a local path (``str`` or ``Path``), a ``file://``, ``http(s)://`` or
bucket URI, raw ``bytes``, or a ``PIL.Image``. Every value is checked first (the file
exists and, for an Image column, is an image; a URL answers; a bucket object exists), so
a bad row fails the whole insert with the row and column named, and nothing is written.

How much of an image is checked is the setting ``media_validation``: ``on_read`` (the
default) reads local images' headers only; ``on_write`` decodes every image, fetching
remote ones once into the storage cache, where later reads find them. Either way an
image over Pillow's ``MAX_IMAGE_PIXELS`` (a decompression bomb) is refused.
"""

from __future__ import annotations

import concurrent.futures as cf
import io
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO, Any

from ..catalog import ColumnMeta
from ..compute._image_fns import open_image
from ..errors import DataError, PxfsError
from ..storage import Location, Storage

__all__ = ["MediaValue", "check_many", "check_media", "decode_at_insert"]


@dataclass
class MediaValue:
    """A checked media value: what to store (upload) or reference (uri)."""

    where: str
    uri: str | None = None  # referenced in place
    upload: Any = None  # bytes or a path/URI to copy to a destination
    size: int | None = None
    hash: str | None = None


def check_media(
    storage: Storage, col: ColumnMeta, value: Any, where: str, *, decode: bool | None = None
) -> MediaValue:
    """Check one value of media column `col`; `where` is "row 3, column 'img'".

    An image's header is read; with `decode` (default: ``media_validation='on_write'``)
    every pixel is decoded too, remote images fetched through the storage cache.
    """
    if decode is None:
        decode = decode_at_insert()
    is_image = col.type.name == "Image"
    if _is_pil_image(value):
        return MediaValue(where, upload=_encode_pil(value, where))
    if isinstance(value, (bytes, bytearray, memoryview)):
        if is_image:
            _check_image(io.BytesIO(value), "the bytes given", where, decode)
        return MediaValue(where, upload=bytes(value))
    if not isinstance(value, (str, os.PathLike)):
        raise DataError(
            f"{where}: expected a file path, a URL or an image for this {col.type.name} column, "
            f"got {type(value).__name__}"
        )
    try:
        loc = storage.location(os.fspath(value))
    except PxfsError as e:
        raise DataError(f"{where}: {e}") from e
    if loc.kind == "local":
        return _check_local(loc.key, loc.uri, where, is_image, decode)
    if loc.kind == "http":
        size, etag = _check_url(loc.uri, where, storage.config.request_timeout)
        checked = MediaValue(where, uri=loc.uri, size=size, hash=etag)
    else:
        checked = _check_object(storage, loc, where)
    if is_image and decode:
        _check_image(_fetch(storage, loc.uri, where), loc.uri, where, decode)
    return checked


def decode_at_insert() -> bool:
    """Whether inserted images are decoded fully (``media_validation='on_write'``)."""
    from ..env import Env

    return bool(Env.get()["media_validation"] == "on_write")


def check_many(storage: Storage, items: list[tuple[ColumnMeta, Any, str]]) -> list[MediaValue]:
    """:func:`check_media` for many values, checked concurrently; first error raised."""
    decode = decode_at_insert()
    if len(items) <= 1:
        return [check_media(storage, c, v, w, decode=decode) for c, v, w in items]
    with cf.ThreadPoolExecutor(min(16, len(items))) as pool:
        futures = [pool.submit(check_media, storage, c, v, w, decode=decode) for c, v, w in items]
        return [f.result() for f in futures]


def _is_pil_image(value: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a core dependency
        return False
    return isinstance(value, Image.Image)


def _encode_pil(value: Any, where: str) -> bytes:
    """The bytes of a ``PIL.Image`` value, in its own format where it fits, else PNG."""
    buf = io.BytesIO()
    fmt = value.format if value.format in ("JPEG", "PNG", "WEBP", "GIF") else "PNG"
    if fmt == "JPEG" and value.mode not in ("RGB", "L", "CMYK"):
        fmt = "PNG"
    try:
        value.save(buf, format=fmt)  # decodes a lazily opened image
    except Exception as e:
        raise DataError(f"{where}: cannot encode the image given: {type(e).__name__}: {e}") from e
    return buf.getvalue()


def _check_local(path: str, uri: str, where: str, is_image: bool, decode: bool) -> MediaValue:
    if not os.path.exists(path):
        raise DataError(f"{where}: file {path} does not exist")
    if not os.path.isfile(path):
        raise DataError(f"{where}: {path} is a folder, not a file")
    if is_image:
        _check_image(path, path, where, decode)
    return MediaValue(where, uri=uri, size=os.path.getsize(path))


def _check_object(storage: Storage, loc: Location, where: str) -> MediaValue:
    """A bucket object exists and is a file: its size and ETag."""
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


def _fetch(storage: Storage, uri: str, where: str) -> str:
    """A local copy of a remote object, in the cache that later reads of `uri` use."""
    try:
        return storage.localpath(uri)
    except OSError as e:
        raise DataError(f"{where}: cannot read {uri}: {e}") from e


def _check_image(src: str | IO[bytes], what: str, where: str, decode: bool) -> None:
    """Pillow reads `src`'s header (and, with `decode`, every pixel); else DataError naming `what`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open_image(src) as img:
            if decode:
                img.load()
    except UnidentifiedImageError as e:
        raise DataError(f"{where}: {what}: not an image Pillow can read") from e
    except Image.DecompressionBombError as e:
        raise DataError(
            f"{where}: {what}: {e} (raise PIL.Image.MAX_IMAGE_PIXELS if such images are expected)"
        ) from e
    except Exception as e:  # truncated or corrupt data: OSError, SyntaxError, EOFError, ...
        raise DataError(f"{where}: cannot read {what}: {type(e).__name__}: {e}") from e


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
