"""S3 PutObject without botocore on every request: signed like botocore, sent by http.client.

A botocore PutObject through s3fs costs about 2 ms of client CPU (request building,
event hooks, signing, aiohttp); storing a computed image costs about as much again in
Pillow. On a 2-core machine that client work decides how many images per second pxfs
stores. This module sends the same request for about a third of that CPU.

It never guesses what botocore would send. The first object of a bucket goes through
s3fs as usual, and a ``before-send`` hook (scoped to that one call by a ContextVar)
captures the request botocore signed: its URL, headers and Authorization. We sign that
same request ourselves, at the same timestamp, and use our signer for the bucket only if
the two Authorization headers are identical; otherwise every object stays on s3fs. A
calibration lasts five minutes, and a 403 drops it (credentials may have rotated) and
sends that object through s3fs. Keys outside ``[A-Za-z0-9/._~-]``, PutObject arguments
other than ContentType and proxies stay on s3fs too. TLS uses the context botocore's
session builds (its CA bundle, ``verify``, client certificate).

Requests are sent from the calling thread (``put_many``'s workers): http.client releases
the GIL while it waits, and each thread's connection is kept alive where the server
allows it. Failures are raised
as the botocore exceptions s3fs would raise (``ClientError``, ``EndpointConnectionError``,
``ReadTimeoutError``), so :func:`pxfs.storage._s3.translate` words them the same way.
Retries follow botocore's standard mode: ``retries`` more attempts on connection errors,
5xx, 429 and throttling codes, with jittered exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import http.client
import logging
import random
import re
import socket
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from ._config import StorageConfig
from ._location import Location

__all__ = ["DirectPut"]

logger = logging.getLogger("pxfs.storage")

_CALIBRATION_TTL_S = 300.0
_SAFE_KEY = re.compile(r"[A-Za-z0-9/._~-]+")
# Headers we know how to reproduce; botocore signing anything else keeps s3fs.
_SIGNABLE = {"content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"}
_RETRY_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
                "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable"}
_CAPTURE: contextvars.ContextVar[list[tuple[str, dict[str, str]]] | None] = contextvars.ContextVar(
    "pxfs_s3_capture", default=None
)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class _Signer:
    """SigV4 Authorization headers for PutObject into one bucket, as botocore makes them.

    The secret key, the session token and the signing keys derived from the secret are
    kept out of ``repr``.
    """

    scheme: str
    netloc: str
    path_prefix: str  # "/bucket/" (path style) or "/" (virtual-hosted)
    key_id: str
    secret: str = field(repr=False)
    region: str
    token: str | None = field(repr=False)
    signed: tuple[str, ...]  # lower-case header names botocore signs, content-type aside
    unsigned_payload: bool
    expires_at: float
    ssl_context: Any = None  # botocore's own, for https endpoints

    _keys: dict[str, bytes] | None = field(default=None, repr=False)

    @classmethod
    def from_request(
        cls, url: str, headers: dict[str, str], bucket: str, key: str, data: bytes, secret: str
    ) -> _Signer:
        """Our signer for the bucket of a request botocore signed, or ValueError if we differ."""
        parts = urlsplit(url)
        quoted = quote(key, safe="/-_.~")
        if parts.query or parts.scheme not in ("http", "https"):
            raise ValueError(f"unexpected URL {url}")
        if parts.path == f"/{bucket}/{quoted}":
            prefix = f"/{bucket}/"
        elif parts.path == f"/{quoted}":
            prefix = "/"
        else:
            raise ValueError(f"unrecognised URL layout {url}")
        lower = {k.lower(): _text(v) for k, v in headers.items()}
        auth = re.fullmatch(
            r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
            lower.get("authorization", ""),
        )
        if auth is None:
            raise ValueError("not a SigV4 header signature")
        key_id, _, region, signed, _ = auth.groups()
        names = tuple(signed.split(";"))
        if not set(names) <= _SIGNABLE or "host" not in names or "x-amz-date" not in names:
            raise ValueError(f"botocore signs headers we do not reproduce: {signed}")
        if ("content-type" in names) != ("content-type" in lower):
            raise ValueError("content-type is sent but not signed, or the reverse")
        payload = lower.get("x-amz-content-sha256", "")
        if payload not in ("UNSIGNED-PAYLOAD", hashlib.sha256(data).hexdigest()):
            raise ValueError(f"unexpected payload hash mode {payload[:32]}")
        signer = cls(
            scheme=parts.scheme, netloc=parts.netloc, path_prefix=prefix, key_id=key_id,
            secret=secret, region=region, token=lower.get("x-amz-security-token"),
            signed=tuple(n for n in names if n != "content-type"), unsigned_payload=payload == "UNSIGNED-PAYLOAD",
            expires_at=time.monotonic() + _CALIBRATION_TTL_S,
        )
        mine = signer.sign(key, payload, lower.get("content-type"), lower["x-amz-date"])
        if mine["Authorization"] != lower["authorization"]:
            raise ValueError("signature differs from botocore's")
        return signer

    def _signing_key(self, date: str) -> bytes:
        if self._keys is None or date not in self._keys:
            k = _hmac(("AWS4" + self.secret).encode(), date)
            for part in (self.region, "s3", "aws4_request"):
                k = _hmac(k, part)
            self._keys = {date: k}
        return self._keys[date]

    def path(self, key: str) -> str:
        return self.path_prefix + quote(key, safe="/-_.~")

    def sign(self, key: str, payload_hash: str, content_type: str | None, amz_date: str) -> dict[str, str]:
        """The headers of a PutObject of `key` (Host and Content-Length are http.client's)."""
        names = sorted((*self.signed, "content-type")) if content_type else self.signed
        values = {
            "content-type": content_type or "",
            "host": self.netloc,
            "x-amz-content-sha256": payload_hash,
            "x-amz-date": amz_date,
            "x-amz-security-token": self.token or "",
        }
        canonical_headers = "".join(f"{name}:{' '.join(values[name].split())}\n" for name in names)
        signed = ";".join(names)
        canonical = f"PUT\n{self.path(key)}\n\n{canonical_headers}\n{signed}\n{payload_hash}"
        scope = f"{amz_date[:8]}/{self.region}/s3/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._signing_key(amz_date[:8]), to_sign.encode(), hashlib.sha256).hexdigest()
        headers = {
            "Host": self.netloc,
            "X-Amz-Date": amz_date,
            "X-Amz-Content-SHA256": payload_hash,
            "Authorization": (f"AWS4-HMAC-SHA256 Credential={self.key_id}/{scope}, "
                              f"SignedHeaders={signed}, Signature={signature}"),
        }
        if content_type:
            headers["Content-Type"] = content_type
        if "x-amz-security-token" in self.signed:
            headers["X-Amz-Security-Token"] = values["x-amz-security-token"]
        return headers


class _Rejected(Exception):
    """The server refused our signature or credentials (403): fall back to botocore."""


class DirectPut:
    """PutObject for one S3 filesystem: a calibrated signer per bucket.

    ``write_now`` sends from the calling thread once the bucket is calibrated; ``write``
    (on fsspec's loop) calibrates it, or goes through s3fs. Create with
    :meth:`for_filesystem`, which returns None when ``s3_direct_put`` is off.
    """

    def __init__(self, fs: Any, config: StorageConfig) -> None:
        self.fs = fs
        self.config = config
        self.endpoint_url = str(getattr(fs, "endpoint_url", None) or "")
        self._signers: dict[str, _Signer] = {}
        self._calibrating: dict[str, asyncio.Event] = {}
        self._hooked: set[int] = set()
        self._local = threading.local()

    @classmethod
    def for_filesystem(cls, fs: Any, config: StorageConfig) -> DirectPut | None:
        return cls(fs, config) if config.s3_direct_put else None

    def write_now(self, target: Location, data: bytes, digest: str, kwargs: dict[str, Any]) -> bool:
        """Send one PutObject from this thread if the bucket is calibrated; else False
        (then :meth:`write` calibrates or goes through s3fs)."""
        signer = self._signers.get(target.bucket)
        if signer is None or not _SAFE_KEY.fullmatch(target.key) or set(kwargs) - {"ContentType"}:
            return False
        if signer.expires_at < time.monotonic():
            self._signers.pop(target.bucket, None)
            return False
        payload = "UNSIGNED-PAYLOAD" if signer.unsigned_payload else digest
        try:
            self._send(signer, target.key, data, payload, kwargs.get("ContentType"))
        except _Rejected:  # credentials may have rotated: botocore refreshes them
            self._signers.pop(target.bucket, None)
            return False
        return True

    async def write(self, target: Location, data: bytes, digest: str, kwargs: dict[str, Any]) -> None:
        """Store `data` at `target` through s3fs, calibrating the bucket on the way."""
        bucket = target.bucket
        if bucket in self._signers or not _SAFE_KEY.fullmatch(target.key) or set(kwargs) - {"ContentType"}:
            await self.fs._pipe_file(target.path, data, **kwargs)
            return
        pending = self._calibrating.get(bucket)
        if pending is None:
            await self._calibrate(target, data, kwargs)
            return
        await pending.wait()  # one calibration per bucket; the others wait for it
        if not await asyncio.to_thread(self.write_now, target, data, digest, kwargs):
            await self.fs._pipe_file(target.path, data, **kwargs)

    async def _calibrate(self, target: Location, data: bytes, kwargs: dict[str, Any]) -> None:
        """Upload through s3fs, capturing botocore's request; keep our signer if it agrees."""
        bucket = target.bucket
        done = self._calibrating[bucket] = asyncio.Event()
        try:
            client = await self.fs.set_session()
            if id(client) not in self._hooked:
                client.meta.events.register("before-send.s3.PutObject", _capture)
                self._hooked.add(id(client))
            box: list[tuple[str, dict[str, str]]] = []
            token = _CAPTURE.set(box)
            try:
                await self.fs._pipe_file(target.path, data, **kwargs)
            finally:
                _CAPTURE.reset(token)
            try:
                if not box:
                    raise ValueError("no request captured")
                url, headers = box[-1]
                if _proxied(url) or client.meta.config.proxies:
                    raise ValueError("requests go through a proxy")
                creds = await client._request_signer._credentials.get_frozen_credentials()
                signer = _Signer.from_request(url, headers, bucket, target.key, data, creds.secret_key)
                if signer.scheme == "https":  # the TLS settings botocore uses: CA bundle, verify, client cert
                    session = client._endpoint.http_session
                    signer.ssl_context = (await asyncio.to_thread(session._build_ssl_contexts, None))[0]
                self._signers[bucket] = signer
            except Exception as e:  # any doubt: this bucket stays on s3fs
                logger.debug("S3 uploads to %s stay on s3fs: %s", bucket, e)
                self._signers.pop(bucket, None)
        finally:
            del self._calibrating[bucket]
            done.set()

    # -- in a pool thread -------------------------------------------------------------

    def _send(self, signer: _Signer, key: str, data: bytes, payload: str, content_type: str | None) -> None:
        import botocore.exceptions as bex

        attempts = self.config.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            headers = signer.sign(key, payload, content_type, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
            try:
                status, body = self._request(signer, signer.path(key), headers, data)
            except (TimeoutError, socket.timeout) as e:
                if last:
                    raise bex.ReadTimeoutError(endpoint_url=self.endpoint_url) from e
            except OSError as e:  # refused, reset, unreachable
                if last:
                    raise bex.EndpointConnectionError(endpoint_url=self.endpoint_url) from e
            except http.client.HTTPException as e:  # an answer that is not HTTP, or cut short
                if last:
                    raise bex.ConnectionClosedError(endpoint_url=self.endpoint_url) from e
            else:
                if status == 200:
                    return
                code, message = _error_of(body)
                if status == 403:
                    raise _Rejected(code)
                if last or not (status >= 500 or status == 429 or code in _RETRY_CODES):
                    raise bex.ClientError(
                        {"Error": {"Code": code or str(status), "Message": message},
                         "ResponseMetadata": {"HTTPStatusCode": status}},
                        "PutObject",
                    )
            time.sleep(random.random() * min(20.0, 2.0**attempt))

    def _request(self, signer: _Signer, path: str, headers: dict[str, str], data: bytes) -> tuple[int, bytes]:
        """One PUT on this thread's connection; a kept-alive connection that went stale is
        reopened once (PUT of the same bytes is idempotent)."""
        for reuse in (True, False):
            conn = self._connection(signer) if reuse else self._connection(signer, fresh=True)
            fresh = getattr(conn, "_pxfs_fresh", True)
            try:
                conn.request("PUT", path, body=data, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop(conn)
                if fresh:
                    raise
                continue
            except BaseException:
                self._drop(conn)
                raise
            conn._pxfs_fresh = False  # type: ignore[attr-defined]
            if response.will_close:
                self._drop(conn)
            return response.status, body
        raise AssertionError("unreachable")

    def _connection(self, signer: _Signer, fresh: bool = False) -> http.client.HTTPConnection:
        conns: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("conns", {})
        where = f"{signer.scheme}://{signer.netloc}"
        conn = conns.get(where)
        if conn is not None and not fresh:
            return conn
        if conn is not None:
            conn.close()
        connect_timeout = min(5.0, self.config.request_timeout)
        if signer.scheme == "https":
            conn = http.client.HTTPSConnection(signer.netloc, timeout=connect_timeout, context=signer.ssl_context)
        else:
            conn = http.client.HTTPConnection(signer.netloc, timeout=connect_timeout)
        conn.connect()
        assert conn.sock is not None
        conn.sock.settimeout(self.config.request_timeout)
        conns[where] = conn
        return conn

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        conn.close()
        conns: dict[str, http.client.HTTPConnection] = self._local.__dict__.get("conns", {})
        for where, c in list(conns.items()):
            if c is conn:
                del conns[where]


def _capture(request: Any, **_: Any) -> None:
    box = _CAPTURE.get()
    if box is not None:
        box.append((str(request.url), {k: _text(v) for k, v in request.headers.items()}))


def _proxied(url: str) -> bool:
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


def _error_of(body: bytes) -> tuple[str, str]:
    text = body.decode("utf-8", "replace")
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    return (code.group(1) if code else ""), (message.group(1) if message else text[:200])
