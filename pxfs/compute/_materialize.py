"""Lazy materialization: compute the owed cells of a computed column, store, record.

A cell is owed while ``c<id>_done`` is false. :func:`materialize` finds owed cells (all,
or the given row ids), computes them in batches in a thread pool (see :mod:`._cell`),
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

from ..catalog import Catalog, ColumnMeta, TableMeta
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
            if value is not None and col.is_media:
                kind = "image" if col.type.name == "Image" else "path"
                inputs[col.name] = (kind, storage.localpath(value))
            else:
                inputs[col.name] = ("value", value)
        except Exception as e:
            inputs[col.name] = ("error", f"{type(e).__name__}: {e}")
    return job.expr, inputs, job.column.is_media


def _owed_batches(
    catalog: Catalog, table: TableMeta, job: CellJob, rowids: Sequence[int] | None, batch_size: int
) -> Iterator[list[dict[str, Any]]]:
    col = job.column
    wanted = ["_rowid"]
    for c in job.inputs:
        wanted.append(c.phys)
        if c.is_computed:
            wanted.append(f"{c.phys}_err")
    cols_sql = ", ".join(dict.fromkeys(wanted))
    owed = f"not coalesce({col.phys}_done, false) and _v <= {int(table.version)}"
    if rowids is not None:
        ids = sorted(set(rowids))
        for i in range(0, len(ids), batch_size):
            chunk = ids[i : i + batch_size]
            with catalog.connect() as con:
                rows = con.execute(
                    f"select {cols_sql} from {table.rows} where {owed} and _rowid in "
                    f"(select unnest(?::bigint[])) order by _rowid", [chunk]
                ).fetchall()
            if rows:
                yield [dict(zip(dict.fromkeys(wanted), r)) for r in rows]
        return
    last = -1
    while True:
        with catalog.connect() as con:
            rows = con.execute(
                f"select {cols_sql} from {table.rows} where {owed} and _rowid > ? order by _rowid limit ?",
                [last, batch_size],
            ).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield [dict(zip(dict.fromkeys(wanted), r)) for r in rows]


def count_owed(catalog: Catalog, table: TableMeta, col: ColumnMeta) -> int:
    with catalog.connect() as con:
        return int(con.execute(
            f"select count(*) from {table.rows} where not coalesce({col.phys}_done, false) and _v <= ?",
            [table.version],
        ).fetchone()[0])


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
    """Mark the cells of `records` done, with their values, in one conditional UPDATE.

    The values go to DuckDB as list parameters (``unnest`` zips them into rows): no Arrow
    table to build, and no pandas import, which pyarrow's ``pa.array`` triggers (~0.25 s).
    """
    p = col.phys
    if col.is_media:
        names = ["_rowid", "uri", "size", "hash", "own", "err", "errtype"]
        types = ["bigint", "varchar", "bigint", "varchar", "boolean", "varchar", "varchar"]
        sets = f"{p} = u.uri, {p}_size = u.size, {p}_hash = u.hash, {p}_own = u.own, "
    else:
        names = ["_rowid", "val", "err", "errtype"]
        types = ["bigint", col.type.sql.lower(), "varchar", "varchar"]
        sets = f"{p} = u.val, "
    columns = [list(values) for values in zip(*records)]
    source = ", ".join(f"unnest(?::{t}[]) as {n}" for n, t in zip(names, types))
    with catalog.transaction() as con:
        con.execute(
            f"update {table.rows} set {sets}{p}_done = true, {p}_err = u.err, {p}_errtype = u.errtype "
            f"from (select {source}) u where {table.rows}._rowid = u._rowid "
            f"and not coalesce({table.rows}.{p}_done, false)",
            columns,
        )
