"""Finding a command that an npm package installs (Azurite, s3rver): the argument, an
environment variable, ``.tools/node_modules/.bin/`` near here, then ``PATH``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

__all__ = ["find_npm_command", "tools_candidates"]


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
    candidates: Callable[[], list[Path]],
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
    for candidate in candidates():
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
