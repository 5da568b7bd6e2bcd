"""Run one command and measure its wall time and peak RSS through a small launcher process.

A child's ``ru_maxrss`` starts from the memory of the process it was forked (or vforked)
from: Linux carries the old address space's high-water mark over ``exec``. Measured straight
from the harness, every approach showed the harness's own peak (184 MiB once it had
generated the data). So the harness starts a tiny launcher (a fresh interpreter with no
``site``, importing only ``os``, ``sys`` and ``time``) that spawns the command, waits for it
with ``os.wait4`` and writes the child's figures to a file. A figure can still include the
launcher's own few MiB (``launcher_floor_mib``), never the harness's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent

# argv: report file, then the command. Writes "seconds maxrss_kib exit_code cpu_seconds" to
# the report (CPU: user + system of the command and the processes it waited for).
LAUNCHER = """\
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
cpu = usage.ru_utime + usage.ru_stime
with open(report, "w") as fh:
    fh.write(f"{seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu}")
"""


class Measured(NamedTuple):
    """One command's figures: wall seconds, peak RSS, exit status, its output, and the CPU
    seconds of the command and its waited-for children (not a server it talked to): a
    figure other jobs on a shared machine move far less than the wall time."""

    seconds: float
    rss_mib: float
    code: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0


def launcher_argv(report: Path, argv: list[str]) -> list[str]:
    """The launcher's command line for ``argv`` (isolated, no ``site``: a small process)."""
    return [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *argv]


def run_process(
    argv: list[str], timeout: float = 3600, env: dict[str, str] | None = None
) -> Measured:
    """Run ``argv`` through the launcher and measure it. On timeout the launcher and the
    command are killed (exit status -9)."""
    with (
        tempfile.TemporaryDirectory(prefix="ferry-bench-launch-") as tmp,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        report = Path(tmp) / "report"
        started = time.perf_counter()
        # its own session: on timeout the whole group (launcher + command) is killed
        proc = subprocess.Popen(
            launcher_argv(report, argv),
            stdout=out,
            stderr=err,
            env=env,
            cwd=REPO,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        outer = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        try:
            seconds_text, rss_kib, code, cpu = report.read_text().split()
        except (OSError, ValueError):  # killed, or the command could not be started
            code = str(proc.returncode or -signal.SIGKILL)
            return Measured(outer, 0.0, int(code), stdout, stderr)
        return Measured(
            float(seconds_text), int(rss_kib) / 1024, int(code), stdout, stderr, float(cpu)
        )


def launcher_floor_mib() -> float:
    """Peak RSS the launcher itself reaches: the least any measured command can show."""
    return run_process(["true"]).rss_mib
