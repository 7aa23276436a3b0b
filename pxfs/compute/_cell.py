"""Computing one cell: a pure function of a serialized expression and local inputs.

It runs in a thread or in a worker process (it is picklable and imports only Pillow), so
the same code serves a small lazy read and a large ``materialize()``.
"""

from __future__ import annotations

from typing import Any

from ._image_fns import apply, encode, open_image

__all__ = ["CellTask", "compute_cell", "evaluate"]

# (serialized expression, {column: (kind, value)}, output is media) where kind is "image" (a
# local path, or (local path, URI) so that error messages name the URI), "path" (other
# media: a local path), "value" or "error" (a message).
CellTask = tuple[dict[str, Any], dict[str, tuple[str, Any]], bool]


def evaluate(expr: dict[str, Any], values: dict[str, Any]) -> Any:
    """The value of a serialized expression (``{"col"|"lit"|"call": ...}``) for one row."""
    if "col" in expr:
        return values[expr["col"]]
    if "lit" in expr:
        return expr["lit"]
    if "call" in expr:
        arg = evaluate(expr["of"], values)
        if arg is None:
            return None
        return apply(expr["call"], arg, expr.get("args", []), expr.get("kwargs", {}))
    raise ValueError(f"cannot compute {expr!r} per row")


def compute_cell(task: CellTask) -> tuple[str, Any]:
    """``("ok", value)`` or ``("err", (type name, message))``; media come back as (bytes, ext).

    An error while an image input is open (unreadable, truncated, a decompression bomb)
    names that input in its message.
    """
    expr, inputs, media_out = task
    opened: list[Any] = []
    images: list[str] = []  # the image inputs, as error messages name them
    try:
        values: dict[str, Any] = {}
        fmt = None
        for name, (kind, value) in inputs.items():
            if kind == "error":
                raise ValueError(value)
            if kind == "image" and value is not None:
                path, source = value if isinstance(value, tuple) else (value, value)
                images.append(f"input {name!r} ({source})")
                img = open_image(path)
                opened.append(img)
                fmt = fmt or img.format
                value = img
            values[name] = value
        result = evaluate(expr, values)
        if media_out and result is not None:
            result = encode(result, fmt)
        return "ok", result
    except Exception as e:  # recorded for this cell; the others go on
        return "err", _error(e, images)
    finally:
        for img in opened:
            img.close()


def _error(e: Exception, images: list[str]) -> tuple[str, str]:
    """(type name, message) recorded for a failed cell; the message names the image inputs."""
    from PIL import Image

    # Raised only when warnings are errors (crop() to a huge box, say): record it as the bomb it is.
    name = "DecompressionBombError" if isinstance(e, Image.DecompressionBombWarning) else type(e).__name__
    message = str(e) or name
    return name, f"{', '.join(images)}: {message}" if images else message
