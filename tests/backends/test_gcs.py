"""The shared backend suite on Google Cloud Storage (gcsfs) against gcp-storage-emulator,
plus GCS specifics.

The emulator ignores credentials and signatures. A V4 signed URL is therefore checked
offline: a throwaway service-account key (made with ``cryptography``) signs it, and the
test verifies the signature with the public half. Answers the emulator never gives (403,
503, a bucket that answers while its objects do not) come from a small in-test server.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from pxfs.env import Env
from pxfs.session import Session
from pxfs.errors import (
    AccessDeniedError,
    BucketNotFoundError,
    ConfigError,
    EndpointTimeoutError,
    EndpointUnreachableError,
    ObjectNotFoundError,
    StorageError,
)
from pxfs.storage import Storage
from pxfs.testing import GcsEmulator, SilentServer

from .cases import BackendTests, fetch

pytestmark = pytest.mark.emulator

CLIENT_EMAIL = "pxfs-signer@pxfs-test.iam.gserviceaccount.com"


def use_emulator(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Storage:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", endpoint)
    return Session.reset_default().storage


class GcsBase(BackendTests):
    scheme = "gs"

    @pytest.fixture
    def storage(self, gcs_emulator: GcsEmulator, monkeypatch: pytest.MonkeyPatch) -> Storage:
        return use_emulator(gcs_emulator.endpoint_url, monkeypatch)

    @pytest.fixture
    def dest(self, gcs_emulator: GcsEmulator, storage: Storage) -> str:
        bucket = f"{self.scheme}-{uuid.uuid4().hex[:12]}"
        gcs_emulator.create_bucket(bucket)
        return f"{self.scheme}://{bucket}/media/"

    def test_missing_bucket_names_bucket_and_endpoint(self, storage: Storage, gcs_emulator: GcsEmulator) -> None:
        with pytest.raises(BucketNotFoundError) as e:
            storage.put(b"x", f"{self.scheme}://no-such-bucket-here/x/")
        assert isinstance(e.value, FileNotFoundError)
        text = str(e.value)
        assert "'no-such-bucket-here'" in text and gcs_emulator.endpoint_url in text and "create it" in text

    def test_objects_get_their_content_type(self, storage: Storage, dest: str, tmp_path: Path) -> None:
        png = storage.put(b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes, dest, name="image.png")
        src = tmp_path / "clip.mp4"
        src.write_bytes(uuid.uuid4().bytes)
        mp4 = storage.put(src, dest)
        for uri, expected in ((png, "image/png"), (mp4, "video/mp4")):
            with urllib.request.urlopen(storage.url(uri), timeout=30) as r:
                assert r.headers.get("Content-Type") == expected

    def test_keys_with_spaces_and_unicode(self, storage: Storage, dest: str) -> None:
        uri = storage.put(b"odd name", dest, name="a b/ünï cødé.jpg")
        assert storage.cat(uri) == b"odd name"
        assert fetch(storage.url(uri)) == b"odd name"


class TestGcs(GcsBase):
    scheme = "gs"


class TestGcsScheme(GcsBase):
    scheme = "gcs"


# -- signed URLs ---------------------------------------------------------------------


@pytest.fixture
def service_account_file(tmp_path: Path) -> tuple[Path, Any]:
    """A throwaway service-account key file, and its RSA private key."""
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    from cryptography.hazmat.primitives import serialization

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account",
        "project_id": "pxfs-test",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": CLIENT_EMAIL,
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }))
    return path, key


def verify_v4_signature(url: str, public_key: Any) -> None:
    """Check a GOOG4-RSA-SHA256 signed GET URL against `public_key` (raises if invalid)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    signature = bytes.fromhex(params.pop("X-Goog-Signature"))
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items())
    )
    canonical_request = "\n".join([
        "GET", parts.path, canonical_query, f"host:{parts.netloc}", "", params["X-Goog-SignedHeaders"],
        "UNSIGNED-PAYLOAD",
    ])
    scope = params["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join([
        "GOOG4-RSA-SHA256", params["X-Goog-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()
    ])
    public_key.verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_service_account_key_gives_a_v4_signed_url(
    service_account_file: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.exceptions import InvalidSignature

    path, key = service_account_file
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    storage = Session.reset_default().storage
    url = storage.url("gs://pxfs-bucket/media/a b.jpg", expires_in=120)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert f"{parts.scheme}://{parts.netloc}" == "https://storage.googleapis.com"
    assert parts.path == "/pxfs-bucket/media/a%20b.jpg"
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Credential"].startswith(CLIENT_EMAIL + "/")
    assert query["X-Goog-Expires"] == "120"
    signed_at = datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - signed_at).total_seconds()) < 60
    verify_v4_signature(url, key.public_key())
    # The same URL with another signature does not verify.
    tampered = url.replace("X-Goog-Signature=", "X-Goog-Signature=00", 1)
    with pytest.raises(InvalidSignature):
        verify_v4_signature(tampered, key.public_key())
    fs = storage.filesystem(storage.location("gs://pxfs-bucket/media/"))
    assert "PRIVATE KEY" not in repr(fs) and str(path) in repr(fs)


def test_signed_url_on_the_emulator_is_fetchable(
    service_account_file: tuple[Path, Any], gcs_emulator: GcsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, key = service_account_file
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    storage = use_emulator(gcs_emulator.endpoint_url, monkeypatch)  # requests stay anonymous
    bucket = f"signed-{uuid.uuid4().hex[:12]}"
    gcs_emulator.create_bucket(bucket)
    uri = storage.put(b"signed and served", f"gs://{bucket}/media/")
    url = storage.url(uri, expires_in=60)
    assert url.startswith(gcs_emulator.endpoint_url + f"/{bucket}/media/") and "X-Goog-Signature=" in url
    verify_v4_signature(url, key.public_key())
    assert fetch(url) == b"signed and served"


def test_without_a_key_the_emulator_url_is_its_download_url(
    gcs_emulator: GcsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = use_emulator(gcs_emulator.endpoint_url, monkeypatch)
    gcs_emulator.create_bucket("plain-download")
    uri = storage.put(b"plain", "gs://plain-download/media/")
    url = storage.url(uri)
    assert url.startswith(f"{gcs_emulator.endpoint_url}/download/storage/v1/b/plain-download/o/media%2F")
    assert url.endswith("?alt=media") and fetch(url) == b"plain"


def test_without_a_key_real_gcs_cannot_sign(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    user = tmp_path / "authorized-user.json"  # gcloud's user credentials cannot sign
    user.write_text(json.dumps({
        "type": "authorized_user", "client_id": "x", "client_secret": "not-shown", "refresh_token": "not-shown",
    }))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(user))
    storage = Session.reset_default().storage
    with pytest.raises(ConfigError) as e:
        storage.url("gs://bucket/a.jpg")
    assert "gs://bucket/a.jpg" in str(e.value) and "GOOGLE_APPLICATION_CREDENTIALS" in str(e.value)
    assert "not-shown" not in str(e.value)


def test_missing_credentials_file_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "nope.json"))
    with pytest.raises(ConfigError, match="nope.json"):
        Session.reset_default().storage.put(b"x", "gs://bucket/x/")


# -- answers the emulator never gives ----------------------------------------------------


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers each URL path (query left out) with its list of (status, JSON body) in turn,
    the last one repeating; other paths get `default`. `requests` records (method, path)."""

    answers: dict[str, list[tuple[int, Any]]] = {}
    default: tuple[int, Any] = (404, None)
    requests: list[tuple[str, str]] = []
    lock = threading.Lock()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = urlsplit(self.path).path
        with self.lock:
            self.requests.append((self.command, path))
            queue = self.answers.get(path)
            status, body = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else self.default
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


def gcs_error(status: int, message: str) -> tuple[int, Any]:
    return status, {"error": {"code": status, "message": message}}


@pytest.fixture
def scripted() -> Iterator[Any]:
    """start(answers, default) -> (endpoint, requests) of a :class:`_Scripted` server."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(answers: dict[str, list[tuple[int, Any]]], default: tuple[int, Any] = (404, None)) -> tuple[str, Any]:
        requests: list[tuple[str, str]] = []
        attrs = {"answers": {k: list(v) for k, v in answers.items()}, "default": default, "requests": requests}
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Scripted,), attrs))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", requests

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fixed_answer(scripted: Any) -> Any:
    """start(status, message) -> endpoint of a server giving that GCS JSON error to every request."""
    return lambda status, message: scripted({}, gcs_error(status, message))[0]


def test_forbidden_is_access_denied(fixed_answer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = fixed_answer(403, "anonymous caller does not have storage.objects.create access")
    storage = use_emulator(endpoint, monkeypatch)
    with pytest.raises(AccessDeniedError) as e:
        storage.put(b"x", "gs://locked-bucket/x/")
    assert isinstance(e.value, PermissionError)
    assert "gs://locked-bucket/x" in str(e.value) and endpoint in str(e.value)
    with pytest.raises(AccessDeniedError):
        storage.exists("gs://locked-bucket/x/a.jpg")


def test_missing_bucket_on_read_says_the_bucket_does_not_exist(
    gcs_emulator: GcsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = use_emulator(gcs_emulator.endpoint_url, monkeypatch)
    with pytest.raises(BucketNotFoundError, match="bucket 'gone-bucket-r' does not exist"):
        storage.cat("gs://gone-bucket-r/a.jpg")
    # A media read alone (no listing beside it): the bucket is asked for.
    loc = storage.location("gs://gone-bucket-r/b.jpg")
    with pytest.raises(FileNotFoundError) as e:
        storage.filesystem(loc).cat_file(loc.path)
    assert isinstance(storage.backend(loc).translate(e.value, loc, "read"), BucketNotFoundError)


def test_missing_object_in_an_existing_bucket_says_no_such_object(
    gcs_emulator: GcsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = use_emulator(gcs_emulator.endpoint_url, monkeypatch)
    gcs_emulator.create_bucket("here-bucket-r")
    with pytest.raises(ObjectNotFoundError, match="gs://here-bucket-r/a.jpg.*no such object") as e:
        storage.cat("gs://here-bucket-r/a.jpg")
    assert not isinstance(e.value, BucketNotFoundError)
    assert not storage.exists("gs://here-bucket-r/a.jpg")


def test_a_missing_object_asks_for_its_bucket_once(scripted: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """404 bodies are not read: the bucket's own answer tells, once per bucket."""
    endpoint, requests = scripted({"/storage/v1/b/here-bucket": [(200, {"name": "here-bucket"})]},
                                  gcs_error(404, "The specified bucket does not exist."))  # text ignored
    storage = use_emulator(endpoint, monkeypatch)
    loc = storage.location("gs://here-bucket/a.jpg")
    fs = storage.filesystem(loc)
    for key in ("a.jpg", "b.jpg", "c.jpg"):
        with pytest.raises(FileNotFoundError) as e:
            fs.cat_file(f"here-bucket/{key}")
        translated = storage.backend(loc).translate(e.value, loc, "read")
        assert isinstance(translated, ObjectNotFoundError) and not isinstance(translated, BucketNotFoundError)
    assert requests.count(("GET", "/storage/v1/b/here-bucket")) == 1
    assert len(requests) == 4


def test_server_errors_are_retried_then_reported(scripted: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_RETRIES", "2")
    endpoint, requests = scripted({}, gcs_error(503, "backend unavailable"))
    storage = use_emulator(endpoint, monkeypatch)
    start = time.monotonic()
    with pytest.raises(StorageError, match="HTTP 503 .*backend unavailable"):
        storage.put(b"x", "gs://busy-bucket/x/")
    assert 0.5 < time.monotonic() - start < 10  # two backoffs: 0.25-0.5 s, then 0.5-1 s
    assert len(requests) == 3  # retries + 1: gcsfs's own retry layer adds none
    requests.clear()
    with pytest.raises(StorageError, match="503"):
        storage.cat("gs://busy-bucket/x/a.jpg")
    assert len(requests) <= 6  # gcsfs's info asks for the object and its "directory" at once


def test_server_errors_then_success_stores_the_object(scripted: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_RETRIES", "2")
    busy = gcs_error(503, "backend unavailable")
    stored = {"kind": "storage#object", "bucket": "busy-bucket", "name": "x/a.jpg", "size": "1"}
    endpoint, requests = scripted({"/upload/storage/v1/b/busy-bucket/o": [busy, busy, (200, stored)]})
    storage = use_emulator(endpoint, monkeypatch)
    assert storage.put(b"x", "gs://busy-bucket/x/", name="a.jpg") == "gs://busy-bucket/x/a.jpg"
    assert requests == [("POST", "/upload/storage/v1/b/busy-bucket/o")] * 3


def test_bytes_that_a_multipart_upload_would_garble_round_trip(
    gcs_emulator: GcsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gcsfs's one-request upload loses a final CR and cuts at its fixed boundary (the rare
    test_put_bytes_round_trip failure: its random bytes end in CR once in 256 runs)."""
    storage = use_emulator(gcs_emulator.endpoint_url, monkeypatch)
    gcs_emulator.create_bucket("garble")
    for data in (b"\r", b"ends in CR\r", b"holds the boundary\n--==0==\nand more", b"\xff\xd8" + b"\r\n" * 3):
        uri = storage.put(data, "gs://garble/media/")
        assert storage.cat(uri) == data


# -- bounded time ----------------------------------------------------------------------


def test_silent_endpoint_times_out_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("PXFS_RETRIES", "0")
    with SilentServer() as silent:
        storage = use_emulator(silent.endpoint_url, monkeypatch)
        for attempt in (
            lambda: storage.put(b"x", "gs://media/x/"),
            lambda: storage.exists("gs://media/x/a.jpg"),
            lambda: storage.cat("gs://media/x/b.jpg"),
        ):
            start = time.monotonic()
            with pytest.raises(EndpointTimeoutError) as e:
                attempt()
            assert time.monotonic() - start < 6
            assert isinstance(e.value, TimeoutError) and "gs://media/x" in str(e.value)


def test_one_retry_doubles_the_wait_and_no_more(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("PXFS_RETRIES", "1")
    with SilentServer() as silent:
        storage = use_emulator(silent.endpoint_url, monkeypatch)
        start = time.monotonic()
        with pytest.raises(EndpointTimeoutError):
            storage.cat("gs://media/x/b.jpg")
        assert 2 <= time.monotonic() - start < 6  # gcsfs alone: 6 attempts per layer
        # gcsfs's _info asks for the object and for a "directory" at once: 2 per attempt.
        assert silent.connections <= 4


def test_refused_connection_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_RETRIES", "0")
    with SilentServer() as closed:
        endpoint = closed.endpoint_url  # a port that was listening a moment ago, closed now
    storage = use_emulator(endpoint, monkeypatch)
    start = time.monotonic()
    with pytest.raises(EndpointUnreachableError) as e:
        storage.put(b"x", "gs://media/x/")
    assert time.monotonic() - start < 6
    assert isinstance(e.value, ConnectionError) and endpoint in str(e.value)
