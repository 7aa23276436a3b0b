"""Azure Blob uploads through obstore (Rust ``object_store``), beside adlfs.

adlfs stays the filesystem of every Azure destination (open, ls, info, cat, ``pxfs://``,
presigned URLs); obstore does the hot path, Put Blob of a batch (``put_many``, so
materialize and insert with ``input_media_dest``): against Azurite 1,398 blobs/s where raw
adlfs makes 907 and pxfs's adlfs path about 610, at 0.2 ms of client CPU per 25 KB blob
instead of 0.9-1.4 (``python -m benchmarks.azure_put``). It is used when the account is
reached with its key (``account_key``, or ``AccountKey`` of the connection string), at the
account URL adlfs uses; a SAS token or anonymous access stays on adlfs.

Errors: a 404 on Put Blob can only mean a missing container (:class:`BucketNotFoundError`,
as adlfs's path says it). Anything else (403, a timeout, a refused connection) sends that
blob through adlfs, so the user gets what the Azure SDK does and today's messages.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable

from ._writers import ObstoreWriter

if TYPE_CHECKING:
    from obstore.store import AzureConfig, AzureStore

    from ._azure import AzureClientSpec
    from ._location import Location

__all__ = ["ObstoreAzure", "writer_for"]

logger = logging.getLogger("pxfs.storage")


class ObstoreAzure:
    """One obstore ``AzureStore`` per container, built on first use from the account's key."""

    def __init__(self, account_name: str, account_url: str, account_key: str, request_timeout: float,
                 retries: int, concurrency: int) -> None:
        self.account_name = account_name
        self.account_url = account_url.rstrip("/")
        self._key = account_key
        self.request_timeout = request_timeout
        self.retries = retries
        self.concurrency = concurrency
        self._stores: dict[str, AzureStore] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ObstoreAzure(account={self.account_name!r}, url={self.account_url!r}, containers={sorted(self._stores)})"

    def store(self, container: str) -> AzureStore:
        with self._lock:
            store = self._stores.get(container)
            if store is None:
                from obstore.store import AzureStore

                # Every key explicit: obstore also reads AZURE_* variables at construction.
                config: AzureConfig = {"account_name": self.account_name, "account_key": self._key,
                                       "endpoint": self.account_url, "use_emulator": False,
                                       "skip_signature": False}
                store = self._stores[container] = AzureStore(
                    container,
                    config=config,
                    client_options={
                        "allow_http": True,
                        "connect_timeout": timedelta(seconds=min(5.0, self.request_timeout)),
                        "timeout": timedelta(seconds=self.request_timeout),
                        "pool_max_idle_per_host": str(self.concurrency),
                    },
                    retry_config={"max_retries": self.retries,
                                  "retry_timeout": timedelta(seconds=(self.retries + 1) * self.request_timeout + 5)},
                )
            return store

    def put(self, loc: Location, data: bytes, content_type: str | None) -> bool:
        """One Put Blob from this thread; False: this blob goes through adlfs instead."""
        import obstore

        from ._azure import _no_container

        try:
            obstore.put(self.store(loc.bucket), loc.key, data, use_multipart=False,
                        attributes={"Content-Type": content_type} if content_type else None)
        except FileNotFoundError as e:  # a 404 on Put Blob: only the container can be missing
            raise _no_container(loc, "upload to") from e
        except Exception as e:  # obstore.exceptions.BaseError and friends: the Azure SDK decides
            logger.debug("Azure upload of %s by obstore failed (%s); through adlfs", loc.uri, type(e).__name__)
            return False
        return True

    def remove(self, loc: Location) -> bool:
        """Delete one blob; False: it must go through adlfs (any failure, say why there)."""
        import obstore

        try:
            obstore.delete(self.store(loc.bucket), loc.key)
        except Exception as e:  # obstore.exceptions.BaseError and friends
            logger.debug("Azure delete of %s by obstore failed (%s); through adlfs", loc.uri, type(e).__name__)
            return False
        return True


def writer_for(spec: AzureClientSpec, key: str | None, concurrency: int,
               filesystem: Callable[[], Any]) -> ObstoreWriter | None:
    """The obstore writer for `spec`'s account, or None (adlfs does everything) without a
    key or an account URL."""
    if not (key and spec.account_name and spec.account_url):
        return None
    fast = ObstoreAzure(spec.account_name, spec.account_url, key, spec.request_timeout, spec.retries, concurrency)
    return ObstoreWriter(fast, filesystem, _plain_content_type)


def _plain_content_type(kwargs: dict[str, Any]) -> tuple[bool, str | None]:
    """(True, the content type) when adlfs's write kwargs (``_azure.write_kwargs``) hold nothing else."""
    return not set(kwargs) - {"content_settings"}, (kwargs.get("content_settings") or {}).get("content_type")
