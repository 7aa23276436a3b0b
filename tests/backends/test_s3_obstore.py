"""S3 uploads and presigned URLs by obstore (pxfs/storage/_s3store.py), against moto and
small misbehaving endpoints on 127.0.0.1.

moto accepts any signature (tests/backends/test_s3rver.py checks them against s3rver), so
these tests look at the wire (moto's request recorder): one PUT per object, sent by obstore
with the profile's key id; bytes and Content-Type arrive; and what moto never answers
(503 SlowDown, 403, a 301/307 redirect, 400 ExpiredToken) ends as botocore would end it.
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
from urllib.parse import parse_qs, urlsplit

import pytest

from pxfs.env import Env
from pxfs.session import Session
from pxfs.errors import AccessDeniedError, BucketNotFoundError, EndpointUnreachableError, StorageError
from pxfs.storage import Storage
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


def by_obstore(entry: dict[str, Any]) -> bool:
    return "object_store" in entry["headers"].get("User-Agent", "")


def test_one_put_per_object_all_by_obstore(
    moto: RecordingMoto, storage: Storage, tmp_path: Path
) -> None:
    sources = images(tmp_path / "src", 20)
    moto.start_recording()
    stored = storage.put_many(sources, "s3://direct/media/")
    puts = moto.puts()
    assert len(puts) == 20  # one request per object, none retried, no probe
    assert all(by_obstore(e) for e in puts)
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
    """Over TLS, obstore verifies the server with botocore's CA bundle (here: AWS_CA_BUNDLE)."""
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
        assert len(puts) == 12 and all(by_obstore(e) for e in puts)
        url = storage.url(stored[0].uri)
        assert OPENER.open(url).read() == sources[0].read_bytes()
        fs = storage.filesystem(storage.location("s3://direct/"))
        assert [fs.cat_file(storage.location(s.uri).path) for s in stored] == [p.read_bytes() for p in sources]


def test_uploads_and_urls_build_no_s3fs_client(moto: RecordingMoto, storage: Storage, tmp_path: Path) -> None:
    """obstore's paths need no botocore client (its service model costs RSS and start-up)."""
    stored = storage.put_many(images(tmp_path / "src", 3), "s3://direct/lean/")
    storage.urls([s.uri for s in stored])
    storage.check_writable("s3://direct/lean/")
    assert not storage._filesystems  # noqa: SLF001 - what was built, not how
    assert storage.exists(stored[0].uri) and storage._filesystems  # noqa: SLF001 - reads use s3fs


def test_presigned_urls_by_obstore_are_fetched_by_plain_get(
    moto: RecordingMoto, storage: Storage, tmp_path: Path
) -> None:
    sources = images(tmp_path / "src", 3)
    stored = storage.put_many(sources, "s3://direct/u/", name_prefixes=["a b/", "é+=/", ""])
    urls = storage.urls([s.uri for s in stored] + [None], expires_in=600)
    assert urls[-1] is None
    for src, url in zip(sources, urls):
        assert url is not None and "X-Amz-Expires=600" in url and f"X-Amz-Credential={PROFILES['s3']}%2F" in url
        assert OPENER.open(url).read() == src.read_bytes()


def test_disabled_by_setting_sends_everything_through_s3fs(
    moto: RecordingMoto, storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PXFS_S3_DIRECT_PUT", "false")
    storage = Session.reset_default().storage
    moto.start_recording()
    storage.put_many(images(tmp_path / "src", 5), "s3://direct/off/")
    puts = moto.puts()
    assert len(puts) == 5 and all(by_botocore(e) for e in puts)
    url = storage.url(storage.location("s3://direct/off/x.jpg"))
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url  # botocore's SigV4, not SigV2


def test_keys_obstore_would_reencode_go_through_s3fs(moto: RecordingMoto, storage: Storage, tmp_path: Path) -> None:
    sources = images(tmp_path / "src", 4)
    moto.start_recording()
    stored = storage.put_many(sources[:2], "s3://direct/odd/", name_prefixes="a b+c=é/")
    stored += storage.put_many(sources[2:], "s3://direct/odd/", name_prefixes="100%/")
    puts = moto.puts()
    assert len(puts) == 4 and [by_obstore(e) for e in puts].count(True) == 2
    fs = storage.filesystem(storage.location("s3://direct/"))
    assert [fs.cat_file(storage.location(s.uri).path) for s in stored] == [p.read_bytes() for p in sources]
    assert [OPENER.open(u).read() for u in storage.urls([s.uri for s in stored])] == [p.read_bytes() for p in sources]


def test_missing_bucket_names_it(moto: RecordingMoto, storage: Storage, tmp_path: Path) -> None:
    sources = images(tmp_path / "src", 3)
    storage.put_many(sources[:1], "s3://direct/x/")
    moto.reset()  # the bucket is gone: obstore's 404
    with pytest.raises(BucketNotFoundError, match="'direct' does not exist"):
        storage.put_many(sources, "s3://direct/x/")


def test_dead_endpoint_fails_fast(moto: RecordingMoto, storage: Storage, tmp_path: Path) -> None:
    sources = images(tmp_path / "src", 3)
    storage.put_many(sources[:1], "s3://direct/x/")
    endpoint = moto.endpoint_url
    moto.stop()
    t0 = time.monotonic()
    with pytest.raises(EndpointUnreachableError, match=endpoint):
        storage.put_many(sources[1:], "s3://direct/x/")
    assert time.monotonic() - t0 < 15


# -- retries and refusals, which moto never produces -------------------------------------


class PickyS3(http.server.BaseHTTPRequestHandler):
    """A PutObject-only S3 endpoint that misbehaves on purpose (moto cannot). ``mode``:

    - ``slowdown``: the first PUT of every key gets ``503 SlowDown``;
    - ``refuse``: a PUT not sent by botocore gets ``403 SignatureDoesNotMatch``;
    - ``expired`` / ``expired_obstore``: ``400 ExpiredToken`` for every PUT / obstore's only;
    - ``redirect301`` / ``redirect307``: a redirect to ``target`` (moto) with S3's error body;
    - ``verify``: the SigV4 signature is recomputed with botocore's signer from ``secret`` and
      the request's own signed headers; a mismatch gets ``403 SignatureDoesNotMatch``.

    Stored bodies and the requests seen (path, sent by botocore, status) are kept.
    """

    mode = "slowdown"
    target = ""
    endpoint = ""
    secret = "secret"
    stored: dict[str, bytes]
    seen: list[tuple[str, bool, int]]
    lock = threading.Lock()

    def do_PUT(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        botocore = "Botocore" in self.headers.get("User-Agent", "")
        headers: dict[str, str] = {}
        with self.lock:
            if self.mode == "refuse" and not botocore:
                status, code = 403, "SignatureDoesNotMatch"
            elif self.mode == "verify" and not self.signature_matches(body):
                status, code = 403, "SignatureDoesNotMatch"
            elif self.mode == "expired" or (self.mode == "expired_obstore" and not botocore):
                status, code = 400, "ExpiredToken"
            elif self.mode.startswith("redirect"):
                status = int(self.mode[-3:])
                code = "PermanentRedirect" if status == 301 else "TemporaryRedirect"
                headers = {"Location": self.target + self.path, "x-amz-bucket-region": "us-east-1"}
            elif self.mode == "slowdown" and not any(p == self.path for p, _, s in self.seen if s == 503):
                status, code = 503, "SlowDown"
            else:
                status, code = 200, ""
                self.stored[self.path] = body
            self.seen.append((self.path, botocore, status))
        payload = f"<Error><Code>{code}</Code><Message>on purpose</Message></Error>".encode() if code else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        if status == 200:
            self.send_header("ETag", '"0"')
        self.end_headers()
        self.wfile.write(payload)

    def signature_matches(self, body: bytes) -> bool:
        """Whether the Authorization header is botocore's SigV4 for this request and ``secret``."""
        import re

        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        auth = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/([^/]+)/s3/aws4_request, "
                            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", self.headers.get("Authorization", ""))
        if auth is None:
            return False
        key_id, region, signed, signature = auth.groups()
        request = AWSRequest(method="PUT", url=f"http://{self.headers['Host']}{self.path}",
                             headers={h: self.headers[h] for h in signed.split(";")}, data=body)
        request.context["timestamp"] = self.headers["X-Amz-Date"]
        signer = S3SigV4Auth(Credentials(key_id, self.secret), "s3", region)
        return bool(signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
                    == signature)

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
    handler.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("PXFS_S3_ENDPOINT_URL", handler.endpoint)
    monkeypatch.setenv("PXFS_RETRIES", "1")
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_throttled_puts_are_retried_once_by_obstore(picky: type[PickyS3]) -> None:
    blobs = [f"object {i}".encode() * 50 for i in range(12)]
    stored = Session.reset_default().storage.put_many(blobs, "s3://picky/t/", concurrency=4)
    assert sorted(picky.stored.values()) == sorted(blobs)
    assert all(picky.stored[f"/picky/t/{s.uri.rsplit('/', 1)[1]}"] == b for s, b in zip(stored, blobs))
    by_path: dict[str, list[int]] = {}
    for path, botocore, status in picky.seen:
        by_path.setdefault(path, []).append(status)
        assert not botocore  # obstore's own retry (RetryConfig), no second layer
    assert all(statuses == [503, 200] for statuses in by_path.values())  # exactly one retry each


def test_obstores_signatures_are_botocores(picky: type[PickyS3], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every PUT is checked against botocore's SigV4 signer: obstore's pass (one request per
    object, none by botocore); with another secret, obstore's and then botocore's are refused."""
    picky.mode = "verify"
    blobs = [f"object {i}".encode() * 50 for i in range(6)]
    Session.reset_default().storage.put_many(blobs, "s3://picky/v/", name_prefixes="a b+c=é/")
    assert sorted(picky.stored.values()) == sorted(blobs)
    assert [(botocore, status) for _, botocore, status in picky.seen] == [(False, 200)] * len(blobs)
    picky.seen.clear()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "another-secret")
    with pytest.raises(AccessDeniedError, match="SignatureDoesNotMatch"):
        Session.reset_default().storage.put_many(blobs[:1], "s3://picky/w/")
    assert {(botocore, status) for _, botocore, status in picky.seen} == {(False, 403), (True, 403)}


def test_presigned_urls_are_botocores(picky: type[PickyS3]) -> None:
    """obstore's presigned GET URL carries the signature botocore computes for the same second."""
    import botocore.session
    from botocore.config import Config

    storage = Session.reset_default().storage
    client = botocore.session.get_session().create_client(
        "s3", endpoint_url=picky.endpoint, region_name="us-east-1", config=Config(signature_version="s3v4"))
    for key in ["plain.jpg", "with space.jpg", "ünï+cödé.png", "deep/er/path.bin"]:
        for _ in range(5):  # both signed within one second
            ours = storage.url(f"s3://picky/m/{key}", expires_in=300)
            theirs = client.generate_presigned_url("get_object", Params={"Bucket": "picky", "Key": f"m/{key}"},
                                                   ExpiresIn=300)
            q1, q2 = parse_qs(urlsplit(ours).query), parse_qs(urlsplit(theirs).query)
            if q1["X-Amz-Date"] == q2["X-Amz-Date"]:
                break
        assert urlsplit(ours).path == urlsplit(theirs).path
        assert q1 == q2


def test_a_refused_signature_falls_back_to_botocore(picky: type[PickyS3]) -> None:
    picky.mode = "refuse"
    blobs = [f"object {i}".encode() * 50 for i in range(8)]
    Session.reset_default().storage.put_many(blobs, "s3://picky/r/", concurrency=2)
    assert sorted(picky.stored.values()) == sorted(blobs)
    refused = [p for p, botocore, status in picky.seen if status == 403]
    assert refused and not any(botocore for _, botocore, status in picky.seen if status == 403)
    for path in refused:  # each refused object was then stored through botocore
        assert any(p == path and botocore and s == 200 for p, botocore, s in picky.seen)


def outcome(storage: Storage, blobs: list[bytes], dest: str) -> tuple[str, str]:
    """("ok", "") or (error class, message with `dest` made neutral)."""
    try:
        storage.put_many(blobs, dest, concurrency=2)
    except Exception as e:
        return type(e).__name__, str(e).replace(dest.rstrip("/"), "DEST")
    return "ok", ""


@pytest.mark.parametrize("mode", ["redirect301", "redirect307", "expired", "expired_obstore"])
def test_redirects_and_expired_tokens_end_as_botocore_ends_them(
    mode: str, picky: type[PickyS3], moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """obstore follows no redirect and reports a 400 without its code: such an object goes
    through s3fs/botocore, so the user sees what pxfs showed before obstore (the same
    outcome as with ``s3_direct_put = false``): stored, or botocore's error worded by pxfs."""
    picky.mode, picky.target = mode, moto_server.endpoint_url
    moto_server.create_bucket("picky")
    blobs = [f"object {i} {mode}".encode() * 50 for i in range(4)]
    monkeypatch.setenv("PXFS_S3_DIRECT_PUT", "false")
    expected = outcome(Session.reset_default().storage, blobs, "s3://picky/before/")
    assert not any(not botocore for _, botocore, _ in picky.seen)
    picky.seen.clear()
    monkeypatch.setenv("PXFS_S3_DIRECT_PUT", "true")
    storage = Session.reset_default().storage
    t0 = time.monotonic()
    got = outcome(storage, blobs, f"s3://picky/after-{mode}/")
    assert time.monotonic() - t0 < 15
    assert got == expected
    assert any(not botocore for _, botocore, _ in picky.seen)  # obstore tried first
    assert any(botocore for _, botocore, _ in picky.seen)  # botocore decided
    if mode == "expired":
        assert got[0] == "AccessDeniedError" and "ExpiredToken" in got[1]
    if mode == "expired_obstore":  # botocore's credentials work: stored
        assert got == ("ok", "") and len(picky.stored) == 2 * len(blobs)
    if mode.startswith("redirect") and got[0] == "ok":  # followed to moto, which holds the bytes
        import s3fs

        moto_fs = s3fs.S3FileSystem(endpoint_url=moto_server.endpoint_url, key="k", secret="s", skip_instance_cache=True)
        assert sorted(moto_fs.cat_file(p) for p in moto_fs.ls(f"picky/after-{mode}/")) == sorted(blobs)
