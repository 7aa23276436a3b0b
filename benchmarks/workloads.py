"""The pxfs side of each workload, and the baselines a user would write without pxfs.

Run by the parent (``benchmarks/run.py``) as ``python -m benchmarks.workloads SPEC.json``
in a fresh process per workload and repeat; prints one JSON line (see ``peers/_harness``).

====== ============ ==========================================================================
id     system       what is timed
====== ============ ==========================================================================
W1     s3fs         ``s3fs.put`` of N local files (the inputs, or the exact rotated bytes pxfs
                    uploads in W3), ``batch_size`` = the run's concurrency
                    (import and client included, as pxfs pays them inside W2 and W3)
W1     obstore      the same files by ``obstore.put_async`` (one event loop, the run's
                    concurrency in flight); the ceiling is the faster of the two W1s
W2     pxfs         ``t.insert(N rows)`` of local JPEGs with ``input_media_dest`` on S3
W3     pxfs         ``add_computed_column(rotated=t.img.rotate(90), destination='s3://...')``
                    then ``materialize()``, on a table of N local JPEGs
W3     script       the same Pillow ``rotate(90)`` + JPEG encode + ``s3fs.pipe_file`` in a
                    16-thread pool: what a user writes without pxfs
W4     pxfs         ``t.limit(10).select(t.rotated.fileurl).collect()`` on N never-materialized rows
W5     pxfs         ``.fileurl`` then presigned ``.url`` of every row of a 100,000-row table
W6     pxfs         fresh processes: ``import pxfs``, then ``pxt.get_table()`` + ``columns()``
W8     pxfs         W3's ``materialize`` with ``executor=`` threads, Dask, Ray; the scaling model
                    (one worker's rate, the driver's commit rate): see ``benchmarks/w8.py``
W9     pxfs         one operation on a table of a million rows per process (``spec['op']``):
                    insert, count, .fileurl / .url (collect and streamed), to_parquet,
                    read_parquet through DuckDB, pxfs ls, pxfs verify, catalog size, limit(10)
W9     baselines    DuckDB reading the same Parquet file directly; one raw ``s3fs.ls``
====== ============ ==========================================================================

W7 (peak RSS) is read from the W2 and W3 runs. Set-up (creating tables, inserting the
local rows W3 and W4 start from) happens in the same process, outside the timed part.
"""

from __future__ import annotations

import io
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .peers._harness import (
    Timer, image_paths, rotated_paths, run_child, s3_options, table_startup,
)
from .w8 import WORKLOADS as W8_WORKLOADS

__all__ = ["WORKLOADS"]


def _pxfs_env(spec: dict[str, Any], **settings: str) -> None:
    os.environ["PXFS_HOME"] = spec["home"]
    os.environ["PXFS_UPLOAD_CONCURRENCY"] = str(spec["concurrency"])
    os.environ["PXFS_SHOW_PROGRESS"] = "false"
    for key, value in settings.items():
        os.environ[f"PXFS_{key.upper()}"] = value


def _dest(spec: dict[str, Any]) -> str:
    return f"s3://{spec['bucket']}/{spec['prefix']}"


def w1_s3fs(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    """Raw s3fs batched put of the exact bytes pxfs uploads (inputs or rotated outputs).

    Like pxfs inside ``insert``/``materialize``, it pays its first use of s3fs (import,
    client) inside the timed part.
    """
    files = rotated_paths(spec) if spec.get("source") == "out" else image_paths(spec)
    remote = [f"{spec['bucket']}/{spec['prefix']}{os.path.basename(p)}" for p in files]
    with timer:
        import s3fs

        fs = s3fs.S3FileSystem(**s3_options(spec))
        fs.put(files, remote, batch_size=spec["concurrency"])
    return {"rows": len(files), "bytes": sum(os.path.getsize(p) for p in files)}


def w1_obstore(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    """Raw obstore uploads of the same bytes as :func:`w1_s3fs`, as its docs suggest:
    ``put_async`` on one event loop, `concurrency` in flight, Content-Type as pxfs sends it.
    Credentials and region come from the AWS variables the run sets."""
    files = rotated_paths(spec) if spec.get("source") == "out" else image_paths(spec)
    with timer:
        import asyncio

        import obstore
        from obstore.store import S3Store

        store = S3Store(spec["bucket"], endpoint=spec["endpoint_url"], aws_endpoint_url_s3=spec["endpoint_url"],
                        client_options={"allow_http": True, "pool_max_idle_per_host": str(spec["concurrency"])})

        async def upload_all() -> None:
            gate = asyncio.Semaphore(spec["concurrency"])

            async def one(path: str) -> None:
                async with gate:
                    with open(path, "rb") as f:
                        data = f.read()
                    await obstore.put_async(store, spec["prefix"] + os.path.basename(path), data,
                                            use_multipart=False, attributes={"Content-Type": "image/jpeg"})

            await asyncio.gather(*(one(p) for p in files))

        asyncio.run(upload_all())
    return {"rows": len(files), "bytes": sum(os.path.getsize(p) for p in files)}


def w2_pxfs(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    _pxfs_env(spec, input_media_dest=_dest(spec))
    import pxfs as pxt

    t = pxt.create_table("w2", {"img": pxt.Image})
    rows = [{"img": p} for p in image_paths(spec)]
    with timer:
        t.insert(rows)
    return {"rows": len(rows)}


def _local_table(name: str, spec: dict[str, Any]) -> Any:
    import pxfs as pxt

    t = pxt.create_table(name, {"img": pxt.Image})
    t.insert([{"img": p} for p in image_paths(spec)])
    return t


def w3_pxfs(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    _pxfs_env(spec)
    t = _local_table("w3", spec)
    with timer:
        t.add_computed_column(rotated=t.img.rotate(90), destination=_dest(spec))
        computed = t.materialize(show_progress=False)
    assert computed == spec["n"], computed
    return {"rows": spec["n"]}


def w3_script(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    """What a user writes without pxfs: Pillow in a thread pool, s3fs to upload."""
    import s3fs
    from PIL import Image

    fs = s3fs.S3FileSystem(endpoint_url=spec["endpoint_url"], skip_instance_cache=True)
    paths = image_paths(spec)

    def one(path: str) -> None:
        with Image.open(path) as img:
            out = img.rotate(90)
        buf = io.BytesIO()
        out.save(buf, format="JPEG")
        fs.pipe_file(f"{spec['bucket']}/{spec['prefix']}{os.path.basename(path)}", buf.getvalue())

    with timer:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(one, paths))
    return {"rows": len(paths)}


def w4_pxfs(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    _pxfs_env(spec)
    t = _local_table("w4", spec)
    t.add_computed_column(rotated=t.img.rotate(90), destination=_dest(spec))
    with timer:
        rs = t.limit(10).select(t.rotated.fileurl).collect()
    assert len(rs) == min(10, spec["n"]) and all(u and u.startswith("s3://") for u in rs["rotated_fileurl"]), rs
    return {"rows": len(rs), "table_rows": spec["n"]}


def w5_setup_pxfs(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    """A table of `rows` rows whose Image cells reference objects that exist on S3.

    ``distinct`` objects are uploaded and inserted through the public API (each value is
    checked with a HEAD request); the rows are then repeated inside the catalog up to
    `rows` rows (a HEAD per row would make the set-up, not W5, the long part of a run).
    """
    _pxfs_env(spec)
    import pxfs as pxt
    from pxfs.env import Env
    from pxfs.session import Session

    rows, distinct = spec["rows"], min(spec["distinct"], spec["rows"])
    uris = pxt.put_many(image_paths({**spec, "n": distinct}), _dest(spec))
    t = pxt.create_table("w5", {"img": pxt.Image})
    t.insert([{"img": u} for u in uris])
    copies = -(-rows // distinct)
    meta = t._meta()
    with Session.default().catalog.transaction() as con:
        con.execute(
            f"insert into {meta.rows} select r.* replace (r._rowid + {distinct} * m.i as _rowid) "
            f"from {meta.rows} r, range(1, {copies}) m(i) where r._rowid + {distinct} * m.i < {rows}"
        )
        con.execute("update tables set next_rowid = ? where id = ?", [rows, meta.id])
    assert t.count() == rows
    return {"rows": rows}


def w5_pxfs(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    _pxfs_env(spec)
    import pxfs as pxt

    t = pxt.get_table("w5")
    out: dict[str, Any] = {}
    for prop in ("fileurl", "url", "fileurl", "url"):  # first (cold) call of each, then warm
        tm = Timer()
        with tm:
            rs = t.select(getattr(t.img, prop)).collect()
        values = rs[f"img_{prop}"]
        assert len(values) == spec["rows"] and values[-1].startswith("s3://" if prop == "fileurl" else "http")
        key = f"{prop}_seconds" if f"{prop}_seconds" not in out else f"{prop}_warm_seconds"
        out[key] = tm.seconds
    out["rows"] = spec["rows"]
    out["fileurl_rows_per_s"] = spec["rows"] / out["fileurl_seconds"]
    out["url_rows_per_s"] = spec["rows"] / out["url_seconds"]
    out["seconds"] = out["fileurl_seconds"] + out["url_seconds"]
    return out


def w6_pxfs(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    _pxfs_env(spec)
    return table_startup("pxfs", spec)


# -- W9: a table of a million rows ---------------------------------------------------------

W9_TABLE = "w9"


def w9_setup_pxfs(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    """The W9 table: `rows` rows referencing ``distinct`` existing S3 objects, and a computed
    column ``rotated`` whose cells are computed for the first ``distinct`` rows.

    Like W5, ``distinct`` objects are uploaded and inserted through the public API, then the
    rows (with their computed cells) are repeated inside the catalog up to `rows`.
    """
    _pxfs_env(spec)
    import pxfs as pxt
    from pxfs.env import Env

    rows, distinct = spec["rows"], min(spec["distinct"], spec["rows"])
    uris = pxt.put_many(image_paths({**spec, "n": distinct}), _dest(spec) + "in/")
    t = pxt.create_table(W9_TABLE, {"img": pxt.Image, "i": pxt.Int})
    t.add_computed_column(rotated=t.img.rotate(90), destination=_dest(spec) + "out/")
    t.insert([{"img": u, "i": k} for k, u in enumerate(uris)])
    t.materialize(show_progress=False)
    copies = -(-rows // distinct)
    meta = t._meta()
    with Session.default().catalog.transaction() as con:  # set-up only: W5's way of making many rows fast
        con.execute(
            f"insert into {meta.rows} select r.* replace (r._rowid + {distinct} * m.i as _rowid, "
            f"r.{meta.column('i').phys} + {distinct} * m.i as {meta.column('i').phys}) "
            f"from {meta.rows} r, range(1, {copies}) m(i) where r._rowid + {distinct} * m.i < {rows}"
        )
        con.execute("update tables set next_rowid = ? where id = ?", [rows, meta.id])
    assert t.count() == rows
    return {"rows": rows}


def _w9_table(spec: dict[str, Any]) -> Any:
    _pxfs_env(spec)
    import pxfs as pxt

    return pxt.get_table(W9_TABLE)


def w9_pxfs(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    """One W9 operation (``spec['op']``) on the W9 table, in its own process (its own peak RSS)."""
    op = spec["op"]
    out: dict[str, Any] = {"op": op}
    if op == "insert":
        _pxfs_env(spec)
        import pxfs as pxt

        rows = spec["insert_rows"]
        uris = [f"s3://{spec['bucket']}/{spec['setup_prefix']}in/{name}" for name in spec["objects"]]
        t = pxt.create_table("w9_insert", {"img": pxt.Image, "i": pxt.Int}, if_exists="replace")
        img = [uris[k % len(uris)] for k in range(rows)]
        data: Any = [{"img": u, "i": k} for k, u in enumerate(img)]
        out["insert_from"] = "list of dicts"
        if "pyarrow.Table" in (type(t).insert.__doc__ or ""):  # bulk insert, where this pxfs has it
            import pyarrow as pa

            data, out["insert_from"] = pa.table({"img": img, "i": list(range(rows))}), "pyarrow.Table"
        with timer:
            t.insert(data)
        assert t.count() == rows
        out["rows"] = rows
        return out
    t = _w9_table(spec)
    rows = spec["rows"]
    out["rows"] = rows
    if op == "count":
        with timer:
            n = t.count()
        assert n == rows, n
    elif op in ("fileurl_collect", "url_collect"):
        exprs = [t.img.fileurl] + ([t.img.url] if op == "url_collect" else [])
        with timer:
            rs = t.select(*exprs).collect()
        assert len(rs) == rows
    elif op in ("fileurl_stream", "url_stream"):
        exprs = [t.img.fileurl] + ([t.img.url] if op == "url_stream" else [])
        n = 0
        with timer:
            for batch in t.select(*exprs).iter_batches():
                n += batch.num_rows
        assert n == rows, n
    elif op == "to_parquet":
        path = os.path.join(spec["home"], "w9.parquet")
        with timer:
            t.to_parquet(path)
        out["parquet_mb"] = os.path.getsize(path) / 2**20
    elif op == "read_parquet":
        import duckdb
        import fsspec

        con = duckdb.connect()
        with timer:
            con.register_filesystem(fsspec.filesystem("pxfs"))
            got = con.execute(f"select count(*), max(length(img)), max(length(rotated)), sum(i) "
                          f"from read_parquet('pxfs://{W9_TABLE}.parquet')").fetchone()
        assert got[0] == rows, got
    elif op == "read_parquet_duckdb":  # baseline: DuckDB reading the same Parquet from a local file
        import duckdb

        path = os.path.join(spec["home"], "w9.parquet")
        con = duckdb.connect()
        with timer:
            got = con.execute(f"select count(*), max(length(img)), max(length(rotated)), sum(i) "
                          f"from read_parquet('{path}')").fetchone()
        assert got[0] == rows, got
    elif op == "ls":
        from pxfs.cli import main

        with open(os.devnull, "w") as null:
            saved, sys.stdout = sys.stdout, null
            try:
                with timer:
                    code = main(["ls", "-l", f"{W9_TABLE}/img"])
            finally:
                sys.stdout = saved
        assert code == 0
    elif op == "ls_s3fs":  # baseline: one raw s3fs listing of the prefix holding the objects
        import s3fs

        with timer:
            fs = s3fs.S3FileSystem(**s3_options(spec))
            n = len(fs.ls(f"{spec['bucket']}/{spec['setup_prefix']}in", detail=True))
        out["rows"] = n
    elif op == "verify":
        from pxfs.cli import main

        with open(os.devnull, "w") as null:
            saved, sys.stdout = sys.stdout, null
            try:
                with timer:
                    code = main(["verify", W9_TABLE])
            finally:
                sys.stdout = saved
        assert code == 0, code
    elif op == "catalog_size":
        from pxfs.env import Env

        path = str(Env.get().catalog_path)
        with timer:
            size = sum(os.path.getsize(p) for p in (path, path + ".wal") if os.path.exists(p))
        out["catalog_mb"] = size / 2**20
    elif op == "limit10_owed":
        t.add_computed_column(small=t.img.thumbnail((64, 64)), destination=_dest(spec) + "small/", if_exists="replace")
        with timer:
            rs = t.limit(10).select(t.small.fileurl).collect()
        assert len(rs) == 10 and all(u and u.startswith("s3://") for u in rs["small_fileurl"]), rs
        out["rows"] = 10
    else:
        raise ValueError(f"unknown W9 operation {op!r}")
    return out


WORKLOADS = {
    "w1_obstore": w1_obstore,
    "w1_s3fs": w1_s3fs,
    "w2_pxfs": w2_pxfs,
    "w3_pxfs": w3_pxfs,
    "w3_script": w3_script,
    "w4_pxfs": w4_pxfs,
    "w5_setup_pxfs": w5_setup_pxfs,
    "w5_pxfs": w5_pxfs,
    "w6_pxfs": w6_pxfs,
    "w9_setup_pxfs": w9_setup_pxfs,
    "w9_pxfs": w9_pxfs,
    **W8_WORKLOADS,
}

if __name__ == "__main__":
    sys.exit(run_child(WORKLOADS, sys.argv[1:]))
