"""`S3rver`: S3 through the npm package ``s3rver``, a second S3 implementation beside moto."""

from __future__ import annotations

import os
import urllib.parse
from typing import ClassVar

from ._npm import NpmServer
from ._process import _admin

_S3RVER_VERSION = "3.7.1"


class S3rver(NpmServer):
    """A second S3 implementation beside moto: ``s3rver`` on 127.0.0.1 and a free port.

    It refuses an unknown access key id (403), but s3rver 3.7.1 does not verify SigV4
    signatures (its own source says so): a wrong secret is accepted. Objects live in a
    temporary folder.

    Parameters
    ----------
    executable : str or path, optional
        ``s3rver`` to run. Default: ``$PXFS_S3RVER``, else ``.tools/node_modules/.bin/s3rver``
        in the current directory, the pxfs checkout or one of their parents, else ``PATH``.
    startup_timeout : float
        Seconds to wait for the server to answer before ``RuntimeError``.
    extra_args : sequence of str
        More command-line arguments, e.g. ``["--no-vhost-buckets"]``.

    Attributes
    ----------
    access_key_id, secret_access_key : str
        s3rver's built-in credentials (``S3RVER`` / ``S3RVER``).
    endpoint_url : str
        ``http://127.0.0.1:PORT``; path-style addressing.
    """

    _name = "s3rver"
    _npm_command = "s3rver"
    _npm_what = "s3rver (npm package 's3rver')"
    _npm_variable = "PXFS_S3RVER"
    _npm_install = f"npm install --prefix .tools s3rver@{_S3RVER_VERSION}"

    access_key_id: ClassVar[str] = "S3RVER"
    secret_access_key: ClassVar[str] = "S3RVER"

    def _command(self, port: int) -> list[str]:
        assert self._workdir is not None
        data = os.path.join(self._workdir, "data")
        os.makedirs(data, exist_ok=True)
        return [self.executable, "-d", data, "-a", self.host, "-p", str(port), "--silent", *self.extra_args]

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name`` (an anonymous request, which s3rver allows); an existing one is kept."""
        _admin("PUT", f"{self.endpoint_url}/{urllib.parse.quote(name, safe='')}",
               f"s3rver could not create bucket {name!r}", ok=(200, 409))
