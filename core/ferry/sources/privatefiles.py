"""Source files only their owner may read: a SQLite file Ferry creates from them is made so too.

Home Assistant keeps its users' password hashes and refresh tokens in ``.storage/auth`` and
``.storage/auth_provider.homeassistant``, readable by their owner only (mode 0600). Moved into
a new SQLite file made with the process's umask (0644), they became readable by every user of
the machine. A new target file gets the owner-only mode when one of the plan's source files
has it, and the run says so.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path

from .base import SourceReader


def private_source(readers: Iterable[SourceReader]) -> Path | None:
    """The first source file that neither its group nor others may read, else None."""
    for reader in readers:
        try:
            files = reader.files_now()
        except Exception:  # a source that cannot list its files: not private
            continue
        for path in files:
            try:
                mode = path.stat().st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode) and not mode & (stat.S_IRGRP | stat.S_IROTH):
                return path
    return None


__all__ = ["private_source"]
