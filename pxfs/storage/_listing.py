"""Listing a folder or prefix of any destination: one request per page of keys.

:meth:`Storage.list_objects` calls :func:`list_folder` with the filesystem of the folder's
Location. Object stores are listed through fsspec's ``find`` (``list_objects_v2`` pages
of 1,000 keys for S3, pages for GCS and Azure; fsspec handles the pagination), local
folders through ``LocalFileSystem.find``. A listing never stays in fsspec's listings
cache: a later ``info`` must see objects written after it.

To support a new backend, make sure its fsspec filesystem's ``find`` accepts
``detail=True`` and ``prefix=`` (s3fs, gcsfs and adlfs do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._location import Location

__all__ = ["Listed", "list_folder"]


@dataclass(frozen=True)
class Listed:
    """One object found by :meth:`Storage.list_objects`: its URI, size in bytes and ETag (or None).

    The URI has the form of the folder listed (``r2://...`` stays ``r2://...``); the ETag
    is the one ``info`` gives (quotes removed), so listing and ``info`` agree.
    """

    uri: str
    size: int | None
    etag: str | None


def list_folder(fs: Any, loc: Location, *, recursive: bool = True, name_prefix: str = "") -> list[Listed]:
    """The files below the folder `loc` whose path relative to it starts with `name_prefix`.

    `recursive=False` lists the folder's own files only (one delimited listing on S3).
    Sorted by URI. Raises what `fs` raises (the caller translates).
    """
    root = loc.path.rstrip("/") if loc.kind != "local" or loc.key != "/" else "/"
    head = root if root.endswith("/") else root + "/"
    kwargs: dict[str, Any] = {"detail": True}
    if not recursive:
        kwargs["maxdepth"] = 1
    if loc.kind != "local":
        kwargs["prefix"] = name_prefix  # a server-side filter: fewer pages
    try:
        found = fs.find(root, **kwargs)
    finally:
        _forget(fs, root)
    out = []
    for path, info in found.items():
        if info.get("type") == "directory" or not path.startswith(head):
            continue
        rel = path[len(head):]
        if not rel.startswith(name_prefix) or (not recursive and "/" in rel) or rel.endswith("/"):
            continue
        etag = info.get("ETag") or info.get("etag") or info.get("md5Hash")
        size = info.get("size")
        out.append(Listed(f"{loc.uri.rstrip('/')}/{rel}", None if size is None else int(size),
                          str(etag).strip('"') if etag else None))
    out.sort(key=lambda listed: listed.uri)
    return out


def _forget(fs: Any, root: str) -> None:
    """Drop the listings `find` cached under `root`: they would hide later changes from ``info``."""
    cache = getattr(fs, "dircache", None)
    if cache is None:
        return
    for key in [k for k in list(cache) if k == root or str(k).startswith(root.rstrip("/") + "/")]:
        cache.pop(key, None)
    fs.invalidate_cache(root)
