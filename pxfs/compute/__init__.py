"""The compute layer: lazy materialization of computed columns."""

from ._cell import compute_cell, evaluate
from ._materialize import CellJob, count_owed, materialize

__all__ = ["CellJob", "compute_cell", "count_owed", "evaluate", "materialize"]
