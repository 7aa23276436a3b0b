"""Local folders: fsspec's LocalFileSystem, ``file://`` URLs."""

from __future__ import annotations

import errno
from typing import Any

from fsspec.implementations.local import LocalFileSystem

from ..errors import AccessDeniedError, BucketNotFoundError, ObjectNotFoundError, StorageError
from ._config import StorageConfig
from ._location import Location


def filesystem(loc: Location, config: StorageConfig) -> LocalFileSystem:
    return LocalFileSystem(auto_mkdir=True)


def signed_url(fs: Any, loc: Location, expires_in: int) -> str:
    return loc.uri


def write_kwargs(content_type: str | None) -> dict[str, Any]:
    return {}


def translate(exc: BaseException, loc: Location, action: str) -> BaseException | None:
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return ObjectNotFoundError(errno.ENOENT, f"cannot {action} {loc.uri}: no such file or folder")
    if isinstance(exc, PermissionError):
        return AccessDeniedError(errno.EACCES, f"cannot {action} {loc.uri}: permission denied")
    if isinstance(exc, IsADirectoryError):
        return StorageError(errno.EISDIR, f"cannot {action} {loc.uri}: it is a folder, not a file; name a file")
    if isinstance(exc, NotADirectoryError):
        return BucketNotFoundError(errno.ENOTDIR, f"cannot {action} {loc.uri}: a parent is a file, not a folder")
    if isinstance(exc, OSError):
        return StorageError(exc.errno or errno.EIO, f"cannot {action} {loc.uri}: {exc.strerror or exc}")
    return None
