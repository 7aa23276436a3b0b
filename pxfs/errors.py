"""The exceptions pxfs raises.

Builtins come first: every storage problem is an ``OSError`` subclass, so code that
already catches ``FileNotFoundError`` or ``PermissionError`` keeps working. pxfs's own
errors derive from both :class:`PxfsError` and the builtin they mean::

    PxfsError
    ├── ConfigError(PxfsError, ValueError)          bad key, value or source in configuration
    ├── InvalidURIError(PxfsError, ValueError)      a URI that cannot be parsed
    ├── UnsupportedDestinationError(PxfsError, ValueError)
    │                                               e.g. a plain https:// site as a destination
    ├── MissingDependencyError(PxfsError, ImportError)
    │                                               optional extra not installed; says what to pip install
    ├── StorageError(PxfsError, OSError)            anything else the storage said
    │   ├── BucketNotFoundError(.., FileNotFoundError)   bucket / container missing
    │   ├── ObjectNotFoundError(.., FileNotFoundError)   object / file missing
    │   ├── AccessDeniedError(.., PermissionError)       bad key, denied, bad signature
    │   └── EndpointUnreachableError(.., ConnectionError)
    │       └── EndpointTimeoutError(.., TimeoutError)  accepted but never answered
    ├── CatalogError(PxfsError, RuntimeError)       catalog problems
    │   └── CatalogBusyError(.., TimeoutError)      another process held the catalog too long
    └── DataError(PxfsError, ValueError)            bad rows, unknown columns, wrong types

Catch the builtin when you care about the kind of failure::

    try:
        pxt.put(b"...", "s3://bucket/prefix/")
    except FileNotFoundError as e:     # bucket missing, among others
        print(e)

and ``PxfsError`` when you want everything pxfs raises on purpose.
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "BucketNotFoundError",
    "CatalogBusyError",
    "CatalogError",
    "ConfigError",
    "DataError",
    "EndpointTimeoutError",
    "EndpointUnreachableError",
    "InvalidURIError",
    "MissingDependencyError",
    "ObjectNotFoundError",
    "PxfsError",
    "StorageError",
    "UnsupportedDestinationError",
]


class PxfsError(Exception):
    """Base class of every error pxfs raises on purpose."""


class ConfigError(PxfsError, ValueError):
    """A configuration key, value or source is wrong; the message names where it came from."""


class InvalidURIError(PxfsError, ValueError):
    """A URI or path that pxfs cannot parse."""


class UnsupportedDestinationError(PxfsError, ValueError):
    """A URI that is fine as a source but cannot receive media (e.g. ``https://example.com``)."""


class MissingDependencyError(PxfsError, ImportError):
    """An optional package is missing; the message gives the ``pip install`` line."""


class StorageError(PxfsError, OSError):
    """The storage refused or failed an operation."""


class BucketNotFoundError(StorageError, FileNotFoundError):
    """The bucket or container does not exist."""


class ObjectNotFoundError(StorageError, FileNotFoundError):
    """The object or file does not exist."""


class AccessDeniedError(StorageError, PermissionError):
    """Credentials are missing, wrong, or not allowed to do this."""


class EndpointUnreachableError(StorageError, ConnectionError):
    """The endpoint could not be reached."""


class EndpointTimeoutError(EndpointUnreachableError, TimeoutError):
    """The endpoint accepted the connection but did not answer in time."""


class CatalogError(PxfsError, RuntimeError):
    """The catalog is in a state that does not allow the operation."""


class CatalogBusyError(CatalogError, TimeoutError):
    """Another process held the catalog longer than ``catalog_lock_timeout``."""


class DataError(PxfsError, ValueError):
    """A row, value, column or expression is wrong; the message names which."""
