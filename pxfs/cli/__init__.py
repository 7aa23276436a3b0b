"""The ``pxfs`` command: inspect and repair the catalog and its media from a shell.

::

    pxfs ls [PATH]                                  list pxfs:// (directories end with /)
    pxfs info PATH                                  details of a directory, table, column, file
    pxfs url TABLE.COLUMN [--where EXPR] [--expires SECONDS]
                                                    one servable URL per row
    pxfs materialize TABLE [--column C ...]         compute every owed cell
    pxfs verify TABLE                               every referenced object exists, right size
    pxfs gc [--apply] [--min-age SECONDS]           orphaned media objects: list, or delete
    pxfs config                                     resolved configuration and its sources
    pxfs serve [--port P]                           tables, galleries and local media on http://127.0.0.1:P

Every command is thin over the public API and ``pxfs://`` (:mod:`pxfs.fs`). Errors print
one line and exit 1 (2 for a bad command line); ``--debug`` adds the traceback.
One module per group of commands (``_browse``, ``_tables``, ``_serve``), each with an
``add_commands(command)`` that declares its parsers; ``_where`` is the ``--where``
language. To add a command, write ``_cmd_<name>(args) -> int`` and its parser there.
"""

from __future__ import annotations

from ._main import main
from ._where import parse_where

__all__ = ["main", "parse_where"]
