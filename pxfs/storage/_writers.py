"""How one small object is written, and the event loop that async filesystems run on.

:class:`_FsspecWriter` stores through the filesystem itself (``_pipe_file``, or an atomic
local write); a backend may offer a faster writer with the same interface,
:class:`ObstoreWriter` (S3 and Azure: obstore, see _s3store and _azstore). :func:`_run` runs a coroutine on fsspec's IO loop and waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from typing import Any, Callable

from ._location import Location


class _FsspecWriter:
    """Small objects through the filesystem itself: ``_pipe_file``, or an atomic local write.

    A writer's ``write_now`` stores from the calling thread and returns True, or returns
    False when the object must go through ``write`` on fsspec's event loop.
    """

    def __init__(self, fs: Any) -> None:
        self.fs = fs

    def write_now(self, target: Location, data: bytes, digest: str, kwargs: dict[str, Any]) -> bool:
        if getattr(self.fs, "async_impl", False):
            return False
        _atomic_local_write(target.path, data)
        return True

    async def write(self, target: Location, data: bytes, digest: str, kwargs: dict[str, Any]) -> None:
        await self.fs._pipe_file(target.path, data, **kwargs)


TEMP_SUFFIX = ".pxfs-tmp"


class ObstoreWriter:
    """:class:`_FsspecWriter`'s interface over an obstore client (S3: _s3store, Azure:
    _azstore): ``write_now`` sends from the calling thread through ``fast``; ``write``
    (fsspec's loop) is the fsspec filesystem, for what obstore declined.

    ``fast`` has ``put(target, data, content_type) -> bool`` and ``remove(target) -> bool``
    (False: let the filesystem do it); ``plain`` reads the content type out of the
    backend's write kwargs, ``(False, None)`` when they ask for more than obstore sends.
    """

    def __init__(self, fast: Any, filesystem: Callable[[], Any],
                 plain: Callable[[dict[str, Any]], tuple[bool, str | None]]) -> None:
        self.fast = fast
        self._filesystem = filesystem
        self._plain = plain
        self._fs: Any = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.fast!r})"

    def fs(self) -> Any:
        """The fsspec filesystem, built on first need (never on fsspec's loop: see write_now)."""
        if self._fs is None:
            self._fs = self._filesystem()
        return self._fs

    def write_now(self, target: Location, data: bytes, digest: str, kwargs: dict[str, Any]) -> bool:
        plain, content_type = self._plain(kwargs)
        if plain and self.fast.put(target, data, content_type):
            return True
        self.fs()  # write() runs on fsspec's loop, where building the filesystem would deadlock
        return False

    async def write(self, target: Location, data: bytes, digest: str, kwargs: dict[str, Any]) -> None:
        await self.fs()._pipe_file(target.path, data, **kwargs)  # fsspec's async API

    def remove(self, target: Location) -> bool:
        """Delete one object by obstore; False: let the filesystem do it."""
        return bool(self.fast.remove(target))


def _atomic_local_write(path: str, data: bytes) -> None:
    """Write to ``.<name>.<random>.pxfs-tmp`` beside `path`, then rename over it.

    The temporary name carries the final one, so a write cut short by a kill leaves a file
    whose writer gc can prove (see tables/_gc).
    """
    folder, name = os.path.split(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _run(coro: Any, timeout: float | None = None) -> Any:
    """Run a coroutine on fsspec's IO loop (shared by s3fs, gcsfs, adlfs) and wait.

    With `timeout`, the coroutine is cancelled on the loop after that many seconds
    (``asyncio.TimeoutError``).
    """
    from fsspec.asyn import get_loop, sync

    async def wrapper() -> Any:
        return await (coro if timeout is None else asyncio.wait_for(coro, timeout))

    return sync(get_loop(), wrapper)
