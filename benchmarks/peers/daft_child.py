"""Daft's side of W2, W3, W5 and W6, run with the interpreter of its own virtualenv.

``benchmarks/.peers/daft/bin/python benchmarks/peers/daft_child.py SPEC.json``. Uploads use
Daft's ``url.upload`` (``daft.functions.upload``: its Rust S3 client, pointed at the run's
endpoint with an ``IOConfig``); the rotation is a Python UDF with the same Pillow calls as
pxfs, since Daft has no rotate. Daft has no tables or presigned URLs: W5 reads a Parquet file of 100,000
object URIs (the ``.fileurl`` equivalent) and its ``.url`` figure is left empty.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from _harness import Timer, image_paths, run_child, startup_runs

_STARTUP = """
import json, sys, time
t0 = time.perf_counter()
import daft
t1 = time.perf_counter()
df = daft.read_parquet(sys.argv[1])
df.schema()
t2 = time.perf_counter()
print(json.dumps({"import_seconds": t1 - t0, "open_seconds": t2 - t0}))
"""


def _io_config(spec: dict[str, Any]) -> Any:
    from daft.io import IOConfig, S3Config

    kw: dict[str, Any] = {"endpoint_url": spec["endpoint_url"], "region_name": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        kw.update(key_id=os.environ["AWS_ACCESS_KEY_ID"], access_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
                  session_token=os.environ.get("AWS_SESSION_TOKEN"))
    elif os.environ.get("AWS_PROFILE"):
        kw["profile_name"] = os.environ["AWS_PROFILE"]
    host = spec["endpoint_url"].split("://", 1)[-1]
    if host.startswith(("127.0.0.1", "localhost")):
        kw["force_virtual_addressing"] = False
    return IOConfig(s3=S3Config(**kw))


def _dest(spec: dict[str, Any]) -> str:
    return f"s3://{spec['bucket']}/{spec['prefix'].rstrip('/')}"


def w2(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    import daft
    from daft import col
    from daft.functions import download, upload

    io = _io_config(spec)
    paths = image_paths(spec)
    with timer:
        df = daft.from_pydict({"path": paths})
        df = df.with_column("data", download(col("path")))
        df = df.with_column("uri", upload(col("data"), _dest(spec), io_config=io))
        out = df.select("path", "uri").to_pydict()
    assert len(out["uri"]) == len(paths) and all(out["uri"])
    return {"rows": len(paths)}


def w3(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    import daft
    from daft import DataType, col
    from daft.functions import download, upload

    @daft.func(return_dtype=DataType.binary())
    def rotate90(data: bytes) -> bytes:
        import io as _io

        from PIL import Image

        with Image.open(_io.BytesIO(data)) as img:
            out = img.rotate(90)
        buf = _io.BytesIO()
        out.save(buf, format="JPEG")
        return buf.getvalue()

    io = _io_config(spec)
    paths = image_paths(spec)
    with timer:
        df = daft.from_pydict({"path": paths})
        df = df.with_column("data", download(col("path")))
        df = df.with_column("rotated", rotate90(col("data")))
        df = df.with_column("uri", upload(col("rotated"), _dest(spec), io_config=io))
        out = df.select("path", "uri").to_pydict()
    assert len(out["uri"]) == len(paths) and all(out["uri"])
    return {"rows": len(paths)}


def _parquet(spec: dict[str, Any]) -> str:
    return os.path.join(spec["home"], "w5.parquet")


def w5_setup(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    import daft

    os.makedirs(spec["home"], exist_ok=True)
    uris = spec["uris"]
    df = daft.from_pydict({"img": [uris[i % len(uris)] for i in range(spec["rows"])]})
    df.write_parquet(os.path.join(spec["home"], "w5"))
    import glob
    import shutil

    (first,) = glob.glob(os.path.join(spec["home"], "w5", "*.parquet"))
    shutil.move(first, _parquet(spec))
    return {"rows": spec["rows"]}


def w5(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    import daft

    out: dict[str, Any] = {}
    for key in ("fileurl_seconds", "fileurl_warm_seconds"):
        tm = Timer()
        with tm:
            values = daft.read_parquet(_parquet(spec)).select("img").to_pydict()["img"]
        assert len(values) == spec["rows"] and values[-1].startswith("s3://")
        out[key] = tm.seconds
    out["rows"] = spec["rows"]
    out["fileurl_rows_per_s"] = spec["rows"] / out["fileurl_seconds"]
    out["seconds"] = out["fileurl_seconds"]
    out["url"] = "n/a: Daft has no presigned URLs"
    return out


def w6(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    import daft

    os.makedirs(spec["home"], exist_ok=True)
    daft.from_pydict({"img": ["s3://b/k.jpg"], "title": ["t"]}).write_parquet(os.path.join(spec["home"], "w6"))
    import glob

    (path,) = glob.glob(os.path.join(spec["home"], "w6", "*.parquet"))
    code = _STARTUP.replace("sys.argv[1]", repr(path))
    return startup_runs(sys.executable, code, dict(os.environ), spec.get("runs", 5))


if __name__ == "__main__":
    sys.exit(run_child({"w2": w2, "w3": w3, "w5_setup": w5_setup, "w5": w5, "w6": w6}, sys.argv[1:]))
