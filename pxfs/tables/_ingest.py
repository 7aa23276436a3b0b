"""Bulk ingest: rows as dicts, pandas DataFrames, Arrow tables and batches, Parquet and
CSV files, and bucket listings, all turned into one :class:`Prepared` batch.

``Table.insert`` and ``Table.insert_objects`` call :func:`prepare` and
:func:`list_objects`; ``create_table(source=...)`` reads files and infers types in
:mod:`._sources`. Scalar columns of columnar inputs go to Arrow directly, with one
type check per column (a value-by-value check only finds the first bad row); media
values become ``(column, value, "row i, column 'c'")`` items for
:func:`~pxfs.tables._media.check_many`. Nothing here writes anything.

To accept a new input kind, turn it into a ``pyarrow.Table`` (or columns of
:class:`Column`) in :func:`columns_of`.
"""

from __future__ import annotations

import fnmatch
import math
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..catalog import ColumnMeta, TableMeta
from ..errors import DataError, PxfsError
from ..storage import Listed, Storage
from ..types import ColumnType

__all__ = [
    "Prepared", "arrow_type", "columns_of", "is_columnar", "list_objects", "object_columns", "prepare",
    "prepare_columns",
]

MediaItem = tuple[ColumnMeta, Any, str]


@dataclass
class Prepared:
    """Rows ready to check and write: `n` rows, scalar columns as Arrow arrays of their
    column's type, media values to check, and the (column, row) of each media value."""

    n: int
    scalars: dict[str, Any]
    media: list[MediaItem]
    slots: list[tuple[str, int]]


def arrow_type(t: ColumnType) -> Any:
    """The Arrow type a column of type `t` is stored as (``pa.int64()`` for ``pxt.Int``)."""
    import pyarrow as pa

    return {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "VARCHAR": pa.string(),
            "TIMESTAMP": pa.timestamp("us")}[t.sql]


def is_columnar(data: Any) -> bool:
    """True for a pandas DataFrame, an Arrow table, batch, reader or Arrow stream."""
    if _is_dataframe(data):
        return True
    if data is None or isinstance(data, (dict, list, tuple, str, bytes)):
        return False
    import pyarrow as pa

    return isinstance(data, (pa.Table, pa.RecordBatch, pa.RecordBatchReader)) or hasattr(data, "__arrow_c_stream__")


# -- preparing rows ---------------------------------------------------------------------------


def prepare(meta: TableMeta, rows: Any, values: dict[str, Any]) -> Prepared:
    """Check `rows` (dicts, a DataFrame, Arrow data or an iterable of record batches) against
    the table's columns; raises DataError naming the row and column of the first bad value.

    Examples
    --------
    >>> prepare(meta, [{'img': 'photos/p0.jpg', 'year': 2021}], {}).n   # doctest: +SKIP
    1
    """
    if rows is None:
        return _prepare_dicts(meta, [values])
    if isinstance(rows, dict):
        return _prepare_dicts(meta, [{**rows, **values}])
    if values:
        raise DataError("pass rows either as a list, a DataFrame or Arrow data, or as keyword arguments, not both")
    if is_columnar(rows):
        return prepare_columns(meta, columns_of(rows))
    batch = list(rows)
    if batch and "pyarrow" in sys.modules:  # record batches exist only once pyarrow is loaded
        import pyarrow as pa

        if all(isinstance(b, pa.RecordBatch) for b in batch):
            return prepare_columns(meta, columns_of(pa.Table.from_batches(batch)))
    return _prepare_dicts(meta, batch)


def _unknown(meta: TableMeta, name: str) -> str:
    return f"table {meta.path!r} has no column {name!r}; its columns are: {', '.join(c.name for c in meta.columns)}"


def _prepare_dicts(meta: TableMeta, batch: list[Any]) -> Prepared:
    columns: dict[str, list[Any]] = {c.name: [] for c in meta.columns if not c.is_computed}
    media: list[MediaItem] = []
    slots: list[tuple[str, int]] = []
    for i, row in enumerate(batch):
        if not isinstance(row, dict):
            raise DataError(f"row {i}: expected a dict of column values, got {type(row).__name__}")
        for name in row:
            if not meta.has_column(name):
                raise DataError(f"row {i}: {_unknown(meta, name)}")
            if meta.column(name).is_computed:
                raise DataError(f"row {i}: column {name!r} is computed; it cannot be given a value")
        for name, values_of_col in columns.items():
            col = meta.column(name)
            value = row.get(name)
            where = f"row {i}, column {name!r}"
            if col.is_media:
                if value is not None:
                    media.append((col, value, where))
                    slots.append((name, i))
                continue
            try:
                values_of_col.append(col.type.check(value))
            except TypeError as e:
                raise DataError(f"{where} ({col.type.name}): {e}") from None
    # Python lists (checked above): the catalog takes them as they are, without Arrow.
    scalars = {name: vals for name, vals in columns.items() if not meta.column(name).is_media}
    return Prepared(len(batch), scalars, media, slots)


@dataclass
class Column:
    """One input column: Arrow data (None when Arrow cannot hold it) and/or Python values."""

    name: str
    arrow: Any = None
    python: list[Any] | None = None

    def values(self) -> list[Any]:
        if self.python is None:
            self.python = self.arrow.to_pylist()
        return self.python


def _is_dataframe(data: Any) -> bool:
    """A pandas DataFrame, recognised without importing pandas."""
    return type(data).__module__.split(".")[0] == "pandas" and hasattr(data, "columns") and hasattr(data, "iloc")


def _missing(v: Any) -> bool:
    """None, NaN, pandas.NA or NaT: a missing value in a pandas object column."""
    return v is None or (isinstance(v, float) and math.isnan(v)) or type(v).__name__ in ("NAType", "NaTType")


def columns_of(data: Any) -> tuple[int, list[Column]]:
    """The row count and columns of a DataFrame or Arrow data (the index of a DataFrame is
    not a column: ``df.reset_index()`` keeps it)."""
    import pyarrow as pa

    if _is_dataframe(data):
        names = list(data.columns)
        for name in names:
            if not isinstance(name, str):
                raise DataError(f"column {name!r} of the DataFrame: column names must be strings")
        _no_duplicates(names, "DataFrame")
        cols = []
        for name in names:
            series = data[name]
            try:
                arrow = pa.array(series, from_pandas=True)
            except (pa.ArrowException, TypeError, ValueError):  # mixed or non-Arrow values (PIL images)
                cols.append(Column(name, python=[None if _missing(v) else v for v in series.tolist()]))
            else:
                cols.append(Column(name, arrow=arrow))
        return len(data), cols
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    elif isinstance(data, pa.RecordBatchReader):
        data = data.read_all()
    elif not isinstance(data, pa.Table):
        data = pa.table(data)  # any Arrow stream (__arrow_c_stream__): polars, DuckDB, ...
    _no_duplicates(data.column_names, "Arrow table")
    return data.num_rows, [Column(name, arrow=data.column(name)) for name in data.column_names]


def _no_duplicates(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(f"column {name!r} appears twice in the {what}")
        seen.add(name)


def prepare_columns(meta: TableMeta, data: tuple[int, list[Column]]) -> Prepared:
    """:func:`prepare` for columns: one type check per scalar column, media values itemized."""
    import pyarrow as pa

    n, cols = data
    given = {c.name: c for c in cols}
    for name in given:
        if not meta.has_column(name):
            raise DataError(f"column {name!r}: {_unknown(meta, name)}")
        if meta.column(name).is_computed:
            raise DataError(f"column {name!r} is computed; it cannot be given a value")
    scalars: dict[str, Any] = {}
    media: list[MediaItem] = []
    slots: list[tuple[str, int]] = []
    for col in meta.columns:
        if col.is_computed:
            continue
        source = given.get(col.name)
        if col.is_media:
            if source is not None:
                for i, value in enumerate(source.values()):
                    if value is not None:
                        media.append((col, value, f"row {i}, column {col.name!r}"))
                        slots.append((col.name, i))
        elif source is None:
            scalars[col.name] = pa.nulls(n, type=arrow_type(col.type))
        else:
            scalars[col.name] = _scalar_column(col, source)
    return Prepared(n, scalars, media, slots)


def _compatible(t: ColumnType, at: Any) -> bool:
    """Whether Arrow type `at` converts to column type `t` as a whole (no value-by-value check)."""
    import pyarrow.types as pt

    if t.name == "Int":
        return bool(pt.is_integer(at))
    if t.name == "Float":
        return bool(pt.is_integer(at) or pt.is_floating(at) or pt.is_decimal(at))
    if t.name == "Bool":
        return bool(pt.is_boolean(at))
    if t.name == "String":
        return bool(pt.is_string(at) or pt.is_large_string(at) or pt.is_string_view(at))
    if t.name == "Timestamp":
        return bool(pt.is_timestamp(at) or pt.is_date(at))
    return False  # Json: every value is serialized, as for dict rows


def _scalar_column(col: ColumnMeta, source: Column) -> Any:
    """`source` as an Arrow array of `col`'s type; DataError naming the first bad row."""
    import pyarrow as pa
    import pyarrow.types as pt

    target = arrow_type(col.type)
    arr = source.arrow
    if arr is not None and pt.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if arr is not None and pt.is_null(arr.type):
        return pa.nulls(len(arr), type=target)
    if arr is not None and _compatible(col.type, arr.type):
        try:
            # Timestamps: nanoseconds are cut to the catalog's microseconds.
            return arr.cast(target, safe=not pt.is_timestamp(arr.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # a value that does not fit (uint64 over 2**63): find it below
    hint = ""
    if arr is not None and col.type.name == "Int" and pt.is_floating(arr.type):
        hint = " (a pandas integer column with missing values is float: use dtype 'Int64')"
    checked = []
    for i, value in enumerate(source.values()):
        try:
            checked.append(col.type.check(value))
        except TypeError as e:
            raise DataError(f"row {i}, column {source.name!r} ({col.type.name}): {e}{hint}") from None
    try:
        return pa.array(checked, type=target)
    except (pa.ArrowInvalid, OverflowError):
        for i, value in enumerate(checked):
            try:
                pa.array([value], type=target)
            except (pa.ArrowInvalid, OverflowError):
                raise DataError(
                    f"row {i}, column {source.name!r} ({col.type.name}): {value!r:.60} is out of range for {target}"
                ) from None
        raise


# -- listings for insert_objects -------------------------------------------------------------------


def list_objects(storage: Storage, prefix: str | os.PathLike[str], pattern: str | None) -> tuple[str, list[Listed]]:
    """(the folder's URI, the objects below it matching `pattern`); DataError naming the prefix
    if it cannot be listed or nothing matches.

    Examples
    --------
    >>> list_objects(storage, 's3://photos/2024/', '*.jpg')   # doctest: +SKIP
    ('s3://photos/2024', [Listed(uri='s3://photos/2024/a.jpg', size=1234, etag='9b2c...'), ...])
    """
    text = os.fspath(prefix)
    try:
        loc = storage.location(text)
        objects = storage.list_objects(loc)
    except (PxfsError, OSError) as e:
        raise DataError(f"cannot list {text}: {e}") from e
    head = loc.uri.rstrip("/") + "/"
    if pattern is not None:
        objects = [o for o in objects if fnmatch.fnmatchcase(o.uri[len(head):], pattern)]
    if not objects:
        matching = f" matching {pattern!r}" if pattern is not None else ""
        raise DataError(f"{text}: no objects{matching} found there; check the prefix (and the pattern)")
    return loc.uri.rstrip("/"), objects


def object_columns(
    folder: str, objects: list[Listed], column: str, key_column: str | None,
    values: Callable[[str], Mapping[str, Any]] | None,
) -> tuple[int, list[Column]]:
    """Columns for one row per listed object: `column` holds its URI, `key_column` its path
    below `folder`, and `values(uri)` gives the other columns."""
    import pyarrow as pa

    cols = [Column(column, arrow=pa.array([o.uri for o in objects], type=pa.string()))]
    if key_column is not None:
        cut = len(folder) + 1
        cols.append(Column(key_column, arrow=pa.array([o.uri[cut:] for o in objects], type=pa.string())))
    if values is not None:
        extra: dict[str, list[Any]] = {}
        for i, o in enumerate(objects):
            got = values(o.uri)
            if not isinstance(got, Mapping):
                raise DataError(f"row {i} ({o.uri}): values() must return a dict of column values, "
                                f"got {type(got).__name__}")
            for name, value in got.items():
                if name in (column, key_column):
                    raise DataError(f"row {i} ({o.uri}): values() gives column {name!r}, which the listing fills")
                extra.setdefault(name, [None] * len(objects))[i] = value
        cols.extend(Column(name, python=vals) for name, vals in extra.items())
    return len(objects), cols
