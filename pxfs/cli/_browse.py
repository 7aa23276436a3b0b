"""``pxfs ls``, ``pxfs info`` and ``pxfs url``: look at tables and their media."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
from typing import Any, Callable, Iterator

from ._common import Command, get_session, get_fs, positive_int
from ._where import column_of, parse_where

__all__ = ["add_commands"]


def add_commands(command: Command) -> None:
    """Register this module's commands with the parser."""
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
    p.add_argument("--expires", type=positive_int, default=3600, metavar="SECONDS",
                   help="lifetime of presigned URLs (default 3600)")


def _lookup(fs: Any, path: str, op: Callable[[str], Any]) -> Any:
    """`op(path)`; a dotted table path (``dir.table``) that names nothing is tried as ``dir/table``."""
    try:
        return op(path)
    except FileNotFoundError:
        bare = path[len("pxfs://"):] if path.startswith("pxfs://") else path
        if "/" not in bare and "." in bare and not bare.endswith(".parquet"):
            return op(bare.replace(".", "/"))
        raise


def _first_listed(entries: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """`entries` with its first item read now, so that a path naming nothing fails inside
    :func:`_lookup` (which retries ``dir.table`` as ``dir/table``)."""
    first = next(entries, None)
    return itertools.chain([] if first is None else [first], entries)


def _cmd_ls(args: argparse.Namespace) -> int:
    fs = get_fs()
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
    fs = get_fs()
    info = _lookup(fs, args.path, fs.info)
    width = max(len(k) for k in info)
    for key in ["name", *sorted(k for k in info if k != "name")]:
        value = info[key]
        shown = "-" if value is None else (value.isoformat(sep=" ", timespec="seconds")
                                           if isinstance(value, dt.datetime) else str(value))
        print(f"{key:<{width}}  {shown}")
    return 0


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
    ref = column_of(t, column)
    query = t.where(parse_where(t, args.where)) if args.where else t
    uris = query.select(uri=ref.fileurl).collect()["uri"]
    storage = get_session().storage
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
