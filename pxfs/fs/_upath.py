"""`PxfsPath`: ``upath.UPath("pxfs://dir/table/img")`` over :class:`~._filesystem.PxfsFileSystem`.

Needs the optional package ``universal_pathlib`` (``pip install 'pxfs[all]'``). Reading
(``iterdir``, ``glob``, ``read_bytes``, ``stat``) works as on any UPath; writing is what the
filesystem allows (``PermissionError`` except ``write_bytes`` into a media column, which
fsspec routes to ``pipe``... see the filesystem docs).
"""

from __future__ import annotations

from upath import UPath

__all__ = ["PxfsPath"]


class PxfsPath(UPath):
    """A path in ``pxfs://`` (no storage options; the catalog is ``$PXFS_HOME``'s)."""

    __slots__ = ()
