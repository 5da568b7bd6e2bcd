"""A SQLite column's declared type name: the logical type it reads as (SQLite's affinity
rules), when a SQLite → SQLite move keeps the name as it is, and its ``COLLATE``.

Read by the SQLite source (each column's type) and by the table Ferry creates in a SQLite
target: a time's, a date's, a flag's and a float's own name (``TIMESTAMP``, ``DATE``,
``BOOL``, ``REAL``) is kept where it reads as the same type, because an app may go by the
name — Python's sqlite3 with ``detect_types=PARSE_DECLTYPES`` (Flask's tutorial app) turns a
``TIMESTAMP`` or ``DATE`` column's text into a datetime; Ferry's ``DATETIME`` gave it a string.
"""

from __future__ import annotations

import re

from ..values.logical import LogicalType
from .conflicts import without_conflicts

_FLOAT_WORDS = ("REAL", "FLOA", "DOUB")
_DECIMAL_WORDS = ("NUMERIC", "DECIMAL")
_TIMESTAMP_WORDS = ("DATETIME", "TIMESTAMP", "TIME")


def sqlite_logical_type(declared: str) -> LogicalType:
    """The logical type for a column's declared type, after SQLite's affinity rules.

    ``INT`` anywhere -> integer; ``REAL``/``FLOA``/``DOUB`` -> float; ``NUMERIC``/``DECIMAL``
    -> decimal (exact: a float read back as its shortest text);
    ``BOOL`` -> boolean; exactly ``DATE`` -> date; exactly ``TIME`` -> text (a time of day,
    kept as written); ``DATETIME``/``TIMESTAMP`` -> timestamp; ``JSON`` -> json; ``BLOB`` ->
    bytes; anything else, and no type at all -> text.
    """
    word = declared.strip().upper()
    if "INT" in word:
        return "integer"
    if "BOOL" in word:
        return "boolean"
    if any(part in word for part in _FLOAT_WORDS):
        return "float"
    if any(part in word for part in _DECIMAL_WORDS):
        return "decimal"
    if re.fullmatch(r"DATE(\s*\(.*\))?", word):
        return "date"
    if re.fullmatch(r"TIME(\s*\(.*\))?", word):
        return "text"  # a time of day: kept as written (docs/database-moves.md, "Types")
    if any(part in word for part in _TIMESTAMP_WORDS):
        return "timestamp"
    if "JSON" in word:
        return "json"
    if "BLOB" in word:
        return "bytes"
    return "text"


#: logical types a SQLite → SQLite move creates under the source's own type name
SQLITE_KEPT = ("timestamp", "date", "boolean", "float")
_NAME_ONLY = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+(\s*,\s*\d+)?\s*\))?$")


def sqlite_kept_name(logical: str, declared: str) -> str:
    """``declared`` when a SQLite target's column of ``logical`` type keeps that name (one of
    :data:`SQLITE_KEPT`, a plain name that reads as the same type), else ""."""
    if logical in SQLITE_KEPT and _NAME_ONLY.match(declared):
        return declared if sqlite_logical_type(declared) == logical else ""
    return ""


def sqlite_collations(create_sql: str) -> dict[str, str]:
    """Column -> its ``COLLATE`` name, read from a SQLite ``CREATE TABLE`` statement."""
    if "COLLATE" not in create_sql.upper():
        return {}  # the common case, without parsing
    try:
        import sqlglot
        from sqlglot import exp
    except ImportError:  # pragma: no cover - a dependency; without it collations are not read
        return {}
    try:
        # sqlglot does not read conflict clauses (UNIQUE ON CONFLICT REPLACE), nor need them
        parsed = sqlglot.parse_one(without_conflicts(create_sql), read="sqlite")
    except sqlglot.errors.ParseError:
        return {}
    found: dict[str, str] = {}
    for column in parsed.find_all(exp.ColumnDef):
        for constraint in column.args.get("constraints") or []:
            kind = constraint.kind
            if isinstance(kind, exp.CollateColumnConstraint):
                found[column.name] = kind.this.name
            # ``DEFAULT 'Unknown' COLLATE NOCASE`` (calibre's books.title): sqlglot reads the
            # collation into the default's expression; SQLite's grammar makes it the column's
            elif isinstance(kind, exp.DefaultColumnConstraint) and isinstance(
                kind.this, exp.Collate
            ):
                found[column.name] = kind.this.expression.name
    return found


__all__ = ["SQLITE_KEPT", "sqlite_collations", "sqlite_kept_name", "sqlite_logical_type"]
