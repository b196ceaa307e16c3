"""Small statistics and process readings shared by the benchmarks."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the value below which `share` of the values lie."""
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * share))])


def rss_mb(pid: int | None = None) -> float:
    """Resident memory from /proc (Linux), in MiB."""
    statm = f"/proc/{pid or 'self'}/statm"
    with open(statm) as file:
        resident_pages = int(file.read().split()[1])
    return resident_pages * PAGE_SIZE / 2**20


def cpu_seconds(pid: int | None = None) -> float:
    """User plus system CPU time of a process, every thread counted, from /proc (Linux)."""
    with open(f"/proc/{pid or 'self'}/stat") as file:
        # The command name may hold spaces: the fields start after its closing parenthesis.
        fields = file.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS
