"""`Session`: what tables work with, the configuration, the catalog and the storage.

:class:`~pxfs.env.Env` is resolved configuration only. A session owns what is built from
it (the catalog of its ``PXFS_HOME``, the storage clients) and is handed down explicitly to
every table, query and filesystem, as an httpx client is, so two catalogs can be open in
one process. The module-level API (``pxt.create_table``, ``pxt.get_table``, ...) uses the
process's default session, built from ``Env.get()`` and replaced by ``pxt.init()``.

Examples
--------
>>> import pxfs as pxt
>>> mine = pxt.Session(home='/tmp/pxfs-a')                              # doctest: +SKIP
>>> theirs = pxt.Session(home='/tmp/pxfs-b', config={'output_media_dest': 's3://b/out/'})  # doctest: +SKIP
>>> mine.create_table('films', {'poster': pxt.Image})                  # doctest: +SKIP
>>> theirs.list_tables()                                                # doctest: +SKIP
[]
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from .env import Env

if TYPE_CHECKING:
    from .catalog import Catalog
    from .storage import Storage
    from .tables import GcReport, Table

__all__ = ["Session"]


class Session:
    """A catalog and the storage it writes to, configured by one :class:`Env`.

    ``Session()`` is the configuration of this process (``PXFS_HOME``, ``PXFS_*``,
    ``config.toml``); `home` and `config` open another catalog beside it.
    """

    _default: ClassVar[Session | None] = None
    _default_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self, home: str | os.PathLike[str] | None = None, config: Mapping[str, Any] | None = None, *,
        env: Env | None = None,
    ) -> None:
        if env is None:
            overrides = dict(config or {})
            if home is not None:
                overrides["home"] = os.fspath(home)
            env = Env(overrides)
        self.env = env
        self._storage: Storage | None = None
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Session(home={str(self.env.home)!r})"

    # -- the process's default ---------------------------------------------------------
    @classmethod
    def default(cls) -> Session:
        """The session of ``Env.get()``: the one the module-level API uses."""
        env = Env.get()
        current = cls._default
        if current is None or current.env is not env:
            with cls._default_lock:
                current = cls._default
                if current is None or current.env is not env:
                    if current is not None:
                        current.close()
                    current = cls._default = Session(env=env)
        return current

    @classmethod
    def reset_default(cls, config: Mapping[str, Any] | None = None) -> Session:
        """Reload the process's configuration (``pxt.init``) and start a new default session."""
        Env.reset(config)
        return cls.default()

    # -- what it owns ----------------------------------------------------------------------
    @property
    def storage(self) -> Storage:
        """The storage layer configured from this session's Env (built on first use)."""
        if self._storage is None:
            with self._lock:
                if self._storage is None:
                    from .storage import Storage

                    self._storage = Storage(self.env.storage_config())
        return self._storage

    @property
    def catalog(self) -> Catalog:
        """The catalog (``<home>/catalog.duckdb``), opened per operation."""
        if self._catalog is None:
            with self._lock:
                if self._catalog is None:
                    from .catalog import Catalog

                    self._catalog = Catalog(self.env.catalog_path, self.env["catalog_lock_timeout"])
        return self._catalog

    def close(self) -> None:
        """Drop cached storage clients (the catalog holds nothing between calls)."""
        storage, self._storage = self._storage, None
        if storage is not None:
            storage.close()

    # -- configuration, as the layers below read it ---------------------------------------------
    def __getitem__(self, key: str) -> Any:
        return self.env[key]

    @property
    def home(self) -> Path:
        return self.env.home

    @property
    def media_dir(self) -> Path:
        return self.env.media_dir

    @property
    def catalog_path(self) -> Path:
        return self.env.catalog_path

    @property
    def default_output_media_dest(self) -> str | None:
        return self.env.default_output_media_dest

    @property
    def default_input_media_dest(self) -> str | None:
        return self.env.default_input_media_dest

    # -- the table API, on this session's catalog ------------------------------------------------
    def create_dir(self, path: str, if_exists: str = "error") -> None:
        """:func:`pxfs.create_dir` in this session's catalog."""
        from .tables import _catalog_api

        _catalog_api.create_dir(path, if_exists, session=self)

    def drop_dir(self, path: str, force: bool = False, if_not_exists: str = "error") -> None:
        """:func:`pxfs.drop_dir` in this session's catalog."""
        from .tables import _catalog_api

        _catalog_api.drop_dir(path, force, if_not_exists, session=self)

    def create_table(self, path: str, schema: Mapping[str, Any] | None = None, **kwargs: Any) -> Table:
        """:func:`pxfs.create_table` in this session's catalog."""
        from .tables import _catalog_api

        return _catalog_api.create_table(path, schema, session=self, **kwargs)  # type: ignore[arg-type]

    def get_table(self, path: str) -> Table:
        """:func:`pxfs.get_table` in this session's catalog."""
        from .tables import _catalog_api

        return _catalog_api.get_table(path, session=self)

    def drop_table(self, path: Any, force: bool = False, if_not_exists: str = "error") -> None:
        """:func:`pxfs.drop_table` in this session's catalog."""
        from .tables import _catalog_api

        _catalog_api.drop_table(path, force, if_not_exists, session=self)

    def list_tables(self, dir_path: str = "", recursive: bool = True) -> list[str]:
        """:func:`pxfs.list_tables` in this session's catalog."""
        from .tables import _catalog_api

        return _catalog_api.list_tables(dir_path, recursive, session=self)

    def list_dirs(self, dir_path: str = "", recursive: bool = True) -> list[str]:
        """:func:`pxfs.list_dirs` in this session's catalog."""
        from .tables import _catalog_api

        return _catalog_api.list_dirs(dir_path, recursive, session=self)

    def gc(self, *, apply: bool = False, min_age: float = 3600.0) -> GcReport:
        """:func:`pxfs.gc` on this session's catalog."""
        from .tables import _gc

        return _gc.gc(apply=apply, min_age=min_age, session=self)
