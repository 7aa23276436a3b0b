"""Servers whose command an npm package installs (Azurite, s3rver), and finding that
command: the argument, an environment variable, ``.tools/node_modules/.bin/`` near here,
then ``PATH``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from ._process import _ProcessServer

__all__ = ["NpmServer", "find_npm_command", "tools_candidates"]


def tools_candidates(command: str) -> list[Path]:
    """``.tools/node_modules/.bin/<command>`` in the current directory, the pxfs checkout
    and their parents, nearest first."""
    names = [f"{command}.cmd", command] if os.name == "nt" else [command]
    roots: list[Path] = []
    # parents[1]: the pxfs package folder, where the lookup started when this was pxfs/testing.py
    for start in (Path.cwd(), Path(__file__).resolve().parents[1]):
        for directory in (start, *start.parents):
            if directory not in roots:
                roots.append(directory)
    return [root / ".tools" / "node_modules" / ".bin" / name for root in roots for name in names]


def find_npm_command(
    command: str, what: str, variable: str, install: str, executable: str | os.PathLike[str] | None,
) -> str:
    """The path of `command` (`what` names it in errors, e.g. "Azurite (npm package
    'azurite', command 'azurite-blob')"); a RuntimeError says where it looked and how to
    install it (`install`)."""
    for given, origin in ((executable, "the executable argument"), (os.environ.get(variable), variable)):
        if given is None or str(given) == "":
            continue
        found = shutil.which(str(given))
        if found is None:
            raise RuntimeError(f"{what.split(' (')[0]} executable {str(given)!r} from {origin} does not exist "
                               "or is not executable")
        return found
    for candidate in tools_candidates(command):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(command)
    if found is not None:
        return found
    raise RuntimeError(
        f"{what} was not found: looked at the executable argument, ${variable}, "
        f".tools/node_modules/.bin/{command} in the current directory and the pxfs checkout and their "
        f"parents, and PATH. Install it in the project root with `{install}` (needs Node.js 20), or set "
        f"{variable} to the path of {command}."
    )


class NpmServer(_ProcessServer):
    """A :class:`_ProcessServer` whose command an npm package installs; a subclass names
    the command, how errors call it, its environment variable and its install command."""

    _npm_command: ClassVar[str]
    _npm_what: ClassVar[str]
    _npm_variable: ClassVar[str]
    _npm_install: ClassVar[str]

    def __init__(
        self,
        executable: str | os.PathLike[str] | None = None,
        *,
        startup_timeout: float = 60.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        super().__init__(startup_timeout=startup_timeout, extra_args=extra_args)
        self.executable = find_npm_command(
            self._npm_command, self._npm_what, self._npm_variable, self._npm_install, executable
        )
