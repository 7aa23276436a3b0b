"""Where ``materialize()`` computes: the executor seam.

An executor runs :class:`~._batch.BatchTask` units somewhere (worker processes, other
machines) and hands back each :class:`~._batch.BatchResult` as a
``concurrent.futures.Future``; the driver records the results (see :mod:`._remote`).
``threads`` is not an executor object: it is the in-process pipeline of
:mod:`._materialize`.

What ``executor=`` (argument or setting) accepts, and what it becomes:

- ``None``: the ``executor`` setting (default ``"threads"``).
- ``"threads"``: this process's thread pools.
- a ``dask.distributed.Client``; ``"dask://host:port"`` or ``"tcp://host:port"`` (a
  scheduler address; the client is made once per address and kept).
- ``"ray"``: the initialized Ray, else ``ray.init()`` (a local instance, or the cluster
  named by ``RAY_ADDRESS``); ``"ray://host:port"``: ``ray.init(address=...)``; the
  ``ray`` module itself once ``ray.init()`` was called.
- any object with the :class:`Executor` methods.

To add an engine, write a module with a class that has these methods and a row of
:data:`_ADAPTERS`. Dask and Ray are imported only when used.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import sys
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigError, MissingDependencyError
from ._batch import BatchResult, BatchTask

__all__ = ["Executor", "resolve_executor"]


@runtime_checkable
class Executor(Protocol):
    """Runs batch tasks away from the driver."""

    @property
    def slots(self) -> int:
        """How many tasks run at once (worker threads or CPUs)."""

    def submit(self, task: BatchTask) -> cf.Future[BatchResult]:
        """Start `task`; its future holds the result or the error that ended the task."""


@dataclass(frozen=True)
class _Adapter:
    module: str  # pxfs module with a `from_spec(spec) -> Executor | None`
    package: str  # what it imports
    extra: str


_ADAPTERS: dict[str, _Adapter] = {
    "dask": _Adapter("pxfs.compute._dask", "distributed", "dask"),
    "ray": _Adapter("pxfs.compute._ray", "ray", "ray"),
}
assert list(_ADAPTERS) == sorted(_ADAPTERS)


def resolve_executor(spec: Any) -> Executor | None:
    """The executor `spec` names (see the module docstring); ``None`` for threads."""
    if spec is None or spec == "threads":
        return None
    if isinstance(spec, Executor):
        return spec
    if isinstance(spec, str):
        scheme = spec.split("://", 1)[0] if "://" in spec else spec
        name = {"dask": "dask", "tcp": "dask", "tls": "dask", "ray": "ray"}.get(scheme)
        if name is None:
            raise ConfigError(
                f"executor {spec!r}: expected 'threads', a Dask scheduler address (dask://host:port, "
                "tcp://host:port), 'ray' or ray://host:port"
            )
        return _load(name, spec).from_spec(spec)  # type: ignore[no-any-return]
    for name, adapter in _ADAPTERS.items():  # objects of an engine already imported
        root = type(spec).__module__.split(".")[0]
        if getattr(spec, "__name__", None) == adapter.package or root in (adapter.package, name):
            executor = _load(name, spec).from_spec(spec)
            if executor is not None:
                return executor  # type: ignore[no-any-return]
    raise ConfigError(
        f"executor {spec!r} of type {type(spec).__name__}: expected 'threads', a dask.distributed.Client, "
        "a scheduler address, 'ray' or an object with slots and submit(task)"
    )


def _load(name: str, spec: object) -> Any:
    adapter = _ADAPTERS[name]
    if adapter.package not in sys.modules:
        try:
            importlib.import_module(adapter.package)
        except ImportError as e:
            raise MissingDependencyError(
                f"{adapter.package} is needed for executor {spec!r} but is not installed; "
                f"run: pip install 'pxfs[{adapter.extra}]'"
            ) from e
    return importlib.import_module(adapter.module)
