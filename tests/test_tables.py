"""Tables: inserts, lazy computed columns, queries, versions, cleanup, bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from PIL import Image

import pxfs as pxt
from pxfs.env import Env

from .images import sample_image, write_image


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    return [write_image(tmp_path / "src" / f"img{i}.jpg", "JPEG", seed=i) for i in range(12)]


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_limit_computes_exactly_the_cells_read(images: list[Path], tmp_path: Path) -> None:
    t = pxt.create_table("lazy", {"img": pxt.Image})
    t.insert([{"img": str(p)} for p in images])
    out = tmp_path / "rotated"
    t.add_computed_column(rotated=t.img.rotate(90), destination=str(out))
    assert files_in(out) == []  # adding the column computes nothing
    rs = t.limit(5).select(t.rotated.fileurl).collect()
    assert len(rs) == 5 and len(files_in(out)) == 5
    assert sorted(str(p) for p in files_in(out)) == sorted(u[7:] for u in rs["rotated_fileurl"])
    t.limit(5).select(t.rotated.fileurl).collect()  # already computed: nothing new
    assert len(files_in(out)) == 5
    assert t.materialize() == len(images) - 5
    assert len(files_in(out)) == len(images)
    assert t.materialize() == 0


def test_rotate_flip_resize_crop_match_pillow(tmp_path: Path) -> None:
    src = write_image(tmp_path / "a.png", "PNG", size=(40, 30))
    t = pxt.create_table("fns", {"img": pxt.Image})
    t.insert(img=str(src))
    pil = Image.open(src)
    expected = {
        "r": pil.rotate(90), "re": pil.rotate(45, expand=True), "f": pil.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
        "tr": pil.transpose(Image.Transpose.ROTATE_270), "rs": pil.resize((10, 7)), "c": pil.crop((1, 2, 20, 25)),
        "g": pil.convert("L"),
    }
    t.add_computed_column(r=t.img.rotate(90))
    t.add_computed_column(re=t.img.rotate(45, expand=True))
    t.add_computed_column(f=t.img.flip("vertical"))
    t.add_computed_column(tr=t.img.transpose("ROTATE_270"))
    t.add_computed_column(rs=t.img.resize((10, 7)))
    t.add_computed_column(c=t.img.crop((1, 2, 20, 25)))
    t.add_computed_column(g=t.img.convert("L"))
    t.add_computed_column(th=t.img.thumbnail((20, 20)))
    t.add_computed_column(w=t.img.width)
    t.add_computed_column(rw=t.r.width)  # a computed column of a computed column
    row = t.collect()[0]
    for name, img in expected.items():
        assert row[name].tobytes() == img.tobytes(), name  # PNG in, PNG out: exact pixels
        assert row[name].format == "PNG"
    assert row["th"].size == (20, 15)
    assert row["w"] == 40 and row["rw"] == 40
    named = t.select(t.img.fileurl, width=t.img.width, big=t.img.rotate(90)).collect()
    assert named.columns == ["img_fileurl", "width", "big"] and named[0]["width"] == 40


def test_failed_cells_record_the_error_and_the_rest_go_on(tmp_path: Path) -> None:
    good = write_image(tmp_path / "good.jpg", "JPEG")
    bad = tmp_path / "truncated.jpg"
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # a valid header, then half the pixels
    t = pxt.create_table("errs", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(good), "n": 1}, {"img": str(bad), "n": 2}])
    t.add_computed_column(rotated=t.img.rotate(90), destination=str(tmp_path / "out"))
    assert t.materialize() == 2
    rs = t.order_by(t.n).select(t.n, t.rotated, t.rotated.errortype, t.rotated.errormsg).collect()
    assert isinstance(rs[0]["rotated"], Image.Image) and rs[0]["rotated_errormsg"] is None
    assert rs[1]["rotated"] is None and rs[1]["rotated_errortype"] == "OSError"
    assert "truncated" in rs[1]["rotated_errormsg"]
    assert t.where(t.rotated.errormsg != None).count() == 1  # noqa: E711
    assert t.materialize() == 0  # failures are recorded, not retried forever


def test_computed_columns_survive_a_new_process(images: list[Path], tmp_path: Path) -> None:
    t = pxt.create_table("persist", {"img": pxt.Image})
    t.insert([{"img": str(p)} for p in images[:3]])
    t.add_computed_column(flipped=t.img.flip("horizontal"), destination=str(tmp_path / "out"))
    script = textwrap.dedent("""
        import pxfs as pxt
        t = pxt.get_table("persist")
        print(t.materialize(show_progress=False))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy(), check=True)
    assert out.stdout.strip() == "3"
    assert len(files_in(tmp_path / "out")) == 3
    assert t.materialize() == 0  # recorded by the other process


def _hold_catalog(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another pxfs process with the catalog open for `seconds`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time
            from pathlib import Path
            from pxfs.catalog import Catalog
            with Catalog(Path({str(path)!r})).connect():
                print("locked", flush=True)
                time.sleep({seconds})
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_catalog_is_not_held_between_calls_and_writers_wait(images: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    t = pxt.create_table("shared", {"img": pxt.Image})
    holder = _hold_catalog(Env.get().catalog_path, 1.5)
    t.insert(img=str(images[0]))  # waits for the other process, then succeeds
    holder.wait()
    assert t.count() == 1
    holder = _hold_catalog(Env.get().catalog_path, 5)
    try:
        monkeypatch.setenv("PXFS_CATALOG_LOCK_TIMEOUT", "0.5")
        Env.reset()
        with pytest.raises(pxt.CatalogBusyError, match="catalog_lock_timeout"):
            t.insert(img=str(images[1]))
    finally:
        holder.kill()
        holder.wait()
    monkeypatch.delenv("PXFS_CATALOG_LOCK_TIMEOUT")
    Env.reset()
    assert t.count() == 1


def test_catalog_open_in_another_program_is_named(images: list[Path]) -> None:
    """Not pxfs (the DuckDB CLI, a notebook's duckdb.connect): it will not let go by itself,
    so pxfs says who has the file instead of waiting."""
    t = pxt.create_table("shared", {"img": pxt.Image})
    path = Env.get().catalog_path
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(path)!r}); "
         "print('locked', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(pxt.CatalogError, match="another program") as e:
            t.insert(img=str(images[0]))
        assert str(path) in str(e.value) and str(holder.pid) in str(e.value)  # DuckDB names the holder
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()
    assert t.count() == 0


def test_versions_are_readable(images: list[Path]) -> None:
    t = pxt.create_table("dir_less", {"img": pxt.Image, "n": pxt.Int})
    t.insert(img=str(images[0]), n=1)
    t.insert([{"img": str(images[1]), "n": 2}, {"img": str(images[2]), "n": 3}])
    t.add_column(note=pxt.String)
    assert t.version == 4
    v2 = pxt.get_table("dir_less:2")
    assert v2.collect()["n"] == [1] and v2.columns() == ["img", "n"]
    assert pxt.get_table("dir_less:3").count() == 3
    with pytest.raises(pxt.CatalogError, match="read-only"):
        v2.insert(n=4)
    assert t.collect()["note"] == [None, None, None]
    t.add_computed_column(w=t.img.width)
    v5 = pxt.get_table("dir_less:5")
    assert v5.select(v5.w).collect()["w"] == [64, 64, 64]  # owed cells of a past version are computed too


def test_drop_and_delete_remove_only_what_pxfs_wrote(images: list[Path], tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    t = pxt.create_table("cleanup", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(p), "n": i} for i, p in enumerate(images[:4])])
    t.add_computed_column(r=t.img.rotate(90), destination=str(tmp_path / "r"))
    t.add_computed_column(f=t.img.flip("horizontal"), destination=str(tmp_path / "f"))
    t.materialize()
    status = t.delete(t.n < 2)
    # Version 4 still has the deleted rows: their media stay until it expires.
    assert status.num_rows == 2 and status.media_removed == 0 and status.version == 5
    assert len(files_in(tmp_path / "r")) == 4 and len(files_in(tmp_path / "f")) == 4
    t.drop_column("f")
    assert len(files_in(tmp_path / "f")) == 4
    v4 = pxt.get_table("cleanup:4")
    assert v4.count() == 4 and len(v4.select(v4.f.fileurl).collect()) == 4
    assert t.expire_versions(0) == [1, 2, 3, 4, 5]  # only the latest (6) is kept
    assert len(files_in(tmp_path / "r")) == 2 and files_in(tmp_path / "f") == []
    with pytest.raises(pxt.CatalogError, match="expired"):
        pxt.get_table("cleanup:4")
    pxt.init({"input_media_dest": str(inputs)})
    t.insert(img=str(images[5]), n=5)
    assert len(files_in(inputs)) == 1
    pxt.drop_table("cleanup")
    assert files_in(tmp_path / "r") == [] and files_in(inputs) == []
    assert all(p.exists() for p in images)  # referenced in place: never touched


def test_bad_destination_fails_before_the_column_exists(images: list[Path], moto_server: object,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint_url)  # type: ignore[attr-defined]
    Env.reset()
    t = pxt.create_table("baddest", {"img": pxt.Image})
    with pytest.raises(FileNotFoundError, match="missing-bucket-x"):
        t.add_computed_column(r=t.img.rotate(90), destination="s3://missing-bucket-x/out/")
    with pytest.raises(pxt.UnsupportedDestinationError, match="example.com"):
        t.add_computed_column(r=t.img.rotate(90), destination="https://example.com/out/")
    with pytest.raises(pxt.InvalidURIError, match="nope"):
        t.add_computed_column(r=t.img.rotate(90), destination="nope://x/y")
    assert t.columns() == ["img"] and t.version == 1


@pytest.mark.parametrize("value, message", [
    ("{tmp}/missing.jpg", "does not exist"),
    ("{tmp}/notes.txt", "not an image"),
    ("{url}/missing.jpg", "404"),
    ("ftp://example.com/a.jpg", "unknown scheme 'ftp'"),
    (42, "expected a file path, a URL or an image"),
])
def test_bad_media_fails_the_whole_insert(value: object, message: str, images: list[Path], tmp_path: Path,
                                          http_server: object) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    inputs = tmp_path / "inputs"
    pxt.init({"input_media_dest": str(inputs)})
    t = pxt.create_table("bad", {"img": pxt.Image, "n": pxt.Int})
    if isinstance(value, str):
        value = value.format(tmp=tmp_path, url=http_server.url.rstrip("/"))  # type: ignore[attr-defined]
    rows = [{"img": str(images[0]), "n": 0}, {"img": value, "n": 1}]
    with pytest.raises(pxt.DataError, match=message) as e:
        t.insert(rows)
    assert "row 1, column 'img'" in str(e.value)
    assert t.count() == 0 and files_in(inputs) == []


def test_bad_values_and_names(images: list[Path]) -> None:
    t = pxt.create_table("typed", {"img": pxt.Image, "title": pxt.String, "n": pxt.Int})
    with pytest.raises(pxt.DataError, match=r"row 0, column 'n' \(Int\): expected an integer"):
        t.insert(n="three")
    with pytest.raises(pxt.DataError, match="row 1: table 'typed' has no column 'nope'"):
        t.insert([{"n": 1}, {"nope": 2}])
    with pytest.raises(pxt.CatalogError, match="already exists"):
        pxt.create_table("typed", {"x": pxt.Int})
    other = pxt.create_table("other", {"img": pxt.Image})
    with pytest.raises(pxt.DataError, match="refers to table 'other'"):
        t.add_computed_column(r=other.img.rotate(90))
    with pytest.raises(AttributeError, match="has no column 'nope'"):
        t.nope  # noqa: B018
    assert t.count() == 0


def test_inserted_url_is_cached_on_first_read(tmp_path: Path, http_server: object) -> None:
    write_image(tmp_path / "remote.jpg", "JPEG")
    url = http_server.url_for("remote.jpg")  # type: ignore[attr-defined]
    t = pxt.create_table("urls", {"img": pxt.Image})
    t.insert(img=url)
    row = t.select(t.img, t.img.fileurl, t.img.localpath).collect()[0]
    assert row["img_fileurl"] == url
    assert Path(row["img_localpath"]).read_bytes() == (tmp_path / "remote.jpg").read_bytes()
    assert str(Env.get().home / "cache") in row["img_localpath"]


def test_pil_images_and_scalars_round_trip(tmp_path: Path) -> None:
    import datetime as dt

    t = pxt.create_table("mixed", {"img": pxt.Image, "s": pxt.String, "i": pxt.Int, "f": pxt.Float,
                                   "b": pxt.Bool, "ts": pxt.Timestamp, "j": pxt.Json})
    when = dt.datetime(2026, 1, 2, 3, 4, 5)
    t.insert(img=sample_image(), s="x", i=1, f=2.5, b=True, ts=when, j={"k": [1, 2]})
    row = t.collect()[0]
    assert row["img"].tobytes() == sample_image().tobytes()
    assert (row["s"], row["i"], row["f"], row["b"], row["ts"], row["j"]) == ("x", 1, 2.5, True, when, {"k": [1, 2]})
    assert t.where(t.i == 1).count() == 1 and t.where((t.i > 1) | (t.s == "y")).count() == 0


def test_parquet_snapshot_reads_the_same_in_pandas_and_duckdb(images: list[Path], tmp_path: Path) -> None:
    t = pxt.create_table("snap", {"img": pxt.Image, "n": pxt.Int, "j": pxt.Json})
    t.insert([{"img": str(p), "n": i, "j": {"i": i}} for i, p in enumerate(images[:5])])
    t.add_computed_column(r=t.img.rotate(90), destination=str(tmp_path / "out"))
    target = t.to_parquet(tmp_path / "snap.parquet")
    assert target == f"file://{tmp_path}/snap.parquet"
    expected = t.select(t.img.fileurl, t.n, t.j, t.r.fileurl).collect()
    df = pd.read_parquet(tmp_path / "snap.parquet")
    assert list(df.columns) == ["img", "n", "j", "r"]
    assert df["img"].tolist() == expected["img_fileurl"] and df["r"].tolist() == expected["r_fileurl"]
    assert df["n"].tolist() == expected["n"]
    rows = duckdb.sql(f"select img, n, j, r from '{tmp_path}/snap.parquet' order by n").fetchall()
    assert [(r[0], r[1], json.loads(r[2]), r[3]) for r in rows] == [
        (a, b, c, d) for a, b, c, d in zip(expected["img_fileurl"], expected["n"], expected["j"], expected["r_fileurl"])
    ]


def test_result_set_api_and_display(images: list[Path]) -> None:
    pxt.create_dir("d")
    pxt.create_dir("d.sub")
    t = pxt.create_table("d.sub.show", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(p), "n": i} for i, p in enumerate(images[:3])])
    rs = t.select().collect()
    assert len(rs) == 3 and rs["n"] == [0, 1, 2] and rs[1]["n"] == 1
    assert list(rs.to_pandas().columns) == ["img", "n"]
    assert rs.to_arrow().num_rows == 3
    assert "<img src=\"data:image/png;base64," in rs._repr_html_()
    assert "<Image 64x48 RGB>" in repr(t.show(2)) and len(t.head(2)) == 2
    assert pxt.list_tables() == ["d.sub.show"] and pxt.list_dirs() == ["d", "d.sub"]
    assert t.order_by(t.n, asc=False).limit(1).collect()["n"] == [2]
    with pytest.raises(pxt.CatalogError, match="not empty"):
        pxt.drop_dir("d")
    pxt.drop_dir("d", force=True)
    assert pxt.list_tables() == []


def test_pxfs_open_reads_through_the_cache(moto_server: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint_url)  # type: ignore[attr-defined]
    moto_server.create_bucket("open-cache")  # type: ignore[attr-defined]
    pxt.init({"file_cache_size_g": 1e-6})  # about 1 KB: every new file evicts the older ones
    a = pxt.put(b"a" * 800, "s3://open-cache/x/")
    b = pxt.put(b"b" * 800, "s3://open-cache/x/")
    with pxt.open(a) as f:
        assert f.read() == b"a" * 800
    with pxt.open(b) as f:
        assert f.read() == b"b" * 800
    cache_files = [p for p in (Env.get().home / "cache").rglob("*") if p.is_file()]
    assert len(cache_files) == 1  # least recently used evicted
    assert pxt.url(a).startswith(moto_server.endpoint_url)  # type: ignore[attr-defined]
    assert pxt.put_many([b"1", b"2"], "s3://open-cache/y/") == [
        pxt.put(b"1", "s3://open-cache/y/"), pxt.put(b"2", "s3://open-cache/y/")]


def test_destinations_are_pinned_and_replace_cleans_up(images: list[Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pxt.init({"output_media_dest": "global-out"})  # a relative path, resolved now
    t = pxt.create_table("pinned", {"img": pxt.Image})
    t.insert(img=str(images[0]))
    t.add_computed_column(r=t.img.rotate(90))
    t.add_computed_column(local=t.img.flip("vertical"), destination="rel/out")
    monkeypatch.chdir(tmp_path / "src")
    pxt.init({"output_media_dest": str(tmp_path / "elsewhere")})
    row = t.select(t.r.fileurl, t.local.fileurl).collect()[0]
    assert row["r_fileurl"].startswith(f"file://{tmp_path}/global-out/")
    assert row["local_fileurl"].startswith(f"file://{tmp_path}/rel/out/")
    old = Path(row["local_fileurl"][7:])
    t.add_computed_column(local=t.img.flip("horizontal"), destination=str(tmp_path / "rel/out"), if_exists="replace")
    assert old.exists()  # the version before the replace still shows it
    assert t.select(t.local.fileurl).collect()[0]["local_fileurl"] != row["local_fileurl"]
    t.expire_versions(0)
    assert not old.exists()


def test_unreadable_image_names_row_and_column(tmp_path: Path) -> None:
    good = write_image(tmp_path / "good.jpg", "JPEG")
    data = good.read_bytes()
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(data[: len(data) // 2])
    t = pxt.create_table("damaged", {"img": pxt.Image})
    t.insert([{"img": str(good)}, {"img": str(bad)}])
    with pytest.raises(pxt.DataError, match=r"row 1, column 'img': file://.*bad.jpg is not a readable image"):
        t.select(t.img).collect()
    assert t.select(t.img.fileurl).collect()["img_fileurl"][1].endswith("bad.jpg")


def test_where_on_a_computed_column_computes_it_first(tmp_path: Path) -> None:
    t = pxt.create_table("filtered", {"img": pxt.Image, "n": pxt.Int})
    t.insert([{"img": str(write_image(tmp_path / f"{w}.png", "PNG", size=(w, 10))), "n": w} for w in (20, 40, 60)])
    t.add_computed_column(w=t.img.width)
    assert t.where(t.w > 30).select(t.n).collect()["n"] == [40, 60]
    assert t.order_by(t.w, asc=False).select(t.n).collect()["n"] == [60, 40, 20]


def test_pxfs_open_of_a_cell_computes_only_that_cell(images: list[Path], tmp_path: Path) -> None:
    t = pxt.create_table("opened", {"img": pxt.Image})
    t.insert([{"img": str(p)} for p in images[:3]])
    t.add_computed_column(r=t.img.rotate(90), destination=str(tmp_path / "out"))
    import fsspec

    name = next(p for p in fsspec.filesystem("pxfs").ls("pxfs://opened/r", detail=False) if "/1." in p)
    with pxt.open(f"pxfs://{name}") as f:
        data = f.read()
    assert len(files_in(tmp_path / "out")) == 1
    expected = io.BytesIO()
    Image.open(images[1]).rotate(90).save(expected, format="JPEG")
    assert data == expected.getvalue()
