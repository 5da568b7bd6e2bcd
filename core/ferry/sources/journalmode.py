"""Whether an app's SQLite files are in WAL mode, read from their headers.

WAL mode is a property of the database file (``PRAGMA journal_mode=WAL`` once, and it stays):
an app that set it once relies on it (readers never block its writer). A SQLite file Ferry
creates as the target starts in the default rollback-journal mode, so a run that creates one
from sources in WAL mode puts it in WAL mode too once it commits (see
:class:`ferry.targets.sqlite.SqliteTarget`). Bytes 18 and 19 of the header, the file format's
write and read versions, are 2 in WAL mode (SQLite's file format, section 1.3.3): read as
bytes, with no connection that could take a lock or change the file, through a descriptor
kept open (:mod:`ferry.sources.heldfiles`: closing one would drop a reader's locks).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .base import SourceReader
from .heldfiles import read_head


def in_wal_mode(path: Path) -> bool:
    """True when the SQLite file ``path`` is in WAL mode (False when unreadable)."""
    try:  # (never through a descriptor closed again: it would drop our readers' locks)
        header = read_head(path, 20)
    except OSError:
        return False
    return header.startswith(b"SQLite format 3\x00") and header[18:20] == b"\x02\x02"


def sources_in_wal(readers: Iterable[SourceReader]) -> bool:
    """True when the plan reads SQLite files and every one of them is in WAL mode."""
    files = [p for r in readers if r.capabilities.sqlite_file for p in r.files_now()]
    return bool(files) and all(in_wal_mode(p) for p in files)


__all__ = ["in_wal_mode", "sources_in_wal"]
