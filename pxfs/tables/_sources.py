"""Sources of ``create_table(source=...)``: Parquet and CSV files at any URI, and the
column types inferred from a source's Arrow types.

To read a new file format, add its extension to ``_READERS`` and a branch to
:func:`read_source` that returns a ``pyarrow.Table``.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping

from ..errors import DataError, PxfsError
from ..storage import Storage
from ..types import ColumnType, as_type
from ._ingest import Column, columns_of, is_columnar

__all__ = ["infer_schema", "read_source"]

_READERS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".csv.gz": "csv", ".tsv": "csv"}


def read_source(storage: Storage, source: Any) -> Any:
    """`source` as columnar data: a DataFrame or Arrow data as it is, a Parquet or CSV file
    (local path or any URI pxfs reads) as a ``pyarrow.Table``; DataError naming the file.

    Examples
    --------
    >>> read_source(storage, 'products.parquet').num_rows   # doctest: +SKIP
    1000
    """
    if is_columnar(source):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise DataError(
            f"source must be a pandas DataFrame, Arrow data or a .parquet / .csv file, got {type(source).__name__}"
        )
    text = os.fspath(source)
    lower = text.lower()
    kind = next((k for ext, k in _READERS.items() if lower.endswith(ext)), None)
    if kind is None:
        raise DataError(f"source {text}: cannot tell its format; name a .parquet, .csv or .tsv file")
    try:
        local = storage.localpath(text)
    except (PxfsError, OSError) as e:
        raise DataError(f"source {text}: cannot read it: {e}") from e
    import pyarrow as pa

    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(local)
            index = (table.schema.pandas_metadata or {}).get("index_columns", [])
            return table.drop_columns([c for c in index if isinstance(c, str) and c in table.column_names])
        import pyarrow.csv as pcsv

        delimiter = "\t" if lower.endswith(".tsv") else ","
        return pcsv.read_csv(local, parse_options=pcsv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"source {text}: not a readable {kind} file: {e}") from e


def infer_schema(source: Any, overrides: Mapping[str, Any]) -> dict[str, ColumnType]:
    """Column types for the columns of `source`, from their Arrow types; `overrides` names
    the type of any column (media columns must be named there).

    int -> Int, float/decimal -> Float, bool -> Bool, string -> String, timestamp/date ->
    Timestamp, struct/list/map -> Json.

    Examples
    --------
    >>> infer_schema(pd.DataFrame({'img': ['a.jpg'], 'n': [1]}), {'img': pxt.Image})   # doctest: +SKIP
    {'img': pxfs.Image, 'n': pxfs.Int}
    """
    n, cols = columns_of(source)
    names = [c.name for c in cols]
    for name in overrides:
        if name not in names:
            raise DataError(
                f"schema_overrides names column {name!r}, which the source does not have; its columns are: "
                f"{', '.join(names)}"
            )
    out: dict[str, ColumnType] = {}
    for c in cols:
        if c.name in overrides:
            out[c.name] = as_type(overrides[c.name], f"schema_overrides, column {c.name!r}")
        else:
            out[c.name] = _inferred(c)
    return out


def _inferred(c: Column) -> ColumnType:
    import pyarrow.types as pt

    from .. import types

    hint = f"name its type in schema_overrides, e.g. schema_overrides={{{c.name!r}: pxt.Image}} (or pxt.Json)"
    if c.arrow is None:
        if all(v is None or isinstance(v, (dict, list)) for v in c.values()):
            return types.Json
        raise DataError(f"column {c.name!r}: cannot infer a type from its mixed values; {hint}")
    at = c.arrow.type
    if pt.is_dictionary(at):
        at = at.value_type
    checks: list[tuple[Callable[[Any], bool], ColumnType]] = [
        (pt.is_boolean, types.Bool), (pt.is_integer, types.Int), (pt.is_floating, types.Float),
        (pt.is_decimal, types.Float), (pt.is_string, types.String), (pt.is_large_string, types.String),
        (pt.is_string_view, types.String), (pt.is_timestamp, types.Timestamp), (pt.is_date, types.Timestamp),
        (pt.is_nested, types.Json),
    ]
    for check, ctype in checks:
        if check(at):
            return ctype
    if pt.is_null(at):
        raise DataError(f"column {c.name!r} holds only missing values, so its type cannot be inferred; {hint}")
    raise DataError(f"column {c.name!r}: no pxfs type for Arrow type {at}; {hint}")
