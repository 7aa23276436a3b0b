"""Streaming results and big-table operations: iter_batches / to_reader, page-by-page
Parquet, pxfs:// snapshots on disk, listing-based verify, memory bounded by the batch.

Against local folders and moto_server; nothing here asserts a time.
"""

from __future__ import annotations

import io
import tracemalloc
import urllib.request
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pxfs as pxt
from pxfs.env import Env
from pxfs.session import Session
from pxfs.fs import _snapshot
from pxfs.tables import _parquet

from .images import write_image


def make_table(tmp_path: Path, n: int = 20, destination: str | None = None) -> pxt.Table:
    images = [write_image(tmp_path / "src" / f"p{i}.jpg", "JPEG", seed=i, size=(16, 12)) for i in range(n)]
    t = pxt.create_table("photos", {"img": pxt.Image, "title": pxt.String, "year": pxt.Int, "meta": pxt.Json})
    t.insert([{"img": str(p), "title": f"photo {i}" if i % 5 else None, "year": 2000 + i % 4, "meta": {"i": i}}
              for i, p in enumerate(images)])
    t.add_computed_column(rot=t.img.rotate(90), destination=destination or str(tmp_path / "out"))
    return t


def batches_as_rows(batches: Any) -> list[dict[str, Any]]:
    return [row for b in batches for row in b.to_pylist()]


QUERIES = {
    "all": lambda t: t.select(t.title, t.year, t.img.fileurl, t.rot.fileurl),
    "where": lambda t: t.where((t.year >= 2002) | (t.title == None)).select(t.title, t.rot.fileurl),  # noqa: E711
    "order": lambda t: t.order_by(t.year, asc=False).order_by(t.title).select(t.title, t.year, t.img.fileurl),
    "limit": lambda t: t.limit(7).select(t.year, t.rot.fileurl),
    "where_order_limit": lambda t: t.where(t.year != 2001).order_by(t.title, asc=False).limit(9).select(
        t.title, t.year, t.rot.errormsg, t.img.width),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
@pytest.mark.parametrize("n", [1, 4, 100])
def test_iter_batches_gives_what_collect_gives(tmp_path: Path, name: str, n: int) -> None:
    t = make_table(tmp_path)
    query = QUERIES[name](t)
    streamed = list(query.iter_batches(n))
    assert all(0 < b.num_rows <= n for b in streamed)
    assert batches_as_rows(streamed) == list(query.collect())
    assert query.to_reader(n).read_all().to_pylist() == list(query.collect())
    frames = list(query.iter_batches(n, format="pandas"))
    assert sum(len(f) for f in frames) == len(query.collect())


def test_batches_are_full_across_deleted_rows_and_selective_filters(tmp_path: Path) -> None:
    t = make_table(tmp_path, n=40)
    t.delete((t.year == 2001) | (t.year == 2002))  # every other pair of row ids is gone
    query = t.select(t.title, t.year)
    sizes = [b.num_rows for b in query.iter_batches(3)]
    assert sizes == [3] * 6 + [2] and batches_as_rows(query.iter_batches(3)) == list(query.collect())
    rare = t.where(t.title == "photo 39").select(t.title)  # one row, near the end
    assert batches_as_rows(rare.iter_batches(2)) == [{"title": "photo 39"}]
    old = pxt.get_table("photos:2")  # the version before the delete still has every row
    assert sum(b.num_rows for b in old.select(old.year).iter_batches(7)) == 40


def test_media_columns_stream_as_fileurls_and_json_as_text(tmp_path: Path) -> None:
    t = make_table(tmp_path, n=3)
    reader = t.select().to_arrow()
    assert isinstance(reader, pa.RecordBatchReader)
    got = reader.read_all()
    assert got.schema.names == ["img", "title", "year", "meta", "rot"]
    assert got["img"].to_pylist() == t.select(t.img.fileurl).collect()["img_fileurl"]
    assert got["meta"].to_pylist() == ['{"i": 0}', '{"i": 1}', '{"i": 2}']
    assert got["rot"].to_pylist() == t.select(t.rot.fileurl).collect()["rot_fileurl"]
    with pytest.raises(pxt.DataError, match="add_computed_column"):
        t.select(t.img.rotate(45)).iter_batches()
    with pytest.raises(pxt.DataError, match="positive"):
        next(t.select(t.year).iter_batches(0))


def test_owed_cells_are_computed_batch_by_batch(tmp_path: Path) -> None:
    t = make_table(tmp_path, n=12)
    out = tmp_path / "out"
    batches = t.select(t.title, t.rot.fileurl).iter_batches(4)
    assert not out.exists() or list(out.iterdir()) == []  # nothing computed before the first batch
    first = next(batches)
    assert first.num_rows == 4 and len(list(out.iterdir())) == 4
    assert [Path(u[len("file://"):]).exists() for u in first.column("rot_fileurl").to_pylist()] == [True] * 4
    next(batches)
    assert len(list(out.iterdir())) == 8
    batches.close()  # stopping early computes nothing more
    assert len(list(out.iterdir())) == 8
    assert t.materialize(show_progress=False) == 4


def test_each_batch_has_urls_a_browser_can_get(tmp_path: Path, moto_server: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint_url)
    moto_server.create_bucket("stream-urls")
    t = make_table(tmp_path, n=7, destination="s3://stream-urls/rot")
    storage = Session.default().storage
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    seen = 0
    for batch in t.select(t.rot.fileurl, t.rot.url).iter_batches(3):
        for uri, url in zip(batch.column("rot_fileurl").to_pylist(), batch.column("rot_url").to_pylist()):
            assert uri.startswith("s3://stream-urls/rot/") and url.startswith(moto_server.endpoint_url)
            with opener.open(url, timeout=30) as r:
                assert r.status == 200 and r.read() == storage.cat(uri)
            seen += 1
    assert seen == 7


def test_to_parquet_is_written_page_by_page_and_equals_collect(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parquet, "SNAPSHOT_BATCH_ROWS", 6)
    t = make_table(tmp_path, n=20)
    path = tmp_path / "photos.parquet"
    t.to_parquet(path)  # computes every owed cell first
    f = pq.ParquetFile(path)
    assert f.metadata.num_row_groups == 4  # 6 + 6 + 6 + 2 rows
    got = f.read()
    want = t.select(t.img.fileurl, t.title, t.year, t.rot.fileurl).collect()
    assert got["img"].to_pylist() == want["img_fileurl"] and got["rot"].to_pylist() == want["rot_fileurl"]
    assert got["title"].to_pylist() == want["title"] and got["year"].to_pylist() == want["year"]
    assert pq.read_table(path).equals(_parquet.arrow_snapshot(t))


def test_a_large_pxfs_snapshot_is_served_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    monkeypatch.setattr(_parquet, "SNAPSHOT_BATCH_ROWS", 5)
    t = make_table(tmp_path, n=12)
    fs = fsspec.filesystem("pxfs")
    fs._snapshots = _snapshot.SnapshotCache(small_bytes=0)  # every snapshot "large": kept on disk
    with fs.open("pxfs://photos.parquet", "rb") as f:
        assert isinstance(f.raw, io.FileIO)  # a temporary file, not bytes in memory
        on_disk = f.read()
    assert fs.info("pxfs://photos.parquet")["size"] == len(on_disk)
    t.to_parquet(tmp_path / "direct.parquet")
    assert on_disk == (tmp_path / "direct.parquet").read_bytes()
    assert pd.read_parquet("pxfs://photos.parquet")["year"].tolist() == t.select(t.year).collect()["year"]


def test_ls_iter_lists_a_column_a_page_at_a_time(tmp_path: Path) -> None:
    t = make_table(tmp_path, n=11)
    fs = fsspec.filesystem("pxfs")
    paged = list(fs.ls_iter("pxfs://photos/img", batch=3))
    assert paged == fs.ls("pxfs://photos/img") and len(paged) == 11
    assert list(fs.ls_iter("pxfs://photos/rot", detail=False, batch=4)) == [f"photos/rot/{i}.png" for i in range(11)]
    assert t.count() == 11


def _verify_setup(moto_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[pxt.Table, list[str]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint_url)
    moto_server.create_bucket("stream-verify")
    images = [write_image(tmp_path / "src" / f"v{i}.jpg", "JPEG", seed=i, size=(16, 12)) for i in range(12)]
    uris = pxt.put_many([str(p) for p in images], "s3://stream-verify/in/")
    t = pxt.create_table("refs", {"img": pxt.Image})
    t.insert([{"img": u} for u in uris])
    return t, uris


def test_verify_lists_each_folder_once_and_reports_missing_and_wrong_size(
        tmp_path: Path, moto_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pxfs.catalog import rows
    from pxfs.cli import main
    from pxfs.fs._verify import verify_table

    _, uris = _verify_setup(moto_server, monkeypatch, tmp_path)
    storage = Session.default().storage
    loc = storage.location(uris[3])
    fs = storage.filesystem(loc)
    fs.rm(loc.path)  # gone behind pxfs's back
    wrong = storage.location(uris[7])
    fs.pipe_file(wrong.path, b"short")  # replaced by other bytes
    fs.invalidate_cache()
    assert main(["verify", "refs"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"missing     refs.img row 3: {uris[3]}"
    assert out[1].startswith(f"wrong size  refs.img row 7: {uris[7]}: recorded ") and out[1].endswith("found 5")
    assert out[2] == "refs: 12 object(s) checked: 1 missing, 1 wrong size"
    with Session.default().catalog.connect() as con:
        meta = rows.load_table(con, "refs")
    assert meta is not None
    found: list[str] = []
    report = verify_table(meta, lambda p: found.append(p.kind))
    assert found == ["missing", "wrong size"]
    assert report.listings == 1 and report.lookups == 1  # one listing; one HEAD, for the object it lacked
    per_object = verify_table(meta, lambda p: None, list_min=100)
    assert per_object.listings == 0 and per_object.lookups == 12 and per_object.counts == report.counts


def test_iter_batches_memory_is_bounded_by_the_batch(tmp_path: Path) -> None:
    """200,000 rows of ~60-byte strings: a whole-list result holds more than 25 MB of Python
    objects; a stream of 10,000-row Arrow batches holds one batch (well under 8 MB)."""
    n = 200_000
    t = pxt.create_table("big", {"i": pxt.Int, "s": pxt.String})
    t.insert([{"i": k, "s": f"row {k:07d} " + "x" * 48} for k in range(n)])
    query = t.select(t.i, t.s)
    list(query.limit(10).iter_batches())  # imports and first-use caches outside the measurement
    tracemalloc.start()
    try:
        arrow_peak = rows_seen = 0
        base = pa.total_allocated_bytes()
        for batch in query.iter_batches(10_000):
            rows_seen += batch.num_rows
            arrow_peak = max(arrow_peak, pa.total_allocated_bytes() - base)
        streamed = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        assert len(query.collect()) == n
        whole = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows_seen == n
    assert streamed < 8 * 2**20, f"streaming held {streamed / 2**20:.1f} MB of Python objects"
    assert whole > 25 * 2**20, f"collect() held only {whole / 2**20:.1f} MB: the bound above proves nothing"
    assert arrow_peak < 8 * 2**20, f"Arrow held {arrow_peak / 2**20:.1f} MB at once"


def test_table_streams_every_row_as_its_query_does() -> None:
    t = pxt.create_table("whole", {"n": pxt.Int, "s": pxt.String})
    t.insert([{"n": i, "s": f"v{i}"} for i in range(7)])
    assert [b.num_rows for b in t.iter_batches(3)] == [3, 3, 1]
    assert pd.concat(list(t.iter_batches(4, format="pandas")))["n"].tolist() == list(range(7))
    assert t.to_reader(5).read_all().to_pylist() == t.collect().to_pandas().to_dict("records")
