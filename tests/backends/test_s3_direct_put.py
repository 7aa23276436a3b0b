"""S3 uploads by pxfs's own PutObject requests (pxfs/storage/_s3put.py), against moto.

moto accepts any signature, so two kinds of test:

- on the wire (moto's request recorder): one PUT per object, the first by botocore and
  the rest by pxfs, carrying the profile's key id; bytes and Content-Type arrive; errors
  and fallbacks behave as they do through s3fs;
- the signature itself, against botocore's signer for the same request, for path-style
  and virtual-hosted endpoints, other regions, session tokens and unsigned payloads.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pxfs.env import Env
from pxfs.errors import BucketNotFoundError, EndpointUnreachableError
from pxfs.storage import Storage
from pxfs.storage._s3put import _Signer
from pxfs.testing import MotoServer

from .test_s3 import PROFILES, configure

OPENER = urllib.request.build_opener(  # our own servers: no proxy, their certificates are ours
    urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ssl._create_unverified_context())
)


class RecordingMoto(MotoServer):
    """A moto_server of this test's own, recording every request into a file."""

    def __init__(self, recording: Path, tls: tuple[str, str] | None = None) -> None:
        super().__init__(tls=tls)
        self.recording = recording

    def _environ(self) -> dict[str, str]:
        env = super()._environ()
        env["MOTO_RECORDER_FILEPATH"] = str(self.recording)
        return env

    def start_recording(self) -> None:
        self.recording.write_text("")
        OPENER.open(urllib.request.Request(f"{self.endpoint_url}/moto-api/recorder/start-recording", method="POST"))

    def puts(self) -> list[dict[str, Any]]:
        """The PUTs recorded so far, object uploads only."""
        entries = [json.loads(line) for line in self.recording.read_text().splitlines() if line]
        return [e for e in entries if e["method"] == "PUT"]


@pytest.fixture
def moto(tmp_path: Path) -> Iterator[RecordingMoto]:
    with RecordingMoto(tmp_path / "recording.jsonl") as server:
        server.create_bucket("direct")
        yield server


@pytest.fixture
def storage(moto: RecordingMoto, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Storage:
    return configure("s3", moto.endpoint_url, _isolated_env, monkeypatch)


def images(folder: Path, n: int) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"img{i}.jpg"
        p.write_bytes(b"\xff\xd8\xff\xe0" + hashlib.sha256(str(i).encode()).digest() * 100 + bytes([i]))
        paths.append(p)
    return paths


def by_botocore(entry: dict[str, Any]) -> bool:
    return "Botocore" in entry["headers"].get("User-Agent", "")


def test_one_put_per_object_and_all_but_the_first_without_botocore(
    moto: RecordingMoto, storage: Storage, tmp_path: Path
) -> None:
    sources = images(tmp_path / "src", 20)
    moto.start_recording()
    stored = storage.put_many(sources, "s3://direct/media/")
    puts = moto.puts()
    assert len(puts) == 20  # one request per object, none retried, no probe
    assert sum(by_botocore(e) for e in puts) == 1
    for entry in puts:
        auth = entry["headers"]["Authorization"]
        assert f"Credential={PROFILES['s3']}/" in auth  # the profile's key, as botocore would use
        assert "Expect" not in entry["headers"]
    fs = storage.filesystem(storage.location("s3://direct/"))
    for src, s in zip(sources, stored):
        loc = storage.location(s.uri)
        assert fs.cat_file(loc.path) == src.read_bytes()
        assert fs.info(loc.path)["ContentType"] == "image/jpeg"
        assert s.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()


def test_https_with_botocores_ca_bundle(
    tmp_path: Path, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over TLS, pxfs's requests verify the server as botocore does (here: AWS_CA_BUNDLE)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile, cafile = (str(tmp_path / n) for n in ("cert.pem", "key.pem", "ca.pem"))
    cert.cert_chain_pems[0].write_to_path(certfile)
    cert.private_key_pem.write_to_path(keyfile)
    ca.cert_pem.write_to_path(cafile)
    sources = images(tmp_path / "src", 12)
    with RecordingMoto(tmp_path / "recording.jsonl", tls=(certfile, keyfile)) as moto:
        assert moto.endpoint_url.startswith("https://")
        moto.create_bucket("direct")
        monkeypatch.setenv("AWS_CA_BUNDLE", cafile)
        storage = configure("s3", moto.endpoint_url, _isolated_env, monkeypatch)
        moto.start_recording()
        stored = storage.put_many(sources, "s3://direct/tls/")
        puts = moto.puts()
        assert len(puts) == 12 and sum(by_botocore(e) for e in puts) == 1
        fs = storage.filesystem(storage.location("s3://direct/"))
        assert [fs.cat_file(storage.location(s.uri).path) for s in stored] == [p.read_bytes() for p in sources]


def test_later_batches_skip_botocore_entirely(moto: RecordingMoto, storage: Storage, tmp_path: Path) -> None:
    sources = images(tmp_path / "src", 10)
    storage.put_many(sources[:2], "s3://direct/a/")
    moto.start_recording()
    storage.put_many(sources, "s3://direct/b/")
    puts = moto.puts()
    assert len(puts) == 10 and not any(by_botocore(e) for e in puts)


def test_disabled_by_setting_sends_everything_through_botocore(
    moto: RecordingMoto, storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PXFS_S3_DIRECT_PUT", "false")
    storage = Env.reset().storage
    moto.start_recording()
    storage.put_many(images(tmp_path / "src", 5), "s3://direct/off/")
    puts = moto.puts()
    assert len(puts) == 5 and all(by_botocore(e) for e in puts)


def test_keys_outside_the_plain_alphabet_go_through_botocore(
    moto: RecordingMoto, storage: Storage, tmp_path: Path
) -> None:
    sources = images(tmp_path / "src", 4)
    storage.put_many(sources[:1], "s3://direct/warm/")
    moto.start_recording()
    stored = storage.put_many(sources, "s3://direct/odd/", name_prefixes="a b+c=é/")
    puts = moto.puts()
    assert len(puts) == 4 and all(by_botocore(e) for e in puts)
    fs = storage.filesystem(storage.location("s3://direct/"))
    assert [fs.cat_file(storage.location(s.uri).path) for s in stored] == [p.read_bytes() for p in sources]


def test_missing_bucket_after_calibration_names_it(moto: RecordingMoto, storage: Storage, tmp_path: Path) -> None:
    sources = images(tmp_path / "src", 3)
    storage.put_many(sources[:1], "s3://direct/x/")
    moto.reset()  # the bucket is gone; the next objects take pxfs's path
    with pytest.raises(BucketNotFoundError, match="'direct' does not exist"):
        storage.put_many(sources, "s3://direct/x/")


def test_dead_endpoint_after_calibration_fails_fast(moto: RecordingMoto, storage: Storage, tmp_path: Path) -> None:
    sources = images(tmp_path / "src", 3)
    storage.put_many(sources[:1], "s3://direct/x/")
    endpoint = moto.endpoint_url
    moto.stop()
    t0 = time.monotonic()
    with pytest.raises(EndpointUnreachableError, match=endpoint):
        storage.put_many(sources[1:], "s3://direct/x/")
    assert time.monotonic() - t0 < 15


# -- the signature, against botocore's ------------------------------------------------


class _Captured(Exception):
    pass


def botocore_put(endpoint: str | None, region: str, key: str, body: bytes, *, token: str | None = None,
                 path_style: bool = True, content_type: str | None = "image/jpeg",
                 payload_signing: bool | None = None) -> tuple[str, dict[str, str]]:
    """The PutObject request botocore signs (captured before it is sent)."""
    import botocore.session
    from botocore.config import Config

    session = botocore.session.get_session()
    s3: dict[str, Any] = {"addressing_style": "path" if path_style else "virtual"}
    if payload_signing is not None:
        s3["payload_signing_enabled"] = payload_signing
    client = session.create_client(
        "s3", region_name=region, endpoint_url=endpoint, aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", aws_session_token=token,
        config=Config(signature_version="s3v4", s3=s3, request_checksum_calculation="when_required"),
    )
    box: list[tuple[str, dict[str, str]]] = []

    def capture(request: Any, **_: Any) -> None:
        box.append((request.url, {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}))
        raise _Captured

    client.meta.events.register("before-send.s3.PutObject", capture)
    kwargs = {"ContentType": content_type} if content_type else {}
    with pytest.raises(_Captured):
        client.put_object(Bucket="my-bucket", Key=key, Body=body, **kwargs)
    return box[0]


@pytest.mark.parametrize("endpoint,region,path_style,token,payload_signing", [
    ("http://127.0.0.1:9000", "us-east-1", True, None, None),
    ("http://127.0.0.1:9000", "us-east-1", True, "FwoGZXIvYXdzEXAMPLETOKEN", None),
    (None, "eu-west-1", False, None, None),  # https, virtual-hosted, default endpoint
    (None, "eu-west-1", False, "FwoGZXIvYXdzEXAMPLETOKEN", True),
    ("https://acct.r2.cloudflarestorage.com", "auto", True, None, None),
])
def test_signature_equals_botocores(
    endpoint: str | None, region: str, path_style: bool, token: str | None, payload_signing: bool | None
) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    first = b"first object"
    url, headers = botocore_put(endpoint, region, "media/0a1b.jpg", first, token=token,
                                path_style=path_style, payload_signing=payload_signing)
    signer = _Signer.from_request(url, headers, "my-bucket", "media/0a1b.jpg", first, secret)

    # Another key, body, content type and second: the same headers as botocore's.
    time.sleep(1.1)
    body = b"second object" * 100
    for key, ctype in [("media/ff00.png", "image/png"), ("p/q/r_s-t~u.v.webp", None)]:
        url2, theirs = botocore_put(endpoint, region, key, body, token=token, path_style=path_style,
                                    content_type=ctype, payload_signing=payload_signing)
        payload = theirs["X-Amz-Content-SHA256"]
        assert payload in ("UNSIGNED-PAYLOAD", hashlib.sha256(body).hexdigest())
        ours = signer.sign(key, payload, ctype, theirs["X-Amz-Date"])
        assert url2 == f"{signer.scheme}://{signer.netloc}{signer.path(key)}"
        assert ours["Authorization"] == theirs["Authorization"]
        for name in ("X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token", "Content-Type"):
            assert ours.get(name) == theirs.get(name)


def test_a_request_we_would_sign_differently_is_refused() -> None:
    url, headers = botocore_put("http://127.0.0.1:9000", "us-east-1", "k.jpg", b"x")
    with pytest.raises(ValueError, match="differs"):
        _Signer.from_request(url, headers, "my-bucket", "k.jpg", b"x", "another secret")
    headers = dict(headers, Authorization=headers["Authorization"].replace(
        "SignedHeaders=", "SignedHeaders=content-md5;"))
    with pytest.raises(ValueError, match="do not reproduce"):
        _Signer.from_request(url, headers, "my-bucket", "k.jpg", b"x", "secret")


# -- retries and refusals, which moto never produces -------------------------------------


class PickyS3(http.server.BaseHTTPRequestHandler):
    """A PutObject-only S3 endpoint that misbehaves on purpose (moto cannot): the first PUT
    of every key gets ``503 SlowDown``; with ``refuse_pxfs``, any PUT not sent by botocore
    gets ``403 SignatureDoesNotMatch``. Stored bodies and the requests seen are kept."""

    refuse_pxfs = False
    stored: dict[str, bytes]
    seen: list[tuple[str, bool, int]]  # (path, sent by botocore, status)
    lock = threading.Lock()

    def do_PUT(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        botocore = "Botocore" in self.headers.get("User-Agent", "")
        with self.lock:
            if self.refuse_pxfs and not botocore:
                status, code = 403, "SignatureDoesNotMatch"
            elif not any(p == self.path for p, _, s in self.seen if s == 503):
                status, code = 503, "SlowDown"
            else:
                status, code = 200, ""
                self.stored[self.path] = body
            self.seen.append((self.path, botocore, status))
        payload = f"<Error><Code>{code}</Code><Message>on purpose</Message></Error>".encode() if code else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        if status == 200:
            self.send_header("ETag", '"0"')
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def picky(_isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[PickyS3]]:
    handler = type("Handler", (PickyS3,), {"stored": {}, "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPICKY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("PXFS_S3_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("PXFS_RETRIES", "1")
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_throttled_puts_are_retried_by_pxfs_too(picky: type[PickyS3]) -> None:
    blobs = [f"object {i}".encode() * 50 for i in range(12)]
    stored = Env.reset().storage.put_many(blobs, "s3://picky/t/", concurrency=4)
    assert sorted(picky.stored.values()) == sorted(blobs)
    assert all(picky.stored[f"/picky/t/{s.uri.rsplit('/', 1)[1]}"] == b for s, b in zip(stored, blobs))
    by_path: dict[str, list[int]] = {}
    for path, _, status in picky.seen:
        by_path.setdefault(path, []).append(status)
    assert all(statuses == [503, 200] for statuses in by_path.values())  # exactly one retry each
    assert sum(1 for _, botocore, _ in picky.seen if not botocore) >= 2 * (len(blobs) - 4)


def test_a_refused_signature_falls_back_to_botocore(picky: type[PickyS3]) -> None:
    picky.refuse_pxfs = True
    blobs = [f"object {i}".encode() * 50 for i in range(8)]
    Env.reset().storage.put_many(blobs, "s3://picky/r/", concurrency=2)
    assert sorted(picky.stored.values()) == sorted(blobs)
    refused = [p for p, botocore, status in picky.seen if status == 403]
    assert refused and not any(botocore for _, botocore, status in picky.seen if status == 403)
    for path in refused:  # each refused object was then stored through botocore
        assert any(p == path and botocore and s == 200 for p, botocore, s in picky.seen)
