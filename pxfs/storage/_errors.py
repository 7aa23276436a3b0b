"""The messages every backend's ``translate`` shares, so they read the same everywhere.

Each backend maps its provider's exceptions (see its ``translate``) onto these; a message
names the URI, the endpoint, what was attempted and what to do, and never a secret.
"""

from __future__ import annotations

import errno

from ..errors import (
    BucketNotFoundError,
    DataError,
    EndpointTimeoutError,
    EndpointUnreachableError,
    StorageError,
)
from ._location import Location

__all__ = [
    "broken",
    "bucket_missing",
    "check_expires_in",
    "exception_chain",
    "failed",
    "shown_path",
    "timed_out",
    "unreachable",
]

_MAX_PATH = 4096  # PATH_MAX on Linux
_MAX_NAME = 255  # NAME_MAX: no file name is longer


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


def broken(action: str, where: str) -> EndpointUnreachableError:
    """The endpoint answered, but the connection broke or the answer could not be read."""
    return EndpointUnreachableError(
        errno.ECONNRESET,
        f"cannot {action} {where}: the connection broke or the endpoint's answer could not be read; "
        "check that the endpoint is the storage service you meant and is healthy, then retry",
    )


def failed(action: str, where: str, what: str, todo: str) -> StorageError:
    """Any other failure: `what` is a code or an exception's type name, never provider text."""
    return StorageError(errno.EIO, f"cannot {action} {where}: {what}; {todo}")


def check_expires_in(uri: str, expires_in: object, most: int | None) -> int:
    """`expires_in` as whole seconds, or DataError: at least 1, at most `most` (the
    backend's longest signed URL) when given."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)):
        raise DataError(f"cannot make a URL for {uri}: expires_in must be a number of seconds, "
                        f"got {type(expires_in).__name__}")
    if not 1 <= expires_in <= (most if most is not None else 2**53):  # False for NaN too
        upper = f" and at most {most} ({most // 86400} days) for this storage" if most else ""
        raise DataError(f"cannot make a URL for {uri}: expires_in={expires_in!r} is out of range; "
                        f"give at least 1 second{upper}")
    return int(expires_in)


def shown_path(value: str) -> str:
    """`value` if it is a plausible file path, else ``****``: a variable meant to name a
    key file (GOOGLE_APPLICATION_CREDENTIALS) may hold the key itself."""
    plausible = (
        len(value) <= _MAX_PATH
        and not any(c in value for c in "{}\n\r")
        and all(len(part) <= _MAX_NAME for part in value.split("/"))
    )
    return value if plausible else "****"
