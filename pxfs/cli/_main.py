"""``main``: parse the command line, run one command, print errors on one line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from typing import Callable, Sequence

from . import _browse, _serve, _tables

__all__ = ["main"]


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

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str,
                description: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help, description=description)
        p.set_defaults(func=func)
        return p

    for module in (_browse, _tables, _serve):
        module.add_commands(command)
    return parser


def _configure_logging(debug: bool) -> None:
    """Warnings of every library, and pxfs's own debug lines with ``--debug``: never the
    client libraries' debug logs, which print request headers (session tokens)."""
    level = "DEBUG" if debug else os.environ.get("PXFS_LOGGING_LEVEL", "WARNING").upper()
    logging.basicConfig(level="WARNING", format="%(name)s: %(message)s")
    logging.getLogger("pxfs").setLevel(level)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    from ..errors import PxfsError

    if isinstance(e, (OSError, PxfsError, ValueError, LookupError, ImportError)):
        return text
    return f"{type(e).__name__}: {text} (run with --debug for the traceback)"
