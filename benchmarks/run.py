"""The benchmark suite: every workload beside its baseline, same endpoint, same images.

See docs/benchmarks.md. ``python -m benchmarks --help`` lists the options.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from ._procfs import proc_cpu
from ._s3 import CountingMoto, ensure_bucket
from .images import DISTINCT, make_images
from .w8 import describe as describe_w8
from .w8 import run_w8

ROOT = Path(__file__).resolve().parent.parent
PEERS_DIR = ROOT / "benchmarks" / ".peers"
RESULTS_DIR = ROOT / "benchmarks" / "results"
DOCS_DIR = ROOT / "docs" / "benchmarks"

# Each peer in its own virtualenv; the exact requirements are part of the results.
PEERS: dict[str, dict[str, Any]] = {
    "pixeltable": {"requirements": ["pixeltable==0.7.21", "boto3", "psutil"], "script": "pixeltable_child.py"},
    "daft": {"requirements": ["daft==0.7.26", "pillow", "psutil"], "script": "daft_child.py"},
}
UPLOADS = {"W1in", "W1out", "W2", "W3", "W8"}  # workloads that must leave exactly N objects


# ---------------------------------------------------------------------------------------
# set-up: images, server, peers
# ---------------------------------------------------------------------------------------


def _rotate_one(args: tuple[str, str]) -> None:
    import io

    from PIL import Image

    src, dst = args
    with Image.open(src) as img:  # exactly what pxfs computes for t.img.rotate(90)
        out = img.rotate(90)
    buf = io.BytesIO()
    out.save(buf, format="JPEG")
    Path(dst).write_bytes(buf.getvalue())


def make_rotated(images: list[str], folder: Path) -> None:
    """The bytes pxfs uploads in W3, one file per input, for W1's second ceiling."""
    folder.mkdir(parents=True, exist_ok=True)
    todo = [(p, str(folder / os.path.basename(p))) for p in images if not (folder / os.path.basename(p)).exists()]
    if todo:
        with cf.ProcessPoolExecutor(max(1, os.cpu_count() or 1)) as pool:
            list(pool.map(_rotate_one, todo, chunksize=64))


def ensure_peer(name: str, log: Any) -> Path:
    """The python of peer `name`'s virtualenv, created and installed on first use."""
    spec = PEERS[name]
    venv = PEERS_DIR / name
    python = venv / "bin" / "python"
    marker = venv / ".pxfs-bench-requirements"
    wanted = "\n".join(spec["requirements"])
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    print(f"==> installing {name} into {venv} ({' '.join(spec['requirements'])})", file=log, flush=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *spec["requirements"]],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(spec['requirements'])} failed:\n{proc.stderr[-3000:]}")
    marker.write_text(wanted)
    return python


def child_env(endpoint: str, own_server: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PXFS_", "PIXELTABLE_"))}
    env["AWS_ENDPOINT_URL_S3"] = endpoint  # pxfs, boto3 (Pixeltable) and s3fs all honour it
    env["PYTHONUNBUFFERED"] = "1"
    if own_server:  # moto takes any credentials: never send the developer's
        for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            env.pop(k, None)
        env.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
        env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    return env


def admin_fs(endpoint: str, env: dict[str, str]) -> Any:
    import s3fs

    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    creds = {"key": key, "secret": secret} if key and secret else {}
    return s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True, **creds)


def list_prefix(fs: Any, bucket: str, prefix: str) -> dict[str, Any]:
    fs.invalidate_cache()
    return dict(fs.find(f"{bucket}/{prefix}", detail=True))


def remove_prefix(fs: Any, bucket: str, prefix: str) -> None:
    paths = list(list_prefix(fs, bucket, prefix))
    if paths:
        fs.rm(paths)
    fs.invalidate_cache()


def _md5(path: str) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------


class Suite:
    def __init__(self, args: argparse.Namespace, work: Path, endpoint: str, env: dict[str, str], fs: Any,
                 server_pid: int | None = None, server: CountingMoto | None = None) -> None:
        self.args, self.work, self.endpoint, self.env, self.fs = args, work, endpoint, env, fs
        self.server_pid = server_pid  # moto's, to report the server's CPU per workload
        self.server = server  # counts requests per workload (moto started here only)
        self.run_id = f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.records: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.peer_python: dict[str, Path] = {}
        self.peer_errors: dict[str, str] = {}
        self.count = 0

    def command(self, system: str) -> list[str]:
        if system in PEERS:
            return [str(self.peer_python[system]), str(ROOT / "benchmarks" / "peers" / PEERS[system]["script"])]
        return [sys.executable, "-m", "benchmarks.workloads"]

    def child(self, system: str, workload: str, spec: dict[str, Any], label: str) -> dict[str, Any]:
        spec_path = self.work / "specs" / f"{label}.json"
        spec_path.parent.mkdir(parents=True, exist_ok=True)
        spec_path.write_text(json.dumps(spec))
        command = [*self.command(system), str(spec_path)]
        if self.args.pyspy:  # sample every thread (and worker process) of the child while on CPU
            os.makedirs(self.args.pyspy, exist_ok=True)
            out = os.path.join(os.path.abspath(self.args.pyspy), f"{label}.txt")
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            command = [spy, "record", "--threads", "--subprocesses", "--rate", "200",
                       "--format", "raw", "-o", out, "--", *command]
        proc = subprocess.run(
            command, env=self.env, cwd=ROOT,
            capture_output=True, text=True, timeout=self.args.timeout,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{label} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]  # py-spy talks after it
        if not lines:
            raise RuntimeError(f"{label} printed no result:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        return json.loads(lines[-1])

    def spec(self, workload: str, n: int, label: str, **extra: Any) -> dict[str, Any]:
        spec = {
            "workload": workload, "n": n, "images_dir": str(self.work / "images"),
            "rotated_dir": str(self.work / "rotated"), "endpoint_url": self.endpoint, "bucket": self.args.bucket,
            "prefix": f"{self.run_id}/{label}/", "concurrency": self.args.concurrency,
            "home": str(self.work / "homes" / label), "rss_limit_mb": self.args.rss_limit_mb,
        }
        if self.args.cprofile:
            os.makedirs(self.args.cprofile, exist_ok=True)
            spec["cprofile"] = os.path.join(os.path.abspath(self.args.cprofile), f"{label}.prof")
        spec.update(extra)
        return spec

    def one(self, system: str, wid: str, n: int, rep: int, child_workload: str, keep: bool = False,
            label: str | None = None, **extra: Any) -> dict[str, Any] | None:
        self.count += 1
        label = label or f"{wid}-{system}-n{n}-r{rep}"
        spec = self.spec(child_workload, n, label, **extra)
        t0 = time.perf_counter()
        cpu0 = proc_cpu(self.server_pid)
        req0 = self.server.requests() if self.server is not None else None
        try:
            res = self.child(system, wid, spec, label)
            cpu1 = proc_cpu(self.server_pid)
            if cpu0 is not None and cpu1 is not None:  # set-up requests included (few)
                res["server_cpu_seconds"] = cpu1 - cpu0
            if req0 is not None and self.server is not None:  # the whole child, set-up included
                req1 = self.server.requests()
                res["requests"] = {m: req1.get(m, 0) - req0.get(m, 0) for m in req1 if req1.get(m, 0) > req0.get(m, 0)}
                if wid in UPLOADS and n:
                    res["requests_per_object"] = sum(res["requests"].values()) / n
            if wid in UPLOADS and n and res.get("cpu_seconds") is not None:
                res["client_cpu_ms_per_object"] = 1000 * res["cpu_seconds"] / n
            if wid in UPLOADS:
                self.check_upload(wid, system, spec, res)
        except Exception as e:  # noqa: BLE001 - one failure must not lose the rest of the run
            print(f"  {label}: FAILED: {str(e).strip().splitlines()[-1][:300]}", flush=True)
            self.failures.append({"label": label, "system": system, "workload": wid, "n": n, "error": str(e)[-4000:]})
            return None
        finally:
            if not keep:
                remove_prefix(self.fs, self.args.bucket, spec["prefix"])
                shutil.rmtree(spec["home"], ignore_errors=True)
        res.update(system=system, workload=wid, n=n, repeat=rep, label=label, wall_seconds=time.perf_counter() - t0)
        self.records.append(res)
        print(f"  {_describe(res)}", flush=True)
        return res

    def check_upload(self, wid: str, system: str, spec: dict[str, Any], res: dict[str, Any]) -> None:
        """Every object arrived; for pxfs's W3, they are the exact bytes W1 (outputs) uploaded."""
        objects = list_prefix(self.fs, self.args.bucket, spec["prefix"])
        res["objects"] = len(objects)
        if len(objects) != spec["n"]:
            raise RuntimeError(f"{spec['prefix']}: expected {spec['n']} objects, found {len(objects)}")
        if wid in ("W3", "W8") and system in ("pxfs", "script"):
            etags = sorted(str(d.get("ETag", "")).strip('"') for d in objects.values())
            want = sorted(_md5(os.path.join(spec["rotated_dir"], f"img_{i:07d}.jpg")) for i in range(spec["n"]))
            res["same_bytes_as_w1out"] = etags == want
            if etags != want:
                raise RuntimeError(f"{system} W3 uploaded other bytes than W1 (outputs)")

    # -- plan ------------------------------------------------------------------------------
    def wants(self, wid: str) -> bool:
        return not self.args.workloads or wid in self.args.workloads

    def run(self) -> None:
        a = self.args
        for n in a.n:
            print(f"== N = {n:,}", flush=True)
            for rep in range(a.repeat):
                plan: list[tuple[str, str, str, dict[str, Any]]] = [
                    ("s3fs", "W1in", "w1_s3fs", {"source": "in"}),
                    ("obstore", "W1in", "w1_obstore", {"source": "in"}),
                    ("pxfs", "W2", "w2_pxfs", {}),
                    ("s3fs", "W1out", "w1_s3fs", {"source": "out"}),
                    ("obstore", "W1out", "w1_obstore", {"source": "out"}),
                    ("pxfs", "W3", "w3_pxfs", {}),
                    ("script", "W3", "w3_script", {}),
                    ("pxfs", "W4", "w4_pxfs", {}),
                ]
                for peer in self.peer_python:
                    plan += [(peer, "W2", "w2", {}), (peer, "W3", "w3", {})]
                if rep % 2:  # alternate the order of the systems from one repeat to the next
                    plan.reverse()
                for system, wid, child, extra in plan:
                    if self.wants(wid if not wid.startswith("W1") else "W1"):
                        self.one(system, wid, n, rep, child, **extra)
        if "W8" in a.workloads:  # opt-in: it starts a Dask cluster and a Ray instance per run
            run_w8(self)
        if self.wants("W5"):
            self.run_w5()
        if "W9" in a.workloads:  # opt-in: a million rows take minutes
            self.run_w9()
        if self.wants("W6"):
            print("== W6 start-up", flush=True)
            for rep in range(a.repeat):
                for system in ["pxfs", *self.peer_python]:
                    self.one(system, "W6", 0, rep, "w6_pxfs" if system == "pxfs" else "w6", runs=a.startup_runs)

    def run_w5(self) -> None:
        a = self.args
        rows, distinct = a.w5_rows, min(a.w5_distinct, a.w5_rows)
        print(f"== W5 URL query, {rows:,} rows referencing {distinct:,} objects", flush=True)
        label = "W5-setup-pxfs"
        setup = self.one("pxfs", "W5setup", distinct, 0, "w5_setup_pxfs", keep=True, label=label,
                         rows=rows, distinct=distinct)
        if setup is None:
            return
        home, prefix = str(self.work / "homes" / label), f"{self.run_id}/{label}/"
        uris = sorted(f"s3://{k}" for k in list_prefix(self.fs, a.bucket, prefix))
        peer_homes = {}
        for peer in self.peer_python:
            plabel = f"W5-setup-{peer}"
            if self.one(peer, "W5setup", distinct, 0, "w5_setup", keep=True, label=plabel, rows=rows, uris=uris):
                peer_homes[peer] = str(self.work / "homes" / plabel)
        for rep in range(a.repeat):
            self.one("pxfs", "W5", rows, rep, "w5_pxfs", keep=True, home=home, rows=rows)
            for peer, phome in peer_homes.items():
                self.one(peer, "W5", rows, rep, "w5", keep=True, home=phome, rows=rows,
                         url_rows=min(rows, a.w5_peer_url_rows))
        remove_prefix(self.fs, a.bucket, prefix)


    def run_w9(self) -> None:
        """W9: each operation on one million-row table, each in a fresh process."""
        a = self.args
        rows, distinct = a.w9_rows, min(a.w5_distinct, a.w9_rows)
        print(f"== W9 a table of {rows:,} rows referencing {distinct:,} objects", flush=True)
        label = "W9-setup-pxfs"
        setup = self.one("pxfs", "W9setup", distinct, 0, "w9_setup_pxfs", keep=True, label=label,
                         rows=rows, distinct=distinct)
        if setup is None:
            return
        home, prefix = str(self.work / "homes" / label), f"{self.run_id}/{label}/"
        objects = sorted(k.rsplit("/", 1)[-1] for k in list_prefix(self.fs, a.bucket, prefix + "in/"))
        for op in a.w9_ops or W9_OPS:
            extra: dict[str, Any] = {"op": op, "rows": rows, "home": home, "setup_prefix": prefix}
            if op == "insert":
                extra.update(insert_rows=a.w9_insert_rows or rows, objects=objects)
            self.one("pxfs", "W9", rows, 0, "w9_pxfs", keep=True, label=f"W9-{op}", **extra)
        remove_prefix(self.fs, a.bucket, prefix)
        shutil.rmtree(home, ignore_errors=True)


W9_OPS = ["count", "fileurl_collect", "fileurl_stream", "url_collect", "url_stream", "to_parquet", "read_parquet",
          "read_parquet_duckdb", "ls", "ls_s3fs", "verify", "catalog_size", "limit10_owed", "insert"]


def _describe(r: dict[str, Any]) -> str:
    w8 = describe_w8(r)
    if w8 is not None:
        return w8
    head = f"{r['workload']:<6} {r['system']:<10} n={r['n']:<7,}"
    rss = f"peak RSS {r.get('peak_tree_rss_mb', r['peak_rss_mb']):6.0f} MB"
    if r["workload"] == "W5":
        url = f"url {r['url_rows_per_s']:>10,.0f}/s" if "url_rows_per_s" in r else "url n/a"
        return f"{head} fileurl {r['fileurl_rows_per_s']:>10,.0f}/s  {url}  {rss}"
    if r["workload"] == "W6":
        return f"{head} import {r['import_seconds']:.3f} s  import+open {r['open_seconds']:.3f} s  process {r['process_seconds']:.3f} s"
    if r["workload"] == "W9":
        extra = "".join(f"  {k} {r[k]:.1f}" for k in ("catalog_mb", "parquet_mb") if k in r)
        return f"W9     {r['op']:<20} rows={r['rows']:<9,} {r['seconds']:8.3f} s  {rss}{extra}"
    if r["workload"] in ("W5setup", "W9setup"):
        return f"{head} set-up {r['wall_seconds']:6.1f} s  {rss}"
    if r["workload"] == "W4":
        return f"{head} {r['seconds']:8.3f} s  {rss}"
    server = f"  server cpu {r['server_cpu_seconds']:6.2f} s" if "server_cpu_seconds" in r else ""
    return f"{head} {r['rows_per_s']:8.1f} rows/s  {r['seconds']:7.2f} s  cpu {r['cpu_seconds']:6.2f} s{server}  {rss}"


# ---------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("sizes must be positive")
    return values


def _names(allowed: set[str]) -> Any:
    def parse(text: str) -> list[str]:
        names = [v.strip() for v in text.split(",") if v.strip()]
        bad = [v for v in names if v not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown: {', '.join(bad)}; choose from {', '.join(sorted(allowed))}")
        return names

    return parse


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="pxfs against the upload ceiling (raw s3fs) and the tools users would pick instead. "
        "Starts moto_server unless --s3-endpoint is given. See docs/benchmarks.md.",
    )
    ap.add_argument("--n", type=_int_list, default=[200], help="rows per workload, comma-separated (default 200; e.g. 1000,10000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each workload; the tables show medians (default 3)")
    ap.add_argument("--s3-endpoint", metavar="URL", help="S3 endpoint (MinIO, a cloud region...); credentials from the AWS variables or profile")
    ap.add_argument("--bucket", default="pxfs-bench", help="bucket (created if missing; only this run's prefix is written and removed)")
    ap.add_argument("--peers", type=_names(set(PEERS)), default=[], help="comma-separated: pixeltable,daft (installed into benchmarks/.peers/)")
    ap.add_argument("--workloads", type=_names({"W1", "W2", "W3", "W4", "W5", "W6", "W8", "W9"}), default=[], help="run only these, e.g. W3,W4 (W8 and W9 run only when named)")
    ap.add_argument("--concurrency", type=int, default=64, help="uploads in flight: s3fs batch_size and pxfs upload_concurrency (default 64)")
    ap.add_argument("--w5-rows", type=int, default=100_000, help="rows of the W5 table (default 100000)")
    ap.add_argument("--w5-distinct", type=int, default=1000, help="distinct objects the W5 rows reference (default 1000)")
    ap.add_argument("--w5-peer-url-rows", type=int, default=10_000,
                    help="rows a peer presigns in W5 (Pixeltable signs ~300/s; default 10000)")
    ap.add_argument("--w8-model-rows", type=int, default=100_000,
                    help="rows of the table W8's driver commit rate is also measured on (default 100000)")
    ap.add_argument("--w9-rows", type=int, default=1_000_000, help="rows of the W9 table (default 1000000)")
    ap.add_argument("--w9-ops", type=_names(set(W9_OPS)), default=[],
                    help=f"W9 operations to run (default all: {','.join(W9_OPS)})")
    ap.add_argument("--w9-insert-rows", type=int, default=0, help="rows W9's insert inserts (default: --w9-rows)")
    ap.add_argument("--startup-runs", type=int, default=5, help="fresh processes per W6 measurement (default 5)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for results JSON, table and chart (default benchmarks/results/)")
    ap.add_argument("--docs", action="store_true", help="also write docs/benchmarks/ and the results section of docs/benchmarks.md")
    ap.add_argument("--no-chart", action="store_true", help="no PNG chart (also skipped when matplotlib is missing)")
    ap.add_argument("--cprofile", metavar="DIR", help="write a cProfile of each timed part into DIR")
    ap.add_argument("--pyspy", metavar="DIR", help="run each workload under py-spy record (pip install py-spy); collapsed stacks into DIR")
    ap.add_argument("--rss-limit-mb", type=float, default=8000,
                    help="kill a workload whose process tree grows past this many MB (default 8000)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds one workload process may take (default 3600)")
    ap.add_argument("--report", type=Path, metavar="JSON",
                    help="run nothing: rebuild the table and chart (and with --docs, the docs) from a results JSON")
    ap.add_argument("--workdir", type=Path, help="keep images and homes here (default: a temporary folder, removed)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.repeat <= 0 or args.concurrency <= 0 or args.w5_rows <= 0:
        parser().error("--repeat, --concurrency and --w5-rows must be positive")
    from . import report

    if args.report:
        results = json.loads(args.report.read_text())
        paths = report.write_all(results, args.out, chart=not args.no_chart)
        if args.docs:
            report.write_docs(results, DOCS_DIR, ROOT / "docs" / "benchmarks.md", chart=not args.no_chart)
        print(report.markdown(results))
        print("\n".join(f"wrote {p}" for p in paths))
        return 0
    git = report.git_state(ROOT)  # before the run: what was measured
    work = args.workdir or Path(tempfile.mkdtemp(prefix="pxfs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    server = None
    started = time.time()
    suite: Suite | None = None
    try:
        t0 = time.perf_counter()
        images = make_images(work / "images", max([*args.n, min(args.w5_distinct, args.w5_rows), DISTINCT]))
        make_rotated(images[: max(args.n)], work / "rotated")
        print(f"{len(images):,} JPEGs of 640x480 ({DISTINCT} distinct pictures) and their rotations "
              f"in {work} ({time.perf_counter() - t0:.1f} s)", flush=True)
        if args.s3_endpoint:
            endpoint, own = args.s3_endpoint, False
        else:
            server = CountingMoto().start()
            endpoint, own = server.endpoint_url, True
        env = child_env(endpoint, own)
        fs = admin_fs(endpoint, env)
        ensure_bucket(fs, args.bucket)
        pid = server._proc.pid if server is not None and server._proc is not None else None
        suite = Suite(args, work, endpoint, env, fs, pid, server)
        for peer in args.peers:
            try:
                suite.peer_python[peer] = ensure_peer(peer, sys.stdout)
            except Exception as e:  # noqa: BLE001 - the run goes on without that peer, and says why
                suite.peer_errors[peer] = str(e)
                print(f"peer {peer} unavailable: {e}", flush=True)
        print(f"endpoint {endpoint}{' (moto_server, started here)' if own else ''}, bucket {args.bucket}, "
              f"prefix {suite.run_id}/, concurrency {args.concurrency}, N = {', '.join(f'{n:,}' for n in args.n)}, "
              f"{args.repeat} repeat(s)", flush=True)
        suite.run()
        remove_prefix(fs, args.bucket, suite.run_id + "/")
    finally:
        if server is not None:
            server.stop()
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    meta = {
        "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": dt.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "duration_seconds": round(time.time() - started, 1),
        "endpoint": "moto_server (started by the suite)" if own else endpoint,
        "bucket": args.bucket, "n": args.n, "repeat": args.repeat, "concurrency": args.concurrency,
        "w5_rows": args.w5_rows, "w5_distinct": min(args.w5_distinct, args.w5_rows),
        "w5_peer_url_rows": min(args.w5_rows, args.w5_peer_url_rows),
        "w9_rows": args.w9_rows,
        "machine": report.machine(), "versions": report.versions(), "git": git,
        "peers": {p: PEERS[p]["requirements"] for p in suite.peer_python},
        "peer_errors": suite.peer_errors, "image": {"width": 640, "height": 480, "distinct": DISTINCT},
    }
    results = {"meta": meta, "records": suite.records, "failures": suite.failures}
    paths = report.write_all(results, args.out, chart=not args.no_chart)
    if args.docs:
        report.write_docs(results, DOCS_DIR, ROOT / "docs" / "benchmarks.md", chart=not args.no_chart)
    print()
    print(report.markdown(results))
    print("\n".join(f"wrote {p}" for p in paths))
    if suite.failures:
        print(f"{len(suite.failures)} workload run(s) failed; see 'failures' in the JSON", file=sys.stderr)
        return 1
    return 0
