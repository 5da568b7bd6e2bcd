"""Files in a backup: created owner-only, copied and hashed in chunks, flushed to disk.

The backup (:mod:`ferry.backup.create`), the PostgreSQL dump (:mod:`ferry.backup.pgdump`),
the check and the rollback share these; they import nothing else of Ferry.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

_CHUNK = 1 << 20


def private_file(path: Path) -> int:
    """Create ``path`` (it must not exist) readable by its owner only; returns the fd."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), 0o600)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    return fd


def private_dir(path: Path) -> None:
    """Create one folder readable by its owner only."""
    os.mkdir(path, 0o700)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)


def file_sha256(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def fsync_path(path: Path) -> None:
    """Flush a file (or, on POSIX, a folder entry) to disk."""
    if path.is_dir() and os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_file(source: Path, dest: Path) -> tuple[int, str]:
    """Copy ``source`` into the new owner-only file ``dest``; returns size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as reader, os.fdopen(private_file(dest), "wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    return size, digest.hexdigest()
