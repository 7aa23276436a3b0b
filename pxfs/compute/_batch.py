"""One batch of owed cells as a unit of work that crosses process and machine boundaries.

A :class:`BatchTask` carries everything a worker needs and nothing of the driver's
machine: the job (serialized expression, input and output columns, destination), the
rows' input values as stored in the catalog (URIs, never the driver's cache paths), the
name prefix of stored objects, and the storage configuration without credentials
(:func:`portable_config`). :func:`run_batch` fetches the inputs through the worker's own
storage and cache, computes each cell (:func:`~._cell.compute_cell`), uploads the media
results with one ``put_many``, and returns a :class:`BatchResult`: per cell, the record
the driver writes to the catalog (what was stored: URI, size, sha256; or the cell's
error). Workers never touch the catalog.

Storage clients are built once per worker process (:func:`worker_storage`, keyed by the
configuration) and reused by every task that process runs.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import os
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..catalog import ColumnMeta
from ..storage import Storage, StorageConfig
from ..storage._config import is_secret_name
from ._cell import CellTask, compute_cell

__all__ = ["BatchResult", "BatchTask", "CellJob", "fetch_inputs", "portable_config", "run_batch",
           "store_results", "worker_storage"]

_FETCHERS = 8  # inputs fetched at once by one worker

# A cell's record, as pxfs.catalog.rows.record takes it: media ``(rowid, uri, size, sha256,
# own, err, errtype)``, other values ``(rowid, value, err, errtype)``.
Record = tuple[Any, ...]


@dataclass(frozen=True)
class CellJob:
    """What to compute for one computed column: its inputs, its expression, where to store."""

    column: ColumnMeta
    inputs: tuple[ColumnMeta, ...]
    expr: dict[str, Any]  # the serialized expression, as in the catalog
    dest: str  # destination prefix for media results


@dataclass(frozen=True)
class BatchTask:
    """A batch of owed cells of one column, picklable and independent of the driver's machine.

    ``rows`` are the catalog's rows (``_rowid`` and the inputs' physical columns: URIs for
    media). ``config`` is a :func:`portable_config`: a worker finds its credentials itself.
    """

    job: CellJob
    rows: tuple[dict[str, Any], ...]
    name_prefix: str  # ``<table id>_<col id>_``, then the sha256 of the bytes
    config: StorageConfig


@dataclass(frozen=True)
class BatchResult:
    """What a worker did with a batch: the records to write, and a storage failure if any.

    Cells whose upload failed have no record (they stay owed); ``error`` is the first
    such failure, raised by the driver once the records are written.
    """

    records: tuple[Record, ...]
    error: BaseException | None = None


def fetch_inputs(storage: Storage, job: CellJob, row: dict[str, Any]) -> CellTask:
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


def store_results(
    storage: Storage, job: CellJob, batch: list[dict[str, Any]] | tuple[dict[str, Any], ...],
    results: list[tuple[str, Any]], name_prefix: str,
) -> BatchResult:
    """Upload the media results of a batch (one ``put_many``) and build its records."""
    records: list[Record] = []
    first_error: BaseException | None = None
    if job.column.is_media:
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
    return BatchResult(tuple(records), first_error)


def run_batch(task: BatchTask) -> BatchResult:
    """Fetch, compute and store one batch in this (worker) process; see the module docstring."""
    storage = worker_storage(task.config)
    with cf.ThreadPoolExecutor(min(_FETCHERS, len(task.rows) or 1), thread_name_prefix="pxfs-fetch") as pool:
        cells = list(pool.map(lambda row: fetch_inputs(storage, task.job, row), task.rows))
    results = [compute_cell(cell) for cell in cells]
    result = store_results(storage, task.job, task.rows, results, task.name_prefix)
    if result.error is not None:
        result = dataclasses.replace(result, error=_portable_error(result.error))
    return result


# -- the storage configuration a worker gets, and the storage it builds from it -------------

def portable_config(config: StorageConfig) -> StorageConfig:
    """`config` without credentials, fit to send to workers (see docs/scaling.md).

    Profiles, endpoints, the GCS key file's path and every other setting travel; secret
    values do not: the Azure key, connection string and SAS token, secret-named client
    options of S3 aliases, and a GCS key pasted in place of a file name. A worker finds
    them where the driver found them: the same profile, environment variables and key
    file on every node. The driver's cache folder does not travel either: each worker
    caches in its own ``$PXFS_HOME/cache``.
    """
    gcs = config.gcs
    if gcs.credentials_file is not None and not _looks_like_path(gcs.credentials_file):
        gcs = dataclasses.replace(gcs, credentials_file=None)
    return dataclasses.replace(
        config,
        cache_dir=_WORKER_CACHE,
        schemes={name: dataclasses.replace(
            spec, client_kwargs=_without_secrets(spec.client_kwargs), config_kwargs=_without_secrets(spec.config_kwargs),
        ) for name, spec in config.schemes.items()},
        azure=dataclasses.replace(config.azure, account_key=None, connection_string=None, sas_token=None),
        gcs=gcs,
    )


def _without_secrets(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _without_secrets(v) if isinstance(v, Mapping) else v
            for k, v in options.items() if not is_secret_name(k)}


def _looks_like_path(text: str) -> bool:
    return len(text) < 1024 and not any(c in text for c in "{}\n")


_WORKER_CACHE = Path("$PXFS_HOME/cache")  # in a portable config: each worker's own (see _local_config)
_KEEP = 4  # storages (configurations) a worker process keeps; the least recently used is closed
_storages: OrderedDict[bytes, Storage] = OrderedDict()
_storages_lock = threading.Lock()


def worker_storage(config: StorageConfig) -> Storage:
    """This process's :class:`Storage` for `config` (a :func:`portable_config`), built once.

    Credentials come from this process's environment (``AZURE_STORAGE_*``; AWS profiles and
    variables, ``GOOGLE_APPLICATION_CREDENTIALS`` are read by the providers' own clients),
    and remote inputs are cached in this machine's ``$PXFS_HOME/cache``.
    """
    key = pickle.dumps(config)
    with _storages_lock:
        storage = _storages.get(key)
        if storage is None:
            storage = _storages[key] = Storage(_local_config(config))
            while len(_storages) > _KEEP:
                _storages.popitem(last=False)[1].close()
        _storages.move_to_end(key)
    return storage


def _local_config(config: StorageConfig) -> StorageConfig:
    """`config` completed on this worker: its cache folder and its Azure credentials."""
    home = Path(os.environ.get("PXFS_HOME") or "~/.pxfs").expanduser()
    azure = config.azure
    if not (azure.account_key or azure.connection_string or azure.sas_token):
        azure = dataclasses.replace(
            azure,
            account_key=os.environ.get("AZURE_STORAGE_ACCOUNT_KEY"),
            connection_string=os.environ.get("AZURE_STORAGE_CONNECTION_STRING"),
            sas_token=os.environ.get("AZURE_STORAGE_SAS_TOKEN"),
        )
    return dataclasses.replace(config, cache_dir=home / "cache", azure=azure)


def _portable_error(error: BaseException) -> BaseException:
    """`error` if it survives pickling, else an ``OSError`` with its message."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return OSError(f"{type(error).__name__}: {error}")
