"""Bulk ingest: DataFrames and Arrow data, create_table(source=...), insert_objects, and
listing-based existence checks of bucket references (requests counted with a botocore
``before-send.s3`` hook on pxfs's own S3 client, as benchmarks/put_throughput.py does).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import io
import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fsspec.asyn import sync
from PIL import Image

import pxfs as pxt
from pxfs.env import Env
from pxfs.session import Session
from pxfs.testing import MotoServer

from .destinations import KINDS, configure
from .images import sample_image, write_image

SEEDED = 2100  # objects under the seeded prefix: three pages of a listing
PAGE = 1000


def png_bytes(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    sample_image(8, 6, seed=seed).save(buf, format="PNG")
    return buf.getvalue()


def s3_client(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="y")


def keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


@pytest.fixture(scope="module")
def seeded(moto_server: MotoServer) -> tuple[str, str]:
    """(bucket, prefix) holding SEEDED small PNGs named img_0000.png ... (written once)."""
    bucket = "ingest-seeded"
    moto_server.create_bucket(bucket)
    client = s3_client(moto_server)
    body = png_bytes()
    with cf.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: client.put_object(Bucket=bucket, Key=f"photos/img_{i:04d}.png", Body=body),
                      range(SEEDED)))
    return bucket, "photos/"


@pytest.fixture
def s3(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> tuple[str, Any]:
    """A fresh bucket of this test (its name) and a boto3 client; pxfs points at moto."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint_url)
    Env.reset()
    bucket = f"ingest-{random.Random(request.node.nodeid).getrandbits(48):012x}"
    moto_server.create_bucket(bucket)
    return bucket, s3_client(moto_server)


@contextlib.contextmanager
def requests_to(uri: str) -> Iterator[Counter[str]]:
    """Count the requests pxfs's S3 client sends for `uri`'s endpoint, by operation."""
    storage = Session.default().storage
    fs = storage.filesystem(storage.location(uri))
    client = sync(fs.loop, fs.set_session)
    counted: Counter[str] = Counter()

    def hook(event_name: str = "", **_: Any) -> None:
        counted[event_name.rsplit(".", 1)[-1]] += 1

    client.meta.events.register("before-send.s3", hook)
    try:
        yield counted
    finally:
        client.meta.events.unregister("before-send.s3", hook)


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    return [write_image(tmp_path / "photos" / f"p{i}.jpg", "JPEG", seed=i) for i in range(4)]


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# -- DataFrames and Arrow ----------------------------------------------------------------------


def test_insert_dataframe_all_types(photos: list[Path]) -> None:
    t = pxt.create_table("films", {"img": pxt.Image, "title": pxt.String, "year": pxt.Int, "score": pxt.Float,
                                   "ok": pxt.Bool, "at": pxt.Timestamp, "meta": pxt.Json, "note": pxt.String})
    df = pd.DataFrame({
        "img": [str(photos[0]), photos[1], None, str(photos[3])],
        "title": ["a", "b", None, "d"],
        "year": pd.array([2021, 2022, None, 2024], dtype="Int64"),
        "score": [1.5, float("nan"), 3.0, 4.0],
        "ok": [True, False, None, True],
        "at": pd.to_datetime(["2024-01-02 03:04:05", None, "2024-03-01 00:00:00", "2024-04-01 00:00:00"]),
        "meta": [{"a": 1}, [1, 2], None, "x"],
    }, index=[10, 11, 12, 13])  # the index is not a column
    status = t.insert(df)
    assert status.num_rows == 4 and t.count() == 4
    rows = t.select(t.img.fileurl, t.title, t.year, t.score, t.ok, t.at, t.meta, t.note).collect()
    assert rows["img_fileurl"] == [photos[0].as_uri(), photos[1].as_uri(), None, photos[3].as_uri()]
    assert rows["title"] == ["a", "b", None, "d"]
    assert rows["year"] == [2021, 2022, None, 2024]
    assert rows["score"] == [1.5, None, 3.0, 4.0]
    assert rows["ok"] == [True, False, None, True]
    assert rows["at"] == [dt.datetime(2024, 1, 2, 3, 4, 5), None, dt.datetime(2024, 3, 1), dt.datetime(2024, 4, 1)]
    assert rows["meta"] == [{"a": 1}, [1, 2], None, "x"]
    assert rows["note"] == [None] * 4  # a column the frame lacks is None
    assert t.select(t.img).collect()[0]["img"].size == (64, 48)


def test_insert_arrow_table_batches_and_reader(photos: list[Path]) -> None:
    t = pxt.create_table("arrow", {"img": pxt.Image, "n": pxt.Int, "x": pxt.Float})
    table = pa.table({"img": [str(p) for p in photos], "n": pa.array([1, 2, 3, 4], pa.int32()),
                      "x": pa.array([1, 2, 3, 4], pa.int8())})
    assert t.insert(table).num_rows == 4
    assert t.insert(table.to_batches()[0]).num_rows == 4
    assert t.insert(table.to_batches(max_chunksize=3)).num_rows == 4  # a list of record batches
    assert t.insert(pa.RecordBatchReader.from_batches(table.schema, table.to_batches())).num_rows == 4
    assert t.count() == 16 and t.version == 5
    assert t.select(t.n, t.x).collect()["x"][:4] == [1.0, 2.0, 3.0, 4.0]
    assert t.insert(table.slice(0, 0)).num_rows == 0 and t.version == 5  # nothing: no new version


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"year": [2020, "2021"]}), "row 1, column 'year' (Int): expected an integer, got str '2021'"),
    (pd.DataFrame({"year": [2020.0, None]}), "row 0, column 'year' (Int): expected an integer, got float 2020.0"),
    (pd.DataFrame({"title": ["a", 5]}), "row 1, column 'title' (String): expected a string, got int 5"),
    (pa.table({"title": [1, 2]}), "row 0, column 'title' (String): expected a string, got int 1"),
    (pa.table({"year": pa.array([1, 2**64 - 1], pa.uint64())}), "row 1, column 'year' (Int): 18446744073709551615"),
    (pd.DataFrame({"nope": [1]}), "column 'nope': table 'bad' has no column 'nope'; its columns are: img, title"),
    (pd.DataFrame({"rotated": ["x"]}), "column 'rotated' is computed; it cannot be given a value"),
    (pd.DataFrame({"img": ["PHOTO", 7]}), "row 1, column 'img': expected a file path, a URL or an image"),
    (pd.DataFrame({"img": ["PHOTO", "missing.jpg"]}), "row 1, column 'img': file "),
])
def test_bad_frames_name_column_and_row(photos: list[Path], frame: Any, message: str) -> None:
    t = pxt.create_table("bad", {"img": pxt.Image, "title": pxt.String, "year": pxt.Int})
    t.add_computed_column(rotated=t.img.rotate(90))
    if isinstance(frame, pd.DataFrame) and "img" in frame.columns:
        frame = frame.replace("PHOTO", str(photos[0]))
    with pytest.raises(pxt.DataError) as e:
        t.insert(frame)
    assert message in str(e.value)
    assert t.count() == 0 and t.version == 2


def test_failed_large_frame_leaves_no_row_and_no_object(
    photos: list[Path], tmp_path: Path, s3: tuple[str, Any]
) -> None:
    bucket, client = s3
    dest = tmp_path / "inputs"
    pxt.init({"input_media_dest": str(dest)})
    t = pxt.create_table("big", {"img": pxt.Image, "n": pxt.Int})
    n = 3000
    frame = pd.DataFrame({"img": [str(photos[i % 4]) for i in range(n)], "n": range(n)})
    frame.loc[n - 1, "img"] = str(tmp_path / "gone.jpg")
    with pytest.raises(pxt.DataError, match=f"row {n - 1}, column 'img': file .*gone.jpg does not exist"):
        t.insert(frame)
    assert t.count() == 0 and files_in(dest) == []
    # A copy that fails half-way removes the copies already made.
    pxt.init({"input_media_dest": f"s3://{bucket}-missing/in/"})
    t = pxt.get_table("big")
    with pytest.raises(pxt.DataError, match="could not copy the media"):
        t.insert(frame.head(40))
    assert t.count() == 0
    pxt.init({"input_media_dest": f"s3://{bucket}/in/"})
    t.insert(frame.head(40))
    assert t.count() == 40
    stored = keys(client, bucket, "in/")
    assert len(stored) == 4  # four distinct files, content-addressed
    bodies = {client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in stored}
    assert bodies == {p.read_bytes() for p in photos}
    pxt.init()


# -- create_table(source=...) ----------------------------------------------------------------------


def test_create_table_from_dataframe_infers_types(photos: list[Path]) -> None:
    df = pd.DataFrame({
        "img": [str(p) for p in photos], "n": [1, 2, 3, 4], "x": [0.5, 1.5, None, 2.0],
        "ok": [True, False, True, False], "s": ["a", "b", "c", None],
        "at": pd.to_datetime(["2024-01-01"] * 4), "j": [{"k": 1}, {"k": 2}, None, [3]],
    })
    t = pxt.create_table("inferred", source=df, schema_overrides={"img": pxt.Image})
    assert repr(t).splitlines()[1:] == [
        "  img: Image", "  n: Int", "  x: Float", "  ok: Bool", "  s: String", "  at: Timestamp", "  j: Json"]
    assert t.count() == 4 and t.version == 2
    assert t.select(t.j).collect()["j"] == [{"k": 1}, {"k": 2}, None, [3]]
    assert t.select(t.img.width).collect()["width"] == [64] * 4


def test_create_table_from_parquet_and_csv_local_and_s3(photos: list[Path], tmp_path: Path, s3: tuple[str, Any]) -> None:
    bucket, client = s3
    table = pa.table({"img": [str(p) for p in photos], "year": [2021, 2022, 2023, 2024],
                      "tags": [["a"], ["b", "c"], [], None]})
    pq.write_table(table, tmp_path / "films.parquet")
    pd.DataFrame({"img": [str(p) for p in photos], "title": list("abcd")}).to_csv(tmp_path / "films.csv", index=False)
    client.put_object(Bucket=bucket, Key="sources/films.parquet", Body=(tmp_path / "films.parquet").read_bytes())
    for name, source in [("from_parquet", tmp_path / "films.parquet"), ("from_csv", str(tmp_path / "films.csv")),
                         ("from_s3", f"s3://{bucket}/sources/films.parquet")]:
        t = pxt.create_table(name, source=source, schema_overrides={"img": pxt.Image})
        assert t.count() == 4
        assert t.select(t.img.fileurl).collect()["img_fileurl"] == [p.as_uri() for p in photos]
    assert [c for c in repr(pxt.get_table("from_s3")).splitlines()[1:]] == ["  img: Image", "  year: Int", "  tags: Json"]
    assert pxt.get_table("from_csv").select(pxt.get_table("from_csv").title).collect()["title"] == list("abcd")
    assert pxt.get_table("from_parquet").select(pxt.get_table("from_parquet").tags).collect()["tags"] == [
        ["a"], ["b", "c"], [], None]


def test_create_table_that_fails_leaves_no_table(photos: list[Path], tmp_path: Path) -> None:
    df = pd.DataFrame({"img": [str(photos[0]), str(tmp_path / "gone.jpg")], "n": [1, 2]})
    with pytest.raises(pxt.DataError, match="row 1, column 'img': file .*gone.jpg does not exist"):
        pxt.create_table("failed", source=df, schema_overrides={"img": pxt.Image})
    assert "failed" not in pxt.list_tables()
    (tmp_path / "notes.txt").write_text("not a table")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 but not really")
    cases = [
        (dict(source=tmp_path / "none.csv"), "none.csv: cannot read it"),
        (dict(source=tmp_path / "notes.txt"), "notes.txt: cannot tell its format"),
        (dict(source=tmp_path / "broken.parquet"), "broken.parquet: not a readable parquet file"),
        (dict(source=df, schema_overrides={"image": pxt.Image}), "schema_overrides names column 'image'"),
        (dict(source=pd.DataFrame({"x": [None, None]})), "column 'x' holds only missing values"),
        (dict(source=pd.DataFrame({"x": [1, "a"]})), "column 'x': cannot infer a type from its mixed values"),
        (dict(source=pd.DataFrame({"_x": [1]})), "'_x' is not a valid column name"),
        (dict(source=df, schema={"n": pxt.Int}), "not both"),
    ]
    for kwargs, message in cases:
        with pytest.raises(pxt.DataError, match=message.replace(".", r"\.").replace("(", r"\(")):
            pxt.create_table("failed", **kwargs)
        assert pxt.list_tables() == []
    pxt.create_table("kept", {"n": pxt.Int})
    assert pxt.create_table("kept", source=df, if_exists="ignore").count() == 0  # kept as it is


# -- listing-based checks and insert_objects ---------------------------------------------------------


def test_references_are_checked_by_listing(s3: tuple[str, Any], seeded: tuple[str, str]) -> None:
    bucket, prefix = seeded
    uris = [f"s3://{bucket}/{prefix}img_{i:04d}.png" for i in range(SEEDED)]
    random.Random(3).shuffle(uris)
    t = pxt.create_table("refs", {"img": pxt.Image, "n": pxt.Int})
    with requests_to(uris[0]) as counted:
        t.insert(pd.DataFrame({"img": uris, "n": range(SEEDED)}))
    assert counted["HeadObject"] == 0
    assert 0 < counted["ListObjectsV2"] <= -(-SEEDED // PAGE)  # one request per page of keys at most
    assert sum(counted.values()) == counted["ListObjectsV2"]
    rows = t.order_by(t.n).select(t.img.fileurl, t.n).collect()
    assert rows["img_fileurl"] == uris
    head = s3[1].head_object(Bucket=bucket, Key=f"{prefix}img_0000.png")
    stored = t.where(t.img.fileurl == f"s3://{bucket}/{prefix}img_0000.png").select(t.img).collect()
    assert stored[0]["img"].size == (8, 6) and head["ContentLength"] == len(png_bytes())


def test_a_missing_reference_among_many_is_named(s3: tuple[str, Any], seeded: tuple[str, str]) -> None:
    bucket, prefix = seeded
    uris = [f"s3://{bucket}/{prefix}img_{i:04d}.png" for i in range(1500)]
    uris[1234] = f"s3://{bucket}/{prefix}img_9999.png"
    t = pxt.create_table("refs", {"img": pxt.Image})
    with requests_to(uris[0]) as counted, pytest.raises(pxt.DataError) as e:
        t.insert(pa.table({"img": uris}))
    assert f"row 1234, column 'img': s3://{bucket}/{prefix}img_9999.png does not exist" in str(e.value)
    assert counted["HeadObject"] == 1  # only the one the listing did not show
    assert t.count() == 0


def test_on_write_decodes_listed_images(s3: tuple[str, Any]) -> None:
    bucket, client = s3
    for i in range(25):
        client.put_object(Bucket=bucket, Key=f"imgs/{i:02d}.png", Body=png_bytes(i) if i != 17 else b"not an image")
    uris = [f"s3://{bucket}/imgs/{i:02d}.png" for i in range(25)]
    t = pxt.create_table("decoded", {"img": pxt.Image})
    t.insert(pd.DataFrame({"img": uris}))  # on_read: existence only
    assert t.count() == 25
    pxt.init({"media_validation": "on_write"})
    with pytest.raises(pxt.DataError, match=f"row 17, column 'img': s3://{bucket}/imgs/17.png: not an image"):
        pxt.get_table("decoded").insert(pd.DataFrame({"img": uris}))
    assert pxt.get_table("decoded").count() == 25
    pxt.init()


def test_insert_objects_from_a_bucket_prefix(s3: tuple[str, Any], seeded: tuple[str, str]) -> None:
    bucket, prefix = seeded
    t = pxt.create_table("listed", {"img": pxt.Image, "key": pxt.String, "group": pxt.Int})
    with requests_to(f"s3://{bucket}/") as counted:
        status = t.insert_objects(f"s3://{bucket}/{prefix}", column="img", key_column="key",
                                  values=lambda uri: {"group": int(uri[-8:-4]) % 3})
    assert status.num_rows == SEEDED == t.count()
    assert dict(counted) == {"ListObjectsV2": -(-SEEDED // PAGE)}
    rows = t.order_by(t.key).select(t.key, t.img.fileurl, t.group).limit(3).collect()
    assert rows["key"] == ["img_0000.png", "img_0001.png", "img_0002.png"]
    assert rows["img_fileurl"] == [f"s3://{bucket}/{prefix}{n}" for n in rows["key"]]
    assert rows["group"] == [0, 1, 2]
    t2 = pxt.create_table("some", {"img": pxt.Image})
    assert t2.insert_objects(f"s3://{bucket}/{prefix.rstrip('/')}", column="img", pattern="img_00[0-4]?.png").num_rows == 50


def test_insert_objects_copies_to_input_media_dest(s3: tuple[str, Any], tmp_path: Path) -> None:
    bucket, client = s3
    bodies = {f"src/{i}.png": png_bytes(i) for i in range(5)}
    for key, body in bodies.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
    pxt.init({"input_media_dest": f"s3://{bucket}/copied/"})
    t = pxt.create_table("copies", {"img": pxt.Image})
    t.insert_objects(f"s3://{bucket}/src/", column="img")
    copied = t.select(t.img.fileurl).collect()["img_fileurl"]
    assert all(u.startswith(f"s3://{bucket}/copied/") for u in copied)
    got = sorted(client.get_object(Bucket=bucket, Key=u.split(f"{bucket}/", 1)[1])["Body"].read() for u in copied)
    assert got == sorted(bodies.values())
    pxt.init()


def test_insert_objects_from_a_local_folder(photos: list[Path], tmp_path: Path) -> None:
    (tmp_path / "photos" / "sub").mkdir()
    write_image(tmp_path / "photos" / "sub" / "deep.png", "PNG")
    (tmp_path / "photos" / "readme.txt").write_text("not a photo")
    t = pxt.create_table("local", {"img": pxt.Image, "file": pxt.String})
    t.insert_objects(tmp_path / "photos", column="img", pattern="*.[jp][pn]g", key_column="file")
    assert sorted(t.select(t.file).collect()["file"]) == ["p0.jpg", "p1.jpg", "p2.jpg", "p3.jpg", "sub/deep.png"]
    with pytest.raises(pxt.DataError, match="readme.txt: not an image"):
        t.insert_objects(tmp_path / "photos", column="img")  # the text file is no image
    assert t.count() == 5


def test_empty_listings_and_bad_targets(s3: tuple[str, Any], tmp_path: Path) -> None:
    bucket, client = s3
    client.put_object(Bucket=bucket, Key="one/a.png", Body=png_bytes())
    t = pxt.create_table("empty", {"img": pxt.Image, "title": pxt.String})
    for prefix, pattern, message in [
        (f"s3://{bucket}/nothing/", None, f"s3://{bucket}/nothing/: no objects found there"),
        (f"s3://{bucket}/one/", "*.jpg", f"s3://{bucket}/one/: no objects matching '*.jpg' found there"),
        (str(tmp_path / "missing"), None, "missing: no objects found there"),
        (f"s3://{bucket}-nope/x/", None, f"cannot list s3://{bucket}-nope/x/"),
    ]:
        with pytest.raises(pxt.DataError, match=message.replace("*", r"\*").replace(".", r"\.")):
            t.insert_objects(prefix, column="img", pattern=pattern)
    with pytest.raises(pxt.DataError, match="not a stored media column"):
        t.insert_objects(f"s3://{bucket}/one/", column="title")
    assert t.count() == 0


def test_storage_list_objects(s3: tuple[str, Any], tmp_path: Path) -> None:
    bucket, client = s3
    for key in ["f/a1.png", "f/a2.png", "f/b.png", "f/sub/a3.png", "g/a4.png"]:
        client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    storage = Session.default().storage
    names = [o.uri for o in storage.list_objects(f"s3://{bucket}/f")]
    assert names == [f"s3://{bucket}/f/{k}" for k in ["a1.png", "a2.png", "b.png", "sub/a3.png"]]
    assert [o.uri for o in storage.list_objects(f"s3://{bucket}/f/", recursive=False, name_prefix="a")] == [
        f"s3://{bucket}/f/a1.png", f"s3://{bucket}/f/a2.png"]
    listed = storage.list_objects(f"s3://{bucket}/f/", name_prefix="su")[0]
    info = storage.info(listed.uri)
    assert (listed.size, listed.etag) == (len(b"f/sub/a3.png"), info["ETag"].strip('"'))
    client.put_object(Bucket=bucket, Key="f/new.png", Body=b"new")  # a listing is never cached
    assert storage.info(f"s3://{bucket}/f/new.png")["size"] == 3
    assert len(storage.list_objects(f"s3://{bucket}/f/")) == 5
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "d" / "x.txt").write_text("xx")
    (tmp_path / "d" / "e" / "y.txt").write_text("y")
    local = storage.list_objects(tmp_path / "d")
    assert [(o.uri, o.size) for o in local] == [((tmp_path / "d" / "e" / "y.txt").as_uri(), 1),
                                                ((tmp_path / "d" / "x.txt").as_uri(), 2)]
    assert storage.list_objects(tmp_path / "nothing") == []


def test_dict_rows_still_work_and_json_roundtrip(photos: list[Path]) -> None:
    t = pxt.create_table("dicts", {"img": pxt.Image, "meta": pxt.Json})
    t.insert([{"img": str(photos[0]), "meta": {"a": [1]}}, {"img": Image.open(photos[1])}])
    t.insert(img=str(photos[2]))
    assert t.count() == 3
    assert t.select(t.meta).collect()["meta"] == [{"a": [1]}, None, None]
    assert json.dumps(t.select(t.meta).collect()["meta"][0]) == '{"a": [1]}'


@pytest.mark.parametrize("kind", KINDS)
def test_insert_objects_and_listed_checks_on_every_destination(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = configure(kind, request, tmp_path, monkeypatch)
    storage = Session.reset_default().storage
    n = 25  # more than LIST_MIN: checked by listing
    bodies = [png_bytes(i) for i in range(n)]
    stored = storage.put_many(bodies, f"{prefix}/src/", names=[f"{i:02d}.png" for i in range(n)])
    uris = [s.uri for s in stored]
    t = pxt.create_table("everywhere", {"img": pxt.Image, "key": pxt.String})
    assert t.insert_objects(f"{prefix}/src", column="img", key_column="key").num_rows == n
    rows = t.order_by(t.key).select(t.key, t.img.fileurl, t.img.width).collect()
    assert rows["key"] == [f"{i:02d}.png" for i in range(n)]
    assert rows["img_fileurl"] == uris and rows["width"] == [8] * n
    with pytest.raises(pxt.DataError, match=r"row 25, column 'img': .*/src/99\.png"):
        t.insert(pd.DataFrame({"img": [*uris, f"{prefix}/src/99.png"]}))
    assert t.count() == n
    t.insert(pd.DataFrame({"img": uris}))
    assert t.count() == 2 * n
    listed = {o.uri: o for o in storage.list_objects(f"{prefix}/src/")}
    assert [listed[u].size for u in uris] == [len(b) for b in bodies]
    assert [o.uri for o in storage.list_objects(f"{prefix}/src/", recursive=False, name_prefix="0")] == uris[:10]
    assert storage.open(uris[3]).read() == bodies[3]
