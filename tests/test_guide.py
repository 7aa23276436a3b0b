"""The blob-storage guide, cell by cell, as a user would run it after ``import pxfs as pxt``.

Only the sample image URL changes: it is served by a local HTTP server. The per-column,
global-output and global-input parts run against every kind of destination.
"""

from __future__ import annotations

import io
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

import pxfs as pxt
from pxfs.env import Env
from pxfs.session import Session

from .destinations import KINDS, configure
from .images import write_image


def fetch(url: str) -> bytes:
    if url.startswith("file://"):
        return Path(url[7:]).read_bytes()
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read()  # type: ignore[no-any-return]


def pillow_bytes(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def guide_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http_server: object) -> str:
    """HOME in tmp (the guide writes to ~/Desktop), and the sample image served over HTTP."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    write_image(tmp_path / "000000000036.jpg", "JPEG")
    return http_server.url_for("000000000036.jpg")  # type: ignore[attr-defined]


def run_guide_first_part(sample_image: str) -> tuple[pxt.Table, Path]:
    # --- cells of the guide, unchanged but for the sample URL ---
    pxt.drop_dir('blob_storage_demo', force=True)
    pxt.create_dir('blob_storage_demo')
    t = pxt.create_table('blob_storage_demo.media', {'source_image': pxt.Image})

    local_dest = Path.home() / 'Desktop' / 'pixeltable_outputs'
    local_dest.mkdir(parents=True, exist_ok=True)
    local_dest

    t.insert(source_image=sample_image)

    t.add_computed_column(
        rotated_local=t.source_image.rotate(90),
        destination=str(local_dest),
    )
    t.select(t.source_image, t.rotated_local).show()
    t.add_computed_column(
        flipped=t.source_image.flip('horizontal'),
        destination=str(local_dest / 'flipped'),
    )
    t.select(t.source_image, t.rotated_local, t.flipped).show()

    # The guide repeats this cell; re-running an identical definition is a no-op.
    t.add_computed_column(
        flipped=t.source_image.flip('horizontal'),
        destination=str(local_dest / 'flipped'),
    )
    t.select(t.source_image, t.rotated_local, t.flipped).show()

    t.select(
        t.source_image.fileurl,
        t.rotated_local.fileurl,
        t.flipped.fileurl,
    ).collect()
    return t, local_dest


def test_per_column_destinations_local(guide_env: str, tmp_path: Path) -> None:
    t, local_dest = run_guide_first_part(guide_env)
    rs = t.select(t.source_image, t.source_image.fileurl, t.rotated_local, t.rotated_local.fileurl,
                  t.flipped, t.flipped.fileurl).collect()
    assert len(rs) == 1 and rs.columns == ["source_image", "source_image_fileurl", "rotated_local",
                                           "rotated_local_fileurl", "flipped", "flipped_fileurl"]
    row = rs[0]
    # Without input_media_dest an inserted URL is referenced, not copied.
    assert row["source_image_fileurl"] == guide_env
    source = Image.open(tmp_path / "000000000036.jpg")
    rotated_path = Path(row["rotated_local_fileurl"][len("file://"):])
    flipped_path = Path(row["flipped_fileurl"][len("file://"):])
    assert rotated_path.parent == local_dest and rotated_path.suffix == ".jpg"
    assert flipped_path.parent == local_dest / "flipped"
    # JPEG stays JPEG, and the bytes are Pillow's own encoding of Pillow's own result.
    assert rotated_path.read_bytes() == pillow_bytes(source.rotate(90), "JPEG")
    assert flipped_path.read_bytes() == pillow_bytes(source.transpose(Image.Transpose.FLIP_LEFT_RIGHT), "JPEG")
    assert isinstance(row["rotated_local"], Image.Image) and row["rotated_local"].size == source.size
    assert [c for c in t.columns()] == ["source_image", "rotated_local", "flipped"]


@pytest.mark.parametrize("kind", KINDS)
def test_guide_on_every_destination(
    kind: str, guide_env: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
) -> None:
    remote = configure(kind, request, tmp_path, monkeypatch)
    Env.reset()
    t, local_dest = run_guide_first_part(guide_env)

    # --- Global output destination: config.toml, then pxt.init() ---
    config = Env.get().home / "config.toml"
    config.write_text(f'[pxfs]\noutput_media_dest = "{remote}/computed/"\ninput_media_dest = "{remote}/input/"\n')
    pxt.init()

    env = Env.get()
    if env.default_output_media_dest:
        print(f"Global output destination is set to: {env.default_output_media_dest}")
    assert env.default_output_media_dest == f"{remote}/computed/"
    env = Env.get()
    if env.default_input_media_dest:
        print(f"Global input destination is set to: {env.default_input_media_dest}")
    assert env.default_input_media_dest == f"{remote}/input/"

    t = pxt.get_table('blob_storage_demo.media')
    t.add_computed_column(thumbnail=t.source_image.resize((100, 100)))
    t.add_computed_column(
        preview=t.source_image.resize((300, 300)),
        destination=str(tmp_path / 'preview'),
    )

    # --- Global input destination ---
    import os
    os.chdir(tmp_path)
    Path('my-video.mp4').write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    videos = pxt.create_table('content', {
        'video': pxt.Video,
        'title': pxt.String
    })
    videos.insert({
        'video': './my-video.mp4',
        'title': 'My Video'
    })
    t.insert(source_image=guide_env)  # a URL, copied to input_media_dest now

    rs = t.select(
        t.source_image,
        t.source_image.fileurl,
        t.rotated_local,
        t.rotated_local.fileurl,
        t.flipped,
        t.flipped.fileurl,
        t.thumbnail.fileurl,
        t.preview.fileurl,
        t.source_image.url,
        t.rotated_local.url,
        t.flipped.url,
        t.thumbnail.url,
        t.preview.url,
    ).collect()
    assert len(rs) == 2
    storage = Session.default().storage
    canonical = storage.location(remote).uri
    first, second = rs[0], rs[1]
    assert first["source_image_fileurl"] == guide_env  # inserted before input_media_dest was set
    assert second["source_image_fileurl"].startswith(f"{canonical}/input/")
    assert fetch(second["source_image_url"]) == (tmp_path / "000000000036.jpg").read_bytes()
    for row in (first, second):
        # The per-column destination overrides the global one; the global one takes the rest.
        assert row["rotated_local_fileurl"].startswith(storage.location(local_dest).uri + "/")
        assert row["preview_fileurl"].startswith(storage.location(tmp_path / "preview").uri + "/")
        assert row["thumbnail_fileurl"].startswith(f"{canonical}/computed/")
        for col in ("source_image", "rotated_local", "flipped", "thumbnail", "preview"):
            data = fetch(row[f"{col}_url"])
            assert data == storage.cat(row[f"{col}_fileurl"])
            assert Image.open(io.BytesIO(data)).format == "JPEG"
        assert Image.open(io.BytesIO(fetch(row["thumbnail_url"]))).size == (100, 100)
    video = videos.select(videos.video.fileurl, videos.title).collect()[0]
    assert video["video_fileurl"].startswith(f"{canonical}/input/") and video["video_fileurl"].endswith(".mp4")
    assert storage.cat(video["video_fileurl"]) == (tmp_path / "my-video.mp4").read_bytes()
    assert video["title"] == "My Video"
