"""S3 and every S3-compatible scheme (r2, b2, tigris, user aliases): s3fs on aiobotocore.

What this module adds to s3fs (see PITFALLS.md): path-style addressing for local
endpoints, bounded requests (no ``Expect: 100-continue`` hang, one retrying layer:
botocore's), errors that name the bucket and the endpoint, and an obstore companion
(:mod:`._s3store`) built from the same resolved settings for batch uploads and presigned
URLs (``s3_direct_put = false`` leaves both to s3fs).
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from ..errors import (
    AccessDeniedError,
    ConfigError,
    ObjectNotFoundError,
    StorageError,
)
from ._config import BUILTIN_ALIASES, SchemeSpec, StorageConfig, redacted
from ._errors import broken, bucket_missing, exception_chain, failed, timed_out, unreachable
from ._location import Location
from ._s3store import ObstoreS3, S3Settings
from ._writers import ObstoreWriter

if TYPE_CHECKING:
    import s3fs

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_DENIED = {
    "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
    "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed", "Forbidden", "403",
}
_NO_BUCKET = {"NoSuchBucket"}
_NO_KEY = {"NoSuchKey", "404", "NotFound"}
_BAD_NAME = {"InvalidBucketName", "KeyTooLongError", "InvalidURI", "InvalidObjectName"}
MAX_EXPIRES_IN = 7 * 86400  # SigV4 presigned URLs last a week at most


def checked_spec(loc: Location, config: StorageConfig) -> SchemeSpec:
    """The scheme's settings, or ConfigError for a missing or malformed endpoint."""
    spec = config.schemes[loc.scheme]
    if loc.endpoint_url is None and loc.scheme != "s3":
        raise ConfigError(f"{loc.uri}: {loc.scheme}:// needs an endpoint; set {spec.endpoint_hint}")
    _check_endpoint(loc)
    return spec


def filesystem(loc: Location, config: StorageConfig) -> s3fs.S3FileSystem:
    """An S3FileSystem for `loc`'s scheme, endpoint and profile."""
    import botocore.handlers
    import s3fs
    from aiobotocore.session import AioSession

    spec = checked_spec(loc, config)
    session = AioSession(profile=spec.profile) if spec.profile else AioSession()
    # botocore's Expect: 100-continue makes aiohttp wait forever on a silent server.
    session.unregister("before-call.s3", botocore.handlers.add_expect_header)
    config_kwargs: dict[str, Any] = {
        "signature_version": "s3v4",
        "connect_timeout": min(5.0, config.request_timeout),
        "read_timeout": config.request_timeout,
        "retries": {"max_attempts": config.retries + 1, "mode": "standard"},
        "max_pool_connections": max(10, config.upload_concurrency or 64),
        # botocore >= 1.36 adds a CRC32 of every body by default; S3 does not require it
        # for PutObject and it costs client CPU per upload.
        "request_checksum_calculation": "when_required",
    }
    host = urlsplit(loc.endpoint_url or "").hostname
    if host in _LOCAL_HOSTS:
        config_kwargs["s3"] = {"addressing_style": "path"}
    config_kwargs.update(spec.config_kwargs)
    client_kwargs = dict(spec.client_kwargs)
    region = S3Settings.region_of(loc, spec)  # the region obstore uses too
    if region is not None:
        client_kwargs.setdefault("region_name", region)
    fs = s3fs.S3FileSystem(
        session=session,
        endpoint_url=loc.endpoint_url,
        config_kwargs=config_kwargs,
        client_kwargs=client_kwargs,
        skip_instance_cache=True,
        cache_regions=False,
    )
    fs.retries = 1  # exactly one layer retries: botocore's, configured above
    _connect(fs, loc)
    return fs


def _check_endpoint(loc: Location) -> None:
    """ConfigError unless the endpoint is an http(s) URL with a host (botocore says less)."""
    if loc.endpoint_url is None:
        return
    try:
        parts = urlsplit(loc.endpoint_url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a bad port or IPv6 address
        ok = False
    if not ok:
        raise ConfigError(
            f"{loc.uri}: the endpoint {redacted(loc.endpoint_url)!r} of {loc.scheme}:// is not an http(s) URL "
            f"with a host; fix {_hint(loc)}"
        )


def _connect(fs: s3fs.S3FileSystem, loc: Location) -> None:
    """Create the botocore client now, so that settings it refuses are reported as such.

    A missing profile is left to :func:`translate`; client options, region and retry
    settings botocore refuses become a ConfigError (no value is echoed: options may hold
    secrets).
    """
    import botocore.exceptions as bex

    try:
        fs.connect()
    except bex.ProfileNotFound:
        raise
    except (TypeError, ValueError, bex.BotoCoreError) as e:
        raise ConfigError(
            f"{loc.uri}: botocore does not accept the settings of {loc.scheme}:// ({type(e).__name__}); "
            f"check {_settings_hint(loc)}"
        ) from e


def direct_writer(loc: Location, config: StorageConfig, filesystem: Callable[[], Any]) -> Any:
    """Uploads and presigned URLs by obstore (see :mod:`._s3store`), the s3fs filesystem
    (built by `filesystem` on first need) for what obstore leaves; None with
    ``s3_direct_put = false`` or where obstore cannot follow botocore's settings."""
    if not config.s3_direct_put:
        return None
    spec = checked_spec(loc, config)
    if spec.client_kwargs or spec.config_kwargs:
        filesystem()  # botocore checks the alias's own options now: a ConfigError names them
    settings = S3Settings.resolve(loc, spec, config)
    return None if settings is None else _ObstoreWriter(ObstoreS3(settings), filesystem)


class _ObstoreWriter(ObstoreWriter):
    """:class:`._writers.ObstoreWriter` for S3, with presigned URLs by obstore."""

    def __init__(self, fast: ObstoreS3, filesystem: Callable[[], Any]) -> None:
        super().__init__(fast, filesystem, _plain_content_type)
        self.fast: ObstoreS3 = fast

    def sign(self, locs: list[Location], expires_in: int) -> list[str]:
        """Presigned GET URLs: obstore's, botocore's for keys obstore would re-encode."""
        out: list[str | None] = [None] * len(locs)
        by_bucket: dict[str, list[int]] = {}
        for i, loc in enumerate(locs):
            if self.fast.usable(loc):
                by_bucket.setdefault(loc.bucket, []).append(i)
            else:
                out[i] = signed_url(self.fs(), loc, expires_in)
        for items in by_bucket.values():
            for i, url in zip(items, self.fast.sign([locs[i] for i in items], expires_in)):
                out[i] = url
        return [str(u) for u in out]


def signed_url(fs: s3fs.S3FileSystem, loc: Location, expires_in: int) -> str:
    """A SigV4 presigned GET URL by botocore (obstore's are made by :class:`_ObstoreWriter`)."""
    return str(fs.url(loc.path, expires=expires_in))


def write_kwargs(content_type: str | None) -> dict[str, Any]:
    return {"ContentType": content_type} if content_type else {}


def _plain_content_type(kwargs: dict[str, Any]) -> tuple[bool, str | None]:
    """(True, the content type) when `kwargs` of :func:`write_kwargs` hold nothing else."""
    return not set(kwargs) - {"ContentType"}, kwargs.get("ContentType")


def _endpoint(loc: Location) -> str:
    return loc.endpoint_url or "the default AWS S3 endpoint"


def translate(exc: BaseException, loc: Location, action: str) -> BaseException | None:
    """The pxfs error for a botocore / s3fs / aiohttp failure, or None if not ours."""
    import botocore.exceptions as bex

    if isinstance(exc, (StorageError, ConfigError)):
        return exc
    where = f"{loc.uri} at {_endpoint(loc)}"
    chain = exception_chain(exc)
    for e in chain:
        if isinstance(e, bex.ProfileNotFound):
            return ConfigError(
                f"{loc.uri}: AWS profile {e.kwargs.get('profile')!r} for {loc.scheme}:// is not in the AWS "
                f"credentials or config files; fix {_profile_key(loc)} or add the profile"
            )
        if isinstance(e, bex.NoCredentialsError):
            return AccessDeniedError(
                errno.EACCES,
                f"cannot {action} {where}: no AWS credentials found; set {_profile_key(loc)} "
                "(a profile in ~/.aws/credentials) or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
            )
        if isinstance(e, _credential_errors()):
            return AccessDeniedError(
                errno.EACCES,
                f"cannot {action} {where}: the AWS credentials could not be loaded ({type(e).__name__}); "
                f"check {_profile_key(loc)}, the profile in ~/.aws and AWS_* variables",
            )
        if isinstance(e, (bex.ReadTimeoutError, bex.ConnectTimeoutError, TimeoutError)):
            return timed_out(action, where)
        if isinstance(e, bex.ConnectionError):  # refused, unresolvable, proxy, TLS
            return unreachable(action, where, f"that the endpoint URL is right ({_hint(loc)})")
        if isinstance(e, bex.HTTPClientError):  # closed mid-answer, unreadable answer
            return broken(action, where)
        if isinstance(e, bex.ClientError):
            return _client_error(e, loc, action, where)
    if isinstance(exc, FileNotFoundError):
        return ObjectNotFoundError(errno.ENOENT, f"cannot {action} {where}: not found")
    if isinstance(exc, PermissionError):
        return AccessDeniedError(errno.EACCES, f"cannot {action} {where}: access denied")
    for e in chain:
        if isinstance(e, (bex.ParamValidationError, bex.ValidationError)):
            return failed(action, where, f"botocore refused the request ({type(e).__name__})",
                          "check the bucket and object names")
        if isinstance(e, bex.BotoCoreError):
            return failed(action, where, f"botocore failed ({type(e).__name__})", f"check {_settings_hint(loc)}")
    return None


def _credential_errors() -> tuple[type[Exception], ...]:
    import botocore.exceptions as bex

    return (
        bex.PartialCredentialsError, bex.CredentialRetrievalError, bex.UnknownCredentialError,
        bex.NoAuthTokenError, bex.TokenRetrievalError, bex.SSOError, bex.LoginError,
        bex.MetadataRetrievalError, bex.RefreshWithMFAUnsupportedError,
    )


def _client_error(e: Any, loc: Location, action: str, where: str) -> BaseException:
    err = e.response.get("Error", {})
    code = str(err.get("Code", ""))
    status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _NO_BUCKET:
        return bucket_missing(loc, action, _endpoint(loc))
    if code in _DENIED or status == 403:
        return AccessDeniedError(
            errno.EACCES,
            f"cannot {action} {where}: access denied ({code}); check the credentials of "
            f"{_profile_key(loc)} and the bucket's permissions",
        )
    if code in _NO_KEY or status == 404:
        return ObjectNotFoundError(errno.ENOENT, f"cannot {action} {where}: no such object")
    message = str(err.get("Message") or "")
    what = f"{code or f'HTTP {status}'}{f' ({message})' if message else ''}"
    if isinstance(status, int) and status >= 500:
        return failed(action, where, what, "the service failed or is busy; retry later")
    if code in _BAD_NAME:
        return failed(action, where, what, "check the bucket and object names")
    return failed(action, where, what, "the endpoint refused the request; look the code up in its documentation")


def _profile_key(loc: Location) -> str:
    if loc.scheme in BUILTIN_ALIASES:
        return f"{loc.scheme}_profile"
    return f"profile in [pxfs.schemes.{loc.scheme}]"


def _settings_hint(loc: Location) -> str:
    if loc.scheme in BUILTIN_ALIASES:
        return f"{_hint(loc)}, {_profile_key(loc)} and the region of that profile or AWS_* variables"
    return f"endpoint_url, profile, client_kwargs and config_kwargs in [pxfs.schemes.{loc.scheme}]"


def _hint(loc: Location) -> str:
    if loc.scheme == "s3":
        return "s3_endpoint_url or AWS_ENDPOINT_URL_S3"
    if loc.scheme in BUILTIN_ALIASES:
        return f"{loc.scheme}_endpoint_url"
    return f"endpoint_url in [pxfs.schemes.{loc.scheme}]"
