"""What the storage layer needs to know from configuration, as one frozen value.

`pxfs.env.Env` builds a :class:`StorageConfig` from ``pxfs.init()``, ``PXFS_*`` variables
and ``config.toml``; the storage layer never reads configuration itself. To add an
S3-compatible provider, add a row to :data:`BUILTIN_ALIASES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Mapping

BackendType = Literal["s3"]

MASK = "****"
# A key whose name contains one of these holds a secret: its value is shown as MASK.
_SECRET_WORDS = ("secret", "key", "token", "password", "passwd", "credential", "sas")
_URL_PASSWORD = re.compile(r"(?<=://)([^/@\s:]*):[^/@\s]*@")


def is_secret_name(name: object) -> bool:
    """True if a configuration key's name says it holds a secret (``aws_secret_access_key``, ...)."""
    lowered = str(name).lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redacted(value: Any) -> Any:
    """`value` fit to show: values of secret-named keys (at any depth) become ``"****"``,
    and a password in a URL (``https://user:pw@host``) too; everything else is kept.

    >>> redacted({"region_name": "eu-west-1", "aws_secret_access_key": "abc"})
    {'region_name': 'eu-west-1', 'aws_secret_access_key': '****'}
    """
    if isinstance(value, Mapping):
        return {k: MASK if is_secret_name(k) and v else redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redacted(v) for v in value)
    if isinstance(value, str) and "@" in value and "://" in value:
        return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", value)
    return value


def _masked_repr(obj: Any) -> str:
    """A dataclass repr with every shown field passed through :func:`redacted`."""
    shown = ", ".join(f"{f.name}={redacted(getattr(obj, f.name))!r}" for f in fields(obj) if f.repr)
    return f"{type(obj).__name__}({shown})"


@dataclass(frozen=True)
class SchemeSpec:
    """An S3-compatible scheme: ``s3`` itself, the built-in r2/b2/tigris, or a user alias.

    ``hosts`` are https hosts whose URLs mean this scheme (Tigris's ``t3.storage.dev``).
    ``client_kwargs`` go to botocore's client (``region_name``, ...); ``config_kwargs`` to
    ``botocore.config.Config`` (``s3={"addressing_style": "path"}``, ...). ``repr`` shows
    them with the values of secret-named keys (``aws_secret_access_key``, ...) masked.
    """

    name: str
    type: BackendType = "s3"
    endpoint_url: str | None = None
    profile: str | None = None
    hosts: tuple[str, ...] = ()
    client_kwargs: Mapping[str, Any] = field(default_factory=dict)
    config_kwargs: Mapping[str, Any] = field(default_factory=dict)
    # Which configuration key to tell the user to set when the endpoint is missing.
    endpoint_hint: str = ""

    def __repr__(self) -> str:
        return _masked_repr(self)


# scheme -> (profile key, endpoint hint, https hosts). Endpoints are resolved by Env.
BUILTIN_ALIASES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "b2": ("b2_profile", "b2_endpoint_url or b2_region", ()),
    "r2": ("r2_profile", "r2_endpoint_url or r2_account_id", ()),
    "s3": ("s3_profile", "s3_endpoint_url or AWS_ENDPOINT_URL_S3", ()),
    "tigris": ("tigris_profile", "tigris_endpoint_url", ("t3.storage.dev", "fly.storage.tigris.dev")),
}
assert list(BUILTIN_ALIASES) == sorted(BUILTIN_ALIASES)


@dataclass(frozen=True)
class AzureSettings:
    """Azure Blob credentials. Secrets are kept out of ``repr``.

    ``share_sas_token``: whether ``.url`` may hand out the configured SAS token when there
    is no account key to sign a URL for one blob (``azure_url_share_sas_token``).
    """

    account_name: str | None = None
    account_key: str | None = field(default=None, repr=False)
    connection_string: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)
    # The account's blob endpoint when it is not https://<account>.blob.core.windows.net
    # (Azurite: http://127.0.0.1:PORT/devstoreaccount1), from the connection string.
    blob_endpoint: str | None = None
    share_sas_token: bool = False

    def __repr__(self) -> str:
        return _masked_repr(self)

    @property
    def account_url(self) -> str | None:
        if self.blob_endpoint:
            return self.blob_endpoint.rstrip("/")
        if self.account_name:
            return f"https://{self.account_name}.blob.core.windows.net"
        return None


@dataclass(frozen=True)
class GcsSettings:
    """GCS: an emulator endpoint (``STORAGE_EMULATOR_HOST``) and a credentials file."""

    endpoint_url: str | None = None
    credentials_file: str | None = None
    project: str | None = None

    def __repr__(self) -> str:
        shown = self.credentials_file
        if shown is not None and not _looks_like_path(shown):
            shown = MASK  # the key itself pasted into GOOGLE_APPLICATION_CREDENTIALS
        return f"GcsSettings(endpoint_url={self.endpoint_url!r}, credentials_file={shown!r}, project={self.project!r})"


def _looks_like_path(text: str) -> bool:
    """False for text that is not a file name (JSON, PEM, several lines)."""
    return len(text) < 1024 and not any(c in text for c in "{}\n")


@dataclass(frozen=True)
class StorageConfig:
    """Everything the storage layer reads from configuration.

    Examples
    --------
    >>> cfg = StorageConfig(cache_dir=Path("/tmp/pxfs-cache"))
    >>> cfg.schemes["s3"].name
    's3'
    """

    cache_dir: Path = Path("~/.pxfs/cache").expanduser()
    schemes: Mapping[str, SchemeSpec] = field(
        default_factory=lambda: {name: SchemeSpec(name=name) for name in BUILTIN_ALIASES}
    )
    azure: AzureSettings = AzureSettings()
    gcs: GcsSettings = GcsSettings()
    # (uri prefix, public base URL), longest prefix first.
    public_urls: tuple[tuple[str, str], ...] = ()
    cache_size_bytes: int = 10 * 2**30
    upload_concurrency: int | None = None
    # Seconds one request may take (connect and read); a dead endpoint fails within
    # about (retries + 1) * request_timeout.
    request_timeout: float = 20.0
    retries: int = 1
    # S3 batch uploads and presigned URLs by obstore (see _s3store); False: all by s3fs.
    s3_direct_put: bool = True
