"""The shared base of the subprocess emulators: free ports, readiness probes, logs.

:class:`_ProcessServer` starts a command on 127.0.0.1 and a free port, waits until it
answers HTTP, retries another port when the first one was taken, and ``stop()`` ends only
the process that ``start()`` launched. The in-process servers share ``_HOST`` and
``_STOP_GRACE_S`` from here.
"""

from __future__ import annotations

import atexit
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO, ClassVar, Self

_HOST = "127.0.0.1"
_STOP_GRACE_S = 5.0
_PORT_ATTEMPTS = 3
_LOG_TAIL_CHARS = 4000

#: urllib opener for our own servers on 127.0.0.1: never through an HTTP proxy from the
#: environment, and https without verification (their certificates are the test's own).
def _unverified_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=_unverified_tls()))



def _free_port(host: str = _HOST) -> int:
    """Return a port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """Send one HTTP request without proxies; return ``(status, body)``.

    HTTP error statuses are returned, not raised; connection problems raise ``OSError``.
    """
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), exc.read()


def _admin(
    method: str, url: str, failure: str, *, ok: tuple[int, ...] = (200,), body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """One administrative request to a test server (create a bucket, reset); a status not
    in `ok` raises ``RuntimeError("<failure>: HTTP <status>: <body>")``."""
    status, answer = _request(method, url, body=body, headers=headers)
    if status not in ok:
        raise RuntimeError(f"{failure}: HTTP {status}: {answer[:500]!r}")


def _answers(url: str) -> bool:
    """Tell whether anything answers HTTP at ``url`` (any status counts)."""
    try:
        _request("GET", url, timeout=2.0)
    except (OSError, http.client.HTTPException):
        return False
    return True


class _ProcessServer:
    """A server run as a subprocess on 127.0.0.1 and a free port."""

    _name: ClassVar[str] = "server"
    _ready_path: ClassVar[str] = "/"

    scheme = "http"

    def __init__(self, *, startup_timeout: float = 60.0, extra_args: Sequence[str] = ()) -> None:
        self.host = _HOST
        self.startup_timeout = startup_timeout
        self.extra_args = list(extra_args)
        self.log_path: Path | None = None
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._workdir: str | None = None

    # -- to override -------------------------------------------------------------------
    def _command(self, port: int) -> list[str]:
        raise NotImplementedError

    def _environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    # -- public ------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The port the server listens on (only while it runs)."""
        if self._port is None or self._proc is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first")
        return self._port

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        """Start the server and wait until it answers; no-op if already running."""
        if self._proc is not None:
            return self
        self._workdir = tempfile.mkdtemp(prefix=f"pxfs-{self._name}-")
        self.log_path = Path(self._workdir) / f"{self._name}.log"
        atexit.register(self.stop)
        try:
            for attempt in range(_PORT_ATTEMPTS):
                port = _free_port(self.host)
                command = self._command(port)
                self._launch(command, port)
                outcome = self._wait_ready()
                if outcome == "ready":
                    return self
                tail = self._log_tail()
                self._end_process()
                if (
                    outcome == "exited"
                    and attempt + 1 < _PORT_ATTEMPTS
                    and _mentions_port_in_use(tail)
                ):
                    continue
                why = (
                    "exited before it was ready"
                    if outcome == "exited"
                    else f"did not answer within {self.startup_timeout:g} s"
                )
                raise RuntimeError(
                    f"{type(self).__name__} {why} (command: {' '.join(command)}).\n"
                    f"Last lines of its log:\n{tail}"
                )
            raise AssertionError("unreachable")  # pragma: no cover
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server process (terminate, then kill) and remove its temp files."""
        atexit.unregister(self.stop)
        self._end_process()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None
        self.log_path = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _describe(self) -> str:
        return f"endpoint_url={self.endpoint_url!r}"

    def __repr__(self) -> str:
        if self._proc is None:
            return f"{type(self).__name__}(stopped)"
        return f"{type(self).__name__}({self._describe()})"

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` for a server started with TLS)."""
        return f"{self.scheme}://{self.host}:{self.port}"

    # -- internals ---------------------------------------------------------------------
    def _launch(self, command: list[str], port: int) -> None:
        assert self.log_path is not None
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _end_process
        self._log.write(f"$ {' '.join(command)}\n".encode())
        self._log.flush()
        self._port = port
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self._workdir,
            env=self._environ(),
        )

    def _wait_ready(self) -> str:
        assert self._proc is not None and self._port is not None
        probe = f"{self.scheme}://{self.host}:{self._port}{self._ready_path}"
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._proc.poll() is not None:
                return "exited"
            if _answers(probe):
                # Something answered; make sure it was our process and not a port thief.
                return "ready" if self._proc.poll() is None else "exited"
            if time.monotonic() > deadline:
                return "timeout"
            time.sleep(0.1)

    def _end_process(self) -> None:
        proc, self._proc = self._proc, None
        self._port = None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=_STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=_STOP_GRACE_S)
            else:
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        if self._log is not None:
            self._log.flush()
        with open(self.log_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - _LOG_TAIL_CHARS))
            return f.read().decode("utf-8", errors="replace").strip() or "(empty log)"


def _mentions_port_in_use(log: str) -> bool:
    text = log.lower()
    return "address already in use" in text or "eaddrinuse" in text or "errno 98" in text
