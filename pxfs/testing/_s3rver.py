"""`S3rver`: S3 through the npm package ``s3rver``, which checks signatures."""

from __future__ import annotations

import os
import shutil
import urllib.parse
from collections.abc import Sequence
from typing import ClassVar

from ._azurite import _azurite_candidates
from ._process import _ProcessServer, _request

_S3RVER_VERSION = "3.7.1"
_S3RVER_INSTALL = f"npm install --prefix .tools s3rver@{_S3RVER_VERSION}"


def _find_s3rver(executable: str | os.PathLike[str] | None) -> str:
    """Locate ``s3rver``: argument, ``PXFS_S3RVER``, ``.tools/``, then ``PATH``."""
    for given, origin in ((executable, "the executable argument"), (os.environ.get("PXFS_S3RVER"), "PXFS_S3RVER")):
        if given is None or str(given) == "":
            continue
        found = shutil.which(str(given))
        if found is None:
            raise RuntimeError(f"s3rver executable {str(given)!r} from {origin} does not exist or is not executable")
        return found
    for candidate in _azurite_candidates():
        candidate = candidate.with_name("s3rver.cmd" if candidate.name.endswith(".cmd") else "s3rver")
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("s3rver")
    if found is not None:
        return found
    raise RuntimeError(
        "s3rver (npm package 's3rver') was not found: looked at the executable argument, $PXFS_S3RVER, "
        ".tools/node_modules/.bin/s3rver in the current directory and the pxfs checkout and their parents, "
        f"and PATH. Install it in the project root with `{_S3RVER_INSTALL}` (needs Node.js 20), or set "
        "PXFS_S3RVER to the path of s3rver."
    )


class S3rver(_ProcessServer):
    """An S3 implementation that checks SigV4 signatures: ``s3rver`` on 127.0.0.1 and a free port.

    moto accepts any signature; s3rver refuses a request or presigned URL signed with
    another secret (``403 SignatureDoesNotMatch``). Objects live in a temporary folder.

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

    access_key_id: ClassVar[str] = "S3RVER"
    secret_access_key: ClassVar[str] = "S3RVER"

    def __init__(
        self,
        executable: str | os.PathLike[str] | None = None,
        *,
        startup_timeout: float = 60.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        super().__init__(startup_timeout=startup_timeout, extra_args=extra_args)
        self.executable = _find_s3rver(executable)

    def _command(self, port: int) -> list[str]:
        assert self._workdir is not None
        data = os.path.join(self._workdir, "data")
        os.makedirs(data, exist_ok=True)
        return [self.executable, "-d", data, "-a", self.host, "-p", str(port), "--silent", *self.extra_args]

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name`` (an anonymous request, which s3rver allows); an existing one is kept."""
        status, body = _request("PUT", f"{self.endpoint_url}/{urllib.parse.quote(name, safe='')}")
        if status not in (200, 409):
            raise RuntimeError(f"s3rver could not create bucket {name!r}: HTTP {status}: {body[:500]!r}")
