"""Plain http(s) URLs: read-only sources (fsspec's HTTPFileSystem)."""

from __future__ import annotations

import errno
from typing import Any

from ..errors import EndpointUnreachableError, ObjectNotFoundError, StorageError
from ._config import StorageConfig
from ._location import Location


def filesystem(loc: Location, config: StorageConfig) -> Any:
    import aiohttp
    from fsspec.implementations.http import HTTPFileSystem

    timeout = aiohttp.ClientTimeout(total=None, connect=config.request_timeout, sock_read=config.request_timeout)
    return HTTPFileSystem(client_kwargs={"timeout": timeout}, skip_instance_cache=True)


def signed_url(fs: Any, loc: Location, expires_in: int) -> str:
    return loc.uri


def write_kwargs(content_type: str | None) -> dict[str, Any]:
    return {}


def translate(exc: BaseException, loc: Location, action: str) -> BaseException | None:
    import aiohttp

    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return ObjectNotFoundError(errno.ENOENT, f"cannot {action} {loc.uri}: the server answered 404 Not Found")
    if isinstance(exc, aiohttp.ClientResponseError):
        return StorageError(errno.EIO, f"cannot {action} {loc.uri}: HTTP {exc.status} {exc.message}")
    if isinstance(exc, (aiohttp.ClientConnectionError, TimeoutError)):
        return EndpointUnreachableError(errno.ECONNREFUSED, f"cannot {action} {loc.uri}: {exc}")
    return None
