"""Image functions and their encoding give exactly what Pillow gives."""

from __future__ import annotations

import io
import random

from PIL import Image

from pxfs.compute._image_fns import encode


def noise(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(3 * size[0] * size[1])).convert(mode)


def test_encode_gives_pillows_bytes() -> None:
    """encode() goes through a file descriptor (so threads encode in parallel): same bytes."""
    for mode, fmt, ext in [("RGB", "JPEG", ".jpg"), ("L", "JPEG", ".jpg"), ("RGBA", "PNG", ".png"),
                           ("P", "PNG", ".png"), ("RGBA", "JPEG", ".png"), ("RGB", "WEBP", ".webp")]:
        img = noise(mode, (64, 48), 1)
        buf = io.BytesIO()
        img.save(buf, format=fmt if ext != ".png" else "PNG")
        data, got_ext = encode(img, fmt)
        assert (data, got_ext) == (buf.getvalue(), ext), (mode, fmt)
