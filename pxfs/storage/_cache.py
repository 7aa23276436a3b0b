"""A local cache of remote media in ``$PXFS_HOME/cache``, bounded by size, LRU-evicted.

Entries are named by a hash of the URI. Media pxfs stores are content-addressed, so their
cached copies never go stale; a web URL inserted by reference is cached as first read
(clear the cache to see later changes at that URL). Hits refresh the file's mtime; when the total exceeds the
limit, the least recently used files are removed. Several processes may share the folder:
writes go to a temporary file and are renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Callable

__all__ = ["FileCache"]


class FileCache:
    """Size-bounded LRU cache of files fetched from remote storage.

    Examples
    --------
    >>> cache = FileCache(Path(tempfile.mkdtemp()), max_bytes=10 * 2**20)
    >>> p = cache.get("s3://b/k.jpg", ".jpg", lambda tmp: Path(tmp).write_bytes(b"x"))
    >>> p.read_bytes()
    b'x'
    """

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._total: int | None = None  # bytes, computed on first add

    def path_for(self, uri: str, ext: str = "") -> Path:
        h = hashlib.sha256(uri.encode()).hexdigest()
        return self.root / h[:2] / f"{h[2:34]}{ext}"

    def get(self, uri: str, ext: str, fetch: Callable[[str], object]) -> Path:
        """The cached file for `uri`; on a miss, ``fetch(tmp_path)`` writes it first."""
        path = self.path_for(uri, ext)
        try:
            os.utime(path)
            return path
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fetch-")
        os.close(fd)
        try:
            fetch(tmp)
            size = os.path.getsize(tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._added(size, keep=path)
        return path

    def _added(self, size: int, keep: Path) -> None:
        with self._lock:
            if self._total is None:
                self._total = sum(_size(f) for f in self._files())
            else:
                self._total += size
            if self._total > self.max_bytes:
                self._evict(keep)

    def _files(self) -> list[Path]:
        return [p for p in self.root.glob("*/*") if p.is_file() and not p.name.startswith(".")]

    def _evict(self, keep: Path) -> None:
        entries = []
        for p in self._files():
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            entries.append((st.st_mtime, st.st_size, p))
        entries.sort()
        total = sum(size for _, size, _ in entries)
        for _, size, p in entries:
            if total <= self.max_bytes:
                break
            if p == keep:
                continue
            p.unlink(missing_ok=True)
            total -= size
        self._total = total

    def clear(self) -> None:
        """Remove every cached file."""
        with self._lock:
            for p in self._files():
                p.unlink(missing_ok=True)
            self._total = 0


def _size(path: Path) -> int:
    """The size of a cached file, 0 if another process evicted it meanwhile."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
