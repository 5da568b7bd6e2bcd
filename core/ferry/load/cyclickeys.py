"""Foreign keys between existing PostgreSQL tables that reference each other in a cycle.

An app's own schema may hold tables whose foreign keys form a cycle, not deferrable: a
Prefect server's ``work_pool.default_queue_id`` references ``work_queue`` and
``work_queue.work_pool_id`` references ``work_pool``; ``flow_run.state_id`` references
``flow_run_state``, whose ``flow_run_id`` references ``flow_run``. No load order puts every
parent first, so each such table's rows were all rejected (``violates foreign key
constraint``) when Ferry loaded into the schema the app made. For the run's transaction
Ferry makes those keys ``DEFERRABLE INITIALLY DEFERRED``; once every table is merged it checks
them (``SET CONSTRAINTS … IMMEDIATE``: a missing parent stops the run, naming the key, and
the target is left untouched) and makes them ``NOT DEFERRABLE`` again, as they were. The
``ALTER TABLE`` locks both tables until the run commits, which the run's warning says.
SQLite (the same server's schema made in a file, moving back): ``PRAGMA defer_foreign_keys``
for the run's transaction, and each table of the cycle checked once every table is merged
(``pragma_foreign_key_check``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from ..errors import TargetError
from ..shape.ddl import sql_literal
from ..shape.identifiers import quote
from .finish import check_references

if TYPE_CHECKING:
    from ..shape.schema import TableInfo
    from ..targets import Target
    from .route import RunView


@dataclass(frozen=True)
class CyclicKey:
    """Foreign key ``name`` of ``table`` (as ``regclass`` writes it) into ``ref_table``; on
    SQLite ``name`` is "" (its keys have none, and the whole transaction defers them)."""

    name: str
    table: str
    ref_table: str


async def defer_cyclic_keys(
    run: RunView, target: Target, tables: dict[str, TableInfo]
) -> list[CyclicKey]:
    """Make the non-deferrable foreign keys on a cycle between the plan's existing tables
    deferred for this run (PostgreSQL; nothing elsewhere): the keys, to restore."""
    existing = [name for name, info in tables.items() if not info.created]
    if len(existing) < 2:
        return []
    if target.capabilities.defers_cyclic_references:
        return await _defer_sqlite(run, target, {n: tables[n] for n in existing})
    if not target.capabilities.alters_foreign_keys:
        return []
    regclasses = ", ".join(f"to_regclass({sql_literal(quote(name))})" for name in existing)
    rows = await target.fetch_dicts(
        "SELECT conname::text AS name, conrelid::regclass::text AS child, "
        "confrelid::regclass::text AS parent FROM pg_constraint "
        f"WHERE contype = 'f' AND NOT condeferrable AND conrelid <> confrelid "
        f"AND conrelid = ANY (ARRAY[{regclasses}]) AND confrelid = ANY (ARRAY[{regclasses}]) "
        "ORDER BY 2, 1",
        "the foreign keys between the plan's tables",
    )
    keys = [CyclicKey(str(r["name"]), str(r["child"]), str(r["parent"])) for r in rows]
    cyclic = [key for key in keys if _reaches(keys, key.ref_table, key.table)]
    for key in cyclic:
        await target.execute(
            f"ALTER TABLE {key.table} ALTER CONSTRAINT {quote(key.name)} "
            "DEFERRABLE INITIALLY DEFERRED",
            f"deferring foreign key {key.name} of {key.table}",
        )
    if cyclic:
        shown = ", ".join(f"{k.table} → {k.ref_table} ({k.name})" for k in cyclic)
        run.warn(
            f"foreign keys in a cycle, checked once every table is merged: {shown}; "
            "made deferrable for this run and put back as they were before it commits "
            "(the tables stay locked until then)",
            kind="cyclic-foreign-keys",
        )
    return cyclic


async def _defer_sqlite(
    run: RunView, target: Target, existing: dict[str, TableInfo]
) -> list[CyclicKey]:
    keys = [
        CyclicKey("", name, fk.ref_table)
        for name, info in existing.items()
        for fk in info.foreign_keys
        if fk.ref_table in existing and fk.ref_table != name
    ]
    cyclic = [key for key in keys if _reaches(keys, key.ref_table, key.table)]
    if cyclic:
        await target.defer_references()
        shown = ", ".join(f"{k.table} → {k.ref_table}" for k in cyclic)
        run.warn(
            f"foreign keys in a cycle, checked once every table is merged: {shown}",
            kind="cyclic-foreign-keys",
        )
    return cyclic


async def restore_cyclic_keys(target: Target, keys: list[CyclicKey]) -> None:
    """Check the deferred keys now, then make them ``NOT DEFERRABLE`` again; a row whose
    parent is missing stops the run with the key that is missing."""
    for table in dict.fromkeys(key.table for key in keys if not key.name):
        await check_references(target, table)  # SQLite: its own check, by table
    keys = [key for key in keys if key.name]
    for key in keys:  # every check first: a table's pending checks block its ALTER TABLE
        try:
            sql = target.driver_sql(f"SET CONSTRAINTS {quote(key.name)} IMMEDIATE")
            await target.conn.exec_driver_sql(sql)
        except DBAPIError as exc:
            detail = str(exc.orig or exc).strip().splitlines()
            raise TargetError(
                f"table {key.table}: rows reference rows missing from {key.ref_table} "
                f"(foreign key {key.name}): {'; '.join(detail[:2])}",
                hint="Copy the missing parent rows too, or leave the referencing rows out.",
            ) from None
    for key in keys:
        await target.execute(
            f"ALTER TABLE {key.table} ALTER CONSTRAINT {quote(key.name)} "
            "NOT DEFERRABLE INITIALLY IMMEDIATE",
            f"restoring foreign key {key.name} of {key.table}",
        )


def _reaches(keys: list[CyclicKey], start: str, goal: str) -> bool:
    """Whether ``start`` references ``goal`` through the keys (directly or not)."""
    seen, todo = {start}, [start]
    while todo:
        table = todo.pop()
        if table == goal:
            return True
        for key in keys:
            if key.table == table and key.ref_table not in seen:
                seen.add(key.ref_table)
                todo.append(key.ref_table)
    return False
