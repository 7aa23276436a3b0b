"""`GcsEmulator`: Google Cloud Storage through ``gcp-storage-emulator``."""

from __future__ import annotations

import json
import sys

from ._process import _admin, _ProcessServer


class GcsEmulator(_ProcessServer):
    """GCS emulator: ``gcp-storage-emulator start --in-memory`` on 127.0.0.1 and a free port.

    Parameters
    ----------
    startup_timeout : float
        Seconds to wait for the server to answer before ``RuntimeError``.
    extra_args : sequence of str
        More arguments for ``gcp-storage-emulator start``.

    Attributes
    ----------
    endpoint_url : str
        ``http://127.0.0.1:PORT``; the value for ``STORAGE_EMULATOR_HOST`` or gcsfs's
        ``endpoint_url`` (use ``token="anon"``).
    """

    _name = "gcs"
    _ready_path = "/"

    def _command(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gcp_storage_emulator",
            "start",
            "--host",
            self.host,
            "--port",
            str(port),
            "--in-memory",
            *self.extra_args,
        ]

    def create_bucket(self, name: str) -> None:
        """Create bucket ``name``; an existing bucket is left as it is."""
        _admin("POST", f"{self.endpoint_url}/storage/v1/b", f"GCS emulator could not create bucket {name!r}",
               ok=(200, 409), body=json.dumps({"name": name}).encode(), headers={"Content-Type": "application/json"})

    def reset(self) -> None:
        """Drop every bucket and object (``GET /wipe``)."""
        _admin("GET", f"{self.endpoint_url}/wipe", "GCS emulator reset failed")
