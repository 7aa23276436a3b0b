"""S3 set-up shared by the suites (benchmarks.run and benchmarks.put_throughput)."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

from pxfs.testing import MotoServer

__all__ = ["CountingMoto", "ensure_bucket"]


class CountingMoto(MotoServer):
    """moto_server counting the requests it serves (see ``_counting_moto.py``)."""

    def _command(self, port: int) -> list[str]:
        script = str(Path(__file__).with_name("_counting_moto.py"))
        return [sys.executable, script, "-H", self.host, "-p", str(port), *self.extra_args]

    def requests(self) -> dict[str, int]:
        """Requests served so far, by HTTP method."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{self.endpoint_url}/pxfs-bench/requests", timeout=10) as r:
            return {str(k): int(v) for k, v in json.loads(r.read()).items()}


def ensure_bucket(fs: Any, bucket: str) -> None:
    """Create `bucket` with the s3fs `fs` unless it exists (only the run's prefix is used)."""
    from fsspec.asyn import sync

    try:
        sync(fs.loop, fs._call_s3, "head_bucket", Bucket=bucket)
        return
    except Exception:  # noqa: BLE001 - missing: create it
        pass
    try:
        sync(fs.loop, fs._call_s3, "create_bucket", Bucket=bucket)
    except Exception as e:  # noqa: BLE001
        if "BucketAlreadyOwnedByYou" not in repr(e):
            raise
