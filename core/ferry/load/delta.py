"""Delta runs: only the source rows whose print changed since the last run are mapped and
staged.

Every run that loads a table keyed by one integer column copied as it is from one source field
prints each source row as it reads it (:class:`PrintBook`, :mod:`ferry.values.rowprint`) and,
when the table's load left nothing out, keeps the prints in the target
(:mod:`ferry.load.rowprints`, :func:`ferry.load.books.keep_run_prints`). The next run of the
same plan whose table is still as that run left it (its state,
:func:`ferry.load.rowprints.state_matches`) decides ``delta`` for it
(:mod:`ferry.load.decide`): each source row is printed again and compared with the kept print
*before* it is mapped; rows with the same print are counted unchanged and go no further, new
and changed rows are mapped, staged and merged as in a staged load, and with
``delete_missing`` the keys kept but no longer in the source are deleted. A table the app
wrote to since keeps no delta: it is compared in full (``compare-first``).

Where the source is a SQLite file feeding this table spec alone, the rows are printed from
the file's pages when the key is the table's rowid and the file is not in WAL mode
(:mod:`ferry.load.pageprints`: only changed leaf pages are parsed), else SQLite prints them
inside the query (``ferry_row_print``, registered on the reader's connection) in key order;
either way only the changed rows are read (:func:`load_sql_deltas`); the prints and the rows
come from the reader's one snapshot, so they agree even while the app writes. Other sources
print the rows as read, in the pipeline's worker thread (:meth:`PrintBook.take`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from array import array
from typing import TYPE_CHECKING, Any

from .. import earlydelta
from ..errors import SourceError
from ..shape.identifiers import quote
from ..sources.sqlitepages import DeltaScan, PagesUnreadable, SideDelta, SideScan
from ..targets import Target
from ..targets.base import DirectLoadRefused
from .decide import LoadDecision
from .earlyscan import EarlySide, first_compared, said_early
from .jsonlines import NotLines, changed_rows
from .pageprints import page_prints
from .printfile import PrintFile
from .route import RestartStaged, Route, RunView, Work, map_rows
from .rowprints import (
    PrintsEntry,
    part_state,
    print_sql,
    state_after,
    sums_kept,
)
from .staged import StagedLoad

if TYPE_CHECKING:
    from ..sources.json import JsonSource
    from ..sources.sqlite import SqliteSource

_log = logging.getLogger(__name__)

#: source rows printed per fetch (SQL prints)
_PRINT_ROWS = 10_000
#: keys per ``IN (…)`` when changed rows are read or vanished ones deleted
_KEYS_PER_QUERY = 500


class DeltaLoad(StagedLoad):
    """Staged, but only the rows whose print changed reach the stage (module docstring)."""

    def __init__(self, decision: LoadDecision, entry: PrintsEntry) -> None:
        super().__init__(decision)
        #: what the last run kept of the table
        self.entry = entry
        self.written: list[int] = []
        #: the kept keys the source no longer has (None: not asked yet)
        self.vanished: list[int] | None = None
        #: the rows of ``written`` summed before the run wrote them (targets without row
        #: versions: the state moves on by the difference, no scan of the table)
        self.part_before: dict[str, int] | None = None
        #: the state after this run, once asked (the prints' and the re-run fingerprint's)
        self.after: dict[str, Any] | None = None

    async def write(self, run: RunView, target: Target, work: Work) -> None:
        book = work.route.prints
        if book is not None and book.repeated:
            raise RestartStaged(
                DirectLoadRefused(
                    work.route.info.name, "a key the last run kept repeats in the source"
                )
            )
        await super().write(run, target, work)

    def deletes_missing(self, route: Route) -> bool:
        return False  # the vanished keys are known: deleted by key in finish()

    async def delete_first(self, run: RunView, target: Target, route: Route) -> None:
        """The kept keys no longer in the source, deleted by key before any merge."""
        if not route.spec.delete_missing:
            return
        vanished = await self._before_writes(run, target, route)
        if vanished and run.changes is not None:
            # undo: rows deleted by key here get no before-image (ferry.load.changeset)
            await run.changes.unrecorded(route.info, list(route.stage.key), route.spec.mode)
        route.result.deleted += await delete_keys(
            target, route.info.name, route.mapper.key[0], vanished
        )

    async def finish(self, run: RunView, target: Target, route: Route) -> None:
        await self._before_writes(run, target, route)
        await super().finish(run, target, route)

    async def _before_writes(self, run: RunView, target: Target, route: Route) -> list[Any]:
        """The keys of the rows gone from the source; once, before any row is written or
        deleted: the keys this run may write or delete and, where kept, their state."""
        book = route.prints
        assert book is not None
        if self.vanished is None:
            vanished = self.vanished = book.vanished()
            self.skipped_unchanged = book.unchanged
            self.written = book.changed + vanished
            if sums_kept(target, self.entry.state) and not run.preview:
                self.part_before = await part_state(
                    target,
                    route.info.name,
                    list(route.info.columns),
                    route.mapper.key[0],
                    self.written,
                )
        return self.vanished

    async def table_state(self, target: Target, route: Route) -> dict[str, Any]:
        """The state after this run: the kept one moved on by the rows written (asked once
        every write is done; the row count moved on by the rows inserted and deleted)."""
        if self.after is None:
            result = route.result
            rows = int(self.entry.state["rows"]) + result.inserted - result.deleted
            versions = self.merged_versions
            if versions is not None and "xmins" in self.entry.state:
                # the merge returned its rows' versions: the others of ``written`` were not
                # written (unchanged after all, or deleted), so they carry kept versions
                xmins = {str(x) for x in self.entry.state["xmins"]} | set(versions)
                self.after = {"rows": rows, "xmins": sorted(xmins)}
                return self.after
            self.after = await state_after(
                target,
                route.info.name,
                list(route.info.columns),
                self.entry.state,
                route.mapper.key[0],
                self.written,
                self.part_before,
                rows,
            )
        return self.after

    async def row_state(self, target: Target, route: Route) -> tuple[int, list[str]] | None:
        """The re-run fingerprint's row versions: those of the prints' state (the kept ones
        and those of the rows written, looked up by key), not a scan of the table."""
        if not target.capabilities.row_versions:
            return await super().row_state(target, route)
        state = await self.table_state(target, route)
        return int(state["rows"]), [str(x) for x in state["xmins"]]


class SqlDeltaLoad(DeltaLoad):
    """A delta load of a SQLite source table: SQLite prints the rows, only changed ones are
    read (:func:`load_sql_deltas`), not the ordinary read."""

    reads_rows = False


class LineDeltaLoad(DeltaLoad):
    """A delta load of a JSON file one record per line: only changed lines are parsed
    (:func:`load_line_deltas`), not the ordinary read."""

    reads_rows = False


async def delete_keys(target: Target, table: str, key: str, keys: list[int]) -> int:
    """Delete the rows of ``keys`` (integers) from ``table``."""
    deleted = 0
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        listed = ",".join(str(int(k)) for k in keys[start : start + _KEYS_PER_QUERY])
        deleted += await target.execute(
            f"DELETE FROM {quote(table)} WHERE {quote(key)} IN ({listed})",
            f"deleting rows missing from the source in {table}",
        )
    return deleted


def sql_prints(
    reader: SqliteSource,
    route: Route,
    origin: str,
    columns: list[str],
    side: bool = False,
    scanned: tuple[PrintFile, SideScan] | None = None,
    compared: DeltaScan | None = None,
) -> list[int]:
    """Print every row of ``route``'s SQLite source table (``origin``, its ``columns``) into
    its book (a worker thread): from the file's pages (:mod:`ferry.load.pageprints`) or in
    the query, in key order; the keys of the rows to load (a delta run's). ``side``: on a
    connection of its own (while a native load reads on the reader's); ``scanned``: what a
    side process read of the table's pages; ``compared``: its leaves a side process compared
    with the kept map (a delta run's, :class:`ferry.sources.sqlitepages.SideDelta`)."""
    book = route.prints
    assert book is not None
    if book.cells:
        try:
            return page_prints(reader, route, origin, scanned if side else None, compared)
        except PagesUnreadable as exc:
            if book.kept is not None:  # kept cell prints: SQL prints would match none
                raise RestartStaged(
                    DirectLoadRefused(route.info.name, f"the file's pages were not read: {exc}")
                ) from None
            book.cells = False  # a first run: its prints are kept as SQL prints instead
    key = quote(book.field)
    sql = f"SELECT {key}, {print_sql(columns)} FROM {quote(origin)} ORDER BY {key}"
    found = (
        reader.side_prints(sql, origin) if side else reader.iter_query(sql, (), origin, _PRINT_ROWS)
    )
    changed: list[int] = []
    for rows in found:
        keys = book.note_sorted([r[0] for r in rows], [r[1] for r in rows])
        if book.kept is not None:  # (a first run loads every row: none listed)
            changed += keys
    book.side = side
    return changed


async def print_in_sql(
    run: RunView, reader: SqliteSource, routes: list[Route], side: bool = False
) -> None:
    """Print the rows of ``routes`` (loaded otherwise: their prints are only kept) in SQLite;
    ``side``: on a connection of its own, while native loads read on the reader's (their
    prints are kept only when the source did not change during the run)."""
    scanned: dict[str, SideScan] = {}
    rows: dict[str, PrintFile] = {}  # the side process's rows of each, as they come
    if side:  # the tables printed from pages: all in one process
        for r in routes:
            if r.prints is not None and r.prints.cells:
                rows[run.source_tables[r.spec.source].origin] = PrintFile()
        if rows:

            def sink(table: str, keys: array[int], prints: array[int]) -> None:
                rows[table].extend(keys, prints)

            scanned = await asyncio.to_thread(reader.side_pages, list(rows), sink)
    for origin, found in scanned.items():
        if isinstance(found, str):  # not read: what came of it is dropped
            rows.pop(origin).close()
    for route in routes:
        source = run.source_tables[route.spec.source]
        try:
            await asyncio.to_thread(
                sql_prints,
                reader,
                route,
                source.origin,
                list(source.columns),
                side,
                _side_scan(scanned, rows, source.origin),
            )
        except SourceError as exc:
            if not side or route.prints is None:
                raise
            # (an app writing to the file, say): the prints only spare the next run work,
            # which then compares the table in full; the load itself read on
            route.prints.whole = False
            _log.info("row prints of %s not kept: %s", route.info.name, exc.message)


def _side_scan(
    scanned: dict[str, SideScan], rows: dict[str, PrintFile], origin: str
) -> tuple[PrintFile, SideScan] | None:
    if origin not in scanned:
        return None
    return (rows[origin] if origin in rows else PrintFile()), scanned[origin]


async def load_sql_deltas(
    pipeline: Any,
    target: Target,
    routes: list[Route],
    reader: SqliteSource,
    queue: asyncio.Queue[Any],
) -> None:
    """Delta loads of SQLite source tables: print every row in SQLite, then read, map and
    queue only the rows whose print changed."""
    run: RunView = pipeline.run
    side = await asyncio.to_thread(_side_delta, run, reader, routes)
    try:
        pending = list(routes)
        while pending:  # as their comparisons end (staged: merged later in the plan's order)
            run.cancel.raise_if_cancelled()
            pending.remove(route := await first_compared(run, pending, side))
            route.row_fn = route.mapper.row_function(route.adapters)
            route.started = time.perf_counter()
            source = run.source_tables[route.spec.source]
            names, origin = list(source.columns), source.origin
            book = route.prints
            assert book is not None
            compared = None
            early = book.early  # (begun while the run was planned: ferry.load.earlyscan)
            scanner = early or (side if side is not None and origin in side.tables else None)
            if scanner is not None:
                compared = await asyncio.to_thread(scanner.result, origin)
                if isinstance(compared, str):
                    _log.info("pages of %s scanned here: %s", origin, compared)
                elif isinstance(scanner, EarlySide):
                    said_early(route)
            changed = await asyncio.to_thread(
                sql_prints, reader, route, origin, names, compared=compared
            )
            if early is not None:
                book.early = None
                await asyncio.to_thread(early.close)
            await queue_changed(
                run, target, route, reader, book.field, changed, queue, book.unchanged
            )
    finally:
        if side is not None:
            await asyncio.to_thread(side.close)
        await asyncio.to_thread(earlydelta.discard)  # (begun with the command: all taken)


def _side_delta(run: RunView, reader: SqliteSource, routes: list[Route]) -> SideDelta | None:
    """The tables after the first whose pages are compared with a kept map, scanned by a
    process of its own while this one compares the tables before them (None: none; the
    tables whose comparison began while the run was planned, :mod:`ferry.load.earlyscan`,
    have one already)."""
    origins = [run.source_tables[r.spec.source].origin for r in routes]
    kept = {}
    for route, origin in zip(routes[1:], origins[1:], strict=True):
        book = route.prints
        if (
            book is not None
            and book.cells
            and book.early is None  # (its pages compared already)
            and book.kept is not None
            and book.kept_pages is not None
            and origins.count(origin) == 1  # (its leaves are told against this route's map)
        ):
            kept[origin] = book.kept_pages
    return reader.side_delta(kept) if kept else None


async def queue_changed(
    run: RunView,
    target: Target,
    route: Route,
    reader: SqliteSource,
    field: str,
    changed: list[int],
    queue: asyncio.Queue[Any],
    unchanged: int,
) -> None:
    """Read, map and queue the rows of ``changed`` keys (of source ``field``) of ``route``'s
    table; ``unchanged``: the rows not read, counted as read."""
    source = run.source_tables[route.spec.source]
    names, origin = list(source.columns), source.origin
    total = unchanged + len(changed)
    # no IN list matches a NULL key: those rows are read once, by IS NULL (rejected as empty)
    nulls = None in changed
    keys = [k for k in changed if k is not None] if nulls else changed
    for start in range(0, max(len(keys), nulls), _KEYS_PER_QUERY):
        run.cancel.raise_if_cancelled()
        part = keys[start : start + _KEYS_PER_QUERY]
        where = f"{quote(field)} IN ({', '.join('?' * len(part))})"
        if nulls and not start:
            where += f" OR {quote(field)} IS NULL"
        sql = f"SELECT {', '.join(quote(c) for c in names)} FROM {quote(origin)} WHERE {where}"
        rows = await asyncio.to_thread(reader.rows_where, source, sql, tuple(part), names)
        work = await asyncio.to_thread(map_rows, route, target, rows)
        route.result.rows_read += len(rows)
        work.rows_read = route.result.rows_read
        await queue.put(work)
    route.result.rows_read = max(route.result.rows_read, total)


async def load_line_deltas(
    pipeline: Any,
    target: Target,
    routes: list[Route],
    reader: JsonSource,
    queue: asyncio.Queue[Any],
) -> None:
    """Delta loads of JSON files one record per line: read the lines against the kept
    prints, then map and queue the rows of the new and changed records. A file that is not
    (or no longer) laid out so starts the run over, the table compared in full."""
    run: RunView = pipeline.run
    size = run.plan.options.batch_size
    for route in routes:
        run.cancel.raise_if_cancelled()
        route.row_fn = route.mapper.row_function(route.adapters)
        route.started = time.perf_counter()
        try:
            rows = await asyncio.to_thread(changed_rows, reader, route, size)
        except NotLines as exc:
            raise RestartStaged(
                DirectLoadRefused(route.info.name, f"the file is not one record per line: {exc}")
            ) from None
        book = route.prints
        assert book is not None
        route.result.rows_read = book.unchanged
        for start in range(0, len(rows), size):
            part = rows[start : start + size]
            work = await asyncio.to_thread(map_rows, route, target, part)
            route.result.rows_read += len(part)
            work.rows_read = route.result.rows_read
            await queue.put(work)


__all__ = [
    "DeltaLoad",
    "LineDeltaLoad",
    "SqlDeltaLoad",
    "delete_keys",
    "load_line_deltas",
    "load_sql_deltas",
    "print_in_sql",
    "queue_changed",
    "sql_prints",
]
