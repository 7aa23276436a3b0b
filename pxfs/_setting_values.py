"""Turning a setting's raw value (an environment variable, a TOML value, a ``pxfs.init``
argument) into its typed value, or a :class:`~pxfs.errors.ConfigError` that names the key,
where it came from and what was expected (secrets masked)."""

from __future__ import annotations

import re
from typing import Any

from ._settings import Setting
from .errors import ConfigError, PxfsError
from .storage import BUILTIN_ALIASES, RESERVED_SCHEMES, parse_uri

__all__ = ["convert"]

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*)://")


def convert(setting: Setting, raw: Any, source: str) -> Any:
    """The value of `setting` given as `raw` (a string from a variable, or a TOML/Python
    value); :class:`ConfigError` naming the key and its source when it is not one."""
    where = f"{setting.key} ({source})"
    if raw is None:
        return None
    try:
        if setting.type is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if setting.type is int:
            if isinstance(raw, float) or (isinstance(raw, str) and not raw.strip().lstrip("-").isdigit()):
                raise ValueError(raw)
            value: Any = int(raw)
            if value < (setting.minimum if setting.minimum is not None else 0):
                raise ValueError(raw)
            return value
        if setting.type is float:
            value = float(raw)
            if value <= 0:
                raise ValueError(raw)
            return value
        text = str(raw).strip()
        if setting.choices and text not in setting.choices:
            raise ValueError(raw)
        if setting.uri and not _user_alias(text):
            parse_uri(text)  # a user alias's URI is checked once [pxfs.schemes] is loaded
        return text or None
    except PxfsError as e:
        raise ConfigError(f"{where}: {e}") from e
    except (TypeError, ValueError):
        shown = "****" if setting.secret else repr(raw)
        raise ConfigError(f"{where}: expected {_expected(setting)}, got {shown}") from None


def _type_name(t: type) -> str:
    return {bool: "boolean", int: "non-negative integer", float: "positive number"}.get(t, "string")


def _expected(setting: Setting) -> str:
    if setting.choices:
        return " or ".join(repr(c) for c in setting.choices)
    if setting.type is int and setting.minimum:
        return f"an integer >= {setting.minimum:g}"
    return f"a {_type_name(setting.type)}"


def _user_alias(text: str) -> bool:
    """Whether `text` is a URI of a scheme that only [pxfs.schemes] can define."""
    m = _SCHEME.match(text)
    return m is not None and m.group(1).lower() not in (*RESERVED_SCHEMES, *BUILTIN_ALIASES)
