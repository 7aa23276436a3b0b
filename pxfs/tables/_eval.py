"""Row-wise evaluation of expressions (pure: values in, value out)."""

from __future__ import annotations

from typing import Any

from ..compute import evaluate as evaluate_serialized
from ..errors import DataError
from ._expr import Call, ColumnRef, Expr, Literal

__all__ = ["evaluate"]


def evaluate(expr: Expr, values: dict[str, Any]) -> Any:
    """The value of `expr` for one row; `values` maps column names to loaded inputs."""
    if not all(isinstance(e, (Call, ColumnRef, Literal)) for e in expr.walk()):
        raise DataError(f"{expr.describe()} cannot be computed per row")
    return evaluate_serialized(expr.to_dict(), values)
