"""Bad media at insert (media_validation on_read / on_write) and in computed columns.

Three bad images: a PNG whose header declares 50000x50000 pixels (a decompression bomb in
a few bytes), a JPEG cut in half (its header reads, its pixels do not) and random bytes
named .jpg. Each is inserted as a local path, as bytes and as an s3:// object.
"""

from __future__ import annotations

import random
import struct
import warnings
import zlib
from pathlib import Path
from typing import Any

import boto3
import pytest
from PIL import Image

import pxfs as pxt
from pxfs.env import Env
from pxfs.testing import MotoServer

from .images import write_image

KINDS = ("bomb", "truncated", "garbage")
MODES = ("on_read", "on_write")
SOURCES = ("path", "bytes", "s3")


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR declares `width` x `height` RGB pixels (and holds none)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def bad_file(folder: Path, kind: str) -> Path:
    """One bad image file of `kind` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "bomb":
        path = folder / "bomb.png"
        path.write_bytes(png_declaring(50000, 50000))
    elif kind == "truncated":
        data = write_image(folder / "whole.jpg", "JPEG", size=(256, 192)).read_bytes()
        path = folder / "truncated.jpg"
        path.write_bytes(data[: len(data) // 2])
    else:
        path = folder / "garbage.jpg"
        path.write_bytes(random.Random(7).randbytes(4096))
    return path


@pytest.fixture
def s3(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    """A fresh bucket on moto (its name is returned) with pxfs pointed at the emulator."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint_url)
    bucket = f"bad-input-{random.Random(request.node.nodeid).getrandbits(48):012x}"
    moto_server.create_bucket(bucket)
    client = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y")
    return bucket, client


def keys(client: Any, bucket: str, prefix: str) -> list[str]:
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def rejected_at_insert(kind: str, mode: str, source: str) -> bool:
    """on_write decodes everything; on_read reads the header of local files and bytes only."""
    return mode == "on_write" or (source != "s3" and kind != "truncated")


@pytest.mark.emulator
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_bad_image_at_insert(kind: str, mode: str, source: str, s3: Any, tmp_path: Path) -> None:
    bucket, client = s3
    pxt.init({"media_validation": mode, "input_media_dest": f"s3://{bucket}/inputs/"})
    good = write_image(tmp_path / "good.png", "PNG")
    bad = bad_file(tmp_path / "bad", kind)
    named: str | None = str(bad)
    value: Any = str(bad)
    if source == "bytes":
        value, named = bad.read_bytes(), None
    elif source == "s3":
        client.put_object(Bucket=bucket, Key=f"src/{bad.name}", Body=bad.read_bytes())
        value = named = f"s3://{bucket}/src/{bad.name}"
    t = pxt.create_table("t", {"n": pxt.Int, "img": pxt.Image})
    t.insert(n=0, img=str(good))
    before = keys(client, bucket, "inputs/")
    rows = [{"n": 1, "img": str(good)}, {"n": 2, "img": value}]
    if not rejected_at_insert(kind, mode, source):
        t.insert(rows)  # the header reads, or a remote object is not fetched: found when read
        assert t.count() == 3
        return
    with pytest.raises(pxt.DataError) as info:
        t.insert(rows)
    message = str(info.value)
    assert "row 1" in message and "'img'" in message
    if named is not None:
        assert named in message
    assert info.value.__cause__ is not None  # Pillow's own exception, chained
    assert t.count() == 1
    assert keys(client, bucket, "inputs/") == before  # nothing uploaded for the failed insert


def test_bomb_header_check_does_not_leak_pillows_error(tmp_path: Path) -> None:
    """Under on_read (the default) too: DataError, not DecompressionBombError."""
    assert Env.get()["media_validation"] == "on_read"
    bomb = bad_file(tmp_path, "bomb")
    t = pxt.create_table("t", {"img": pxt.Image})
    with pytest.raises(pxt.DataError, match=r"row 0, column 'img'") as info:
        t.insert(img=str(bomb))
    assert str(bomb) in str(info.value)
    assert isinstance(info.value.__cause__, Image.DecompressionBombError)
    assert t.count() == 0


@pytest.mark.parametrize("mode", MODES)
def test_pillows_warning_level_bomb_is_refused_whatever_the_warnings_filter(
    mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over MAX_IMAGE_PIXELS Pillow only warns; pxfs refuses, and the warning does not escape."""
    monkeypatch.setenv("PXFS_MEDIA_VALIDATION", mode)
    pxt.init()
    assert Env.get()["media_validation"] == mode
    path = tmp_path / "big.png"
    path.write_bytes(png_declaring(10000, 10000))  # over the limit, under twice the limit
    t = pxt.create_table("t", {"img": pxt.Image})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(pxt.DataError, match=r"row 0, column 'img'") as info:
            t.insert(img=str(path))
    assert str(path) in str(info.value)
    assert isinstance(info.value.__cause__, Image.DecompressionBombError)
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert t.count() == 0


def test_on_write_fetches_a_remote_image_once(s3: Any, tmp_path: Path) -> None:
    """The object decoded at insert is read from the cache afterwards, not fetched again."""
    bucket, client = s3
    pxt.init({"media_validation": "on_write"})
    src = write_image(tmp_path / "a.png", "PNG")
    client.put_object(Bucket=bucket, Key="src/a.png", Body=src.read_bytes())
    t = pxt.create_table("t", {"img": pxt.Image})
    t.insert(img=f"s3://{bucket}/src/a.png")
    client.delete_object(Bucket=bucket, Key="src/a.png")  # only the cached copy is left
    assert t.collect()[0]["img"].tobytes() == Image.open(src).tobytes()


@pytest.mark.emulator
def test_computed_cells_of_bad_inputs_record_errors_and_the_rest_compute(s3: Any, tmp_path: Path) -> None:
    bucket, client = s3
    goods = [write_image(tmp_path / f"good{i}.png", "PNG", seed=i, size=(40, 30)) for i in range(3)]
    truncated = bad_file(tmp_path / "bad", "truncated")  # passes on_read's header check
    replaced = write_image(tmp_path / "bad" / "replaced.png", "PNG")  # becomes a bomb after insert
    remote = {}
    for kind in ("bomb", "garbage"):  # on_read does not fetch remote objects at insert
        path = bad_file(tmp_path / "bad", kind)
        client.put_object(Bucket=bucket, Key=f"src/{path.name}", Body=path.read_bytes())
        remote[kind] = f"s3://{bucket}/src/{path.name}"
    t = pxt.create_table("t", {"n": pxt.Int, "img": pxt.Image})
    t.insert([{"n": i, "img": str(p)} for i, p in enumerate(goods)]
             + [{"n": 10, "img": str(truncated)}, {"n": 11, "img": str(replaced)},
                {"n": 12, "img": remote["bomb"]}, {"n": 13, "img": remote["garbage"]}])
    replaced.write_bytes(png_declaring(50000, 50000))
    t.add_computed_column(rotated=t.img.rotate(90), destination=str(tmp_path / "out"))
    assert t.materialize() == 7
    rs = t.order_by(t.n).select(t.n, t.rotated, t.rotated.errortype, t.rotated.errormsg).collect()
    rows = [rs[i] for i in range(len(rs))]
    for row, path in zip(rows, goods):
        assert row["rotated_errortype"] is None
        assert row["rotated"].tobytes() == Image.open(path).rotate(90).tobytes()
    errors = {row["n"]: (row["rotated"], row["rotated_errortype"], row["rotated_errormsg"]) for row in rows[3:]}
    assert errors[10][:2] == (None, "OSError") and str(truncated) in errors[10][2]
    assert errors[11][:2] == (None, "DecompressionBombError") and str(replaced) in errors[11][2]
    assert errors[12][:2] == (None, "DecompressionBombError")
    assert errors[13][:2] == (None, "UnidentifiedImageError")
    assert t.materialize() == 0


def test_a_bomb_made_by_a_function_is_a_cell_error(tmp_path: Path) -> None:
    """crop() to a huge box makes Pillow warn; as an error it is recorded as the bomb it is."""
    src = write_image(tmp_path / "a.png", "PNG")
    t = pxt.create_table("t", {"img": pxt.Image})
    t.insert(img=str(src))
    t.add_computed_column(big=t.img.crop((0, 0, 10000, 10000)), destination=str(tmp_path / "out"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        row = t.select(t.big.errortype, t.big.errormsg).collect()[0]
    assert row["big_errortype"] == "DecompressionBombError"
    assert str(src) in row["big_errormsg"]


@pytest.mark.emulator
def test_reading_a_bomb_stored_under_on_read_raises_data_error(s3: Any, tmp_path: Path) -> None:
    bucket, client = s3
    client.put_object(Bucket=bucket, Key="src/bomb.png", Body=png_declaring(50000, 50000))
    t = pxt.create_table("t", {"img": pxt.Image})
    t.insert(img=f"s3://{bucket}/src/bomb.png")
    with pytest.raises(pxt.DataError, match="row 0, column 'img'"):
        t.collect()


def test_many_bad_values_the_first_in_row_order_is_named(tmp_path: Path) -> None:
    """Values are checked 16 at a time; whichever fails first in time, the error names the
    first bad row, and nothing is inserted."""
    good = write_image(tmp_path / "good.png", "PNG")
    (tmp_path / "not-an-image.png").write_bytes(b"plain text")
    paths = [str(good)] * 200
    paths[150] = str(tmp_path / "missing.png")
    paths[37] = str(tmp_path / "not-an-image.png")
    t = pxt.create_table("many", {"img": pxt.Image})
    with pytest.raises(pxt.DataError, match="row 37, column 'img'"):
        t.insert([{"img": p} for p in paths])
    paths[37] = str(good)
    with pytest.raises(pxt.DataError, match="row 150, column 'img'"):
        t.insert([{"img": p} for p in paths])
    assert t.count() == 0
