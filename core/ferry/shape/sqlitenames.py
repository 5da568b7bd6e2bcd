"""A SQLite column's declared type name: the logical type it reads as (SQLite's affinity
rules), when a SQLite → SQLite move keeps the name as it is, and its ``COLLATE``.

Read by the SQLite source (each column's type) and by the table Ferry creates in a SQLite
target: a time's, a date's, a flag's, a float's and an integer's own name (``TIMESTAMP``,
``DATE``, ``BOOL``, ``REAL``, ``INTEGER``, ``INT``, ``SMALLINT``…) is kept where it reads as
the same type, because an app may go by the name — Python's sqlite3 with
``detect_types=PARSE_DECLTYPES`` (Flask's tutorial app) turns a ``TIMESTAMP`` or ``DATE``
column's text into a datetime (Ferry's ``DATETIME`` gave it a string), and an ORM reflecting
the table saw ``BIGINT`` where the app declared ``INTEGER``. A name that would make a column
SQLite's rowid where the source's is not (``INTEGER`` as a table's only key column) is not
kept: :func:`sqlite_becomes_rowid`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.types import Integer, UserDefinedType

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
    kept as written); ``DATETIME``/``TIMESTAMP`` -> timestamp; ``JSON`` -> json; ``BLOB``,
    ``BYTEA`` -> bytes; anything else, and no type at all -> text.
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
    if "BLOB" in word or re.fullmatch(r"BYTEA", word):
        # BYTEA: PostgreSQL's name, which an app declaring one schema for both databases
        # writes in SQLite too (Synapse: filter_json, key_json), storing blobs there
        return "bytes"
    return "text"


#: logical types a SQLite → SQLite move creates under the source's own type name
SQLITE_KEPT = ("timestamp", "date", "boolean", "float", "integer")
_NAME_ONLY = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+(\s*,\s*\d+)?\s*\))?$")


def sqlite_kept_name(logical: str, declared: str) -> str:
    """``declared`` when a SQLite target's column of ``logical`` type keeps that name (one of
    :data:`SQLITE_KEPT`, a plain name that reads as the same type), else ""."""
    if logical in SQLITE_KEPT and _NAME_ONLY.match(declared):
        return declared if sqlite_logical_type(declared) == logical else ""
    return ""


class DeclaredInteger(UserDefinedType[int]):
    """An integer column written as the source declares it (``INT``, ``SMALLINT``): an integer
    to SQLAlchemy, whose SQLite DDL writes ``AUTOINCREMENT`` on an integer only."""

    cache_ok = True

    def __init__(self, declared: str) -> None:
        self.declared = declared

    def get_col_spec(self, **_kw: Any) -> str:
        return self.declared

    @property
    def _type_affinity(self) -> Any:
        return Integer


#: the name of the column a SQLite table's rowid goes by (its ``INTEGER PRIMARY KEY``), no row
#: when it has none: SQLite's own answer, not the declared type's. Every other primary key has
#: an index of its own (origin ``pk``): ``INTEGER PRIMARY KEY DESC`` in a column's definition
#: (a documented quirk: not the rowid, where ``PRIMARY KEY (x DESC)`` is), ``WITHOUT ROWID``,
#: ``INT``, ``BIGINT``, a composite key. Parameter: the table's name.
ROWID_COLUMN_SQL = (
    "SELECT min(name) FROM pragma_table_info(?1) WHERE pk > 0 "
    "HAVING count(*) = 1 AND NOT EXISTS "
    "(SELECT 1 FROM pragma_index_list(?1) WHERE origin = 'pk')"
)


def sqlite_becomes_rowid(
    declared: str, column: str, key: tuple[str, ...], rowid: str | None
) -> bool:
    """Whether ``column`` declared ``declared`` would be the rowid of the SQLite table whose
    primary key is ``key`` (exactly ``INTEGER``, the only key column) while the source's is
    not (``rowid``: the source's rowid column, by its new name): it would then number a row
    given none and refuse a value that is not an integer, where the source's kept both."""
    return declared.strip().upper() == "INTEGER" and key == (column,) and rowid != column


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


__all__ = [
    "ROWID_COLUMN_SQL",
    "SQLITE_KEPT",
    "DeclaredInteger",
    "sqlite_becomes_rowid",
    "sqlite_collations",
    "sqlite_kept_name",
    "sqlite_logical_type",
]
