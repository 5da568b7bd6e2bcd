"""A delta run's page scans started while the run is still planned.

Deciding a delta load takes the target's server most of a fifth of a second at a million rows
(each table's state check scans it; its kept prints come in chunks) with the run's process
waiting. The comparison of a SQLite source table's pages with its kept page map needs neither:
only the map, the file and the reader's snapshot. So where a table may load as a delta (the
last run of this plan kept its prints, printed from this source's pages) its map is read just
before its state is checked, and a process of its own
(:class:`ferry.sources.sqlitepages.SideDelta`) compares the pages while the server checks the
state, the run reads the kept prints and decides the tables after it; the load
(:func:`ferry.load.delta.load_sql_deltas`) then takes its leaves instead of scanning. A table
that turns out not to be a delta (written to behind Ferry's back) has its process ended.

The process reads the file's pages in the reader's snapshot: the reader's read transaction is
opened before it starts, and the reader ends the process before it lets the lock go
(:meth:`ferry.sources.sqlite.SqliteSource.close`: the run closes its readers after every
attempt, on a restart too); the load ends it once its leaves are taken. Where it cannot
start (a frozen app, a header that cannot be read) or fails, the load scans the table itself,
as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from .. import earlydelta
from ..sources.sqlitepages import DeltaScan, PageComparison, PageMap, delta_of, map_digest
from .pagemaps import read_page_map
from .printbook import PrintBook
from .rerun import count_as_left
from .route import Route, RunView
from .rowprints import PrintsEntry, read_prints, state_matches

if TYPE_CHECKING:
    from ..plan import TableSpec
    from ..sources.sqlite import SqliteSource
    from ..targets import Target


#: how a SQLite source table's rows are printed when from its file's pages (a decision's
#: ``printed``, :class:`ferry.load.decide.LoadFacts`)
PAGES = "from the file's pages"

#: a table's kept page map and the process comparing its pages with it (None: none)
EarlyScan = tuple[PageMap | None, PageComparison | None]


async def scan_early(run: RunView, target: Target, spec: TableSpec, table: str) -> EarlyScan:
    """The page map kept for ``table`` and, when there is one, the pages of ``spec``'s
    SQLite source table being compared with it by a process of its own (None: the load
    scans them)."""
    kept = await read_page_map(target, table)
    if kept is None:
        return None, None
    name, origin = spec.source.split(".", 1)[0], run.source_tables[spec.source].origin
    reader = cast("SqliteSource", run.readers[name])
    if target.capabilities.row_versions and earlydelta.scans(table):
        # compared by the process begun with the command: taken if it read these pages
        facts = await asyncio.to_thread(reader.page_facts, origin)
        if facts is not None:
            earlydelta.take(table)
            return kept, EarlySide(table, origin, (*facts, map_digest(kept)))
    return kept, await asyncio.to_thread(reader.side_delta, {origin: kept})


class EarlySide:
    """A table's page comparison made by the process begun with the command
    (:mod:`ferry.earlydelta`), in the role of a :class:`SideDelta`: its result is taken only
    when made with the facts this run's reader read under its own lock (``facts``: the
    file's identity, its change counter, the table's root page and seed, the kept map's
    digest); otherwise the reason, and the load scans the table itself."""

    def __init__(self, table: str, origin: str, facts: tuple[Any, ...]) -> None:
        self.table, self.tables, self.facts = table, [origin], facts

    def ready(self, origin: str) -> bool:
        """Whether :meth:`result` would answer at once."""
        return earlydelta.scanned(self.table)

    def result(self, origin: str) -> DeltaScan:
        """The comparison, once the process made it, or why it is not taken."""
        found = earlydelta.scan_for(self.table)
        if found is None or isinstance(found, str):
            return f"the process begun with the command did not compare it ({found})"
        facts, *rest = found
        if tuple(facts) != self.facts:
            return "the file or its kept map changed since the command began"
        return delta_of(rest)

    def close(self) -> None:
        """Nothing to end: the process ends when the reader closes the file."""


#: how often the load looks whether another table's pages are compared (seconds)
_WAIT_COMPARED = 0.005


async def first_compared(run: RunView, routes: list[Route], side: PageComparison | None) -> Route:
    """The first of ``routes`` (delta loads) whose page comparison is made, or made by
    nothing but the load itself (``side``: the process comparing the tables after the first),
    once one is: the load reads the tables in the order their comparisons end."""
    while True:
        for route in routes:
            assert route.prints is not None
            origin = run.source_tables[route.spec.source].origin
            scanner = route.prints.early or (
                side if side is not None and origin in side.tables else None
            )
            if scanner is None or scanner.ready(origin):
                return route
        await asyncio.sleep(_WAIT_COMPARED)


def said_early(route: Route) -> None:
    """Say in the table's decision (the report's and the preview's why) that its pages were
    compared by the process begun with the command."""
    why = f"{route.decision.why}; its pages compared as the command started"
    route.strategy.decision = route.result.decision = replace(route.decision, why=why)


async def state_holds(target: Target, table: str, columns: list[str], entry: PrintsEntry) -> bool:
    """Whether nobody wrote to ``table`` since the run that kept ``entry``: as the process
    begun with the command found it, when it checked this very entry
    (:mod:`ferry.earlydelta`), else checked now (:func:`state_matches`)."""
    if target.capabilities.row_versions:
        found = await asyncio.to_thread(earlydelta.state_for, table, entry.run_id, entry.state)
        if found is not None:
            return count_as_left(found[0], found[1], entry.state)
    return await state_matches(target, table, columns, entry.state)


async def print_book(
    run: RunView,
    target: Target,
    spec: TableSpec,
    table: str,
    field: str,
    delta: bool,
    early: EarlyScan,
    *,
    in_sql: bool,
    lines: bool,
    cells: bool,
) -> PrintBook:
    """The print book of ``spec``'s ``table`` (its rows' key in source ``field``); a delta
    run's (``delta``) with the prints the last run kept and, printed from the pages of its
    SQLite source table (``cells``), the kept page map and its comparison (``early``, begun
    before the table's state was checked, :class:`ferry.load.routes._Decider`; its process
    is ended here when no delta came of it)."""
    kept_pages, side = early
    if not (delta and cells):
        if side is not None:
            await asyncio.to_thread(side.close)
        kept_pages, side = None, None
    prints = await read_prints(target, table) if delta else None
    book = PrintBook(field, prints, in_sql=in_sql, lines=lines, cells=cells)
    book.kept_pages, book.early = kept_pages, side
    return book


__all__ = [
    "PAGES",
    "EarlyScan",
    "EarlySide",
    "print_book",
    "said_early",
    "scan_early",
    "state_holds",
]
