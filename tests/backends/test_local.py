"""The shared backend suite on a local folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from pxfs.env import Env
from pxfs.session import Session
from pxfs.storage import Storage

from .cases import BackendTests


@pytest.fixture
def storage() -> Storage:
    return Session.reset_default().storage


@pytest.fixture
def dest(tmp_path: Path) -> str:
    return str(tmp_path / "media")


class TestLocal(BackendTests):
    url_schemes = ("file://",)


class TestLocalFileUri(BackendTests):
    url_schemes = ("file://",)

    @pytest.fixture
    def dest(self, tmp_path: Path) -> str:
        return f"file://{tmp_path}/media/"
