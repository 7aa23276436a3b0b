"""Errors users meet first: they name the URI and endpoint, say what to do, and come fast."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pxfs as pxt
from pxfs.env import Env
from pxfs.session import Session
from pxfs.storage import Storage, StorageConfig
from pxfs.storage._errors import exception_chain
from pxfs.testing import Azurite, GcsEmulator, HttpFileServer, MotoServer, SilentServer


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


# -- every public storage call: pxfs errors naming the URI, the provider's error chained ----


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_through_open(uri: str) -> None:
    with pxt.open(uri, "wb") as f:
        f.write(b"bytes that go out on close")


def assert_pxfs_error(e: pytest.ExceptionInfo[BaseException], *names: str) -> None:
    """A pxfs error naming each of `names`, with the provider's error chained (unless it is ours)."""
    assert isinstance(e.value, pxt.PxfsError), repr(e.value)
    for name in names:
        assert name in str(e.value), (name, str(e.value))
    cause = e.value.__cause__
    assert cause is not None and not isinstance(cause, pxt.PxfsError), repr(cause)


def s3_calls(uri: str) -> dict[str, Callable[[], object]]:
    storage = Session.default().storage
    return {
        "put": lambda: pxt.put(b"x", uri.rsplit("/", 1)[0] + "/"),
        "put_many": lambda: pxt.put_many([b"x", b"y"], uri.rsplit("/", 1)[0] + "/"),
        "open": lambda: pxt.open(uri),
        "open wb": lambda: write_through_open(uri),
        "info": lambda: storage.info(uri),
        "rm": lambda: storage.rm([uri]),
        "localpath": lambda: storage.localpath(uri),
        "check_writable": lambda: storage.check_writable(uri.rsplit("/", 1)[0] + "/"),
    }


@pytest.mark.parametrize("call", list(s3_calls("s3://b/k")))
def test_every_call_to_a_dead_s3_endpoint_is_unreachable(monkeypatch: pytest.MonkeyPatch, call: str) -> None:
    port = free_port()
    s3_env(monkeypatch, f"http://127.0.0.1:{port}")
    with pytest.raises(pxt.EndpointUnreachableError) as e:
        s3_calls("s3://dead-bucket/m/x.jpg")[call]()
    assert_pxfs_error(e, "s3://dead-bucket/m", f"127.0.0.1:{port}", "check that it is up")


@pytest.mark.parametrize("call", list(s3_calls("s3://b/k")))
def test_every_call_on_a_missing_s3_bucket_names_it(
    monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer, call: str
) -> None:
    s3_env(monkeypatch, moto_server.endpoint_url)
    try:
        s3_calls("s3://no-such-bucket-errors/m/x.jpg")[call]()
    except pxt.BucketNotFoundError as e:
        assert "bucket 'no-such-bucket-errors' does not exist" in str(e) and e.__cause__ is not None
    except pxt.ObjectNotFoundError as e:  # reads: S3 answers 404 for the object
        assert "s3://no-such-bucket-errors/m/x.jpg" in str(e) and e.__cause__ is not None
    else:
        assert call == "rm"  # removing what is not there is not an error


def test_writing_through_open_to_a_missing_bucket_or_container_names_it(
    monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer, gcs_emulator: GcsEmulator, azurite: Azurite
) -> None:
    """Remote files send their bytes on close: that is where the error shows, and it is ours."""
    s3_env(monkeypatch, moto_server.endpoint_url)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.endpoint_url)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    Env.reset()
    for uri, noun in [("s3://no-such-bucket-w/x.bin", "bucket"), ("gs://no-such-bucket-w/x.bin", "bucket"),
                      ("az://nosuchcontainerw/x.bin", "container")]:
        with pytest.raises(pxt.BucketNotFoundError) as e:
            write_through_open(uri)
        assert_pxfs_error(e, uri, f"{noun} '{uri.split('/')[2]}' does not exist")


def test_writing_through_open_to_a_dead_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    s3_env(monkeypatch, f"http://127.0.0.1:{port}")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    Env.reset()
    for uri in ("s3://some-bucket/x.bin", "gs://some-bucket/x.bin"):
        with pytest.raises(pxt.EndpointUnreachableError) as e:
            write_through_open(uri)
        assert_pxfs_error(e, uri, f"127.0.0.1:{port}")


def alias(home: Path, endpoint: str, extra: str = "") -> None:
    (home / "config.toml").write_text(
        f'[pxfs.schemes.minio]\ntype = "s3"\nendpoint_url = "{endpoint}"\n{extra}'
    )
    Env.reset()


def test_a_profile_that_does_not_exist(moto_server: MotoServer, _isolated_env: Path) -> None:
    import botocore.exceptions

    alias(_isolated_env, moto_server.endpoint_url, 'profile = "no-such-profile"\n')
    storage = Session.default().storage
    for call in (lambda: pxt.put(b"x", "minio://bucket-p/m/"), lambda: pxt.url("minio://bucket-p/x.jpg"),
                 lambda: storage.urls(["minio://bucket-p/x.jpg"]), lambda: storage.info("minio://bucket-p/x.jpg")):
        with pytest.raises(pxt.ConfigError) as e:
            call()
        assert_pxfs_error(e, "minio://bucket-p", "'no-such-profile'", "[pxfs.schemes.minio]")
        assert isinstance(e.value.__cause__, botocore.exceptions.ProfileNotFound)


def test_no_credentials_at_all(moto_server: MotoServer, _isolated_env: Path) -> None:
    import botocore.exceptions

    alias(_isolated_env, moto_server.endpoint_url)  # AWS_* unset, no AWS files
    storage = Session.default().storage
    for call in (lambda: pxt.put(b"x", "minio://bucket-c/m/"), lambda: pxt.url("minio://bucket-c/x.jpg"),
                 lambda: storage.urls(["minio://bucket-c/x.jpg", "minio://bucket-c/y.jpg"]),
                 lambda: storage.rm(["minio://bucket-c/x.jpg"])):
        with pytest.raises(pxt.AccessDeniedError) as e:
            call()
        assert_pxfs_error(e, "minio://bucket-c", "no AWS credentials found", "AWS_ACCESS_KEY_ID")
        assert isinstance(e.value.__cause__, botocore.exceptions.NoCredentialsError)


@pytest.mark.parametrize("extra,error", [
    ('client_kwargs = { region_name = "not a region!" }\n', "InvalidRegionError"),
    ("client_kwargs = { no_such_option = 1 }\n", "TypeError"),
    ("config_kwargs = { no_such_option = 1 }\n", "TypeError"),
])
def test_client_settings_botocore_refuses_are_config_errors(
    moto_server: MotoServer, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch, extra: str, error: str
) -> None:
    s3_env(monkeypatch, moto_server.endpoint_url)
    alias(_isolated_env, moto_server.endpoint_url, extra)
    calls: list[Callable[[], object]] = [lambda: pxt.put(b"x", "minio://bucket-s/m/"),
                                         lambda: pxt.url("minio://bucket-s/x.jpg")]
    for call in calls:
        with pytest.raises(pxt.ConfigError) as e:
            call()
        assert_pxfs_error(e, "minio://bucket-s", error, "[pxfs.schemes.minio]")


def test_an_endpoint_that_is_not_a_url(_isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s3_env(monkeypatch, "http://127.0.0.1:1")
    alias(_isolated_env, "not a url")
    with pytest.raises(pxt.ConfigError, match=r"minio://bucket-e/m: the endpoint 'not a url' .*\[pxfs.schemes.minio\]"):
        pxt.put(b"x", "minio://bucket-e/m/")


@pytest.mark.parametrize("expires_in", [-5, 0, 0.5, 8 * 86400, 10**12, float("nan"), float("inf"), "3600", None])
def test_presign_expiry_out_of_range(
    monkeypatch: pytest.MonkeyPatch, moto_server: MotoServer, expires_in: object
) -> None:
    s3_env(monkeypatch, moto_server.endpoint_url)
    storage = Session.default().storage
    for call in (lambda: pxt.url("s3://bucket-x/a.jpg", expires_in=expires_in),  # type: ignore[arg-type]
                 lambda: storage.urls(["s3://bucket-x/a.jpg"], expires_in=expires_in)):  # type: ignore[arg-type]
        with pytest.raises(pxt.DataError, match="s3://bucket-x/a.jpg: expires_in"):
            call()
    assert "X-Amz-Expires=604800" in pxt.url("s3://bucket-x/a.jpg", expires_in=7 * 86400)


def test_presign_expiry_on_azure_and_gcs(
    monkeypatch: pytest.MonkeyPatch, azurite: Azurite, gcs_emulator: GcsEmulator
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.endpoint_url)
    Env.reset()
    for uri, huge in [("az://c-expiry/a.jpg", 10**12), ("gs://bucket-x/a.jpg", 8 * 86400)]:
        for expires_in in (-1, huge, "x"):
            with pytest.raises(pxt.DataError, match=f"{uri}: expires_in"):
                pxt.url(uri, expires_in=expires_in)  # type: ignore[arg-type]
    assert pxt.url("az://c-expiry/a.jpg", expires_in=30 * 86400).startswith(azurite.blob_endpoint)


class OddS3(http.server.BaseHTTPRequestHandler):
    """An endpoint that answers every request with 400 and an error code no one knows,
    or (``garbage``) with bytes that are not HTTP."""

    garbage = False

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.garbage:
            self.wfile.write(b"this is not HTTP\r\n\r\n")
            return
        body = b"<Error><Code>PxfsUnusualCode</Code><Message>never seen before</Message></Error>"
        self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _answer  # noqa: N815 - http.server's names

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def odd_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[OddS3]]:
    handler = type("Handler", (OddS3,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    s3_env(monkeypatch, f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("PXFS_RETRIES", "0")
    Env.reset()
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_a_client_error_with_an_unusual_code(odd_s3: type[OddS3]) -> None:
    import botocore.exceptions

    storage = Session.default().storage
    # A HEAD (info) carries no body, so no code: the status is named instead.
    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: pxt.put(b"x", "s3://odd-bucket/m/"), "PxfsUnusualCode (never seen before)"),
        (lambda: pxt.open("s3://odd-bucket/m/a.jpg"), "PxfsUnusualCode"),
        (lambda: storage.info("s3://odd-bucket/m/a.jpg"), "400"),
    ]
    for call, shown in calls:
        with pytest.raises(pxt.StorageError) as e:
            call()
        assert_pxfs_error(e, "s3://odd-bucket/m", shown, "the endpoint refused the request")
        assert any(isinstance(c, botocore.exceptions.ClientError) for c in exception_chain(e.value))


def test_an_answer_that_is_not_http(odd_s3: type[OddS3]) -> None:
    odd_s3.garbage = True
    with pytest.raises(pxt.EndpointUnreachableError) as e:
        pxt.put(b"x", "s3://odd-bucket/m/")
    assert_pxfs_error(e, "s3://odd-bucket/m")


def test_botocore_parameter_errors_name_the_uri() -> None:
    """botocore's own validation (ParamValidationError), which pxfs's URI parser pre-empts
    for the names it accepts: still a StorageError naming the URI."""
    import botocore.exceptions

    from pxfs.storage import _s3

    loc = Session.default().storage.location("s3://param-bucket/k.jpg")
    err = _s3.translate(botocore.exceptions.ParamValidationError(report="bad Key"), loc, "upload to")
    assert isinstance(err, pxt.StorageError) and "s3://param-bucket/k.jpg" in str(err)
    assert "ParamValidationError" in str(err) and "bad Key" not in str(err)
    err = _s3.translate(botocore.exceptions.PartialCredentialsError(provider="env", cred_var="x"), loc, "read")
    assert isinstance(err, pxt.AccessDeniedError) and "s3://param-bucket/k.jpg" in str(err)


def test_local_sources_folders_and_web_addresses(tmp_path: Path, http_server: HttpFileServer) -> None:
    dest = str(tmp_path / "dest") + "/"
    with pytest.raises(pxt.ObjectNotFoundError, match="cannot read the source file://.*/missing.jpg"):
        pxt.put(str(tmp_path / "missing.jpg"), dest)
    with pytest.raises(pxt.StorageError, match="it is a folder") as e:
        pxt.put(str(tmp_path), dest)
    assert isinstance(e.value.__cause__, IsADirectoryError)
    with pytest.raises(pxt.StorageError, match=f"cannot delete file://{tmp_path}: it is a folder"):
        Session.default().storage.rm([str(tmp_path)])
    with pytest.raises(pxt.UnsupportedDestinationError):
        Session.default().storage.rm([http_server.url_for("a.jpg")])
    with pytest.raises(pxt.InvalidURIError, match="type int"):
        pxt.put(5, dest)  # type: ignore[arg-type]
    results = Session.default().storage.put_many([b"ok", None], dest, return_exceptions=True)  # type: ignore[list-item]
    assert isinstance(results[1], pxt.InvalidURIError) and results[0].uri.startswith("file://")
    with pytest.raises(pxt.InvalidURIError, match="'a/../b' under file://"):
        Session.default().storage.put(b"x", dest, name="a/../b")


def test_an_unusable_cache_folder_names_the_uri(tmp_path: Path, http_server: HttpFileServer) -> None:
    (tmp_path / "a.jpg").write_bytes(b"jpeg")
    (tmp_path / "not-a-folder").write_text("")
    storage = Storage(StorageConfig(cache_dir=tmp_path / "not-a-folder" / "cache"))
    with pytest.raises(pxt.StorageError) as e:
        storage.localpath(http_server.url_for("a.jpg"))
    assert_pxfs_error(e, http_server.url_for("a.jpg"), "writable")


def test_a_silent_web_source_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_REQUEST_TIMEOUT", "1")
    Env.reset()
    with SilentServer() as silent:
        url = f"{silent.endpoint_url}/a.jpg"
        with pytest.raises(pxt.EndpointTimeoutError) as e:
            pxt.put(url, str(tmp_path) + "/")
    assert_pxfs_error(e, url, "request_timeout")


def test_azure_key_that_is_not_base64(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = "not-base64-at-all!"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string.replace(azurite.account_key, bad))
    Env.reset()
    with pytest.raises(pxt.ConfigError, match="az://c-key/a.jpg: the account key .* is not valid base64") as e:
        pxt.url("az://c-key/a.jpg")
    assert bad not in str(e.value)
    with pytest.raises(pxt.AccessDeniedError) as e2:
        pxt.put(b"x", "az://c-key/m/")
    assert "az://c-key/m" in str(e2.value) and "(None)" not in str(e2.value) and bad not in str(e2.value)


def test_gcs_credentials_file_that_is_not_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "key.json").write_text("not json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "key.json"))
    Env.reset()
    with pytest.raises(pxt.ConfigError, match=f"gs://bucket-j/m: the credentials in credentials file {tmp_path}"):
        pxt.put(b"x", "gs://bucket-j/m/")
