"""`HttpFileServer`: a directory over plain HTTP (with byte ranges), in-process."""

from __future__ import annotations

import http.server
import os
import threading
import urllib.parse
from pathlib import Path
from typing import Self

from ..web._background import serve_in_background, stop_serving
from ..web._files import FileHandler, resolve_under
from ._process import _HOST, _STOP_GRACE_S


class _DirectoryHandler(FileHandler):
    """Files below `directory` (no listings, no hidden files), through pxfs's one byte-range handler."""

    directory: Path = Path(".")

    def file_for(self, path: str) -> Path | None:
        return resolve_under(self.directory, path.lstrip("/"))


class HttpFileServer:
    """Serve a directory over HTTP from a thread of this process (byte ranges supported).

    Parameters
    ----------
    directory : str or path
        The directory to serve.

    Attributes
    ----------
    directory : pathlib.Path
        The directory served.
    url : str
        ``http://127.0.0.1:PORT`` (no trailing slash).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory).resolve()
        self.host = _HOST
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the server listens on (only while it runs)."""
        if self._server is None:
            raise RuntimeError("HttpFileServer is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    def url_for(self, relpath: str | os.PathLike[str]) -> str:
        """URL of ``relpath`` (relative to ``directory``, or an absolute path inside it)."""
        path = Path(relpath)
        if path.is_absolute():
            path = path.resolve().relative_to(self.directory)
        return f"{self.url}/{urllib.parse.quote(path.as_posix())}"

    def start(self) -> Self:
        """Start serving; no-op if already running."""
        if self._server is not None:
            return self
        if not self.directory.is_dir():
            raise NotADirectoryError(f"HttpFileServer: {self.directory} is not a directory")
        handler = type("_Handler", (_DirectoryHandler,), {"directory": self.directory})
        self._server = http.server.ThreadingHTTPServer((self.host, 0), handler)
        self._thread = serve_in_background(self._server, f"pxfs-http-{self.port}")
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        stop_serving(server, thread, _STOP_GRACE_S)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        if self._server is None:
            return f"HttpFileServer(stopped, directory={str(self.directory)!r})"
        return f"HttpFileServer(url={self.url!r}, directory={str(self.directory)!r})"
