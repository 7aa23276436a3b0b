"""The benchmark's images: 640x480 JPEGs that look like photos, not noise.

A few dozen distinct pictures (sky-like gradients, soft shapes, a horizon, mild sensor
noise) are drawn once with Pillow and numpy, encoded at quality 85 (40-70 KB each, like a
phone photo scaled down), then reused: file ``i`` is picture ``i % DISTINCT`` with a JPEG
comment segment naming ``i`` inserted after the SOI marker, so every file has its own
bytes (content-addressed names never collide) while decoding to the same pixels as its
picture. Every system in a run reads these same files.
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

__all__ = ["DISTINCT", "HEIGHT", "WIDTH", "make_images", "picture"]

WIDTH, HEIGHT = 640, 480
DISTINCT = 48


def picture(seed: int) -> bytes:
    """JPEG bytes of picture `seed`: gradient sky and ground, shapes, a sun, mild noise."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, HEIGHT, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, WIDTH, dtype=np.float32)[None, :]
    top, bottom = rng.uniform(40, 255, 3), rng.uniform(0, 200, 3)
    tilt = rng.uniform(-0.3, 0.3)
    t = np.clip(y + tilt * (x - 0.5), 0.0, 1.0)[..., None]
    img = (top * (1 - t) + bottom * t).astype(np.float32)  # HxWx3 gradient
    horizon = int(HEIGHT * rng.uniform(0.45, 0.75))
    ground = rng.uniform(20, 160, 3)
    shade = np.linspace(1.0, 0.55, HEIGHT - horizon, dtype=np.float32)[:, None, None]
    img[horizon:] = img[horizon:] * 0.25 + ground * shade  # darker ground towards the viewer
    base = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")

    layer = Image.new("RGB", (WIDTH, HEIGHT))
    mask = Image.new("L", (WIDTH, HEIGHT), 0)
    draw, mdraw = ImageDraw.Draw(layer), ImageDraw.Draw(mask)
    cx, cy, r = rng.uniform(60, WIDTH - 60), rng.uniform(30, horizon * 0.7), rng.uniform(18, 55)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 236, 180))
    mdraw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=230)
    for _ in range(int(rng.integers(5, 12))):  # hills, houses, trees, boulders
        w, h = rng.uniform(30, 220), rng.uniform(20, 160)
        x0, y0 = rng.uniform(-40, WIDTH), horizon - h * rng.uniform(0.2, 1.0)
        color = tuple(int(c) for c in rng.uniform(10, 230, 3))
        kind = rng.integers(3)
        box = (x0, y0, x0 + w, y0 + h)
        if kind == 0:
            draw.ellipse(box, fill=color)
            mdraw.ellipse(box, fill=int(rng.uniform(150, 255)))
        elif kind == 1:
            draw.rectangle(box, fill=color)
            mdraw.rectangle(box, fill=int(rng.uniform(150, 255)))
        else:
            pts = [(x0, y0 + h), (x0 + w / 2, y0), (x0 + w, y0 + h)]
            draw.polygon(pts, fill=color)
            mdraw.polygon(pts, fill=int(rng.uniform(150, 255)))
    mask = mask.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 2.5)))
    base.paste(layer, (0, 0), mask)
    base = base.filter(ImageFilter.GaussianBlur(0.6))
    arr = np.asarray(base).astype(np.int16)
    arr += rng.normal(0, 3.0, arr.shape).astype(np.int16)  # mild sensor noise
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    out.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def _with_comment(jpeg: bytes, text: str) -> bytes:
    """`jpeg` with a COM segment holding `text` right after SOI (pixels unchanged)."""
    assert jpeg[:2] == b"\xff\xd8"
    payload = text.encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def make_images(folder: str | os.PathLike[str], n: int) -> list[str]:
    """`n` JPEG files in `folder` (``img_0000000.jpg`` ...); reuses those already there."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pictures: dict[int, bytes] = {}
    paths = []
    for i in range(n):
        p = folder / f"img_{i:07d}.jpg"
        if not p.exists():
            k = i % DISTINCT
            if k not in pictures:
                pictures[k] = picture(k)
            p.write_bytes(_with_comment(pictures[k], f"pxfs-bench image {i}"))
        paths.append(str(p))
    return paths
