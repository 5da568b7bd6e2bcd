"""A new SQLite target a killed run had begun: removed on the next start, with a note.

A run that creates the target file records that first, in a marker beside it
(``app.db.ferry-new``: the process id and host). A run that ends, committed or not, removes the
marker (and, when nothing was committed, the file). A marker still there at the next start
means the run that made the file was killed. The file is removed only when it is provably
that run's half-made file: the process is gone, and the file — once SQLite has rolled its hot
journal back, under an exclusive lock — holds no table at all. A file that holds anything
(the kill came after the commit) is kept, and only the marker goes. Nothing else is touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

_SUFFIXES = ("", "-journal", "-wal", "-shm")


def marker_path(target: Path) -> Path:
    """Where a run that creates ``target`` records it."""
    return target.with_name(target.name + ".ferry-new")


def mark_new(target: Path) -> None:
    """Record that this process is about to create ``target``."""
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    marker_path(target).write_text(json.dumps(record), encoding="utf-8")


def unmark(target: Path) -> None:
    """The run that created ``target`` ended (committed, or removed the file)."""
    with contextlib.suppress(FileNotFoundError):
        marker_path(target).unlink()


def clear_half_made(target: Path) -> str | None:
    """Remove ``target`` when it is a killed run's half-made new file (see the module); the
    note to show when something was removed, else None."""
    marker = marker_path(target)
    try:
        with marker.open("rb") as handle:  # a marker is a few bytes: never read more
            record = json.loads(handle.read(64 * 1024).decode("utf-8"))
        pid, host = int(record["pid"]), str(record["host"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None  # not a marker Ferry wrote: leave everything as it is
    if host != socket.gethostname() or _alive(pid):
        return None  # a run still making it, or another machine's: not ours to judge
    if target.exists() and not _empty_after_recovery(target):
        unmark(target)  # the run committed before it was killed: the file is the target
        return None
    for suffix in _SUFFIXES:
        with contextlib.suppress(FileNotFoundError):
            Path(str(target) + suffix).unlink()
    unmark(target)
    return (
        f"removed {target}: an empty database file a killed Ferry run (pid {pid}, started "
        f"{record.get('started_at', '?')}) had begun creating; no file was there before it"
    )


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # (no safe liveness check without extra packages: keep the file)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _empty_after_recovery(path: Path) -> bool:
    """True when the database, its hot journal rolled back, holds no schema object at all;
    False when it holds something, is in use, or is not a SQLite file."""
    try:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        conn.execute("BEGIN EXCLUSIVE")  # rolls a hot journal back; fails when in use
        (count,) = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("ROLLBACK")
        return bool(count == 0)
    except sqlite3.Error:
        return False
    finally:
        conn.close()
