"""Smoke test of the benchmark suite: the whole suite at N=20, no peers, every workload measured.

No timing is asserted (CI machines vary); only that each workload produced a number.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.emulator
def test_the_whole_suite_at_n_20_produces_every_number(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--n", "20", "--repeat", "1", "--w5-rows", "200",
         "--w5-distinct", "20", "--startup-runs", "2", "--out", str(out), "--workdir", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (raw,) = out.glob("*.json")
    results = json.loads(raw.read_text())
    assert results["failures"] == []
    got = {(r["system"], r["workload"]): r for r in results["records"]}

    def number(system: str, workload: str, key: str) -> float:
        value = got[(system, workload)][key]
        assert isinstance(value, float) and value > 0, (system, workload, key, value)
        return value

    for system, workload in [("s3fs", "W1in"), ("pxfs", "W2"), ("s3fs", "W1out"), ("pxfs", "W3"), ("script", "W3")]:
        number(system, workload, "rows_per_s")
        assert got[(system, workload)]["objects"] == 20  # every object arrived
    assert got[("pxfs", "W3")]["same_bytes_as_w1out"] is True
    number("pxfs", "W4", "seconds")
    number("pxfs", "W5", "fileurl_rows_per_s")
    number("pxfs", "W5", "url_rows_per_s")
    number("pxfs", "W6", "import_seconds")
    number("pxfs", "W6", "open_seconds")
    for workload in ("W2", "W3"):  # W7
        number("pxfs", workload, "peak_rss_mb")
    table = (out / raw.name).with_suffix(".md").read_text()
    assert "| pxfs |" in table and "W5 .fileurl" in table and "Targets" in table
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    assert raw.with_suffix(".png").exists() == has_matplotlib
