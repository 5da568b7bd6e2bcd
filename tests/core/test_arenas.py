"""A run caps glibc's malloc arenas (ferry.arenas): threads that allocate at once share them
instead of each keeping an arena of its own, unless MALLOC_ARENA_MAX says otherwise. Counted
by glibc itself (``malloc_stats`` lists each arena) in a fresh process: the cap is process-wide."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ferry

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(ctypes.CDLL(None), "gnu_get_libc_version"),
    reason="glibc's arenas",
)

# six threads allocate and wait for each other: uncapped, each gets an arena of its own
PROBE = """
import ctypes, sys, threading
from ferry.arenas import cap_arenas
print(cap_arenas() if sys.argv[1] == "cap" else "-", flush=True)
held, barrier = [], threading.Barrier(6)
def work():
    held.append(bytearray(64 * 1024))
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(None).malloc_stats()
"""


def arenas(mode: str, **env: str) -> tuple[str, int]:
    """What ``cap_arenas`` said and how many arenas glibc lists after six threads allocated."""
    core = str(Path(ferry.__file__).resolve().parent.parent)
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        env={**environ, "PYTHONPATH": core, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    said = done.stdout.strip()
    return said, sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_threads_share_the_capped_arenas() -> None:
    said, count = arenas("cap")
    assert said == "True" and count == 1
    assert arenas("none")[1] > 2  # (uncapped: the probe does make arenas)


def test_malloc_arena_max_set_by_the_user_wins() -> None:
    said, count = arenas("cap", MALLOC_ARENA_MAX="4")
    assert said == "False" and count == 4
