"""Fewer malloc arenas for a run's worker threads, so its memory stays near what it holds.

glibc gives each thread that allocates its own arena (up to eight per core), and memory freed
into an arena stays there for that arena's next allocations. A run reads, maps and writes in
several worker threads (``asyncio.to_thread``), so each arena kept a high-water mark of
batches of its own: at full size about 20 MiB of a compare-first re-run's peak RSS (141 →
121 MiB with one arena; its CPU time the same). The first run of a process therefore caps new
arenas at :data:`ARENAS`, as ``MALLOC_ARENA_MAX`` would. Where the C library is not glibc
(macOS, Windows, musl), or where ``MALLOC_ARENA_MAX`` is set (the user's choice wins),
nothing changes.
"""

from __future__ import annotations

import os
import sys

#: new threads share this many arenas (besides the main one)
ARENAS = 1
#: ``mallopt``'s parameter number for the arena cap (glibc's ``malloc.h``)
_M_ARENA_MAX = -8

_capped: bool | None = None


def cap_arenas() -> bool:
    """Cap glibc's malloc arenas at :data:`ARENAS` (once per process; later calls answer
    what the first did): whether they are capped now."""
    global _capped
    if _capped is None:
        _capped = _cap()
    return _capped


def _cap() -> bool:
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None)  # the process's own C library
        if not hasattr(libc, "gnu_get_libc_version"):
            return False  # not glibc: its mallopt knows no arena cap
        return bool(libc.mallopt(_M_ARENA_MAX, ARENAS))
    except (OSError, AttributeError):
        return False


__all__ = ["ARENAS", "cap_arenas"]
