"""`SilentServer`: accepts TCP connections and never answers, in-process."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Self

from ._process import _HOST, _STOP_GRACE_S


class SilentServer:
    """A TCP server that accepts connections and never answers, for timeout tests.

    Connections are held open (never read, never written) until :meth:`stop`.

    Attributes
    ----------
    endpoint_url : str
        ``http://127.0.0.1:PORT``.
    """

    def __init__(self) -> None:
        self.host = _HOST
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        """The port the server listens on (only while it runs)."""
        if self._sock is None:
            raise RuntimeError("SilentServer is not running; call start() first")
        return int(self._sock.getsockname()[1])

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def connections(self) -> int:
        """How many connections were accepted and are held open."""
        with self._lock:
            return len(self._conns)

    def start(self) -> Self:
        """Start accepting connections; no-op if already running."""
        if self._sock is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((self.host, 0))
            sock.listen(128)
            sock.settimeout(0.05)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._accept_loop, args=(sock,), name="pxfs-silent", daemon=True
        )
        self._thread.start()
        return self

    def _accept_loop(self, sock: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                if self._stopping.is_set():
                    conn.close()
                    return
                self._conns.append(conn)

    def stop(self) -> None:
        """Close every held connection and the listening socket."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=_STOP_GRACE_S)
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        if self._sock is None:
            return "SilentServer(stopped)"
        return f"SilentServer(endpoint_url={self.endpoint_url!r})"
