"""Configuration: `Env` resolves every setting once, from four sources.

Precedence, highest first: ``pxfs.init({...})``, ``PXFS_<KEY>`` environment variables,
``$PXFS_HOME/config.toml`` (section ``[pxfs]``), defaults. ``PXFS_HOME`` defaults to
``~/.pxfs``. ``pxfs.init()`` reloads.

Examples
--------
>>> from pxfs.env import Env
>>> env = Env.get()
>>> env.default_output_media_dest is None or isinstance(env.default_output_media_dest, str)
True
"""

from __future__ import annotations

import configparser
import logging
import os
import re
import threading
import tomllib
from pathlib import Path
from typing import Any, ClassVar, Mapping

from ._setting_values import convert
from ._settings import OTHER_VARIABLES, SECTIONS, SETTINGS
from .errors import ConfigError, PxfsError
from .storage import (
    BUILTIN_ALIASES, RESERVED_SCHEMES, AzureSettings, GcsSettings, SchemeSpec, StorageConfig, check_destination,
    parse_uri,
)
from .storage._config import MASK, redacted

__all__ = ["Env"]

_MISSING = object()


class Env:
    """The resolved configuration of this process: settings only. What is built from it
    (catalog, storage) belongs to a :class:`~pxfs.session.Session`.

    Attributes
    ----------
    home
        ``$PXFS_HOME``: catalog, cache and default media folder.
    default_output_media_dest, default_input_media_dest
        The global destinations (``None`` when not set), as written in configuration.
    """

    _instance: ClassVar[Env | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        overrides = dict(overrides or {})
        home = overrides.pop("home", None) or os.environ.get("PXFS_HOME") or "~/.pxfs"
        self.home = Path(home).expanduser().resolve()
        self.config_file = self.home / "config.toml"
        self._values: dict[str, Any] = {}
        self._sources: dict[str, str] = {}
        self._tables: dict[str, dict[str, Any]] = {"public_urls": {}, "schemes": {}}
        self._table_sources: dict[str, str] = {}
        self._azure_section: dict[str, Any] = {}
        _configure_logging()
        self._load(overrides)
        self._storage_config = self.storage_config()  # validates destinations and aliases now

    # -- access ---------------------------------------------------------------------

    @classmethod
    def get(cls) -> Env:
        """The process's Env, loaded on first use."""
        env = cls._instance
        if env is None:
            with cls._instance_lock:
                if cls._instance is None:
                    cls._instance = Env()
                env = cls._instance
        return env

    @classmethod
    def reset(cls, overrides: Mapping[str, Any] | None = None) -> Env:
        """Reload configuration; the default :class:`~pxfs.session.Session` follows."""
        with cls._instance_lock:
            cls._instance = Env(overrides)
            return cls._instance

    def __getitem__(self, key: str) -> Any:
        if key not in SETTINGS:
            raise KeyError(key)
        return self._values.get(key, SETTINGS[key].default)

    def source_of(self, key: str) -> str:
        """Where a setting's value came from (``default``, a variable, the file, ``pxfs.init``)."""
        return self._sources.get(key, "default")

    def describe(self) -> list[tuple[str, str, str]]:
        """``(key, value, source)`` for every setting; secrets masked."""
        rows = []
        for key, s in SETTINGS.items():
            value = self[key]
            shown = MASK if s.secret and value else ("" if value is None else str(redacted(value)))
            rows.append((key, shown, self.source_of(key)))
        for prefix, base in self._tables["public_urls"].items():
            rows.append((f"public_urls.{prefix}", redacted(base), self._table_sources[f"public_urls.{prefix}"]))
        for alias, spec in self._tables["schemes"].items():
            rows.append((f"schemes.{alias}", _describe_alias(spec), self._table_sources[f"schemes.{alias}"]))
        return rows

    def __repr__(self) -> str:
        set_keys = {k: (MASK if SETTINGS[k].secret else redacted(v)) for k, v in self._values.items()}
        return f"Env(home={str(self.home)!r}, {set_keys})"

    @property
    def default_output_media_dest(self) -> str | None:
        return self["output_media_dest"]  # type: ignore[no-any-return]

    @property
    def default_input_media_dest(self) -> str | None:
        return self["input_media_dest"]  # type: ignore[no-any-return]

    @property
    def media_dir(self) -> Path:
        """Where computed media go when no destination is configured."""
        return self.home / "media"

    @property
    def catalog_path(self) -> Path:
        return self.home / "catalog.duckdb"

    # -- loading --------------------------------------------------------------------

    def _load(self, overrides: dict[str, Any]) -> None:
        if self.config_file.is_file():
            self._load_file()
        for name, raw in os.environ.items():
            if not name.startswith("PXFS_") or name in OTHER_VARIABLES:
                continue
            key = name[5:].lower()
            if key not in SETTINGS:
                raise ConfigError(f"unknown setting in environment variable {name}; known: {_known()}")
            self._set(key, raw, name)
        for key, raw in overrides.items():
            if key in SECTIONS or key == "azure":
                self._set_table(key, raw, "pxfs.init()")
                continue
            if key not in SETTINGS:
                raise ConfigError(f"unknown setting {key!r} passed to pxfs.init(); known: {_known()}")
            self._set(key, raw, "pxfs.init()")

    def _load_file(self) -> None:
        where = str(self.config_file)
        try:
            doc = tomllib.loads(self.config_file.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"cannot read {where}: {e}") from e
        section = doc.get("pxfs", {})
        if not isinstance(section, dict):
            raise ConfigError(f"{where}: [pxfs] must be a table")
        for key, raw in section.items():
            if key in SECTIONS:
                self._set_table(key, raw, f"{where} [pxfs.{key}]")
            elif key in SETTINGS:
                self._set(key, raw, f"{where} [pxfs]")
            else:
                raise ConfigError(f"{where}: unknown key {key!r} in [pxfs]; known: {_known()}")
        azure = doc.get("azure", {})
        if azure:
            self._set_table("azure", azure, f"{where} [azure]")

    def _set(self, key: str, raw: Any, source: str) -> None:
        setting = SETTINGS[key]
        self._values[key] = convert(setting, raw, source)
        self._sources[key] = source

    def _set_table(self, name: str, raw: Any, source: str) -> None:
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: {name} must be a table of keys and values")
        if name == "azure":
            allowed = {"account_name", "account_key", "connection_string", "sas_token"}
            unknown = set(raw) - allowed
            if unknown:
                raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)} in [azure]; known: {sorted(allowed)}")
            self._azure_section.update(raw)
            return
        if name == "schemes":
            for alias, spec in raw.items():
                self._tables["schemes"][alias] = _check_alias(alias, spec, source)
                self._table_sources[f"schemes.{alias}"] = source
            return
        for prefix, base in raw.items():
            self._table_sources[f"public_urls.{prefix}"] = source
            if not isinstance(base, str) or not base.startswith(("http://", "https://")):
                raise ConfigError(f"{source}: public URL base for {prefix!r} must be an http(s) URL, got {base!r}")
            self._tables["public_urls"][prefix] = base

    # -- storage configuration ----------------------------------------------------

    def storage_config(self) -> StorageConfig:
        """The :class:`~pxfs.storage.StorageConfig` these settings describe."""
        endpoints = {"b2": self._b2_endpoint(), "r2": self._r2_endpoint(), "s3": self._s3_endpoint(),
                     "tigris": self["tigris_endpoint_url"]}
        schemes: dict[str, SchemeSpec] = {
            name: SchemeSpec(name, endpoint_url=endpoints[name], profile=self[profile_key], hosts=hosts,
                             endpoint_hint=hint)
            for name, (profile_key, hint, hosts) in BUILTIN_ALIASES.items()
        }
        for alias, spec in self._tables["schemes"].items():
            schemes[alias] = SchemeSpec(
                alias,
                endpoint_url=spec.get("endpoint_url") or _profile_endpoint(spec.get("profile")),
                profile=spec.get("profile"),
                client_kwargs=dict(spec.get("client_kwargs", {})),
                config_kwargs=dict(spec.get("config_kwargs", {})),
                endpoint_hint=f"endpoint_url in [pxfs.schemes.{alias}]",
            )
        base = StorageConfig(schemes=schemes, azure=self._azure(), gcs=_gcs())
        public = []
        for prefix, url in self._tables["public_urls"].items():
            try:
                norm = parse_uri(prefix, base).uri
            except PxfsError as e:
                raise ConfigError(f"[pxfs.public_urls]: bad prefix {prefix!r}: {e}") from e
            public.append((norm, url))
        public.sort(key=lambda p: -len(p[0]))
        cfg = StorageConfig(
            cache_dir=self.home / "cache",
            schemes=schemes,
            azure=base.azure,
            gcs=base.gcs,
            public_urls=tuple(public),
            cache_size_bytes=int(self["file_cache_size_g"] * 2**30),
            upload_concurrency=self["upload_concurrency"],
            request_timeout=self["request_timeout"],
            retries=self["retries"],
            s3_direct_put=self["s3_direct_put"],
        )
        for key in ("input_media_dest", "output_media_dest"):
            if self[key] is not None:
                try:
                    check_destination(parse_uri(self[key], cfg))
                except PxfsError as e:
                    raise ConfigError(f"{key} from {self.source_of(key)}: {e}") from e
        return cfg

    def _s3_endpoint(self) -> str | None:
        return (
            self["s3_endpoint_url"]
            or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
            or _profile_endpoint(self["s3_profile"] or os.environ.get("AWS_PROFILE"))
        )

    def _r2_endpoint(self) -> str | None:
        if self["r2_endpoint_url"]:
            return str(self["r2_endpoint_url"])
        if self["r2_account_id"]:
            return f"https://{self['r2_account_id']}.r2.cloudflarestorage.com"
        return _profile_endpoint(self["r2_profile"])

    def _b2_endpoint(self) -> str | None:
        if self["b2_endpoint_url"]:
            return str(self["b2_endpoint_url"])
        if self["b2_region"]:
            return f"https://s3.{self['b2_region']}.backblazeb2.com"
        return _profile_endpoint(self["b2_profile"])

    def _azure(self) -> AzureSettings:
        # pxfs settings (init, PXFS_AZURE_*), then Azure's own variables, then [azure] in the file.
        sec = self._azure_section
        conn = self["azure_connection_string"] or os.environ.get("AZURE_STORAGE_CONNECTION_STRING") or sec.get("connection_string")
        name = self["azure_account_name"] or os.environ.get("AZURE_STORAGE_ACCOUNT_NAME") or sec.get("account_name")
        key = self["azure_account_key"] or os.environ.get("AZURE_STORAGE_ACCOUNT_KEY") or sec.get("account_key")
        sas = os.environ.get("AZURE_STORAGE_SAS_TOKEN") or sec.get("sas_token")
        endpoint = None
        if conn:
            parts = _parse_connection_string(conn)
            name = name or parts.get("accountname")
            key = key or parts.get("accountkey")
            endpoint = parts.get("blobendpoint")
            if parts.get("usedevelopmentstorage", "").lower() == "true":
                name, endpoint = "devstoreaccount1", "http://127.0.0.1:10000/devstoreaccount1"
        return AzureSettings(account_name=name, account_key=key, connection_string=conn, sas_token=sas,
                             blob_endpoint=endpoint.rstrip("/") if endpoint else None,
                             share_sas_token=self["azure_url_share_sas_token"])


def _configure_logging() -> None:
    """``PXFS_LOGGING_LEVEL=DEBUG`` logs pxfs's storage calls (never bodies or credentials) to stderr."""
    level = os.environ.get("PXFS_LOGGING_LEVEL")
    if not level:
        return
    logger = logging.getLogger("pxfs")
    try:
        logger.setLevel(level.upper())
    except ValueError:
        raise ConfigError(f"PXFS_LOGGING_LEVEL: {level!r} is not a logging level (DEBUG, INFO, WARNING, ...)") from None
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)


def _describe_alias(spec: Mapping[str, Any]) -> str:
    """One line for a ``[pxfs.schemes.<alias>]`` table, secret-named values masked."""
    shown = [f"endpoint_url={redacted(spec.get('endpoint_url'))} profile={spec.get('profile')}"]
    for name in ("client_kwargs", "config_kwargs"):
        if spec.get(name):
            shown.append(f"{name}={redacted(spec[name])}")
    return " ".join(shown)


def _gcs() -> GcsSettings:
    host = os.environ.get("STORAGE_EMULATOR_HOST")
    if host and not host.startswith(("http://", "https://")):
        host = "http://" + host
    return GcsSettings(
        endpoint_url=host,
        credentials_file=os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"),
        project=os.environ.get("GOOGLE_CLOUD_PROJECT"),
    )


def _known() -> str:
    return ", ".join(SETTINGS)


def _check_alias(alias: str, spec: Any, source: str) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise ConfigError(f"{source}: [pxfs.schemes.{alias}] must be a table")
    allowed = {"type", "endpoint_url", "profile", "client_kwargs", "config_kwargs"}
    unknown = set(spec) - allowed
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)} in [pxfs.schemes.{alias}]; known: {sorted(allowed)}")
    for table in ("client_kwargs", "config_kwargs"):
        if not isinstance(spec.get(table, {}), dict):  # never echo the value: it may hold a key
            raise ConfigError(f"{source}: {table} in [pxfs.schemes.{alias}] must be a table of keys and values")
    if spec.get("type", "s3") != "s3":
        raise ConfigError(f"{source}: [pxfs.schemes.{alias}] type must be \"s3\", got {spec.get('type')!r}")
    if alias in RESERVED_SCHEMES:
        raise ConfigError(f"{source}: {alias!r} is a built-in scheme and cannot be redefined")
    if not re.fullmatch(r"[a-z][a-z0-9+.\-]*", alias):
        raise ConfigError(
            f"{source}: scheme alias {alias!r} must start with a lowercase letter and contain only "
            "lowercase letters, digits, '+', '.' and '-' (the URI scheme grammar)"
        )
    return dict(spec)


def _profile_endpoint(profile: str | None) -> str | None:
    """``endpoint_url`` of an AWS profile in the AWS config file, if any (no botocore import)."""
    path = Path(os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")).expanduser()
    if not path.is_file():
        return None
    parser = configparser.RawConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return None
    name = profile or "default"
    section = "default" if name == "default" else f"profile {name}"
    if parser.has_section(section):
        value = parser.get(section, "endpoint_url", fallback=None)
        return value.strip() if value else None
    return None


def _parse_connection_string(conn: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for item in conn.split(";"):
        if "=" in item:
            k, _, v = item.partition("=")
            parts[k.strip().lower()] = v.strip()
    return parts
