"""What every benchmark child process shares, whatever system it runs (pxfs or a peer).

A child is started as ``<python> <script> SPEC.json`` (or ``-m benchmarks.workloads``)
in a fresh process, runs one workload once, and prints one JSON line as its last line of
standard output. This module imports nothing outside the standard library (psutil is
used if installed), so each peer's own virtualenv can run it.

Measured here for every workload:

- ``peak_rss_mb``: the child's peak resident set size (``ru_maxrss``);
- ``peak_tree_rss_mb``: the peak of the RSS summed over the child and its descendants
  (worker processes), sampled every 20 ms with psutil; absent without psutil;
- ``cpu_seconds``: user + system CPU of the child (and of its reaped children) during
  the timed part.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Iterator

__all__ = ["Timer", "image_paths", "rotated_paths", "run_child", "s3_options", "startup_runs", "table_startup"]


def image_paths(spec: dict[str, Any]) -> list[str]:
    """The run's input JPEGs for this spec (the parent wrote them)."""
    return [os.path.join(spec["images_dir"], f"img_{i:07d}.jpg") for i in range(spec["n"])]


def rotated_paths(spec: dict[str, Any]) -> list[str]:
    """The exact bytes of ``Image.open(p).rotate(90)`` re-encoded as JPEG, one file per input."""
    return [os.path.join(spec["rotated_dir"], f"img_{i:07d}.jpg") for i in range(spec["n"])]


def s3_options(spec: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``s3fs.S3FileSystem`` on the run's endpoint."""
    return {"endpoint_url": spec["endpoint_url"], "skip_instance_cache": True,
            "config_kwargs": {"max_pool_connections": spec["concurrency"]}}


def table_startup(module: str, spec: dict[str, Any]) -> dict[str, Any]:
    """W6 for `module` (pxfs or pixeltable, same API here): create table ``w6``, then time
    fresh processes that import `module` and open it (see :func:`startup_runs`)."""
    import importlib

    pxt = importlib.import_module(module)
    pxt.create_table("w6", {"img": pxt.Image, "title": pxt.String})
    code = f"""
import json, time
t0 = time.perf_counter()
import {module} as pxt
t1 = time.perf_counter()
t = pxt.get_table('w6')
t.columns()
t2 = time.perf_counter()
print(json.dumps({{"import_seconds": t1 - t0, "open_seconds": t2 - t0}}))
"""
    return startup_runs(sys.executable, code, dict(os.environ), spec.get("runs", 5))


def startup_runs(python: str, code: str, env: dict[str, str], runs: int) -> dict[str, Any]:
    """Median of `runs` fresh processes running `code` (which prints import/open seconds)."""
    samples: list[dict[str, float]] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"start-up process failed:\n{proc.stderr[-3000:]}")
        sample = json.loads(proc.stdout.strip().splitlines()[-1])
        sample["process_seconds"] = wall
        samples.append(sample)
    out: dict[str, Any] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    out["samples"] = samples
    out["seconds"] = out["import_seconds"]
    return out



class _TreeSampler:
    """Peak RSS of this process plus its descendants, sampled in a daemon thread.

    Past `limit_mb` the whole tree is killed (exit 3): a runaway peer must not take the
    machine's memory from everything else running on it.
    """

    # Listing descendants reads every /proc/<pid>/stat: done every _RESCAN_S, not every
    # sample, so the sampler costs the measured process little CPU (it was ~5%).
    _RESCAN_S = 0.5

    def __init__(self, interval: float = 0.02, limit_mb: float | None = None) -> None:
        self.peak = 0
        self._children: list[Any] = []
        self._scanned = 0.0
        self.limit = limit_mb * 2**20 if limit_mb else None
        self._stop = threading.Event()
        try:
            import psutil
        except ImportError:
            self._thread = None
            return
        self._proc = psutil.Process()
        self._psutil = psutil
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        total = 0
        now = time.monotonic()
        if now - self._scanned >= self._RESCAN_S:
            self._scanned = now
            with contextlib.suppress(Exception):
                self._children = self._proc.children(recursive=True)
        procs = [self._proc, *self._children]
        for p in procs:
            with contextlib.suppress(Exception):
                total += p.memory_info().rss
        self.peak = max(self.peak, total)
        if self.limit is not None and total > self.limit:
            print(f"benchmark child: RSS of the process tree reached {total / 2**20:.0f} MB, over the limit of "
                  f"{self.limit / 2**20:.0f} MB; stopping", file=sys.stderr, flush=True)
            for p in procs[1:]:
                with contextlib.suppress(Exception):
                    p.kill()
            os._exit(3)

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(interval)

    def stop(self) -> float | None:
        if self._thread is None:
            return None
        self._stop.set()
        self._thread.join()
        self._sample()
        return self.peak / 2**20


class Timer:
    """Times the measured part of a workload: ``with timer: ...``; CPU with it."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self._profiler: Any = None

    def profile_to(self, path: str | None) -> None:
        if path:
            import cProfile

            self._profiler = cProfile.Profile()
            self._path = path

    def __enter__(self) -> Timer:
        self._cpu0 = os.times()
        if self._profiler is not None:
            self._profiler.enable()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._t0
        if self._profiler is not None:
            self._profiler.disable()
            self._profiler.dump_stats(self._path)
        c = os.times()
        self.cpu_seconds += (c.user - self._cpu0.user) + (c.system - self._cpu0.system) + (
            c.children_user - self._cpu0.children_user) + (c.children_system - self._cpu0.children_system)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Workload chatter (progress bars, logs) goes to stderr: stdout carries the JSON."""
    saved = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout = saved


def run_child(workloads: dict[str, Callable[[dict[str, Any], Timer], dict[str, Any]]], argv: list[str]) -> int:
    """Run the workload named in the spec file ``argv[0]``; print its result as JSON."""
    with open(argv[0]) as f:
        spec = json.load(f)
    fn = workloads[spec["workload"]]
    sampler = _TreeSampler(limit_mb=spec.get("rss_limit_mb"))
    timer = Timer()
    timer.profile_to(spec.get("cprofile"))
    with _quiet_stdout():
        result = fn(spec, timer)
    tree = sampler.stop()
    result.setdefault("seconds", timer.seconds)
    result.setdefault("cpu_seconds", timer.cpu_seconds)
    rows = result.get("rows")
    if rows and result["seconds"] > 0 and "rows_per_s" not in result:
        result["rows_per_s"] = rows / result["seconds"]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if tree is not None:
        result["peak_tree_rss_mb"] = tree
    print(json.dumps(result))
    sys.stdout.flush()
    return 0
