"""Batch uploads: `Storage.put_many`'s worker threads, loading sources, naming by content.

Each worker loads, hashes and sends one source at a time, so memory does not grow with
the number of sources; objects are named by the sha256 of their bytes (see _naming) and
errors are translated per source.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence, Sized, Union

from ..errors import InvalidURIError, StorageError
from ._location import Location
from ._naming import content_name, content_type, extension_of
from ._uri import check_destination
from ._writers import _run

if TYPE_CHECKING:
    from ._storage import Storage

Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]
_SMALL = 64 * 2**20  # files up to this size are read once, hashed and sent in one request
_DEFAULT_CONCURRENCY = {"s3": 64, "gcs": 32, "azure": 32, "local": 8, "http": 16}


@dataclass(frozen=True)
class Stored:
    """Where `put` stored one source: URI, size in bytes, and the sha256 of the bytes."""

    uri: str
    size: int
    sha256: str


def put_many(
    storage: Storage,
    sources: Iterable[Source],
    dest: str | os.PathLike[str] | Location,
    *,
    names: Sequence[str | None] | None = None,
    name_prefixes: Sequence[str] | str = "",
    concurrency: int | None = None,
    return_exceptions: bool = False,
) -> list[Any]:
    """:meth:`Storage.put_many` (see there): copy many sources to `dest`, results in input order."""
    dest_loc = check_destination(storage.location(dest))
    backend = storage.backend(dest_loc)
    writer = storage._writer(dest_loc)
    limit = concurrency or storage.config.upload_concurrency or _DEFAULT_CONCURRENCY[dest_loc.kind]
    items = enumerate(sources)
    take = threading.Lock()
    results: dict[int, Any] = {}
    failed: list[BaseException] = []
    base_timeout = storage.config.request_timeout * (storage.config.retries + 1) + 10

    def upload(i: int, src: Source) -> Stored:
        name = names[i] if names is not None else None
        prefix = name_prefixes if isinstance(name_prefixes, str) else name_prefixes[i]
        data, ext, local = _load(storage, src)
        if data is None:  # a large local file: hash by streaming, send by s3fs/gcsfs multipart
            assert local is not None
            digest = _sha256_file(local)
            fname = name or prefix + content_name(ext=ext, digest=digest)[0]
            target = dest_loc.join(fname)
            size = os.path.getsize(local)
            fs = storage.filesystem(dest_loc)
            if getattr(fs, "async_impl", False):
                # A stalled upload fails; a slow one that progresses at 1 MiB/s or more does not.
                _run(fs._put_file(local, target.path, **backend.write_kwargs(content_type(fname))),
                     timeout=base_timeout + size / 2**20)
            else:
                fs.put_file(local, target.path)
            return Stored(target.uri, size, digest)
        fname, digest = content_name(data, ext)
        target = dest_loc.join(name or prefix + fname)
        kwargs = backend.write_kwargs(content_type(target.name))
        if not writer.write_now(target, data, digest, kwargs):
            _run(writer.write(target, data, digest, kwargs), timeout=base_timeout + len(data) / 2**20)
        return Stored(target.uri, len(data), digest)

    def worker() -> None:
        while not (failed and not return_exceptions):
            with take:
                item = next(items, None)
            if item is None:
                return
            i, src = item
            try:
                results[i] = upload(i, src)
            except Exception as exc:  # translated here, per item
                err = _translate(storage, exc, dest_loc, src)
                results[i] = err
                failed.append(err)

    # Each worker thread loads, hashes and sends one source at a time: obstore (S3)
    # sends from the thread itself; async filesystems run on fsspec's loop.
    threads = _threads(storage)
    if isinstance(sources, Sized):  # no idle workers for a small batch (one put())
        limit = max(1, min(limit, len(sources)))
    running = [threads.submit(worker) for _ in range(limit)]
    for future in running:
        future.result()
    if failed and not return_exceptions:
        raise failed[0]
    return [results[i] for i in range(len(results))]


def _threads(storage: Storage) -> ThreadPoolExecutor:
    """put_many's worker threads, sized so that two batches upload at full concurrency."""
    with storage._lock:
        if storage._pool is None:
            size = 2 * max(_DEFAULT_CONCURRENCY["s3"], storage.config.upload_concurrency or 0)
            storage._pool = ThreadPoolExecutor(size, thread_name_prefix="pxfs-put")
        return storage._pool


def _translate(storage: Storage, exc: BaseException, dest: Location, src: Source) -> BaseException:
    if isinstance(exc, StorageError | InvalidURIError):
        return exc
    err = storage.backend(dest).translate(exc, dest, "upload to")
    if err is None and isinstance(exc, asyncio.TimeoutError | TimeoutError):
        from ..errors import EndpointTimeoutError

        err = EndpointTimeoutError(
            110, f"cannot upload to {dest.uri} at {dest.endpoint_url or dest.kind}: no answer in time "
            f"(request_timeout={storage.config.request_timeout:g}s); check the endpoint or raise request_timeout"
        )
    translated: BaseException = err or exc
    if translated is not exc:
        translated.__cause__ = exc
    return translated


def _load(storage: Storage, src: Source) -> tuple[bytes | None, str, str | None]:
    """(bytes or None for a large local file, extension, local path or None)."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src), "", None
    if not isinstance(src, (str, os.PathLike)):
        raise InvalidURIError(
            f"cannot store an object of type {type(src).__name__}: a source is bytes, a local path or a URI"
        )
    text = os.fspath(src)
    loc = storage.location(text)
    ext = extension_of(text)
    if loc.kind == "local":
        with storage._errors(loc, "read the source"):
            if os.path.getsize(loc.key) > _SMALL:
                return None, ext, loc.key
            with open(loc.key, "rb") as f:
                return f.read(), ext, loc.key
    fs = storage.filesystem(loc)
    try:
        data = fs.cat_file(loc.path)
    except Exception as exc:
        translated = storage.backend(loc).translate(exc, loc, "read")
        if translated is None:
            raise
        raise translated from exc
    return bytes(data), ext, None


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(2**20), b""):
            h.update(chunk)
    return h.hexdigest()
