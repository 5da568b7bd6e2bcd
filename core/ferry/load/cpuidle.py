"""How many cores the machine leaves idle right now, for the choice to parse and map a big
JSON file in worker processes (:mod:`ferry.load.inworker`).

On Linux the kernel's CPU counters (``/proc/stat``) are read twice, :data:`SAMPLE` seconds
apart: the share of those jiffies spent idle, times the core count. The load average it
replaces trails by a minute: run right after another job (a benchmark's previous step, a
backup), it still counted that job's core as busy and kept the workers out although both
cores were idle. Elsewhere the last minute's load average stands in (the core count alone
where there is none: Windows).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

#: seconds between the two reads of the counters
SAMPLE = 0.2
_STAT = Path("/proc/stat")


def idle_cores() -> float:
    """Cores the machine leaves idle now (0.0 on a one-core machine)."""
    cores = os.cpu_count() or 1
    if cores <= 1:
        return 0.0
    before = _counters()
    if before is not None:
        time.sleep(SAMPLE)
        after = _counters()
        if after is not None:
            return cores * idle_share(before, after)
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):
        busy = 0.0
    return cores - busy


def idle_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the jiffies between two reads of (idle, total) spent idle."""
    total = after[1] - before[1]
    return max(0.0, min(1.0, (after[0] - before[0]) / total)) if total > 0 else 1.0


def _counters() -> tuple[int, int] | None:
    """(idle, total) jiffies of all cores since boot, or None where there are no such
    counters. Idle counts ``iowait`` too: a core waiting on the disk is free to compute."""
    try:
        with _STAT.open("rb") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if len(fields) < 6 or fields[0] != b"cpu":
        return None
    try:
        # user nice system idle iowait irq softirq steal (guest time is inside user/nice)
        values = [int(v) for v in fields[1:9]]
    except ValueError:
        return None
    return values[3] + values[4], sum(values)


__all__ = ["SAMPLE", "idle_cores", "idle_share"]
