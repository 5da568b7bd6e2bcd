"""The numbers an app keeps in its SQLite file's header: ``user_version`` and
``application_id``.

Many apps read ``PRAGMA user_version`` as their schema's version and upgrade from whatever it
says when they open the file. Found moving a calibre library SQLite → SQLite: the new file had
version 0, so calibre ran its upgrades from the start on tables that already had their shape,
and listed no book. A run that creates every table of its plan in a SQLite target, from one
SQLite file, now sets both numbers to the source's (in its transaction: a rollback takes them
back). Where it cannot — several sources disagree, the target had tables before, or holds
another number already — the number is named as not carried, with how to set it; a
PostgreSQL target has no such header, named too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from ..sources.readonly import open_read_only
from .carried import SchemaObject

if TYPE_CHECKING:
    from ..plan import Plan
    from ..targets import Target
    from .schema import TableInfo

PRAGMAS = ("user_version", "application_id")
_WHAT = {"user_version": "the app's schema version", "application_id": "the app's file type"}


def _source_numbers(plan: Plan) -> dict[str, dict[str, int]]:
    """Per SQLite source file the plan's tables read: its header numbers that are not 0."""
    used = {t.source.split(".", 1)[0] for t in plan.tables}
    found: dict[str, dict[str, int]] = {}
    for spec in plan.sources:
        if spec.kind != "sqlite" or spec.name not in used or not spec.path:
            continue
        path = Path(spec.path).expanduser()
        path = path if path.is_absolute() else plan.base_dir / path
        try:
            conn = open_read_only(path, timeout=5.0)
            try:
                numbers = {p: int(conn.execute(f"PRAGMA {p}").fetchone()[0]) for p in PRAGMAS}
            finally:
                conn.close()
        except (sqlite3.Error, OSError):
            continue  # the source reader reports an unreadable file
        found[path.name] = {p: n for p, n in numbers.items() if n}
    return found


async def carry_header(
    plan: Plan, target: Target, tables: dict[str, TableInfo]
) -> list[SchemaObject]:
    """Set the SQLite target's header numbers to the source's where this run makes the
    target's tables from one SQLite file; name every number it does not carry."""
    sources = _source_numbers(plan)
    objects = []
    for pragma in PRAGMAS:
        held = {name: numbers[pragma] for name, numbers in sources.items() if pragma in numbers}
        if not held:
            continue
        values = set(held.values())
        label = f"{pragma} {', '.join(str(v) for v in sorted(values))} ({_WHAT[pragma]})"
        if not target.capabilities.sqlite_header:
            why = "a PostgreSQL database has no such number: the app's own migrations decide"
            objects.append(SchemaObject("pragma", label, "not carried", why))
            continue
        if len(values) > 1:
            each = ", ".join(f"{v} in {name}" for name, v in held.items())
            why = f"the source files disagree ({each}): set it yourself (PRAGMA {pragma} = N)"
            objects.append(SchemaObject("pragma", label, "not carried", why))
            continue
        value = values.pop()
        objects.append(await _set(pragma, value, label, target, plan, tables))
    return objects


async def _set(
    pragma: str, value: int, label: str, target: Target, plan: Plan, tables: dict[str, TableInfo]
) -> SchemaObject:
    result = await target.conn.exec_driver_sql(f"PRAGMA {pragma}")
    current = int(result.scalar() or 0)
    sql = f"PRAGMA {pragma} = {value}"
    if current == value:
        return SchemaObject("pragma", label, "carried", "in the target already")
    if current:
        why = f"the target holds {current}: kept; {sql} makes it the source's"
        return SchemaObject("pragma", label, "not carried", why)
    if not all(tables[t.name].created for t in plan.tables if t.name in tables):
        why = f"the target had tables before this run: {sql} sets it, if the file is the app's"
        return SchemaObject("pragma", label, "not carried", why)
    await target.conn.exec_driver_sql(sql)
    return SchemaObject("pragma", label, "carried", "set as the source file holds it", sql)


__all__ = ["PRAGMAS", "carry_header"]
