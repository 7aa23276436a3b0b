"""Checking and preparing media values at insert, before anything is written.

A media value may be a local path (``str`` or ``Path``), a ``file://``, ``http(s)://`` or
bucket URI, raw ``bytes``, or a ``PIL.Image``. Every value is checked first (the file
exists and, for an Image column, is an image; a URL answers; a bucket object exists), so
a bad row fails the whole insert with the row and column named, and nothing is written.

How much of an image is checked is the setting ``media_validation``: ``on_read`` (the
default) reads local images' headers only; ``on_write`` decodes every image, fetching
remote ones once into the storage cache, where later reads find them. Either way an
image over Pillow's ``MAX_IMAGE_PIXELS`` (a decompression bomb) is refused.

Bucket objects are checked by listing when many values of one insert share a folder
(:data:`LIST_MIN` or more): one request per page of 1,000 keys instead of one HEAD per
object. Values the listing does not show (and folders listing refuses, e.g. without
``s3:ListBucket``) get their own HEAD, whose answer names the problem.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import itertools
import io
import os
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO, Any, Callable, Mapping

from ..catalog import ColumnMeta
from ..compute._image_fns import open_image
from ..errors import DataError, PxfsError
from ..storage import Listed, Location, Storage

__all__ = ["LIST_MIN", "MediaValue", "check_many", "check_media"]

LIST_MIN = 20  # bucket references sharing a folder: at least this many are checked by listing
_PAGE = 1000  # keys per listing page (S3, GCS and Azure alike)
_LISTINGS_AT_ONCE = 8
_CHECKS_AT_ONCE = 16  # values checked at once (a local header read, a HEAD, a decode)
_OBJECT_KINDS = ("s3", "gcs", "azure")


@dataclass
class MediaValue:
    """A checked media value: what to store (upload) or reference (uri)."""

    where: str
    uri: str | None = None  # referenced in place
    upload: Any = None  # bytes or a path/URI to copy to a destination
    size: int | None = None
    hash: str | None = None


def check_media(
    storage: Storage, col: ColumnMeta, value: Any, where: str, *, decode: bool = False
) -> MediaValue:
    """Check one value of media column `col`; `where` is "row 3, column 'img'".

    An image's header is read; with `decode` (``media_validation='on_write'``) every
    pixel is decoded too, remote images fetched through the storage cache.
    """
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


def check_many(
    storage: Storage, items: list[tuple[ColumnMeta, Any, str]], *, known: Mapping[str, Listed] | None = None,
    decode: bool = False,
) -> list[MediaValue]:
    """:func:`check_media` for many values, checked concurrently; the first error (in the
    order of `items`) is raised.

    Bucket references that share a folder with :data:`LIST_MIN` - 1 others are checked
    by listing that folder; `known` maps URIs already listed (``insert_objects``) to what
    the listing said. With `decode` (``media_validation='on_write'``) images are decoded
    fully, listed ones too.

    Examples
    --------
    >>> col = t._meta().column('img')                                         # doctest: +SKIP
    >>> check_many(storage, [(col, 's3://b/photos/a.jpg', "row 0, column 'img'")])  # doctest: +SKIP
    [MediaValue(where="row 0, column 'img'", uri='s3://b/photos/a.jpg', size=1234, hash='9b2c...')]
    """
    out: list[MediaValue | None] = [None] * len(items)
    listed = _check_by_listing(storage, items, known or {})
    jobs: list[tuple[int, Callable[[], MediaValue]]] = []
    for i, (col, value, where) in enumerate(items):
        found = listed.get(i)
        if found is None:
            jobs.append((i, functools.partial(check_media, storage, col, value, where, decode=decode)))
            continue
        checked = out[i] = MediaValue(where, uri=found.uri, size=found.size, hash=found.etag)
        if decode and col.type.name == "Image":
            jobs.append((i, functools.partial(_decoded, storage, checked)))
    for i, checked in _run_in_order(jobs, _CHECKS_AT_ONCE):
        out[i] = checked
    return [m for m in out if m is not None]


def _run_in_order(jobs: list[tuple[int, Callable[[], MediaValue]]], workers: int) -> list[tuple[int, MediaValue]]:
    """Run `jobs` on up to `workers` threads that take them in order; the first error in
    that order is raised.

    Workers take the next job from one iterator (no future per job: 10,000 submitted
    futures cost ~20 MB at once). After an error no new job starts; every job before it
    was taken already, so the lowest-numbered error is the first one in order.
    """
    if len(jobs) <= 1:
        return [(i, job()) for i, job in jobs]
    pending = iter(jobs)
    take = threading.Lock()
    done: list[tuple[int, MediaValue]] = []
    errors: list[tuple[int, BaseException]] = []

    def worker() -> None:
        while not errors:
            with take:
                item = next(pending, None)
            if item is None:
                return
            i, job = item
            try:
                done.append((i, job()))
            except BaseException as e:  # noqa: BLE001 - re-raised by the caller below
                errors.append((i, e))

    threads = [threading.Thread(target=worker, name="pxfs-check") for _ in range(min(workers, len(jobs)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise min(errors, key=lambda e: e[0])[1]
    return done


def _check_by_listing(
    storage: Storage, items: list[tuple[ColumnMeta, Any, str]], known: Mapping[str, Listed]
) -> dict[int, Listed]:
    """The items proven to exist by a listing: `known`, or a listing of their folder.

    Values are grouped by their folder as written and each folder is parsed once; a value
    whose canonical URI differs from what was written is left to :func:`check_media`.
    """
    found: dict[int, Listed] = {}
    by_folder: dict[str, list[tuple[int, str]]] = {}
    for i, (_, value, _) in enumerate(items):
        if isinstance(value, (str, os.PathLike)):
            text = os.fspath(value)
            hit = known.get(text)
            if hit is not None and not text.startswith("file://"):  # local files: their header is read
                found[i] = hit
            elif "://" in text:
                head, _, name = text.rpartition("/")
                if name not in ("", ".", ".."):
                    by_folder.setdefault(head, []).append((i, name))
    listings: list[tuple[Location, str, list[tuple[int, str]]]] = []
    for head, entries in by_folder.items():
        if len(entries) < LIST_MIN:
            continue
        try:
            folder = storage.location(head + "/")
        except PxfsError:
            continue  # check_media names the problem
        if folder.kind not in _OBJECT_KINDS or folder.uri.rstrip("/") != head:
            continue
        listings.extend((folder, stem, part) for stem, part in _partitions(sorted(entries, key=lambda e: e[1])))
    if not listings:
        return found

    def listed(folder: Location, stem: str) -> list[Listed] | None:
        try:
            return storage.list_objects(folder, recursive=False, name_prefix=stem)
        except OSError:
            return None  # e.g. no permission to list: one HEAD each says what is wrong

    with cf.ThreadPoolExecutor(min(_LISTINGS_AT_ONCE, len(listings))) as pool:
        pages = pool.map(lambda job: listed(job[0], job[1]), listings)
        for (folder, _, entries), objects in zip(listings, pages):
            by_name = {o.uri.rpartition("/")[2]: o for o in objects or ()}
            for i, name in entries:
                hit = by_name.get(name)
                if hit is not None:
                    found[i] = hit
    return found


def _partitions(entries: list[tuple[int, str]]) -> list[tuple[str, list[tuple[int, str]]]]:
    """Name prefixes that split one folder's references (sorted by name) into listings of
    about a page each.

    Disjoint prefixes are listed at once, so a large folder is read in parallel; a split
    is made only where its parts still hold half a page or more on average, so that the
    requests stay about one per page of references.
    """
    first, last = entries[0][1], entries[-1][1]
    stem = os.path.commonprefix([first, last])
    if len(entries) <= _PAGE or first == stem:  # a name equal to the stem belongs to no finer prefix
        return [(stem, entries)]
    parts = [list(g) for _, g in itertools.groupby(entries, key=lambda e: e[1][len(stem)])]
    if len(entries) / len(parts) < _PAGE / 2:
        return [(stem, entries)]
    return [p for part in parts for p in _partitions(part)]


def _decoded(storage: Storage, checked: MediaValue) -> MediaValue:
    """`checked` after decoding its image in full (fetched once into the cache)."""
    assert checked.uri is not None
    _check_image(_fetch(storage, checked.uri, checked.where), checked.uri, checked.where, True)
    return checked


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
