"""The shape of the code a newcomer opens: small modules, and no reaching into other
libraries' private parts (issue 12)."""

from __future__ import annotations

import re
from pathlib import Path

import pxfs

ROOT = Path(pxfs.__file__).parent
MAX_LINES = 400


def modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_private_parts_of_the_clients_we_use() -> None:
    """botocore's signer and SSL contexts, a decorated function's original: all private."""
    pattern = re.compile(r"_request_signer|_build_ssl_contexts|__wrapped__|ssl\._create")
    found = [f"{p.relative_to(ROOT)}:{i}" for p in modules()
             for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert found == []
