"""Materialize on an executor: the driver hands out batches and records what comes back.

The driver reads a batch of owed cells, submits it as a :class:`~._batch.BatchTask`, keeps
about two tasks per worker slot in flight, and records results as they arrive (one
transaction for the batches that finished together, conditional: a cell is never
recorded twice). It opens no
transaction across a wait, and lets go of its connection 0.1 s into a wait and at least
every 0.5 s (see :meth:`pxfs.catalog.Catalog.held`), so other processes read and write
the catalog throughout. A driver or worker that dies loses only the cells in flight: they stay owed,
and a rerun computes them again, writing the same objects (names are content hashes).
A task that fails (its worker died more often than the engine retries, a storage
failure) stops the submission of new batches; the batches in flight are recorded, then
the first error is raised.
"""

from __future__ import annotations

import concurrent.futures as cf
from typing import Any, Sequence

from ..catalog import Catalog, TableMeta
from ..storage import StorageConfig
from ._batch import BatchResult, BatchTask, CellJob, portable_config
from ._driver import owed_batches, progress_bar, record
from ._executors import Executor

__all__ = ["materialize_on"]

_PER_SLOT = 2  # tasks in flight per worker slot: one running, one queued behind it
_HOLD, _IDLE = 0.5, 0.1  # seconds the driver keeps the catalog open at most, and once idle


def materialize_on(
    executor: Executor, catalog: Catalog, config: StorageConfig, table: TableMeta, job: CellJob,
    rowids: Sequence[int] | None = None, *, batch_size: int = 64, progress: bool = False, name_prefix: str = "",
) -> int:
    """Compute and record the owed cells of ``job.column`` on `executor`; returns how many."""
    portable = portable_config(config)
    bar = progress_bar(catalog, table, job, rowids, progress)
    in_flight: dict[cf.Future[BatchResult], int] = {}
    done = 0
    first_error: BaseException | None = None

    def collect() -> None:
        """Wait for a task, then record every result that is in (one transaction)."""
        nonlocal done, first_error
        finished, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
        records: list[tuple[Any, ...]] = []
        for future in finished:
            n = in_flight.pop(future)
            try:
                result = future.result()
            except Exception as e:  # the task itself failed: its cells stay owed
                first_error = first_error or e
                continue
            records += result.records
            if result.error is not None:
                first_error = first_error or result.error
            bar.update(n)
        if records:
            record(catalog, table, job.column, records)
            done += len(records)

    limit = _PER_SLOT * executor.slots
    # Results arrive all the time, so the held connection is rarely idle: let go of it
    # often, for readers and writers in other processes (a reopen costs ~20-50 ms).
    with catalog.held(seconds=_HOLD, idle=_IDLE):
        try:
            for batch in owed_batches(catalog, table, job, rowids, batch_size):
                in_flight[executor.submit(BatchTask(job, tuple(batch), name_prefix, portable))] = len(batch)
                while len(in_flight) >= limit or (first_error is not None and in_flight):
                    collect()
                if first_error is not None:
                    break
            while in_flight:
                collect()
        finally:
            bar.close()
    if first_error is not None:
        raise first_error
    return done
