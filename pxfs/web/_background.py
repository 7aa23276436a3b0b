"""An ``http.server`` serving from a daemon thread, for ``pxfs serve``'s WebServer and
pxfs.testing's HttpFileServer."""

from __future__ import annotations

import http.server
import threading

__all__ = ["serve_in_background", "stop_serving"]


def serve_in_background(server: http.server.HTTPServer, name: str) -> threading.Thread:
    """Start `server`'s loop in a daemon thread (polling for shutdown every 50 ms)."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    thread.start()
    return thread


def stop_serving(server: http.server.HTTPServer | None, thread: threading.Thread | None, grace: float) -> None:
    """Stop `server`'s loop, close its socket and wait up to `grace` seconds for `thread`."""
    if server is not None:
        server.shutdown()
        server.server_close()
    if thread is not None:
        thread.join(timeout=grace)
