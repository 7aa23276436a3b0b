"""``moto.server`` that counts the S3 requests it serves, for requests per stored object.

Run as ``python benchmarks/_counting_moto.py -H HOST -p PORT`` (moto.server's arguments);
``GET /pxfs-bench/requests`` answers ``{"PUT": n, "GET": n, ...}`` since start (moto's own
``/moto-api/`` calls not counted). moto's request recorder would do it too, but it writes
every body into its file (base64): a gigabyte for W3 at N=10,000.
"""

from __future__ import annotations

import collections
import json
import sys
import threading
from typing import Any, Callable, Iterable

from moto import server

_counts: collections.Counter[str] = collections.Counter()
_lock = threading.Lock()
_serve = server.DomainDispatcherApplication.__call__


def _counting(self: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    if path == "/pxfs-bench/requests":
        with _lock:
            body = json.dumps(dict(_counts)).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if not path.startswith("/moto-api"):
        with _lock:
            _counts[environ.get("REQUEST_METHOD", "?")] += 1
    return _serve(self, environ, start_response)  # type: ignore[no-any-return]


if __name__ == "__main__":
    server.DomainDispatcherApplication.__call__ = _counting  # type: ignore[method-assign]
    server.main(sys.argv[1:])
