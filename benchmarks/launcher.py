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

REPO = Path(__file__).resolve().parent.parent

# argv: report file, then the command. Writes "seconds maxrss_kib exit_code" to the report.
LAUNCHER = """\
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - started
with open(report, "w") as fh:
    fh.write(f"{seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def launcher_argv(report: Path, argv: list[str]) -> list[str]:
    """The launcher's command line for ``argv`` (isolated, no ``site``: a small process)."""
    return [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *argv]


def run_process(
    argv: list[str], timeout: float = 3600, env: dict[str, str] | None = None
) -> tuple[float, float, int, str, str]:
    """Run ``argv`` through the launcher; return (wall seconds, peak RSS MiB, exit status,
    stdout, stderr). On timeout the launcher and the command are killed (exit status -9)."""
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
            seconds_text, rss_kib, code = report.read_text().split()
        except (OSError, ValueError):  # killed, or the command could not be started
            code = str(proc.returncode or -signal.SIGKILL)
            return outer, 0.0, int(code), stdout, stderr
        return float(seconds_text), int(rss_kib) / 1024, int(code), stdout, stderr


def launcher_floor_mib() -> float:
    """Peak RSS the launcher itself reaches: the least any measured command can show."""
    _seconds, rss, _code, _out, _err = run_process(["true"])
    return rss
