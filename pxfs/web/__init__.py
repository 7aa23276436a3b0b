"""``pxfs serve``: a small read-only web app over the catalog, and the local media files.

Pages (the directory tree, a table's columns, versions and row count, a paged gallery
of each media column, every column of a row) are built with the standard library
(``http.server``, ``html.escape``); :mod:`._files` is the one byte-range file handler,
shared with :class:`pxfs.testing.HttpFileServer`. See docs/gallery.md.
"""

from ._server import DEFAULT_PORT, WebServer, make_server, serve_routes

__all__ = ["DEFAULT_PORT", "WebServer", "make_server", "serve_routes"]
