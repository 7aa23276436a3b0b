"""`MotoServer`: S3 (and S3-compatible aliases) through ``moto.server``."""

from __future__ import annotations

import sys
import urllib.parse
from collections.abc import Sequence

from ._process import _admin, _ProcessServer


class MotoServer(_ProcessServer):
    """S3 emulator: ``python -m moto.server`` on 127.0.0.1 and a free port.

    Parameters
    ----------
    startup_timeout : float
        Seconds to wait for the server to answer before ``RuntimeError``.
    extra_args : sequence of str
        More command-line arguments for ``moto.server``.
    tls : (certfile, keyfile), optional
        Serve https with this certificate (PEM files; it must name 127.0.0.1). Clients
        then need its CA, e.g. ``AWS_CA_BUNDLE`` for botocore.

    Attributes
    ----------
    endpoint_url : str
        ``http://127.0.0.1:PORT`` (``https://`` with `tls`); give it to s3fs/boto3 as
        ``endpoint_url``. moto accepts any credentials and signature.
    """

    _name = "moto"
    _ready_path = "/moto-api/"

    def __init__(
        self, *, startup_timeout: float = 60.0, extra_args: Sequence[str] = (),
        tls: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(startup_timeout=startup_timeout, extra_args=extra_args)
        self.tls = tls
        if tls is not None:
            self.scheme = "https"

    def _command(self, port: int) -> list[str]:
        tls = ["--ssl-cert", self.tls[0], "--ssl-key", self.tls[1]] if self.tls else []
        return [
            sys.executable,
            "-m",
            "moto.server",
            "-H",
            self.host,
            "-p",
            str(port),
            *tls,
            *self.extra_args,
        ]

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name`` (us-east-1); an existing bucket is left as it is."""
        _admin("PUT", f"{self.endpoint_url}/{urllib.parse.quote(name, safe='')}",
               f"moto could not create bucket {name!r}", ok=(200, 409))

    def reset(self) -> None:
        """Drop every bucket and object (``POST /moto-api/reset``)."""
        _admin("POST", f"{self.endpoint_url}/moto-api/reset", "moto reset failed")
