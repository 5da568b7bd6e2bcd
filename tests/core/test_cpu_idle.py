"""The JSON workers' idle-core rule reads the CPU counters now (ferry.load.cpuidle), not the
load average, which trails by a minute: a job that just ended no longer keeps them out."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from ferry.load import cpuidle


def test_the_idle_share_is_the_idle_jiffies_over_all_between_two_reads() -> None:
    assert cpuidle.idle_share((1000, 4000), (1150, 4200)) == pytest.approx(0.75)


def test_no_jiffies_between_two_reads_counts_as_idle() -> None:
    assert cpuidle.idle_share((10, 40), (10, 40)) == 1.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat is Linux's")
def test_every_core_busy_leaves_no_idle_core() -> None:
    cores = os.cpu_count() or 1
    spin = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        time.sleep(0.3)  # the loops running on every core
        found = cpuidle.idle_cores()
    finally:
        for proc in spin:
            proc.kill()
            proc.wait()
    assert found < 1.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat is Linux's")
def test_the_counters_read_on_linux() -> None:
    counters = cpuidle._counters()
    assert counters is not None
    idle, total = counters
    assert 0 < idle <= total
