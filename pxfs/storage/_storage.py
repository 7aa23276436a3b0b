"""`Storage`: the one object that reads, writes and signs media, whatever the backend.

It turns URIs into Locations, builds one fsspec filesystem per (kind, scheme, endpoint,
profile, account) on first use, runs batch uploads with bounded concurrency on fsspec's
event loop, reads remote files through the local cache, and translates every provider
error in one place (:meth:`Storage._errors`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Iterable, Iterator, Sequence, Sized, Union, cast
from urllib.parse import quote

from ..errors import InvalidURIError, PxfsError, StorageError
from ._cache import FileCache
from ._config import StorageConfig
from ._errors import check_expires_in
from ._listing import Listed, list_folder
from ._location import Location
from ._naming import content_name, content_type, extension_of
from ._registry import load_backend
from ._uri import check_destination, parse_uri

__all__ = ["Source", "Storage", "Stored"]

logger = logging.getLogger("pxfs.storage")

Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]
_SMALL = 64 * 2**20  # files up to this size are read once, hashed and sent in one request
_DEFAULT_CONCURRENCY = {"s3": 64, "gcs": 32, "azure": 32, "local": 8, "http": 16}


@dataclass(frozen=True)
class Stored:
    """Where `put` stored one source: URI, size in bytes, and the sha256 of the bytes."""

    uri: str
    size: int
    sha256: str


class Storage:
    """Read, write and sign media in any destination (see the URI table in the docs).

    Examples
    --------
    >>> st = Storage(StorageConfig(cache_dir=Path(tempfile.mkdtemp())))
    >>> uri = st.put(b"hello", tempfile.mkdtemp() + "/media/")
    >>> st.open(uri).read()
    b'hello'
    """

    def __init__(self, config: StorageConfig) -> None:
        self.config = config
        self.cache = FileCache(config.cache_dir, config.cache_size_bytes)
        self._filesystems: dict[tuple[Any, ...], Any] = {}
        self._writers: dict[tuple[Any, ...], Any] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Storage(filesystems={len(self._filesystems)}, cache={str(self.cache.root)!r})"

    # -- locations and filesystems ------------------------------------------------

    def location(self, uri: str | os.PathLike[str] | Location) -> Location:
        """Parse `uri` with this configuration's aliases and endpoints."""
        return uri if isinstance(uri, Location) else parse_uri(uri, self.config)

    def backend(self, loc: Location) -> ModuleType:
        return load_backend(loc.kind, loc.uri)

    @staticmethod
    def _fs_key(loc: Location) -> tuple[Any, ...]:
        return (loc.kind, loc.scheme if loc.kind == "s3" else "", loc.endpoint_url, loc.profile, loc.account)

    def filesystem(self, loc: Location) -> Any:
        """The fsspec filesystem for `loc`, created on first use and cached."""
        key = self._fs_key(loc)
        fs = self._filesystems.get(key)
        if fs is None:
            backend = self.backend(loc)
            with self._lock:
                fs = self._filesystems.get(key)
                if fs is None:
                    with self._errors(loc, "connect to"):
                        fs = backend.filesystem(loc, self.config)
                    self._filesystems[key] = fs
        return fs

    def _writer(self, loc: Location) -> Any:
        """What stores small objects at `loc`'s backend (see :class:`_FsspecWriter`).

        A backend may offer a faster path than fsspec's ``_pipe_file``: its
        ``direct_writer(loc, config, filesystem)`` (S3: obstore, see _s3store), which
        builds the fsspec filesystem only if it needs it, through `filesystem`.
        """
        key = self._fs_key(loc)
        writer = self._writers.get(key)
        if writer is None:
            direct = getattr(self.backend(loc), "direct_writer", None)
            with self._errors(loc, "connect to"):
                made = direct(loc, self.config, lambda: self.filesystem(loc)) if direct is not None else None
            if made is None:
                made = _FsspecWriter(self.filesystem(loc))
            with self._lock:
                writer = self._writers.setdefault(key, made)
        return writer

    @contextlib.contextmanager
    def _errors(self, loc: Location, action: str) -> Iterator[None]:
        """Translate any provider error raised inside into a pxfs / builtin OSError."""
        try:
            yield
        except Exception as exc:
            translated = self.backend(loc).translate(exc, loc, action)
            if translated is None or translated is exc:
                raise
            raise translated from exc

    # -- reading --------------------------------------------------------------------

    def open(self, uri: str | os.PathLike[str] | Location, mode: str = "rb") -> IO[Any]:
        """A file object for `uri`; remote reads go through the local cache."""
        loc = self.location(uri)
        if "r" in mode and loc.is_remote:
            return open(self.localpath(loc), mode)  # noqa: SIM115 - caller closes
        writes = any(c in mode for c in "wax+")
        fs = self.filesystem(check_destination(loc) if writes else loc)
        with self._errors(loc, "open"):
            f = fs.open(loc.path, mode)
        return cast(IO[Any], _TranslatedFile(f, self, loc)) if writes else f

    def localpath(self, uri: str | os.PathLike[str] | Location) -> str:
        """A local file with the bytes of `uri`: the file itself, or a cached copy."""
        loc = self.location(uri)
        if loc.kind == "local":
            if not os.path.isfile(loc.key):
                with self._errors(loc, "read"):
                    raise FileNotFoundError(loc.key)
            return loc.key
        fs = self.filesystem(loc)

        def fetch(tmp: str) -> None:
            with self._errors(loc, "download"):
                fs.get_file(loc.path, tmp)

        try:
            return str(self.cache.get(loc.uri, extension_of(loc.uri), fetch))
        except PxfsError:
            raise
        except OSError as e:  # the cache folder itself: not writable, full, a file in the way
            raise StorageError(
                e.errno or errno.EIO,
                f"cannot cache {loc.uri} in {self.cache.root}: {e.strerror or type(e).__name__}; check that "
                "this folder (under PXFS_HOME) is writable and has free space",
            ) from e

    def cat(self, uri: str | os.PathLike[str] | Location) -> bytes:
        """All bytes of `uri` (through the cache for remote media)."""
        return Path(self.localpath(uri)).read_bytes()

    def exists(self, uri: str | os.PathLike[str] | Location) -> bool:
        loc = self.location(uri)
        fs = self.filesystem(loc)
        with self._errors(loc, "check"):
            return bool(fs.exists(loc.path))

    def info(self, uri: str | os.PathLike[str] | Location) -> dict[str, Any]:
        loc = self.location(uri)
        fs = self.filesystem(loc)
        with self._errors(loc, "inspect"):
            return dict(fs.info(loc.path))

    def list_objects(
        self, folder: str | os.PathLike[str] | Location, *, recursive: bool = True, name_prefix: str = ""
    ) -> list[Listed]:
        """The objects below `folder` (a bucket prefix or a local folder), sorted by URI.

        One request per page of keys (1,000 for S3); fsspec follows the pages. `folder` is
        a folder whether or not it ends with ``/``; `name_prefix` keeps the objects whose
        path below it starts with that text (a server-side filter on object stores), and
        ``recursive=False`` keeps the folder's own objects. A folder that does not exist
        lists as empty; a missing bucket raises ``BucketNotFoundError``.

        Examples
        --------
        >>> st = Storage(StorageConfig(cache_dir=Path(tempfile.mkdtemp())))
        >>> folder = tempfile.mkdtemp()
        >>> uri = st.put(b"hello", folder, name="a.txt")
        >>> [(o.uri.rsplit("/", 1)[-1], o.size) for o in st.list_objects(folder)]
        [('a.txt', 5)]
        """
        loc = self.location(folder)
        if loc.kind == "http":
            check_destination(loc)  # a web site cannot be listed: says so, naming the URI
        fs = self.filesystem(loc)
        with self._errors(loc, "list"):
            return list_folder(fs, loc, recursive=recursive, name_prefix=name_prefix)

    # -- writing ----------------------------------------------------------------------

    def put(
        self, src: Source, dest: str | os.PathLike[str] | Location, *, name: str | None = None
    ) -> str:
        """Copy one source to the folder/prefix `dest`; returns the stored URI."""
        result: Stored = self.put_many([src], dest, names=None if name is None else [name])[0]
        return result.uri

    def put_many(
        self,
        sources: Iterable[Source],
        dest: str | os.PathLike[str] | Location,
        *,
        names: Sequence[str | None] | None = None,
        name_prefixes: Sequence[str] | str = "",
        concurrency: int | None = None,
        return_exceptions: bool = False,
    ) -> list[Any]:
        """Copy many sources to `dest`, at most `concurrency` at a time; results in input order.

        Objects are named by the sha256 of their bytes (plus the source's extension), after
        ``name_prefixes`` (one for all, or one per source); ``names`` overrides that.
        Each result is a :class:`Stored` (or, with ``return_exceptions=True``, the exception
        for that source). Sources are read one at a time per worker, so memory does not
        grow with their number. Without ``return_exceptions``, the first failure stops
        the batch and is raised once the uploads in flight have finished.
        """
        dest_loc = check_destination(self.location(dest))
        backend = self.backend(dest_loc)
        writer = self._writer(dest_loc)
        limit = concurrency or self.config.upload_concurrency or _DEFAULT_CONCURRENCY[dest_loc.kind]
        items = enumerate(sources)
        take = threading.Lock()
        results: dict[int, Any] = {}
        failed: list[BaseException] = []
        base_timeout = self.config.request_timeout * (self.config.retries + 1) + 10

        def upload(i: int, src: Source) -> Stored:
            name = names[i] if names is not None else None
            prefix = name_prefixes if isinstance(name_prefixes, str) else name_prefixes[i]
            data, ext, local = self._load(src)
            if data is None:  # a large local file: hash by streaming, send by s3fs/gcsfs multipart
                assert local is not None
                digest = _sha256_file(local)
                fname = name or prefix + content_name(ext=ext, digest=digest)[0]
                target = dest_loc.join(fname)
                size = os.path.getsize(local)
                fs = self.filesystem(dest_loc)
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
                    err = self._translate(exc, dest_loc, src)
                    results[i] = err
                    failed.append(err)

        # Each worker thread loads, hashes and sends one source at a time: obstore (S3)
        # sends from the thread itself; async filesystems run on fsspec's loop.
        threads = self._threads()
        if isinstance(sources, Sized):  # no idle workers for a small batch (one put())
            limit = max(1, min(limit, len(sources)))
        running = [threads.submit(worker) for _ in range(limit)]
        for future in running:
            future.result()
        if failed and not return_exceptions:
            raise failed[0]
        return [results[i] for i in range(len(results))]

    def _threads(self) -> ThreadPoolExecutor:
        """put_many's worker threads, sized so that two batches upload at full concurrency."""
        with self._lock:
            if self._pool is None:
                size = 2 * max(_DEFAULT_CONCURRENCY["s3"], self.config.upload_concurrency or 0)
                self._pool = ThreadPoolExecutor(size, thread_name_prefix="pxfs-put")
            return self._pool

    def _translate(self, exc: BaseException, dest: Location, src: Source) -> BaseException:
        if isinstance(exc, StorageError | InvalidURIError):
            return exc
        err = self.backend(dest).translate(exc, dest, "upload to")
        if err is None and isinstance(exc, asyncio.TimeoutError | TimeoutError):
            from ..errors import EndpointTimeoutError

            err = EndpointTimeoutError(
                110, f"cannot upload to {dest.uri} at {dest.endpoint_url or dest.kind}: no answer in time "
                f"(request_timeout={self.config.request_timeout:g}s); check the endpoint or raise request_timeout"
            )
        translated: BaseException = err or exc
        if translated is not exc:
            translated.__cause__ = exc
        return translated

    def _load(self, src: Source) -> tuple[bytes | None, str, str | None]:
        """(bytes or None for a large local file, extension, local path or None)."""
        if isinstance(src, (bytes, bytearray, memoryview)):
            return bytes(src), "", None
        if not isinstance(src, (str, os.PathLike)):
            raise InvalidURIError(
                f"cannot store an object of type {type(src).__name__}: a source is bytes, a local path or a URI"
            )
        text = os.fspath(src)
        loc = self.location(text)
        ext = extension_of(text)
        if loc.kind == "local":
            with self._errors(loc, "read the source"):
                if os.path.getsize(loc.key) > _SMALL:
                    return None, ext, loc.key
                with open(loc.key, "rb") as f:
                    return f.read(), ext, loc.key
        fs = self.filesystem(loc)
        try:
            data = fs.cat_file(loc.path)
        except Exception as exc:
            translated = self.backend(loc).translate(exc, loc, "read")
            if translated is None:
                raise
            raise translated from exc
        return bytes(data), ext, None

    def rm(self, uris: Iterable[str]) -> int:
        """Remove objects (missing ones are skipped); returns how many were removed."""
        removed = 0
        by_bucket: dict[tuple[int, str], tuple[Any, list[Location]]] = {}
        for uri in uris:
            loc = check_destination(self.location(uri))  # a web address cannot be deleted
            fs = self.filesystem(loc)
            by_bucket.setdefault((id(fs), loc.bucket), (fs, []))[1].append(loc)
        for fs, locs in by_bucket.values():
            if locs[0].kind == "local":
                removed += sum(self._rm_local(loc) for loc in locs)
                continue
            with self._errors(locs[0], "delete"):
                fs.rm([loc.path for loc in locs])
                removed += len(locs)
        return removed

    def _rm_local(self, loc: Location) -> bool:
        """Remove one local file; False if it was not there. A folder is an error."""
        with self._errors(loc, "delete"):
            if os.path.isdir(loc.key):
                raise IsADirectoryError(errno.EISDIR, "is a folder", loc.key)
            try:
                os.unlink(loc.key)
            except FileNotFoundError:
                return False
        return True

    def check_writable(self, dest: str | os.PathLike[str] | Location) -> Location:
        """Prove that `dest` accepts writes: write a probe object and remove it."""
        loc = check_destination(self.location(dest))
        writer = self._writer(loc)  # the way uploads go (S3: obstore, without building s3fs)
        probe = loc.join(f".pxfs-probe-{os.getpid()}-{threading.get_ident()}")
        data = b"pxfs"
        with self._errors(probe, "write a probe object to"):
            if not writer.write_now(probe, data, hashlib.sha256(data).hexdigest(), {}):
                _run(writer.write(probe, data, "", {}), timeout=self.config.request_timeout * (self.config.retries + 1) + 10)
        with self._errors(probe, "remove the probe object"):
            remove = getattr(writer, "remove", None)
            if remove is None or not remove(probe):
                self.filesystem(loc).rm_file(probe.path)
        return loc

    # -- serving ----------------------------------------------------------------------

    def url(self, uri: str | os.PathLike[str] | Location, expires_in: int = 3600) -> str:
        """An http(s) URL a plain GET can fetch (public base, presigned, or ``file://``)."""
        loc = self.location(uri)
        check_expires_in(loc.uri, expires_in, None)  # a public or file URL ignores it, but it must make sense
        public = self._public_base(loc)
        if public is not None:
            return public
        if loc.kind in ("local", "http"):
            return loc.uri
        seconds = self._signed_expiry(loc, expires_in)
        return self._sign([loc], seconds)[0]

    def _sign(self, locs: list[Location], seconds: int) -> list[str]:
        """Signed GET URLs for objects of one filesystem: the writer's ``sign`` if it has one
        (S3: obstore), else the backend's ``signed_url``."""
        first = locs[0]
        sign = getattr(self._writer(first), "sign", None) if first.kind == "s3" else None
        with self._errors(first, "sign URLs for" if len(locs) > 1 else "sign a URL for"):
            if sign is not None:
                return [str(u) for u in sign(locs, seconds)]
            fs = self.filesystem(first)
            return [str(self.backend(first).signed_url(fs, loc, seconds)) for loc in locs]

    def _signed_expiry(self, loc: Location, expires_in: object) -> int:
        """`expires_in` checked against the longest URL `loc`'s backend can sign."""
        return check_expires_in(loc.uri, expires_in, getattr(self.backend(loc), "MAX_EXPIRES_IN", None))

    def _public_base(self, loc: Location) -> str | None:
        """The ``[pxfs.public_urls]`` URL of `loc`, if a prefix covers it (whole segments only)."""
        for prefix, base in self.config.public_urls:
            head = prefix.rstrip("/")
            if loc.uri == head or loc.uri.startswith(head + "/"):
                rest = loc.uri[len(head):].lstrip("/")
                return f"{base.rstrip('/')}/{quote(rest)}"
        return None

    def urls(self, uris: Sequence[str | None], expires_in: int = 3600) -> list[str | None]:
        """:meth:`url` for many URIs (None stays None); S3 batches are signed by obstore (see _s3store)."""
        out: list[str | None] = [None] * len(uris)
        batches: dict[tuple[Any, ...], list[tuple[int, Location]]] = {}
        for i, uri in enumerate(uris):
            if uri is None:
                continue
            loc = self.location(uri)
            if loc.kind != "s3" or self._public_base(loc) is not None:
                out[i] = self.url(loc, expires_in)
                continue
            batches.setdefault((*self._fs_key(loc), loc.bucket), []).append((i, loc))
        for items in batches.values():
            seconds = self._signed_expiry(items[0][1], expires_in)
            for (i, _), url in zip(items, self._sign([loc for _, loc in items], seconds)):
                out[i] = url
        return out

    def close(self) -> None:
        """Forget every filesystem (they are rebuilt on next use)."""
        with self._lock:
            self._filesystems.clear()
            self._writers.clear()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)


class _TranslatedFile:
    """A writable fsspec file whose write / flush / close errors name the URI.

    Remote files send their bytes on flush and close, so that is where a missing bucket
    or a dead endpoint shows; everything else is the wrapped file's.
    """

    def __init__(self, f: Any, storage: Storage, loc: Location) -> None:
        self._f = f
        self._storage = storage
        self._loc = loc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)

    def __enter__(self) -> _TranslatedFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._f)

    def write(self, data: Any) -> Any:
        with self._storage._errors(self._loc, "write"):
            return self._f.write(data)

    def flush(self, *args: Any, **kwargs: Any) -> Any:
        with self._storage._errors(self._loc, "write"):
            return self._f.flush(*args, **kwargs)

    def close(self) -> None:
        with self._storage._errors(self._loc, "write"):
            self._f.close()


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(2**20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def _atomic_local_write(path: str, data: bytes) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".pxfs-")
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
