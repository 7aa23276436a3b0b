"""URI -> :class:`Location`. Pure: no I/O, no client.

Accepted forms (a parametrized test walks this list):

==============================================================  =======  ==============================
form                                                            kind     notes
==============================================================  =======  ==============================
``/abs/path``, ``relative/path``, ``file:///abs/path``          local    made absolute
``s3://bucket/key``                                             s3       endpoint from the AWS chain
``r2://bucket/key``, ``b2://bucket/key``, ``tigris://b/key``    s3       built-in aliases
``<alias>://bucket/key``                                        s3       ``[pxfs.schemes.<alias>]``
``https://t3.storage.dev/bucket/key``                           s3       Tigris (also fly.storage.tigris.dev)
``gs://bucket/key``, ``gcs://bucket/key``                       gcs
``az://container/key``, ``abfs://container/key``                azure    account from configuration
``abfs://container@account.dfs.core.windows.net/key``           azure
``https://account.blob.core.windows.net/container/key``        azure
``<BlobEndpoint of the connection string>/container/key``      azure    Azurite: http://127.0.0.1:P/devstoreaccount1/...
``http(s)://anything/else``                                     http     a source only
==============================================================  =======  ==============================
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlsplit

from ..errors import InvalidURIError, UnsupportedDestinationError
from ._config import StorageConfig
from ._location import Location

__all__ = ["RESERVED_SCHEMES", "check_destination", "parse_uri"]

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*)://")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{2,221}$")
_AZURE_HOST = re.compile(r"^([a-z0-9]{3,24})\.blob\.core\.windows\.net$")
_ABFS_NETLOC = re.compile(r"^([^@]+)@([a-z0-9]{3,24})\.(?:dfs|blob)\.core\.windows\.net$")
_GCS_SCHEMES = ("gs", "gcs")
_AZURE_SCHEMES = ("az", "abfs", "abfss")
# Schemes a [pxfs.schemes.<alias>] table cannot redefine.
RESERVED_SCHEMES = ("file", "http", "https", *_GCS_SCHEMES, *_AZURE_SCHEMES, "s3")


def parse_uri(uri: str | os.PathLike[str], config: StorageConfig | None = None) -> Location:
    """Parse any URI form pxfs accepts into a :class:`Location`.

    Parameters
    ----------
    uri
        A URI or a local path (see the module docstring for every form).
    config
        Scheme aliases, endpoints and the Azure account; defaults to built-ins only.

    Raises
    ------
    InvalidURIError
        Unknown scheme, missing bucket, ``..`` in a key, empty string.

    Examples
    --------
    >>> parse_uri("s3://my-images/thumbnails/").path
    'my-images/thumbnails'
    """
    config = config or StorageConfig()
    if isinstance(uri, os.PathLike):
        uri = os.fspath(uri)
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidURIError(f"expected a URI or a path, got {uri!r}")
    uri = uri.strip()
    m = _SCHEME.match(uri)
    if m is None:
        return _local(uri)
    scheme = m.group(1).lower()
    if scheme == "file":
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            raise InvalidURIError(f"file URI {uri!r} names host {parts.netloc!r}; use file:///absolute/path")
        return _local(unquote(parts.path))
    if scheme in config.schemes:
        spec = config.schemes[scheme]
        bucket, key = _bucket_and_key(uri, uri[m.end():])
        return Location(
            kind="s3", scheme=scheme, bucket=bucket, key=key, uri=_join(f"{scheme}://{bucket}", key),
            endpoint_url=spec.endpoint_url, profile=spec.profile,
        )
    if scheme in _GCS_SCHEMES:
        bucket, key = _bucket_and_key(uri, uri[m.end():])
        return Location(
            kind="gcs", scheme=scheme, bucket=bucket, key=key, uri=_join(f"{scheme}://{bucket}", key),
            endpoint_url=config.gcs.endpoint_url,
        )
    if scheme in _AZURE_SCHEMES:
        return _azure_scheme(uri, scheme, uri[m.end():], config)
    if scheme in ("http", "https"):
        return _http(uri, config)
    known = sorted({*config.schemes, *_GCS_SCHEMES, *_AZURE_SCHEMES, "file", "http", "https"})
    raise InvalidURIError(
        f"unknown scheme {scheme!r} in {uri!r}; use one of {', '.join(known)}, "
        f"or define an S3-compatible alias in config.toml under [pxfs.schemes.{scheme}]"
    )


def check_destination(loc: Location) -> Location:
    """Raise unless media can be written to `loc` (any kind but a plain http(s) site)."""
    if loc.kind == "http":
        raise UnsupportedDestinationError(
            f"{loc.uri!r} is a web address, not storage pxfs can write to; use a bucket URI "
            "(s3://, r2://, b2://, gs://, az://, https://<account>.blob.core.windows.net/...) "
            "or a local folder"
        )
    return loc


def _local(path: str) -> Location:
    absolute = os.path.abspath(os.path.expanduser(path))
    if os.sep != "/":  # pragma: no cover - pxfs targets POSIX
        absolute = absolute.replace(os.sep, "/")
    return Location(kind="local", scheme="file", bucket="", key=absolute, uri="file://" + absolute)


def _bucket_and_key(uri: str, rest: str) -> tuple[str, str]:
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise InvalidURIError(f"{uri!r} names no bucket; expected scheme://bucket/prefix")
    if not _BUCKET.match(bucket):
        raise InvalidURIError(
            f"{uri!r}: {bucket!r} is not a valid bucket name "
            "(lowercase letters, digits, '.', '-' and '_', 3 characters or more)"
        )
    return bucket, _clean_key(uri, key)


def _clean_key(uri: str, key: str) -> str:
    key = unquote(key.split("?", 1)[0]).strip("/")
    if not key:
        return ""
    segments = key.split("/")
    if any(s in ("", ".", "..") for s in segments):
        raise InvalidURIError(f"{uri!r} has an empty, '.' or '..' segment in its key {key!r}")
    return key


def _join(root: str, key: str) -> str:
    return f"{root}/{key}" if key else root


def _azure_scheme(uri: str, scheme: str, rest: str, config: StorageConfig) -> Location:
    netloc, _, key = rest.partition("/")
    account = config.azure.account_name
    m = _ABFS_NETLOC.match(netloc)
    if m:
        container, account = m.group(1), m.group(2)
    else:
        container = netloc
    if not container:
        raise InvalidURIError(f"{uri!r} names no container; expected {scheme}://container/path")
    key = _clean_key(uri, key)
    return Location(
        kind="azure", scheme=scheme, bucket=container, key=key, uri=_join(f"{scheme}://{netloc}", key),
        endpoint_url=_azure_account_url(account, config), account=account,
    )


def _azure_account_url(account: str | None, config: StorageConfig) -> str | None:
    if account and account != config.azure.account_name:
        return f"https://{account}.blob.core.windows.net"
    return config.azure.account_url


def _http(uri: str, config: StorageConfig) -> Location:
    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidURIError(f"{uri!r} names no host")
    blob_endpoint = config.azure.blob_endpoint
    if blob_endpoint and uri.startswith(blob_endpoint.rstrip("/") + "/"):
        base = blob_endpoint.rstrip("/")
        container, key = _container_and_key(uri, uri[len(base) + 1:])
        return Location(
            kind="azure", scheme=parts.scheme, bucket=container, key=key,
            uri=_join(f"{base}/{container}", key), endpoint_url=base, account=config.azure.account_name,
        )
    m = _AZURE_HOST.match(host)
    if m:
        account = m.group(1)
        container, key = _container_and_key(uri, parts.path.lstrip("/"))
        base = f"https://{host}"
        return Location(
            kind="azure", scheme="https", bucket=container, key=key, uri=_join(f"{base}/{container}", key),
            endpoint_url=_azure_account_url(account, config), account=account,
        )
    for spec in config.schemes.values():
        if host in spec.hosts:
            bucket, key = _bucket_and_key(uri, parts.path.lstrip("/"))
            return Location(
                kind="s3", scheme=spec.name, bucket=bucket, key=key,
                uri=_join(f"{parts.scheme}://{parts.netloc}/{bucket}", key),
                endpoint_url=spec.endpoint_url, profile=spec.profile,
            )
    return Location(kind="http", scheme=parts.scheme, bucket="", key=parts.path, uri=uri)


def _container_and_key(uri: str, rest: str) -> tuple[str, str]:
    container, _, key = rest.partition("/")
    if not container:
        raise InvalidURIError(f"{uri!r} names no container; expected .../container/path")
    return container, _clean_key(uri, key)
