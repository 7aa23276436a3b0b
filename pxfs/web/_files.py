"""Files over HTTP with single byte ranges: the one handler that ``pxfs serve`` and
:class:`pxfs.testing.HttpFileServer` share.

:class:`FileHandler` answers GET and HEAD for the file :meth:`FileHandler.file_for`
names (404 otherwise); :func:`resolve_under` maps a URL path to a file inside a folder
and refuses anything else (``..``, ``%2e%2e``, hidden files, empty segments).
"""

from __future__ import annotations

import email.utils
import http.server
import mimetypes
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any, Literal

__all__ = ["FileHandler", "byte_range", "inside", "resolve_under", "send_file"]

_CHUNK = 1 << 20


def byte_range(header: str | None, size: int) -> tuple[int, int] | Literal["all", "unsatisfiable"]:
    """``(first, last)`` of a ``Range: bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` header.

    ``"all"`` for no header or one this does not handle (several ranges, another unit):
    RFC 9110 lets a server ignore it and send the whole file. ``"unsatisfiable"`` (416)
    when the range starts past the end.

    Examples
    --------
    >>> byte_range("bytes=2-5", 10), byte_range("bytes=-3", 10), byte_range("bytes=10-", 10)
    ((2, 5), (7, 9), 'unsatisfiable')
    """
    if header is None:
        return "all"
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header, flags=re.IGNORECASE)
    if m is None or not (m.group(1) or m.group(2)):
        return "all"
    if not m.group(1):  # the last n bytes
        n = int(m.group(2))
        if n == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    first = int(m.group(1))
    last = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    if m.group(2) and int(m.group(2)) < first:
        return "all"  # syntactically invalid: ignored, as RFC 9110 says
    return (first, last) if first < size else "unsatisfiable"


def inside(path: Path, folder: Path) -> bool:
    """Whether `path`, symlinks resolved, is `folder` or below it."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def resolve_under(folder: Path, rest: str) -> Path | None:
    """The file `rest` (a URL path below `folder`, still %-encoded) names, or None.

    None for anything but a regular file inside `folder`: ``..`` and ``.`` segments
    (also %-encoded), empty segments, hidden names, NUL, and symlinks leading out.
    """
    parts = urllib.parse.unquote(rest).split("/")
    if any(p in ("", ".", "..") or p.startswith(".") or "\0" in p or "\\" in p for p in parts):
        return None
    candidate = folder.joinpath(*parts)
    return candidate if candidate.is_file() and inside(candidate, folder) else None


def send_file(handler: http.server.BaseHTTPRequestHandler, path: Path, *, body: bool = True,
              cache_control: str | None = None) -> None:
    """Answer `handler`'s request with `path`: 200, 206 for a byte range, 416 past the end."""
    with open(path, "rb") as f:
        stat = os.fstat(f.fileno())
        size, mtime = stat.st_size, stat.st_mtime
        wanted = byte_range(handler.headers.get("Range"), size)
        if wanted == "unsatisfiable":
            handler.send_response(416)
            handler.send_header("Content-Range", f"bytes */{size}")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        first, last = (0, size - 1) if wanted == "all" else wanted
        handler.send_response(200 if wanted == "all" else 206)
        handler.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        handler.send_header("Content-Length", str(max(0, last - first + 1)))
        handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
        if cache_control:
            handler.send_header("Cache-Control", cache_control)
        if wanted != "all":
            handler.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        handler.end_headers()
        if not body:
            return
        f.seek(first)
        left = last - first + 1
        while left > 0:
            chunk = f.read(min(left, _CHUNK))
            if not chunk:
                break
            handler.wfile.write(chunk)
            left -= len(chunk)


class FileHandler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD of the file :meth:`file_for` names, with single byte ranges; 404 else.

    Subclasses override :meth:`file_for` (and may add routes of their own in
    :meth:`do_GET`); ``cache_control`` is sent with every file.
    """

    protocol_version = "HTTP/1.1"
    cache_control: str | None = None

    def file_for(self, path: str) -> Path | None:
        """The file the URL path `path` (no query, %-encoded) names; None: 404."""
        return None

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self.send_named_file(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self.send_named_file(body=True)

    def send_named_file(self, body: bool) -> bool:
        """Send the file the request names (True), else a 404 (False)."""
        target = self.file_for(urllib.parse.urlsplit(self.path).path)
        if target is None:
            self.send_text(404, "not found")
            return False
        try:
            send_file(self, target, body=body, cache_control=self.cache_control)
        except OSError:  # vanished meanwhile, or unreadable
            self.send_text(404, "not found")
            return False
        return True

    def send_text(self, code: int, text: str, content_type: str = "text/plain; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
        """A small complete response (no body for HEAD)."""
        data = text.encode() + (b"\n" if content_type.startswith("text/plain") else b"")
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass
