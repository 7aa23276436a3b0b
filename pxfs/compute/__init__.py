"""The compute layer: lazy materialization of computed columns, here or on a cluster."""

from ._batch import BatchResult, BatchTask, CellJob, run_batch
from ._cell import compute_cell, evaluate
from ._driver import count_owed
from ._executors import Executor, resolve_executor
from ._materialize import materialize

__all__ = [
    "BatchResult",
    "BatchTask",
    "CellJob",
    "Executor",
    "compute_cell",
    "count_owed",
    "evaluate",
    "materialize",
    "resolve_executor",
    "run_batch",
]
