"""Sequences of existing PostgreSQL tables moved past the ids a run loaded.

A table the target already had may number its rows with an identity column or a ``serial``
sequence. Ferry merges rows with their own ids, which PostgreSQL does not count: the
sequence stays where the app left it and the app's next insert without an id collides. After
the load, in the run's transaction, each such sequence is moved to the highest id of its
column, never backwards (``ALTER SEQUENCE … RESTART``: undone with the transaction, so a
preview or a failed run leaves it as it was). A SQLite target needs nothing: an explicit rowid moves
``sqlite_sequence`` (AUTOINCREMENT) and ``max(rowid)`` (the rest) by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..shape.ddl import sql_literal
from ..shape.identifiers import quote
from ..targets import Target

# Columns of a table that own a sequence (identity or serial), and where it stands.
_OWNED_SQL = """
SELECT a.attname AS column_name, s.seq AS sequence_name
FROM pg_attribute a
CROSS JOIN LATERAL (SELECT pg_get_serial_sequence({table}, a.attname) AS seq) s
WHERE a.attrelid = {table}::regclass AND a.attnum > 0 AND NOT a.attisdropped
  AND s.seq IS NOT NULL
ORDER BY a.attnum
"""


@dataclass(frozen=True)
class SequenceMove:
    """A sequence moved forward: ``before`` the last value it had handed out, ``after`` the
    highest id of its column (the next insert without an id gets ``after + 1``)."""

    table: str
    column: str
    sequence: str
    before: int
    after: int

    def message(self) -> str:
        """The line the preview, the run's output and the report show."""
        return (
            f"{self.table}: sequence {self.sequence} moved from {self.before} to {self.after} "
            f"(the highest {self.column} loaded): the next insert without {self.column} gets "
            f"{self.after + 1}"
        )


async def advance_sequences(target: Target, table: str) -> list[SequenceMove]:
    """Move each sequence of ``table`` (an existing PostgreSQL table) to at least the
    highest value of its column; the moves made."""
    what = f"the sequences of {table}"
    owned = await target.fetch_dicts(_OWNED_SQL.format(table=sql_literal(quote(table))), what)
    moves = []
    for row in owned:
        column, sequence = str(row["column_name"]), str(row["sequence_name"])
        state = await target.fetch_dicts(
            f"SELECT last_value, is_called, (SELECT max({quote(column)}) FROM {quote(table)}) "
            f"AS highest FROM {sequence}",
            what,
        )
        last, called, highest = state[0]["last_value"], state[0]["is_called"], state[0]["highest"]
        before = int(last) if called else int(last) - 1
        if highest is None or int(highest) <= before:
            continue  # never backwards
        # ALTER SEQUENCE ... RESTART, unlike setval(), is undone with the transaction: a
        # preview or a failed run leaves the sequence where it was.
        await target.execute(
            f"ALTER SEQUENCE {sequence} RESTART WITH {int(highest) + 1}",
            f"moving the sequence {sequence}",
        )
        moves.append(SequenceMove(table, column, sequence, before, int(highest)))
    return moves
