"""Faults the automatic backup meets first, told the way the step that owns them tells them.

``ferry migrate`` backs up before it reads anything, so a missing source file, a file that is
not SQLite, or a source or target locked by another program is met by the backup first. Such a
fault is not about the backup: it gets the error ``--no-backup`` would give (a SourceError,
exit 4, or a TargetError, exit 5) with that error's hint. Only faults of the backup itself (no
space, a folder that cannot be written) stay BackupErrors (exit 8), the error of this package.
"""

from __future__ import annotations

import sqlite3

from ..errors import FerryError
from ..plan import Plan
from ..sources import open_source


class BackupError(FerryError):
    """A backup cannot be made, is not intact, or cannot be restored."""

    exit_code = 8


def source_fault(plan: Plan, source: str, exc: BaseException | None = None) -> FerryError | None:
    """The error the reader of ``source`` gives for the fault the backup met, or None.

    ``exc`` is what copying a SQLite source raised (its reader translates it, so no second
    wait on a lock); without it (a missing file, an unreadable one) the reader opens the source
    and its own complaint is returned.
    """
    spec = next((s for s in plan.sources if s.name == source), None)
    if spec is None:
        return None
    reader = open_source(spec, plan.base_dir)
    try:
        if isinstance(exc, sqlite3.Error):
            return reader.translate_error(exc)
        reader.describe()
    except FerryError as error:
        return error
    finally:
        reader.close()
    return None


def sqlite_target_fault(plan: Plan, exc: sqlite3.Error) -> FerryError:
    """The TargetError opening the SQLite target would give for what its backup met (a lock,
    a file that is not a database, one that cannot be read)."""
    from ..targets.sqlite import SqliteTarget

    return SqliteTarget(plan.target, plan.base_dir).wrap(exc, "backing up the target")
