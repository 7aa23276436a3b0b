"""The Dask executor: batch tasks on a ``dask.distributed`` cluster (``pip install 'pxfs[dask]'``).

Each :class:`~._batch.BatchTask` is one Dask task (``Client.submit``); Dask retries a task
whose worker died on another worker, and the driver records what comes back.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from typing import Any

import distributed

from ._batch import BatchResult, BatchTask, run_batch

__all__ = ["DaskExecutor", "from_spec"]

# distributed ships untyped functions; pxfs types its own side and calls them through Any.
_Client: Any = distributed.Client
_clients: dict[str, Any] = {}  # made from an address, kept for later calls
_clients_lock = threading.Lock()


class DaskExecutor:
    """Batch tasks on the cluster of a ``distributed.Client``."""

    def __init__(self, client: Any) -> None:
        self.client: Any = client
        self._running: set[Any] = set()  # Dask cancels a task once its future is forgotten
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DaskExecutor({self.client.scheduler.address!r})"

    @property
    def slots(self) -> int:
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    def submit(self, task: BatchTask) -> cf.Future[BatchResult]:
        out: cf.Future[BatchResult] = cf.Future()
        future = self.client.submit(run_batch, task, pure=False)
        with self._lock:
            self._running.add(future)

        def done(f: Any) -> None:
            with self._lock:
                self._running.discard(f)
            try:
                out.set_result(f.result())
            except BaseException as e:  # the task's error, a lost worker (KilledWorker), a cancellation
                out.set_exception(e)

        future.add_done_callback(done)
        return out


def from_spec(spec: Any) -> DaskExecutor:
    """A client object, or a scheduler address (``dask://host:port`` means ``tcp://host:port``)."""
    if isinstance(spec, _Client):
        return DaskExecutor(spec)
    address = "tcp://" + spec.split("://", 1)[1] if spec.startswith("dask://") else spec
    with _clients_lock:
        client = _clients.get(address)
        if client is None or client.status not in ("running", "connecting"):
            client = _clients[address] = _Client(address, set_as_default=False)
    return DaskExecutor(client)
