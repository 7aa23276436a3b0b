"""W8: materialize on each executor (threads, Dask, Ray) on this machine, and the scaling model.

====== ============ ==========================================================================
id     system       what is timed
====== ============ ==========================================================================
W8     pxfs         W3's ``add_computed_column(rotated=...)`` + ``materialize(executor=...)``
                    with ``threads``, a ``distributed.LocalCluster`` of 2 worker processes
                    (one thread each) and a local Ray of 2 CPUs; the engine is started and its
                    workers have imported pxfs before the timer starts (a cluster is up already
                    when a user calls materialize); their S3 clients are made inside it
W8model pxfs        the two rates of the scaling model, in one process: one worker's rate
                    (``run_batch`` on each batch in turn: fetch, compute, upload; no catalog)
                    and the driver's commit rate (``record`` of ready results in batches of
                    ``materialize_batch_size``, no compute), at N rows and at ``model_rows``
====== ============ ==========================================================================

With W workers computing R rows/s each, materialize runs at about min(W x R, C, storage),
C the driver's commit rate: C / R is the number of workers one driver keeps busy.
Child side: :data:`WORKLOADS` (run by ``benchmarks.workloads``); parent side:
:func:`run_w8` (``benchmarks.run``); report: :func:`targets` and :func:`markdown`.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

__all__ = ["EXECUTORS", "WORKLOADS", "markdown", "run_w8", "targets"]

EXECUTORS = ("threads", "dask", "ray")
WORKERS = 2


# -- child side ------------------------------------------------------------------------------


def _warm() -> int:
    """Run on each worker before the timer: the imports a long-running worker has done."""
    import PIL.Image  # noqa: F401
    import s3fs  # noqa: F401

    import pxfs.compute._batch  # noqa: F401

    return os.getpid()


@contextlib.contextmanager
def _engine(name: str, workers: int) -> Iterator[Any]:
    """What to pass as ``executor=``, with the engine started and its workers warm."""
    if name == "threads":
        yield "threads"
    elif name == "dask":
        import distributed

        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            client.run(_warm)
            yield client
    elif name == "ray":
        import ray

        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        try:
            warm = ray.remote(num_cpus=1)(_warm)
            pids: set[int] = set()
            while len(pids) < workers:  # until every worker process has run it
                pids |= set(ray.get([warm.remote() for _ in range(2 * workers)]))
            yield "ray"
        finally:
            ray.shutdown()
    else:
        raise ValueError(f"unknown executor {name!r}")


def w8_pxfs(spec: dict[str, Any], timer: Any) -> dict[str, Any]:
    from .workloads import _dest, _local_table, _pxfs_env

    _pxfs_env(spec)  # before the engine starts: its workers inherit the environment
    with _engine(spec["executor"], spec["workers"]) as executor:
        t = _local_table("w8", spec)
        with timer:
            t.add_computed_column(rotated=t.img.rotate(90), destination=_dest(spec))
            computed = t.materialize(show_progress=False, executor=executor)
    assert computed == spec["n"], computed
    return {"rows": spec["n"], "executor": spec["executor"], "workers": spec["workers"]}


def w8_model_pxfs(spec: dict[str, Any], timer: Any) -> dict[str, Any]:
    """One worker's rows/s and the driver's commit rows/s (see the module docstring)."""
    import time

    from pxfs.compute import BatchTask, run_batch
    from pxfs.compute._batch import portable_config
    from pxfs.compute._driver import owed_batches
    from pxfs.env import Env
    from pxfs.session import Session

    from .workloads import _dest, _local_table, _pxfs_env

    _pxfs_env(spec)
    env = Session.default()
    batch_size = env["materialize_batch_size"]
    t = _local_table("w8model", spec)
    t.add_computed_column(rotated=t.img.rotate(90), destination=_dest(spec))
    meta, table = t._meta(), t
    job = _job(table, meta, "rotated")
    config = portable_config(env.storage.config)
    batches = list(owed_batches(env.catalog, meta, job, None, batch_size))
    with timer:  # one worker: each batch in turn, as a worker process with one thread runs them
        results = [run_batch(BatchTask(job, tuple(b), f"{meta.id}_{job.column.col_id}_", config)) for b in batches]
    assert sum(len(r.records) for r in results) == spec["n"] and not any(r.error for r in results)
    out: dict[str, Any] = {"rows": spec["n"], "worker_rows_per_s": spec["n"] / timer.seconds,
                           "batch_size": batch_size}
    records = [rec for r in results for rec in r.records]
    start = time.perf_counter()
    _commit(env.catalog, meta, job, records, batch_size)
    out["commit_rows_per_s"] = len(records) / (time.perf_counter() - start)
    # The commit rate on a bigger table (its UPDATE joins the batch with the rows table).
    big = spec["model_rows"]
    big_meta, big_job, big_records = _big_table(t, spec, records, big)
    start = time.perf_counter()
    _commit(env.catalog, big_meta, big_job, big_records, batch_size)
    out["commit_big_rows_per_s"] = len(big_records) / (time.perf_counter() - start)
    out["model_rows"] = big
    return out


def _job(table: Any, meta: Any, name: str) -> Any:
    from pxfs.compute import CellJob

    col = meta.column(name)
    return CellJob(col, (meta.column("img"),), col.computed or {}, col.destination or "")


def _commit(catalog: Any, meta: Any, job: Any, records: list[Any], batch_size: int) -> None:
    """The driver's recording loop of materialize_on, without the waits on workers."""
    from pxfs.compute._driver import record
    from pxfs.compute._remote import _HOLD, _IDLE

    with catalog.held(seconds=_HOLD, idle=_IDLE):
        for i in range(0, len(records), batch_size):
            record(catalog, meta, job.column, records[i:i + batch_size])


def _big_table(t: Any, spec: dict[str, Any], records: list[Any], rows: int) -> tuple[Any, Any, list[Any]]:
    """A copy of the table grown to `rows` owed rows in the catalog (set-up, as W5 grows its table),
    and records for all of them (the N stored objects, reused)."""
    import pxfs as pxt
    from pxfs.env import Env

    from .workloads import _dest, _local_table

    big = _local_table("w8big", spec)
    big.add_computed_column(rotated=big.img.rotate(90), destination=_dest(spec))
    n = spec["n"]
    meta = big._meta()
    copies = -(-rows // n)
    with Session.default().catalog.transaction() as con:
        con.execute(
            f"insert into {meta.rows} select r.* replace (r._rowid + {n} * m.i as _rowid) "
            f"from {meta.rows} r, range(1, {copies}) m(i) where r._rowid + {n} * m.i < {rows}"
        )
        con.execute("update tables set next_rowid = ? where id = ?", [rows, meta.id])
    big = pxt.get_table("w8big")
    meta = big._meta()
    by_row = sorted(records)
    return meta, _job(big, meta, "rotated"), [(i, *by_row[i % n][1:]) for i in range(rows)]


WORKLOADS = {"w8_pxfs": w8_pxfs, "w8_model_pxfs": w8_model_pxfs}


# -- parent side -----------------------------------------------------------------------------


def run_w8(suite: Any) -> None:
    """Per N and repeat: W8 with each executor (the order alternates), then the model once per N."""
    a = suite.args
    for n in a.n:
        print(f"== W8 executors, N = {n:,}, {WORKERS} local workers", flush=True)
        for rep in range(a.repeat):
            order = EXECUTORS if rep % 2 == 0 else tuple(reversed(EXECUTORS))
            for name in order:
                suite.one("pxfs", "W8", n, rep, "w8_pxfs", label=f"W8-{name}-n{n}-r{rep}", executor=name,
                          workers=WORKERS)
        suite.one("pxfs", "W8model", n, 0, "w8_model_pxfs", label=f"W8model-n{n}", model_rows=a.w8_model_rows)


def describe(r: dict[str, Any]) -> str | None:
    """The progress line of a W8 record (None: not W8)."""
    if r["workload"] == "W8":
        return (f"W8     {r['executor']:<10} n={r['n']:<7,} {r['rows_per_s']:8.1f} rows/s  {r['seconds']:7.2f} s  "
                f"peak RSS (tree) {r.get('peak_tree_rss_mb', r['peak_rss_mb']):6.0f} MB")
    if r["workload"] == "W8model":
        return (f"W8model n={r['n']:<7,} one worker {r['worker_rows_per_s']:8.1f} rows/s  commit "
                f"{r['commit_rows_per_s']:10,.0f} rows/s ({r['commit_big_rows_per_s']:,.0f} at {r['model_rows']:,} rows)")
    return None


# -- report ----------------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    import statistics

    return statistics.median(values) if values else None


def _rate(rec: list[dict[str, Any]], n: int, executor: str) -> float | None:
    return _median([r["rows_per_s"] for r in rec if r["workload"] == "W8" and r["n"] == n
                    and r["executor"] == executor])


def _model(rec: list[dict[str, Any]], n: int, key: str) -> float | None:
    return _median([r[key] for r in rec if r["workload"] == "W8model" and r["n"] == n])


def _ns(rec: list[dict[str, Any]]) -> list[int]:
    return sorted({r["n"] for r in rec if r["workload"] in ("W8", "W8model")})


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 11's W8 targets: Dask and Ray within 25% of threads; commit rate >= 20x one worker."""
    rec, out = results["records"], []
    for n in _ns(rec):
        threads = _rate(rec, n, "threads")
        for name in EXECUTORS[1:]:
            r = _rate(rec, n, name)
            x = r / threads if r and threads else None
            out.append({"target": f"W8 {name} >= 0.75x threads at {WORKERS} workers (N={n:,})", "value": x,
                        "met": None if x is None else x >= 0.75,
                        "figure": f"{x:.2f}x ({r:,.0f} vs {threads:,.0f} rows/s)" if x else "not measured"})
        c, w = _model(rec, n, "commit_rows_per_s"), _model(rec, n, "worker_rows_per_s")
        x = c / w if c and w else None
        out.append({"target": f"W8 driver commit rate >= 20x one worker's rate (N={n:,})", "value": x,
                    "met": None if x is None else x >= 20,
                    "figure": f"{x:,.0f}x ({c:,.0f} vs {w:,.0f} rows/s)" if x else "not measured"})
    return out


def markdown(results: dict[str, Any]) -> list[str]:
    """The W8 tables (executors, then the scaling model), or nothing if W8 did not run."""
    from .report import pick

    rec = results["records"]
    if not any(r["workload"] == "W8" for r in rec):
        return []
    lines = ["", f"**W8: materialize on each executor** ({WORKERS} local workers; median of the repeats)", "",
             "| N | executor | rows/s | vs threads | vs W1 ceiling (outputs) | peak RSS, process tree MB |",
             "|---:|---|---:|---:|---:|---:|"]
    for n in _ns(rec):
        threads, w1 = _rate(rec, n, "threads"), pick(rec, "s3fs", "W1out", "rows_per_s", n)
        for name in EXECUTORS:
            r = _rate(rec, n, name)
            if r is None:
                continue
            tree = _median([x.get("peak_tree_rss_mb", x["peak_rss_mb"]) for x in rec
                            if x["workload"] == "W8" and x["n"] == n and x["executor"] == name])
            lines.append(f"| {n:,} | {name} | {r:,.0f} | {r / threads:.2f}x | "
                         f"{f'{r / w1:.2f}x' if w1 else ''} | {tree or 0:,.0f} |")
    lines += ["", "**W8: scaling model** (one worker: `run_batch` on each batch in turn in one process; "
              "driver: `record` of ready results in batches, no compute)", "",
              "| N | one worker rows/s | driver commit rows/s (N rows) | commit rows/s (larger table) | "
              "workers one driver feeds |", "|---:|---:|---:|---:|---:|"]
    for n in _ns(rec):
        w, c, cb = (_model(rec, n, k) for k in ("worker_rows_per_s", "commit_rows_per_s", "commit_big_rows_per_s"))
        if w is None or c is None:
            continue
        big = next(r["model_rows"] for r in rec if r["workload"] == "W8model" and r["n"] == n)
        lines.append(f"| {n:,} | {w:,.0f} | {c:,.0f} | {cb or 0:,.0f} at {big:,} rows | "
                     f"{c / w:,.0f} ({min(c, cb or c) / w:,.0f} at {big:,} rows) |")
    return lines
