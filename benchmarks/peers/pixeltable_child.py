"""Pixeltable's side of W2, W3, W5 and W6, run with the interpreter of its own virtualenv.

``benchmarks/.peers/pixeltable/bin/python benchmarks/peers/pixeltable_child.py SPEC.json``.
Pixeltable reaches the run's S3 endpoint through boto3, redirected with
``AWS_ENDPOINT_URL_S3`` (set by the parent); its home is a fresh ``PIXELTABLE_HOME``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from _harness import Timer, image_paths, run_child, table_startup


def _env(spec: dict[str, Any], **settings: str) -> None:
    os.environ["PIXELTABLE_HOME"] = spec["home"]
    for key, value in settings.items():
        os.environ[f"PIXELTABLE_{key.upper()}"] = value


def _dest(spec: dict[str, Any]) -> str:
    return f"s3://{spec['bucket']}/{spec['prefix']}"


# Pixeltable holds about 1.4 MB per inserted image until the insert returns: one insert of
# 10,000 rows went past 8 GB here. Rows go in as a user would then send them: in chunks.
CHUNK = 1000


def _insert(t: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        t.insert(rows[start : start + CHUNK])


def w2(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    _env(spec, input_media_dest=_dest(spec))
    import pixeltable as pxt

    t = pxt.create_table("w2", {"img": pxt.Image})
    rows = [{"img": p} for p in image_paths(spec)]
    with timer:
        _insert(t, rows)
    return {"rows": len(rows), "insert_chunk": CHUNK}


def w3(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    _env(spec)
    import pixeltable as pxt

    t = pxt.create_table("w3", {"img": pxt.Image})
    _insert(t, [{"img": p} for p in image_paths(spec)])
    with timer:  # Pixeltable computes the whole column when it is added
        t.add_computed_column(rotated=t.img.rotate(90), destination=_dest(spec))
    return {"rows": spec["n"]}


def w5_setup(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    """`rows` rows referencing the `distinct` objects the parent uploaded (``spec['uris']``).

    Pixeltable fetches and validates every inserted image (one insert of 100,000 such
    rows grew past 20 GB here and was killed), so the rows go in chunks. (With
    ``media_validation='on_read'`` it would store references only, but then validates on
    read: ``.fileurl`` fell from ~40,000 to ~540 rows/s.)
    """
    _env(spec)
    import pixeltable as pxt

    uris = spec["uris"]
    t = pxt.create_table("w5", {"img": pxt.Image})
    _insert(t, [{"img": uris[i % len(uris)]} for i in range(spec["rows"])])
    return {"rows": spec["rows"]}


def w5(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    """``.fileurl`` of every row; presigned URLs of the first ``url_rows`` rows.

    Pixeltable signs one URL per row with boto3 (about 300 rows/s here), so signing all
    100,000 rows would take minutes per repeat; its rate over 10,000 rows is the same.
    """
    _env(spec)
    import pixeltable as pxt
    import pixeltable.functions as pxtf

    t = pxt.get_table("w5")
    url_rows = min(spec.get("url_rows", spec["rows"]), spec["rows"])
    out: dict[str, Any] = {}
    queries = {
        "fileurl": (lambda: t.select(u=t.img.fileurl), spec["rows"]),
        "url": (lambda: t.select(u=pxtf.net.presigned_url(t.img.fileurl, 3600)).limit(url_rows), url_rows),
    }
    for prop in ("fileurl", "url", "fileurl", "url"):
        query, rows = queries[prop]
        tm = Timer()
        with tm:
            rs = query().collect()
        values = list(rs["u"])
        assert len(values) == rows and values[-1].startswith("s3://" if prop == "fileurl" else "http"), values[-1]
        key = f"{prop}_seconds" if f"{prop}_seconds" not in out else f"{prop}_warm_seconds"
        out[key] = tm.seconds
    out["rows"] = spec["rows"]
    out["url_rows"] = url_rows
    out["fileurl_rows_per_s"] = spec["rows"] / out["fileurl_seconds"]
    out["url_rows_per_s"] = url_rows / out["url_seconds"]
    out["seconds"] = out["fileurl_seconds"] + out["url_seconds"]
    return out


def w6(spec: dict[str, Any], timer: Timer) -> dict[str, Any]:
    _env(spec)
    return table_startup("pixeltable", spec)


if __name__ == "__main__":
    sys.exit(run_child({"w2": w2, "w3": w3, "w5_setup": w5_setup, "w5": w5, "w6": w6}, sys.argv[1:]))
