"""Test bootstrap: emulator fixtures and an isolated environment for every test.

Session fixtures (one server per test session, per xdist worker):

- ``moto_server`` -- :class:`pxfs.testing.MotoServer` (S3).
- ``azurite`` -- :class:`pxfs.testing.Azurite` (Azure Blob); fails, not skips, when Azurite
  is not installed (``bash scripts/test.sh`` installs it).
- ``gcs_emulator`` -- :class:`pxfs.testing.GcsEmulator` (GCS).
- ``s3rver`` -- :class:`pxfs.testing.S3rver` (S3 that checks signatures); fails, not skips,
  when s3rver is not installed (``bash scripts/test.sh`` installs it).

Function fixture: ``http_server`` -- :class:`pxfs.testing.HttpFileServer` serving the
test's ``tmp_path``.

Every test runs with ``PXFS_HOME`` in a fresh temporary directory and without the
developer's cloud configuration: ``AWS_*``, ``AZURE_*``, ``PXFS_*``,
``STORAGE_EMULATOR_HOST`` and ``GOOGLE_APPLICATION_CREDENTIALS`` are removed, and the AWS
and gcloud config files point at files that do not exist. Tests that want an emulator set
the variables they need with ``monkeypatch.setenv``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pxfs.testing import Azurite, GcsEmulator, HttpFileServer, MotoServer, S3rver

_CLEARED_PREFIXES = ("AWS_", "AZURE_", "PXFS_")
_CLEARED_NAMES = ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS")


def _reset_pxfs_env() -> None:
    """Drop pxfs's cached ``Env`` and filesystems, when ``pxfs.env`` provides that."""
    try:
        from pxfs.env import Env
    except ImportError:
        return
    reset = getattr(Env, "reset", None)
    if reset is not None:
        reset()


@pytest.fixture(autouse=True)
def _isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """A fresh ``PXFS_HOME`` and no cloud configuration from the developer's machine."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name in _CLEARED_NAMES:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("pxfs-home")
    missing = tmp_path_factory.mktemp("no-config")
    monkeypatch.setenv("PXFS_HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(missing / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(missing / "aws-credentials"))
    # google.auth looks for application default credentials under CLOUDSDK_CONFIG.
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(missing / "gcloud"))
    _reset_pxfs_env()
    yield home
    # A test may leave a bad configuration behind on purpose: forget it, don't load it.
    from pxfs.env import Env

    Env._instance = None


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """An S3 emulator for the whole session (``endpoint_url``, ``create_bucket``)."""
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """An Azure Blob emulator for the whole session (``connection_string``, ...)."""
    with Azurite() as server:
        yield server


@pytest.fixture(scope="session")
def s3rver() -> Iterator[S3rver]:
    """An S3 server that checks signatures, for the whole session (``endpoint_url``, ``create_bucket``)."""
    with S3rver() as server:
        yield server


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[GcsEmulator]:
    """A GCS emulator for the whole session (``endpoint_url``, ``create_bucket``)."""
    with GcsEmulator() as server:
        yield server


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[HttpFileServer]:
    """An HTTP server for this test's ``tmp_path`` (``url_for("name.jpg")``)."""
    with HttpFileServer(tmp_path) as server:
        yield server
