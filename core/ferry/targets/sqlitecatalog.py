"""What a SQLite target is and holds, read from the file: the dialect SQL behind the
questions :class:`~ferry.targets.base.Target` answers for ``check``, the schema steps and
verify (its version, whether the file may be written, the names taken, whether a relation
exists, the database's own foreign-key check), kept apart from the loading in
:mod:`ferry.targets.sqlite`."""

from __future__ import annotations

import os
from pathlib import Path

from .base import Privilege, Target


async def server_version(target: Target) -> str:
    """``SQLite 3.45.1``."""
    return "SQLite " + str(await target.scalar("SELECT sqlite_version()", "reading the version"))


def privileges(path: Path) -> list[Privilege]:
    """The file (or, before it exists, its folder) must be writable."""
    where = path if path.exists() else path.parent
    ok = os.access(where, os.W_OK)
    return [
        Privilege(
            "privileges",
            ok,
            f"{where} is {'writable' if ok else 'read-only'}",
            "" if ok else "Ferry needs to write the target file and its folder.",
        )
    ]


async def relation_exists(target: Target, name: str) -> bool:
    """A table or view of that name, whatever its (ASCII) case."""
    literal = name.replace("'", "''")
    sql = f"SELECT count(*) FROM sqlite_master WHERE name = '{literal}' COLLATE NOCASE"
    return bool(await target.scalar(sql, f"looking for view {name}"))


async def names_taken(target: Target) -> list[tuple[str, str]]:
    """``(name, type)`` of everything in ``sqlite_master``."""
    rows = await target.fetch_dicts(
        "SELECT name, type FROM sqlite_master", "the names taken in the target"
    )
    return [(str(r["name"]), str(r["type"])) for r in rows]


async def reference_violations(target: Target, table: str) -> int:
    """Rows ``PRAGMA foreign_key_check`` finds without a parent in ``table``."""
    name = "'" + table.replace("'", "''") + "'"
    found = await target.scalar(
        f"SELECT count(*) FROM pragma_foreign_key_check({name})", "fk check"
    )
    return int(found or 0)
