"""Batch upload throughput: pxfs ``put_many`` against raw s3fs ``put`` (the ceiling).

Both contenders upload the same N local files of S random bytes to their own prefix of
one bucket, with the same concurrency (s3fs ``batch_size`` = pxfs ``upload_concurrency``,
and the same connection pool), each in a fresh subprocess, so that peak RSS
(``ru_maxrss``) belongs to one contender. Every HTTP request the client sends is counted
with a botocore ``before-send.s3`` hook on the S3 client, so requests per object are
measured, not assumed. The order of the contenders alternates from one repeat to the
next; the table shows medians.

Usage::

    .venv/bin/python -m benchmarks.put_throughput --n 1000 --size 100KB
    .venv/bin/python -m benchmarks.put_throughput --endpoint-url http://127.0.0.1:9000 \\
        --bucket bench --n 5000 --size 1MB --rss-scan 10 --json results.json

Without ``--endpoint-url`` a :class:`pxfs.testing.MotoServer` is started and stopped
(its CPU time and RSS are reported per run). With one, credentials come from the usual
AWS variables or profile, the bucket is created if missing, and only the benchmark's own
prefixes are deleted afterwards. After every run the objects are listed (count and sizes
checked) and deleted, outside the timed part.
Sizes: ``100KB`` = 100 000 bytes, ``100KiB`` = 102 400 bytes (also MB/MiB, GB/GiB).

``--stub`` sends nothing: a ``before-send`` hook answers every request with a canned 200,
so the client's own CPU per object is measured without a server (pxfs then sends through
botocore too: its own requests need a server to calibrate against). ``--s3fs-no-expect``
makes the s3fs contender drop ``Expect: 100-continue`` as pxfs does (same request bytes).
``--cprofile DIR`` profiles fsspec's IO thread in CPU time (all of s3fs's work; pxfs's own
requests run in its worker threads: use py-spy for those).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks._procfs import proc_cpu, proc_rss_mb
from benchmarks._s3 import ensure_bucket

ROOT = Path(__file__).resolve().parent.parent  # children run as `python -m` from here

CONTENDERS = ("s3fs", "pxfs")
_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "kib": 1024,
    "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gib": 1024**3,
}


def parse_size(text: str) -> int:
    """``100KB`` -> 100000, ``1MiB`` -> 1048576, ``512`` -> 512."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise argparse.ArgumentTypeError(f"bad size {text!r}; use e.g. 100KB, 1MB, 64KiB or a byte count")
    size = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if size <= 0:
        raise argparse.ArgumentTypeError("size must be positive")
    return size


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


# ---------------------------------------------------------------------------------------
# child: one contender, one run
# ---------------------------------------------------------------------------------------


def _rss_now_kb() -> int:
    """Resident set size now, in KiB (from /proc; falls back to ru_maxrss)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class _EmptyBody:
    async def read(self, *_: Any) -> bytes:
        return b""


def _canned_response(request: Any = None, **_: Any) -> Any:
    """A 200 for any request, returned from ``before-send``: botocore then sends nothing."""
    from aiobotocore.awsrequest import AioAWSResponse

    headers = {"ETag": '"00000000000000000000000000000000"', "Content-Length": "0"}
    return AioAWSResponse(request.url, 200, headers, _EmptyBody())


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Upload ``spec['files']`` with one contender; return timings, requests and memory."""
    import resource
    from collections import Counter

    from fsspec.asyn import get_loop, sync

    contender: str = spec["contender"]
    files: list[str] = spec["files"]
    bucket, prefix = spec["bucket"], spec["prefix"]
    concurrency: int = spec["concurrency"]
    requests: Counter[str] = Counter()
    sample: dict[str, Any] = {}
    counting = False

    def count(event_name: str = "", request: Any = None, **_: Any) -> None:
        if counting:
            requests[event_name.rsplit(".", 1)[-1]] += 1
            if not sample and request is not None:  # what one request looks like, for the JSON
                sample.update(method=request.method, url=request.url, headers={
                    k: v.decode() if isinstance(v, bytes) else str(v)
                    for k, v in request.headers.items()
                    if k.lower() not in ("authorization", "x-amz-security-token")
                })

    if contender == "s3fs":
        import s3fs
        from aiobotocore.session import AioSession

        session = AioSession()
        if spec.get("s3fs_no_expect"):  # the request shape pxfs sends (see PITFALLS.md)
            import botocore.handlers

            session.unregister("before-call.s3", botocore.handlers.add_expect_header)
        fs = s3fs.S3FileSystem(
            session=session,
            endpoint_url=spec["endpoint_url"],
            config_kwargs={"max_pool_connections": concurrency},
            skip_instance_cache=True,
        )
        remote = [f"{bucket}/{prefix}{os.path.basename(p)}" for p in files]

        def run() -> None:
            fs.put(files, remote, batch_size=concurrency)

    else:
        import pxfs
        from pxfs.env import Env
        from pxfs.session import Session

        dest = f"s3://{bucket}/{prefix}"
        storage = Session.default().storage
        assert storage.config.upload_concurrency == concurrency, storage.config.upload_concurrency
        fs = storage.filesystem(storage.location(dest))

        def run() -> None:
            uris = pxfs.put_many(files, dest)
            assert len(uris) == len(files)

    # Build the client outside the timed part (the same for both), then hook it.
    loop = get_loop()
    client = sync(loop, fs.set_session)
    client.meta.events.register("before-send.s3", count)
    if spec.get("stub"):  # no server: answer every request with a canned 200 (client cost only)
        client.meta.events.register("before-send.s3", _canned_response)
    pool = client.meta.config.max_pool_connections
    # New TCP connections (aiohttp opens them with loop.create_connection): shows keep-alive.
    connections = 0
    create_connection = loop.create_connection

    async def counting_create_connection(*a: Any, **kw: Any) -> Any:
        nonlocal connections
        if counting:
            connections += 1
        return await create_connection(*a, **kw)

    loop.create_connection = counting_create_connection  # type: ignore[method-assign]

    # pxfs sends most PutObjects itself with http.client (pxfs/storage/_s3put.py): count
    # those requests and connections too.
    import http.client
    import threading

    tally = threading.Lock()
    http_request, http_connect = http.client.HTTPConnection.request, http.client.HTTPConnection.connect

    def counting_request(self: Any, method: str, url: str, *a: Any, **kw: Any) -> Any:
        if counting:
            with tally:
                requests["PutObject (pxfs)" if method == "PUT" else f"{method} (pxfs)"] += 1
        return http_request(self, method, url, *a, **kw)

    def counting_connect(self: Any) -> Any:
        nonlocal connections
        if counting:
            with tally:
                connections += 1
        return http_connect(self)

    http.client.HTTPConnection.request = counting_request  # type: ignore[method-assign]
    http.client.HTTPConnection.connect = counting_connect  # type: ignore[method-assign]

    profiler = None
    if spec.get("cprofile"):
        import cProfile

        profiler = cProfile.Profile(time.thread_time)  # CPU of the IO thread: immune to busy neighbours

        async def _enable() -> None:  # fsspec's IO loop runs in its own thread: profile it
            profiler.enable()

        async def _disable() -> None:
            profiler.disable()

    rss_before = _rss_now_kb()
    cpu0 = os.times()
    counting = True
    if profiler is not None:
        sync(get_loop(), _enable)
    t0 = time.perf_counter()
    run()
    elapsed = time.perf_counter() - t0
    if profiler is not None:
        sync(get_loop(), _disable)
        profiler.dump_stats(spec["cprofile"])
    counting = False
    cpu1 = os.times()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "contender": contender,
        "n": len(files),
        "seconds": elapsed,
        "files_per_s": len(files) / elapsed,
        "cpu_seconds": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
        "requests": dict(requests),
        "requests_total": sum(requests.values()),
        "requests_per_object": sum(requests.values()) / len(files),
        "tcp_connections": connections,
        "concurrency": concurrency,
        "max_pool_connections": pool,
        "rss_before_put_mb": rss_before / 1024,
        "peak_rss_mb": peak_kb / 1024,
        "sample_request": sample,
    }


# ---------------------------------------------------------------------------------------
# parent: files, server, bucket, runs, table
# ---------------------------------------------------------------------------------------


def make_files(folder: Path, n: int, size: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"f{i:07d}.bin"
        p.write_bytes(os.urandom(size))
        paths.append(str(p))
    return paths


def child_env(endpoint: str, concurrency: int, home: Path, own_server: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PXFS_")}
    env["PXFS_HOME"] = str(home)
    env["PXFS_S3_ENDPOINT_URL"] = endpoint
    env["PXFS_UPLOAD_CONCURRENCY"] = str(concurrency)
    if own_server:  # moto (or no server): any credentials do; never send the developer's
        for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            env.pop(k, None)
        env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
        env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    return env


def run_child(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
        spec_path = f.name
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.put_throughput", "--_child", spec_path],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=spec.get("timeout", 3600),
        )
    finally:
        os.unlink(spec_path)
    if proc.returncode != 0:
        raise RuntimeError(f"{spec['contender']} child failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def admin_fs(endpoint: str, own_server: bool) -> Any:
    """An s3fs for setup and checks (outside the timed runs)."""
    import s3fs

    creds = {"key": "bench", "secret": "bench"} if own_server else {}
    return s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True, **creds)


def check_objects(fs: Any, bucket: str, prefix: str, n: int, size: int) -> None:
    """Every object arrived, with the right size."""
    fs.invalidate_cache()
    sizes = [d["size"] for d in fs.find(f"{bucket}/{prefix}", detail=True).values()]
    if len(sizes) != n or any(s != size for s in sizes):
        raise RuntimeError(f"{bucket}/{prefix}: expected {n} objects of {size} B, found {len(sizes)}")


def remove_prefix(fs: Any, bucket: str, prefix: str) -> None:
    """Delete the run's objects (only those: the bucket may be someone's)."""
    fs.invalidate_cache()
    paths = fs.find(f"{bucket}/{prefix}")
    if paths:
        fs.rm(paths)
    fs.invalidate_cache()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="number of files (default 1000)")
    ap.add_argument("--size", type=parse_size, default=parse_size("100KB"), help="bytes per file: 100KB, 1MB, 64KiB... (default 100KB)")
    ap.add_argument("--endpoint-url", help="S3 endpoint (MinIO, ...); default: start a moto server")
    ap.add_argument("--bucket", default="pxfs-bench", help="bucket (created if missing; default pxfs-bench)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender, order alternating (default 3)")
    ap.add_argument("--concurrency", type=int, default=64, help="uploads in flight for both (default 64, pxfs's S3 default)")
    ap.add_argument("--rss-scan", type=int, nargs="?", const=10, default=0, metavar="K",
                    help="also run each contender once with K*N files (default K=10) to see whether peak RSS grows with N")
    ap.add_argument("--stub", action="store_true",
                    help="no server: every request gets a canned 200 from a botocore hook, so only client CPU is measured")
    ap.add_argument("--s3fs-no-expect", action="store_true",
                    help="drop botocore's 'Expect: 100-continue' from the s3fs contender too, as pxfs does, "
                         "so both send the same request (default: s3fs as shipped)")
    ap.add_argument("--only", choices=CONTENDERS, help="run one contender only")
    ap.add_argument("--cprofile", metavar="DIR", help="write a cProfile of fsspec's IO thread per run into DIR")
    ap.add_argument("--json", metavar="PATH", help="write raw results as JSON")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._child:
        spec = json.loads(Path(args._child).read_text())
        print(json.dumps(child(spec)))
        return 0

    if args.n <= 0 or args.repeat <= 0 or args.concurrency <= 0:
        ap.error("--n, --repeat and --concurrency must be positive")
    contenders = [args.only] if args.only else list(CONTENDERS)
    work = Path(tempfile.mkdtemp(prefix="pxfs-bench-"))
    server = None
    runs: list[dict[str, Any]] = []
    try:
        if args.stub:
            endpoint, own = "http://127.0.0.1:9", False  # never connected to
        elif args.endpoint_url:
            endpoint, own = args.endpoint_url, False
        else:
            from pxfs.testing import MotoServer

            server = MotoServer().start()
            endpoint, own = server.endpoint_url, True
        env = child_env(endpoint, args.concurrency, work / "pxfs-home", own or args.stub)
        if args.stub:  # nothing to calibrate pxfs's own S3 requests against: botocore for both
            env["PXFS_S3_DIRECT_PUT"] = "false"
        fs = None if args.stub else admin_fs(endpoint, own)
        if fs is not None:
            ensure_bucket(fs, args.bucket)
        scan_n = args.n * args.rss_scan if args.rss_scan else 0
        t0 = time.perf_counter()
        files = make_files(work / "files", max(args.n, scan_n), args.size)
        print(f"{len(files)} files of {args.size} B written to {work / 'files'} in {time.perf_counter() - t0:.1f} s")
        where = " (no server: canned responses)" if args.stub else " (moto, started here)" if own else ""
        print(f"endpoint {endpoint}{where}, bucket {args.bucket}, "
              f"concurrency {args.concurrency} (s3fs batch_size, pxfs upload_concurrency, both max_pool_connections)")
        run_id = uuid.uuid4().hex[:8]
        # moto's pid, to read its CPU time per run (MotoServer keeps its Popen private).
        server_pid = server._proc.pid if server is not None and server._proc is not None else None

        def one(contender: str, n: int, label: str) -> dict[str, Any]:
            prefix = f"bench-{run_id}/{label}-{contender}/"
            spec = {
                "contender": contender, "files": files[:n], "bucket": args.bucket, "prefix": prefix,
                "endpoint_url": endpoint, "concurrency": args.concurrency, "stub": args.stub,
                "s3fs_no_expect": args.s3fs_no_expect,
            }
            if args.cprofile:
                os.makedirs(args.cprofile, exist_ok=True)
                spec["cprofile"] = os.path.join(os.path.abspath(args.cprofile), f"{label}-{contender}.prof")
            cpu0 = proc_cpu(server_pid)
            try:
                res = run_child(spec, env)
                cpu1 = proc_cpu(server_pid)
                server_rss = proc_rss_mb(server_pid)  # with this run's objects still stored
                if fs is not None:
                    check_objects(fs, args.bucket, prefix, n, args.size)
            finally:
                if fs is not None:
                    remove_prefix(fs, args.bucket, prefix)
            if cpu0 is not None and cpu1 is not None:  # the child's start-up sends no request
                res["server_cpu_seconds"] = cpu1 - cpu0
                res["server_rss_mb"] = server_rss
            res.update(label=label, size=args.size)
            runs.append(res)
            server_cpu = (f"  server cpu {res['server_cpu_seconds']:.2f} s, RSS {res['server_rss_mb'] or 0:.0f} MB"
                          if "server_cpu_seconds" in res else "")
            print(f"  {label:>8} {contender:<5} n={n:<6} {res['files_per_s']:8.1f} files/s  "
                  f"{res['requests_per_object']:.2f} req/obj  {res['tcp_connections']} conns  {res['seconds']:6.2f} s  cpu {res['cpu_seconds']:.2f} s"
                  f"{server_cpu}  peak RSS {res['peak_rss_mb']:.0f} MB")
            return res

        for r in range(args.repeat):
            order = contenders if r % 2 == 0 else contenders[::-1]
            for c in order:
                one(c, args.n, f"rep{r + 1}")
        if scan_n:
            for c in contenders:
                one(c, scan_n, f"scan{args.rss_scan}x")

        print_table(runs, contenders, args)
        if args.json:
            meta = {
                "n": args.n, "size": args.size, "repeat": args.repeat, "concurrency": args.concurrency,
                "endpoint_url": endpoint, "moto": own, "stub": args.stub,
                "s3fs_no_expect": args.s3fs_no_expect, "bucket": args.bucket, "rss_scan": args.rss_scan,
                "python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
                "versions": _versions(),
            }
            Path(args.json).write_text(json.dumps({"meta": meta, "runs": runs}, indent=2))
            print(f"raw results: {args.json}")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def print_table(runs: list[dict[str, Any]], contenders: list[str], args: argparse.Namespace) -> None:
    main_runs = [r for r in runs if r["label"].startswith("rep")]
    scan = [r for r in runs if r["label"].startswith("scan")]

    def med(c: str, key: str, scale: float = 1.0) -> float:
        return median([r[key] * scale for r in main_runs if r["contender"] == c and key in r])

    print()
    print(f"N={args.n}, size={human(args.size)}, concurrency={args.concurrency} for both, "
          f"median of {args.repeat} run(s), order alternating"
          f"{', s3fs without Expect: 100-continue' if args.s3fs_no_expect else ''}")
    head = (f"{'':<6} {'files/s':>8} {'MB/s':>6} {'req/obj':>7} {'conn/obj':>8} {'client cpu':>10} "
            f"{'server cpu':>10} {'RSS before':>10} {'peak RSS':>9}")
    if scan:
        head += f" {'peak @' + str(scan[0]['n']):>11}"
    print(head)
    print(f"{'':<6} {'':>8} {'':>6} {'':>7} {'':>8} {'ms/obj':>10} {'ms/obj':>10} {'MB':>10} {'MB':>9}" + (f" {'MB':>11}" if scan else ""))
    for c in contenders:
        n = args.n
        line = (
            f"{c:<6} {med(c, 'files_per_s'):8.1f} {med(c, 'files_per_s') * args.size / 1e6:6.1f} "
            f"{med(c, 'requests_per_object'):7.2f} {med(c, 'tcp_connections', 1 / n):8.2f} "
            f"{med(c, 'cpu_seconds', 1000 / n):10.2f} {_fmt(med(c, 'server_cpu_seconds', 1000 / n), 10)} "
            f"{med(c, 'rss_before_put_mb'):10.0f} {med(c, 'peak_rss_mb'):9.0f}"
        )
        for r in scan:
            if r["contender"] == c:
                line += f" {r['peak_rss_mb']:11.0f}"
        print(line)
    if len(contenders) == 2:
        pairs = []
        for label in sorted({r["label"] for r in main_runs}):
            by = {r["contender"]: r["files_per_s"] for r in main_runs if r["label"] == label}
            pairs.append(by["pxfs"] / by["s3fs"])
        print(f"ratio pxfs/s3fs: {med('pxfs', 'files_per_s') / med('s3fs', 'files_per_s'):.3f} (of medians), "
              f"{median(pairs):.3f} (median of per-repeat ratios: {', '.join(f'{p:.2f}' for p in pairs)})")


def _fmt(value: float, width: int) -> str:
    return f"{'-':>{width}}" if value != value else f"{value:{width}.2f}"  # NaN: not measured


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("pxfs", "s3fs", "fsspec", "aiobotocore", "botocore", "aiohttp", "moto"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


if __name__ == "__main__":
    sys.exit(main())
