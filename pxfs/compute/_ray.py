"""The Ray executor: batch tasks on a Ray cluster (``pip install 'pxfs[ray]'``).

Each :class:`~._batch.BatchTask` is one Ray task of one CPU; Ray retries a task whose
worker died (``max_retries``), and the driver records what comes back.
"""

from __future__ import annotations

import concurrent.futures as cf
from typing import Any

import ray

from ..errors import ConfigError
from ._batch import BatchResult, BatchTask, run_batch

__all__ = ["RayExecutor", "from_spec"]

# ray ships untyped functions; pxfs types its own side and calls them through Any.
_ray: Any = ray
_RETRIES = 3  # attempts after a worker process or node dies


class RayExecutor:
    """Batch tasks on the Ray cluster this process is connected to."""

    def __init__(self) -> None:
        self._remote = ray.remote(num_cpus=1, max_retries=_RETRIES)(run_batch)

    def __repr__(self) -> str:
        return "RayExecutor()"

    @property
    def slots(self) -> int:
        resources: dict[str, float] = _ray.cluster_resources()
        return max(1, int(resources.get("CPU", 1)))

    def submit(self, task: BatchTask) -> cf.Future[BatchResult]:
        future: cf.Future[BatchResult] = self._remote.remote(task).future()
        return future


def from_spec(spec: Any) -> RayExecutor | None:
    """``"ray"``, ``"ray://host:port"`` or the ``ray`` module (once initialized)."""
    if spec is ray:
        if not ray.is_initialized():
            raise ConfigError("executor=ray (the module) needs ray.init() first; or pass executor='ray'")
    elif isinstance(spec, str):
        if not ray.is_initialized():
            ray.init(address=None if spec == "ray" else spec)
    else:
        return None
    return RayExecutor()
