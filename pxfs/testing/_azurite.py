"""`Azurite`: Azure Blob Storage through the npm package ``azurite``, and where to find it."""

from __future__ import annotations

from typing import ClassVar

from ._npm import NpmServer

_AZURITE_VERSION = "3.35.0"


class Azurite(NpmServer):
    """Azure Blob Storage emulator: ``azurite-blob`` (in memory) on 127.0.0.1 and a free port.

    Parameters
    ----------
    executable : str or path, optional
        ``azurite-blob`` to run. Default: ``$PXFS_AZURITE``, else
        ``.tools/node_modules/.bin/azurite-blob`` in the current directory, the pxfs
        checkout or one of their parents, else ``azurite-blob`` on ``PATH``.
    startup_timeout : float
        Seconds to wait for the server to answer before ``RuntimeError``.
    extra_args : sequence of str
        More command-line arguments, e.g. ``["--loose"]``.

    Attributes
    ----------
    account_name, account_key : str
        Azurite's well-known development account and key.
    blob_endpoint : str
        ``http://127.0.0.1:PORT/devstoreaccount1``.
    connection_string : str
        A connection string with ``BlobEndpoint`` set, for adlfs or the Azure SDK.
    """

    _name = "azurite"
    _npm_command = "azurite-blob"
    _npm_what = "Azurite (npm package 'azurite', command 'azurite-blob')"
    _npm_variable = "PXFS_AZURITE"
    _npm_install = f"npm install --prefix .tools azurite@{_AZURITE_VERSION}"
    _ready_path = "/devstoreaccount1?comp=list"  # answers 403 without a signature: that is "up"

    account_name: ClassVar[str] = "devstoreaccount1"
    account_key: ClassVar[str] = (
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    )

    def _command(self, port: int) -> list[str]:
        # No --location: Azurite refuses it together with --inMemoryPersistence; the
        # process runs in its own temporary directory instead.
        return [
            self.executable,
            "--blobHost",
            self.host,
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
            *self.extra_args,
        ]

    @property
    def blob_endpoint(self) -> str:
        """``http://127.0.0.1:PORT/devstoreaccount1``."""
        return f"{self.endpoint_url}/{self.account_name}"

    @property
    def connection_string(self) -> str:
        """Connection string for the development account at this server."""
        return (
            "DefaultEndpointsProtocol=http;"
            f"AccountName={self.account_name};"
            f"AccountKey={self.account_key};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def _describe(self) -> str:
        return f"blob_endpoint={self.blob_endpoint!r}"

    def create_container(self, name: str) -> None:
        """Create container ``name``; an existing container is left as it is."""
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(self.connection_string, retry_total=2)
        with client:
            try:
                client.create_container(name)
            except ResourceExistsError:
                pass
