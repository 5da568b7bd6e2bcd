"""A SQLite file's bytes read, or its locks asked about, without closing a descriptor of it
while a reader of this process needs its locks.

POSIX advisory locks belong to a process and a file: closing *any* descriptor of the file drops
every lock the process holds on it, those of SQLite's own connections included (SQLite's "How
To Corrupt", 2.2). A reader's read transaction on a database in WAL mode rests on such locks
(a shared lock on the database file, its read mark in the ``-shm``): with them gone, the app's
last connection closing checkpoints the ``-wal`` into the file and deletes it, and the reader
goes on reading rows of later commits — a torn copy, or SQLite's "database disk image is
malformed" (seen moving a live Buildbot master; a re-run read its file as damaged). So a
database file (or its ``-shm``) is opened here once per file (device, inode) and kept open, as
SQLite's own VFS keeps the descriptors it would close while a lock is held: until the last
reader of that file that said so (:func:`hold`) lets go of it (:func:`let_go`, after closing
its connection: a failed run leaves no handle of its source open), or the file is deleted.
Where the system has no ``pread`` (Windows, whose locks are per handle) the file is opened and
closed as usual.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

#: (device, inode) -> the descriptor kept open
_HELD: dict[tuple[int, int], int] = {}
#: (device, inode) -> how many readers hold the file open (their connections' locks)
_USERS: dict[tuple[int, int], int] = {}
_LOCK = threading.Lock()


def held_descriptor(path: Path | str) -> int:
    """A read-only descriptor of ``path``, opened once per file and never closed (OSError
    when it cannot be opened)."""
    with _LOCK:
        _let_go_of_deleted()
        stat = os.stat(path)
        found = _HELD.get((stat.st_dev, stat.st_ino))
        if found is not None:
            return found
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        opened = os.fstat(fd)
        key = (opened.st_dev, opened.st_ino)
        if key in _HELD:  # (replaced between the stat and the open: that one is held already)
            os.close(fd)  # its file has another descriptor open: no lock of ours goes with it
            return _HELD[key]
        _HELD[key] = fd
        return fd


def _let_go_of_deleted() -> None:
    """Close the descriptors of files deleted since (no path names them: no other process can
    open them, so no lock of theirs is in play); a source replaced each cycle of a long
    ``ferry sync`` would otherwise keep one open per cycle."""
    for key, fd in list(_HELD.items()):
        try:
            gone = os.fstat(fd).st_nlink == 0
        except OSError:
            gone = True
        if gone:
            del _HELD[key]
            with contextlib.suppress(OSError):
                os.close(fd)


def hold(path: Path | str) -> tuple[int, int] | None:
    """Note a reader opening a connection to ``path``: descriptors of the file are kept open
    until it lets go (None: no such file)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (stat.st_dev, stat.st_ino)
    with _LOCK:
        _USERS[key] = _USERS.get(key, 0) + 1
    return key


def let_go(key: tuple[int, int] | None) -> None:
    """The reader that :func:`hold` returned ``key`` to closed its connection: with no other
    reader of the file left, its kept descriptor is closed (no lock of ours is on it)."""
    if key is None:
        return
    with _LOCK:
        left = _USERS.get(key, 1) - 1
        if left > 0:
            _USERS[key] = left
            return
        _USERS.pop(key, None)
        fd = _HELD.pop(key, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def read_head(path: Path | str, size: int) -> bytes:
    """The first ``size`` bytes of the file (fewer when it is shorter)."""
    if not hasattr(os, "pread"):
        with open(path, "rb") as handle:
            return handle.read(size)
    return os.pread(held_descriptor(path), size, 0)


__all__ = ["held_descriptor", "hold", "let_go", "read_head"]
