"""SQLite's conflict clauses (``email TEXT UNIQUE ON CONFLICT REPLACE``): kept on a SQLite
target, named as not carried on PostgreSQL.

A conflict clause changes what the app's plain statements do: with ``ON CONFLICT REPLACE`` an
``INSERT`` of an email already taken deletes the old row and inserts the new one, with
``IGNORE`` it is dropped without an error. PostgreSQL's constraints have no such clause, so
there the same ``INSERT`` fails with a unique violation; the app would have to say ``INSERT …
ON CONFLICT (email) DO UPDATE`` itself. SQLite's PRAGMAs do not give the clause: it is read
from the table's SQL. ``ABORT`` is the default and means nothing here.
"""

from __future__ import annotations

import re

from .identifiers import split_arguments

_CLAUSE = re.compile(r"\bON\s+CONFLICT\s+(ROLLBACK|ABORT|FAIL|IGNORE|REPLACE)\b", re.I)
_NAME = r'(?:"(?:[^"]|"")+"|\[[^\]]+\]|`[^`]+`|[\w$]+)'
_TABLE_CONSTRAINT = re.compile(
    rf"^\s*(?:CONSTRAINT\s+{_NAME}\s+)?(PRIMARY\s+KEY|UNIQUE)\s*\((?P<columns>[^)]*)\)", re.I
)
_COLUMN = re.compile(rf"^\s*(?P<name>{_NAME})")
_COLUMN_CLAUSE = re.compile(
    r"\b(PRIMARY\s+KEY|UNIQUE|NOT\s+NULL)\b(?:\s+(?:ASC|DESC))?"
    r"\s+ON\s+CONFLICT\s+(ROLLBACK|ABORT|FAIL|IGNORE|REPLACE)\b",
    re.I,
)
#: what each clause made SQLite do with a row that broke the constraint
_DID = {
    "REPLACE": "replaced the row holding it (or, for NOT NULL, took the column's default)",
    "IGNORE": "skipped the new row without an error",
    "FAIL": "stopped the statement, keeping the rows it had changed",
    "ROLLBACK": "rolled the whole transaction back",
}


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] + name[-1] in ('""', "[]", "``"):
        return name[1:-1]
    return name


def sqlite_conflicts(create_sql: str) -> dict[tuple[str, ...], str]:
    """The conflict clauses of a SQLite ``CREATE TABLE`` other than ``ABORT``:
    ``("pk",)``, ``("unique", *columns)`` or ``("not null", column)`` -> the action."""
    if not _CLAUSE.search(create_sql):
        return {}  # the common case, without parsing
    body = create_sql[create_sql.find("(") + 1 : create_sql.rfind(")")]
    found: dict[tuple[str, ...], str] = {}
    for part in split_arguments(body):
        table_level = _TABLE_CONSTRAINT.match(part)
        clause = _CLAUSE.search(part)
        if table_level and clause:
            columns = tuple(
                _unquote(c.split()[0]) for c in table_level.group("columns").split(",") if c.strip()
            )
            kind = "pk" if table_level.group(1).upper().startswith("PRIMARY") else "unique"
            key = ("pk",) if kind == "pk" else ("unique", *columns)
            found[key] = clause.group(1).upper()
            continue
        column = _COLUMN.match(part)
        if column is None:
            continue
        name = _unquote(column.group("name"))
        for constraint, action in _COLUMN_CLAUSE.findall(part):
            what = " ".join(constraint.upper().split())
            key = {"PRIMARY KEY": ("pk",), "UNIQUE": ("unique", name)}.get(what, ("not null", name))
            found[key] = action.upper()
    return {key: action for key, action in found.items() if action != "ABORT"}


def without_conflicts(create_sql: str) -> str:
    """The statement without its conflict clauses (sqlglot does not parse them)."""
    return _CLAUSE.sub("", create_sql)


def not_carried(key: tuple[str, ...], action: str) -> str:
    """What a PostgreSQL target goes without, for ``check``, the preview and the report."""
    if key[0] == "pk":
        what = "the PRIMARY KEY"
    elif key[0] == "unique":
        what = f"UNIQUE ({', '.join(key[1:])})"
    else:
        what = f"NOT NULL of column {key[1]}"
    return (
        f"ON CONFLICT {action} of {what}: SQLite {_DID[action]} on a conflicting INSERT or "
        "UPDATE; PostgreSQL refuses it with an error (the app's statement needs INSERT … ON "
        "CONFLICT … DO UPDATE or DO NOTHING)"
    )


__all__ = ["not_carried", "sqlite_conflicts", "without_conflicts"]
