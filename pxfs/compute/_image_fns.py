"""Image functions: pure functions of a ``PIL.Image`` and literal arguments.

Each behaves exactly as the Pillow call it names, so ``t.img.rotate(90)`` gives the pixels
of ``PIL.Image.open(path).rotate(90)``. To add one: write it here, add a row to
``FUNCTIONS`` and a builder method on ``Expr``.
"""

from __future__ import annotations

import os
import tempfile
import threading
import warnings
from dataclasses import dataclass
from typing import IO, Any, Callable

__all__ = ["FUNCTIONS", "apply", "encode", "open_image", "output_format"]

# Warnings filters are process-global and catch_warnings() is not thread-safe: one block at a time.
_BOMB_CHECK = threading.Lock()


def open_image(fp: str | IO[bytes]) -> Any:
    """``PIL.Image.open(fp)``, where an image over ``Image.MAX_IMAGE_PIXELS`` always fails.

    Pillow raises ``DecompressionBombError`` above twice the limit and only warns above the
    limit; here both raise ``DecompressionBombError`` (the warning chained), whatever the
    process's warnings filter, so a bomb fails the same way in a script and under pytest.
    """
    from PIL import Image

    with _BOMB_CHECK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(fp)
        except Image.DecompressionBombWarning as w:
            raise Image.DecompressionBombError(str(w)) from w


@dataclass(frozen=True)
class Function:
    impl: Callable[..., Any]
    returns: str  # a type name from pxfs.types
    is_method: bool = True


def check_size(size: Any) -> tuple[int, int]:
    if not (isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise ValueError(f"size must be (width, height) with positive integers, got {size!r}")
    return int(size[0]), int(size[1])


def transpose_method(method: int | str) -> Any:
    from PIL import Image

    if isinstance(method, str):
        try:
            return Image.Transpose[method.upper()]
        except KeyError:
            names = ", ".join(t.name for t in Image.Transpose)
            raise ValueError(f"transpose(): unknown method {method!r}; use one of {names}") from None
    return Image.Transpose(method)


def _rotate(img: Any, angle: float, expand: bool = False) -> Any:
    return img.rotate(angle, expand=expand)


def _flip(img: Any, direction: str) -> Any:
    from PIL import Image

    op = Image.Transpose.FLIP_LEFT_RIGHT if direction == "horizontal" else Image.Transpose.FLIP_TOP_BOTTOM
    return img.transpose(op)


def _transpose(img: Any, method: int | str) -> Any:
    return img.transpose(transpose_method(method))


def _resize(img: Any, size: list[int]) -> Any:
    return img.resize(tuple(size))


def _crop(img: Any, box: list[int]) -> Any:
    return img.crop(tuple(box))


def _thumbnail(img: Any, size: list[int]) -> Any:
    out = img.copy()
    out.thumbnail(tuple(size))
    return out


def _convert(img: Any, mode: str) -> Any:
    return img.convert(mode)


FUNCTIONS: dict[str, Function] = {
    "convert": Function(_convert, "Image"),
    "crop": Function(_crop, "Image"),
    "flip": Function(_flip, "Image"),
    "height": Function(lambda img: img.height, "Int", is_method=False),
    "mode": Function(lambda img: img.mode, "String", is_method=False),
    "resize": Function(_resize, "Image"),
    "rotate": Function(_rotate, "Image"),
    "thumbnail": Function(_thumbnail, "Image"),
    "transpose": Function(_transpose, "Image"),
    "width": Function(lambda img: img.width, "Int", is_method=False),
}
assert list(FUNCTIONS) == sorted(FUNCTIONS)


def apply(fn: str, img: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    return FUNCTIONS[fn].impl(img, *args, **kwargs)


_FORMAT_EXT = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif", "TIFF": ".tiff", "BMP": ".bmp"}
_JPEG_MODES = ("RGB", "L", "CMYK")


def output_format(source_format: str | None, mode: str) -> str:
    """The source's format when it can hold `mode` (JPEG stays JPEG), else PNG."""
    fmt = (source_format or "PNG").upper()
    if fmt == "MPO":
        fmt = "JPEG"
    if fmt not in _FORMAT_EXT or (fmt == "JPEG" and mode not in _JPEG_MODES):
        return "PNG"
    return fmt


def encode(img: Any, source_format: str | None) -> tuple[bytes, str]:
    """Encode `img` in the source's format where it fits; returns (bytes, extension).

    Pillow holds the GIL while it encodes into a BytesIO but releases it while it encodes
    into a real file descriptor, so compute threads encode in parallel only through a
    file: an anonymous in-memory one (memfd) where the OS has them. The bytes are the same.
    """
    fmt = output_format(source_format, img.mode)
    with _scratch_file() as f:
        img.save(f, format=fmt)
        f.seek(0)
        return f.read(), _FORMAT_EXT[fmt]


def _scratch_file() -> IO[bytes]:
    if hasattr(os, "memfd_create"):
        return os.fdopen(os.memfd_create("pxfs-encode", os.MFD_CLOEXEC), "w+b")
    return tempfile.TemporaryFile()
