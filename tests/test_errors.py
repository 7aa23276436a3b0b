"""Errors users meet first: they name the URI and endpoint, say what to do, and come fast."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

import pxfs as pxt
from pxfs.env import Env
from pxfs.testing import MotoServer, SilentServer


def s3_env(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-print-this-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    monkeypatch.setenv("PXFS_REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("PXFS_RETRIES", "1")
    Env.reset()


def test_import_loads_no_cloud_sdk() -> None:
    code = ("import sys, pxfs; heavy = ('s3fs', 'gcsfs', 'adlfs', 'botocore', 'aiobotocore', 'boto3', 'azure', "
            "'google', 'duckdb', 'pyarrow', 'pandas', 'PIL'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_silent_s3_endpoint_fails_in_bounded_time(monkeypatch: pytest.MonkeyPatch) -> None:
    with SilentServer() as silent:
        endpoint = silent.endpoint_url
        s3_env(monkeypatch, endpoint)
        start = time.monotonic()
        with pytest.raises(pxt.EndpointTimeoutError) as e:
            pxt.put(b"x", "s3://some-bucket/x/")
        elapsed = time.monotonic() - start
    assert elapsed < 15, elapsed
    assert endpoint in str(e.value) and "request_timeout" in str(e.value)
    assert isinstance(e.value, TimeoutError) and isinstance(e.value, OSError)
    assert "do-not-print-this-secret" not in str(e.value)


def test_refused_s3_endpoint_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    s3_env(monkeypatch, f"http://127.0.0.1:{port}")
    start = time.monotonic()
    with pytest.raises(pxt.EndpointUnreachableError) as e:
        pxt.put(b"x", "s3://some-bucket/x/")
    assert time.monotonic() - start < 15
    assert f"127.0.0.1:{port}" in str(e.value) and "check that it is up" in str(e.value)
    assert isinstance(e.value, ConnectionError)


def test_missing_object_and_bucket(monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer) -> None:
    s3_env(monkeypatch, moto_server.endpoint_url)
    moto_server.create_bucket("errors-bucket")
    with pytest.raises(pxt.ObjectNotFoundError, match="errors-bucket/nothing-here.jpg"):
        pxt.open("s3://errors-bucket/nothing-here.jpg")
    with pytest.raises(pxt.BucketNotFoundError) as e:
        pxt.put(b"x", "s3://no-such-errors-bucket/x/")
    assert "bucket 'no-such-errors-bucket' does not exist at " + moto_server.endpoint_url in str(e.value)
    assert isinstance(e.value, FileNotFoundError)


def test_malformed_and_unsupported_destinations() -> None:
    with pytest.raises(pxt.InvalidURIError, match="unknown scheme 'sftp'"):
        pxt.put(b"x", "sftp://host/x/")
    with pytest.raises(pxt.UnsupportedDestinationError, match="web address"):
        pxt.put(b"x", "https://example.com/uploads/")


def test_missing_optional_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gcsfs", None)  # as if pxfs[gcs] were not installed
    monkeypatch.delitem(sys.modules, "pxfs.storage._gcs", raising=False)
    with pytest.raises(pxt.MissingDependencyError) as e:
        pxt.put(b"x", "gs://bucket-name/x/")
    assert "pip install 'pxfs[gcs]'" in str(e.value) and "gs://bucket-name/x" in str(e.value)
    assert isinstance(e.value, ImportError)
