"""Every URI form of the design's table parses into the right Location (pure, no I/O)."""

from __future__ import annotations

import os

import pytest

from pxfs.errors import InvalidURIError, UnsupportedDestinationError
from pxfs.storage import AzureSettings, StorageConfig, check_destination, parse_uri
from pxfs.storage._config import SchemeSpec

AZURITE = "http://127.0.0.1:10000/devstoreaccount1"
CONFIG = StorageConfig(
    schemes={
        "s3": SchemeSpec("s3"), "r2": SchemeSpec("r2", endpoint_url="https://acct.r2.cloudflarestorage.com"),
        "b2": SchemeSpec("b2", endpoint_url="https://s3.us-west-004.backblazeb2.com"),
        "tigris": SchemeSpec("tigris", endpoint_url="https://t3.storage.dev", hosts=("t3.storage.dev", "fly.storage.tigris.dev")),
        "minio": SchemeSpec("minio", endpoint_url="http://127.0.0.1:9000", profile="minio"),
    },
    azure=AzureSettings(account_name="devstoreaccount1", blob_endpoint=AZURITE),
)

# (uri, kind, scheme, bucket, key, canonical uri, endpoint)
FORMS = [
    ("/abs/path/x.jpg", "local", "file", "", "/abs/path/x.jpg", "file:///abs/path/x.jpg", None),
    ("file:///abs/path/", "local", "file", "", "/abs/path", "file:///abs/path", None),
    ("s3://bucket-name/path/prefix/", "s3", "s3", "bucket-name", "path/prefix", "s3://bucket-name/path/prefix", None),
    ("r2://bucket-name/p", "s3", "r2", "bucket-name", "p", "r2://bucket-name/p", "https://acct.r2.cloudflarestorage.com"),
    ("b2://bucket-name/p", "s3", "b2", "bucket-name", "p", "b2://bucket-name/p", "https://s3.us-west-004.backblazeb2.com"),
    ("tigris://bucket-name/p", "s3", "tigris", "bucket-name", "p", "tigris://bucket-name/p", "https://t3.storage.dev"),
    ("https://t3.storage.dev/bucket-name/path", "s3", "tigris", "bucket-name", "path",
     "https://t3.storage.dev/bucket-name/path", "https://t3.storage.dev"),
    ("https://fly.storage.tigris.dev/bucket-name/k", "s3", "tigris", "bucket-name", "k",
     "https://fly.storage.tigris.dev/bucket-name/k", "https://t3.storage.dev"),
    ("minio://bucket-name/p", "s3", "minio", "bucket-name", "p", "minio://bucket-name/p", "http://127.0.0.1:9000"),
    ("gs://bucket-name/a/b", "gcs", "gs", "bucket-name", "a/b", "gs://bucket-name/a/b", None),
    ("gcs://bucket-name/a", "gcs", "gcs", "bucket-name", "a", "gcs://bucket-name/a", None),
    ("az://container/path", "azure", "az", "container", "path", "az://container/path", AZURITE),
    ("abfs://container/path", "azure", "abfs", "container", "path", "abfs://container/path", AZURITE),
    ("abfs://container@account.dfs.core.windows.net/path", "azure", "abfs", "container", "path",
     "abfs://container@account.dfs.core.windows.net/path", "https://account.blob.core.windows.net"),
    ("https://account.blob.core.windows.net/container/path", "azure", "https", "container", "path",
     "https://account.blob.core.windows.net/container/path", "https://account.blob.core.windows.net"),
    (f"{AZURITE}/container/path/x.png", "azure", "http", "container", "path/x.png", f"{AZURITE}/container/path/x.png", AZURITE),
    ("https://example.com/images/a.jpg", "http", "https", "", "/images/a.jpg", "https://example.com/images/a.jpg", None),
]


@pytest.mark.parametrize("uri, kind, scheme, bucket, key, canonical, endpoint", FORMS)
def test_every_form(uri: str, kind: str, scheme: str, bucket: str, key: str, canonical: str, endpoint: str | None) -> None:
    loc = parse_uri(uri, CONFIG)
    assert (loc.kind, loc.scheme, loc.bucket, loc.key, loc.uri, loc.endpoint_url) == (
        kind, scheme, bucket, key, canonical, endpoint)
    assert parse_uri(loc.uri, CONFIG) == loc  # canonical forms parse to themselves


def test_profile_travels_with_the_alias() -> None:
    assert parse_uri("minio://bucket-name/x", CONFIG).profile == "minio"


def test_relative_paths_become_absolute(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(str(tmp_path))
    assert parse_uri("out/media").uri == f"file://{os.getcwd()}/out/media"


@pytest.mark.parametrize("uri, message", [
    ("", "expected a URI"),
    ("s3://", "names no bucket"),
    ("s3://B!/x", "not a valid bucket name"),
    ("s3://bucket-name/a/../b", "'..'"),
    ("s3://bucket-name/a//b", "empty"),
    ("ftp://host/x", "unknown scheme 'ftp'"),
    ("minio://bucket-name/x", "[pxfs.schemes.minio]"),  # not configured in the default config
    ("file://otherhost/x", "names host"),
    ("az:///path", "names no container"),
])
def test_malformed(uri: str, message: str) -> None:
    with pytest.raises(InvalidURIError) as e:
        parse_uri(uri)
    assert message in str(e.value)


def test_web_addresses_are_sources_not_destinations() -> None:
    with pytest.raises(UnsupportedDestinationError, match="example.com"):
        check_destination(parse_uri("https://example.com/out/"))
    assert check_destination(parse_uri("https://t3.storage.dev/bucket-name/x", CONFIG)).kind == "s3"


def test_join_never_climbs() -> None:
    loc = parse_uri("s3://bucket-name/prefix")
    assert loc.join("a", "b.jpg").uri == "s3://bucket-name/prefix/a/b.jpg"
    with pytest.raises(ValueError):
        loc.join("..")
