"""The storage layer: URI -> Location -> fsspec filesystem; open / put / url."""

from ._config import BUILTIN_ALIASES, AzureSettings, GcsSettings, SchemeSpec, StorageConfig
from ._listing import Listed
from ._location import Kind, Location
from ._storage import Source, Storage, Stored
from ._uri import RESERVED_SCHEMES, check_destination, parse_uri

__all__ = [
    "BUILTIN_ALIASES",
    "RESERVED_SCHEMES",
    "AzureSettings",
    "GcsSettings",
    "Kind",
    "Listed",
    "Location",
    "SchemeSpec",
    "Source",
    "Storage",
    "StorageConfig",
    "Stored",
    "check_destination",
    "parse_uri",
]
