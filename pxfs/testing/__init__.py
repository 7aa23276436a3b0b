"""Local servers for tests: storage emulators and small HTTP/TCP servers.

Every server listens on 127.0.0.1 and a free port, and is a context manager::

    from pxfs.testing import MotoServer

    with MotoServer() as s3:
        s3.create_bucket("media")
        ...  # use s3.endpoint_url, e.g. AWS_ENDPOINT_URL=s3.endpoint_url

- :class:`MotoServer` -- S3 (and S3-compatible aliases) through ``moto.server``.
- :class:`Azurite` -- Azure Blob Storage through the npm package ``azurite``.
- :class:`S3rver` -- S3 through the npm package ``s3rver``, which checks signatures.
- :class:`GcsEmulator` -- Google Cloud Storage through ``gcp-storage-emulator``.
- :class:`HttpFileServer` -- a directory over plain HTTP (with byte ranges), in-process.
- :class:`SilentServer` -- accepts TCP connections and never answers, in-process.

The emulators run as subprocesses that log to a temporary file; a server that does not
come up within ``startup_timeout`` seconds raises ``RuntimeError`` with the end of its
log. ``stop()`` ends only the process that ``start()`` launched. Nothing here imports
boto3, azure or google at import time.
"""

from ._azurite import Azurite
from ._gcs import GcsEmulator
from ._http import HttpFileServer
from ._moto import MotoServer
from ._s3rver import S3rver
from ._silent import SilentServer

__all__ = ["Azurite", "GcsEmulator", "HttpFileServer", "MotoServer", "S3rver", "SilentServer"]
