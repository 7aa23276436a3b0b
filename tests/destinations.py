"""Configure pxfs for one kind of destination, the way a user would, and return a prefix.

Used by the table tests to run the same workflow on local folders, moto S3 (s3:// and
r2://), Azurite and the GCS emulator.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

KINDS = ["local", "s3", "r2", "azure", "gcs"]


def configure(kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Set the environment for `kind` and return a fresh, existing destination prefix."""
    name = f"pxfs-{uuid.uuid4().hex[:10]}"
    if kind == "local":
        return str(tmp_path / "bucket" / "media")
    if kind in ("s3", "r2"):
        moto = request.getfixturevalue("moto_server")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        if kind == "s3":
            monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.endpoint_url)
        else:
            monkeypatch.setenv("PXFS_R2_ENDPOINT_URL", moto.endpoint_url)
        moto.create_bucket(name)
        return f"{kind}://{name}/media"
    if kind == "azure":
        azurite = request.getfixturevalue("azurite")
        monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
        azurite.create_container(name)
        return f"az://{name}/media"
    if kind == "gcs":
        gcs = request.getfixturevalue("gcs_emulator")
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.endpoint_url)
        gcs.create_bucket(name)
        return f"gs://{name}/media"
    raise ValueError(kind)
