"""Query results are the same Python values whether rows come through Arrow or fetchall.

A process that has not loaded pyarrow fetches with DuckDB's ``fetchall`` (sparing its
first query the import); one that has, through Arrow. Every column type, None included.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow  # noqa: F401 - this process takes the Arrow path

import pxfs as pxt

from .images import write_image

SCRIPT = textwrap.dedent("""
    import json, sys
    import pxfs as pxt
    t = pxt.get_table("types")
    rs = t.order_by(t.i).select(t.s, t.i, t.f, t.b, t.ts, t.j, t.img.fileurl, t.w, t.r.fileurl).collect()
    print(json.dumps({"pyarrow": "pyarrow" in sys.modules, "rows": [repr(list(r.values())) for r in rs]}))
""")


def test_fetchall_and_arrow_give_the_same_values(tmp_path: Path) -> None:
    img = write_image(tmp_path / "a.png", "PNG")
    t = pxt.create_table("types", {"s": pxt.String, "i": pxt.Int, "f": pxt.Float, "b": pxt.Bool,
                                   "ts": pxt.Timestamp, "j": pxt.Json, "img": pxt.Image})
    t.insert([
        {"s": "x", "i": 1, "f": 1.5, "b": True, "ts": dt.datetime(2024, 5, 1, 12, 30, 1, 250),
         "j": {"k": [1, 2]}, "img": str(img)},
        {"s": None, "i": 2, "f": None, "b": None, "ts": None, "j": None, "img": None},
    ])
    t.add_computed_column(w=t.img.width)
    t.add_computed_column(r=t.img.rotate(90), destination=str(tmp_path / "out"))
    t.materialize(show_progress=False)
    rs = t.order_by(t.i).select(t.s, t.i, t.f, t.b, t.ts, t.j, t.img.fileurl, t.w, t.r.fileurl).collect()
    here = [repr(list(r.values())) for r in rs]
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=os.environ.copy(), check=True)
    there = json.loads(out.stdout.strip().splitlines()[-1])
    assert there["pyarrow"] is False  # the other process took the fetchall path
    assert there["rows"] == here


INSERT_SCRIPT = textwrap.dedent("""
    import datetime as dt, json, sys
    import pxfs as pxt
    t = pxt.create_table("by_dicts", {"s": pxt.String, "i": pxt.Int, "f": pxt.Float, "b": pxt.Bool,
                                      "ts": pxt.Timestamp, "j": pxt.Json, "img": pxt.Image})
    t.insert(json.loads(sys.argv[1], object_hook=lambda d: {**d, "ts": dt.datetime.fromisoformat(d["ts"])}
                        if d.get("ts") else d))
    print(json.dumps({"loaded": sorted({"pyarrow", "pandas"} & set(sys.modules))}))
""")


def test_inserting_dicts_needs_no_arrow_and_stores_what_arrow_data_stores(tmp_path: Path) -> None:
    """A plain insert of dicts goes to DuckDB as Python lists (pyarrow.array would import
    pandas: ~0.2 s and ~40 MB); a DataFrame goes through Arrow. The rows are the same."""
    import pandas as pd

    img = write_image(tmp_path / "a.png", "PNG")
    rows = [{"s": "x", "i": 1, "f": 1.5, "b": True, "ts": "2024-05-01T12:30:01.000250", "j": {"k": [1, 2]},
             "img": str(img)},
            {"s": None, "i": 2, "f": None, "b": None, "ts": None, "j": None, "img": None}]
    out = subprocess.run([sys.executable, "-c", INSERT_SCRIPT, json.dumps(rows)], capture_output=True, text=True,
                         env=os.environ.copy(), check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"loaded": []}
    frame = pd.DataFrame([{**r, "ts": dt.datetime.fromisoformat(r["ts"]) if r["ts"] else None} for r in rows])
    t = pxt.create_table("by_frame", {"s": pxt.String, "i": pxt.Int, "f": pxt.Float, "b": pxt.Bool,
                                      "ts": pxt.Timestamp, "j": pxt.Json, "img": pxt.Image})
    t.insert(frame)
    by_dicts = pxt.get_table("by_dicts")
    assert by_dicts.order_by(by_dicts.i).collect().to_pandas().equals(t.order_by(t.i).collect().to_pandas())
    assert by_dicts.collect()["ts"][0] == dt.datetime(2024, 5, 1, 12, 30, 1, 250)


def test_a_large_insert_of_dicts_keeps_every_row_in_order() -> None:
    """Python lists reach DuckDB in slices of 2,048 rows, inside one transaction."""
    t = pxt.create_table("slices", {"i": pxt.Int, "s": pxt.String})
    status = t.insert([{"i": i, "s": f"r{i}"} for i in range(5000)])
    assert status.num_rows == 5000 and t.count() == 5000
    rs = t.order_by(t.i).collect()
    assert rs["i"] == list(range(5000)) and rs["s"][4097] == "r4097"
    assert [h["version"] for h in t.history()] == [2, 1]  # one version for the whole insert
