"""S3 uploads and presigned URLs through obstore (Rust ``object_store``), beside s3fs.

s3fs stays the filesystem of every S3 destination (open, ls, info, cat, ``pxfs://``);
obstore does the two hot paths, PutObject of a batch (``put_many``) and presigned GET URLs,
at about a quarter of botocore's client CPU, without building the s3fs client at all
(its service model costs about 15 MB and a few hundred ms). Both clients come from one
resolution, :meth:`S3Settings.resolve`: the endpoint pxfs resolved (``Location``), the
profile's region (:meth:`S3Settings.region_of`, also given to s3fs), the scheme's client
and config options (addressing style, ``verify``, proxies), the CA bundle botocore would
use, timeouts and retries; credentials come from botocore's public Session API for the
same profile (re-read every few minutes when they can expire). They cannot disagree about
where or as whom they talk.

Errors: obstore's exceptions have a type but no S3 error code. A 404 on PutObject can only
mean a missing bucket (:class:`BucketNotFoundError`). Anything else (403, a 400
``ExpiredToken``, a 301/307 redirect, a timeout, a refused connection) sends that object
through s3fs, so the user gets exactly what botocore does (it refreshes credentials,
applies its redirect rules and words its error, see :func:`._s3.translate`), and the bucket
stays on s3fs for :data:`_COOL_DOWN_S`. Retries are obstore's own (``RetryConfig`` from the
``retries`` and ``request_timeout`` settings). Keys obstore would re-encode (``%``, empty or
dot segments, control characters) go through s3fs too.

To change what obstore is told, change :meth:`S3Settings.store_options`.
"""

from __future__ import annotations

import errno
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlsplit

from ..errors import BucketNotFoundError
from ._config import SchemeSpec, StorageConfig, redacted
from ._location import Location

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config, S3Credential, S3Store

__all__ = ["ObstoreS3", "S3Settings"]

logger = logging.getLogger("pxfs.storage")

_COOL_DOWN_S = 30.0  # a bucket whose obstore upload failed stays on s3fs this long
_REFRESH_S = 300.0  # refreshable credentials are re-read from botocore this often
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# A key obstore stores under the same name: no '%', '\\', control characters, empty or dot segments.
_PLAIN_KEY = re.compile(r"(?!.*(?:^|/)\.{0,2}(?:/|$))[^%\\\x00-\x1f\x7f]+")

@dataclass(frozen=True)
class S3Settings:
    """Where and how an S3-compatible endpoint is reached, as botocore resolved it.

    ``endpoint_url`` is None for AWS itself (obstore derives the regional endpoint).
    ``verify`` is botocore's: True, False, or a CA bundle file. The credentials are
    behind ``credentials`` (a callable), never in a field; ``repr`` masks URL passwords.
    """

    endpoint_url: str | None
    region: str
    virtual_hosted: bool
    verify: bool | str
    proxy_url: str | None
    connect_timeout: float
    request_timeout: float
    retries: int
    concurrency: int
    unsigned_payload: bool
    credentials: _Credentials = field(repr=False)

    def __repr__(self) -> str:
        shown = {k: redacted(v) for k, v in self.__dict__.items() if k != "credentials"}
        return f"S3Settings({shown})"

    @staticmethod
    def region_of(loc: Location, spec: SchemeSpec) -> str | None:
        """The region both clients use: ``client_kwargs``' ``region_name``, ``auto`` for R2,
        else the profile's (or ``AWS_DEFAULT_REGION``); None when nothing sets one."""
        import botocore.session

        region = spec.client_kwargs.get("region_name") or ("auto" if loc.scheme == "r2" else None)
        if region is None:
            session = botocore.session.Session(profile=spec.profile)
            region = session.get_config_variable("region")
        return str(region) if region else None

    @classmethod
    def resolve(cls, loc: Location, spec: SchemeSpec, config: StorageConfig) -> S3Settings | None:
        """The settings of `loc`'s scheme, or None where obstore cannot follow botocore (a
        client certificate, no credentials at all): then s3fs does everything."""
        import botocore.session

        options = spec.config_kwargs
        if options.get("client_cert"):
            return None
        session = botocore.session.Session(profile=spec.profile)
        credentials = _Credentials.from_botocore(session, spec.client_kwargs)
        if credentials is None:
            return None
        endpoint = loc.endpoint_url  # None: AWS itself, obstore derives the regional endpoint
        host = urlsplit(endpoint).hostname if endpoint else None
        s3_options = options.get("s3") or {}
        style = s3_options.get("addressing_style", "auto")
        virtual = style == "virtual" or (style == "auto" and endpoint is None)
        verify = spec.client_kwargs.get("verify")
        if verify is None:
            verify = session.get_config_variable("ca_bundle") or True
        scheme = urlsplit(endpoint).scheme if endpoint else "https"
        proxies = options.get("proxies") or {}
        payload_signing = s3_options.get("payload_signing_enabled")
        return cls(
            endpoint_url=endpoint.rstrip("/") if endpoint else None,
            region=cls.region_of(loc, spec) or "us-east-1",
            virtual_hosted=virtual and host not in _LOCAL_HOSTS,
            verify=verify,
            proxy_url=proxies.get(scheme) or proxies.get("https"),
            connect_timeout=min(5.0, config.request_timeout),
            request_timeout=config.request_timeout,
            retries=config.retries,
            concurrency=max(10, config.upload_concurrency or 64),
            # As botocore: the payload is hashed into the signature over http, not over https.
            unsigned_payload=scheme == "https" if payload_signing is None else not payload_signing,
            credentials=credentials,
        )

    def store_options(self, bucket: str) -> tuple[S3Config, ClientConfig, RetryConfig]:
        """obstore's typed options for one bucket (every key explicit: obstore also reads
        ``AWS_*`` variables, which must not override what botocore resolved)."""
        s3: S3Config = {
            "region": self.region,
            "virtual_hosted_style_request": self.virtual_hosted,
            "unsigned_payload": self.unsigned_payload,
            "skip_signature": False,
        }
        if self.endpoint_url is not None:
            endpoint = self.endpoint_url
            if self.virtual_hosted:
                parts = urlsplit(endpoint)
                endpoint = f"{parts.scheme}://{bucket}.{parts.netloc}{parts.path}"
            s3["endpoint"] = s3["aws_endpoint_url_s3"] = endpoint
        client: ClientConfig = {
            "allow_http": True,
            "connect_timeout": timedelta(seconds=self.connect_timeout),
            "timeout": timedelta(seconds=self.request_timeout),
            "pool_max_idle_per_host": str(self.concurrency),
        }
        if self.verify is False:
            client["allow_invalid_certificates"] = True
        elif isinstance(self.verify, str) and not (self.endpoint_url or "").startswith("http://"):
            with open(self.verify, "rb") as f:  # a CA bundle file, as botocore takes it
                client["root_certificate"] = f.read()
        if self.proxy_url:
            client["proxy_url"] = self.proxy_url
        retry: RetryConfig = {
            "max_retries": self.retries,
            "retry_timeout": timedelta(seconds=(self.retries + 1) * self.request_timeout + 5),
        }
        return s3, client, retry


@dataclass
class _Credentials:
    """obstore's credential provider: botocore's credentials for the profile, read once
    and again before they expire (botocore refreshes them). No secret in ``repr``."""

    source: Any = field(repr=False)  # botocore.credentials.Credentials
    refreshable: bool = False

    @classmethod
    def from_botocore(cls, session: Any, client_kwargs: Mapping[str, Any]) -> _Credentials | None:
        from botocore.credentials import Credentials, RefreshableCredentials

        if client_kwargs.get("aws_access_key_id") and client_kwargs.get("aws_secret_access_key"):
            creds = Credentials(client_kwargs["aws_access_key_id"], client_kwargs["aws_secret_access_key"],
                                client_kwargs.get("aws_session_token"))
        else:
            creds = session.get_credentials()
            if creds is None:
                return None
        return cls(creds, isinstance(creds, RefreshableCredentials))

    def __call__(self) -> S3Credential:
        frozen = self.source.get_frozen_credentials()
        expires = datetime.now(timezone.utc) + timedelta(seconds=_REFRESH_S) if self.refreshable else None
        return {"access_key_id": frozen.access_key, "secret_access_key": frozen.secret_key,
                "token": frozen.token, "expires_at": expires}


class ObstoreS3:
    """One obstore ``S3Store`` per bucket, built on first use from :class:`S3Settings`.

    :meth:`put` returns False when the object must go through s3fs instead (see the
    module docstring); :meth:`sign` makes presigned GET URLs.
    """

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self._stores: dict[str, S3Store] = {}
        self._cooling: dict[str, float] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ObstoreS3({self.settings!r}, buckets={sorted(self._stores)})"

    def store(self, bucket: str) -> S3Store:
        with self._lock:
            store = self._stores.get(bucket)
            if store is None:
                from obstore.store import S3Store

                s3, client, retry = self.settings.store_options(bucket)
                store = self._stores[bucket] = S3Store(
                    bucket, config=s3, client_options=client, retry_config=retry,
                    credential_provider=self.settings.credentials,
                )
            return store

    def usable(self, loc: Location) -> bool:
        """Whether obstore stores `loc` under the same key and its bucket is not cooling down."""
        until = self._cooling.get(loc.bucket)
        return (until is None or until < time.monotonic()) and bool(_PLAIN_KEY.fullmatch(loc.key))

    def put(self, loc: Location, data: bytes, content_type: str | None) -> bool:
        """One PutObject from this thread; False: this object goes through s3fs instead."""
        import obstore

        if not self.usable(loc):
            return False
        try:
            obstore.put(self.store(loc.bucket), loc.key, data, use_multipart=False,
                        attributes={"Content-Type": content_type} if content_type else None)
        except FileNotFoundError as e:  # a 404 on PutObject: only the bucket can be missing
            where = self.settings.endpoint_url or "the default AWS S3 endpoint"
            raise BucketNotFoundError(
                errno.ENOENT,
                f"cannot upload to {loc.uri}: bucket {loc.bucket!r} does not exist at {where}; "
                "create it or fix the destination",
            ) from e
        except Exception as e:  # obstore.exceptions.BaseError and friends: botocore decides
            logger.debug("S3 upload of %s by obstore failed (%s); through s3fs", loc.uri, type(e).__name__)
            with self._lock:
                self._stores.pop(loc.bucket, None)  # new credentials on the next store
                self._cooling[loc.bucket] = time.monotonic() + _COOL_DOWN_S
            return False
        return True

    def remove(self, loc: Location) -> bool:
        """Delete one object; False: it must go through s3fs (any failure, say why there)."""
        import obstore

        if not self.usable(loc):
            return False
        try:
            obstore.delete(self.store(loc.bucket), loc.key)
        except Exception as e:  # obstore.exceptions.BaseError and friends: botocore decides
            logger.debug("S3 delete of %s by obstore failed (%s); through s3fs", loc.uri, type(e).__name__)
            return False
        return True

    def sign(self, locs: list[Location], expires_in: int) -> list[str]:
        """Presigned GET URLs for objects of one bucket (SigV4, query-string)."""
        import obstore

        if not locs:
            return []
        return list(obstore.sign(self.store(locs[0].bucket), "GET", [loc.key for loc in locs],
                                 timedelta(seconds=expires_in)))
