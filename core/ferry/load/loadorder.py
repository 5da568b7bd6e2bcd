"""The order a run loads its tables in: parents before children.

Rows go straight into an empty table (the direct and native loads) as they are read, so a
child loaded before its parent breaks the target's foreign key: the run then starts over with
that table staged (:class:`~ferry.load.route.RestartStaged`), once for each such table (three
times on a Prefect server's database, whose plan listed tables as ``ferry init`` found them).
Loading parents first needs no restart. The plan's order is kept where it does not matter:
between tables with no key between them, and between the specs that feed one table. A cycle
of keys is left in the plan's order (:mod:`ferry.load.cyclickeys` defers its keys).
"""

from __future__ import annotations

from ..plan import TableSpec
from ..shape.schema import TableInfo, dependency_order


def parents_first(specs: list[TableSpec], tables: dict[str, TableInfo]) -> list[TableSpec]:
    """``specs`` in the order to load them: a table's after the tables its target foreign keys
    reference (``tables``: the run's target tables by name)."""
    order = dependency_order(list(dict.fromkeys(spec.name for spec in specs)), tables)
    rank = {name: place for place, name in enumerate(order)}
    return sorted(specs, key=lambda spec: rank[spec.name])


__all__ = ["parents_first"]
