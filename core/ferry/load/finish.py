"""Every row is in: the tables' deletes (children first) and merges (parents first), then the
created tables' indexes and constraints, the sequences of existing tables, warnings on
identical rows, and the fingerprints a re-run compares."""

from __future__ import annotations

from collections.abc import Collection
from contextlib import nullcontext

from sqlalchemy.exc import DBAPIError

from ..errors import TargetError
from ..shape.ddl import add_foreign_key_sql, after_load_ddl, sql_literal
from ..shape.schema import TableInfo, dependency_order
from ..targets import Target
from ..targets.afterload import after_load_failed
from ..values.targetstyles import overflow_warnings
from ..verify.integrity import references_checked_at_commit
from .cascades import delete_naming_cascades
from .freesequences import free_sequences, move_free_sequences, unnamed_message
from .modes import identical_rows
from .rerun import may_fingerprint
from .route import Route, RunView
from .routes import rerun_source
from .sequences import advance_sequences
from .strategy import LoadStrategy


async def finish_tables(
    run: RunView, target: Target, routes: list[Route], tables: dict[str, TableInfo]
) -> None:
    """Delete what each table's plan deletes, children before parents
    (:meth:`~ferry.load.strategy.LoadStrategy.delete_first`: a cascade in the target then finds
    no row of a table the run deletes from itself), then merge table after table, parents
    before children; then each table's notes (rows identical to others, values that overflow)."""
    order = dependency_order([r.info.name for r in routes], tables)
    for name in reversed(order):
        for route in (r for r in routes if r.info.name == name):
            run.cancel.raise_if_cancelled()
            strategy = route.strategy

            async def delete(route: Route = route, strategy: LoadStrategy = strategy) -> None:
                await strategy.delete_first(run, target, route)

            await delete_naming_cascades(run, target, route, delete)
    for name in order:
        for route in (r for r in routes if r.info.name == name):
            run.cancel.raise_if_cancelled()
            await route.strategy.finish(run, target, route)
    for route in routes:
        if route.spec.mode != "merge" and route.decision.mode != "unchanged":
            await note_identical_rows(run, target, route)
        for message in await overflow_warnings(
            target, route.info, route.mapper.key, route.mapper.columns, route.adapters
        ):
            run.warn(message, route.info.name)


async def finish_shapes(
    run: RunView, target: Target, tables: dict[str, TableInfo], built: Collection[str] = ()
) -> None:
    """Build the created tables' indexes (and where the target takes them, add their foreign
    keys and move their identities past the loaded ids) now that the rows are in: faster than
    keeping indexes up to date row by row, and free of any load order. The tables in
    ``built`` were loaded apart (:mod:`ferry.native.apart`) and have their indexes."""
    for name, info in tables.items():
        if not info.created or info.shape is None:
            continue
        fks = info.shape.foreign_keys
        if (
            target.capabilities.defers_cyclic_references
            and fks
            and await references_checked_at_commit(target, fks)
        ):
            await check_references(target, name)
        indexes = name not in built
        keys = {add_foreign_key_sql(name, fk): fk for fk in fks}
        for statement in after_load_ddl(name, info.shape, target.capabilities, indexes):
            run.cancel.raise_if_cancelled()
            fk = keys.get(statement)
            checked = (
                target.foreign_key_checked(name, fk.columns, fk.ref_table)
                if fk is not None
                else nullcontext()
            )
            try:
                async with checked:
                    await target.conn.exec_driver_sql(target.driver_sql(statement))
            except DBAPIError as exc:
                error = after_load_failed(name, statement, exc, fk)
                broken = getattr(exc.orig, "sqlstate", None) == "23503"  # a missing parent
                if broken and fk is not None and (said := _parent_rejects(run, fk.ref_table)):
                    error.hint = said  # the source is sound: the run refused the parents
                raise error from None
            run.result.ddl.append(statement)


def _parent_rejects(run: RunView, parent: str) -> str:
    """The hint for a foreign key broken because this run rejected rows of its ``parent``
    ("" when it rejected none): the source's rows were sound, the parents were refused (a
    Superset chart's binary UUID, before: the hint said to fix the source)."""
    rejects = [r for r in run.result.rejects if r.table == parent]
    if not rejects:
        return ""
    first = rejects[0]
    return (
        f"This run rejected {len(rejects)} row{'s' * (len(rejects) != 1)} of {parent} "
        f"(first: {first.key}: {first.reason}), so the rows referencing them break this key. "
        "Fix what rejected them (the preview lists each) and run again. Nothing was written "
        "to the target."
    )


def indexed(routes: list[Route]) -> set[str]:
    """The tables whose indexes came with their rows (a SQLite table copied whole)."""
    return {route.info.name for route in routes if route.indexed}


async def check_references(target: Target, name: str) -> None:
    """Rows of a created SQLite table whose reference is missing (possible only where
    foreign keys are checked at commit): a clear error now rather than a bare
    "FOREIGN KEY constraint failed" from the commit."""
    found = await target.fetch_dicts(
        f"SELECT rowid, parent, fkid FROM pragma_foreign_key_check({sql_literal(name)}) LIMIT 5",
        f"checking the references of {name}",
    )
    if found:
        shown = ", ".join(f"rowid {row['rowid']} -> {row['parent']}" for row in found)
        raise TargetError(
            f"table {name}: rows reference rows missing from their parent table (first: {shown})",
            hint="The source never enforced these foreign keys; fix the rows in the "
            "source and run again. Nothing was written to the target.",
        )


async def move_sequences(run: RunView, target: Target, routes: list[Route]) -> None:
    """Move the sequences of existing tables that received rows past the ids loaded
    (a created table's identity is set by :func:`finish_shapes`), and say so."""
    if not target.capabilities.sequences_lag_ids:
        return
    fed = {r.info.name for r in routes if not r.info.created and r.result.inserted}
    for name in sorted(fed):
        for move in await advance_sequences(target, name):
            run.warn(move.message(), name, kind=f"{name}:sequence:{move.sequence}")
    named = run.plan.target.sequences
    if not fed and not named:
        return
    free = await free_sequences(target)
    for free_move in await move_free_sequences(target, named, free):
        run.warn(free_move.message(), kind=f"sequence:{free_move.sequence}")
    unnamed = unnamed_message(free, named) if fed else ""
    if unnamed:
        run.warn(unnamed, kind="free-sequences")


async def note_identical_rows(run: RunView, target: Target, route: Route) -> None:
    """Warn about rows identical in every column in a table loaded without a key."""
    count, first = await identical_rows(target, route.info.name, list(route.mapper.columns))
    if count:
        shown = "; ".join(", ".join(f"{k}={v!r}" for k, v in row.items()) for row in first)
        run.warn(
            f"{route.info.name}: {count} rows are identical in every column to another "
            f"row (loaded as they are, mode = {route.spec.mode}; first: {shown})",
            route.info.name,
            kind=f"{route.info.name}:identical-rows",
        )


async def fingerprint(run: RunView, target: Target, route: Route) -> None:
    """Journal what a re-run needs to skip this table when nothing changes."""
    name = rerun_source(run, route.spec)
    if (
        name is None
        or not target.capabilities.table_fingerprints
        or not may_fingerprint(route.result)
        or any(change.source == name for change in run.result.source_changes)
    ):
        return
    if route.decision.mode == "unchanged":
        await route.strategy.row_state(target, route)  # keeps the journaled fingerprint
        return
    files = run.watch.fingerprint(name)
    if files is None:
        return
    state = await route.strategy.row_state(target, route)
    if state is None:
        return
    rows, xmins = state
    route.result.fingerprint = {
        "files": files,
        "rows": rows,
        "read": route.result.rows_read,
        "xmins": xmins,
    }


__all__ = [
    "check_references",
    "fingerprint",
    "finish_shapes",
    "indexed",
    "move_sequences",
    "note_identical_rows",
]
