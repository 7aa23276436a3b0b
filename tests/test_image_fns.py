"""Image functions give exactly what the Pillow call they name gives."""

from __future__ import annotations

import random

import pytest
from PIL import Image

from pxfs.compute._image_fns import apply, encode

MODES = ["1", "L", "LA", "I", "I;16", "F", "RGB", "RGBA", "CMYK", "YCbCr", "P", "PA"]


def noise(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    rng = random.Random(seed)
    base = Image.frombytes("RGB", size, rng.randbytes(3 * size[0] * size[1]))
    img = base.convert("P") if mode == "P" else base.convert("RGBA").convert(mode) if mode == "PA" else (
        base.convert("L").convert(mode) if mode in ("I", "I;16", "F") else base.convert(mode))
    img.info["dpi"] = (72, 72)
    return img


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("angle", [90, 270, -90, 450.0, 180])
def test_rotate_is_pillows_rotate(mode: str, angle: float) -> None:
    sizes = [(w, h) for w in range(1, 9) for h in range(1, 9)]
    if mode in ("RGB", "L", "RGBA"):
        sizes += [(640, 480), (480, 640), (641, 480)]
    for seed, size in enumerate(sizes):
        img = noise(mode, size, seed)
        for expand in (False, True):
            ours = apply("rotate", img, [angle], {"expand": expand})
            theirs = img.rotate(angle, expand=expand)
            assert (ours.mode, ours.size) == (theirs.mode, theirs.size), (mode, size, angle, expand)
            assert ours.tobytes() == theirs.tobytes(), (mode, size, angle, expand)
            assert ours.info == theirs.info and ours.getpalette() == theirs.getpalette()


def test_encode_gives_pillows_bytes() -> None:
    import io

    for mode, fmt in [("RGB", "JPEG"), ("L", "JPEG"), ("RGBA", "PNG"), ("P", "PNG")]:
        img = noise(mode, (64, 48), 1)
        buf = io.BytesIO()
        img.save(buf, format=fmt)
        data, ext = encode(img, fmt)
        assert data == buf.getvalue() and ext == (".jpg" if fmt == "JPEG" else ".png")
