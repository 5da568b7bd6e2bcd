"""The plan's column types a SQLite table's declared types cannot tell, laid over the table as
reflected: check, a run and verify all read a SQLite target's columns through it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..plan import Plan
    from .schema import TableInfo


def plan_sqlite_types(plan: Plan, tables: dict[str, TableInfo]) -> None:
    """The plan's types a SQLite table's declared types cannot tell: a DATETIME column the
    plan types ``datetime`` is one (SQLite's declared type names no zone, so it reflects as a
    ``timestamp``, and without this a run into the table it created, or a later one, would
    read its naive values in the plan's zone); a column it types ``any`` keeps each value as
    stored (reflected by its declared type, a run would cast them all to that type)."""
    for spec in plan.tables:
        info = tables.get(spec.name)
        if info is None or info.dialect != "sqlite":
            continue
        for name, type_ in spec.types.items():
            column = info.columns.get(name)
            if type_ == "datetime" and column is not None and column.type == "timestamp":
                column.type = "datetime"
            elif type_ == "any" and column is not None:
                column.type = "any"


__all__ = ["plan_sqlite_types"]
