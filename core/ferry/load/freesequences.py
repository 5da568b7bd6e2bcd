"""Sequences no column owns, which the app numbers rows with itself, after a load.

An identity or ``serial`` sequence belongs to its column (:mod:`ferry.load.sequences` moves
it). Some apps keep sequences no column owns and no default takes from: Synapse's
``events_stream_seq``, ``state_group_id_seq``, ``account_data_sequence`` … are read with
``nextval`` in its code, and it refuses to start when one stands behind the ids its tables
hold (``Postgres sequence 'events_stream_seq' is inconsistent with associated stream
position``). Which columns such a sequence numbers is in the app, not in the catalog, so the
plan says it: ``[target] sequences = {events_stream_seq = "events.stream_ordering"}``
(``ferry init`` asks, question ``target.sequences``). After the load, in the run's
transaction, each named sequence is moved past the highest value of its columns, never back
(``ALTER SEQUENCE … RESTART``: undone with the transaction). The others are named in one
warning: the run cannot know what they number.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import PlanError
from ..shape.identifiers import quote
from ..targets import Target

# Sequences of the current schema that no column owns (serial: 'a', identity: 'i') and no
# column default takes from.
FREE_SQL = """
SELECT c.relname AS name, s.last_value AS last_value
FROM pg_class c
JOIN pg_sequences s ON s.schemaname = current_schema() AND s.sequencename = c.relname
WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_attrdef'::regclass
                  AND d.refobjid = c.oid)
ORDER BY c.relname
"""


@dataclass(frozen=True)
class FreeSequence:
    """A sequence no column owns: its name and the last value it handed out (0: none yet)."""

    name: str
    last: int


@dataclass(frozen=True)
class FreeMove:
    """A free sequence moved past the highest value of the ``columns`` the plan names."""

    sequence: str
    columns: str
    before: int
    after: int

    def message(self) -> str:
        """The line the preview, the run's output and the report show."""
        return (
            f"sequence {self.sequence} moved from {self.before} to {self.after} (the highest "
            f"of {self.columns}, as [target] sequences names): the app's next number from it "
            f"is {self.after + 1}"
        )


async def free_sequences(target: Target) -> list[FreeSequence]:
    """The sequences of the target's schema no column owns and no default takes from."""
    rows = await target.fetch_dicts(FREE_SQL, "the sequences no column owns")
    return [FreeSequence(str(r["name"]), int(r["last_value"] or 0)) for r in rows]


async def move_free_sequences(
    target: Target, named: dict[str, str], free: list[FreeSequence]
) -> list[FreeMove]:
    """Move each sequence ``named`` (``[target] sequences``) past the highest value of its
    columns, never back; the moves made."""
    last = {s.name: s.last for s in free}
    moves = []
    for sequence, columns in named.items():
        if sequence not in last:
            raise PlanError(
                f"[target] sequences names {sequence!r}, which is no sequence of the target "
                f"that a column does not own (those: {', '.join(last) or 'none'})",
                hint="Name a sequence the app keeps in the target, or remove the entry.",
            )
        highest = []
        for column in columns.split():
            table, name = column.split(".")
            found = await target.fetch_dicts(
                f"SELECT max({quote(name)}) AS top FROM {quote(table)}",
                f"the highest {column} (for [target] sequences.{sequence})",
            )
            if found and found[0]["top"] is not None:
                highest.append(int(found[0]["top"]))
        before = last[sequence]
        if not highest or max(highest) <= before:
            continue  # never backwards
        after = max(highest)
        # ALTER SEQUENCE … RESTART, unlike setval(), is undone with the transaction.
        await target.execute(
            f"ALTER SEQUENCE {quote(sequence)} RESTART WITH {after + 1}",
            f"moving the sequence {sequence}",
        )
        moves.append(FreeMove(sequence, ", ".join(columns.split()), before, after))
    return moves


def unnamed_message(free: list[FreeSequence], named: dict[str, str]) -> str:
    """The warning naming the free sequences the plan does not name ("" when none)."""
    left = [s for s in free if s.name not in named]
    if not left:
        return ""
    shown = ", ".join(f"{s.name} (at {s.last})" for s in left)
    return (
        f"sequences {shown}: not moved (no column owns them and no default takes from them: "
        "the app numbers rows with them itself, and its next number may be one this run "
        "loaded); name the columns each numbers, [target] sequences = {NAME = "
        '"TABLE.COLUMN"}, or answer the question target.sequences of `ferry init`'
    )


__all__ = ["FreeMove", "FreeSequence", "free_sequences", "move_free_sequences", "unnamed_message"]
