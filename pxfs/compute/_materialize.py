"""Lazy materialization: compute the owed cells of a computed column, store, record.

A cell is owed until it is recorded. :func:`materialize` finds the owed cells of the
table's version (all, or of the given row ids) through :mod:`pxfs.catalog.rows` and
hands them to an executor: Dask or Ray (see :mod:`._executors` and :mod:`._remote`), or,
by default, this process. Here it computes them in batches in a thread pool (see :mod:`._cell`),
uploads media results with the storage layer's batch ``put`` while the next batches
compute, and records each batch in one catalog transaction. A failing cell records its
error type and message and the rest go on; a storage failure is raised after the batches
before it were recorded (a batch already uploading beside it is recorded too, so none of
the objects it wrote is left unreferenced).
Recording is conditional (``where not done``), so two processes never record a cell twice
and, since media names are content hashes, they write the same object if they race.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections import deque
from typing import Any, Sequence

from ..catalog import Catalog, TableMeta
from ..storage import Storage
from ._batch import CellJob, fetch_inputs, store_results
from ._cell import compute_cell
from ._driver import owed_batches, progress_bar, record
from ._executors import Executor

__all__ = ["materialize"]

_AHEAD = 2  # batches computed ahead of the one uploading
_UPLOADS = 2  # batches uploading (and recording) at once


def materialize(
    catalog: Catalog,
    storage: Storage,
    table: TableMeta,
    job: CellJob,
    rowids: Sequence[int] | None = None,
    *,
    batch_size: int = 64,
    workers: int | None = None,
    progress: bool = False,
    name_prefix: str = "",
    executor: Executor | None = None,
) -> int:
    """Compute and record the owed cells of ``job.column`` (only `rowids` if given).

    In this process's thread pools, or on `executor` (see :mod:`._executors`; `workers`
    is then the executor's). Returns the number of cells computed (failed cells included).
    """
    if executor is not None:
        from ._remote import materialize_on

        return materialize_on(
            executor, catalog, storage.config, table, job, rowids,
            batch_size=batch_size, progress=progress, name_prefix=name_prefix,
        )
    bar = progress_bar(catalog, table, job, rowids, progress)
    workers = workers or max(2, os.cpu_count() or 2)
    done = 0
    storage_error: BaseException | None = None
    # A pipeline: up to _AHEAD batches compute (threads: Pillow releases the GIL while it
    # decodes and encodes) while up to _UPLOADS batches upload and record, so neither
    # the end of one batch's uploads nor its catalog transaction stalls the next batch.
    # Memory stays bounded by (_AHEAD + _UPLOADS) batches whatever the number of cells.
    pool = cf.ThreadPoolExecutor(workers, thread_name_prefix="pxfs-compute")
    fetcher = cf.ThreadPoolExecutor(8, thread_name_prefix="pxfs-fetch")
    uploader = cf.ThreadPoolExecutor(_UPLOADS, thread_name_prefix="pxfs-upload")
    with pool, fetcher, uploader, catalog.held():
        computing: deque[tuple[list[dict[str, Any]], list[cf.Future[tuple[str, Any]]]]] = deque()
        uploading: deque[tuple[cf.Future[int], int]] = deque()

        def finish_upload() -> None:
            nonlocal done
            future, n = uploading.popleft()
            done += future.result()
            bar.update(n)

        def start_upload() -> None:
            batch, futures = computing.popleft()
            results = [f.result() for f in futures]
            while len(uploading) >= _UPLOADS:
                finish_upload()
            uploading.append((uploader.submit(
                _store_and_record, catalog, storage, table, job, batch, results, name_prefix
            ), len(batch)))

        try:
            for batch in owed_batches(catalog, table, job, rowids, batch_size):
                tasks = list(fetcher.map(lambda r: fetch_inputs(storage, job, r), batch))
                computing.append((batch, [pool.submit(compute_cell, t) for t in tasks]))
                if len(computing) > _AHEAD:
                    start_upload()
            while computing:
                start_upload()
            while uploading:
                finish_upload()
        except _StorageFailure as e:
            storage_error = e.error
            for _, futures in computing:  # batches not started stay owed
                for f in futures:
                    f.cancel()
            for future, _ in uploading:  # let batches already uploading finish and record
                try:
                    done += future.result()
                except _StorageFailure:
                    pass
        finally:
            bar.close()
    if storage_error is not None:
        raise storage_error
    return done


class _StorageFailure(Exception):
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _store_and_record(
    catalog: Catalog, storage: Storage, table: TableMeta, job: CellJob,
    batch: list[dict[str, Any]], results: list[tuple[str, Any]], name_prefix: str,
) -> int:
    result = store_results(storage, job, batch, results, name_prefix)
    if result.records:
        record(catalog, table, job.column, result.records)
    if result.error is not None:
        raise _StorageFailure(result.error)
    return len(result.records)

