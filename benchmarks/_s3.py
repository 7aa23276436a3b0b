"""S3 set-up shared by the suites (benchmarks.run and benchmarks.put_throughput)."""

from __future__ import annotations

from typing import Any

__all__ = ["ensure_bucket"]


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
