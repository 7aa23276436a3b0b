"""SigV4 query-string presigning of S3 GET URLs, fast enough for 100,000 rows.

botocore presigns one URL in about a millisecond; this module signs the rest of a batch
from the first one: botocore signs URL 0, we parse its host, path style, region, key id
and token from it, re-sign URL 0 ourselves at the same timestamp and use our signer for
the batch only if both signatures agree. Any disagreement falls back to botocore.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit

__all__ = ["BatchSigner"]

_SAFE = "-_.~"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class BatchSigner:
    """Signs GET URLs like a reference URL botocore produced for the same bucket/client."""

    def __init__(self, reference_url: str, bucket: str, key: str, secret_key: str) -> None:
        parts = urlsplit(reference_url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.scheme, self.netloc = parts.scheme, parts.netloc
        quoted_key = quote(key, safe="/" + _SAFE)
        if parts.path == f"/{bucket}/{quoted_key}":
            self.path_prefix = f"/{bucket}/"
        elif parts.path == f"/{quoted_key}":
            self.path_prefix = "/"
        else:
            raise ValueError("unrecognised URL layout")
        self.amz_date = query["X-Amz-Date"]
        self.expires = query["X-Amz-Expires"]
        self.credential = query["X-Amz-Credential"]
        self.token = query.get("X-Amz-Security-Token")
        date, region, service, _ = self.credential.split("/")[1:]
        self.scope = f"{date}/{region}/{service}/aws4_request"
        k = _hmac(("AWS4" + secret_key).encode(), date)
        for part in (region, service, "aws4_request"):
            k = _hmac(k, part)
        self.signing_key = k
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": self.credential,
            "X-Amz-Date": self.amz_date,
            "X-Amz-Expires": self.expires,
            "X-Amz-SignedHeaders": "host",
        }
        if self.token is not None:
            params["X-Amz-Security-Token"] = self.token
        self.query = "&".join(f"{quote(k, safe=_SAFE)}={quote(v, safe=_SAFE)}" for k, v in sorted(params.items()))
        if self.sign(key) != reference_url:
            raise ValueError("signature mismatch with botocore")

    def sign(self, key: str) -> str:
        path = self.path_prefix + quote(key, safe="/" + _SAFE)
        canonical = f"GET\n{path}\n{self.query}\nhost:{self.netloc}\n\nhost\nUNSIGNED-PAYLOAD"
        to_sign = (f"AWS4-HMAC-SHA256\n{self.amz_date}\n{self.scope}\n"
                   f"{hashlib.sha256(canonical.encode()).hexdigest()}")
        signature = hmac.new(self.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{self.scheme}://{self.netloc}{path}?{self.query}&X-Amz-Signature={signature}"
