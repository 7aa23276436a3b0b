"""The shared storage test suite every backend runs.

A backend's test module defines a class deriving from :class:`BackendTests` (or only the
capability classes it supports) and two fixtures: ``storage`` (a configured
:class:`pxfs.storage.Storage`, normally ``Session.default().storage`` after ``Env.reset``) and
``dest`` (a fresh writable prefix URI for one test). Read-only or URL-less backends leave
out ``WriteTests`` / ``UrlTests``.
"""

from __future__ import annotations

import urllib.request
import uuid
from pathlib import Path

import pytest

from pxfs.storage import Storage


def fetch(url: str) -> bytes:
    """GET `url` with no SDK and no credentials, as a browser would."""
    if url.startswith("file://"):
        return Path(url[len("file://"):]).read_bytes()
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()  # type: ignore[no-any-return]


class WriteTests:
    """put, put_many, open, rm: round trips of bytes through the destination."""

    def test_put_bytes_round_trip(self, storage: Storage, dest: str) -> None:
        data = b"\xff\xd8\xff" + uuid.uuid4().bytes * 100
        uri = storage.put(data, dest)
        assert uri.startswith(storage.location(dest).uri.rstrip("/") + "/") and uri.endswith(".jpg")
        with storage.open(uri) as f:
            assert f.read() == data
        assert storage.exists(uri)

    def test_put_is_content_addressed_and_idempotent(self, storage: Storage, dest: str) -> None:
        data = uuid.uuid4().bytes
        first = storage.put(data, dest)
        assert storage.put(data, dest) == first
        assert storage.put(data + b"!", dest) != first

    def test_put_local_file_keeps_extension(self, storage: Storage, dest: str, tmp_path: Path) -> None:
        src = tmp_path / "photo.png"
        src.write_bytes(b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes)
        uri = storage.put(src, dest)
        assert uri.endswith(".png")
        assert storage.cat(uri) == src.read_bytes()

    def test_put_many_keeps_order_and_content(self, storage: Storage, dest: str, tmp_path: Path) -> None:
        payloads = [f"payload {i} {uuid.uuid4()}".encode() * (i + 1) for i in range(25)]
        sources: list[object] = []
        for i, data in enumerate(payloads):
            if i % 2:
                p = tmp_path / f"f{i}.txt"
                p.write_bytes(data)
                sources.append(p)
            else:
                sources.append(data)
        results = storage.put_many(sources, dest, concurrency=4)  # type: ignore[arg-type]
        assert [storage.cat(r.uri) for r in results] == payloads
        assert [r.size for r in results] == [len(p) for p in payloads]

    def test_put_from_url(self, storage: Storage, dest: str, http_server: object, tmp_path: Path) -> None:
        data = b"\xff\xd8\xff" + uuid.uuid4().bytes * 50
        (tmp_path / "remote.jpg").write_bytes(data)
        uri = storage.put(http_server.url_for("remote.jpg"), dest)  # type: ignore[attr-defined]
        assert uri.endswith(".jpg") and storage.cat(uri) == data

    def test_put_from_another_uri_of_the_backend(self, storage: Storage, dest: str) -> None:
        data = uuid.uuid4().bytes * 10
        first = storage.put(data, dest.rstrip("/") + "/a/")
        second = storage.put(first, dest.rstrip("/") + "/b/")
        assert second != first and storage.cat(second) == data

    def test_rm_removes_and_skips_missing(self, storage: Storage, dest: str) -> None:
        uri = storage.put(uuid.uuid4().bytes, dest)
        assert storage.rm([uri]) >= 1
        assert not storage.exists(uri)
        storage.rm([uri])  # already gone: no error

    def test_check_writable_leaves_nothing(self, storage: Storage, dest: str) -> None:
        storage.check_writable(dest)
        loc = storage.location(dest)
        fs = storage.filesystem(loc)
        leftovers = [p for p in (fs.find(loc.path) if fs.exists(loc.path) else []) if ".pxfs-probe" in p]
        assert leftovers == []

    def test_missing_object_is_file_not_found(self, storage: Storage, dest: str) -> None:
        missing = dest.rstrip("/") + f"/{uuid.uuid4().hex}.jpg"
        with pytest.raises(FileNotFoundError) as e:
            storage.open(missing).read()
        assert missing.rsplit("/", 1)[1] in str(e.value)


class UrlTests:
    """url(): what a plain HTTP GET can fetch."""

    def test_url_is_fetchable_byte_for_byte(self, storage: Storage, dest: str) -> None:
        data = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 64
        uri = storage.put(data, dest)
        url = storage.url(uri, expires_in=600)
        assert url.startswith(self.url_schemes)
        assert fetch(url) == data

    url_schemes: tuple[str, ...] = ("http://", "https://")


class BackendTests(WriteTests, UrlTests):
    """Everything: a writable backend with servable URLs."""
