"""`Storage`: the one object that reads, writes and signs media, whatever the backend.

It turns URIs into Locations, builds one fsspec filesystem per (kind, scheme, endpoint,
profile, account) on first use, runs batch uploads with bounded concurrency on fsspec's
event loop (_put), signs URLs (_urls), reads remote files through the local cache, and
translates every provider error in one place (:meth:`Storage._errors`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import IO, Any, Iterable, Iterator, Sequence, cast

from ..errors import AccessDeniedError, ObjectNotFoundError, PxfsError, StorageError
from ._cache import FileCache
from ._config import StorageConfig
from ._listing import Listed, list_folder
from ._location import Location
from ._naming import extension_of
from ._put import Source, Stored
from ._put import put_many as _put_many
from ._registry import load_backend
from ._uri import check_destination, parse_uri
from ._urls import public_base as _public_base
from ._urls import url as _url
from ._urls import urls as _urls
from ._writers import _FsspecWriter, _run

__all__ = ["Source", "Storage", "Stored"]

logger = logging.getLogger("pxfs.storage")

PROBE_NAME = ".pxfs-probe"  # what check_writable writes and removes, in every destination


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
        return _put_many(
            self, sources, dest, names=names, name_prefixes=name_prefixes,
            concurrency=concurrency, return_exceptions=return_exceptions,
        )

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
        """Prove that `dest` accepts writes: write the probe object ``.pxfs-probe`` and remove it.

        Write-only credentials are common (an S3 policy with ``PutObject`` but not
        ``DeleteObject``, an Azure SAS without ``d``): when only the removal is refused,
        `dest` is writable, the 4-byte probe stays (one per destination, its name fixed)
        and a warning names it.

        Examples
        --------
        >>> Storage(StorageConfig(cache_dir=Path(tempfile.mkdtemp()))).check_writable(tempfile.mkdtemp()).kind
        'local'
        """
        loc = check_destination(self.location(dest))
        writer = self._writer(loc)  # the way uploads go (S3: obstore, without building s3fs)
        probe = loc.join(PROBE_NAME)
        data = b"pxfs"
        with self._errors(probe, "write a probe object to"):
            if not writer.write_now(probe, data, hashlib.sha256(data).hexdigest(), {}):
                _run(writer.write(probe, data, "", {}), timeout=self.config.request_timeout * (self.config.retries + 1) + 10)
        try:
            with self._errors(probe, "remove the probe object"):
                remove = getattr(writer, "remove", None)
                if remove is None or not remove(probe):
                    self.filesystem(loc).rm_file(probe.path)
        except ObjectNotFoundError:
            pass  # another process probing the same destination removed it first
        except AccessDeniedError:
            logger.warning("%s is writable, but these credentials may not delete: the 4-byte probe object %s "
                           "stays; remove it with credentials that may", loc.uri, probe.uri)
        return loc

    # -- serving ----------------------------------------------------------------------

    def url(self, uri: str | os.PathLike[str] | Location, expires_in: int = 3600) -> str:
        """An http(s) URL a plain GET can fetch (public base, presigned, or ``file://``)."""
        return _url(self, uri, expires_in)

    def _public_base(self, loc: Location) -> str | None:
        """The ``[pxfs.public_urls]`` URL of `loc`, if a prefix covers it (whole segments only)."""
        return _public_base(self, loc)

    def urls(self, uris: Sequence[str | None], expires_in: int = 3600) -> list[str | None]:
        """:meth:`url` for many URIs (None stays None); S3 batches are signed by obstore (see _s3store)."""
        return _urls(self, uris, expires_in)

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
