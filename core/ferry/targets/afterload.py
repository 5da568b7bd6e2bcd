"""Why an index or foreign key of a created table failed once the rows were in, by cause.

The rows are loaded first and a created table's indexes and (PostgreSQL) foreign keys come
after (:func:`ferry.load.finish.finish_shapes`). Such a statement fails for the rows (a row
whose parent is missing, a value held twice where the index is unique: the source never
enforced it) or for the statement itself, where no row is at fault: a foreign key onto
columns the parent does not keep unique (SQLite declares it and enforces nothing), a name the
target holds already (PostgreSQL's "already exists"), two sides of different types. Each
cause gets its own message and hint, naming the table and the constraint or index.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import exc as sa_exc

from ..errors import TargetError
from .base import first_line

if TYPE_CHECKING:
    from ..shape.ddl import TargetForeignKey

#: PostgreSQL's SQLSTATEs by cause
_MISSING_PARENT = "23503"  # foreign_key_violation
_HELD_TWICE = "23505"  # unique_violation
_NOT_UNIQUE = "42830"  # invalid_foreign_key: no unique constraint on the referenced columns
_TYPES_DIFFER = "42804"  # datatype_mismatch: the key's two sides
_NAME_TAKEN = frozenset({"42710", "42P07"})  # duplicate_object, duplicate_table (an index)

_ROWS = "The source never enforced this {what}; fix those rows in the source and run again."
_NAMED = re.compile(r'\b(?:CONSTRAINT|INDEX)\s+("(?:[^"]|"")*")')


def _cause(exc: sa_exc.DBAPIError, statement: str, fk: TargetForeignKey | None) -> tuple[str, str]:
    """(what went wrong, what to do) for the driver error ``exc`` of ``statement``."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or ""
    what = "foreign key" if fk is not None else "unique index"
    parent = f"{fk.ref_table} ({', '.join(fk.ref_columns)})" if fk is not None else ""
    if state in _NAME_TAKEN or (not state and "already exists" in str(orig)):
        found = _NAMED.search(statement)
        name = found.group(1) if found else "it gives"
        return (
            f"the name {name} is taken in the target already",
            "No row is at fault: another constraint or index of that name is in the target (a "
            "constraint of this table, or an index or table of the schema). Rename the "
            "source's constraint or index, or drop the target's object if it is a leftover, "
            "and run again.",
        )
    if state == _NOT_UNIQUE:
        return (
            f"{parent or 'the referenced columns'} is not the primary key or UNIQUE in the "
            "target, which a foreign key needs",
            "No row is at fault: the source declares a foreign key onto columns its parent "
            "table does not keep unique (SQLite accepts that and enforces nothing; with its "
            "foreign keys on, it refuses it too: 'foreign key mismatch'). Give those columns "
            "a UNIQUE constraint or index in the source, or drop the foreign key there, and "
            "run again.",
        )
    if state == _TYPES_DIFFER:
        return (
            "the key's columns and those it references are of different types",
            "No row is at fault. Give the foreign key's columns the type of those it "
            "references (types or target_types of its table in the plan) and run again.",
        )
    if state == _MISSING_PARENT:
        table = fk.ref_table if fk is not None else "the parent table"
        return f"rows reference rows missing from {table}", _ROWS.format(what="foreign key")
    unique = getattr(orig, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_UNIQUE"
    if state == _HELD_TWICE or unique:
        return "rows hold the same value twice", _ROWS.format(what=what)
    if state.startswith("23") or isinstance(exc, sa_exc.IntegrityError):
        return "", _ROWS.format(what=what if fk is not None else "constraint or index")
    return "", (
        "No row is at fault: the database refused the statement itself (the reason above); "
        "fix what it names in the source's schema or in the plan and run again."
    )


def after_load_failed(
    name: str, statement: str, exc: sa_exc.DBAPIError, fk: TargetForeignKey | None = None
) -> TargetError:
    """The error for ``statement`` (an index, or ``fk``: a foreign key) of the created table
    ``name`` failing after the load, by its cause."""
    diag = getattr(exc.orig, "diag", None)
    detail = getattr(diag, "message_detail", None) or ""
    reason = f"{first_line(exc.orig)} {detail}".strip()
    cause, hint = _cause(exc, statement, fk)
    said = f"{cause}: {reason}" if cause else reason
    return TargetError(
        f"table {name}: {statement.split(' (', 1)[0]} failed after the load: {said}",
        hint=f"{hint} Nothing was written to the target.",
        details=statement,
    )


__all__ = ["after_load_failed"]
