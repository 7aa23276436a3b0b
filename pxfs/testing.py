"""Local servers for tests: storage emulators and small HTTP/TCP servers.

Every server listens on 127.0.0.1 and a free port, and is a context manager::

    from pxfs.testing import MotoServer

    with MotoServer() as s3:
        s3.create_bucket("media")
        ...  # use s3.endpoint_url, e.g. AWS_ENDPOINT_URL=s3.endpoint_url

- :class:`MotoServer` -- S3 (and S3-compatible aliases) through ``moto.server``.
- :class:`Azurite` -- Azure Blob Storage through the npm package ``azurite``.
- :class:`S3rver` -- S3 through the npm package ``s3rver``, which checks signatures.
- :class:`GcsEmulator` -- Google Cloud Storage through ``gcp-storage-emulator``.
- :class:`HttpFileServer` -- a directory over plain HTTP (with byte ranges), in-process.
- :class:`SilentServer` -- accepts TCP connections and never answers, in-process.

The emulators run as subprocesses that log to a temporary file; a server that does not
come up within ``startup_timeout`` seconds raises ``RuntimeError`` with the end of its
log. ``stop()`` ends only the process that ``start()`` launched. Nothing here imports
boto3, azure or google at import time.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, ClassVar, Self

from .web._files import FileHandler, resolve_under

__all__ = ["Azurite", "GcsEmulator", "HttpFileServer", "MotoServer", "S3rver", "SilentServer"]

_HOST = "127.0.0.1"
_STOP_GRACE_S = 5.0
_PORT_ATTEMPTS = 3
_LOG_TAIL_CHARS = 4000

#: urllib opener for our own servers on 127.0.0.1: never through an HTTP proxy from the
#: environment, and https without verification (their certificates are the test's own).
_OPENER = urllib.request.build_opener(
    urllib.request.ProxyHandler({}),
    urllib.request.HTTPSHandler(context=ssl._create_unverified_context()),  # noqa: S323
)

_AZURITE_VERSION = "3.35.0"
_AZURITE_INSTALL = f"npm install --prefix .tools azurite@{_AZURITE_VERSION}"
_S3RVER_VERSION = "3.7.1"
_S3RVER_INSTALL = f"npm install --prefix .tools s3rver@{_S3RVER_VERSION}"


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


class MotoServer(_ProcessServer):
    """S3 emulator: ``python -m moto.server`` on 127.0.0.1 and a free port.

    Parameters
    ----------
    startup_timeout : float
        Seconds to wait for the server to answer before ``RuntimeError``.
    extra_args : sequence of str
        More command-line arguments for ``moto.server``.
    tls : (certfile, keyfile), optional
        Serve https with this certificate (PEM files; it must name 127.0.0.1). Clients
        then need its CA, e.g. ``AWS_CA_BUNDLE`` for botocore.

    Attributes
    ----------
    endpoint_url : str
        ``http://127.0.0.1:PORT`` (``https://`` with `tls`); give it to s3fs/boto3 as
        ``endpoint_url``. moto accepts any credentials and signature.
    """

    _name = "moto"
    _ready_path = "/moto-api/"

    def __init__(
        self, *, startup_timeout: float = 60.0, extra_args: Sequence[str] = (),
        tls: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(startup_timeout=startup_timeout, extra_args=extra_args)
        self.tls = tls
        if tls is not None:
            self.scheme = "https"

    def _command(self, port: int) -> list[str]:
        tls = ["--ssl-cert", self.tls[0], "--ssl-key", self.tls[1]] if self.tls else []
        return [
            sys.executable,
            "-m",
            "moto.server",
            "-H",
            self.host,
            "-p",
            str(port),
            *tls,
            *self.extra_args,
        ]

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name`` (us-east-1); an existing bucket is left as it is."""
        status, body = _request("PUT", f"{self.endpoint_url}/{urllib.parse.quote(name, safe='')}")
        if status not in (200, 409):
            raise RuntimeError(
                f"moto could not create bucket {name!r}: HTTP {status}: {body[:500]!r}"
            )

    def reset(self) -> None:
        """Drop every bucket and object (``POST /moto-api/reset``)."""
        status, body = _request("POST", f"{self.endpoint_url}/moto-api/reset")
        if status != 200:
            raise RuntimeError(f"moto reset failed: HTTP {status}: {body[:500]!r}")


class GcsEmulator(_ProcessServer):
    """GCS emulator: ``gcp-storage-emulator start --in-memory`` on 127.0.0.1 and a free port.

    Parameters
    ----------
    startup_timeout : float
        Seconds to wait for the server to answer before ``RuntimeError``.
    extra_args : sequence of str
        More arguments for ``gcp-storage-emulator start``.

    Attributes
    ----------
    endpoint_url : str
        ``http://127.0.0.1:PORT``; the value for ``STORAGE_EMULATOR_HOST`` or gcsfs's
        ``endpoint_url`` (use ``token="anon"``).
    """

    _name = "gcs"
    _ready_path = "/"

    def _command(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gcp_storage_emulator",
            "start",
            "--host",
            self.host,
            "--port",
            str(port),
            "--in-memory",
            *self.extra_args,
        ]

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name``; an existing bucket is left as it is."""
        status, body = _request(
            "POST",
            f"{self.endpoint_url}/storage/v1/b",
            body=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
        )
        if status not in (200, 409):
            raise RuntimeError(
                f"GCS emulator could not create bucket {name!r}: HTTP {status}: {body[:500]!r}"
            )

    def reset(self) -> None:
        """Drop every bucket and object (``GET /wipe``)."""
        status, body = _request("GET", f"{self.endpoint_url}/wipe")
        if status != 200:
            raise RuntimeError(f"GCS emulator reset failed: HTTP {status}: {body[:500]!r}")


def _azurite_candidates() -> list[Path]:
    names = ["azurite-blob.cmd", "azurite-blob"] if os.name == "nt" else ["azurite-blob"]
    roots: list[Path] = []
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for directory in (start, *start.parents):
            if directory not in roots:
                roots.append(directory)
    return [root / ".tools" / "node_modules" / ".bin" / name for root in roots for name in names]


def _find_azurite(executable: str | os.PathLike[str] | None) -> str:
    """Locate ``azurite-blob``: argument, ``PXFS_AZURITE``, ``.tools/``, then ``PATH``."""
    choices = (
        (executable, "the executable argument"),
        (os.environ.get("PXFS_AZURITE"), "PXFS_AZURITE"),
    )
    for given, origin in choices:
        if given is None or str(given) == "":
            continue
        found = shutil.which(str(given))
        if found is None:
            raise RuntimeError(
                f"Azurite executable {str(given)!r} from {origin} does not exist "
                "or is not executable"
            )
        return found
    for candidate in _azurite_candidates():
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("azurite-blob")
    if found is not None:
        return found
    raise RuntimeError(
        "Azurite (npm package 'azurite', command 'azurite-blob') was not found: looked at the "
        "executable argument, $PXFS_AZURITE, .tools/node_modules/.bin/azurite-blob in the current "
        "directory and the pxfs checkout and their parents, and PATH. Install it in the project "
        f"root with `{_AZURITE_INSTALL}` (needs Node.js 20), or set PXFS_AZURITE to the path of "
        "azurite-blob."
    )


class Azurite(_ProcessServer):
    """Azure Blob Storage emulator: ``azurite-blob`` (in memory) on 127.0.0.1 and a free port.

    Parameters
    ----------
    executable : str or path, optional
        ``azurite-blob`` to run. Default: ``$PXFS_AZURITE``, else
        ``.tools/node_modules/.bin/azurite-blob`` in the current directory, the pxfs
        checkout or one of their parents, else ``azurite-blob`` on ``PATH``.
    startup_timeout : float
        Seconds to wait for the server to answer before ``RuntimeError``.
    extra_args : sequence of str
        More command-line arguments, e.g. ``["--loose"]``.

    Attributes
    ----------
    account_name, account_key : str
        Azurite's well-known development account and key.
    blob_endpoint : str
        ``http://127.0.0.1:PORT/devstoreaccount1``.
    connection_string : str
        A connection string with ``BlobEndpoint`` set, for adlfs or the Azure SDK.
    """

    _name = "azurite"
    _ready_path = "/devstoreaccount1?comp=list"  # answers 403 without a signature: that is "up"

    account_name: ClassVar[str] = "devstoreaccount1"
    account_key: ClassVar[str] = (
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    )

    def __init__(
        self,
        executable: str | os.PathLike[str] | None = None,
        *,
        startup_timeout: float = 60.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        super().__init__(startup_timeout=startup_timeout, extra_args=extra_args)
        self.executable = _find_azurite(executable)

    def _command(self, port: int) -> list[str]:
        # No --location: Azurite refuses it together with --inMemoryPersistence; the
        # process runs in its own temporary directory instead.
        return [
            self.executable,
            "--blobHost",
            self.host,
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
            *self.extra_args,
        ]

    @property
    def blob_endpoint(self) -> str:
        """``http://127.0.0.1:PORT/devstoreaccount1``."""
        return f"{self.endpoint_url}/{self.account_name}"

    @property
    def connection_string(self) -> str:
        """Connection string for the development account at this server."""
        return (
            "DefaultEndpointsProtocol=http;"
            f"AccountName={self.account_name};"
            f"AccountKey={self.account_key};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def _describe(self) -> str:
        return f"blob_endpoint={self.blob_endpoint!r}"

    def create_container(self, name: str) -> None:
        """Create container ``name``; an existing container is left as it is."""
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(self.connection_string, retry_total=2)
        with client:
            try:
                client.create_container(name)
            except ResourceExistsError:
                pass


def _find_s3rver(executable: str | os.PathLike[str] | None) -> str:
    """Locate ``s3rver``: argument, ``PXFS_S3RVER``, ``.tools/``, then ``PATH``."""
    for given, origin in ((executable, "the executable argument"), (os.environ.get("PXFS_S3RVER"), "PXFS_S3RVER")):
        if given is None or str(given) == "":
            continue
        found = shutil.which(str(given))
        if found is None:
            raise RuntimeError(f"s3rver executable {str(given)!r} from {origin} does not exist or is not executable")
        return found
    for candidate in _azurite_candidates():
        candidate = candidate.with_name("s3rver.cmd" if candidate.name.endswith(".cmd") else "s3rver")
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("s3rver")
    if found is not None:
        return found
    raise RuntimeError(
        "s3rver (npm package 's3rver') was not found: looked at the executable argument, $PXFS_S3RVER, "
        ".tools/node_modules/.bin/s3rver in the current directory and the pxfs checkout and their parents, "
        f"and PATH. Install it in the project root with `{_S3RVER_INSTALL}` (needs Node.js 20), or set "
        "PXFS_S3RVER to the path of s3rver."
    )


class S3rver(_ProcessServer):
    """An S3 implementation that checks SigV4 signatures: ``s3rver`` on 127.0.0.1 and a free port.

    moto accepts any signature; s3rver refuses a request or presigned URL signed with
    another secret (``403 SignatureDoesNotMatch``). Objects live in a temporary folder.

    Parameters
    ----------
    executable : str or path, optional
        ``s3rver`` to run. Default: ``$PXFS_S3RVER``, else ``.tools/node_modules/.bin/s3rver``
        in the current directory, the pxfs checkout or one of their parents, else ``PATH``.
    startup_timeout : float
        Seconds to wait for the server to answer before ``RuntimeError``.
    extra_args : sequence of str
        More command-line arguments, e.g. ``["--no-vhost-buckets"]``.

    Attributes
    ----------
    access_key_id, secret_access_key : str
        s3rver's built-in credentials (``S3RVER`` / ``S3RVER``).
    endpoint_url : str
        ``http://127.0.0.1:PORT``; path-style addressing.
    """

    _name = "s3rver"

    access_key_id: ClassVar[str] = "S3RVER"
    secret_access_key: ClassVar[str] = "S3RVER"

    def __init__(
        self,
        executable: str | os.PathLike[str] | None = None,
        *,
        startup_timeout: float = 60.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        super().__init__(startup_timeout=startup_timeout, extra_args=extra_args)
        self.executable = _find_s3rver(executable)

    def _command(self, port: int) -> list[str]:
        assert self._workdir is not None
        data = os.path.join(self._workdir, "data")
        os.makedirs(data, exist_ok=True)
        return [self.executable, "-d", data, "-a", self.host, "-p", str(port), "--silent", *self.extra_args]

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name`` (an anonymous request, which s3rver allows); an existing one is kept."""
        status, body = _request("PUT", f"{self.endpoint_url}/{urllib.parse.quote(name, safe='')}")
        if status not in (200, 409):
            raise RuntimeError(f"s3rver could not create bucket {name!r}: HTTP {status}: {body[:500]!r}")


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
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"pxfs-http-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        server, self._server = self._server, None
        thread, self._thread = self._thread, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=_STOP_GRACE_S)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        if self._server is None:
            return f"HttpFileServer(stopped, directory={str(self.directory)!r})"
        return f"HttpFileServer(url={self.url!r}, directory={str(self.directory)!r})"


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
