"""Row-wise evaluation of expressions (pure: values in, value out)."""

from __future__ import annotations

from typing import Any

from ..compute._image_fns import apply
from ..errors import DataError
from ._expr import Call, ColumnRef, Expr, Literal

__all__ = ["evaluate"]


def evaluate(expr: Expr, values: dict[str, Any]) -> Any:
    """The value of `expr` for one row; `values` maps column names to loaded inputs."""
    if isinstance(expr, ColumnRef):
        return values[expr.name]
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Call):
        arg = evaluate(expr.arg, values)
        if arg is None:
            return None
        return apply(expr.fn, arg, expr.args, expr.kwargs)
    raise DataError(f"{expr.describe()} cannot be computed per row")
