"""``pxfs://``: every table of the catalog as files that any fsspec tool can read.

>>> import fsspec
>>> fs = fsspec.filesystem("pxfs")               # no import of pxfs needed (entry point)
>>> fs.ls("pxfs://demo/films")                   # doctest: +SKIP
>>> import pandas as pd
>>> pd.read_parquet("pxfs://demo/films.parquet")  # doctest: +SKIP

The namespace (``_paths``), the filesystem (``_filesystem``), Parquet snapshots
(``_snapshot``) and the catalog queries behind them (``_catalog``) are private modules;
this package exports :class:`PxfsFileSystem` and, when ``universal_pathlib`` is
installed, :class:`PxfsPath`, which importing this package registers with upath for the
``pxfs`` protocol (upath otherwise warns that it does not know the protocol).
"""

from __future__ import annotations

from typing import Any

from ._filesystem import PxfsFile, PxfsFileSystem

__all__ = ["PxfsFile", "PxfsFileSystem", "PxfsPath", "register_upath"]


def register_upath() -> bool:
    """Register :class:`PxfsPath` with universal_pathlib for ``pxfs://``; False without upath.

    Importing :mod:`pxfs.fs` does this. Registering twice is harmless; another class
    already registered for ``pxfs`` is left alone.
    """
    import fsspec

    try:  # upath takes the path flavour from fsspec's table of imported classes
        fsspec.register_implementation("pxfs", PxfsFileSystem)
    except ValueError:
        pass  # another class holds "pxfs"; leave it
    try:
        from upath import registry
    except ImportError:
        return False
    if "pxfs" not in registry.available_implementations():
        registry.register_implementation("pxfs", "pxfs.fs._upath.PxfsPath")
    return True


def __getattr__(name: str) -> Any:
    if name == "PxfsPath":  # imported on use: universal_pathlib is optional
        from ._upath import PxfsPath

        return PxfsPath
    raise AttributeError(f"module 'pxfs.fs' has no attribute {name!r}")


register_upath()
