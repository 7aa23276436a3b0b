"""pxfs: multimodal tables whose media live in blob storage.

>>> import pxfs as pxt
>>> t = pxt.create_table('films', {'poster': pxt.Image, 'title': pxt.String})  # doctest: +SKIP
>>> t.add_computed_column(rotated=t.poster.rotate(90), destination='s3://bucket/rotated/')  # doctest: +SKIP
>>> t.select(t.rotated.url).limit(10).collect()  # doctest: +SKIP
"""

from __future__ import annotations

from . import errors
from ._api import init, open, put, put_many, url
from .errors import (
    AccessDeniedError,
    BucketNotFoundError,
    CatalogBusyError,
    CatalogError,
    ConfigError,
    DataError,
    EndpointTimeoutError,
    EndpointUnreachableError,
    InvalidURIError,
    MissingDependencyError,
    ObjectNotFoundError,
    PxfsError,
    StorageError,
    UnsupportedDestinationError,
)
from .tables import (
    GcReport,
    Query,
    ResultSet,
    Table,
    UpdateStatus,
    create_dir,
    create_table,
    drop_dir,
    drop_table,
    gc,
    get_table,
    list_dirs,
    list_tables,
)
from .session import Session
from .types import Audio, Bool, Document, Float, Image, Int, Json, String, Timestamp, Video

__version__ = "0.1.0"

__all__ = [
    "AccessDeniedError",
    "Audio",
    "Bool",
    "BucketNotFoundError",
    "CatalogBusyError",
    "CatalogError",
    "ConfigError",
    "DataError",
    "Document",
    "EndpointTimeoutError",
    "EndpointUnreachableError",
    "Float",
    "GcReport",
    "Image",
    "Int",
    "InvalidURIError",
    "Json",
    "MissingDependencyError",
    "ObjectNotFoundError",
    "PxfsError",
    "Query",
    "ResultSet",
    "Session",
    "StorageError",
    "String",
    "Table",
    "Timestamp",
    "UnsupportedDestinationError",
    "UpdateStatus",
    "Video",
    "create_dir",
    "create_table",
    "drop_dir",
    "drop_table",
    "errors",
    "gc",
    "get_table",
    "init",
    "list_dirs",
    "list_tables",
    "open",
    "put",
    "put_many",
    "url",
]
