"""Row-wise evaluation of expressions (pure: values in, value out)."""

from __future__ import annotations

from typing import Any

from ..catalog import ColumnMeta, TableMeta
from ..compute import evaluate as evaluate_serialized
from ..errors import DataError
from ._expr import Call, ColumnRef, Expr, Literal, Prop

__all__ = ["evaluate", "media_column"]


def evaluate(expr: Expr, values: dict[str, Any]) -> Any:
    """The value of `expr` for one row; `values` maps column names to loaded inputs."""
    if not all(isinstance(e, (Call, ColumnRef, Literal)) for e in expr.walk()):
        raise DataError(f"{expr.describe()} cannot be computed per row")
    return evaluate_serialized(expr.to_dict(), values)


def media_column(meta: TableMeta, expr: Prop) -> ColumnMeta:
    """The stored media column whose property `expr` is (``t.img.fileurl``), or DataError."""
    base = expr.of
    if not isinstance(base, ColumnRef) or not meta.column(base.name).is_media:
        raise DataError(
            f"{expr.describe()}: .{expr.prop} is a property of stored media columns; "
            "store the result with add_computed_column() first"
        )
    return meta.column(base.name)
