"""Early write-back of a SQLite target's file while the run goes on.

A whole copy (:mod:`.sqlitecopy`) writes the table's pages into the target file as SQLite's
page cache spills them, but the kernel keeps them dirty until SQLite's commit syncs the
file: a 957 MB copy then waits half a second at its very end (`VACUUM INTO` pays the same).
Once a table's copy is kept, :class:`WriteBack` syncs the file from a thread of its own, so
the kernel writes those pages while the next tables copy and the commit's own sync finds
little left. It only makes durable sooner what SQLite already wrote: the commit keeps its
own sync and its journal, so a crash before it rolls back as before. Errors are left to that
sync, which reports them.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path


class WriteBack:
    """At most one sync of a file at a time, in a daemon thread; :meth:`wait` before the
    commit (nothing outlives the run)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Sync the file in the background (a sync still running is enough)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._sync, name="ferry-writeback", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Until the sync started last has ended."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _sync(self) -> None:
        with contextlib.suppress(OSError):  # the commit's own sync reports a failing disk
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)


__all__ = ["WriteBack"]
