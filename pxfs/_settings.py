"""Every configuration key pxfs reads: its type, default, and what it does.

One table; ``PXFS_<KEY>`` variables, ``[pxfs]`` in ``config.toml``, ``pxfs.init({...})``
and the docs all derive from it. To add a key, add a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One configuration key."""

    key: str
    type: type
    default: Any
    doc: str
    secret: bool = False
    uri: bool = False
    minimum: float | None = None  # for numbers
    choices: tuple[str, ...] = ()  # for strings: the values allowed

    @property
    def env_var(self) -> str:
        return f"PXFS_{self.key.upper()}"


_ROWS = [
    Setting("azure_account_key", str, None, "Azure storage account key (else AZURE_STORAGE_ACCOUNT_KEY)", secret=True),
    Setting("azure_account_name", str, None, "Azure storage account (else AZURE_STORAGE_ACCOUNT_NAME)"),
    Setting("azure_connection_string", str, None, "Azure connection string (else AZURE_STORAGE_CONNECTION_STRING)", secret=True),
    Setting("azure_url_share_sas_token", bool, False, "when Azure has a SAS token but no account key, let .url return URLs carrying that token, which grant all it allows (other blobs, listing, writing); false: such a .url raises AccessDeniedError (with a key, .url is a read-only SAS for one blob)"),
    Setting("b2_endpoint_url", str, None, "Backblaze B2 S3 endpoint, e.g. https://s3.us-west-004.backblazeb2.com"),
    Setting("b2_profile", str, None, "AWS credentials profile used for b2:// URIs"),
    Setting("b2_region", str, None, "B2 region; gives the endpoint https://s3.<region>.backblazeb2.com"),
    Setting("catalog_lock_timeout", float, 30.0, "seconds a writer waits for a catalog another process holds"),
    Setting("executor", str, "threads", "where materialize() and lazy reads compute cells: threads (this process), a Dask scheduler address (dask://host:port or tcp://host:port), ray (the initialized Ray, else ray.init()) or ray://host:port; workers need pxfs[dask] or pxfs[ray] and the same credentials (docs/scaling.md)"),
    Setting("file_cache_size_g", float, 10.0, "size limit of the local cache of remote media, in GiB"),
    Setting("input_media_dest", str, None, "where inserted media are copied (none: referenced in place)", uri=True),
    Setting("materialize_batch_size", int, 64, "cells computed per batch by materialize()", minimum=1),
    Setting("media_validation", str, "on_read", "how much inserted media are checked: on_read (the file or object exists, an image's header reads; pixels are decoded when read) or on_write (every image is decoded fully at insert)", choices=("on_read", "on_write")),
    Setting("output_media_dest", str, None, "where computed media go when a column has no destination", uri=True),
    Setting("r2_account_id", str, None, "Cloudflare account id; gives https://<id>.r2.cloudflarestorage.com"),
    Setting("r2_endpoint_url", str, None, "Cloudflare R2 S3 endpoint"),
    Setting("r2_profile", str, None, "AWS credentials profile used for r2:// URIs"),
    Setting("request_timeout", float, 20.0, "seconds one storage request may take before it is retried or fails"),
    Setting("retries", int, 1, "retries of a failed storage request; a dead endpoint fails after about (retries+1) x request_timeout plus a few seconds of backoff", minimum=0),
    Setting("s3_direct_put", bool, True, "S3 (and r2, b2, tigris, aliases) batch uploads and presigned URLs through obstore (Rust object_store), built from the same endpoint, region, profile and TLS settings as s3fs, at about a quarter of botocore's client CPU; false: every request through s3fs/botocore"),
    Setting("s3_endpoint_url", str, None, "S3 endpoint (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url)"),
    Setting("s3_profile", str, None, "AWS credentials profile used for s3:// URIs"),
    Setting("show_progress", bool, True, "progress bars in materialize() (only when writing to a terminal)"),
    Setting("tigris_endpoint_url", str, "https://t3.storage.dev", "Tigris S3 endpoint"),
    Setting("tigris_profile", str, None, "AWS credentials profile used for tigris:// and t3.storage.dev URIs"),
    Setting("upload_concurrency", int, None, "uploads in flight at once (default: 64 for S3, 32 for GCS/Azure, 8 local)", minimum=1),
    Setting("version_retention_days", float, 7.0, "days a table version stays readable after a newer one replaces it (the latest is always kept); older ones are expired by `pxfs gc` or t.expire_versions(), and only then are their rows and media removed"),
]
SETTINGS: dict[str, Setting] = {s.key: s for s in _ROWS}
assert list(SETTINGS) == sorted(SETTINGS)

# Tables inside [pxfs] (not scalar keys).
SECTIONS = ("public_urls", "schemes")
# PXFS_* variables that are not settings.
OTHER_VARIABLES = ("PXFS_AZURITE", "PXFS_HOME", "PXFS_LOGGING_LEVEL")


def markdown_table() -> str:
    """The table of every key in docs/destinations.md (``python -m pxfs._settings``)."""
    lines = ["| Key | Variable | Type | Default | Meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS.values():
        default = "(none)" if s.default is None else f"`{s.default}`"
        doc = s.doc.replace("<", "&lt;") + (" (secret: shown as `****`)" if s.secret else "")
        lines.append(f"| `{s.key}` | `{s.env_var}` | {s.type.__name__} | {default} | {doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
