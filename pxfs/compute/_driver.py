"""The driver's side of materialization, whatever the executor: owed cells in, records out.

Only the driver reads and writes the catalog: :func:`owed_batches` reads the owed cells a
batch at a time (one short read each), :func:`record` writes one batch's results in one
transaction. Neither is ever open while the driver waits on workers or storage.
"""

from __future__ import annotations

import sys
from typing import Any, Iterator, Sequence

from ..catalog import Catalog, ColumnMeta, TableMeta, rows
from ._batch import CellJob

__all__ = ["count_owed", "owed_batches", "progress_bar", "record"]


def owed_batches(
    catalog: Catalog, table: TableMeta, job: CellJob, rowids: Sequence[int] | None, batch_size: int
) -> Iterator[list[dict[str, Any]]]:
    """The owed cells of ``job.column`` (of `rowids` if given) in row id order, as rows of
    ``_rowid`` and the inputs' physical columns, `batch_size` at a time."""
    wanted = []
    for c in job.inputs:
        wanted.append(c.phys)
        if c.is_computed:
            wanted.append(f"{c.phys}_err")
    if rowids is not None:  # the given rows, a slice of them per read
        ids = sorted(set(rowids))
        for start in range(0, len(ids), batch_size):
            with catalog.connect() as con:
                batch = rows.owed_batch(con, table, job.column, wanted, -1, batch_size, ids[start:start + batch_size])
            if batch:
                yield batch
        return
    last = -1  # every owed cell: keyset pages by row id
    while True:
        with catalog.connect() as con:
            batch = rows.owed_batch(con, table, job.column, wanted, last, batch_size)
        if not batch:
            return
        last = batch[-1]["_rowid"]
        yield batch


def count_owed(catalog: Catalog, table: TableMeta, col: ColumnMeta) -> int:
    with catalog.connect() as con:
        return rows.count_owed(con, table, col)


def record(catalog: Catalog, table: TableMeta, col: ColumnMeta, records: Sequence[tuple[Any, ...]]) -> None:
    """Write the records of one batch in one transaction (conditional: never a cell twice)."""
    with catalog.transaction() as con:
        rows.record(con, table, col, list(records))


def progress_bar(catalog: Catalog, table: TableMeta, job: CellJob, rowids: Sequence[int] | None, progress: bool) -> Any:
    """A tqdm bar over the owed cells, shown only when `progress` and stderr is a terminal."""
    from tqdm.auto import tqdm

    total = count_owed(catalog, table, job.column) if rowids is None else None
    return tqdm(
        total=total, desc=f"{table.path}.{job.column.name}", unit="cell",
        disable=not progress or not sys.stderr.isatty() or not total,
    )
