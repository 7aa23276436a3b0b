"""The server of ``pxfs serve``: which local folders it serves, and the server itself."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from pathlib import Path
from typing import Any, Self

from ._background import serve_in_background, stop_serving
from ._files import inside
from ._routes import AppHandler

__all__ = ["DEFAULT_PORT", "WebServer", "make_server", "serve_routes"]

DEFAULT_PORT = 8765
_LOCAL_HOSTS = ("127.0.0.1", "localhost")


def serve_routes(env: Any, port: int | None) -> tuple[int, list[tuple[str, Path]], list[Path]]:
    """``(port, [(url path prefix, folder)], folders with no public_urls entry)`` for `serve`.

    A ``[pxfs.public_urls]`` entry mapping a local folder to ``http://127.0.0.1[:P]/PATH``
    is served at ``/PATH/``; every other local destination at its absolute path.
    """
    storage = env.storage
    routes: list[tuple[str, Path]] = []
    ports: set[int] = set()
    for prefix, base in storage.config.public_urls:
        loc = storage.location(prefix)
        url = urllib.parse.urlsplit(base)
        if loc.kind != "local" or url.scheme != "http" or url.hostname not in _LOCAL_HOSTS:
            continue
        routes.append((url.path.rstrip("/") + "/", Path(loc.key)))
        ports.add(url.port or 80)
    if port is None:
        port = min(ports) if ports else DEFAULT_PORT
    unmapped = []
    from ..tables._gc import write_prefixes

    for loc in write_prefixes(env):
        folder = Path(loc.key) if loc.kind == "local" else None
        if folder is None or any(inside(folder, f) for _, f in routes):
            continue
        routes.append((urllib.parse.quote(folder.as_posix().rstrip("/")) + "/", folder))
        unmapped.append(folder)
    routes.sort(key=lambda r: -len(r[0]))
    return port, routes, unmapped


def make_server(env: Any, port: int | None = None, host: str = "127.0.0.1",
                ) -> tuple[http.server.ThreadingHTTPServer, list[tuple[str, Path]], list[Path]]:
    """A server (not started) for `env`'s local media and the app: ``(server, routes, unmapped)``."""
    port, routes, unmapped = serve_routes(env, port)
    handler = type("_Handler", (AppHandler,), {"routes": routes})
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server, routes, unmapped


class WebServer:
    """``pxfs serve`` in a thread of this process (for tests and notebooks).

    Examples
    --------
    >>> with WebServer() as web:            # doctest: +SKIP
    ...     print(web.url)                  # http://127.0.0.1:PORT
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._port, self._host = port, host
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (no trailing slash), while running."""
        if self._server is None:
            raise RuntimeError("WebServer is not running; call start() first")
        return f"http://{self._host}:{self._server.server_address[1]}"

    def start(self) -> Self:
        """Start serving (routes are read now, from the current configuration)."""
        if self._server is None:
            from ..session import Session

            self._server = make_server(Session.default(), self._port, self._host)[0]
            self._thread = serve_in_background(self._server, "pxfs-web")
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        stop_serving(server, thread, 5.0)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
