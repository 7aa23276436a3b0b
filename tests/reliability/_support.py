"""Helpers of the reliability suite: child processes, stores seen from outside pxfs, checks.

Everything here observes pxfs from the outside, the way a user or another tool would:
objects are listed and read with boto3 or the local filesystem (never through pxfs's
storage layer), cells are listed through the documented ``pxfs://`` filesystem (which
never computes anything: ``owed`` and ``uri`` per cell), and ``pxfs verify`` / ``pxfs gc``
run through the command line's ``main``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

import pxfs as pxt

REPO = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- child processes

#: Put in front of every child script: ``ARG`` is the JSON argument, ``say`` reports an event
#: as one JSON line on stdout, ``error_of`` describes an exception for the parent.
PRELUDE = textwrap.dedent("""
    import json, os, sys, time
    ARG = json.loads(sys.argv[1])
    def say(event, **kw):
        print(json.dumps({"event": event, **kw}), flush=True)
    def error_of(e):
        import pxfs
        return {"type": type(e).__name__, "message": str(e), "pxfs": isinstance(e, pxfs.PxfsError),
                "busy": isinstance(e, pxfs.CatalogBusyError)}
""")


class Child:
    """A ``python -c`` child with this process's environment; events are JSON lines on stdout."""

    def __init__(self, script: str, arg: Any = None, env: dict[str, str] | None = None) -> None:
        self._stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty child never blocks
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PRELUDE + textwrap.dedent(script), json.dumps(arg)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
            env=dict(os.environ) if env is None else env, cwd=str(REPO),
        )
        self.events: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "text", "line": line.rstrip("\n")}
            if not isinstance(event, dict):
                event = {"event": "text", "line": line.rstrip("\n")}
            self.events.append(event)
            self._queue.put(event)
        self._queue.put(None)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_for(self, name: str | tuple[str, ...], timeout: float = 60.0) -> dict[str, Any]:
        """The next event called `name` (or any of the names given); events before it are
        kept in ``events``."""
        names = (name,) if isinstance(name, str) else name
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"child {self.pid} sent no {name!r} within {timeout:g}s\n{self.describe()}")
            try:
                event = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if event is None:
                self.proc.wait()
                raise AssertionError(f"child {self.pid} ended before {name!r}\n{self.describe()}")
            if event.get("event") in names:
                return event

    def kill(self) -> bool:
        """SIGKILL the child (only it, by pid); True if it was still running."""
        alive = self.proc.poll() is None
        if alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._close()
        return alive

    def finish(self, timeout: float = 120.0) -> int:
        """Wait for the child to end on its own; its exit code."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"child {self.pid} still running after {timeout:g}s\n{self.describe()}") from None
        self._close()
        return rc

    def _close(self) -> None:
        self._thread.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def last(self, name: str) -> dict[str, Any] | None:
        found = [e for e in self.events if e.get("event") == name]
        return found[-1] if found else None

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def describe(self) -> str:
        return (f"exit code: {self.proc.returncode}\nevents: {self.events[-20:]}\n"
                f"stderr (end):\n{self.stderr()[-4000:]}")

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        self._stderr.close()


# --------------------------------------------------------------------------- stores, from outside

@dataclass
class Store:
    """A destination prefix (local folder or moto bucket) listed and read without pxfs."""

    kind: str  # "local" or "s3"
    prefix: str  # pxfs URI of the prefix, no trailing slash
    endpoint_url: str | None = None
    _client: Any = field(default=None, repr=False)

    def sub(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def _s3(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "s3", endpoint_url=self.endpoint_url, aws_access_key_id="testing",
                aws_secret_access_key="testing", region_name="us-east-1")
        return self._client

    def objects(self) -> set[str]:
        """Every object under the prefix, as pxfs URIs (``s3://b/k``, ``file:///p``)."""
        if self.kind == "local":
            root = Path(self.prefix)
            return {f"file://{p}" for p in root.rglob("*") if p.is_file()} if root.exists() else set()
        bucket, _, key = self.prefix[len("s3://"):].partition("/")
        out: set[str] = set()
        for page in self._s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key + "/"):
            out.update(f"s3://{bucket}/{o['Key']}" for o in page.get("Contents", []))
        return out

    def read(self, uri: str) -> bytes:
        if uri.startswith("file://"):
            return Path(urllib.parse.unquote(uri[len("file://"):])).read_bytes()
        assert uri.startswith("s3://"), uri
        bucket, _, key = uri[len("s3://"):].partition("/")
        body: bytes = self._s3().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body


def normalize(uri: str) -> str:
    """A fileurl in the form :meth:`Store.objects` lists (local paths as ``file://``)."""
    if uri.startswith("/"):
        return f"file://{uri}"
    return uri


# --------------------------------------------------------------------------- sources

@dataclass
class Sources:
    """Source PNG files and their bytes, by the ``n`` value of the row that carries them."""

    paths: dict[int, Path]

    @classmethod
    def make(cls, folder: Path, ns: Iterable[int], size: tuple[int, int] = (96, 64)) -> Sources:
        """Distinct PNG files (seeded noise over a gradient: every rotation is visible)."""
        import random

        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        for n in ns:
            noise = Image.frombytes("RGB", size, random.Random(n).randbytes(size[0] * size[1] * 3))
            gradient = Image.linear_gradient("L").resize(size).convert("RGB")
            paths[n] = folder / f"src{n}.png"
            Image.blend(noise, gradient, 0.5).save(paths[n], format="PNG")
        return cls(paths)

    def rows(self, ns: Iterable[int]) -> list[dict[str, Any]]:
        return [{"img": str(self.paths[n]), "n": n} for n in ns]


def rotated_pixels(path: Path) -> tuple[str, tuple[int, int], bytes]:
    """Pillow's own ``Image.open(src).rotate(90)``."""
    with Image.open(path) as im:
        r = im.rotate(90)
        return r.mode, r.size, r.tobytes()


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.mode, im.size, im.tobytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- pxfs, as users see it

# A child that materializes ARG["table"] once the file ARG["go"] exists (so that several
# children start together); says "materialized" (with the count) or "failed" (with the error).
MATERIALIZE_ON_GO = """
import pxfs as pxt
t = pxt.get_table(ARG["table"])
say("ready")
while not os.path.exists(ARG["go"]):
    time.sleep(0.002)
t0 = time.monotonic()
try:
    n = t.materialize(show_progress=False)
except BaseException as e:
    say("failed", elapsed=time.monotonic() - t0, error=error_of(e))
else:
    say("materialized", computed=n, elapsed=time.monotonic() - t0)
say("done")
"""

_CLI = """
import contextlib, io, json, sys
from pxfs.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def cli(*commands: list[str], timeout: float = 120.0) -> list[tuple[int, str, str]]:
    """Run ``pxfs`` commands one after the other in one fresh process, as a user would run
    them after a crash: ``[(exit code, stdout, stderr), ...]``, one per command."""
    done = subprocess.run([sys.executable, "-c", _CLI, json.dumps(commands)], capture_output=True, text=True,
                          env=dict(os.environ), cwd=str(REPO), timeout=timeout, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"pxfs {commands} crashed:\n{done.stderr[-4000:]}"
    return [tuple(r) for r in json.loads(done.stdout.splitlines()[-1])]  # type: ignore[misc]


def cells(table: str, column: str) -> dict[int, dict[str, Any]]:
    """The cells of a media column by rowid, from the ``pxfs://`` listing (computes nothing)."""
    import fsspec

    fs = fsspec.filesystem("pxfs", skip_instance_cache=True)
    fs.invalidate_cache()
    entries = fs.ls(f"pxfs://{table.replace('.', '/')}/{column}", detail=True)
    return {int(e["rowid"]): e for e in entries}


def owed_rowids(table: str, column: str) -> set[int]:
    return {r for r, e in cells(table, column).items() if e["owed"]}


def referenced(table: str, columns: Iterable[str]) -> set[str]:
    """The URIs the table's cells of `columns` reference (stored cells only)."""
    out: set[str] = set()
    for col in columns:
        out.update(normalize(str(e["uri"])) for e in cells(table, col).values() if e.get("uri"))
    return out
