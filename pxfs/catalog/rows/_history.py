"""Which media the stored rows reference, and removing history: revert and expire.

Only these remove stored rows and columns; they return the media URIs they freed, for the
caller to remove after the commit (never while the catalog is open).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Sequence

from ...errors import CatalogError
from ...types import type_named
from .._meta import ColumnMeta, TableMeta, rows_table

__all__ = ["expire", "referenced", "retained_from", "revert", "unreferenced"]


def _media_columns(con: Any, ignore_table: str | None = None) -> list[tuple[str, str]]:
    """``(rows table, physical column)`` of every stored media column of every unpurged table."""
    return [(rows_table(t), f"c{c}") for t, c, type_name in con.execute(
        "select c.table_id, c.col_id, c.type from columns c join tables t on t.id = c.table_id "
        "where not coalesce(c.purged, false) and not coalesce(t.purged, false) and t.id <> ?",
        [ignore_table or ""]).fetchall()
        if type_named(type_name).is_media]


def referenced(con: Any) -> set[str]:
    """Every media URI any stored row references: every retained version of every table,
    dropped tables not yet purged included."""
    out: set[str] = set()
    for rows, p in _media_columns(con):
        out.update(r[0] for r in con.execute(f"select distinct {p} from {rows} where {p} is not null").fetchall())
    return out


def unreferenced(con: Any, uris: Sequence[str], ignore_table: str | None = None) -> list[str]:
    """The URIs of `uris` that no stored row references (safe to remove); the rows of
    `ignore_table` (a dropped table being purged) do not count."""
    if not uris:
        return []
    taken: set[str] = set()
    for rows, p in _media_columns(con, ignore_table):
        taken.update(r[0] for r in con.execute(
            f"select distinct {p} from {rows} where {p} in (select unnest(?::varchar[]))", [list(uris)]).fetchall())
    return [u for u in dict.fromkeys(uris) if u not in taken]


def _owned_in(con: Any, meta: TableMeta, cols: Iterable[ColumnMeta], rows_sql: str) -> list[str]:
    out: list[str] = []
    for c in cols:
        if c.is_media:
            out += [r[0] for r in con.execute(
                f"select distinct {c.phys} from {meta.rows} where ({rows_sql}) and {c.phys}_own "
                f"and {c.phys} is not null").fetchall()]
    return out


def revert(con: Any, meta: TableMeta) -> tuple[int, list[str]]:
    """Undo the latest version; returns ``(the version now latest, media URIs it freed)``."""
    v = meta.latest
    prev = con.execute("select max(version) from versions where table_id = ? and version < ?", [meta.id, v]).fetchone()[0]
    if prev is None or prev < meta.oldest:
        raise CatalogError(
            f"table {meta.path!r}: version {v} is the only version left; there is nothing to revert to "
            "(drop the table instead)"
        )
    added = [c for c in meta.stored if c.added_version == v]
    freed = _owned_in(con, meta, meta.stored, f"_v = {v}") + _owned_in(con, meta, added, "true")
    con.execute(f"delete from {meta.rows} where _v = ?", [v])
    con.execute(f"update {meta.rows} set _vdel = null where _vdel = ?", [v])
    for c in added:
        _purge_column(con, meta, c)
        con.execute("update columns set dropped_version = added_version where table_id = ? and col_id = ?",
                    [meta.id, c.col_id])
    con.execute("update columns set dropped_version = null where table_id = ? and dropped_version = ?", [meta.id, v])
    con.execute("delete from versions where table_id = ? and version = ?", [meta.id, v])
    con.execute("update tables set version = ? where id = ?", [prev, meta.id])
    return int(prev), freed


def retained_from(con: Any, table_id: str, cutoff: dt.datetime) -> int | None:
    """The oldest version to keep when versions replaced before `cutoff` expire: the newest
    version made before `cutoff` (it was current at `cutoff`); None if none was."""
    row = con.execute(
        "select max(version) from versions where table_id = ? and created < ?", [table_id, cutoff]).fetchone()
    return None if row[0] is None else int(row[0])


def expire(con: Any, meta: TableMeta, oldest: int) -> tuple[list[int], list[str]]:
    """Expire the versions of `meta`'s table before `oldest` (never the latest): remove the
    rows and columns only they saw. Returns ``(versions expired, media URIs freed)``."""
    oldest = min(oldest, meta.latest)
    if oldest <= meta.oldest:
        return [], []
    gone = [r[0] for r in con.execute(
        "select version from versions where table_id = ? and version < ? order by version", [meta.id, oldest]).fetchall()]
    dead_rows = f"_vdel is not null and _vdel <= {int(oldest)}"
    dead_cols = [c for c in meta.stored if c.dropped_version is not None and c.dropped_version <= oldest]
    live_cols = [c for c in meta.stored if c not in dead_cols]
    freed = _owned_in(con, meta, live_cols, dead_rows) + _owned_in(con, meta, dead_cols, "true")
    con.execute(f"delete from {meta.rows} where {dead_rows}")
    for c in dead_cols:
        _purge_column(con, meta, c)
    con.execute("delete from versions where table_id = ? and version < ?", [meta.id, oldest])
    con.execute("update tables set oldest = ? where id = ?", [oldest, meta.id])
    return gone, freed


def _purge_column(con: Any, meta: TableMeta, col: ColumnMeta) -> None:
    for phys, _ in col.physical_columns():
        con.execute(f"alter table {meta.rows} drop column {phys}")
    con.execute("update columns set purged = true where table_id = ? and col_id = ?", [meta.id, col.col_id])
