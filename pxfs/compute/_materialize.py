"""Lazy materialization: compute the owed cells of a computed column, store, record.

A cell is owed until it is recorded. :func:`materialize` finds the owed cells of the
table's version (all, or of the given row ids) through :mod:`pxfs.catalog.rows`, computes them in batches in a thread pool (see :mod:`._cell`),
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
import sys
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from ..catalog import Catalog, ColumnMeta, TableMeta, rows
from ..storage import Storage
from ._cell import CellTask, compute_cell

__all__ = ["CellJob", "materialize"]

_AHEAD = 2  # batches computed ahead of the one uploading
_UPLOADS = 2  # batches uploading (and recording) at once


@dataclass(frozen=True)
class CellJob:
    """What to compute for one computed column: its inputs, its expression, where to store."""

    column: ColumnMeta
    inputs: tuple[ColumnMeta, ...]
    expr: dict[str, Any]  # the serialized expression, as in the catalog
    dest: str  # destination prefix for media results


def _task(storage: Storage, job: CellJob, row: dict[str, Any]) -> CellTask:
    """The inputs of one cell, fetched to local files (remote media go through the cache)."""
    inputs: dict[str, tuple[str, Any]] = {}
    for col in job.inputs:
        value = row[col.phys]
        try:
            if col.is_computed and row.get(f"{col.phys}_err"):
                raise ValueError(f"input column {col.name!r} failed: {row[f'{col.phys}_err']}")
            if value is not None and col.type.name == "Image":
                inputs[col.name] = ("image", (storage.localpath(value), value))  # errors name the URI
            elif value is not None and col.is_media:
                inputs[col.name] = ("path", storage.localpath(value))
            else:
                inputs[col.name] = ("value", value)
        except Exception as e:
            inputs[col.name] = ("error", f"{type(e).__name__}: {e}")
    return job.expr, inputs, job.column.is_media


def _owed_batches(
    catalog: Catalog, table: TableMeta, job: CellJob, rowids: Sequence[int] | None, batch_size: int
) -> Iterator[list[dict[str, Any]]]:
    wanted = []
    for c in job.inputs:
        wanted.append(c.phys)
        if c.is_computed:
            wanted.append(f"{c.phys}_err")
    ids = sorted(set(rowids)) if rowids is not None else None
    last = -1
    while True:
        chunk = None
        if ids is not None:
            chunk = [i for i in ids[:batch_size]]
            ids = ids[batch_size:]
            if not chunk:
                return
        with catalog.connect() as con:
            batch = rows.owed_batch(con, table, job.column, wanted, last, batch_size, chunk)
        if batch:
            last = batch[-1]["_rowid"] if chunk is None else -1
            yield batch
        elif chunk is None:
            return


def count_owed(catalog: Catalog, table: TableMeta, col: ColumnMeta) -> int:
    with catalog.connect() as con:
        return rows.count_owed(con, table, col)


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
) -> int:
    """Compute and record the owed cells of ``job.column`` (only `rowids` if given).

    Returns the number of cells computed (failed cells included).
    """
    from tqdm.auto import tqdm

    total = count_owed(catalog, table, job.column) if rowids is None else None
    bar = tqdm(
        total=total, desc=f"{table.path}.{job.column.name}", unit="cell",
        disable=not progress or not sys.stderr.isatty() or not total,
    )
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
            for batch in _owed_batches(catalog, table, job, rowids, batch_size):
                tasks = list(fetcher.map(lambda r: _task(storage, job, r), batch))
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
    col = job.column
    records: list[tuple[Any, ...]] = []
    first_error: BaseException | None = None
    if col.is_media:
        to_upload = [(i, v) for i, (status, v) in enumerate(results) if status == "ok" and v is not None]
        stored = storage.put_many(
            [data for _, (data, _) in to_upload],
            job.dest,
            name_prefixes=name_prefix,  # then the sha256 of the bytes and the extension they sniff as
            return_exceptions=True,
        )
        by_index = dict(zip((i for i, _ in to_upload), stored))
        for i, row in enumerate(batch):
            status, value = results[i]
            if status == "err":
                records.append((row["_rowid"], None, None, None, None, value[1], value[0]))
            elif value is None:
                records.append((row["_rowid"], None, None, None, None, None, None))
            else:
                s = by_index[i]
                if isinstance(s, BaseException):
                    first_error = first_error or s
                    continue  # stays owed
                records.append((row["_rowid"], s.uri, s.size, s.sha256, True, None, None))
    else:
        for i, row in enumerate(batch):
            status, value = results[i]
            if status == "err":
                records.append((row["_rowid"], None, value[1], value[0]))
            else:
                records.append((row["_rowid"], value, None, None))
    if records:
        _record(catalog, table, col, records)
    if first_error is not None:
        raise _StorageFailure(first_error)
    return len(records)


def _record(catalog: Catalog, table: TableMeta, col: ColumnMeta, records: list[tuple[Any, ...]]) -> None:
    with catalog.transaction() as con:
        rows.record(con, table, col, records)
