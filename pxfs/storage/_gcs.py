"""Google Cloud Storage (``gs://``, ``gcs://``): gcsfs.

What this module adds to gcsfs (see PITFALLS.md), through gcsfs's public constructor
arguments and fsspec's async filesystem methods only:

- always the plain ``gcsfs.core.GCSFileSystem``: gcsfs 2026.10's default class probes
  every bucket over gRPC (60 s per call against an emulator);
- ``STORAGE_EMULATOR_HOST`` means anonymous access to that endpoint, with no probe of a
  metadata server; otherwise ``GOOGLE_APPLICATION_CREDENTIALS`` is the token (or, when
  unset, gcsfs's own default chain);
- bounded time: gcsfs retries 6 times in layers fixed at import and sets no aiohttp
  timeout; here an aiohttp middleware on gcsfs's session is the one layer that retries,
  ``retries`` times, giving up with an exception gcsfs does not retry; every request has
  pxfs's ``request_timeout`` for connect and each read;
- 404 / 401 / 403 as our ``FileNotFoundError`` / ``PermissionError``; a 404 tells a
  missing bucket by its URL or else by asking for the bucket, once per bucket;
- small uploads that gcsfs's one-request multipart body would garble (bytes ending in CR,
  or holding its fixed boundary) go as a resumable upload;
- V4 signed URLs with a service-account key, the emulator's download URL without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple
from urllib.parse import quote

import aiohttp
from aiohttp import ClientHandlerType, ClientRequest, ClientResponse
from fsspec.asyn import sync_wrapper
from gcsfs.core import GCSFileSystem
from gcsfs.retry import HttpError
from yarl import URL

from ..errors import AccessDeniedError, ConfigError, ObjectNotFoundError, StorageError
from ._config import StorageConfig
from ._errors import broken, bucket_missing, exception_chain, failed, shown_path, timed_out, unreachable
from ._location import Location

__all__ = ["PxfsGCSFileSystem", "filesystem", "signed_url", "translate", "write_kwargs"]

logger = logging.getLogger(__name__)

_GCS_ENDPOINT = "https://storage.googleapis.com"
_CREDENTIALS_HINT = "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file"
_BACKOFF, _MAX_BACKOFF = 0.5, 8.0  # seconds before the first retry, doubling up to the cap
MAX_EXPIRES_IN = 7 * 86400  # V4 signed URLs last a week at most
_DOWNLOAD_CHUNK = 16 * 2**20
# Retried: connection errors, broken answers and timeouts (not TLS ones: aiohttp.ClientSSLError).
_RETRIED_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)
_MULTIPART_BOUNDARY = b"--==0=="  # gcsfs's simple_upload separates metadata and bytes with it


class _NotFound(FileNotFoundError):
    """A 404 from GCS; ``bucket_missing`` when it is the bucket that does not exist."""

    def __init__(self, url: str, bucket_missing: bool) -> None:
        super().__init__(errno.ENOENT, "bucket not found" if bucket_missing else "not found", url)
        self.bucket_missing = bucket_missing


class _Forbidden(PermissionError):
    """A 401 or 403. A 403 reads ``Forbidden: <url>``, as gcsfs's own: for an object GET
    gcsfs falls back to a listing when the text starts so."""


class _Failed(Exception):
    """A request that failed after pxfs's retries, or could not be retried: no ``OSError``
    (aiohttp would make it a ``ClientOSError``) nor an error gcsfs's ``retry_request``
    retries. ``status``: the last answer's, or None (``__cause__`` says what broke);
    ``detail``: its message, to show."""

    def __init__(self, status: int | None, detail: str = "") -> None:
        super().__init__(f"HTTP {status}: {detail}" if status else "no answer")
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class _Auth:
    """How requests and signatures are made (no secret: the key stays in its file).

    ``credentials_file`` is GOOGLE_APPLICATION_CREDENTIALS, which users sometimes set to
    the key itself: messages show it through :func:`shown_path`.
    """

    endpoint_url: str | None
    credentials_file: str | None

    @property
    def token(self) -> str | None:
        if self.endpoint_url:
            return "anon"  # an emulator: no credentials, no metadata-server probe
        return self.credentials_file  # None: gcsfs's default chain

    def describe(self) -> str:
        if self.endpoint_url:
            return "anonymous (emulator)"
        if self.credentials_file:
            return f"credentials file {shown_path(self.credentials_file)}"
        return "gcsfs default credentials"


class _Target(NamedTuple):
    """What a JSON API URL is about, from its structure: its bucket; whether a 404 means
    the bucket is missing (the bucket, its object list, a new upload into it); whether it
    is one object's (metadata, media, a copy from it)."""

    bucket: str
    bucket_url: URL  # ``{endpoint}/storage/v1/b/{bucket}``
    names_bucket: bool
    is_object: bool


def _target(url: URL) -> _Target | None:
    parts = url.path.split("/")
    for i in range(len(parts) - 3):
        if parts[i : i + 3] == ["storage", "v1", "b"] and parts[i + 3]:
            base, bucket, rest = parts[:i], parts[i + 3], parts[i + 4 :]
            api = base.pop() if base and base[-1] in ("download", "upload") else ""
            bucket_url = url.with_path("/".join([*base, "storage", "v1", "b", bucket]))
            if api == "upload":  # with an upload_id: a resumable upload's session, not the bucket
                return _Target(bucket, bucket_url, "upload_id" not in url.query, False)
            return _Target(bucket, bucket_url, rest in ([], ["o"]), len(rest) > 1 and rest[0] == "o")
    return None


class _Requests:
    """The middleware and status check of one filesystem's aiohttp session.

    :meth:`middleware` is the one layer that retries; it reads each answer's body, so a
    read that breaks is retried too (gcsfs reads bodies whole but for its streaming
    download, which ``_get_file`` replaces). :meth:`raise_for_status` raises our 404 /
    401 / 403 errors: aiohttp makes an ``OSError`` raised in a middleware a retriable
    ``ClientOSError``, but passes what ``raise_for_status`` raises unchanged.
    """

    def __init__(self, retries: int, timeout: aiohttp.ClientTimeout) -> None:
        self.retries, self.timeout = retries, timeout
        self.buckets: set[str] = set()  # buckets known to exist: a 404 in them is an object's

    async def middleware(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        response = await self._send(request, handler)
        target = _target(request.url)
        if target is not None and response.status < 300:
            self.buckets.add(target.bucket)
        elif target is not None and response.status == 404 and target.is_object and target.bucket not in self.buckets:
            return await self._bucket_answer(request, target, response)
        return response

    async def _send(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        """The answer, its body read; retried on 408 / 429 / 5xx and broken connections if
        its body can be sent again byte for byte: none, or bytes (gcsfs sends bytes,
        memoryviews, str, JSON: ``BytesPayload``s). A file may still be read by the last
        attempt's writer after an early answer; an async iterable is used up by one send."""
        replayable = isinstance(request.body, (bytes, aiohttp.payload.BytesPayload))
        attempts = self.retries + 1 if replayable else 1
        for attempt in range(attempts):
            if attempt:  # 0.5 s, 1 s, 2 s, ... capped, each with up to 50% jitter
                delay = min(_BACKOFF * 2.0 ** (attempt - 1), _MAX_BACKOFF)
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
            response = None
            try:
                response = await handler(request)
                body = await response.read()
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                if response is not None:
                    response.close()
                retriable = isinstance(e, _RETRIED_ERRORS) and not isinstance(e, aiohttp.ClientSSLError)
                if attempt == attempts - 1 or not retriable:
                    raise _Failed(None) from e
                logger.debug("GCS %s %s: retrying after %s", request.method, request.url.path, type(e).__name__)
                continue
            if response.status not in (408, 429) and response.status < 500:
                return response
            if attempt == attempts - 1:
                raise _Failed(response.status, _error_text(body))
            logger.debug("GCS %s %s: retrying after HTTP %s", request.method, request.url.path, response.status)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _bucket_answer(self, request: ClientRequest, target: _Target, response: ClientResponse) -> ClientResponse:
        """The bucket's own 404 when the bucket is missing, else the object's `response`."""
        auth = request.headers.get("Authorization")
        try:
            async with request.session.request(
                "GET", target.bucket_url, headers={"Authorization": auth} if auth else None,
                timeout=self.timeout, middlewares=(), raise_for_status=False,
            ) as answer:
                await answer.read()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return response  # cannot tell: the object is missing, as far as we know
        if answer.status == 404:
            return answer
        if answer.status in (200, 403):  # 403: it exists, we may not read its metadata
            self.buckets.add(target.bucket)
        return response

    async def raise_for_status(self, response: ClientResponse) -> None:
        url = str(response.url.with_query(None))
        if response.status == 404:
            raise _NotFound(url, (target := _target(response.url)) is not None and target.names_bucket)
        if response.status in (401, 403):
            word = "Forbidden" if response.status == 403 else "Unauthorized"
            raise _Forbidden(f"{word}: {url}\n{_error_text(await response.read())}")


def _error_text(contents: bytes) -> str:
    """The message of a GCS JSON error body, to show (never to decide on)."""
    try:
        error = json.loads(contents)["error"]
    except (ValueError, KeyError, TypeError):
        return ""
    return str(error.get("message", "") if isinstance(error, dict) else error)


class PxfsGCSFileSystem(GCSFileSystem):  # type: ignore[misc]  # gcsfs is untyped
    """``gcsfs.core.GCSFileSystem`` whose session retries in one layer and whose 404s say
    what is missing (:class:`_Requests`); downloads are ranged reads through ``_cat_file``."""

    def __init__(self, *, pxfs_auth: _Auth, pxfs_requests: _Requests, **kwargs: Any) -> None:
        self._pxfs_auth, self._pxfs_requests = pxfs_auth, pxfs_requests
        self._pxfs_signer: Any = None
        session = {"middlewares": (pxfs_requests.middleware,), "raise_for_status": pxfs_requests.raise_for_status,
                   "timeout": pxfs_requests.timeout}
        super().__init__(session_kwargs=session, requests_timeout=pxfs_requests.timeout, **kwargs)

    def __repr__(self) -> str:
        return (
            f"PxfsGCSFileSystem(endpoint={self._pxfs_auth.endpoint_url or _GCS_ENDPOINT!r}, "
            f"auth={self._pxfs_auth.describe()!r}, retries={self._pxfs_requests.retries})"
        )

    async def _get_file(self, rpath: str, lpath: str, callback: Any = None, **kwargs: Any) -> None:
        """Download `rpath` to `lpath`: its size, then ranged reads of at most 16 MiB."""
        if os.path.isdir(lpath):
            return
        size = int((await self._info(rpath))["size"])
        try:
            with open(lpath, "wb") as f:
                for start in range(0, size, _DOWNLOAD_CHUNK):
                    f.write(await self._cat_file(rpath, start=start, end=min(size, start + _DOWNLOAD_CHUNK)))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(lpath)
            raise

    async def _pipe_file(self, path: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        """Write `data`; as a resumable upload when gcsfs's multipart body would garble it:
        its boundary is a fixed ``--==0==`` after a bare LF, so bytes holding it end the part
        early, and a final CR is taken for the boundary's CR LF."""
        raw = data if isinstance(data, (bytes, bytearray)) else bytes(data)
        if raw and (raw.endswith(b"\r") or _MULTIPART_BOUNDARY in raw):
            kwargs["chunksize"] = min(kwargs.get("chunksize", len(raw)), len(raw))  # one chunk, raw bytes
        return await super()._pipe_file(path, data, *args, **kwargs)

    async def _rm(self, path: Any, *args: Any, **kwargs: Any) -> Any:
        """Delete; objects already gone are not an error (gcsfs raises when none was deleted)."""
        try:
            return await super()._rm(path, *args, **kwargs)
        except FileNotFoundError as e:
            if any(isinstance(c, _NotFound) and c.bucket_missing for c in exception_chain(e)):
                raise
            return []

    rm = sync_wrapper(_rm)  # gcsfs binds its own _rm to rm; rebind to this one


def filesystem(loc: Location, config: StorageConfig) -> PxfsGCSFileSystem:
    """A gcsfs filesystem for the configured endpoint and credentials, with bounded requests."""
    import google.auth.exceptions

    gcs = config.gcs
    if gcs.credentials_file and not os.path.isfile(gcs.credentials_file):
        raise ConfigError(
            f"{loc.uri}: GOOGLE_APPLICATION_CREDENTIALS names {shown_path(gcs.credentials_file)}, which is not "
            "a file; set it to the path of a service-account key file, or unset it"
        )
    auth = _Auth(endpoint_url=gcs.endpoint_url, credentials_file=gcs.credentials_file)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=config.request_timeout, sock_read=config.request_timeout)
    kwargs: dict[str, Any] = {"token": auth.token, "endpoint_url": gcs.endpoint_url, "skip_instance_cache": True}
    if gcs.project:
        kwargs["project"] = gcs.project
    try:
        return PxfsGCSFileSystem(pxfs_auth=auth, pxfs_requests=_Requests(config.retries, timeout), **kwargs)
    except (ValueError, KeyError, TypeError, google.auth.exceptions.GoogleAuthError) as e:
        # gcsfs reads the credentials file here; its errors may quote the file's content.
        raise ConfigError(
            f"{loc.uri}: the credentials in {auth.describe()} cannot be used ({type(e).__name__}); "
            f"{_CREDENTIALS_HINT} (JSON, as downloaded from the Cloud console)"
        ) from None


def signed_url(fs: PxfsGCSFileSystem, loc: Location, expires_in: int) -> str:
    """A V4 signed URL with a service-account key; without one, the emulator's public
    download URL (real GCS cannot sign without a key: ``ConfigError``)."""
    endpoint = fs._pxfs_auth.endpoint_url
    signer = _signer(fs, loc)
    if signer is not None:
        from google.cloud import storage

        client = storage.Client.create_anonymous_client()  # no I/O; the key signs, not the client
        blob = client.bucket(loc.bucket).blob(loc.key)
        return str(blob.generate_signed_url(
            expiration=timedelta(seconds=expires_in), api_access_endpoint=(endpoint or _GCS_ENDPOINT).rstrip("/"),
            method="GET", version="v4", credentials=signer,
        ))
    if endpoint:
        return (
            f"{endpoint.rstrip('/')}/download/storage/v1/b/{quote(loc.bucket, safe='')}"
            f"/o/{quote(loc.key, safe='')}?alt=media"
        )
    raise ConfigError(
        f"cannot sign a URL for {loc.uri}: V4 signed URLs need a service-account key; "
        f"{_CREDENTIALS_HINT}, or serve a public bucket through [pxfs.public_urls] in config.toml"
    )


def _signer(fs: PxfsGCSFileSystem, loc: Location) -> Any:
    """Service-account credentials that can sign, loaded once from the credentials file."""
    if fs._pxfs_signer is None:
        path = fs._pxfs_auth.credentials_file
        signer: Any = False
        if path:
            try:
                with open(path) as f:
                    kind = json.load(f).get("type")
            except (OSError, ValueError, AttributeError) as e:
                raise ConfigError(
                    f"cannot sign a URL for {loc.uri}: GOOGLE_APPLICATION_CREDENTIALS: cannot read "
                    f"{shown_path(path)} as JSON ({type(e).__name__})"
                ) from None  # not chained: the parser's error may quote the key
            if kind == "service_account":
                from google.oauth2 import service_account

                load = service_account.Credentials.from_service_account_file
                try:
                    signer = load(path)  # type: ignore[no-untyped-call]  # google-auth is partly typed
                except (ValueError, KeyError) as e:
                    raise ConfigError(
                        f"cannot sign a URL for {loc.uri}: GOOGLE_APPLICATION_CREDENTIALS: {shown_path(path)} "
                        f"is not a valid service-account key ({type(e).__name__})"
                    ) from None
        fs._pxfs_signer = signer
    return fs._pxfs_signer or None


def write_kwargs(content_type: str | None) -> dict[str, Any]:
    return {"content_type": content_type} if content_type else {}


def translate(exc: BaseException, loc: Location, action: str) -> BaseException | None:
    """The pxfs error for a gcsfs / aiohttp / google-auth failure, or None if not ours."""
    import google.auth.exceptions

    if isinstance(exc, (StorageError, ConfigError)):
        return exc
    where = f"{loc.uri} at {_endpoint(loc)}"
    chain = exception_chain(exc)
    for e in chain:
        if isinstance(e, _NotFound) and e.bucket_missing:
            return bucket_missing(loc, action, _endpoint(loc))
    for e in chain:
        if isinstance(e, (ConfigError, StorageError)):
            return e
        if isinstance(e, _Failed) and e.status is not None:
            return _http_failure(action, where, e.status, e.detail)
        if isinstance(e, TimeoutError):  # aiohttp's ServerTimeoutError and asyncio's
            return timed_out(action, where)
        if isinstance(e, aiohttp.ClientConnectionError) and not isinstance(e, aiohttp.ServerDisconnectedError):
            return unreachable(action, where, "that STORAGE_EMULATOR_HOST is right, for an emulator")
        if isinstance(e, aiohttp.ClientError):  # a dropped connection, or an answer that could not be read
            return broken(action, where)
        if isinstance(e, google.auth.exceptions.GoogleAuthError):  # not its text: it may quote token details
            why = f"Google credentials could not be used ({type(e).__name__}); {_CREDENTIALS_HINT}"
            return AccessDeniedError(errno.EACCES, f"cannot {action} {where}: {why}")
        if isinstance(e, PermissionError) or (isinstance(e, HttpError) and e.code == 401):  # 401: gcsfs's refresh
            why = f"access denied; check the credentials ({_CREDENTIALS_HINT}) and the bucket's permissions"
            return AccessDeniedError(errno.EACCES, f"cannot {action} {where}: {why}")
        if isinstance(e, FileNotFoundError):
            return ObjectNotFoundError(errno.ENOENT, f"cannot {action} {where}: no such object")
        if isinstance(e, HttpError):  # a 4xx gcsfs raised from the answer: its text is shown
            return _http_failure(action, where, e.code or 0, str(e))
    return None


def _http_failure(action: str, where: str, status: int, detail: str) -> StorageError:
    todo = "the service failed or is busy; retry later" if status >= 500 else "check the request"
    return failed(action, where, f"HTTP {status} ({detail})" if detail else f"HTTP {status}", todo)


def _endpoint(loc: Location) -> str:
    return loc.endpoint_url or _GCS_ENDPOINT
