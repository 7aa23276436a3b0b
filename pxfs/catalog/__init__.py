"""The catalog layer: dirs, tables, columns, versions and rows in one DuckDB file."""

from ._db import Catalog
from ._meta import ColumnMeta, TableMeta, load_table, rows_table

__all__ = ["Catalog", "ColumnMeta", "TableMeta", "load_table", "rows_table"]
