"""Who holds a SQLite file's locks, asked without taking any (for the cutover's quiet check).

SQLite's unix VFS locks byte ranges of the database file with POSIX advisory locks
(``fcntl``): a write transaction holds a write lock on the RESERVED byte, a commit the
PENDING byte and then the whole SHARED range; every reader holds a read lock in the SHARED
range. In WAL mode the writer's lock is instead byte 120 of the ``-shm`` file
(``WAL_WRITE_LOCK``), a checkpoint holds byte 121, and every open connection a read lock on
byte 128 (``DMS``). ``fcntl(F_GETLK)`` asks whether a lock *could* be placed and names a
holder that conflicts, without placing anything.

Why not ``BEGIN IMMEDIATE`` on a connection of Ferry's own, with ``busy_timeout`` 0: it
needs a read-write connection, and such a connection may change the file it only looks at (it
rolls back a hot journal, checkpoints the WAL and removes it when it is the last to close);
and while it holds RESERVED, even for a moment, the application's own writer gets "database
is locked". A read-only connection cannot tell a writer apart at all: it reads past RESERVED
and, in WAL mode, past every writer. ``F_GETLK`` changes nothing and blocks nobody.

Limits: where there are no POSIX locks (Windows) nothing is probed (:func:`probe` returns
None) and the settle watch alone applies; locks held by Ferry's own process are never seen
(POSIX locks do not conflict within a process); and closing any file handle of the database
drops every POSIX lock this process holds on it, so probe only while Ferry itself has no
connection open on the file.
"""

from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from ..sources.heldfiles import held_descriptor

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

#: sqlite3PendingByte's default (os.h): the lock bytes sit at 1 GiB, beyond most files' data
PENDING_BYTE = 0x40000000
RESERVED_BYTE = PENDING_BYTE + 1
SHARED_FIRST = PENDING_BYTE + 2
SHARED_SIZE = 510
#: the -shm file's lock bytes (os_unix.c: UNIX_SHM_BASE, UNIX_SHM_DMS)
SHM_WRITE = 120
SHM_CHECKPOINT = 121
SHM_DMS = 128
#: the first 8 bytes of a rollback journal that still holds a transaction's pages
JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")

# struct flock, as the C library lays it out (off_t is 64 bits: Python is built with LFS)
if sys.platform.startswith("linux"):
    _FLOCK, _ORDER = "@hhqqi0q", ("type", "whence", "start", "len", "pid")
elif sys.platform == "darwin" or "bsd" in sys.platform:
    _FLOCK, _ORDER = "@qqihh", ("start", "len", "pid", "type", "whence")
else:
    _FLOCK, _ORDER = "", ()


@dataclass(frozen=True)
class SqliteLocks:
    """What other processes hold on one SQLite file; pids are 0 when the system hides them."""

    #: a write transaction is open (RESERVED lock, or the WAL write lock)
    writer: int | None = None
    #: a commit or checkpoint is writing the database file now
    committing: int | None = None
    #: processes that have it open for reading (a note, not a reason to wait)
    reader: int | None = None
    #: a rollback journal still holds a transaction no one is running (a crashed writer)
    hot_journal: bool = False


def _holder(fd: int, lock_type: int, start: int, length: int) -> int | None:
    """The pid of a lock that conflicts with ``lock_type`` on the range (0: unknown pid),
    None when the lock could be placed."""
    assert fcntl is not None
    fields = {"type": lock_type, "whence": os.SEEK_SET, "start": start, "len": length, "pid": 0}
    packed = struct.pack(_FLOCK, *(fields[name] for name in _ORDER))
    got = struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, packed))
    answer = dict(zip(_ORDER, got, strict=True))
    if answer["type"] == fcntl.F_UNLCK:
        return None
    return max(int(answer["pid"]), 0)


def _probe_file(path: Path, ranges: list[tuple[str, int, int, int]]) -> dict[str, int]:
    """``name -> holder pid`` for each (name, lock type, start, length) that conflicts."""
    try:  # kept open: closing it would drop the locks this process's readers hold on it
        fd = held_descriptor(path)
    except FileNotFoundError:
        return {}
    found = {}
    for name, lock_type, start, length in ranges:
        pid = _holder(fd, lock_type, start, length)
        if pid is not None:
            found[name] = pid
    return found


def _hot_journal(path: Path) -> bool:
    try:
        with Path(f"{path}-journal").open("rb") as handle:
            return handle.read(8) == JOURNAL_MAGIC
    except OSError:
        return False


def probe(path: Path) -> SqliteLocks | None:
    """The locks other processes hold on the SQLite file ``path`` and its ``-shm``, asked
    without placing any; None where the system has no POSIX locks to ask about."""
    if fcntl is None or not _FLOCK:
        return None
    write, read = fcntl.F_WRLCK, fcntl.F_RDLCK
    main = _probe_file(
        path,
        [
            ("reserved", write, RESERVED_BYTE, 1),
            ("pending", write, PENDING_BYTE, 1),
            ("exclusive", read, SHARED_FIRST, SHARED_SIZE),  # only a writer blocks a reader
            ("shared", write, SHARED_FIRST, SHARED_SIZE),
        ],
    )
    shm = _probe_file(
        Path(f"{path}-shm"),
        [
            ("wal_write", write, SHM_WRITE, 1),
            ("checkpoint", write, SHM_CHECKPOINT, 1),
            ("open", write, SHM_DMS, 1),
        ],
    )
    writer = main.get("reserved", shm.get("wal_write"))
    committing = main.get("pending", main.get("exclusive", shm.get("checkpoint")))
    return SqliteLocks(
        writer=writer,
        committing=committing,
        reader=main.get("shared", shm.get("open")),
        hot_journal=writer is None and committing is None and _hot_journal(path),
    )
