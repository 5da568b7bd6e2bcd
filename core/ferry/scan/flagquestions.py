"""A note on an ``INTEGER`` column of a SQLite source holding only 0 and 1, which
a PostgreSQL target gets as ``bigint`` unless the operator says the app reads it as a flag.

SQLite has no boolean type, so an app's flag is an ``INTEGER`` there when its ORM says so
(peewee's ``BooleanField``), and only the app knows: its SQL may count or compare the column
with numbers (``WHERE active = 1``, ``sum(active)``), which a PostgreSQL ``boolean`` refuses,
or its ORM may bind ``true``/``false``, which a ``bigint`` refuses (found moving a peewee app:
``column "active" is of type bigint but expression is of type boolean`` on its first INSERT).
The draft keeps ``integer`` and says so in a note, with the count of each value (a question
would stop every draft's first run until answered). A column holding one of the two values only
is noted only when its name reads as a flag (``is_admin``, ``active``): a fresh Anki collection
has twenty counters still at 0, each noted before, and none is a flag.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..plan import TableSpec
from ..shape.identifiers import quote

if TYPE_CHECKING:
    from ..sources import SourceTable
    from ..sources.base import SourceReader

#: names an app gives a flag (a column of one value only is no evidence without one)
_FLAG_NAME = re.compile(
    r"(is|has|can|should|allow|use|show)_\w+|\w+_(flag|enabled|active|deleted|visible)|"
    r"active|enabled|disabled|deleted|archived|hidden|visible|done|published|verified|admin|"
    r"superuser|staff|locked|pinned|starred|read|seen",
    re.IGNORECASE,
)

#: declared types an ORM gives a flag in SQLite
_INTEGERS = frozenset({"INTEGER", "INT", "TINYINT", "SMALLINT", "BOOL_INT"})


def zero_one_columns(reader: SourceReader, table: SourceTable) -> list[tuple[str, str, int, int]]:
    """``(table, column, zeros, ones)`` for each declared-integer column, not a key nor a
    reference (``*_id``), whose every value is 0 or 1 (and some are): both values, or one
    and a name that reads as a flag."""
    found = []
    for column, type_ in table.columns.items():
        declared = table.declared.get(column, "").strip().upper()
        if type_ != "integer" or declared not in _INTEGERS or column in table.key:
            continue
        if column.lower().endswith("id"):
            continue
        c = quote(column)
        row = reader.query_one(
            f"SELECT count({c}), sum({c} = 0), sum({c} = 1) FROM {quote(table.origin)}",
            (),
            table.origin,
        )
        values, zeros, ones = (int(v or 0) for v in row) if row else (0, 0, 0)
        if not values or zeros + ones != values:
            continue
        if (zeros and ones) or _FLAG_NAME.fullmatch(column):
            found.append((table.name, column, zeros, ones))
    return found


def note_flags(
    tables: list[TableSpec], flags: list[tuple[str, str, int, int]], created: set[str]
) -> None:
    """A note on each created table's column of 0s and 1s (a PostgreSQL target's draft): it
    stays ``integer``, and the note says when ``boolean`` is the answer."""
    for spec in tables:
        if spec.name not in created:
            continue
        for source, column, zeros, ones in flags:
            if source != spec.source or spec.types.get(column) != "integer":
                continue
            spec.notes.append(
                f"column {column!r} is declared INTEGER and holds only 0 and 1 ({zeros} zeros, "
                f"{ones} ones): kept integer, as the app's SQL may count it or compare it "
                f"with 1; if its ORM binds true/false (peewee's BooleanField), types.{column} "
                '= "boolean" makes it a PostgreSQL boolean (a bigint refuses true/false)'
            )


__all__ = ["note_flags", "zero_one_columns"]
