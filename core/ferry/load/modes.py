"""Tables loaded without matching keys: ``mode = "append"`` and ``mode = "replace"``.

A table without a primary key (and no unique column set in its data) cannot be merged: there
is nothing to match a source row with a target row by. ``append`` adds the source's rows
once; the run journals that it did, and a later run of such a table is refused, because it
would add every row a second time. ``replace`` deletes the table's rows and loads the source's
in the same transaction (the preview shows the rows deleted and inserted).
"""

from __future__ import annotations

from typing import Any

from ..errors import PlanError
from ..shape.identifiers import quote
from ..targets import Target
from .journal import LOAD_MODE, read_journal


async def refuse_second_append(target: Target, table: str) -> None:
    """Refuse to append to ``table`` again when a completed run journaled appending to it."""
    for run in await read_journal(target):
        if run.get("status") != "completed" or run.get("mode") != "migrate":
            continue
        entry = run["tables"].get(table) if isinstance(run.get("tables"), dict) else None
        if isinstance(entry, dict) and entry.get(LOAD_MODE) == "append":
            raise PlanError(
                f'table {table!r} was already loaded with mode = "append" (run '
                f"{run.get('run_id')}): loading it again would add every row a second time",
                hint=f'For table {table}, set mode = "replace" (its rows are replaced by the '
                "source's) or name the columns that identify a row in `key`. The target is "
                "unchanged.",
            )


async def delete_all(target: Target, table: str) -> int:
    """Delete every row of ``table`` (``mode = "replace"``, inside the run's transaction)."""
    return await target.execute(
        f"DELETE FROM {quote(table)}", f"deleting the rows of {table} (mode = replace)"
    )


async def identical_rows(
    target: Target, table: str, columns: list[str], limit: int = 3
) -> tuple[int, list[dict[str, Any]]]:
    """How many rows of ``table`` repeat another row in every one of ``columns`` (the
    copies beyond the first), and the first ``limit`` of the repeated rows."""
    if not columns:
        return 0, []
    cols = ", ".join(quote(c) for c in columns)
    groups = (
        f"SELECT {cols}, COUNT(*) AS ferry_copies FROM {quote(table)} GROUP BY {cols} "
        "HAVING COUNT(*) > 1"
    )
    what = f"looking for identical rows in {table}"
    extra = await target.scalar(
        f"SELECT COALESCE(SUM(ferry_copies - 1), 0) FROM ({groups}) AS g", what
    )
    if not extra:
        return 0, []
    first = await target.fetch_dicts(f"{groups} LIMIT {int(limit)}", what)
    return int(extra), [{c: row[c] for c in columns} for row in first]
