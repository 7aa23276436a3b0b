"""Names of stored media: content-addressed, so a name never gets new bytes.

``<sha256 of the bytes, 32 hex digits><extension>``: a retry writes the same name with the
same bytes (idempotent), a new value gets a new name (CDNs may cache forever).
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
from urllib.parse import urlsplit

__all__ = ["content_name", "content_type", "extension_of", "sniff_extension"]

_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", ".jpg"),
    (0, b"\x89PNG\r\n\x1a\n", ".png"),
    (0, b"GIF87a", ".gif"),
    (0, b"GIF89a", ".gif"),
    (0, b"%PDF", ".pdf"),
    (0, b"ID3", ".mp3"),
    (0, b"OggS", ".ogg"),
    (0, b"fLaC", ".flac"),
    (0, b"BM", ".bmp"),
    (0, b"\x1aE\xdf\xa3", ".webm"),
    (4, b"ftyp", ".mp4"),
)


def sniff_extension(data: bytes) -> str:
    """The file extension the bytes look like (``.jpg``, ``.png``, ...), else ``.bin``."""
    if data[:4] == b"RIFF" and data[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return {b"WEBP": ".webp", b"WAVE": ".wav", b"AVI ": ".avi"}[data[8:12]]
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return ".tiff"
    for offset, magic, ext in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return ext
    return ".bin"


def extension_of(source: str) -> str:
    """The extension of a path or URL (``.jpg``), lowercased; ``""`` if none."""
    path = urlsplit(source).path if "://" in source else source
    ext = posixpath.splitext(path)[1].lower()
    return ext if 1 < len(ext) <= 8 and ext[1:].isalnum() else ""


def content_name(data: bytes | None = None, ext: str = "", digest: str | None = None) -> tuple[str, str]:
    """``(name, sha256 hex)`` for bytes (or for a digest already computed)."""
    if digest is None:
        assert data is not None
        digest = hashlib.sha256(data).hexdigest()
    if not ext and data is not None:
        ext = sniff_extension(data)
    return f"{digest[:32]}{ext}", digest


def content_type(name: str) -> str | None:
    """The MIME type browsers expect for a file name, so a served URL renders inline."""
    return mimetypes.guess_type(name)[0]
