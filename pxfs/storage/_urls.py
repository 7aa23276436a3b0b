"""URLs a plain GET can fetch: a ``[pxfs.public_urls]`` base, a presigned URL, or the URI.

S3 batches are signed by the writer's ``sign`` (obstore, see _s3store), other backends by
their ``signed_url``; `expires_in` is checked against the longest URL a backend can sign.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import quote

from ._errors import check_expires_in
from ._location import Location

if TYPE_CHECKING:
    from ._storage import Storage


def url(storage: Storage, uri: str | os.PathLike[str] | Location, expires_in: int = 3600) -> str:
    """An http(s) URL a plain GET can fetch (public base, presigned, or ``file://``)."""
    loc = storage.location(uri)
    check_expires_in(loc.uri, expires_in, None)  # a public or file URL ignores it, but it must make sense
    public = public_base(storage, loc)
    if public is not None:
        return public
    if loc.kind in ("local", "http"):
        return loc.uri
    seconds = _signed_expiry(storage, loc, expires_in)
    return _sign(storage, [loc], seconds)[0]


def _sign(storage: Storage, locs: list[Location], seconds: int) -> list[str]:
    """Signed GET URLs for objects of one filesystem: the writer's ``sign`` if it has one
    (S3: obstore), else the backend's ``signed_url``."""
    first = locs[0]
    sign = getattr(storage._writer(first), "sign", None) if first.kind == "s3" else None
    with storage._errors(first, "sign URLs for" if len(locs) > 1 else "sign a URL for"):
        if sign is not None:
            return [str(u) for u in sign(locs, seconds)]
        fs = storage.filesystem(first)
        return [str(storage.backend(first).signed_url(fs, loc, seconds)) for loc in locs]


def _signed_expiry(storage: Storage, loc: Location, expires_in: object) -> int:
    """`expires_in` checked against the longest URL `loc`'s backend can sign."""
    return check_expires_in(loc.uri, expires_in, getattr(storage.backend(loc), "MAX_EXPIRES_IN", None))


def public_base(storage: Storage, loc: Location) -> str | None:
    """The ``[pxfs.public_urls]`` URL of `loc`, if a prefix covers it (whole segments only)."""
    for prefix, base in storage.config.public_urls:
        head = prefix.rstrip("/")
        if loc.uri == head or loc.uri.startswith(head + "/"):
            rest = loc.uri[len(head):].lstrip("/")
            return f"{base.rstrip('/')}/{quote(rest)}"
    return None


def urls(storage: Storage, uris: Sequence[str | None], expires_in: int = 3600) -> list[str | None]:
    """:meth:`url` for many URIs (None stays None); S3 batches are signed by obstore (see _s3store)."""
    out: list[str | None] = [None] * len(uris)
    batches: dict[tuple[Any, ...], list[tuple[int, Location]]] = {}
    for i, uri in enumerate(uris):
        if uri is None:
            continue
        loc = storage.location(uri)
        if loc.kind != "s3" or public_base(storage, loc) is not None:
            out[i] = storage.url(loc, expires_in)
            continue
        batches.setdefault((*storage._fs_key(loc), loc.bucket), []).append((i, loc))
    for items in batches.values():
        seconds = _signed_expiry(storage, items[0][1], expires_in)
        for (i, _), url in zip(items, _sign(storage, [loc for _, loc in items], seconds)):
            out[i] = url
    return out
