"""The order a run loads its tables in: parents before children.

Rows go straight into an empty table (the direct and native loads) as they are read, so a
child loaded before its parent breaks the target's foreign key: the run then starts over with
that table staged (:class:`~ferry.load.route.RestartStaged`), once for each such table (three
times on a Prefect server's database, whose plan listed tables as ``ferry init`` found them).
Loading parents first needs no restart. The plan's order is kept where it does not matter:
between tables with no key between them, and between the specs that feed one table. A cycle
of keys is left in the plan's order (:mod:`ferry.load.cyclickeys` defers its keys).

A SQLite file's native loads (SQLite maps the rows itself) run before the rows Python maps
are read from it: a child table SQLite could map whose parent Python maps would go in first,
so it is mapped by Python too (:func:`parent_read_later`), after its parent. And an empty
table whose parent is staged (it holds rows) is staged too (:func:`parent_merged_later`),
merged after the parent, rather than loaded straight in before the parent's new rows.
"""

from __future__ import annotations

from ..plan import TableSpec
from ..shape.schema import TableInfo, dependency_order
from .route import Route

#: the load modes that stage rows and merge them once every row is read
_MERGED_LATER = ("staged", "compare-first", "delta")


def parents_first(specs: list[TableSpec], tables: dict[str, TableInfo]) -> list[TableSpec]:
    """``specs`` in the order to load them: a table's after the tables its target foreign keys
    reference (``tables``: the run's target tables by name)."""
    order = dependency_order(list(dict.fromkeys(spec.name for spec in specs)), tables)
    rank = {name: place for place, name in enumerate(order)}
    return sorted(specs, key=lambda spec: rank[spec.name])


def parent_read_later(info: TableInfo, source: str, planned: list[Route]) -> str | None:
    """A parent table of ``info`` (by the target's foreign keys, which it checks as rows go
    in) this run loads straight in from the same SQLite file's ordinary read (``source``:
    ``app.child``), so after the file's native loads; None when there is none."""
    parents = {fk.ref_table for fk in info.foreign_keys if fk.ref_table != info.name}
    for route in planned:
        if (
            route.info.name in parents
            and route.decision.mode == "direct"
            and route.spec.source.split(".", 1)[0] == source.split(".", 1)[0]
        ):
            return route.info.name
    return None


def parent_merged_later(info: TableInfo, planned: list[Route]) -> str | None:
    """A parent table of ``info`` (by the target's foreign keys, which it checks as rows go
    in) this run stages and merges once every row is read: loaded straight in, ``info``'s
    rows would go in before that parent's new rows (and break the key, restarting the run
    staged: a Prefect server's ``block_type``, which the server fills itself, and the tables
    referencing it). None when there is none."""
    parents = {fk.ref_table for fk in info.foreign_keys if fk.ref_table != info.name}
    for route in planned:
        if route.info.name in parents and route.decision.mode in _MERGED_LATER:
            return route.info.name
    return None


__all__ = ["parent_merged_later", "parent_read_later", "parents_first"]
