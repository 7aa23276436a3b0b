"""What every command module shares: argument types, the catalog's configuration, pxfs://."""

from __future__ import annotations

import argparse
from typing import Any, Callable, Protocol

__all__ = ["Command", "get_session", "get_fs", "non_negative_float", "positive_int"]


class Command(Protocol):
    """Adds a subcommand: ``command(name, func, help, description)`` returns its parser."""

    def __call__(self, name: str, func: Callable[[argparse.Namespace], int], help: str,
                 description: str) -> argparse.ArgumentParser: ...


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: seconds >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def get_session() -> Any:
    """The process's default session: its configuration, catalog and storage."""
    from ..session import Session

    return Session.default()


def get_fs() -> Any:
    """The ``pxfs://`` filesystem over the process's catalog."""
    from ..fs import PxfsFileSystem

    return PxfsFileSystem()
