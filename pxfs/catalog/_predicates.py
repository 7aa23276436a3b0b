"""Predicates and sort keys: serialized expressions (``Expr.to_dict()``) compiled to SQL
over one rows table, so that a filter means the same in ``count``, ``delete``,
``collect`` and a snapshot. A literal of the wrong type is refused here, naming the
column, before DuckDB sees it. Statements that use them live in :mod:`.rows`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from ..errors import DataError
from ._meta import ColumnMeta, TableMeta

__all__ = ["EVERYTHING", "Filter", "compile_filter", "compile_order"]

Filter = tuple[str, list[Any]]  # SQL over one rows table, and its parameters
EVERYTHING: Filter = ("true", [])

_SQL_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "Int": (int, float), "Float": (int, float), "Bool": (bool,), "String": (str,),
    "Timestamp": (dt.datetime, dt.date, str),
}


def compile_filter(meta: TableMeta, pred: dict[str, Any] | None) -> Filter:
    """SQL and parameters for a serialized predicate over `meta`'s version."""
    if pred is None:
        return EVERYTHING
    if "logic" in pred:
        parts = [compile_filter(meta, a) for a in pred["args"]]
        if pred["logic"] == "not":
            return f"not ({parts[0][0]})", parts[0][1]
        return f" {pred['logic']} ".join(f"({p[0]})" for p in parts), [x for p in parts for x in p[1]]
    if "cmp" in pred:
        op, left_d, right_d = pred["cmp"], pred["l"], pred["r"]
        left, col = _operand(meta, left_d)
        if "lit" not in right_d:
            right, _ = _operand(meta, right_d)
            return f"{left} {_SQL_OPS[op]} {right}", []
        value = right_d["lit"]
        if op == "in":
            values = list(value)
            for v in values:
                _check_literal(meta, col, left_d, v, op)
            return f"{left} in (select unnest(?))", [values]
        if value is None:
            if op not in ("==", "!="):
                raise DataError(f"{_describe(left_d)} {op} None: only == and != compare with None")
            return f"{left} is {'' if op == '==' else 'not '}null", []
        _check_literal(meta, col, left_d, value, op)
        return f"{left} {_SQL_OPS[op]} ?", [value]
    if "col" in pred and meta.column(pred["col"]).type.name == "Bool":
        return _operand(meta, pred)[0], []
    raise DataError(f"where(): {_describe(pred)} is not a predicate; compare a column, e.g. t.year > 2000")


def compile_order(meta: TableMeta, keys: Sequence[tuple[dict[str, Any], bool]]) -> Filter:
    parts = [f"{_operand(meta, k)[0]} {'asc' if asc else 'desc'} nulls last" for k, asc in keys]
    return ", ".join(parts), []


def _operand(meta: TableMeta, e: dict[str, Any]) -> tuple[str, ColumnMeta | None]:
    if "col" in e:
        col = meta.column(e["col"])
        return col.phys, col
    if "prop" in e and "col" in e["of"]:
        col = meta.column(e["of"]["col"])
        if e["prop"] == "fileurl" and col.is_media:
            return col.phys, None
        if e["prop"] in ("errormsg", "errortype"):
            if not col.is_computed:
                return "null::varchar", None
            return (f"{col.phys}_err" if e["prop"] == "errormsg" else f"{col.phys}_errtype"), None
    raise DataError(
        f"{_describe(e)} cannot be used to filter or sort; use stored columns, .fileurl or .errormsg "
        "(store computed values with add_computed_column() first)"
    )


def _check_literal(meta: TableMeta, col: ColumnMeta | None, left: dict[str, Any], value: Any, op: str) -> None:
    """A literal of the wrong type is the user's mistake: say so before DuckDB does."""
    type_name = "String" if col is None or col.is_media else col.type.name
    allowed = _PY_TYPES.get(type_name)
    if allowed is None or (isinstance(value, allowed) and not (isinstance(value, bool) and type_name != "Bool")):
        return
    raise DataError(
        f"table {meta.path!r}: {_describe(left)} {op} {value!r}: {_describe(left)} holds {type_name} values, "
        f"so compare it with {' or '.join(t.__name__ for t in allowed)}, not {type(value).__name__}"
    )


def _describe(e: dict[str, Any]) -> str:
    if "col" in e:
        return str(e["col"])
    if "prop" in e:
        return f"{_describe(e['of'])}.{e['prop']}"
    if "lit" in e:
        return repr(e["lit"])
    if "call" in e:
        return f"{_describe(e['of'])}.{e['call']}(...)"
    if "cmp" in e:
        return f"{_describe(e['l'])} {e['cmp']} {_describe(e['r'])}"
    return str(e)
