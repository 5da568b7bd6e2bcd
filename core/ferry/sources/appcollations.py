"""Collations an app registers itself, named in its SQLite file's schema.

Anki declares its names ``COLLATE unicase`` and registers that collation on each connection it
opens; the file does not hold it. Without it SQLite refuses every statement that touches such a
column's index (``no such collation sequence: unicase``), a plain ``count(*)`` included, and
``ferry init`` could read nothing of the file. Each connection Ferry opens on a SQLite file
registers a stand-in for every collation the file's schema names that SQLite does not have: it
compares the texts case-insensitively (Unicode case folding, as Anki's ``unicase`` does). Ferry
reads whole tables in their stored order and never searches an index by such a column, so the
stand-in decides nothing it reads. A target does not get the collation (it is named as not
carried: :func:`ferry.shape.typemap.settle_collations`).
"""

from __future__ import annotations

import re
import sqlite3

#: the collations every SQLite has
BUILT_IN = frozenset({"BINARY", "NOCASE", "RTRIM"})
_COLLATE = re.compile(
    r"""\bCOLLATE\s+(?:"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|'((?:[^']|'')+)'|(\w+))""",
    re.IGNORECASE,
)


def named_collations(schema_sql: str) -> set[str]:
    """The collations ``schema_sql`` (CREATE statements) names that SQLite does not have."""
    found = set()
    for match in _COLLATE.finditer(schema_sql):
        name = next(g for g in match.groups() if g is not None)
        if name.upper() not in BUILT_IN:
            found.add(name)
    return found


def stand_in(a: str, b: str) -> int:
    """Compares two texts case-insensitively (Unicode case folding)."""
    left, right = a.casefold(), b.casefold()
    return (left > right) - (left < right)


def register_app_collations(conn: sqlite3.Connection, schema: str = "main") -> list[str]:
    """Register :func:`stand_in` for each collation the file's (or the attached ``schema``'s)
    CREATE statements name that SQLite does not have; returns their names, sorted."""
    try:
        rows = conn.execute(
            f"SELECT sql FROM \"{schema}\".sqlite_master WHERE sql LIKE '%COLLATE%'"
        ).fetchall()
    except sqlite3.Error:
        return []  # not a database, locked: the caller's own statement says so
    names = sorted(named_collations("\n".join(str(r[0]) for r in rows)))
    for name in names:
        conn.create_collation(name, stand_in)
    return names


__all__ = ["BUILT_IN", "named_collations", "register_app_collations", "stand_in"]
