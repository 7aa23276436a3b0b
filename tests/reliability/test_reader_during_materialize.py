"""A reader process loops while another process materializes a table (issue 10, item 7).

The reader never gets an error, never sees a half-written cell (a ``fileurl`` is None or an
object that exists, with the size the catalog records and Pillow's pixels), and no single
read is blocked longer than a few seconds (the issue's item 4: long operations let go of
the catalog).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pxfs as pxt
from pxfs.env import Env

from ._reader import READER
from ._support import MATERIALIZE_ON_GO, Child, Sources, Store, cells, cli, normalize, pixels, rotated_pixels
from .conftest import Seeded

MAX_READ_S = 5.0
ROWS = 1400  # long enough (several seconds) that a reader blocked throughout would fail



@pytest.mark.parametrize("store", ["s3"], indirect=True)
def test_reader_during_a_long_materialize(store: Store, seeded: Seeded, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PXFS_MATERIALIZE_BATCH_SIZE", "4")  # many batches, many commits
    monkeypatch.setenv("PXFS_UPLOAD_CONCURRENCY", "1")  # one upload at a time: a long materialize
    monkeypatch.delenv("PXFS_INPUT_MEDIA_DEST")  # sources referenced in place: a quick setup
    Env.reset()
    sources = Sources.make(tmp_path / "src", range(ROWS))
    pxt.create_dir("rel", if_exists="ignore")
    t = pxt.create_table("rel.read_loop", {"img": pxt.Image, "n": pxt.Int})
    t.insert(sources.rows(range(ROWS)))
    t.add_computed_column(rot=t.img.rotate(90), destination=store.sub("rot"))
    go, stop = tmp_path / "go", tmp_path / "stop"
    reader_arg = {"table": "rel.read_loop", "go": str(go), "stop": str(stop), "select": True,
                  "endpoint": store.endpoint_url}
    with Child(READER, reader_arg) as reader, \
            Child(MATERIALIZE_ON_GO, {"table": "rel.read_loop", "go": str(go)}) as mat:
        reader.wait_for("ready")
        mat.wait_for("ready")
        go.touch()
        done = mat.wait_for("materialized", timeout=180)
        assert mat.finish() == 0, mat.describe()
        stop.touch()
        result = reader.wait_for("result", timeout=60)
        assert reader.finish() == 0, reader.describe()
    print(f"materialize: {done['computed']} cells in {done['elapsed']:.2f}s; reader: {result['iterations']} "
          f"iterations, slowest calls {result['latency']}")

    assert result["n_errors"] == 0, result["errors"]
    assert result["counts"] == [ROWS], result["counts"]
    slowest = max(result["latency"].values())
    assert slowest < MAX_READ_S, f"a read was blocked {slowest:.1f}s during a materialize: {result['latency']}"
    if done["elapsed"] >= 2 * MAX_READ_S:  # reads that let go every few seconds make progress
        assert result["iterations"] >= 3, f"the reader barely ran during the materialize: {result}"
    assert not result["missing"], f"the reader saw cells whose object did not exist: {result['missing']}"

    # Every cell is computed once; what the reader saw is what stays recorded.
    assert not any(e["owed"] for e in cells("rel.read_loop", "rot").values())
    final = {row["n"]: row["uri"] for row in t.select(n=t.n, uri=t.rot.fileurl).collect()}
    listing = {normalize(str(e["uri"])): e for e in cells("rel.read_loop", "rot").values()}
    for n, uris in result["seen"].items():
        assert uris == [final[int(n)]], f"row n={n}: the reader saw {uris}, the table now records {final[int(n)]}"
    # Bytes and pixels of what the reader saw and of a sample of the rest (verify checked
    # the existence and recorded size of every object).
    sample = {int(n) for n in result["seen"]} | set(seeded.rng.sample(sorted(final), 40))
    for n in sorted(sample):
        uri = final[n]
        data = store.read(uri)
        recorded = listing[normalize(uri)].get("size")
        assert recorded is None or recorded == len(data), f"row n={n}: {uri} has {len(data)} bytes, recorded {recorded}"
        assert pixels(data) == rotated_pixels(sources.paths[n]), f"row n={n}: {uri}: not Pillow's rotate(90)"
    ((code, out, err),) = cli(["verify", "rel.read_loop"])
    assert code == 0 and "rel.read_loop: " in out, (out, err)
