"""The catalog layer: dirs, tables, columns, versions and rows in one DuckDB file.

:mod:`.rows` holds every statement on the rows tables and the table bookkeeping,
:mod:`._dirs` the directory namespace; both take an open connection from :class:`Catalog`.
"""

from . import _dirs as dirs
from . import rows
from ._db import Catalog
from ._meta import ColumnMeta, TableMeta, rows_table

__all__ = ["Catalog", "ColumnMeta", "TableMeta", "dirs", "rows", "rows_table"]
