"""Google Cloud Storage (``gs://``, ``gcs://``): gcsfs.

What this module adds to gcsfs (see PITFALLS.md):

- always the plain ``gcsfs.core.GCSFileSystem``: gcsfs 2026.10's default class probes
  every bucket over gRPC (60 s per call against an emulator);
- ``STORAGE_EMULATOR_HOST`` means anonymous access to that endpoint, with no probe of a
  metadata server; otherwise ``GOOGLE_APPLICATION_CREDENTIALS`` is the token (or, when
  unset, gcsfs's own default chain);
- bounded time: gcsfs retries 6 times in layers fixed at import (up to 36 attempts for
  one download) and sets no aiohttp timeout; here exactly one layer retries, ``retries``
  times, and every request has pxfs's ``request_timeout`` for connect and each read;
- a 404 on an upload, or one whose body says so, is a missing bucket (gcsfs reports every
  404 as a bare ``FileNotFoundError``);
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
from typing import Any
from urllib.parse import quote

from fsspec.asyn import sync_wrapper
from gcsfs.core import GCSFileSystem
from gcsfs.retry import HttpError, is_retriable, validate_response

from ..errors import (
    AccessDeniedError,
    ConfigError,
    ObjectNotFoundError,
    StorageError,
)
from ._config import StorageConfig
from ._errors import broken, bucket_missing, exception_chain, failed, shown_path, timed_out, unreachable
from ._location import Location

__all__ = ["PxfsGCSFileSystem", "filesystem", "signed_url", "translate", "write_kwargs"]

logger = logging.getLogger(__name__)

_GCS_ENDPOINT = "https://storage.googleapis.com"
_CREDENTIALS_HINT = "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file"
# Backoff between retries: 0.5 s, 1 s, 2 s, ... capped at 8 s, each with up to 50% jitter.
_BACKOFF = 0.5
_MAX_BACKOFF = 8.0
MAX_EXPIRES_IN = 7 * 86400  # V4 signed URLs last a week at most
_DOWNLOAD_CHUNK = 16 * 2**20


class _NotFound(FileNotFoundError):
    """A 404 from GCS; ``bucket_missing`` when it is the bucket that does not exist."""

    def __init__(self, url: str, bucket_missing: bool) -> None:
        super().__init__(errno.ENOENT, "bucket not found" if bucket_missing else "not found", url)
        self.bucket_missing = bucket_missing


class _RequesterPays(PermissionError):
    """A requester-pays bucket, which pxfs cannot bill a project for yet."""


class _Forbidden(PermissionError):
    """A 403 from GCS. gcsfs raises ``OSError("Forbidden: <url>\\n<message>")`` and, for an
    object GET, falls back to a listing when the text starts with "Forbidden": keep it."""


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


class PxfsGCSFileSystem(GCSFileSystem):  # type: ignore[misc]  # gcsfs is untyped
    """``gcsfs.core.GCSFileSystem`` with one retrying layer and 404s that say what is missing.

    gcsfs decorates ``_request`` and its two downloaders with a 6-attempt retry fixed at
    import time (they stack). Here ``_request`` runs under :meth:`_retrying`, which makes
    ``retries + 1`` attempts at most, around single requests, and downloads (``_get_file``)
    are ranged reads through ``_cat_file``, so through that same ``_request``.
    """

    def __init__(self, *, pxfs_retries: int, pxfs_auth: _Auth, **kwargs: Any) -> None:
        self._pxfs_retries = pxfs_retries
        self._pxfs_auth = pxfs_auth
        self._signer: Any = None
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        return (
            f"PxfsGCSFileSystem(endpoint={self._location!r}, auth={self._pxfs_auth.describe()!r}, "
            f"retries={self._pxfs_retries})"
        )

    async def _retrying(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        attempts = self._pxfs_retries + 1
        for attempt in range(attempts):
            if attempt:
                delay = min(_BACKOFF * 2 ** (attempt - 1), _MAX_BACKOFF)
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
            try:
                return await func(self, *args, **kwargs)
            except Exception as e:
                if isinstance(e, HttpError) and e.code == 400 and "requester pays" in str(e.message):
                    raise _RequesterPays(errno.EACCES, "requester-pays bucket") from e
                if attempt == attempts - 1 or isinstance(e, FileNotFoundError) or not is_retriable(e):
                    raise
                logger.debug("GCS %s: retrying after %s", getattr(func, "__name__", "request"), type(e).__name__)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _request(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        return await self._retrying(_request_once, method, path, *args, **kwargs)

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

    async def _rm(self, path: Any, *args: Any, **kwargs: Any) -> Any:
        """Delete; objects already gone are not an error (gcsfs raises when none was deleted)."""
        try:
            return await super()._rm(path, *args, **kwargs)
        except FileNotFoundError as e:
            if any(isinstance(c, _NotFound) and c.bucket_missing for c in exception_chain(e)):
                raise
            return []

    rm = sync_wrapper(_rm)  # gcsfs binds its own _rm to rm; rebind to this one


async def _request_once(
    self: PxfsGCSFileSystem,
    method: str,
    path: str,
    *args: Any,
    headers: Any = None,
    json: Any = None,  # noqa: A002 - gcsfs's keyword
    data: Any = None,
    cache_type: Any = None,
    cache_source: Any = None,
    **kwargs: Any,
) -> Any:
    """gcsfs's ``GCSFileSystem._request`` (2026.10.1) without its retry decorator, and
    with 403 / 404 raised as :class:`_Forbidden` / :class:`_NotFound`."""
    await self._set_session()
    if hasattr(data, "seek"):
        data.seek(0)
    url = self._format_path(path, args)
    async with self.session.request(
        method=method,
        url=url,
        params=self._get_params(kwargs),
        json=json,
        headers=self._get_headers(headers, cache_type=cache_type, cache_source=cache_source),
        data=data,
        timeout=self.requests_timeout,
    ) as r:
        status = r.status
        out_headers = r.headers
        info = r.request_info
        contents = await r.read()
        if status == 404:
            raise _NotFound(url.split("?", 1)[0], _says_bucket_missing(url, contents))
        if status == 403:
            raise _Forbidden(f"Forbidden: {url.split('?', 1)[0]}\n{_error_message(contents)}")
        validate_response(status, contents, path, args)
        return status, out_headers, info, contents


def _says_bucket_missing(url: str, contents: bytes) -> bool:
    """True for a 404 on an upload (only the bucket can be missing) or whose body says so."""
    if "/upload/storage/v1/b/" in url:
        return True
    return "bucket does not exist" in _error_message(contents).lower()


def _error_message(contents: bytes) -> str:
    try:
        error = json.loads(contents)["error"]
    except (ValueError, KeyError, TypeError):
        return ""
    return str(error.get("message", "") if isinstance(error, dict) else error)


def filesystem(loc: Location, config: StorageConfig) -> PxfsGCSFileSystem:
    """A gcsfs filesystem for the configured endpoint and credentials, with bounded requests."""
    import aiohttp
    import google.auth.exceptions

    gcs = config.gcs
    if gcs.credentials_file and not os.path.isfile(gcs.credentials_file):
        raise ConfigError(
            f"{loc.uri}: GOOGLE_APPLICATION_CREDENTIALS names {shown_path(gcs.credentials_file)}, which is not "
            "a file; set it to the path of a service-account key file, or unset it"
        )
    auth = _Auth(endpoint_url=gcs.endpoint_url, credentials_file=gcs.credentials_file)
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=config.request_timeout, sock_read=config.request_timeout
    )
    kwargs: dict[str, Any] = {
        "token": auth.token,
        "endpoint_url": gcs.endpoint_url,
        "requests_timeout": timeout,
        "skip_instance_cache": True,
        "asynchronous": False,
    }
    if gcs.project:
        kwargs["project"] = gcs.project
    try:
        return PxfsGCSFileSystem(pxfs_retries=config.retries, pxfs_auth=auth, **kwargs)
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
        return str(
            blob.generate_signed_url(
                expiration=timedelta(seconds=expires_in),
                api_access_endpoint=(endpoint or _GCS_ENDPOINT).rstrip("/"),
                method="GET",
                version="v4",
                credentials=signer,
            )
        )
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
    if fs._signer is None:
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
        fs._signer = signer
    return fs._signer or None


def write_kwargs(content_type: str | None) -> dict[str, Any]:
    return {"content_type": content_type} if content_type else {}


def translate(exc: BaseException, loc: Location, action: str) -> BaseException | None:
    """The pxfs error for a gcsfs / aiohttp / google-auth failure, or None if not ours."""
    import aiohttp
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
        if isinstance(e, _RequesterPays):
            return AccessDeniedError(
                errno.EACCES,
                f"cannot {action} {where}: bucket {loc.bucket!r} is requester-pays, which pxfs does not "
                "support yet; use another bucket",
            )
        if isinstance(e, TimeoutError):  # aiohttp's ServerTimeoutError and asyncio's
            return timed_out(action, where)
        if isinstance(e, aiohttp.ServerDisconnectedError):
            return broken(action, where)
        if isinstance(e, aiohttp.ClientConnectionError):
            return unreachable(action, where, "that STORAGE_EMULATOR_HOST is right, for an emulator")
        if isinstance(e, aiohttp.ClientError):  # an answer that could not be read
            return broken(action, where)
        if isinstance(e, google.auth.exceptions.GoogleAuthError):
            # Not the provider's text: it may quote token details.
            return AccessDeniedError(
                errno.EACCES,
                f"cannot {action} {where}: Google credentials could not be used ({type(e).__name__}); "
                f"{_CREDENTIALS_HINT}",
            )
        if isinstance(e, PermissionError) or (isinstance(e, HttpError) and e.code in (401, 403)):
            return AccessDeniedError(
                errno.EACCES,
                f"cannot {action} {where}: access denied; check the credentials "
                f"({_CREDENTIALS_HINT}) and the bucket's permissions",
            )
        if isinstance(e, FileNotFoundError):
            return ObjectNotFoundError(errno.ENOENT, f"cannot {action} {where}: no such object")
        if isinstance(e, HttpError):
            todo = "the service failed or is busy; retry later" if (e.code or 0) >= 500 else "check the request"
            return failed(action, where, f"HTTP {e.code} ({e.message})", todo)
    return None


def _endpoint(loc: Location) -> str:
    return loc.endpoint_url or _GCS_ENDPOINT
