"""The bookkeeping of tables, versions and columns.

A version number is never reused (``last_made``); a dropped table keeps its row (and so
its id and destinations: gc's proof of which objects it wrote) until it is purged.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Sequence

from ...errors import CatalogError
from ...types import type_named
from .._meta import ColumnMeta, TableMeta, rows_table
from ._sql import visible

__all__ = [
    "add_column", "create_table", "destinations", "drop_column", "history", "load_table", "mark_dropped",
    "new_version", "owned_uris", "purge_table", "table_ids", "tables_to_purge", "version_times",
]


def load_table(con: Any, path: str | None = None, *, table_id: str | None = None,
               version: int | None = None) -> TableMeta | None:
    """The live table at `path` (or with id `table_id`), as `version` sees it (default:
    the latest); None if there is no such table. A version that does not exist (any more)
    raises :class:`CatalogError` saying which versions do."""
    where, key = ("path = ? and dropped is null", path) if table_id is None else ("id = ?", table_id)
    row = con.execute(
        f"select id, path, version, next_rowid, next_col, coalesce(last_made, version), coalesce(oldest, 1) "
        f"from tables where {where}", [key],
    ).fetchone()
    if row is None:
        return None
    table_id, path, latest, next_rowid, next_col, last_made, oldest = row
    if version is not None and version != latest:
        made = con.execute("select 1 from versions where table_id = ? and version = ?", [table_id, version]).fetchone()
        if made is None or version > latest:
            why = "it expired" if version < oldest else ("it was reverted" if version < last_made else "it was never made")
            raise CatalogError(
                f"table {path!r} has no version {version} ({why}); it has versions {oldest} to {latest} "
                "(t.history() lists them)"
            )
    stored = tuple(
        ColumnMeta(c[0], c[1], type_named(c[2]), json.loads(c[3]) if c[3] else None, c[4], c[5], c[6])
        for c in con.execute(
            "select col_id, name, type, computed, destination, added_version, dropped_version from columns "
            "where table_id = ? and not coalesce(purged, false) order by col_id", [table_id],
        ).fetchall()
    )
    at = latest if version is None else version
    return TableMeta(
        id=table_id, path=path, version=at, next_rowid=next_rowid, next_col=next_col,
        columns=tuple(c for c in stored if c.visible_at(at)), latest=latest, oldest=oldest,
        last_made=last_made, stored=stored,
    )


def create_table(con: Any, table_id: str, path: str, columns: Sequence[ColumnMeta]) -> None:
    phys = ["_rowid BIGINT NOT NULL", "_v INTEGER NOT NULL", "_vdel INTEGER"]
    phys += [f"{p} {sql}" for c in columns for p, sql in c.physical_columns()]
    con.execute(f"create table {rows_table(table_id)} ({', '.join(phys)})")
    now = dt.datetime.now()
    for c in columns:
        _insert_column(con, table_id, c)
    con.execute(
        "insert into tables (id, path, version, next_rowid, next_col, created, last_made, oldest, purged) "
        "values (?, ?, 1, 0, ?, ?, 1, 1, false)", [table_id, path, len(columns), now],
    )
    con.execute("insert into versions values (?, 1, ?, 'create', 0)", [table_id, now])


def new_version(con: Any, meta: TableMeta, op: str, row_count: int, **changes: int) -> int:
    """Record a new version of `meta`'s table (its number is never reused); returns it."""
    version = meta.last_made + 1
    sets = "".join(f", {k} = {int(v)}" for k, v in changes.items())  # next_rowid, next_col
    con.execute(f"update tables set version = ?, last_made = ?{sets} where id = ?", [version, version, meta.id])
    con.execute("insert into versions values (?, ?, ?, ?, ?)", [meta.id, version, dt.datetime.now(), op, row_count])
    return version


def history(con: Any, table_id: str) -> list[tuple[int, dt.datetime, str, int]]:
    """``(version, created, what changed, rows in that version)``, newest first."""
    out = []
    for version, created, op in con.execute(
        "select version, created, op from versions where table_id = ? order by version desc", [table_id]
    ).fetchall():
        n = con.execute(f"select count(*) from {rows_table(table_id)} where {visible(version)}").fetchone()[0]
        out.append((version, created, op, int(n)))
    return out


def version_times(con: Any, table_id: str) -> dict[int, dt.datetime]:
    """When each retained version of a table was made (naive local time)."""
    return {v: c for v, c in con.execute(
        "select version, created from versions where table_id = ?", [table_id]).fetchall() if c is not None}


def mark_dropped(con: Any, meta: TableMeta) -> None:
    """Drop the table from the namespace; its rows stay until :func:`purge_table`."""
    con.execute("update tables set dropped = ? where id = ?", [dt.datetime.now(), meta.id])


def tables_to_purge(con: Any) -> list[tuple[str, str]]:
    """``(id, path)`` of dropped tables whose rows (and so media) are not removed yet."""
    return [tuple(r) for r in con.execute(
        "select id, path from tables where dropped is not null and not coalesce(purged, false) order by dropped"
    ).fetchall()]


def owned_uris(con: Any, table_id: str) -> list[str]:
    """Every object a table's stored rows say pxfs wrote (any version, any stored column)."""
    out: list[str] = []
    for col_id, type_name in con.execute(
        "select col_id, type from columns where table_id = ? and not coalesce(purged, false)", [table_id]
    ).fetchall():
        if type_named(type_name).is_media:
            p = f"c{col_id}"
            out += [r[0] for r in con.execute(
                f"select distinct {p} from {rows_table(table_id)} where {p}_own and {p} is not null").fetchall()]
    return out


def purge_table(con: Any, table_id: str) -> None:
    """Forget a dropped table's rows; its id and destinations stay (gc's proof of ownership)."""
    con.execute(f"drop table if exists {rows_table(table_id)}")
    con.execute("delete from versions where table_id = ?", [table_id])
    con.execute("update columns set purged = true where table_id = ?", [table_id])
    con.execute("update tables set purged = true where id = ?", [table_id])


def table_ids(con: Any, live_only: bool = False) -> dict[str, str]:
    """``{id: path}`` of every table this catalog ever made (live, dropped, purged), or
    of the live ones only."""
    where = " where dropped is null" if live_only else ""
    return {r[0]: r[1] for r in con.execute(f"select id, path from tables{where} order by created").fetchall()}


def destinations(con: Any) -> list[str]:
    """Every destination a column was ever given (dropped tables and columns too)."""
    return [r[0] for r in con.execute(
        "select distinct destination from columns where destination is not null order by 1").fetchall()]


def _insert_column(con: Any, table_id: str, col: ColumnMeta) -> None:
    con.execute(
        "insert into columns values (?, ?, ?, ?, ?, ?, ?, null, false)",
        [table_id, col.col_id, col.name, col.type.name, json.dumps(col.computed) if col.computed else None,
         col.destination, col.added_version],
    )


def add_column(con: Any, meta: TableMeta, col: ColumnMeta) -> None:
    """Add `col` (its ``added_version`` is the new version) with empty cells everywhere."""
    for phys, sql_type in col.physical_columns():
        default = " default false" if phys.endswith("_done") else ""
        con.execute(f"alter table {meta.rows} add column {phys} {sql_type}{default}")
    _insert_column(con, meta.id, col)


def drop_column(con: Any, meta: TableMeta, col: ColumnMeta, version: int) -> None:
    """Hide `col` from `version` on; its cells stay for the versions before."""
    con.execute("update columns set dropped_version = ? where table_id = ? and col_id = ?", [version, meta.id, col.col_id])
