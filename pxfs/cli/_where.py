"""The ``--where`` language of ``pxfs url``: comparisons of columns with literals, joined
by ``and`` / ``or`` / ``not`` and parentheses; parsed, never evaluated."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["column_of", "parse_where"]


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<num>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
    | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|<>|<=|>=|=|<|>)
    | (?P<paren>[()])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
    )""", re.VERBOSE)
_KEYWORDS = {"and", "or", "not", "true", "false", "null", "none"}
_PROPS = ("fileurl", "errormsg", "errortype")


def parse_where(table: Any, text: str) -> Any:
    """A predicate on `table` from ``col OP literal`` comparisons joined by and / or / not.

    A small parser, never ``eval``: operands are column names (or ``col.fileurl``,
    ``col.errormsg``, ``col.errortype``) on the left and literals on the right: numbers,
    'quoted' or "quoted" strings, true, false, null. ``and`` binds tighter than ``or``;
    parentheses group.

    Examples
    --------
    >>> parse_where(t, "year >= 2000 and (title == 'Alien' or rating > 8.5)")  # doctest: +SKIP
    """
    tokens = _tokenize(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(kind: str | None = None, value: str | None = None) -> tuple[str, str]:
        nonlocal pos
        tok = peek()
        if tok is None or (kind and tok[0] != kind) or (value and tok[1].lower() != value):
            want = value or {"name": "a column name", "op": "a comparison operator", "lit": "a literal",
                             "paren": "a parenthesis"}.get(kind or "", "more")
            got = "the end" if tok is None else repr(tok[1])
            raise ValueError(f"--where {text!r}: expected {want}, got {got}")
        pos += 1
        return tok

    def keyword(word: str) -> bool:
        tok = peek()
        return tok is not None and tok[0] == "name" and tok[1].lower() == word

    def disjunction() -> Any:
        expr = conjunction()
        while keyword("or"):
            take()
            expr = expr | conjunction()
        return expr

    def conjunction() -> Any:
        expr = negation()
        while keyword("and"):
            take()
            expr = expr & negation()
        return expr

    def negation() -> Any:
        if keyword("not"):
            take()
            return ~negation()
        tok = peek()
        if tok is not None and tok == ("paren", "("):
            take()
            expr = disjunction()
            take("paren", ")")
            return expr
        return comparison()

    def comparison() -> Any:
        _, name = take("name")
        if name.lower() in _KEYWORDS:
            raise ValueError(f"--where {text!r}: expected a column name, got {name!r}")
        column, _, prop = name.partition(".")
        operand = column_of(table, column)
        if prop:
            if prop not in _PROPS:
                raise ValueError(f"--where {text!r}: {name!r}: only {', '.join(_PROPS)} can follow a column")
            operand = getattr(operand, prop)
        _, op = take("op")
        value = literal()
        return {"==": operand.__eq__, "=": operand.__eq__, "!=": operand.__ne__, "<>": operand.__ne__,
                "<": operand.__lt__, "<=": operand.__le__, ">": operand.__gt__, ">=": operand.__ge__}[op](value)

    def literal() -> Any:
        tok = peek()
        if tok is None:
            raise ValueError(f"--where {text!r}: expected a literal, got the end")
        kind, raw = take()
        if kind == "num":
            return float(raw) if any(c in raw for c in ".eE") else int(raw)
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", raw[1:-1])
        if kind == "name" and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if kind == "name" and raw.lower() in ("null", "none"):
            return None
        raise ValueError(f"--where {text!r}: expected a literal (number, 'string', true, false, null), got {raw!r}")

    if not tokens:
        raise ValueError("--where: empty expression")
    result = disjunction()
    if pos != len(tokens):
        raise ValueError(f"--where {text!r}: unexpected {tokens[pos][1]!r}; join comparisons with and / or")
    return result


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"--where {text!r}: cannot read {text[pos:].strip()[:20]!r}")
        kind = m.lastgroup
        assert kind is not None
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


def column_of(table: Any, name: str) -> Any:
    """`table[name]`, or a DataError naming the columns there are."""
    try:
        return table[name]
    except AttributeError as e:
        from ..errors import DataError

        raise DataError(str(e)) from None
