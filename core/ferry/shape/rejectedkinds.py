"""A SQLite column whose declared number type holds text no number reads, for a target whose
columns hold one type each (PostgreSQL).

Anki declares ``notes.sfld INTEGER`` and stores each note's sort field there, as text where it
is no number (``'hablar 0'``): SQLite keeps it, a PostgreSQL ``bigint`` refuses it, and the
draft's first run rejected every note. So ``ferry init`` drafts such a column ``text`` when
most of its values would be rejected (the app keeps text there), with a note counting them
and naming the first rows: every row loads, and a number the column also holds becomes its
text (check, the preview and the report name those: :func:`ferry.shape.asstored.
numbers_in_text`). A SQLite target keeps such a column as stored instead (``any``:
:mod:`ferry.shape.asstored`). A column of 16-byte values only is a binary UUID
(:func:`binary_uuids`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..values.logical import CastError, cast
from .identifiers import quote
from .typefindings import TypeFinding, replaced_choices

if TYPE_CHECKING:
    from ..sources import SourceTable
    from ..sources.base import SourceReader

#: the drafted types a value of text or blob may fail (a date/time column has rules of its own)
_NUMBERS = ("integer", "float", "decimal")
#: text and blob values read per column to find those the type rejects (at most)
_READ = 100_000
#: rows a note names
_SHOWN = 2


def rejected_choices(
    reader: SourceReader, table: SourceTable, drafted: dict[str, str]
) -> list[TypeFinding]:
    """``types.col = "text"`` for each number column of ``table`` (``drafted``: column ->
    type) most of whose values are text or blobs its type rejects, with a note. Where they
    are fewer (placeholders: ``'n/a'``, ``'-'``), the type stays and the scan's note on the
    mixed values names the rows it rejects."""
    columns = [
        c
        for c, t in drafted.items()
        if t in _NUMBERS and c in table.declared and {"text", "bytes"} & set(table.kinds.get(c, ()))
    ]
    if not columns or not table.origin:
        return []
    keys = list(table.key) or ["rowid"]
    found = []
    for column in columns:
        rows = reader.query_all(
            f"SELECT {', '.join(quote(k) for k in keys)}, {quote(column)} FROM "
            f"{quote(table.origin)} WHERE typeof({quote(column)}) IN ('text', 'blob') "
            f"LIMIT {_READ}",
            (),
            table.origin,
        )
        refused = [r for r in rows if not _reads(r[-1], drafted[column])]
        held = reader.query_one(
            f"SELECT count({quote(column)}) FROM {quote(table.origin)}", (), table.origin
        )
        if not refused or 2 * len(refused) <= int(held[0] if held else 0):
            continue  # a few placeholders ('n/a') in a number column: the scan's note asks
        every = len(rows) < _READ and len(refused) == int(held[0] if held else 0)
        if every and all(isinstance(r[-1], bytes) and len(r[-1]) == 16 for r in refused):
            found.append(binary_uuids(table, column, len(refused)))  # a binary UUID
            continue
        shown = "; ".join(
            f"{r[-1]!r} at " + ", ".join(f"{k} {v!r}" for k, v in zip(keys, r, strict=False))
            for r in refused[:_SHOWN]
        )
        more = ", …" if len(refused) > _SHOWN else ""
        many = f"{len(refused):,}{'+' if len(rows) == _READ else ''}"
        declared = table.declared.get(column, "")
        found.append(
            TypeFinding(
                table.name,
                column,
                "text",
                f"column {column!r} ({declared}) holds {many} "
                f"{'value' if len(refused) == 1 else 'values'} an {drafted[column]} "
                f"column rejects ({shown}{more}): so it is text and every row loads (its "
                f"numbers as their digits, named by check); types.{column} = "
                f'"{drafted[column]}" rejects those rows, naming them',
                for_postgres=True,
            )
        )
    return found


def binary_uuids(table: SourceTable, column: str, count: int) -> TypeFinding:
    """A number-declared column holding only 16-byte values: UUIDs as SQLAlchemy-Utils'
    ``UUIDType(binary=True)`` keeps them in SQLite (Superset's ``uuid NUMERIC(16)``), and as a
    native ``uuid`` on PostgreSQL. Drafted ``text`` with ``target_types = "uuid"``: each value
    goes in as its UUID (before, the note called them rejected numbers and every row was
    rejected as "not a valid text", its children's foreign keys failing after it)."""
    declared = table.declared.get(column, "")
    return TypeFinding(
        table.name,
        column,
        "text",
        f"column {column!r} ({declared}) holds only 16-byte values ({count:,}): UUIDs as "
        "SQLAlchemy-Utils' UUIDType(binary=True) keeps them in SQLite; "
        f'target_types.{column} = "uuid" makes it a PostgreSQL uuid column, as the app makes '
        "it there, each value written as its UUID",
        target_type="uuid",
        for_postgres=True,
        values="uuids",
        declared=declared,
    )


def with_rejected(
    reader: SourceReader, tables: list[SourceTable], choices: list[TypeFinding]
) -> list[TypeFinding]:
    """``choices`` (a source's type findings), each column whose drafted number type rejects
    some of its values replaced by :func:`rejected_choices`' ``text``."""
    return replaced_choices(
        tables, choices, lambda t, drafted: rejected_choices(reader, t, drafted)
    )


def _reads(value: object, type_: str) -> bool:
    try:
        cast(value, type_)  # type: ignore[arg-type]
    except (CastError, TypeError, ValueError, ArithmeticError):
        return False
    return True


__all__ = ["rejected_choices", "with_rejected"]
