"""Plain http(s) URLs: read-only sources (fsspec's HTTPFileSystem)."""

from __future__ import annotations

import errno
from typing import Any

from ..errors import ObjectNotFoundError, StorageError
from ._config import StorageConfig
from ._errors import broken, exception_chain, failed, timed_out, unreachable
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
    for e in exception_chain(exc):
        if isinstance(e, aiohttp.ClientResponseError):
            todo = "the server failed or is busy; retry later" if e.status >= 500 else "check the URL and its access"
            return failed(action, loc.uri, f"HTTP {e.status} {e.message}", todo)
        if isinstance(e, TimeoutError):  # aiohttp's ServerTimeoutError and asyncio's
            return timed_out(action, loc.uri)
        if isinstance(e, aiohttp.ServerDisconnectedError):
            return broken(action, loc.uri)
        if isinstance(e, aiohttp.ClientConnectionError):
            return unreachable(action, loc.uri, "that the URL's host and port are right")
        if isinstance(e, aiohttp.ClientError):  # an answer that is not HTTP, or cut short
            return broken(action, loc.uri)
    return None
