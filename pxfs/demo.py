"""The blob-storage guide, end to end, against a local S3 server: ``python -m pxfs.demo``.

It generates sample images, serves them over a local HTTP server, starts ``moto_server``
as its S3 endpoint (or uses ``--s3-endpoint`` with credentials from the usual AWS
variables, or only local folders with ``--local``), then: creates a directory and a
table, inserts the images by URL, adds computed columns with per-column destinations on a
local folder and on S3, sets a global output and input destination, prints ``.fileurl``
and ``.url`` of every media column, and fetches one ``.url`` over plain HTTP.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import sys
import urllib.request
from pathlib import Path
from typing import Iterator

__all__ = ["main"]


def _sample_images(folder: Path, n: int) -> list[Path]:
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        img = Image.new("RGB", (640, 480), (40 + 60 * i, 90, 160 - 40 * i))
        draw = ImageDraw.Draw(img)
        draw.rectangle((40, 40, 300, 200), fill=(250, 220, 60))
        draw.ellipse((360, 220, 600, 440), fill=(230, 70, 80))
        draw.text((60, 400), f"pxfs sample {i}", fill=(255, 255, 255))
        path = folder / f"sample{i}.jpg"
        img.save(path, quality=90)
        paths.append(path)
    return paths


@contextlib.contextmanager
def _s3(args: argparse.Namespace) -> Iterator[str | None]:
    """The S3 endpoint to use: given, a moto_server started here, or None (local only)."""
    if args.local:
        yield None
        return
    if args.s3_endpoint:
        yield args.s3_endpoint
        return
    try:
        from .testing import MotoServer

        server = MotoServer().start()
    except Exception as e:  # moto missing or failing: the demo still runs on local folders
        print(f"(no local S3 server: {e}; using local folders only)")
        yield None
        return
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        server.create_bucket(args.bucket)
        yield server.endpoint_url
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pxfs.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default=".pxfs-demo", help="folder for PXFS_HOME, images and outputs")
    parser.add_argument("--images", type=int, default=3, help="how many sample images to insert")
    parser.add_argument("--local", action="store_true", help="use local folders only, no S3 server")
    parser.add_argument("--s3-endpoint", help="an S3 endpoint (e.g. MinIO) instead of starting moto_server")
    parser.add_argument("--bucket", default="pxfs-demo", help="bucket on the S3 endpoint (created for moto)")
    args = parser.parse_args(argv)

    work = Path(args.workdir).resolve()
    home = work / "home"
    shutil.rmtree(work / "outputs", ignore_errors=True)
    os.environ["PXFS_HOME"] = str(home)
    images = _sample_images(work / "images", args.images)

    import pxfs as pxt
    from pxfs.env import Env
    from pxfs.testing import HttpFileServer

    with HttpFileServer(images[0].parent) as http, _s3(args) as endpoint:
        if endpoint:
            bucket = f"s3://{args.bucket}"
            settings = {"s3_endpoint_url": endpoint}
        else:
            bucket = str(work / "outputs" / "bucket")
            settings = {}
        print(f"PXFS_HOME={home}\nsample images served at {http.url}\nblob storage: {endpoint or bucket}\n")
        pxt.init(settings)

        # The guide: a directory and a table of images inserted by URL.
        pxt.drop_dir("blob_storage_demo", force=True)
        pxt.create_dir("blob_storage_demo")
        t = pxt.create_table("blob_storage_demo.media", {"source_image": pxt.Image})
        t.insert([{"source_image": http.url_for(p.name)} for p in images])

        # Per-column destinations: one local folder, one bucket prefix.
        local_dest = work / "outputs" / "pixeltable_outputs"
        local_dest.mkdir(parents=True, exist_ok=True)
        t.add_computed_column(rotated_local=t.source_image.rotate(90), destination=str(local_dest))
        t.add_computed_column(flipped=t.source_image.flip("horizontal"), destination=f"{bucket}/flipped/")

        # Global output and input destinations (as config.toml or PXFS_* variables would set them).
        pxt.init({**settings, "output_media_dest": f"{bucket}/computed-media/",
                  "input_media_dest": f"{bucket}/input-media/"})
        env = Env.get()
        print(f"Global output destination is set to: {env.default_output_media_dest}")
        print(f"Global input destination is set to: {env.default_input_media_dest}\n")
        t = pxt.get_table("blob_storage_demo.media")
        t.add_computed_column(thumbnail=t.source_image.resize((100, 100)))
        t.insert(source_image=http.url_for(images[0].name))  # copied to input_media_dest

        media = ["source_image", "rotated_local", "flipped", "thumbnail"]
        rs = t.select(*[getattr(t, c).fileurl for c in media], *[getattr(t, c).url for c in media]).collect()
        for i, row in enumerate(rs):
            print(f"row {i}")
            for c in media:
                print(f"  {c:<14} fileurl {row[f'{c}_fileurl']}")
                print(f"  {'':<14} url     {row[f'{c}_url'][:110]}{'...' if len(row[f'{c}_url']) > 110 else ''}")
        url = rs[-1]["flipped_url"]
        if url.startswith("http"):
            with urllib.request.urlopen(url, timeout=30) as r:
                data = r.read()
            ok = data == pxt.Session.default().storage.cat(rs[-1]["flipped_fileurl"])
            print(f"\nfetched {len(data)} bytes of 'flipped' over plain HTTP: {'OK' if ok else 'MISMATCH'}")
            if not ok:
                return 1
        snapshot = t.to_parquet(work / "outputs" / "media.parquet")
        print(f"snapshot of version {t.version}: {snapshot}")
    print("\nto look at it in a browser (the table, its versions, a gallery of each column):")
    print(f"  PXFS_HOME={shlex.quote(str(home))} pxfs serve --port 8765")
    print("  then open http://127.0.0.1:8765/table/blob_storage_demo.media")
    if endpoint and not args.s3_endpoint:
        print("  (the S3 server of this demo has stopped: its pictures show with --local or --s3-endpoint)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
