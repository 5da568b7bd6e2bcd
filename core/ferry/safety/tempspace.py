"""Which disk filled up when SQLite says "database or disk is full" (``SQLITE_FULL``).

SQLite writes the target file and its ``-journal`` beside it, but staging tables, sorts and
index builds spill into temporary files in its own folder: ``SQLITE_TMPDIR``, else ``TMPDIR``,
else ``/var/tmp``, ``/usr/tmp``, ``/tmp``, ``.`` (the first that exists and can be written). A
small ``/tmp`` (a tmpfs) fills long before the target's disk does, and the fix is different:
point ``SQLITE_TMPDIR`` elsewhere, not free space beside the database.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import TargetError

#: where SQLite looks for its temporary folder on Unix, in its own order (os_unix.c)
_ENV_VARS = ("SQLITE_TMPDIR", "TMPDIR")
_DEFAULT_DIRS = ("/var/tmp", "/usr/tmp", "/tmp", ".")


def sqlite_temp_dir() -> tuple[Path, str | None]:
    """SQLite's temporary folder and the environment variable that chose it (None: a default
    folder)."""
    for name in _ENV_VARS:
        value = os.environ.get(name)
        if value and _usable(value):
            return Path(value), name
    for folder in _DEFAULT_DIRS:
        if _usable(folder):
            return Path(folder).resolve(), None
    return Path.cwd(), None


def _usable(folder: str) -> bool:
    return os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)


def _free(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _size(count: int | None) -> str:
    if count is None:
        return "unknown"
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:,.0f} bytes" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TB"


def full_disk_error(target: Path, what: str) -> TargetError:
    """The error for ``SQLITE_FULL`` while ``what``: the temporary folder when it is on another
    disk with less room than the target's (named with the variable to set), else the
    target's disk."""
    temp, variable = sqlite_temp_dir()
    folder = target.parent
    temp_free, target_free = _free(temp), _free(folder)
    try:
        same_disk = temp.stat().st_dev == folder.stat().st_dev
    except OSError:
        same_disk = True
    if not same_disk and temp_free is not None and (target_free is None or temp_free < target_free):
        chosen = f" (chosen by {variable})" if variable else ""
        return TargetError(
            f"SQLite's temporary folder {temp}{chosen} is full ({what}; {_size(temp_free)} free "
            f"there, {_size(target_free)} beside the target {target}); nothing was written",
            hint="Free space there, or set SQLITE_TMPDIR to a folder with room (it needs about "
            "as much as the largest table), and run again.",
        )
    return TargetError(
        f"target {target}: the disk is full ({what}); nothing was written",
        hint=f"Free some space in {folder} ({_size(target_free)} free) and run again.",
    )
