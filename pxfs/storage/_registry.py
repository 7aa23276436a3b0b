"""Which module implements each kind of storage, and what to install for it.

One sorted table, imported on first use (like ``fsspec.registry.known_implementations``).
A backend module provides ``filesystem(loc, config)``, ``signed_url(fs, loc, expires_in)``,
``translate(exc, loc, action)`` and ``write_kwargs(content_type)``, and may provide
``direct_writer(loc, config, filesystem)`` (a faster upload and signing path, S3's obstore);
to add a kind, write such a module and add a row here.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import MappingProxyType, ModuleType
from typing import Mapping

from ..errors import MissingDependencyError
from ._location import Kind

__all__ = ["BACKENDS", "BackendSpec", "load_backend"]


@dataclass(frozen=True)
class BackendSpec:
    """Where a backend lives and which packages it needs."""

    module: str
    requires: tuple[str, ...] = ()
    extra: str | None = None


_BACKENDS: dict[Kind, BackendSpec] = {
    "azure": BackendSpec("pxfs.storage._azure", ("adlfs", "azure.storage.blob"), "azure"),
    "gcs": BackendSpec("pxfs.storage._gcs", ("gcsfs",), "gcs"),
    "http": BackendSpec("pxfs.storage._http", ("aiohttp",), "s3"),
    "local": BackendSpec("pxfs.storage._local"),
    "s3": BackendSpec("pxfs.storage._s3", ("s3fs", "aiobotocore", "obstore"), "s3"),
}
assert list(_BACKENDS) == sorted(_BACKENDS)
BACKENDS: Mapping[Kind, BackendSpec] = MappingProxyType(_BACKENDS)


def load_backend(kind: Kind, uri: str = "") -> ModuleType:
    """Import the backend for `kind`, or raise with the exact ``pip install`` line.

    Required packages are looked up, not imported: a backend imports what it uses when it
    uses it (S3 uploads by obstore never import s3fs).
    """
    spec = _BACKENDS[kind]
    for package in spec.requires:
        try:
            if importlib.util.find_spec(package) is None:
                raise ImportError(f"No module named {package!r}", name=package)
        except (ImportError, ValueError) as e:
            what = f" for {uri!r}" if uri else ""
            raise MissingDependencyError(
                f"{package} is needed{what} but is not installed; run: pip install 'pxfs[{spec.extra}]'"
            ) from e
    return importlib.import_module(spec.module)
