"""A SQLite file's virtual tables (a full-text index: ``CREATE VIRTUAL TABLE … USING fts5``)
and the shadow tables their module keeps its data in (``posts_fts_data``, ``_idx``…).

Neither is a table of the app's data: a full-text index over ``posts`` repeats ``posts``' text,
and its shadow tables hold the module's own binary pages. ``ferry init`` leaves them out of a
draft and says what they are; a SQLite target gets the index made again and rebuilt from its
content table (:mod:`ferry.shape.virtualtables`).
"""

from __future__ import annotations

import contextlib
import sqlite3

from ..shape.virtualtables import VirtualTable, parse_virtual

#: the shadow tables each module keeps, by the suffix after ``<virtual table>_``
_SHADOWS = ("data", "idx", "docsize", "config", "content", "segments", "segdir", "stat")


def virtual_tables(conn: sqlite3.Connection) -> dict[str, VirtualTable]:
    """The file's virtual tables by name."""
    return {
        str(name): parse_virtual(str(name), str(sql))
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
            "AND sql LIKE 'CREATE VIRTUAL TABLE%'"
        )
    }


def not_data(conn: sqlite3.Connection) -> dict[str, str]:
    """Table name -> what it is, for each virtual table and each shadow table of one."""
    virtual = virtual_tables(conn)
    found = {name: table.describe() for name, table in virtual.items()}
    shadows: set[str] = set()
    with contextlib.suppress(sqlite3.Error):  # SQLite 3.37+ knows them (module loaded)
        shadows = {
            str(row[0])
            for row in conn.execute("SELECT name FROM pragma_table_list WHERE type = 'shadow'")
        }
    names = [str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master")]
    for name in names:
        owner = next(
            (v for v in virtual if any(name == f"{v}_{suffix}" for suffix in _SHADOWS)), None
        )
        if owner is not None or name in shadows:
            owner = owner or next((v for v in virtual if name.startswith(f"{v}_")), "?")
            found[name] = f"where SQLite keeps the index of {owner} (its shadow table)"
    return found
