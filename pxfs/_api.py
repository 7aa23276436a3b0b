"""The storage half of the public API: ``pxfs.open / put / put_many / url / init``."""

from __future__ import annotations

import os
from typing import IO, Any, Iterable, Mapping

from .session import Session
from .errors import InvalidURIError
from .storage import Source

__all__ = ["init", "open", "put", "put_many", "url"]


def init(config: Mapping[str, Any] | None = None) -> None:
    """(Re)load configuration; `config` overrides environment variables and config.toml.

    Examples
    --------
    >>> pxt.init({'output_media_dest': 's3://my-bucket/computed/'})  # doctest: +SKIP
    """
    Session.reset_default(config)


def open(uri: str | os.PathLike[str], mode: str = "rb") -> IO[Any]:  # noqa: A001 - mirrors fsspec.open
    """Open media at `uri` (any destination form); remote reads go through the local cache.

    A ``pxfs://dir/table/column/<rowid>.<ext>`` URI opens a table cell, computing it first
    if it is owed (see docs/filesystem.md).

    Examples
    --------
    >>> with pxt.open('s3://my-bucket/media/abc.jpg') as f:  # doctest: +SKIP
    ...     data = f.read()
    >>> pxt.open('pxfs://demo/media/rotated/0.jpg').read()  # doctest: +SKIP
    """
    if not isinstance(uri, (str, os.PathLike)):
        raise InvalidURIError(f"pxt.open(): expected a path or URI string, got {type(uri).__name__} {uri!r:.60}")
    if os.fspath(uri).startswith("pxfs://"):
        from .fs import PxfsFileSystem

        f: IO[Any] = PxfsFileSystem().open(os.fspath(uri), mode)
        return f
    return Session.default().storage.open(uri, mode)


def put(src: Source, dest: str | os.PathLike[str]) -> str:
    """Store a local file, bytes, a URL or another bucket's object under the prefix `dest`.

    The object is named by the sha256 of its bytes (plus the extension), so storing the
    same bytes twice gives the same URI and never overwrites other content.

    Examples
    --------
    >>> pxt.put('photo.jpg', 's3://my-bucket/uploads/')  # doctest: +SKIP
    's3://my-bucket/uploads/3f1c...e9.jpg'
    """
    return Session.default().storage.put(src, dest)


def put_many(sources: Iterable[Source], dest: str | os.PathLike[str], *, concurrency: int | None = None) -> list[str]:
    """:func:`put` for many sources, `concurrency` uploads at a time; URIs in input order.

    Examples
    --------
    >>> pxt.put_many(['a.jpg', 'b.jpg'], 's3://my-bucket/uploads/')  # doctest: +SKIP
    """
    return [r.uri for r in Session.default().storage.put_many(sources, dest, concurrency=concurrency)]


def url(uri: str | os.PathLike[str], expires_in: int = 3600) -> str:
    """An http(s) URL for `uri` that a browser can GET: a ``public_urls`` base, else presigned.

    Local files give ``file://`` URLs.

    Examples
    --------
    >>> pxt.url('s3://my-bucket/media/abc.jpg', expires_in=600)  # doctest: +SKIP
    """
    return Session.default().storage.url(uri, expires_in)
