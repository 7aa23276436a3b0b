"""The compute layer: lazy materialization of computed columns."""

from ._materialize import CellJob, count_owed, load_input, materialize

__all__ = ["CellJob", "count_owed", "load_input", "materialize"]
