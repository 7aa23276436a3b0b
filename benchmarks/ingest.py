"""Bulk ingest of bucket references: per-object HEAD checks against listing-based checks.

N small objects are written once to ``s3://BUCKET/ingest-<run>/img_<i>.png`` (not timed).
Then, each into a fresh table with one Image column:

- **head**: ``t.insert(df)`` of a DataFrame of the N URIs with listing switched off
  (``pxfs.tables._media.LIST_MIN`` set above N): one ``HeadObject`` per row, 16 at a
  time, as every insert did before listing-based checks (``--old-n`` rows of them, as
  that path is slow);
- **listing**: the same ``t.insert(df)``: one ``ListObjectsV2`` per page of 1,000 keys;
- **insert_objects**: ``t.insert_objects('s3://BUCKET/ingest-<run>/', column='img')``.

Every request the S3 client sends is counted by operation with a botocore
``before-send.s3`` hook on pxfs's s3fs client (as benchmarks/put_throughput.py does);
the CPU of this process and of moto (when started here) are shown per 1,000 rows.
Rows are checked after each run (count and a sample of URIs).

Usage::

    .venv/bin/python -m benchmarks.ingest --n 100000
    .venv/bin/python -m benchmarks.ingest --n 10000 --old-n 10000 --json ingest.json
    .venv/bin/python -m benchmarks.ingest --endpoint-url http://127.0.0.1:9000 --bucket bench --n 100000

Without ``--endpoint-url`` a :class:`pxfs.testing.MotoServer` is started and stopped.
With one, credentials come from the usual AWS variables; the run's prefix is deleted at
the end.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from typing import Any, Iterator

from ._procfs import proc_cpu


def tiny_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buf, format="PNG")
    return buf.getvalue()


@contextlib.contextmanager
def endpoint(url: str | None) -> Iterator[tuple[str, int | None]]:
    """(the endpoint URL, moto's pid when it was started here)."""
    if url:
        yield url, None
        return
    from pxfs.testing import MotoServer

    with MotoServer() as server:
        yield server.endpoint_url, server._proc.pid if server._proc is not None else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    from fsspec.asyn import sync

    with endpoint(args.endpoint_url) as (url, server_pid):
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        os.environ["AWS_ENDPOINT_URL_S3"] = url
        os.environ["PXFS_HOME"] = tempfile.mkdtemp(prefix="pxfs-ingest-")
        import pandas as pd

        import pxfs as pxt
        import pxfs.tables._media as media
        from pxfs.env import Env
        from pxfs.session import Session

        from ._s3 import ensure_bucket

        storage = Session.default().storage
        fs = storage.filesystem(storage.location(f"s3://{args.bucket}/"))
        ensure_bucket(fs, args.bucket)
        prefix = f"s3://{args.bucket}/ingest-{uuid.uuid4().hex[:8]}/"
        names = [f"img_{i:07d}.png" for i in range(args.n)]
        start = time.perf_counter()
        storage.put_many([tiny_png()] * args.n, prefix, names=names)
        print(f"wrote {args.n} objects to {prefix} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        uris = [prefix + name for name in names]

        requests: Counter[str] = Counter()
        client = sync(fs.loop, fs.set_session)
        client.meta.events.register(
            "before-send.s3", lambda event_name="", **_: requests.update([event_name.rsplit(".", 1)[-1]])
        )
        results: dict[str, Any] = {}

        def measure(label: str, n: int, insert: Any) -> None:
            t = pxt.create_table(label, {"img": pxt.Image})
            requests.clear()
            cpu, server_cpu = time.process_time(), proc_cpu(server_pid)
            start = time.perf_counter()
            status = insert(t)
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu
            server_cpu = None if server_cpu is None else (proc_cpu(server_pid) or 0) - server_cpu
            assert status.num_rows == n == t.count(), (status, n)
            got = t.order_by(t.img.fileurl).limit(3).select(t.img.fileurl).collect()["img_fileurl"]
            assert got == sorted(uris[:n])[:3], got
            total = sum(requests.values())
            results[label] = {
                "rows": n, "seconds": round(seconds, 3), "rows_per_s": round(n / seconds),
                "requests": dict(requests), "requests_per_1000_keys": round(1000 * total / n, 2),
                "client_cpu_ms_per_1000": round(1e6 * cpu / n),
                "server_cpu_ms_per_1000": None if server_cpu is None else round(1e6 * server_cpu / n),
            }
            print(f"{label}: {n} rows in {seconds:.2f} s", file=sys.stderr)

        old_n = min(args.old_n or args.n, args.n)
        default_min = media.LIST_MIN
        media.LIST_MIN = args.n + 1  # every reference gets its own HEAD, as before listing
        try:
            measure("head", old_n, lambda t: t.insert(pd.DataFrame({"img": uris[:old_n]})))
        finally:
            media.LIST_MIN = default_min
        measure("listing", args.n, lambda t: t.insert(pd.DataFrame({"img": uris})))
        measure("insert_objects", args.n, lambda t: t.insert_objects(prefix, column="img"))
        if args.endpoint_url:  # a moto started here goes away with its objects
            fs.rm(storage.location(prefix).path, recursive=True)
    speedup = results["listing"]["rows_per_s"] / results["head"]["rows_per_s"]
    return {
        "n": args.n, "old_n": old_n, "endpoint": "moto" if not args.endpoint_url else args.endpoint_url,
        "results": results, "speedup_listing_vs_head": round(speedup, 1),
        "python": platform.python_version(), "cpus": os.cpu_count(),
    }


def report(out: dict[str, Any]) -> str:
    lines = [
        "| path | rows | seconds | rows/s | requests | requests / 1,000 keys | client CPU / 1,000 | moto CPU / 1,000 |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for label, r in out["results"].items():
        reqs = ", ".join(f"{k} {v}" for k, v in sorted(r["requests"].items()))
        server = "-" if r["server_cpu_ms_per_1000"] is None else f"{r['server_cpu_ms_per_1000']:,} ms"
        lines.append(f"| {label} | {r['rows']:,} | {r['seconds']:.2f} | {r['rows_per_s']:,} | {reqs} | "
                     f"{r['requests_per_1000_keys']:g} | {r['client_cpu_ms_per_1000']:,} ms | {server} |")
    lines.append("")
    lines.append(f"listing vs per-object HEAD: {out['speedup_listing_vs_head']}x rows/s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="objects referenced (default 100000)")
    parser.add_argument("--old-n", type=int, default=None, help="rows for the per-object HEAD run (default: --n)")
    parser.add_argument("--endpoint-url", default=None, help="an S3 endpoint (default: start moto)")
    parser.add_argument("--bucket", default="bench-ingest")
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)
    out = run(args)
    print(report(out))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
