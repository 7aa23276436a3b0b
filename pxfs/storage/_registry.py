"""Which module implements each kind of storage, and what to install for it.

One sorted table, imported on first use (like ``fsspec.registry.known_implementations``).
A backend module provides ``filesystem(loc, config)``, ``signed_url(fs, loc, expires_in)``,
``translate(exc, loc, action)`` and ``write_kwargs(content_type)``; to add a kind, write
such a module and add a row here.
"""

from __future__ import annotations

import importlib
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
    "s3": BackendSpec("pxfs.storage._s3", ("s3fs", "aiobotocore"), "s3"),
}
assert list(_BACKENDS) == sorted(_BACKENDS)
BACKENDS: Mapping[Kind, BackendSpec] = MappingProxyType(_BACKENDS)


def load_backend(kind: Kind, uri: str = "") -> ModuleType:
    """Import the backend for `kind`, or raise with the exact ``pip install`` line."""
    spec = _BACKENDS[kind]
    for package in spec.requires:
        try:
            importlib.import_module(package)
        except ImportError as e:
            what = f" for {uri!r}" if uri else ""
            raise MissingDependencyError(
                f"{package} is needed{what} but is not installed; run: pip install 'pxfs[{spec.extra}]'"
            ) from e
    return importlib.import_module(spec.module)
