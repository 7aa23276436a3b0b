"""``pxfs serve``: the read-only web app of the tables, and local media over HTTP."""

from __future__ import annotations

import argparse
import sys
import urllib.parse

from ._common import Command, get_session

__all__ = ["add_commands"]


def add_commands(command: Command) -> None:
    """Register this module's commands with the parser."""
    p = command("serve", _cmd_serve, "browse tables and galleries, serve local media, on http://127.0.0.1",
                "A read-only web app on 127.0.0.1: the directory tree, each table's columns, versions "
                "and row count, a paged gallery of each media column (thumbnails through .url, so "
                "local, S3, GCS and Azure media all show), every column of a row, and a button that "
                "computes the owed cells of one gallery page (its only write). It also serves the "
                "media of local destinations (GET, HEAD, byte ranges): a [pxfs.public_urls] entry that "
                "maps a local folder to http://127.0.0.1:PORT/PATH is served at /PATH, so .url of "
                "those files is an http:// URL that works; other local destinations are served at "
                "their absolute path, and the config lines that map them are printed. Ctrl-C stops.")
    p.add_argument("--port", type=int, default=None, metavar="P",
                   help="port (default: the one in [pxfs.public_urls], else 8765; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", metavar="ADDR",
                   help="address to listen on (default 127.0.0.1; pages answer only to this machine's names)")


def _cmd_serve(args: argparse.Namespace) -> int:
    from ..web import make_server

    session = get_session()
    server, routes, unmapped = make_server(session, args.port, args.host)
    base = f"http://{args.host}:{server.server_address[1]}"
    print(f"serving local media on {base} (Ctrl-C to stop)")
    for prefix, folder in routes:
        print(f"  {base}{prefix} -> {folder}")
    if unmapped:
        print(f"so that .url gives these addresses, add to {session.env.config_file}:")
        print("[pxfs.public_urls]")
        for folder in unmapped:
            print(f'"{folder}" = "{base}{urllib.parse.quote(folder.as_posix())}"')
    print(f"tables and galleries: {base}/")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
