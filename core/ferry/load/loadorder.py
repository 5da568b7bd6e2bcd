"""The order a run loads its tables in: parents before children.

Rows go straight into an empty table (the direct and native loads) as they are read, so a
child loaded before its parent breaks the target's foreign key: the run then starts over with
that table staged (:class:`~ferry.load.route.RestartStaged`), once for each such table (three
times on a Prefect server's database, whose plan listed tables as ``ferry init`` found them).
Loading parents first needs no restart. The plan's order is kept where it does not matter:
between tables with no key between them, and between the specs that feed one table. A cycle
of keys is left in the plan's order (:mod:`ferry.load.cyclickeys` defers its keys).

A SQLite file's native loads (SQLite maps the rows itself) run first, while the file is
read, before the rows Python maps are written: a child table SQLite could map whose parent's
rows Python writes would go in before them, every row refused by the key and the run started
over with the child staged (twelve times on an MLflow tracking database, whose
``experiments`` goes to Python for its ``workspace`` default). Such a child is mapped by
Python too (:func:`parent_loaded_later`), after its parent. And an empty table whose parent
is staged (it holds rows) is staged too (:func:`parent_merged_later`), merged after the
parent, rather than loaded straight in before the parent's new rows.
"""

from __future__ import annotations

from ..plan import TableSpec
from ..shape.schema import TableInfo, dependency_order
from .route import Route

#: the load modes whose rows go in before the ordinary read's (SQLite's own, or none)
_FIRST = frozenset({"native", "parallel", "unchanged"})
#: the load modes that stage rows and merge them once every row is read
_MERGED_LATER = ("staged", "compare-first", "delta")


def parents_first(specs: list[TableSpec], tables: dict[str, TableInfo]) -> list[TableSpec]:
    """``specs`` in the order to load them: a table's after the tables its target foreign keys
    reference (``tables``: the run's target tables by name)."""
    order = dependency_order(list(dict.fromkeys(spec.name for spec in specs)), tables)
    rank = {name: place for place, name in enumerate(order)}
    return sorted(specs, key=lambda spec: rank[spec.name])


def parent_loaded_later(info: TableInfo, planned: list[Route]) -> str:
    """Why SQLite may not map ``info``'s rows itself: it references a table whose rows this
    run writes after those SQLite maps (``planned``: the routes decided before); "" when none
    does. The keys are the target's as they stand while rows go in: an existing table's, and
    a new SQLite table's (checked right after SQLite's load, :mod:`ferry.targets.sqlitekeys`);
    a table the run creates in PostgreSQL has none yet (they are added once every row is in).
    """
    parents = {fk.ref_table for fk in info.foreign_keys if fk.ref_table != info.name}
    for route in planned:
        parent, mode = route.info.name, route.decision.mode
        if parent in parents and mode not in _FIRST:
            return f"it references {parent}, whose rows go in after those SQLite maps ({mode})"
    return ""


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


__all__ = ["parent_loaded_later", "parent_merged_later", "parents_first"]
