"""A SQLite target file's change counter: tells, without reading a table, that nobody wrote
the file since Ferry's last commit.

The database header's *file change counter* (offset 24, big-endian) goes up by one with each
write transaction that commits in rollback-journal mode (the mode Ferry finds most app files
in; a new file's first commit sets it to 1). Read while the run holds its transaction's lock
(no other connection can commit meanwhile), it is the counter the last commit left; Ferry's
own commit, which writes the kept state, leaves one more. A delta run that finds the counter
where the last run's commit left it knows the file, every table in it, is as that run left
it (:mod:`ferry.load.rowprints`). In WAL mode commits go to the ``-wal`` file and leave the
counter where it was: no counter is given then, nor when the header is not one SQLite wrote
consistently (``version-valid-for``, offset 92, differs).

The header is read through a descriptor opened once the connection holds its lock and closed
only after the connection is closed: on POSIX, closing any descriptor of a file drops every
lock the process holds on it (SQLite's own connection's lock included), so the descriptor
must not be closed while the run's transaction is open.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_HEADER = 100
#: the journal-mode bytes of the header (offsets 18, 19): 1 rollback journal, 2 WAL
_ROLLBACK = 1
_SPAN = 2**32


class FileCounter:
    """The change counter of one SQLite file, read once under the run's lock."""

    def __init__(self) -> None:
        self._fd: int | None = None
        #: the counter when the run's transaction began (None: not usable)
        self.at_open: int | None = None

    def read(self, path: Path) -> None:
        """Read the counter (the connection holds its transaction's lock)."""
        self.close()
        try:
            self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            os.lseek(self._fd, 0, os.SEEK_SET)
            head = os.read(self._fd, _HEADER)
        except OSError:
            self.at_open = None
            return
        if not head:
            self.at_open = 0  # a file this run creates: its first commit sets 1
            return
        if len(head) < _HEADER or head[18] != _ROLLBACK or head[19] != _ROLLBACK:
            self.at_open = None
            return
        counter = int.from_bytes(head[24:28], "big")
        self.at_open = counter if counter == int.from_bytes(head[92:96], "big") else None

    def after_commit(self) -> int | None:
        """The counter the run's commit leaves, when it writes (None: not usable)."""
        return None if self.at_open is None else (self.at_open + 1) % _SPAN

    def close(self) -> None:
        """Close the descriptor: only once the connection is closed (module docstring)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


__all__ = ["FileCounter"]
