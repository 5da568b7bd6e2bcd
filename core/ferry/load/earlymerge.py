"""A delta's tables merged while the tables after them are still read (SQLite sources).

In a delta run the server has nothing to do while the client scans pages and reads, maps
and stages the changed rows; the merges all waited for the last table's read. Here the
pipeline's writer hears when every changed row of a table is staged (:class:`RouteStaged`,
queued by :func:`ferry.load.delta.load_sql_deltas` after the table's last batch) and
finishes the tables whose turn it is, in the same dependency order as the run's merge step
(parents before children), while the reading thread goes on with the next table. Same
statements, same transaction, same order: only earlier.

Taken only when every table of the run is a SQLite delta load of a table no other route
writes to (nothing loaded apart, no ordinary read, no other source's rows still to come
for it); anything else is finished by the merge step as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .delta import SqlDeltaLoad

if TYPE_CHECKING:
    from ..shape.schema import TableInfo
    from ..targets import Target
    from .route import Route, RunView


class EarlyMerge:
    """Which of a run's tables are finished during the read, and finishing them."""

    def __init__(
        self, run: RunView, target: Target, routes: list[Route], tables: dict[str, TableInfo]
    ) -> None:
        from ..shape.schema import dependency_order

        self.run, self.target = run, target
        names = [r.info.name for r in routes]
        self.enabled = (
            bool(routes)
            and len(set(names)) == len(names)
            and all(isinstance(r.strategy, SqlDeltaLoad) for r in routes)
        )
        self.by_name = {r.info.name: r for r in routes}
        self.order = dependency_order(names, tables) if self.enabled else []
        self.staged: set[str] = set()
        self.finished: set[str] = set()

    def done(self, route: Route) -> bool:
        """Whether ``route``'s table was finished during the read."""
        return route.info.name in self.finished

    async def route_staged(self, route: Route) -> None:
        """Every changed row of ``route`` is staged: finish each table whose turn it is."""
        if not self.enabled:
            return
        self.staged.add(route.info.name)
        for name in self.order:
            if name in self.finished:
                continue
            if name not in self.staged:
                return  # a table before the rest is still being read
            self.run.cancel.raise_if_cancelled()
            here = self.by_name[name]
            await here.strategy.finish(self.run, self.target, here)
            self.finished.add(name)


__all__ = ["EarlyMerge"]
