"""What the target's foreign keys do to other rows while a run deletes: named, and undo told.

A run deletes children before parents (:func:`ferry.load.finish.finish_tables`), so a table
that deletes its own missing rows has none left for a cascade to take. The rows of a table the
run does not delete from (not in the plan, or without ``delete_missing``), or of the deleting
table itself through a self-reference, can still be deleted by ``ON DELETE CASCADE`` or
changed by ``SET NULL`` / ``SET DEFAULT``. They are counted around the delete (a count of the
table, or of its rows with the columns NULL, before and after: only where the target has such
a key and the run deleted rows), named in a warning with the count, and the table is marked in
the run's changeset as not undoable: ``ferry undo`` of that run refuses and points to the
backup instead of restoring the parent without the rows it took.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..targets import Target
from .route import Route, RunView


async def delete_naming_cascades(
    run: RunView, target: Target, route: Route, delete: Callable[[], Awaitable[None]]
) -> None:
    """Run ``delete`` (the table's deletes) and name what cascaded from them."""
    if not route.spec.delete_missing:
        await delete()
        return
    table = route.info.name
    cascades = await target.cascades_into(table)
    counted = [(c, c.count_sql()) for c in cascades]
    before = [await target.scalar(sql, f"counting {c.table}") if sql else 0 for c, sql in counted]
    deleted = route.result.deleted
    await delete()
    deleted = route.result.deleted - deleted
    if not deleted:
        return
    for (cascade, sql), was in zip(counted, before, strict=True):
        if sql is None:
            changed = None
        else:
            now = await target.scalar(sql, f"counting {cascade.table}")
            changed = int(was or 0) - int(now or 0)
            if cascade.action == "SET NULL":
                changed = -changed
            elif cascade.table == table:  # a self-reference: the table's own deletes too
                changed -= deleted
            if changed <= 0:
                continue
        what = "rows" if changed is None else f"{changed} rows"
        done = "deleted" if cascade.action == "CASCADE" else f"changed ({cascade.action})"
        note = (
            f"deleting {deleted} rows of {table} {done} {what} of {cascade.table} through its "
            f"foreign key ({', '.join(cascade.columns)}) ON DELETE {cascade.action}; this run "
            "recorded no before-image of them"
        )
        run.warn(
            f"{note}: `ferry undo` of this run cannot put them back (roll back to the backup "
            f"instead), and the counts name {table}'s rows only",
            table,
        )
        if run.changes is not None:
            await run.changes.cannot_undo(cascade.table, note)


__all__ = ["delete_naming_cascades"]
