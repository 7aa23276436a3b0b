"""The pxfs side of each workload, and the baselines a user would write without pxfs.

Run by the parent (``benchmarks/run.py``) as ``python -m benchmarks.workloads SPEC.json``
in a fresh process per workload and repeat; prints one JSON line (see ``peers/_harness``).

====== ============ ==========================================================================
id     system       what is timed
====== ============ ==========================================================================
W1     s3fs         ``s3fs.put`` of N local files (the inputs, or the exact rotated bytes pxfs
                    uploads in W3), ``batch_size`` = the run's concurrency: the ceiling
                    (import and client included, as pxfs pays them inside W2 and W3)
W2     pxfs         ``t.insert(N rows)`` of local JPEGs with ``input_media_dest`` on S3
W3     pxfs         ``add_computed_column(rotated=t.img.rotate(90), destination='s3://...')``
                    then ``materialize()``, on a table of N local JPEGs
W3     script       the same Pillow ``rotate(90)`` + JPEG encode + ``s3fs.pipe_file`` in a
                    16-thread pool: what a user writes without pxfs
W4     pxfs         ``t.limit(10).select(t.rotated.fileurl).collect()`` on N never-materialized rows
W5     pxfs         ``.fileurl`` then presigned ``.url`` of every row of a 100,000-row table
W6     pxfs         fresh processes: ``import pxfs``, then ``pxt.get_table()`` + ``columns()``
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

    rows, distinct = spec["rows"], min(spec["distinct"], spec["rows"])
    uris = pxt.put_many(image_paths({**spec, "n": distinct}), _dest(spec))
    t = pxt.create_table("w5", {"img": pxt.Image})
    t.insert([{"img": u} for u in uris])
    copies = -(-rows // distinct)
    meta = t._meta()
    with Env.get().catalog.transaction() as con:
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


WORKLOADS = {
    "w1_s3fs": w1_s3fs,
    "w2_pxfs": w2_pxfs,
    "w3_pxfs": w3_pxfs,
    "w3_script": w3_script,
    "w4_pxfs": w4_pxfs,
    "w5_setup_pxfs": w5_setup_pxfs,
    "w5_pxfs": w5_pxfs,
    "w6_pxfs": w6_pxfs,
}

if __name__ == "__main__":
    sys.exit(run_child(WORKLOADS, sys.argv[1:]))
