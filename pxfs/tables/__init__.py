"""The tables layer: Table, queries, expressions, results."""

from ._catalog_api import create_dir, create_table, drop_dir, drop_table, get_table, list_dirs, list_tables
from ._expr import Expr
from ._gc import GcReport, gc
from ._query import Query
from ._resultset import ResultSet
from ._table import Table, UpdateStatus

__all__ = [
    "Expr", "GcReport", "Query", "ResultSet", "Table", "UpdateStatus", "create_dir", "create_table", "drop_dir",
    "drop_table", "gc", "get_table", "list_dirs", "list_tables",
]
