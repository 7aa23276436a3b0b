"""pxfs type-checks under ``mypy --strict`` (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_mypy_strict_is_clean() -> None:
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-m", "mypy", "pxfs"], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
