"""The run's read–map–write pipeline: every source read once, every batch mapped in a worker
thread while the event loop writes the one before, each written by its table's mode object.
A big JSON file is parsed and mapped in a worker process instead (:mod:`ferry.load.inworker`).

A worker thread reads and maps the next batches (at most ``AHEAD`` waiting) while the event
loop writes the current one, so the database works while Python maps. Tables SQLite maps
itself are streamed by :mod:`ferry.native.stream`; tables nothing is read of are left out of
their source's read.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, cast

from ..events import TableProgress
from ..native.apart import load_apart
from ..native.stream import load_natives
from ..plan import ColumnSpec
from ..shape.namefold import target_column
from ..shape.schema import ColumnInfo
from ..targets import Target
from ..values.logical import LogicalType, value_type
from ..values.targetstyles import TableStyles
from .batching import Prefetch
from .delta import LineDeltaLoad, SqlDeltaLoad, load_line_deltas, load_sql_deltas, print_in_sql
from .hashload import HashedCompareLoad, compare_hashes, load_hashed
from .inworker import stream_in_worker
from .jsonlines import record_line_prints
from .progress import estimated_total
from .route import Route, RunView, Work, map_rows, new_fields

if TYPE_CHECKING:
    from ..sources.json import JsonSource
    from ..sources.sqlite import SqliteSource

#: mapped batches waiting for the writer (bounds memory; two keep the database busy)
AHEAD = 2

#: A table printed beside the natives' load gets a process of its own, which costs its start
#: (a fraction of a second, more on a busy machine) and holds a read lock of its own; a smaller
#: table is printed on the reader's connection after the load (21 small tables of a Django
#: app: a sync cycle of 10 s, 4 s of it starting processes, while the app waited to commit).
ASIDE_ROWS = 50_000


class Pipeline:
    """One run's streaming: :meth:`stream` reads every route's rows and writes them."""

    def __init__(self, run: RunView, target: Target) -> None:
        self.run = run
        self.target = target

    async def stream(self, routes: list[Route]) -> None:
        """Read, map and write every batch of ``routes`` (see the module docstring)."""
        if any(r.decision.mode == "parallel" for r in routes):
            await self.target.idle_while_apart(True)  # until apart.swap_in
        queue: asyncio.Queue[Work | BaseException | None] = asyncio.Queue(maxsize=AHEAD)
        producer = asyncio.create_task(self._produce(routes, queue))
        try:
            while (work := await queue.get()) is not None:
                try:
                    if isinstance(work, BaseException):
                        raise work
                    self.run.cancel.raise_if_cancelled()
                    await self.write(self.target, work)
                finally:
                    queue.task_done()
        finally:
            if not producer.done():
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await producer

    async def _produce(self, routes: list[Route], queue: asyncio.Queue[Any]) -> None:
        """Read and map batches into ``queue``; ends with None, or with the error that
        stopped it."""
        try:
            await self._read_all(routes, queue)
        except Exception as exc:  # handed to the writer, which raises it in order
            await queue.put(exc)
            return
        await queue.put(None)

    async def _read_all(self, routes: list[Route], queue: asyncio.Queue[Any]) -> None:
        by_source: dict[str, list[Route]] = {}
        for route in routes:
            by_source.setdefault(route.spec.source, []).append(route)
        batch_size = self.run.plan.options.batch_size
        # The routes come parents first (ferry.load.loadorder): the sources are read in that
        # order too, as are a SQLite file's tables, whose own keys may say less than the target's.
        first: dict[str, int] = {}
        for place, route in enumerate(routes):
            first.setdefault(route.spec.source.split(".", 1)[0], place)
        readers = sorted(self.run.readers.items(), key=lambda item: first.get(item[0], len(routes)))
        for name, reader in readers:
            mine = [r for r in routes if r.spec.source.split(".", 1)[0] == name]
            native = [r for r in mine if r.decision.mode in ("native", "parallel")]
            reader.read_order = list(dict.fromkeys(r.spec.source for r in mine))
            if reader.capabilities.skips_tables:
                cast("SqliteSource", reader).skip_tables = {
                    r.spec.source for r in mine if not r.strategy.reads_rows
                }
            if reader.capabilities.sqlite_file:
                await self._sqlite_first(cast("SqliteSource", reader), mine, native, queue)
            lines = [r for r in mine if r.prints is not None and r.prints.lines]
            deltas = [r for r in lines if isinstance(r.strategy, LineDeltaLoad)]
            if deltas:
                json = cast("JsonSource", reader)  # records laid out by line: a JSON file
                await load_line_deltas(self, self.target, deltas, json, queue)
            if mine and not any(r.strategy.reads_rows for r in mine):
                continue  # nothing of this source is read the ordinary way
            if len(mine) == 1 and mine[0].decision.in_worker:  # a big JSON file
                json = cast("JsonSource", reader)

                def map_batch(route: Route, rows: list[dict[str, Any]]) -> Awaitable[None]:
                    return self.map_batch(route, rows, queue)

                await stream_in_worker(self.run, self.target, mine[0], json, queue, map_batch)
            else:
                ahead = not reader.capabilities.parses_in_python
                async with Prefetch(reader.batches(batch_size), ahead) as batches:
                    await self._map_source(by_source, mine, batches, queue)
                for notice in reader.notices:
                    self.run.warn(notice, kind="source notice")
            for route in lines:
                if route.strategy.reads_rows and route.decision.mode != "unchanged":
                    json = cast("JsonSource", reader)
                    await asyncio.to_thread(record_line_prints, json, route)

    async def _sqlite_first(
        self,
        reader: SqliteSource,
        mine: list[Route],
        native: list[Route],
        queue: asyncio.Queue[Any],
    ) -> None:
        """What a SQLite file's tables need before its ordinary read, all in its reader's
        snapshot: compare-first tables compared by row hashes (:mod:`ferry.load.hashload`),
        delta loads (SQLite prints every row, only changed ones are read), then the rows of
        both that may differ, native loads, and meanwhile the prints of the other tables
        whose prints are kept."""
        hashed = [r for r in mine if isinstance(r.strategy, HashedCompareLoad)]
        deltas = [r for r in mine if isinstance(r.strategy, SqlDeltaLoad)]
        printed = [
            r
            for r in mine
            if r.prints is not None
            and r.prints.in_sql
            and not isinstance(r.strategy, SqlDeltaLoad)
            and r.decision.mode != "unchanged"
        ]
        sources = self.run.source_tables
        aside = [
            r
            for r in printed
            if any(r is n for n in [*native, *hashed])
            and (sources[r.spec.source].row_estimate or 0) >= ASIDE_ROWS
        ]
        # Printed on a connection of their own while the hashed tables are compared or the
        # natives load (sharing the reader's, each waited for the other); the rest on the
        # reader's, before its ordinary read.
        printing = asyncio.ensure_future(print_in_sql(self.run, reader, aside, side=True))
        try:
            if hashed:  # first: it reads the target, idle until this file's rows are queued
                run, target = self.run, self.target
                await compare_hashes(run, target, reader, hashed, queue, self.progress)
            if deltas:
                await load_sql_deltas(self, self.target, deltas, reader, queue)
            if hashed:
                await load_hashed(self.run, self.target, hashed, reader, queue)
            await self._load_natives(reader, native, queue)
        finally:
            await asyncio.wait({printing})
        await printing
        rest = [r for r in printed if not any(r is a for a in aside)]
        await print_in_sql(self.run, reader, rest)

    async def _load_natives(
        self, reader: SqliteSource, native: list[Route], queue: asyncio.Queue[Any]
    ) -> None:
        """The tables SQLite maps: those loaded apart on connections of their own
        (:mod:`ferry.native.apart`) while the others go through the run's connection."""
        apart = [r for r in native if r.decision.mode == "parallel"]
        rest = [r for r in native if r.decision.mode != "parallel"]
        tasks = []
        if apart:
            tasks.append(asyncio.ensure_future(load_apart(self, self.target, apart, reader)))
        if rest:
            tasks.append(
                asyncio.ensure_future(load_natives(self, self.target, rest, reader, queue))
            )
        if not tasks:
            return
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # the first failure, raised here
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _map_source(
        self,
        by_source: dict[str, list[Route]],
        mine: list[Route],
        batches: Prefetch,
        queue: asyncio.Queue[Any],
    ) -> None:
        sample = self.run.sample
        while True:
            self.run.cancel.raise_if_cancelled()
            if sample is not None and all(r.result.rows_read >= sample for r in mine):
                break  # the sample is complete: the rest of the source is not read
            batch = await batches.next()
            if batch is None:
                break
            for route in by_source.get(batch.table, []):
                rows = batch.rows
                if sample is not None:
                    rows = rows[: max(sample - route.result.rows_read, 0)]
                    if not rows:
                        continue
                if not route.result.rows_read:
                    route.started = time.perf_counter()
                await self.map_batch(route, rows, queue)

    async def map_batch(
        self, route: Route, rows: list[dict[str, Any]], queue: asyncio.Queue[Any]
    ) -> None:
        """Map one batch of ``route``'s source rows (in a worker thread) into ``queue``; a new
        field first widens the table or is warned about."""
        new = await asyncio.to_thread(new_fields, route.known_fields, rows)
        if new:
            await queue.join()  # schema changes wait for the writes before them
            await self._widen_for_new_fields(route, new)
            route.row_fn = None
        if route.row_fn is None:
            route.row_fn = route.mapper.row_function(route.adapters)
        work = await asyncio.to_thread(map_rows, route, self.target, rows)
        route.result.rows_read += len(rows)
        work.rows_read = route.result.rows_read
        await queue.put(work)

    async def write(self, target: Target, work: Work) -> None:
        """Write one mapped batch (by its table's mode object) and account for it."""
        route = work.route
        began = time.perf_counter()
        route.result.skipped += work.skipped
        for key, reason, row in work.rejected:
            self.run.reject(route, key, reason, row)
        await route.strategy.write(self.run, target, work)
        route.busy += work.seconds + time.perf_counter() - began
        self.progress(route, work.rows_read)

    def progress(self, route: Route, rows_read: int) -> None:
        """Tell how far ``route``'s table is (rows read, rows/s)."""
        elapsed = max(time.perf_counter() - route.started, 1e-6)
        total = route.total
        if total is None:  # a JSON file counts nothing ahead: estimate from the bytes read
            reader = self.run.readers.get(route.spec.source.split(".", 1)[0])
            total = estimated_total(rows_read, reader.read_share() if reader else None)
        self.run.emit(TableProgress(route.info.name, rows_read, total, rows_read / elapsed))

    async def _widen_for_new_fields(self, route: Route, new: dict[str, Any]) -> None:
        """Fields the first records did not show (``new``: a value of each, from
        :func:`~ferry.load.route.new_fields`): add columns to a table Ferry created,
        otherwise warn once that they are not migrated."""
        target = self.target
        known = route.known_fields
        for field_name, sample in new.items():
            known.add(field_name)
            mapped = field_name in route.mapper.source_fields
            in_table = field_name in route.info.columns
            carried = route.spec.map_all and field_name not in route.spec.ignore
            if carried and in_table and not mapped and field_name not in route.mapper.columns:
                type_existing = route.info.columns[field_name].type
                await target.add_stage_column(route.stage, route.info.columns[field_name])
                route.mapper.add_column(
                    field_name, ColumnSpec.model_validate({"from": field_name}), type_existing
                )
                styles = self.run.styles.get(route.info.name, TableStyles())
                route.adapters.append(styles.adapter(target, field_name, type_existing))
            elif route.info.created and carried and not mapped and not in_table:
                type_: LogicalType = (
                    route.spec.types.get(field_name) or value_type(sample) or "text"
                )
                column = ColumnInfo(field_name, type_)
                # (the target refuses a name it cannot hold: Target.add_column)
                self.run.result.ddl.append(await target.add_column(route.info, column))
                await target.add_stage_column(route.stage, column)
                route.mapper.add_column(
                    field_name, ColumnSpec.model_validate({"from": field_name}), type_
                )
                route.adapters.append(target.adapt(type_))
            else:
                note_unmapped(self.run, route, field_name)


def note_unmapped(run: RunView, route: Route, field_name: str) -> None:
    """Warn once that a source field has no column in the table (it is not migrated), or
    that the column it would feed is one the target computes itself."""
    if (
        field_name not in route.mapper.source_fields
        and field_name not in route.spec.ignore
        and route.spec.map_all
    ):
        columns = route.info.columns
        fed = field_name if field_name in columns else target_column(field_name, columns)
        if fed is not None and route.info.columns[fed].generated:
            source = run.source_tables.get(route.spec.source)
            shape = source.shape if source is not None else None
            if shape is None or field_name not in shape.generated:
                run.warn(
                    f"{route.spec.source}: field {field_name!r} is not written: column "
                    f"{fed} of {route.info.name} is computed by the target (GENERATED ALWAYS "
                    "AS), which keeps its own values",
                    route.info.name,
                    kind=f"{route.info.name}:computed:{field_name}",
                )
            return  # computed on both sides: nothing of the source's is lost
        run.warn(
            f"{route.spec.source}: field {field_name!r} has no column in table "
            f"{route.info.name}; it is not migrated",
            route.info.name,
            kind=f"{route.info.name}:unmapped:{field_name}",
        )


__all__ = ["AHEAD", "Pipeline", "note_unmapped"]
