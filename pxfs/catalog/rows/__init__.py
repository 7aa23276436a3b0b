"""The rows layer: every statement on ``rows_<id>`` and on the tables, columns and versions
bookkeeping. Nothing else in pxfs writes SQL against them.

Versions are immutable (see :mod:`._meta` for the layout): an insert adds rows stamped
with the new version, a delete stamps rows with the version that deleted them, dropping a
column stamps the column. Only :func:`expire` and :func:`revert` remove stored data, and
they return the media URIs they freed, for the caller to remove after the commit (never
while the catalog is open: see :func:`unreferenced`).

Predicates and sort keys arrive compiled by :mod:`.._predicates` (re-exported here), so a
filter means the same thing in ``count``, ``delete``, ``collect`` and a Parquet snapshot.

Modules: :mod:`._sql` rows of a version, :mod:`._tables` tables, versions and columns,
:mod:`._cells` computed and media cells and snapshots, :mod:`._history` references,
revert and expire.
"""

from .._predicates import EVERYTHING, Filter, compile_filter, compile_order
from ._cells import (
    cells, count_owed, fingerprint, media_prefixes, owed_batch, owed_rowids, record, snapshot, snapshot_page,
)
from ._history import expire, referenced, retained_from, revert, unreferenced
from ._sql import count, fetch, insert, page, select, soft_delete, visible
from ._tables import (
    add_column, create_table, destinations, drop_column, history, load_table, mark_dropped, new_version,
    owned_uris, purge_table, table_ids, tables_to_purge, version_times,
)

__all__ = [
    "EVERYTHING", "Filter", "add_column", "cells", "compile_filter", "compile_order", "count", "count_owed",
    "create_table", "destinations", "drop_column", "expire", "fetch", "fingerprint", "history", "insert",
    "load_table", "mark_dropped", "media_prefixes", "new_version", "owed_batch", "owed_rowids", "owned_uris",
    "page", "purge_table", "record", "referenced", "retained_from", "revert", "select", "snapshot",
    "snapshot_page", "soft_delete", "table_ids", "tables_to_purge", "unreferenced", "version_times", "visible",
]
