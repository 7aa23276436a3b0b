"""`_TableBase`: what every part of :class:`~._table.Table` stands on, and `UpdateStatus`.

A table's handle (path, id, pinned version, session), its metadata as the catalog has it
now, and its columns as attributes. The operations are mixins on this base, one module
per idea: schema changes (``_table_schema``), inserts and deletes (``_table_write``);
``_table`` puts them together with versions, computing and queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..catalog import TableMeta, rows
from ..errors import CatalogError
from ._expr import ColumnRef

if TYPE_CHECKING:
    from ..session import Session
    from ._query import Query

__all__ = ["UpdateStatus"]


@dataclass(frozen=True)
class UpdateStatus:
    """What a mutation did: rows affected, the table's new version, media objects removed."""

    num_rows: int = 0
    version: int = 0
    media_removed: int = 0

    def __repr__(self) -> str:
        return f"UpdateStatus(num_rows={self.num_rows}, version={self.version}, media_removed={self.media_removed})"


class _TableBase:
    """The handle and metadata of a :class:`~._table.Table`; the mixins build on it."""

    def __init__(self, path: str, table_id: str, version: int | None = None, *,
                 session: Session | None = None) -> None:
        self._path = path
        self._id = table_id
        self._pinned = version  # None: follows the latest version
        self._session = session  # None: the process's default session, whatever pxt.init() made it

    # -- metadata ------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        """The session (catalog, storage, configuration) this table belongs to: the one it
        was opened with, else the process's default session as ``pxt.init()`` left it."""
        if self._session is not None:
            return self._session
        from ..session import Session

        return Session.default()

    def _meta(self, con: Any = None) -> TableMeta:
        if con is None:
            with self.session.catalog.connect() as c:
                return self._meta(c)
        meta = rows.load_table(con, table_id=self._id, version=self._pinned)
        if meta is None or meta.path != self._path:
            raise CatalogError(f"table {self._path!r} no longer exists (dropped, perhaps by another process)")
        return meta

    def _writable(self) -> None:
        if self._pinned is not None:
            raise CatalogError(
                f"{self._path}:{self._pinned} is a read-only past version; use pxt.get_table({self._path!r})"
            )

    @property
    def path(self) -> str:
        return self._path

    @property
    def name(self) -> str:
        return self._path.rsplit(".", 1)[-1]

    @property
    def version(self) -> int:
        return self._meta().version

    def columns(self) -> list[str]:
        """Names of the table's columns, in order."""
        return [c.name for c in self._meta().columns]

    def __getattr__(self, name: str) -> ColumnRef:
        if name.startswith("_"):
            raise AttributeError(name)
        meta = self._meta()
        if not meta.has_column(name):
            raise AttributeError(
                f"table {self._path!r} has no column {name!r}; its columns are: "
                f"{', '.join(c.name for c in meta.columns) or '(none)'}"
            )
        return ColumnRef(name, self._id, self._path)

    def __getitem__(self, name: str) -> ColumnRef:
        return self.__getattr__(name)

    if TYPE_CHECKING:
        def _query(self) -> Query:
            """A query of every row of this version (defined by :class:`~._table.Table`)."""
