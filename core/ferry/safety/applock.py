"""The application's lock or pid file (``[cutover] app_lock``): is the application stopped?

A lock file that exists means the application runs (or left it behind: the message says to
remove it then). A pid file is read: the application runs while its pid is a live process. A
pid that ended, a zombie, or a pid the system has since given to a process started after the
file was written (Linux: ``/proc``) make the file stale, which counts as stopped. On Windows a
pid is taken as running (``os.kill`` would end the process there).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .inputlimits import read_up_to

_PID = re.compile(rb"\s*(\d+)\s*(?:\n|$)")


def app_lock_verdict(path: Path, shown: str) -> tuple[list[str], list[str]]:
    """(reasons the app is not stopped, notes) from its lock or pid file ``path`` (called
    ``shown`` in messages); a missing file means stopped."""

    try:
        data = read_up_to(path, 4096)
    except FileNotFoundError:
        return ([], [f"{shown} is absent: the application is stopped"])
    except OSError as exc:
        return ([f"{shown} exists but cannot be read ({exc.strerror})"], [])
    found = _PID.match(data or b"")
    if found is None:
        return (
            [
                f"{shown} exists (a lock file, not a pid file): the application holds it while "
                "it runs; stop the application, or remove the file if it was left behind"
            ],
            [],
        )
    pid = int(found.group(1))
    why_stale = stale_pid(pid, path)
    if why_stale:
        return ([], [f"{shown} is stale: {why_stale}"])
    return ([f"{shown} names {who(pid)}, which is running: stop the application"], [])


def stale_pid(pid: int, path: Path) -> str:
    """Why the pid file ``path`` naming ``pid`` no longer names a running application ("" when
    it does): the process ended, is a zombie, or the pid was reused by a later process."""
    if pid <= 0:
        return f"pid {pid} is no process"
    if os.name == "nt":
        return ""  # os.kill would end the process there: taken as running
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return f"pid {pid} is not running (the application left the file behind)"
    except PermissionError:
        pass  # another user's process: it exists
    state, started = _proc_stat(pid)
    if state == "Z":
        return f"pid {pid} has ended (a zombie process)"
    try:
        written = path.stat().st_mtime
    except OSError:
        return ""
    if started is not None and started > written + 1:
        return f"pid {pid} now belongs to a process started after the file was written"
    return ""


def _proc_stat(pid: int) -> tuple[str, float | None]:
    """(state letter, start time as a Unix time) from Linux's /proc; ("", None) elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        return stat[0], boot + int(stat[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, StopIteration):
        return "", None


def who(pid: int) -> str:
    """``python3 pid 4242``; a holder whose pid the system hides is "another process"."""
    if not pid:
        return "another process"
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return f"pid {pid}"
    return f"{name} pid {pid}"
