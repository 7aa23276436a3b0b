"""Tests of pxfs.testing: the emulator launchers and the small in-process servers."""

from __future__ import annotations

import os
import socket
import stat
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import pxfs.testing
from pxfs.testing import Azurite, GcsEmulator, HttpFileServer, MotoServer, SilentServer

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with _NO_PROXY.open(req, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(), dict(exc.headers)


def _assert_port_free(port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))  # nobody listens on it any more


def test_public_api() -> None:
    assert pxfs.testing.__all__ == sorted(pxfs.testing.__all__)
    assert set(pxfs.testing.__all__) == {
        "Azurite",
        "GcsEmulator",
        "HttpFileServer",
        "MotoServer",
        "S3rver",
        "SilentServer",
    }


def test_isolated_environment() -> None:
    home = Path(os.environ["PXFS_HOME"])
    assert home.is_dir() and not any(home.iterdir())
    assert not Path(os.environ["AWS_CONFIG_FILE"]).exists()
    assert not Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).exists()
    for name in os.environ:
        assert not name.startswith("AZURE_"), name
    assert "AWS_ACCESS_KEY_ID" not in os.environ
    assert "STORAGE_EMULATOR_HOST" not in os.environ
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in os.environ


# -- S3 (moto) ------------------------------------------------------------------------


@pytest.mark.emulator
def test_moto_bucket_visible_to_s3fs(moto_server: MotoServer) -> None:
    import s3fs

    assert moto_server.running
    assert moto_server.endpoint_url == f"http://127.0.0.1:{moto_server.port}"
    assert moto_server.endpoint_url in repr(moto_server)
    moto_server.create_bucket("pxfs-testing-s3")
    moto_server.create_bucket("pxfs-testing-s3")  # idempotent
    fs = s3fs.S3FileSystem(
        key="testing",
        secret="testing",
        endpoint_url=moto_server.endpoint_url,
        skip_instance_cache=True,
    )
    assert fs.exists("pxfs-testing-s3")
    fs.pipe("pxfs-testing-s3/a/b.bin", b"hello")
    assert fs.cat("pxfs-testing-s3/a/b.bin") == b"hello"
    assert not fs.exists("pxfs-testing-missing")


@pytest.mark.emulator
def test_moto_rejects_bad_bucket_name(moto_server: MotoServer) -> None:
    with pytest.raises(RuntimeError, match="InvalidBucketName"):
        moto_server.create_bucket("x")


# -- Azure (Azurite) ------------------------------------------------------------------


@pytest.mark.emulator
def test_azurite_container_visible_to_adlfs(azurite: Azurite) -> None:
    import adlfs

    assert azurite.blob_endpoint == f"http://127.0.0.1:{azurite.port}/devstoreaccount1"
    assert azurite.account_name == "devstoreaccount1"
    assert f"BlobEndpoint={azurite.blob_endpoint};" in azurite.connection_string
    assert f"AccountKey={azurite.account_key};" in azurite.connection_string
    assert azurite.blob_endpoint in repr(azurite)
    azurite.create_container("pxfs-testing-az")
    azurite.create_container("pxfs-testing-az")  # idempotent
    fs = adlfs.AzureBlobFileSystem(
        connection_string=azurite.connection_string, skip_instance_cache=True
    )
    assert fs.exists("pxfs-testing-az")
    fs.pipe("pxfs-testing-az/a/b.bin", b"hello")
    assert fs.cat("pxfs-testing-az/a/b.bin") == b"hello"
    assert not fs.exists("pxfs-testing-missing")


def test_azurite_missing_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PXFS_AZURITE", str(tmp_path / "nope"))
    with pytest.raises(RuntimeError, match="PXFS_AZURITE"):
        Azurite()
    monkeypatch.delenv("PXFS_AZURITE")
    monkeypatch.setattr("pxfs.testing._npm.tools_candidates", lambda command: [])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"npm install --prefix \.tools azurite@3\.35\.0"):
        Azurite()


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_launcher_reports_early_exit_with_log(tmp_path: Path) -> None:
    exe = _script(tmp_path / "fake-azurite", "echo 'boom: cannot start' >&2\nexit 3\n")
    server = Azurite(exe, startup_timeout=10)
    with pytest.raises(RuntimeError, match="exited before it was ready") as info:
        server.start()
    assert "boom: cannot start" in str(info.value)
    assert not server.running and "stopped" in repr(server)


def test_launcher_times_out_and_kills_process(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    exe = _script(tmp_path / "slow-azurite", f"echo $$ > {pidfile}\nexec sleep 60\n")
    server = Azurite(exe, startup_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="did not answer within 0.5 s"):
        server.start()
    assert time.monotonic() - started < 10
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# -- GCS (gcp-storage-emulator) -------------------------------------------------------


@pytest.mark.emulator
def test_gcs_bucket_visible_to_gcsfs(gcs_emulator: GcsEmulator) -> None:
    from gcsfs.core import GCSFileSystem

    assert gcs_emulator.endpoint_url == f"http://127.0.0.1:{gcs_emulator.port}"
    assert gcs_emulator.endpoint_url in repr(gcs_emulator)
    gcs_emulator.create_bucket("pxfs-testing-gcs")
    gcs_emulator.create_bucket("pxfs-testing-gcs")  # idempotent
    status, body, _ = _get(f"{gcs_emulator.endpoint_url}/storage/v1/b/pxfs-testing-gcs")
    assert status == 200, body
    fs = GCSFileSystem(
        endpoint_url=gcs_emulator.endpoint_url,
        token="anon",
        project="test",
        skip_instance_cache=True,
    )
    assert fs.exists("pxfs-testing-gcs")
    fs.pipe("pxfs-testing-gcs/a/b.bin", b"hello")
    assert fs.cat("pxfs-testing-gcs/a/b.bin") == b"hello"
    assert not fs.exists("pxfs-testing-missing")


# -- start / reset / stop of private instances ----------------------------------------


@pytest.mark.emulator
def test_moto_reset_and_stop_frees_port() -> None:
    server = MotoServer()
    assert "stopped" in repr(server)
    with server:
        server.create_bucket("pxfs-reset")
        status, body, _ = _get(server.endpoint_url + "/")
        assert b"<Name>pxfs-reset</Name>" in body
        server.reset()
        status, body, _ = _get(server.endpoint_url + "/")
        assert status == 200 and b"pxfs-reset" not in body
        port = server.port
    assert not server.running
    with pytest.raises(RuntimeError, match="not running"):
        server.endpoint_url  # noqa: B018
    _assert_port_free(port)


@pytest.mark.emulator
def test_gcs_reset_and_stop_frees_port() -> None:
    with GcsEmulator() as server:
        server.create_bucket("pxfs-reset")
        assert _get(server.endpoint_url + "/storage/v1/b/pxfs-reset")[0] == 200
        server.reset()
        assert _get(server.endpoint_url + "/storage/v1/b/pxfs-reset")[0] == 404
        port = server.port
    _assert_port_free(port)


@pytest.mark.emulator
def test_azurite_stop_frees_port() -> None:
    server = Azurite().start()
    try:
        port = server.port
        assert server.start() is server  # starting twice is a no-op
        assert server.port == port
    finally:
        server.stop()
    server.stop()  # stopping twice is harmless
    _assert_port_free(port)


# -- HttpFileServer --------------------------------------------------------------------


def test_http_server_serves_identical_bytes(http_server: HttpFileServer, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    (tmp_path / "sub dir").mkdir()
    target = tmp_path / "sub dir" / "a b.bin"
    target.write_bytes(data)
    url = http_server.url_for("sub dir/a b.bin")
    assert url == f"{http_server.url}/sub%20dir/a%20b.bin"
    assert http_server.url_for(target) == url
    assert http_server.url in repr(http_server)
    status, body, _ = _get(url)
    assert status == 200 and body == data
    assert _get(http_server.url_for("missing.bin"))[0] == 404


def test_http_server_byte_ranges(http_server: HttpFileServer, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    (tmp_path / "r.bin").write_bytes(data)
    url = http_server.url_for("r.bin")
    status, body, headers = _get(url, {"Range": "bytes=10-19"})
    assert status == 206 and body == data[10:20]
    assert headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert _get(url, {"Range": "bytes=-5"})[1] == data[-5:]
    assert _get(url, {"Range": f"bytes={len(data) - 3}-"})[1] == data[-3:]
    assert _get(url, {"Range": f"bytes={len(data)}-"})[0] == 416


def test_http_server_with_fsspec(http_server: HttpFileServer, tmp_path: Path) -> None:
    import fsspec

    data = os.urandom(50_000)
    (tmp_path / "f.bin").write_bytes(data)
    fs = fsspec.filesystem("http", skip_instance_cache=True)
    with fs.open(http_server.url_for("f.bin"), "rb", block_size=4096) as f:
        f.seek(10_000)
        assert f.read(5000) == data[10_000:15_000]
    assert fs.cat(http_server.url_for("f.bin")) == data


def test_http_server_stop_frees_port(tmp_path: Path) -> None:
    with HttpFileServer(tmp_path) as server:
        port = server.port
    _assert_port_free(port)
    with pytest.raises(NotADirectoryError):
        HttpFileServer(tmp_path / "missing").start()


# -- SilentServer ----------------------------------------------------------------------


def test_silent_server_accepts_and_never_answers() -> None:
    with SilentServer() as server:
        assert server.endpoint_url == f"http://127.0.0.1:{server.port}"
        assert server.endpoint_url in repr(server)
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            conn.settimeout(0.3)
            with pytest.raises(TimeoutError):
                conn.recv(1)
        deadline = time.monotonic() + 5
        while server.connections < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.connections >= 1
        with pytest.raises(TimeoutError):
            _NO_PROXY.open(server.endpoint_url + "/x", timeout=0.3)
        port = server.port
    assert "stopped" in repr(server)
    _assert_port_free(port)
