"""How one small object is written, and the event loop that async filesystems run on.

:class:`_FsspecWriter` stores through the filesystem itself (``_pipe_file``, or an atomic
local write); a backend may offer a faster writer with the same interface (S3: obstore,
see _s3store). :func:`_run` runs a coroutine on fsspec's IO loop and waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from typing import Any

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
