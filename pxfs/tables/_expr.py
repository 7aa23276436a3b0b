"""Expressions: column references, image functions, media properties, predicates.

Expressions are pure data: they never do I/O. ``to_dict`` / ``expr_from_dict`` turn them
into JSON for the catalog, so a table reopened in another process still knows how to
compute its columns. To add an image function, add it to ``_image_fns.FUNCTIONS`` and a
builder method on :class:`Expr`.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..types import ColumnType, Int, String, type_named
from ..compute import _image_fns

__all__ = ["Call", "ColumnRef", "Compare", "Expr", "Literal", "Logical", "Prop", "expr_from_dict", "wrap"]

MEDIA_PROPS = ("fileurl", "url", "localpath", "errormsg", "errortype")


class Expr:
    """Base of every expression; builds bigger ones with methods and operators."""

    # -- image functions (see _image_fns) ------------------------------------------------
    def rotate(self, angle: float, expand: bool = False) -> Call:
        """Rotate counter-clockwise by `angle` degrees, as ``PIL.Image.rotate``."""
        return Call("rotate", self, [angle], {"expand": expand} if expand else {})

    def flip(self, direction: str = "horizontal") -> Call:
        """Mirror ``'horizontal'`` (left-right) or ``'vertical'`` (top-bottom)."""
        if direction not in ("horizontal", "vertical"):
            raise ValueError(f"flip(): direction must be 'horizontal' or 'vertical', got {direction!r}")
        return Call("flip", self, [direction])

    def transpose(self, method: int | str) -> Call:
        """``PIL.Image.transpose`` with a method number or name (``'ROTATE_90'``, ...)."""
        _image_fns.transpose_method(method)
        return Call("transpose", self, [method])

    def resize(self, size: tuple[int, int]) -> Call:
        """Resize to exactly ``(width, height)``."""
        return Call("resize", self, [list(_image_fns.check_size(size))])

    def crop(self, box: tuple[int, int, int, int]) -> Call:
        """Crop to ``(left, upper, right, lower)``."""
        if len(box) != 4:
            raise ValueError(f"crop(): box must be (left, upper, right, lower), got {box!r}")
        return Call("crop", self, [list(box)])

    def thumbnail(self, size: tuple[int, int]) -> Call:
        """Shrink to fit in ``(width, height)``, keeping the aspect ratio."""
        return Call("thumbnail", self, [list(_image_fns.check_size(size))])

    def convert(self, mode: str) -> Call:
        """Convert to a Pillow mode (``'L'``, ``'RGB'``, ``'RGBA'``, ...)."""
        return Call("convert", self, [mode])

    @property
    def width(self) -> Call:
        return Call("width", self)

    @property
    def height(self) -> Call:
        return Call("height", self)

    @property
    def mode(self) -> Call:
        return Call("mode", self)

    # -- media properties ----------------------------------------------------------------
    @property
    def fileurl(self) -> Prop:
        """Where the bytes are: the canonical URI in the destination's own form."""
        return Prop("fileurl", self)

    @property
    def url(self) -> Prop:
        """An http(s) URL a browser can fetch: public base, presigned, or file://."""
        return Prop("url", self)

    @property
    def localpath(self) -> Prop:
        """A local file with the bytes (remote media are fetched into the cache)."""
        return Prop("localpath", self)

    @property
    def errormsg(self) -> Prop:
        """For a computed cell that failed: the error message (else None)."""
        return Prop("errormsg", self)

    @property
    def errortype(self) -> Prop:
        """For a computed cell that failed: the exception type name (else None)."""
        return Prop("errortype", self)

    # -- predicates ----------------------------------------------------------------------
    def __eq__(self, other: object) -> Compare:  # type: ignore[override]
        return Compare("==", self, wrap(other))

    def __ne__(self, other: object) -> Compare:  # type: ignore[override]
        return Compare("!=", self, wrap(other))

    def __lt__(self, other: object) -> Compare:
        return Compare("<", self, wrap(other))

    def __le__(self, other: object) -> Compare:
        return Compare("<=", self, wrap(other))

    def __gt__(self, other: object) -> Compare:
        return Compare(">", self, wrap(other))

    def __ge__(self, other: object) -> Compare:
        return Compare(">=", self, wrap(other))

    def __and__(self, other: Expr) -> Logical:
        return Logical("and", [self, other])

    def __or__(self, other: Expr) -> Logical:
        return Logical("or", [self, other])

    def __invert__(self) -> Logical:
        return Logical("not", [self])

    def isin(self, values: list[Any] | tuple[Any, ...]) -> Compare:
        return Compare("in", self, Literal(list(values)))

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise TypeError("an expression has no truth value; combine predicates with & | ~, not and/or/not")

    # -- structure -------------------------------------------------------------------------
    def children(self) -> list[Expr]:
        return []

    def walk(self) -> Iterator[Expr]:
        yield self
        for c in self.children():
            yield from c.walk()

    def columns(self) -> set[str]:
        """Names of the columns this expression reads."""
        return {e.name for e in self.walk() if isinstance(e, ColumnRef)}

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def default_name(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        raise NotImplementedError


class ColumnRef(Expr):
    """A column of a table: ``t.img``."""

    def __init__(self, name: str, table_id: str = "", table_path: str = "") -> None:
        self.name = name
        self.table_id = table_id
        self.table_path = table_path

    def to_dict(self) -> dict[str, Any]:
        return {"col": self.name}

    def default_name(self) -> str:
        return self.name

    def describe(self) -> str:
        return self.name


class Literal(Expr):
    def __init__(self, value: Any) -> None:
        self.value = value

    def to_dict(self) -> dict[str, Any]:
        return {"lit": self.value}

    def default_name(self) -> str:
        return "literal"

    def describe(self) -> str:
        return repr(self.value)


class Call(Expr):
    """An image function applied to an expression: ``t.img.rotate(90)``."""

    def __init__(self, fn: str, arg: Expr, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None) -> None:
        if fn not in _image_fns.FUNCTIONS:
            raise ValueError(f"unknown function {fn!r}")
        self.fn = fn
        self.arg = arg
        self.args = list(args or [])
        self.kwargs = dict(kwargs or {})

    def children(self) -> list[Expr]:
        return [self.arg]

    def to_dict(self) -> dict[str, Any]:
        return {"call": self.fn, "of": self.arg.to_dict(), "args": self.args, "kwargs": self.kwargs}

    def default_name(self) -> str:
        return self.fn

    def describe(self) -> str:
        params = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        if not _image_fns.FUNCTIONS[self.fn].is_method:
            return f"{self.arg.describe()}.{self.fn}"
        return f"{self.arg.describe()}.{self.fn}({', '.join(params)})"


class Prop(Expr):
    """A media property: ``t.img.fileurl``, ``.url``, ``.localpath``, ``.errormsg``."""

    def __init__(self, prop: str, of: Expr) -> None:
        if prop not in MEDIA_PROPS:
            raise ValueError(f"unknown media property {prop!r}")
        self.prop = prop
        self.of = of

    def children(self) -> list[Expr]:
        return [self.of]

    def to_dict(self) -> dict[str, Any]:
        return {"prop": self.prop, "of": self.of.to_dict()}

    def default_name(self) -> str:
        return f"{self.of.default_name()}_{self.prop}"

    def describe(self) -> str:
        return f"{self.of.describe()}.{self.prop}"


class Compare(Expr):
    """A comparison: ``t.year > 2000``, ``t.img.fileurl == None``, ``t.n.isin([1, 2])``."""

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        self.op = op
        self.left = left
        self.right = right

    def children(self) -> list[Expr]:
        return [self.left, self.right]

    def to_dict(self) -> dict[str, Any]:
        return {"cmp": self.op, "l": self.left.to_dict(), "r": self.right.to_dict()}

    def default_name(self) -> str:
        return "predicate"

    def describe(self) -> str:
        return f"{self.left.describe()} {self.op} {self.right.describe()}"


class Logical(Expr):
    def __init__(self, op: str, args: list[Expr]) -> None:
        for a in args:
            if not isinstance(a, Expr):
                raise TypeError(f"cannot combine an expression with {a!r}")
        self.op = op
        self.args = args

    def children(self) -> list[Expr]:
        return list(self.args)

    def to_dict(self) -> dict[str, Any]:
        return {"logic": self.op, "args": [a.to_dict() for a in self.args]}

    def default_name(self) -> str:
        return "predicate"

    def describe(self) -> str:
        if self.op == "not":
            return f"~({self.args[0].describe()})"
        return f" {self.op} ".join(f"({a.describe()})" for a in self.args)


def wrap(value: Any) -> Expr:
    return value if isinstance(value, Expr) else Literal(value)


def expr_from_dict(d: dict[str, Any]) -> Expr:
    """Rebuild an expression from :meth:`Expr.to_dict` output."""
    if "col" in d:
        return ColumnRef(d["col"])
    if "lit" in d:
        return Literal(d["lit"])
    if "call" in d:
        return Call(d["call"], expr_from_dict(d["of"]), d.get("args"), d.get("kwargs"))
    if "prop" in d:
        return Prop(d["prop"], expr_from_dict(d["of"]))
    if "cmp" in d:
        return Compare(d["cmp"], expr_from_dict(d["l"]), expr_from_dict(d["r"]))
    if "logic" in d:
        return Logical(d["logic"], [expr_from_dict(a) for a in d["args"]])
    raise ValueError(f"not a serialized expression: {d!r}")


def result_type(expr: Expr, column_types: dict[str, ColumnType]) -> ColumnType:
    """The type an expression produces, given the types of the table's columns."""
    if isinstance(expr, ColumnRef):
        return column_types[expr.name]
    if isinstance(expr, Call):
        return type_named(_image_fns.FUNCTIONS[expr.fn].returns)
    if isinstance(expr, Prop):
        return String
    if isinstance(expr, Literal):
        return Int if isinstance(expr.value, int) else String
    return type_named("Bool")
