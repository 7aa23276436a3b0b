"""Garbage collection: expire old versions, finish dropped tables, remove orphaned media.

An object is a candidate only if this catalog provably wrote it, that is its name is
``<table id>_<column id>_<hash>.<ext>`` with the id of one of this catalog's tables (live
or dropped), and no stored row references it; a local write cut short leaves
``.<that name>.<random>.pxfs-tmp``, which no row ever references and is a candidate too.
Objects named by another catalog's tables, pxfs's probe files (``.pxfs-*``, whose writer
cannot be proven) and anything else are never touched, whatever their age. Like Iceberg's ``remove_orphan_files``, objects
younger than `min_age` are kept: a running insert or materialize may be about to record
them.
"""

from __future__ import annotations

import datetime as dt
import logging
import posixpath
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..catalog import rows
from ..errors import PxfsError
from ._versions import Expired, cutoff, expire_table, purge_dropped

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["GcReport", "gc", "write_prefixes"]

logger = logging.getLogger("pxfs.gc")

_OWN = r"([0-9a-f]{12})_([0-9]+)_[0-9a-f]{32}(?:\.[A-Za-z0-9]{1,8})?"
_OWN_NAME = re.compile(rf"^{_OWN}$|^\.{_OWN}\.[A-Za-z0-9_]+\.pxfs-tmp$")


@dataclass
class GcReport:
    """What :func:`gc` found (and, with ``apply=True``, did)."""

    applied: bool
    expired: list[Expired] = field(default_factory=list)  # versions expired (or that would be)
    dropped: list[str] = field(default_factory=list)  # dropped tables whose media were (to be) removed
    orphans: list[tuple[str, int | None, str]] = field(default_factory=list)  # (uri, size, why)
    removed: int = 0
    prefixes: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> objects left alone
    errors: list[str] = field(default_factory=list)


def gc(*, apply: bool = False, min_age: float = 3600.0, session: Session | None = None) -> GcReport:
    """Find (and with `apply`, remove) what no retained version needs: versions replaced
    more than ``version_retention_days`` ago, the media of dropped tables, and orphaned
    objects this catalog wrote. Without `apply` nothing changes. ``pxfs gc`` prints it.

    Examples
    --------
    >>> report = pxt.gc()                         # doctest: +SKIP
    >>> report = pxt.gc(apply=True, min_age=0)    # doctest: +SKIP
    """
    from ..session import Session

    env = session if session is not None else Session.default()
    report = GcReport(applied=apply)
    when = cutoff(env, None)
    with env.catalog.connect() as con:
        live = list(rows.table_ids(con, live_only=True))
        dropped = rows.tables_to_purge(con)
    for table_id in live:
        done = expire_table(env, table_id, when, apply=apply)
        if done.versions:
            report.expired.append(done)
    for table_id, path in dropped:
        report.dropped.append(path)
        if apply:
            try:
                report.removed += purge_dropped(env, table_id)
            except Exception as e:
                report.errors.append(f"dropped table {path!r}: {e}")
    found = _list_candidates(env, report)
    with env.catalog.connect() as con:  # after listing: a row recorded meanwhile is seen
        ours = rows.table_ids(con)
        referenced = {_canonical(env, u) for u in rows.referenced(con)}
    now = time.time()
    for uri, size, when_written, table_id in found:
        if table_id not in ours:
            report.skipped["written by another catalog (table id not in this one)"] += 1
            continue
        if uri in referenced:
            continue
        if min_age and (when_written is None or now - when_written < min_age):
            report.skipped[f"younger than {min_age:g}s (a write may be in progress)"] += 1
            continue
        report.orphans.append((uri, size, f"written by table {ours[table_id]!r}, no retained version references it"))
    if apply and report.orphans:
        try:
            report.removed += env.storage.rm([u for u, _, _ in report.orphans])
        except Exception as e:
            report.errors.append(f"removing orphans: {e}")
    return report


def _list_candidates(env: Session, report: GcReport) -> list[tuple[str, int | None, float | None, str]]:
    """``(uri, size, written at, table id)`` of the objects named like pxfs's own under
    every prefix pxfs writes to; other names are counted as skipped."""
    found = []
    prefixes = write_prefixes(env)
    report.prefixes = len(prefixes)
    for loc in prefixes:
        fs = env.storage.filesystem(loc)
        fs.invalidate_cache(loc.path)
        try:
            entries = fs.ls(loc.path, detail=True)
        except FileNotFoundError:
            continue
        except OSError as err:
            report.errors.append(f"cannot list {loc.uri}: {err}")
            continue
        for entry in entries:
            if entry.get("type") != "file":
                continue
            name = posixpath.basename(str(entry["name"]).rstrip("/"))
            m = _OWN_NAME.match(name)
            if m is None:
                report.skipped["pxfs probe files (.pxfs-*): their writer cannot be proven"
                               if name.startswith(".pxfs-") else "not named by pxfs"] += 1
                continue
            found.append((loc.join(name).uri, entry.get("size"), _modified(entry), m.group(1) or m.group(3)))
    return found


def write_prefixes(env: Session) -> list[Any]:
    """The Locations pxfs writes media to: home media, input/output destinations, every
    column destination (of dropped tables and columns too)."""
    candidates: list[str | None] = [str(env.media_dir), env.default_input_media_dest, env.default_output_media_dest]
    with env.catalog.connect() as con:
        candidates += rows.destinations(con)
    out: dict[str, Any] = {}
    for c in candidates:
        if not c:
            continue
        try:
            loc = env.storage.location(c)
        except PxfsError as e:
            logger.warning("skipping destination %s: %s", c, e)
            continue
        if loc.kind != "http":
            out.setdefault(loc.uri.rstrip("/"), loc)
    return list(out.values())


def _modified(entry: dict[str, Any]) -> float | None:
    """Seconds since the epoch when an object was written, from any backend's listing."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "timeCreated", "created"):
        value = entry.get(key)
        if value is None:
            continue
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, dt.datetime):
            return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


def _canonical(env: Session, uri: str) -> str:
    try:
        return str(env.storage.location(uri).uri)
    except PxfsError:  # a reference pxfs cannot parse any more still protects nothing of ours
        return uri
