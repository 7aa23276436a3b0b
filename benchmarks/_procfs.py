"""CPU time and memory of another process, from Linux ``/proc`` (None elsewhere).

The suites use them for the S3 server they start: its CPU per object is half of every
figure against moto, and no client-side clock shows it.
"""

from __future__ import annotations

import os

__all__ = ["proc_cpu", "proc_rss_mb"]


def proc_cpu(pid: int | None) -> float | None:
    """user + system CPU seconds of process `pid` so far, or None."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def proc_rss_mb(pid: int | None) -> float | None:
    """Resident set size of process `pid` in MB, or None."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None
