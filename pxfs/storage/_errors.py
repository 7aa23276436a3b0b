"""The messages every backend's ``translate`` shares, so they read the same everywhere.

Each backend maps its provider's exceptions (see its ``translate``) onto these; a message
names the URI, the endpoint, what was attempted and what to do, and never a secret.
"""

from __future__ import annotations

import errno

from ..errors import BucketNotFoundError, EndpointTimeoutError, EndpointUnreachableError
from ._location import Location

__all__ = ["bucket_missing", "exception_chain", "timed_out", "unreachable"]


def exception_chain(exc: BaseException) -> list[BaseException]:
    """`exc` and its causes / contexts, outermost first (fsspec wrappers hide the provider's)."""
    seen: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in seen:
        seen.append(e)
        e = e.__cause__ or e.__context__
    return seen


def bucket_missing(loc: Location, action: str, endpoint: str, noun: str = "bucket") -> BucketNotFoundError:
    return BucketNotFoundError(
        errno.ENOENT,
        f"cannot {action} {loc.uri}: {noun} {loc.bucket!r} does not exist at {endpoint}; "
        "create it or fix the destination",
    )


def timed_out(action: str, where: str) -> EndpointTimeoutError:
    return EndpointTimeoutError(
        errno.ETIMEDOUT,
        f"cannot {action} {where}: the endpoint did not answer in time; check that it is up "
        "and reachable, or raise request_timeout",
    )


def unreachable(action: str, where: str, hint: str) -> EndpointUnreachableError:
    return EndpointUnreachableError(
        errno.ECONNREFUSED,
        f"cannot {action} {where}: could not connect to the endpoint; check that it is up and {hint}",
    )
