"""Sample media for tests, generated with Pillow (no downloads)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def sample_image(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    """A deterministic RGB image whose pixels all differ, so rotations and flips are visible."""
    img = Image.new("RGB", (width, height))
    img.putdata([((x * 7 + seed) % 256, (y * 11 + seed) % 256, (x * y + seed) % 256)
                 for y in range(height) for x in range(width)])
    return img


def write_image(path: Path, fmt: str | None = None, seed: int = 0, size: tuple[int, int] = (64, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sample_image(*size, seed=seed).save(path, format=fmt)
    return path
