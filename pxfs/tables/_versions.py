"""History and its end: listing versions, reverting the latest, expiring old ones, and
removing the media that only removed history referenced.

Media are removed after the catalog change that freed them has committed, and only those
that no stored row of any table references any more. Removal is best effort: what could
not be removed is found again by ``pxfs gc``, whose candidates are the objects named with
one of this catalog's table ids.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from ..catalog import rows

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["Expired", "expire_table", "free_media", "history", "purge_dropped"]

logger = logging.getLogger("pxfs.tables")


@dataclass(frozen=True)
class Expired:
    """What expiring a table's old versions did."""

    table: str
    versions: tuple[int, ...]
    media_removed: int = 0


def free_media(env: Session, uris: Sequence[str]) -> int:
    """Remove the objects of `uris` that no stored row references; how many were removed.

    The catalog is read first and closed before storage is called.
    """
    if not uris:
        return 0
    try:
        with env.catalog.connect() as con:
            gone = rows.unreferenced(con, uris)
        return env.storage.rm(gone) if gone else 0
    except Exception as e:  # the catalog change stands; gc finds the rest later
        logger.warning("could not remove %d media objects (e.g. %s): %s; `pxfs gc --apply` will retry",
                       len(uris), uris[0], e)
        return 0


def cutoff(env: Session, older_than_days: float | None) -> dt.datetime:
    days = env["version_retention_days"] if older_than_days is None else older_than_days
    return dt.datetime.now() - dt.timedelta(days=float(days))


def expire_table(env: Session, table_id: str, when: dt.datetime, *, apply: bool = True) -> Expired:
    """Expire the versions of one table replaced before `when` (never the latest);
    ``apply=False`` only says which would expire."""
    with env.catalog.transaction() as con:
        meta = rows.load_table(con, table_id=table_id)
        oldest = rows.retained_from(con, table_id, when) if meta is not None else None
        if meta is None or oldest is None or oldest <= meta.oldest:
            return Expired(meta.path if meta else table_id, ())
        if not apply:
            return Expired(meta.path, tuple(v for v in sorted(rows.version_times(con, table_id)) if v < oldest))
        versions, freed = rows.expire(con, meta, oldest)
    return Expired(meta.path, tuple(versions), free_media(env, freed))


def purge_dropped(env: Session, table_id: str) -> int:
    """Finish dropping a table: remove the media it wrote, then forget its rows.

    If storage fails, the table stays recorded as dropped and the next call (or
    ``pxfs gc --apply``) tries again; returns the objects removed.
    """
    with env.catalog.connect() as con:
        gone = rows.unreferenced(con, rows.owned_uris(con, table_id), ignore_table=table_id)
    removed = env.storage.rm(gone) if gone else 0
    with env.catalog.transaction() as con:
        rows.purge_table(con, table_id)
    return removed


def history(env: Session, table_id: str) -> Any:
    """The versions of a table, newest first, as a ResultSet (``to_pandas()`` works)."""
    from ._resultset import ResultSet

    with env.catalog.connect() as con:
        items = rows.history(con, table_id)
    names = ["version", "created", "change", "rows"]
    return ResultSet(names, {n: [item[i] for item in items] for i, n in enumerate(names)})
