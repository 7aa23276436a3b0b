"""Lazy materialization: compute the owed cells of a computed column, store, record.

A cell is owed while ``c<id>_done`` is false. :func:`materialize` finds owed cells (all,
or the given row ids), computes them in batches (worker processes for large runs, threads
for a few cells: see :mod:`._cell`), uploads media results
with the storage layer's batch ``put`` while the next batch computes, and records each
batch in one catalog transaction. A failing cell records its error type and message and
the rest go on; a storage failure is raised after the batches before it were recorded.
Recording is conditional (``where not done``), so two processes never record a cell twice
and, since media names are content hashes, they write the same object if they race.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import sys
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from ..catalog import Catalog, ColumnMeta, TableMeta
from ..storage import Storage
from ._cell import CellTask, compute_cell

__all__ = ["CellJob", "materialize"]


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
    # Pillow holds the GIL for much of its work, and the uploads' event loop needs it too:
    # large runs compute in worker processes, small (lazy) reads in threads.
    pool: cf.Executor = cf.ThreadPoolExecutor(workers, thread_name_prefix="pxfs-compute")
    fetcher = cf.ThreadPoolExecutor(8, thread_name_prefix="pxfs-fetch")
    with pool, fetcher, cf.ThreadPoolExecutor(1, thread_name_prefix="pxfs-upload") as uploader, \
            catalog.held():
        pending: tuple[cf.Future[int], int] | None = None
        try:
            for batch in _owed_batches(catalog, table, job, rowids, batch_size):
                tasks = list(fetcher.map(lambda r: _task(storage, job, r), batch))
                results = list(pool.map(compute_cell, tasks, chunksize=max(1, len(tasks) // (2 * workers))))
                if pending is not None:  # the previous batch uploaded while this one computed
                    done += pending[0].result()
                    bar.update(pending[1])
                pending = uploader.submit(
                    _store_and_record, catalog, storage, table, job, batch, results, name_prefix
                ), len(batch)
            if pending is not None:
                done += pending[0].result()
                bar.update(pending[1])
        except _StorageFailure as e:
            storage_error = e.error
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
    import pyarrow as pa

    p = col.phys
    if col.is_media:
        names = ["_rowid", "uri", "size", "hash", "own", "err", "errtype"]
        sets = f"{p} = u.uri, {p}_size = u.size, {p}_hash = u.hash, {p}_own = u.own, "
    else:
        names = ["_rowid", "val", "err", "errtype"]
        sets = f"{p} = u.val, "
    columns = list(zip(*records))
    arrays = []
    for name, values in zip(names, columns):
        if name == "val":
            arrays.append(pa.array(list(values), type=_arrow_type(col)))
        else:
            arrays.append(pa.array(list(values)))
    updates = pa.Table.from_arrays(arrays, names=names)
    with catalog.transaction() as con:
        con.register("u", updates)
        con.execute(
            f"update {table.rows} set {sets}{p}_done = true, {p}_err = u.err, {p}_errtype = u.errtype "
            f"from u where {table.rows}._rowid = u._rowid and not coalesce({table.rows}.{p}_done, false)"
        )
        con.unregister("u")


def _arrow_type(col: ColumnMeta) -> Any:
    import pyarrow as pa

    return {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "VARCHAR": pa.string(),
            "TIMESTAMP": pa.timestamp("us")}[col.type.sql]
