"""Azure Blob Storage (``az://``, ``abfs://``, ``https://<account>.blob.core.windows.net``): adlfs.

What this module adds to adlfs (see PITFALLS.md):

- credentials come from pxfs's configuration only (``[azure]`` in config.toml,
  ``AZURE_STORAGE_CONNECTION_STRING``, ``AZURE_STORAGE_ACCOUNT_NAME`` / ``_KEY``, as
  resolved by `pxfs.env.Env`), never from adlfs's own reading of the environment, and
  only for the configured account: another account (``https://other.blob...``) is
  accessed anonymously (public containers);
- bounded time: the async ``BlobServiceClient`` is built here with pxfs's
  ``request_timeout`` and ``retries`` (adlfs's defaults take ~80 s on a dead endpoint);
- read-only SAS URLs for one blob for `Storage.url`, never the configured SAS token unless
  the user opts in (``azure_url_share_sas_token``): it grants more than one blob;
- errors that name the container, the endpoint and what to do, and never a secret.

To support another way of authenticating, add a field to :class:`AzureClientSpec` and a
branch to :meth:`PxfsAzureBlobFileSystem.do_connect`.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import quote, urlsplit, urlunsplit

from adlfs import AzureBlobFileSystem
from fsspec.asyn import sync_wrapper

from ..errors import (
    AccessDeniedError,
    BucketNotFoundError,
    ConfigError,
    ObjectNotFoundError,
    StorageError,
)
from ._config import AzureSettings, StorageConfig
from ._errors import broken, bucket_missing, exception_chain, failed, timed_out, unreachable
from ._location import Location

__all__ = [
    "AzureClientSpec", "PxfsAzureBlobFileSystem", "direct_writer", "filesystem", "signed_url", "translate", "write_kwargs",
]

logger = logging.getLogger(__name__)

_CREDENTIALS_HINT = (
    "set account_name and account_key under [azure] in $PXFS_HOME/config.toml, or "
    "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY"
)
_NO_CONTAINER = {"ContainerNotFound", "ContainerBeingDeleted"}
_NO_BLOB = {"BlobNotFound", "ResourceNotFound"}
_DENIED = {
    "AuthenticationFailed", "AuthorizationFailure", "AuthorizationPermissionMismatch",
    "AuthorizationSourceIPMismatch", "AuthorizationProtocolMismatch", "AuthorizationResourceTypeMismatch",
    "AuthorizationServiceMismatch", "InsufficientAccountPermissions", "NoAuthenticationInformation",
    "AccountIsDisabled", "PublicAccessNotPermitted",
}
# Backoff before retry n (1, 2, ...): 0.5 + 1.5**n s (2, 2.75, 3.9, 5.6 ...), +-0.25 s jitter.
_INITIAL_BACKOFF = 0.5
_INCREMENT_BASE = 1.5
_JITTER = 0.25
# Azurite's well-known development key (public), for UseDevelopmentStorage=true.
_DEVSTORE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_BAD_NAME = {"InvalidResourceName", "OutOfRangeInput", "InvalidUri"}
_SAS_SKEW = timedelta(minutes=5)
# A SAS has no limit of its own; ten years keeps its expiry a date Python can write.
MAX_EXPIRES_IN = 3650 * 86400


@dataclass(frozen=True)
class AzureClientSpec:
    """How to reach one storage account: its URL, credentials and time bounds.

    Secrets (key, connection string, SAS token) are kept out of ``repr``; a spec is
    what `PxfsAzureBlobFileSystem` is built from, so it pickles with the filesystem.
    """

    account_name: str | None
    account_url: str | None
    account_key: str | None = field(default=None, repr=False)
    connection_string: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)
    request_timeout: float = 20.0
    retries: int = 1
    # May `signed_url` hand out `sas_token` when there is no key (azure_url_share_sas_token)?
    share_sas_token: bool = False

    @property
    def auth(self) -> str:
        """How requests are authenticated, for messages: never the secret itself."""
        if self.account_key:
            return "the account key"
        if self.connection_string:
            return "the connection string"
        if self.sas_token:
            return "the SAS token"
        return "no credentials (anonymous access)"


class PxfsAzureBlobFileSystem(AzureBlobFileSystem):  # type: ignore[misc]  # adlfs is untyped
    """adlfs's filesystem with a client built from an :class:`AzureClientSpec`.

    Only ``do_connect`` differs: the async ``BlobServiceClient`` gets pxfs's timeouts and
    retry budget, and credentials come from the spec, not from ``AZURE_STORAGE_*``.
    """

    def __init__(self, spec: AzureClientSpec, **kwargs: Any) -> None:
        self._spec = spec
        kwargs.setdefault("assume_container_exists", False)  # adlfs warns, then guesses, otherwise
        # anon=True keeps adlfs from building a DefaultAzureCredential we would not use.
        super().__init__(account_name=spec.account_name, anon=True, **kwargs)
        # adlfs filled these from AZURE_STORAGE_* in os.environ; pxfs's Env is the source.
        self.account_name = spec.account_name
        self.account_key = spec.account_key
        self.connection_string = spec.connection_string
        self.sas_token = spec.sas_token

    def do_connect(self) -> None:
        from azure.storage.blob.aio import BlobServiceClient

        spec = self._spec
        options: dict[str, Any] = {
            "retry_total": spec.retries,
            "retry_connect": spec.retries,
            "retry_read": spec.retries,
            "retry_status": spec.retries,
            "initial_backoff": _INITIAL_BACKOFF,
            "increment_base": _INCREMENT_BASE,
            "random_jitter_range": _JITTER,
            "connection_timeout": spec.request_timeout,
            "read_timeout": spec.request_timeout,
        }
        credential: Any = None
        if spec.account_key and spec.account_name:
            credential = {"account_name": spec.account_name, "account_key": spec.account_key}
        elif spec.sas_token:
            credential = spec.sas_token.lstrip("?")
        try:
            if spec.connection_string:
                client = BlobServiceClient.from_connection_string(
                    spec.connection_string, credential=credential, **options
                )
            elif spec.account_url:
                client = BlobServiceClient(account_url=spec.account_url, credential=credential, **options)
            else:
                raise ConfigError(f"no Azure storage account is configured; {_CREDENTIALS_HINT}")
        except ConfigError:
            raise
        except ValueError as e:  # a malformed connection string or URL; never echo it
            which = f" for account {spec.account_name!r}" if spec.account_name else ""
            raise ConfigError(
                f"the Azure connection settings{which} are malformed ({type(e).__name__}); check "
                "AZURE_STORAGE_CONNECTION_STRING, PXFS_AZURE_* or [azure] in config.toml"
            ) from None
        self.service_client = client
        parts = urlsplit(client.url)
        self.account_url = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))

    async def _rm(self, path: Any, *args: Any, **kwargs: Any) -> None:
        """Delete; blobs already gone are not an error (adlfs raises when none matched)."""
        try:
            await super()._rm(path, *args, **kwargs)
        except FileNotFoundError:
            pass

    rm = sync_wrapper(_rm)  # adlfs binds its own _rm to rm; rebind to this one

    def __repr__(self) -> str:
        return (
            f"PxfsAzureBlobFileSystem(account={self._spec.account_name!r}, "
            f"account_url={getattr(self, 'account_url', self._spec.account_url)!r}, auth={self._spec.auth!r})"
        )


def client_spec(loc: Location, config: StorageConfig) -> AzureClientSpec:
    """The account URL and credentials for `loc`: the configured ones for the configured
    account, anonymous access for any other account."""
    az = config.azure
    account = loc.account or az.account_name
    if account is not None and az.account_name is not None and account != az.account_name:
        url = loc.endpoint_url or f"https://{account}.blob.core.windows.net"
        return AzureClientSpec(
            account_name=account, account_url=url, request_timeout=config.request_timeout, retries=config.retries
        )
    key = az.account_key or _devstore_key(az)
    sas = az.sas_token or _connection_string_part(az.connection_string, "sharedaccesssignature")
    return AzureClientSpec(
        account_name=account,
        account_url=loc.endpoint_url or az.account_url,
        account_key=key,
        connection_string=az.connection_string,
        sas_token=sas,
        request_timeout=config.request_timeout,
        retries=config.retries,
        share_sas_token=az.share_sas_token,
    )


def filesystem(loc: Location, config: StorageConfig) -> PxfsAzureBlobFileSystem:
    """An adlfs filesystem for `loc`'s account, with bounded requests."""
    spec = client_spec(loc, config)
    if spec.account_url is None and spec.connection_string is None:
        raise ConfigError(f"{loc.uri}: no Azure storage account is configured; {_CREDENTIALS_HINT}")
    return PxfsAzureBlobFileSystem(spec, skip_instance_cache=True, asynchronous=False)


def direct_writer(loc: Location, config: StorageConfig, filesystem: Callable[[], Any]) -> Any:
    """Uploads by obstore (see :mod:`._azstore`) when the account is reached with its key;
    None (adlfs does everything) otherwise."""
    from ._azstore import writer_for

    spec = client_spec(loc, config)
    key = spec.account_key or _connection_string_part(spec.connection_string, "accountkey")
    return writer_for(spec, key, max(10, config.upload_concurrency or 32), filesystem)


def signed_url(fs: PxfsAzureBlobFileSystem, loc: Location, expires_in: int) -> str:
    """A read-only SAS URL for this one blob, valid for `expires_in` seconds, signed with
    the account key; the plain URL for anonymous access to a public container.

    With only a SAS token configured, a URL carrying it would grant everything the token
    allows (other blobs, listing, writing): :class:`AccessDeniedError`, unless the user
    opted in with ``azure_url_share_sas_token``.
    """
    spec = fs._spec
    url = f"{fs.account_url}/{quote(loc.bucket, safe='')}/{quote(loc.key, safe='/')}"
    if spec.account_key and spec.account_name:
        try:
            sas = _blob_sas(spec.account_name, spec.account_key, loc, expires_in)
        except ValueError as e:  # binascii.Error: the key is not base64; never echo it
            raise ConfigError(
                f"cannot sign a URL for {loc.uri}: the account key of storage account {spec.account_name!r} "
                f"is not valid base64 ({type(e).__name__}); {_CREDENTIALS_HINT}"
            ) from None
        return f"{url}?{sas}"
    if spec.sas_token:
        if not spec.share_sas_token:
            raise _token_not_shared(loc)
        return f"{url}?{spec.sas_token.lstrip('?')}"
    return url


def _blob_sas(account_name: str, account_key: str, loc: Location, expires_in: int) -> str:
    """A SAS that allows reading `loc` alone, for `expires_in` seconds."""
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas

    now = datetime.now(timezone.utc)
    return str(
        generate_blob_sas(
            account_name=account_name,
            container_name=loc.bucket,
            blob_name=loc.key,
            account_key=account_key,
            permission=BlobSasPermissions(read=True),
            start=now - _SAS_SKEW,
            expiry=now + timedelta(seconds=expires_in),
        )
    )


def _token_not_shared(loc: Location) -> AccessDeniedError:
    account = f"storage account {loc.account!r}" if loc.account else "the storage account"
    return AccessDeniedError(
        errno.EACCES,
        f"cannot make a URL for {loc.uri}: only a SAS token is configured for {account}, and a URL "
        "carrying it would grant whatever the token allows (other blobs, listing the container, "
        "writing), not this blob alone; configure the account key (azure_account_key, "
        "AZURE_STORAGE_ACCOUNT_KEY or account_key under [azure]) so pxfs signs a read-only URL for "
        "this blob, or map the container to a public base URL under [pxfs.public_urls], or set "
        "azure_url_share_sas_token = true to hand out the configured token",
    )


def write_kwargs(content_type: str | None) -> dict[str, Any]:
    return {"content_settings": {"content_type": content_type}} if content_type else {}


def translate(exc: BaseException, loc: Location, action: str) -> BaseException | None:
    """The pxfs error for an azure-core / adlfs failure, or None if not ours."""
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceRequestTimeoutError,
        ServiceResponseError,
        ServiceResponseTimeoutError,
    )

    if isinstance(exc, (StorageError, ConfigError)):
        return exc
    where = f"{loc.uri} at {_endpoint(loc)}"
    chain = exception_chain(exc)
    for e in chain:
        if isinstance(e, ConfigError):
            return e
        if isinstance(e, (ServiceRequestTimeoutError, ServiceResponseTimeoutError, TimeoutError)):
            return timed_out(action, where)
        if isinstance(e, (ServiceRequestError, ServiceResponseError)):
            return unreachable(
                action, where, "that the account URL is right (BlobEndpoint of AZURE_STORAGE_CONNECTION_STRING)"
            )
        if isinstance(e, HttpResponseError):
            return _http_error(e, loc, action, where, isinstance(e, ClientAuthenticationError))
    for e in chain:
        if isinstance(e, FileNotFoundError):
            if e.filename == loc.bucket:  # adlfs names the container itself when it is missing
                return _no_container(loc, action)
            return ObjectNotFoundError(errno.ENOENT, f"cannot {action} {where}: no such blob")
        if isinstance(e, PermissionError):
            return _denied(loc, action, where, "")
    for e in chain:
        if isinstance(e, AzureError):  # e.g. an answer that could not be decoded
            return broken(action, where)
    return None


def _http_error(e: Any, loc: Location, action: str, where: str, auth: bool) -> BaseException:
    raw = getattr(e, "error_code", None)
    code = str(getattr(raw, "value", raw) or "")
    status = getattr(e, "status_code", None)
    if code in _NO_CONTAINER:
        return _no_container(loc, action)
    if auth or code in _DENIED or status in (401, 403):
        # No status: the client could not sign the request (a key that is not base64).
        return _denied(loc, action, where, code or (f"HTTP {status}" if status else type(e).__name__))
    if code in _NO_BLOB or status == 404:
        return ObjectNotFoundError(errno.ENOENT, f"cannot {action} {where}: no such blob")
    # No provider message: Azure's may quote request details; the code and status suffice.
    todo = "the service failed or is busy; retry later" if (status or 0) >= 500 else "check the request"
    if code in _BAD_NAME:
        todo = "check the names: a container has 3-63 lowercase letters, digits and single hyphens"
    return failed(action, where, f"{code or 'error'} (HTTP {status})", todo)


def _no_container(loc: Location, action: str) -> BucketNotFoundError:
    return bucket_missing(loc, action, _endpoint(loc), noun="container")


def _denied(loc: Location, action: str, where: str, code: str) -> AccessDeniedError:
    what = f" ({code})" if code else ""
    account = f"storage account {loc.account!r}" if loc.account else "the storage account"
    return AccessDeniedError(
        errno.EACCES,
        f"cannot {action} {where}: access denied{what}; check the key of {account} "
        f"({_CREDENTIALS_HINT}) and the container's permissions",
    )


def _endpoint(loc: Location) -> str:
    return loc.endpoint_url or "the Azure endpoint of the configured account"


def _devstore_key(az: AzureSettings) -> str | None:
    flag = _connection_string_part(az.connection_string, "usedevelopmentstorage")
    return _DEVSTORE_KEY if flag and flag.lower() == "true" else None


def _connection_string_part(conn: str | None, name: str) -> str | None:
    for item in (conn or "").split(";"):
        key, sep, value = item.partition("=")
        if sep and key.strip().lower() == name:
            return value.strip()
    return None
