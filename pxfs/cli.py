"""The ``pxfs`` command: inspect and repair the catalog and its media from a shell.

::

    pxfs ls [PATH]                                  list pxfs:// (directories end with /)
    pxfs info PATH                                  details of a directory, table, column, file
    pxfs url TABLE.COLUMN [--where EXPR] [--expires SECONDS]
                                                    one servable URL per row
    pxfs materialize TABLE [--column C ...]         compute every owed cell
    pxfs verify TABLE                               every referenced object exists, right size
    pxfs gc [--apply] [--min-age SECONDS]           orphaned media objects: list, or delete
    pxfs config                                     resolved configuration and its sources
    pxfs serve [--port P]                           tables, galleries and local media on http://127.0.0.1:P

Every command is thin over the public API and ``pxfs://`` (:mod:`pxfs.fs`). Errors print
one line and exit 1 (2 for a bad command line); ``--debug`` adds the traceback.
To add a command, write ``_cmd_<name>(args) -> int`` and its parser in :func:`_parser`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import logging
import os
import posixpath
import re
import sys
import time
import traceback
import urllib.parse
from typing import Any, Callable, Iterator, Sequence

__all__ = ["main", "parse_where"]

logger = logging.getLogger("pxfs.cli")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pxfs`` command line with `argv` (default ``sys.argv[1:]``); returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error (2): argparse has printed why
        return e.code if isinstance(e.code, int) else 2
    debug = bool(getattr(args, "debug", False))
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    _configure_logging(debug)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `pxfs ls | head`
        return 0
    except Exception as e:  # one line for the user; the traceback only with --debug
        if debug:
            traceback.print_exc()
        print(f"pxfs {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return 1


# -- argument parsing -----------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an error and debug logging")
    parser = argparse.ArgumentParser(
        prog="pxfs", parents=[common],
        description="Inspect and repair pxfs tables and their media. Paths are pxfs:// paths "
                    "(dir/table/column/<rowid>.<ext>); tables are catalog paths (dir.table).",
        epilog="Configuration comes from $PXFS_HOME/config.toml and PXFS_* variables (see `pxfs config`).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str, description: str) -> Any:
        p = sub.add_parser(name, parents=[common], help=help, description=description)
        p.set_defaults(func=func)
        return p

    p = command("ls", _cmd_ls, "list a pxfs:// directory, table or column",
                "List pxfs://PATH: the root holds directories and tables (each table also as "
                "TABLE.parquet), a table holds its columns, a media column one file per row "
                "(<rowid>.<ext>). Nothing is computed: owed cells show size '-'.")
    p.add_argument("path", nargs="?", default="", metavar="PATH", help="pxfs path (default: the root)")
    p.add_argument("-l", "--long", action="store_true", help="show type, size and time of each entry")

    p = command("info", _cmd_info, "details of a pxfs:// path",
                "Print the info dictionary of pxfs://PATH (name, size, type, and table, version, "
                "column, rowid, uri, owed where they apply). The size of TABLE.parquet is known "
                "only by building it, which computes owed cells; the size of an owed cell is '-'.")
    p.add_argument("path", metavar="PATH", help="pxfs path, e.g. dir/table/img/3.jpg or dir/table.parquet")

    p = command("url", _cmd_url, "servable URLs of a media column, one per line",
                "Print an http(s) URL a browser can GET for each row's media in TABLE.COLUMN "
                "([pxfs.public_urls] base, else presigned, else file:// for local files). Owed "
                "cells of the rows printed are computed first.")
    p.add_argument("target", metavar="TABLE.COLUMN", help="e.g. demo.films.poster")
    p.add_argument("--where", metavar="EXPR",
                   help="only rows matching EXPR: comparisons `col OP literal` (OP: == != < <= > >=) "
                        "joined by and / or / not and parentheses, e.g. \"year >= 2000 and title != 'x'\"")
    p.add_argument("--expires", type=_positive_int, default=3600, metavar="SECONDS",
                   help="lifetime of presigned URLs (default 3600)")

    p = command("materialize", _cmd_materialize, "compute every owed cell of a table",
                "Compute the owed cells of TABLE's computed columns (or only --column), in "
                "batches, with a progress bar on a terminal.")
    p.add_argument("table", metavar="TABLE", help="catalog path, e.g. demo.films")
    p.add_argument("--column", action="append", metavar="C", help="only this computed column (repeatable)")
    p.add_argument("--executor", metavar="E",
                   help="threads (default: the executor setting), a Dask scheduler address "
                        "(tcp://host:8786), or ray / ray://host:10001 (see docs/scaling.md)")

    p = command("verify", _cmd_verify, "check that every media object a table references exists",
                "Check every media object TABLE references: it exists and has the size recorded "
                "at insert, by listing each folder once. Lists what is missing or wrong and exits 1 "
                "if anything is.")
    p.add_argument("table", metavar="TABLE", help="catalog path, e.g. demo.films")
    p.add_argument("--concurrency", type=_positive_int, default=16, metavar="N",
                   help="objects checked one by one at once (default 16)")
    p.add_argument("--list-min", type=_positive_int, default=8, metavar="N",
                   help="list a folder (one request per 1,000 keys) when the table references at least N "
                   "objects in it; fewer are checked one request each (default 8)")

    p = command("gc", _cmd_gc, "list (or delete) media objects no table references",
                "Find objects pxfs wrote (named <table id>_<column id>_<hash>.<ext>, and leftover "
                ".pxfs-* temporary and probe files) under the prefixes pxfs writes to ($PXFS_HOME/media, "
                "input_media_dest, output_media_dest, every column destination) that no row of any "
                "table references. Lists them; deletes them only with --apply. Other objects are "
                "never touched.")
    p.add_argument("--apply", action="store_true", help="delete the objects listed")
    p.add_argument("--min-age", type=_non_negative_float, default=3600.0, metavar="SECONDS",
                   help="skip objects younger than this, which a running insert or materialize may "
                        "be about to record (default 3600)")

    command("config", _cmd_config, "show the resolved configuration",
            "Print every setting with its value and where the value came from (pxfs.init, a "
            "PXFS_* variable, config.toml, default). Secrets are masked.")

    p = command("serve", _cmd_serve, "browse tables and galleries, serve local media, on http://127.0.0.1",
                "A read-only web app on 127.0.0.1: the directory tree, each table's columns, versions "
                "and row count, a paged gallery of each media column (thumbnails through .url, so "
                "local, S3, GCS and Azure media all show), every column of a row, and a button that "
                "computes the owed cells of one gallery page (its only write). It also serves the "
                "media of local destinations (GET, HEAD, byte ranges): a [pxfs.public_urls] entry that "
                "maps a local folder to http://127.0.0.1:PORT/PATH is served at /PATH, so .url of "
                "those files is an http:// URL that works; other local destinations are served at "
                "their absolute path, and the config lines that map them are printed. Ctrl-C stops.")
    p.add_argument("--port", type=int, default=None, metavar="P",
                   help="port (default: the one in [pxfs.public_urls], else 8765; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", metavar="ADDR",
                   help="address to listen on (default 127.0.0.1; pages answer only to this machine's names)")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _configure_logging(debug: bool) -> None:
    """Warnings of every library, and pxfs's own debug lines with ``--debug``: never the
    client libraries' debug logs, which print request headers (session tokens)."""
    level = "DEBUG" if debug else os.environ.get("PXFS_LOGGING_LEVEL", "WARNING").upper()
    logging.basicConfig(level="WARNING", format="%(name)s: %(message)s")
    logging.getLogger("pxfs").setLevel(level)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    from .errors import PxfsError

    if isinstance(e, (OSError, PxfsError, ValueError, LookupError, ImportError)):
        return text
    return f"{type(e).__name__}: {text} (run with --debug for the traceback)"


def _env() -> Any:
    from .env import Env

    return Env.get()


def _fs() -> Any:
    from .fs import PxfsFileSystem

    return PxfsFileSystem()


# -- ls / info ----------------------------------------------------------------------------

def _lookup(fs: Any, path: str, op: Callable[[str], Any]) -> Any:
    """`op(path)`; a dotted table path (``dir.table``) that names nothing is tried as ``dir/table``."""
    try:
        return op(path)
    except FileNotFoundError:
        bare = fs._strip_protocol(path)
        if "/" not in bare and "." in bare and not bare.endswith(".parquet"):
            return op(bare.replace(".", "/"))
        raise


def _first_listed(entries: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """`entries` with its first item read now, so that a path naming nothing fails inside
    :func:`_lookup` (which retries ``dir.table`` as ``dir/table``)."""
    first = next(entries, None)
    return itertools.chain([] if first is None else [first], entries)


def _cmd_ls(args: argparse.Namespace) -> int:
    fs = _fs()
    entries = _lookup(fs, args.path, lambda p: _first_listed(fs.ls_iter(p, detail=True)))
    for e in entries:
        name = e["name"] + ("/" if e["type"] == "directory" else "")
        if args.long:
            kind = "d" if e["type"] == "directory" else "-"
            size = "-" if e.get("size") is None else str(e["size"])
            when = e.get("mtime")
            stamp = when.strftime("%Y-%m-%d %H:%M:%S") if isinstance(when, dt.datetime) else "-"
            print(f"{kind} {size:>12} {stamp:>19}  {name}")
        else:
            print(name)
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    fs = _fs()
    info = _lookup(fs, args.path, fs.info)
    width = max(len(k) for k in info)
    for key in ["name", *sorted(k for k in info if k != "name")]:
        value = info[key]
        shown = "-" if value is None else (value.isoformat(sep=" ", timespec="seconds")
                                           if isinstance(value, dt.datetime) else str(value))
        print(f"{key:<{width}}  {shown}")
    return 0


# -- url and the --where language ---------------------------------------------------------

def _table_and_column(target: str) -> tuple[str, str]:
    text = target[len("pxfs://"):] if target.startswith("pxfs://") else target
    text = text.strip("/").replace("/", ".")
    table, _, column = text.rpartition(".")
    if not table or not column:
        raise ValueError(f"{target!r}: expected TABLE.COLUMN, e.g. demo.films.poster")
    return table, column


def _cmd_url(args: argparse.Namespace) -> int:
    import pxfs as pxt

    table_path, column = _table_and_column(args.target)
    t = pxt.get_table(table_path)
    ref = _column(t, column)
    query = t.where(parse_where(t, args.where)) if args.where else t
    uris = query.select(uri=ref.fileurl).collect()["uri"]
    storage = _env().storage
    missing = 0
    for uri in uris:
        if uri is None:
            missing += 1
            continue
        print(storage.url(uri, args.expires))
    if missing:
        print(f"pxfs url: {missing} row(s) have no media in {table_path}.{column} (null, or a failed "
              "computed cell)", file=sys.stderr)
    return 0


def _column(table: Any, name: str) -> Any:
    try:
        return table[name]
    except AttributeError as e:
        from .errors import DataError

        raise DataError(str(e)) from None


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
        operand = _column(table, column)
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


# -- materialize / verify -----------------------------------------------------------------

def _cmd_materialize(args: argparse.Namespace) -> int:
    import pxfs as pxt

    t = pxt.get_table(args.table)
    n = t.materialize(args.column, show_progress=True, executor=args.executor)
    print(f"{t.path}: computed {n} cell(s)")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    import pxfs as pxt

    from .catalog import rows
    from .fs._verify import verify_table

    t = pxt.get_table(args.table)
    with _env().catalog.connect() as con:
        meta = rows.load_table(con, t.path)
        assert meta is not None
    report = verify_table(meta, lambda p: print(f"{p.kind:<10}  {p.text}", flush=False),
                          concurrency=args.concurrency, list_min=args.list_min)
    print(report.summary())
    return 0 if report.ok else 1


# -- gc ------------------------------------------------------------------------------------

def _cmd_gc(args: argparse.Namespace) -> int:
    import pxfs as pxt

    r = pxt.gc(apply=args.apply, min_age=args.min_age)
    verb = "expired" if r.applied else "would expire"
    for e in r.expired:
        print(f"{verb} versions {', '.join(map(str, e.versions))} of {e.table} (replaced more than "
              f"version_retention_days ago){f'; {e.media_removed} object(s) removed' if e.media_removed else ''}")
    for path in r.dropped:
        print(f"{'removed the media of' if r.applied else 'would remove the media of'} dropped table {path}")
    for uri, size, why in r.orphans:
        print(f"{'-' if size is None else size:>12}  {uri}  ({why})")
    total = sum(s for _, s, _ in r.orphans if s)
    for why, n in sorted(r.skipped.items()):
        print(f"kept {n} object(s): {why}")
    for err in r.errors:
        print(f"pxfs gc: {err}", file=sys.stderr)
    if r.applied and (r.orphans or r.dropped):
        print(f"deleted {r.removed} orphaned object(s), {total} bytes, under {r.prefixes} prefix(es)")
    elif r.orphans:
        print(f"{len(r.orphans)} orphaned object(s), {total} bytes, under {r.prefixes} prefix(es); "
              "run `pxfs gc --apply` to delete them")
    else:
        print(f"no orphaned objects under {r.prefixes} prefix(es)")
    return 1 if r.errors else 0


# -- config ----------------------------------------------------------------------------------

def _cmd_config(args: argparse.Namespace) -> int:
    env = _env()
    rows = [("home", str(env.home), "PXFS_HOME" if os.environ.get("PXFS_HOME") else "default")]
    rows += [(k, v, s) for k, v, s in env.describe()]
    kw = max(len(r[0]) for r in rows)
    vw = min(60, max(len(r[1]) for r in rows))
    for key, value, source in rows:
        print(f"{key:<{kw}}  {value or '-':<{vw}}  {source}")
    return 0


# -- serve -------------------------------------------------------------------------------------

def _cmd_serve(args: argparse.Namespace) -> int:
    from .web import make_server

    env = _env()
    server, routes, unmapped = make_server(env, args.port, args.host)
    base = f"http://{args.host}:{server.server_address[1]}"
    print(f"serving local media on {base} (Ctrl-C to stop)")
    for prefix, folder in routes:
        print(f"  {base}{prefix} -> {folder}")
    if unmapped:
        print(f"so that .url gives these addresses, add to {env.config_file}:")
        print("[pxfs.public_urls]")
        for folder in unmapped:
            print(f'"{folder}" = "{base}{urllib.parse.quote(folder.as_posix())}"')
    print(f"tables and galleries: {base}/")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
