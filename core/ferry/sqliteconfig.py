"""SQLite's process-wide settings, made at a command's start before Python's ``sqlite3`` is
imported (importing it starts SQLite, after which they can no longer change).

By default SQLite counts every allocation it makes (``SQLITE_CONFIG_MEMSTATUS``) under one
mutex for the whole process: two threads running statements on two connections at once take
it on every allocation and queue on it, so together they go no faster than one (measured: two
threads each reading half a table, 0.42-0.44 s and up to 0.8 CPU s, against one thread's 0.34 s;
without the count 0.14-0.19 s and 0.26 CPU s; docs/benchmarks.md, 2026-12-07 16:40 UTC). The
count only feeds SQLite's memory statistics and heap limits, which neither Ferry nor Python's
``sqlite3`` read, so the ``ferry`` command turns it off first thing (:mod:`ferry.cli.launch`),
and so does the wizard's own ``ferry-gui`` (``ferry_gui.launch``).
Where SQLite has already started, or its library is not reachable through ``ctypes`` (a
``sqlite3`` DLL of its own on Windows), nothing changes: every result is the same, only
slower.
"""

from __future__ import annotations

import sys

#: ``SQLITE_CONFIG_MEMSTATUS`` (sqlite3.h)
_CONFIG_MEMSTATUS = 9


def configure_sqlite() -> bool:
    """Turn SQLite's allocation count off for this process; True when it was (only possible
    before ``sqlite3`` is first imported: later calls change nothing and say False)."""
    if "_sqlite3" in sys.modules:
        return False
    try:
        import ctypes
        import importlib.util

        spec = importlib.util.find_spec("_sqlite3")
        if spec is None or spec.origin is None:
            return False
        # The extension module's own handle: its symbols, and those of the libsqlite3 it
        # links (loading it runs no Python code; the import later finds it loaded).
        config = ctypes.CDLL(spec.origin).sqlite3_config
    except (ImportError, OSError, AttributeError):
        return False
    config.restype = ctypes.c_int
    config.argtypes = [ctypes.c_int]  # sqlite3_config(int, ...): the rest are variadic
    return bool(config(_CONFIG_MEMSTATUS, ctypes.c_int(0)) == 0)


__all__ = ["configure_sqlite"]
