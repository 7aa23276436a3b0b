"""`Location`: the one value the rest of pxfs passes around for a place in storage."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Literal

from ..errors import InvalidURIError

Kind = Literal["local", "s3", "gcs", "azure", "http"]


@dataclass(frozen=True)
class Location:
    """A parsed URI: which backend, which bucket and key, which endpoint and credentials.

    ``uri`` is the canonical form, the one written to the catalog (``.fileurl``); it keeps
    the scheme the user wrote (``r2://``, ``minio://``, ``https://acct.blob...``).
    ``endpoint_url`` and ``profile`` are resolved from configuration; they select the
    filesystem instance. A Location never holds a secret.

    Examples
    --------
    >>> loc = Location(kind="s3", scheme="s3", bucket="b", key="a/x.jpg", uri="s3://b/a/x.jpg")
    >>> loc.path
    'b/a/x.jpg'
    """

    kind: Kind
    scheme: str
    bucket: str
    key: str
    uri: str
    endpoint_url: str | None = None
    profile: str | None = None
    account: str | None = None

    @property
    def path(self) -> str:
        """The path fsspec wants: ``bucket/key`` for object stores, the absolute path for local."""
        if self.kind == "local":
            return self.key
        if self.kind == "http":
            return self.uri
        return f"{self.bucket}/{self.key}" if self.key else self.bucket

    @property
    def is_remote(self) -> bool:
        return self.kind != "local"

    @property
    def name(self) -> str:
        """The last path segment (file name)."""
        return posixpath.basename(self.key.rstrip("/"))

    def join(self, *parts: str) -> Location:
        """A Location below this one (``loc.join("a", "b.jpg")``); never climbs with ``..``."""
        for part in parts:
            if part in ("", ".", "..") or "/" in part.strip("/") and ".." in part.split("/"):
                raise InvalidURIError(
                    f"invalid path segment {part!r} under {self.uri}: an object name may not be empty, "
                    "'.' or contain '..'"
                )
        tail = "/".join(p.strip("/") for p in parts)
        head = self.key.rstrip("/")
        key = f"{head}/{tail}" if head or self.kind == "local" else tail
        return Location(
            kind=self.kind,
            scheme=self.scheme,
            bucket=self.bucket,
            key=key,
            uri=f"{self.uri.rstrip('/')}/{tail}",
            endpoint_url=self.endpoint_url,
            profile=self.profile,
            account=self.account,
        )

    @property
    def parent(self) -> Location:
        """The Location one level up (the bucket root stays the bucket root)."""
        head, _, _ = self.key.rstrip("/").rpartition("/")
        cut = len(self.key.rstrip("/")) - len(head)
        return Location(
            kind=self.kind,
            scheme=self.scheme,
            bucket=self.bucket,
            key=head,
            uri=self.uri.rstrip("/")[: len(self.uri.rstrip("/")) - cut] or self.uri,
            endpoint_url=self.endpoint_url,
            profile=self.profile,
            account=self.account,
        )

    def __str__(self) -> str:
        return self.uri
