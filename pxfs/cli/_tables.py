"""``pxfs materialize``, ``verify``, ``gc`` and ``config``: compute, check and clean up."""

from __future__ import annotations

import argparse
import os
import sys

from ._common import Command, get_session, non_negative_float, positive_int

__all__ = ["add_commands"]


def add_commands(command: Command) -> None:
    """Register this module's commands with the parser."""
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
    p.add_argument("--concurrency", type=positive_int, default=16, metavar="N",
                   help="objects checked one by one at once (default 16)")
    p.add_argument("--list-min", type=positive_int, default=8, metavar="N",
                   help="list a folder (one request per 1,000 keys) when the table references at least N "
                   "objects in it; fewer are checked one request each (default 8)")

    p = command("gc", _cmd_gc, "expire old versions and delete media no retained version references",
                "Expire versions replaced more than version_retention_days ago, finish removing the media "
                "of dropped tables, then find objects this catalog wrote (named <table id>_<column id>_"
                "<hash>.<ext> with one of its table ids) under the prefixes pxfs writes to ($PXFS_HOME/media, "
                "input_media_dest, output_media_dest, every column destination) that no retained version "
                "references. Prints what it would do and why, and what it keeps; changes nothing without "
                "--apply. Objects of other catalogs, temporary files and other names are never touched.")
    p.add_argument("--apply", action="store_true", help="delete the objects listed")
    p.add_argument("--min-age", type=non_negative_float, default=3600.0, metavar="SECONDS",
                   help="skip objects younger than this, which a running insert or materialize may "
                        "be about to record (default 3600)")

    command("config", _cmd_config, "show the resolved configuration",
            "Print every setting with its value and where the value came from (pxfs.init, a "
            "PXFS_* variable, config.toml, default). Secrets are masked.")


def _cmd_materialize(args: argparse.Namespace) -> int:
    import pxfs as pxt

    t = pxt.get_table(args.table)
    n = t.materialize(args.column, show_progress=True, executor=args.executor)
    print(f"{t.path}: computed {n} cell(s)")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    import pxfs as pxt

    from ..catalog import rows
    from ..fs._verify import verify_table

    t = pxt.get_table(args.table)
    with get_session().catalog.connect() as con:
        meta = rows.load_table(con, t.path)
        assert meta is not None
    report = verify_table(meta, lambda p: print(f"{p.kind:<10}  {p.text}", flush=False),
                          concurrency=args.concurrency, list_min=args.list_min)
    print(report.summary())
    return 0 if report.ok else 1


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


def _cmd_config(args: argparse.Namespace) -> int:
    env = get_session().env
    rows = [("home", str(env.home), "PXFS_HOME" if os.environ.get("PXFS_HOME") else "default")]
    rows += [(k, v, s) for k, v, s in env.describe()]
    kw = max(len(r[0]) for r in rows)
    vw = min(60, max(len(r[1]) for r in rows))
    for key, value, source in rows:
        print(f"{key:<{kw}}  {value or '-':<{vw}}  {source}")
    return 0
