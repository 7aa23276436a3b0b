"""`PxfsPath`: ``upath.UPath("pxfs://dir/table/img")`` over :class:`~._filesystem.PxfsFileSystem`.

Needs the optional package ``universal_pathlib`` (``pip install 'pxfs[all]'``). Reading
(``iterdir``, ``glob``, ``read_bytes``, ``stat``, ``open``) works as on any UPath. Writing
through a UPath (``write_bytes``, ``unlink``, ``mkdir``) raises ``PermissionError``: add
rows with ``fsspec.filesystem("pxfs").put`` / ``.pipe`` into a media column directory.
"""

from __future__ import annotations

from upath import UPath

__all__ = ["PxfsPath"]


class PxfsPath(UPath):
    """A path in ``pxfs://`` (no storage options; the catalog is ``$PXFS_HOME``'s)."""

    __slots__ = ()
