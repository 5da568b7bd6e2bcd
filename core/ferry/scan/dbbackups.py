"""SQLite files that are backup copies of another SQLite file beside them.

JupyterHub's ``upgrade-db`` copies ``jupyterhub.sqlite`` to ``jupyterhub.sqlite.<date>``
before each schema upgrade, and a long-lived hub's folder holds one per upgrade; operators
keep ``app.db.bak`` or ``app.db.old`` the same way. ``ferry init`` drafted each as a second
source: its tables again under prefixed names (``jupyterhub_sqlite_users``), tables the app
has since dropped (``oauth_access_tokens``) and rows it has deleted (the API tokens the
upgrade revoked) went into the target. Such a file is skipped, named with the database it
copies, when that database is beside it.
"""

from __future__ import annotations

import re
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"

#: what follows a database's whole name in a copy of it: a date or time
#: (``.2026-12-07-232032``, then ``...1``), ``.bak``, ``.backup``, ``.old``, ``.orig``, a number,
#: an editor's ``~``
_BACKUP_SUFFIX = re.compile(
    r"^(?:[._-]+(?:\d[\d._:T-]*|bak|backup|old|orig|prev|save)(?:[._-]\d+)?)?~?$", re.I
)


def _sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def backup_of(path: Path) -> str:
    """The name of the SQLite file beside ``path`` that ``path`` copies, by its name: that
    file's whole name and a backup suffix ("" for any other file)."""
    for sibling in sorted(path.parent.iterdir()):
        rest = path.name[len(sibling.name) :]
        if (
            sibling != path
            and rest
            and path.name.startswith(sibling.name)
            and _BACKUP_SUFFIX.match(rest)
            and sibling.is_file()
            and _sqlite(sibling)
        ):
            return sibling.name
    return ""


def backup_reason(database: str) -> str:
    """Why a backup copy of ``database`` is skipped."""
    return (
        f"a backup copy of the SQLite file {database} (its name and a date or backup "
        "suffix): an older state of that database, not read (its tables would be drafted a "
        "second time, and rows the app has deleted since would come back); add it under "
        "[[sources]] if the app reads it"
    )


__all__ = ["backup_of", "backup_reason"]
