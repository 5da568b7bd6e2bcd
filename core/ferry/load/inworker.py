"""Big JSON files parsed and mapped in worker processes: when, and the run's side.

In one process a JSON load uses one core: parsing, shaping and mapping hold the GIL. For a
file of at least :data:`WORKER_MIN_BYTES` laid out one record per line, whose root table one
table spec reads plainly (no hook, no sample, no row prints but its lines'), the load
decision says so (``LoadDecision.in_worker``) and the run starts :data:`WORKERS` processes running
:func:`ferry.load.mapworker.serve` (``spawn``: fresh interpreters, never a fork of this
threaded one, and not running the parent's main script again: :mod:`ferry.load.spawnlight`;
a packaged app calls ``multiprocessing.freeze_support()`` in its entry script).
They take the file's chunks in turns and send them back ready for the target; the run takes
the chunks in file order, checks that their lines make one array, encodes and writes them,
records the refused rows and the value warnings (with their caps) as if it had mapped them,
and keeps the progress going by the chunks' ends. A smaller file, or one laid out otherwise
(one long line, pretty-printed), is read in process: starting a worker (an interpreter
importing the reader and the mapper, about half a second of CPU) costs more than it saves.
So is any file on a machine with no idle core (:func:`idle_cores`): the workers spend about a
third more CPU in all (two interpreters, the rows pickled), which pays only on cores that
would otherwise wait. The rows, rejects, warnings and errors are the same either way, and
so are the row prints: each chunk sends back its rows' keys, noted in file order as the read
in process notes them, and the same pass over the lines gives them their prints after the
read (:func:`ferry.load.jsonlines.record_line_prints`).

A chunk a worker cannot vouch for (:class:`~ferry.load.mapworker.Irregular`) or a layout that
breaks across chunks raises :class:`ReadInProcess`: the run rolls back to its start and reads
the file in process, which gives the exact rows or error it always gave.

Cancel (Ctrl-C, the wizard's button) is checked between chunks as ever; leaving the read for
any reason ends the workers (terminated, then killed if they linger) and waits for them, so
nothing is left running. The workers ignore SIGINT: the run stops them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import time
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any, cast

from ..errors import SourceError
from . import mapworker
from .cpuidle import idle_cores
from .jsonlines import laid_by_line
from .mapworker import (
    Failed,
    Finished,
    Irregular,
    Layout,
    MapJob,
    Mapped,
    Message,
    TargetTable,
    Unmapped,
    failure,
    serve,
)
from .route import Route, RunView, Work
from .spawnlight import start_light
from .specviews import mapper_view, view_of

if TYPE_CHECKING:
    from ..plan import SourceSpec, TableSpec
    from ..sources import SourceReader
    from ..sources.json import JsonSource
    from ..targets import Target

#: a JSON file at least this big is parsed and mapped in worker processes (see above)
WORKER_MIN_BYTES = 16 * 1024 * 1024
#: worker processes per file: the machine's cores are shared with the run writing the rows
WORKERS = 2
#: seconds a worker gets to end by itself once the read is over, before it is terminated
_GRACE = 5.0
#: per table, the worker processes' peak resident memory (bytes, summed) in this process's
#: last read of it: for measurements (the benchmark adds it to the run's own)
WORKER_PEAKS: dict[str, int] = {}
#: the decision's modes whose rows are read and mapped the ordinary way
_MODES = frozenset({"direct", "staged", "compare-first"})


class ReadInProcess(Exception):
    """The workers met something only the whole read can judge: the run starts over with
    ``table`` read in process."""

    def __init__(self, table: str, why: str) -> None:
        super().__init__(f"{table}: {why}")
        self.table = table
        self.why = why


def worker_blocker(
    run: RunView, spec: TableSpec, reader: SourceReader | None, adapters: list[Any]
) -> str:
    """Why ``spec``'s rows are not parsed and mapped in worker processes ("" when they
    are): the decision's other conditions (its mode, row prints) are the caller's."""
    if reader is None or not reader.capabilities.maps_in_worker:
        return "the source is not a JSON document"
    if spec.source != reader.spec.name:
        return "a child table of the document"
    readers = [t for t in run.plan.tables if t.source.split(".", 1)[0] == reader.spec.name]
    if len(readers) > 1:
        return "several tables read the source"
    if spec.hook or run.sample is not None:
        return "a hook or a sample sees the rows"
    try:
        size = reader.files()[0].stat().st_size
    except OSError:
        return "the file cannot be looked at"
    if size < WORKER_MIN_BYTES:
        return "a small file (starting a worker costs more than it saves)"
    if idle_cores() < 1:
        # The workers spend about a third more CPU than the read in process: with no core to
        # spare they only take turns with the run and with each other, and it takes longer.
        return "no idle core (the machine's other work leaves none)"
    if not cast("JsonSource", reader).line_records() or not laid_by_line(reader.files()[0]):
        return "not an array laid out one record per line"
    try:
        pickle.dumps(adapters)
    except Exception:  # a value style's adapter is made on the fly: it cannot travel
        return "a value style the worker cannot be given"
    return ""


def in_worker(
    run: RunView,
    spec: TableSpec,
    mode: str,
    printed: bool,
    adapters: list[Any],
    in_process: Collection[str] = (),
) -> bool:
    """Whether a table spec decided ``mode`` (``printed``: its rows' prints are kept, other
    than from the file's lines, which the workers' keys serve too) is
    parsed and mapped in worker processes (``in_process``: tables the run read in process
    after the workers gave up on them)."""
    if mode not in _MODES or printed or spec.name in in_process:
        return False
    reader = run.readers.get(spec.source.split(".", 1)[0])
    return not worker_blocker(run, spec, reader, adapters)


def map_job(run: RunView, route: Route, reader: JsonSource, worker: int, size: int) -> MapJob:
    """What worker number ``worker`` needs to read its chunks and map them as ``route``
    does (``size``: the file's, when the read starts)."""
    mapper = route.mapper
    source = run.source_tables[route.spec.source]
    # The specs travel as views: unpickling the plan's models would import pydantic in each
    # worker.
    return MapJob(
        source=cast("SourceSpec", view_of(reader.spec)),
        base_dir=reader.base_dir,
        size=size,
        worker=worker,
        workers=WORKERS,
        key_field=reader.spec.key_column or "id",
        spec=cast("TableSpec", view_of(route.spec)),
        mapper_spec=cast("TableSpec", mapper_view(mapper)),
        info=TargetTable.of(mapper.target),
        source_columns=dict(source.columns),
        key_fields=tuple(source.key),
        now=mapper.now,
        timezone=mapper.timezone,
        declared_times=mapper.declared_times,
        adapters=list(route.adapters),
        known_fields=frozenset(route.known_fields),
        batch_size=run.plan.options.batch_size,
        chunk_bytes=mapworker.CHUNK_BYTES,
        print_field=route.prints.field if route.prints is not None else None,
    )


class ArrayCheck:
    """The array's layout followed chunk by chunk, in file order (each chunk checked its
    own lines): one ``[`` first, a comma between records and none before ``]``, nothing
    after it. :meth:`take` returns why a chunk breaks it ("" when it does not)."""

    def __init__(self) -> None:
        self.started = self.ended = self.any = False
        self.due = False  # a comma is due before the next record

    def take(self, layout: Layout) -> str:
        if self.ended and (layout.opens or layout.records or layout.closes):
            return "text after the array"
        if layout.opens:
            self.started = True
        elif layout.records:
            if not self.started:
                return "not an array"
            if layout.leads != self.due:
                return "a comma out of place between records"
        if layout.records:
            self.any, self.due = True, layout.needs_comma
        if layout.closes:
            if not self.started or (self.any and not self.due and not layout.records):
                return "a comma before the array's end"
            self.ended = True
        return ""

    def finish(self) -> str:
        """Why the whole file is not one array ("" when it is)."""
        return "" if self.ended else "the array does not end as JSON does"


class MapWorkers:
    """The worker processes of one read: started on entry, ended (and waited for) on exit."""

    def __init__(self, jobs: list[MapJob], path: str) -> None:
        self._path = path
        context = multiprocessing.get_context("spawn")
        self._pipes = [context.Pipe(duplex=False) for _ in jobs]
        self._processes = [
            context.Process(
                target=serve, args=(send, job), name=f"ferry-json-worker-{job.worker}", daemon=True
            )
            for (_, send), job in zip(self._pipes, jobs, strict=True)
        ]
        self._pending: asyncio.Future[Any] | None = None
        #: the workers' peak resident memory in bytes, summed, once they finished
        self.peak_rss = 0

    async def __aenter__(self) -> MapWorkers:
        starting = asyncio.ensure_future(asyncio.to_thread(self._start))
        try:
            await asyncio.shield(starting)
        except BaseException:  # cancelled while starting: end what started, then go on
            await asyncio.wait({starting})
            await self.__aexit__(asyncio.CancelledError, None, None)
            raise
        finally:
            for _, send in self._pipes:
                send.close()  # the workers' ends: a dead worker then reads as EOF
        return self

    def _start(self) -> None:
        start_light(self._processes)  # a heavy main script is not run again in each

    async def receive(self, worker: int) -> Message:
        """Worker ``worker``'s next message; its error raised as the in-process read raises it."""
        receive = self._pipes[worker][0].recv
        self._pending = asyncio.ensure_future(asyncio.to_thread(receive))
        try:
            # Shielded: cancelling the run must not lose the handle on the receiving thread.
            message = await asyncio.shield(self._pending)
        except EOFError:
            await asyncio.to_thread(self._processes[worker].join, _GRACE)
            raise self._died(worker) from None
        self._pending = None
        if isinstance(message, Failed):
            raise failure(message, self._path)
        if isinstance(message, Finished):
            self.peak_rss += message.peak_rss
        return message  # type: ignore[no-any-return]

    def _died(self, worker: int) -> SourceError:
        process = self._processes[worker]
        return SourceError(
            f"{self._path}: a worker process reading the file stopped (exit code "
            f"{process.exitcode})",
            "The machine may be short of memory: close other programs and run again.",
        )

    async def __aexit__(self, *exc: object) -> None:
        stopping = asyncio.ensure_future(asyncio.to_thread(self._stop, exc[0] is None))
        try:
            await asyncio.shield(stopping)
        except asyncio.CancelledError:
            await asyncio.wait({stopping})
            raise
        finally:
            # The workers are gone, so a receive still under way ends (EOF): wait for it,
            # then close the pipes.
            pending, self._pending = self._pending, None
            if pending is not None:
                await asyncio.wait({pending})
                if not pending.cancelled():
                    pending.exception()  # retrieved: an EOF here is expected
            for receive, _ in self._pipes:
                receive.close()
            for process in self._processes:
                if process.pid is not None:  # started (a cancel may come before the last)
                    process.close()

    def _stop(self, finished: bool) -> None:
        """End the workers (``finished``: they are ending by themselves): terminated, else
        killed, and waited for."""
        started = [process for process in self._processes if process.pid is not None]
        for process in started:
            if finished:
                process.join(_GRACE)
            if process.is_alive():
                process.terminate()
        for process in started:
            process.join(_GRACE)
            if process.is_alive():
                process.kill()
                process.join()


async def stream_in_worker(
    run: RunView,
    target: Target,
    route: Route,
    reader: JsonSource,
    queue: asyncio.Queue[Any],
    map_batch: Callable[[Route, list[dict[str, Any]]], Awaitable[None]],
) -> None:
    """Read ``route``'s rows through worker processes into ``queue``, as the pipeline would
    (``map_batch`` maps a chunk sent back as read, in process). Raises
    :class:`ReadInProcess` when the file must be read in process after all."""
    size = reader.path.stat().st_size
    jobs = [map_job(run, route, reader, worker, size) for worker in range(WORKERS)]
    width = len(route.mapper.columns)
    check = ArrayCheck()
    async with MapWorkers(jobs, str(reader.path)) as workers:
        done: set[int] = set()
        index = 0
        while len(done) < WORKERS:
            run.cancel.raise_if_cancelled()
            worker = index % WORKERS
            if worker in done:
                index += 1
                continue
            message = await workers.receive(worker)
            if isinstance(message, Finished):
                done.add(worker)
                continue
            index += 1
            if isinstance(message, Irregular):
                raise ReadInProcess(route.info.name, message.why)
            why = check.take(message.layout)
            if why:
                raise ReadInProcess(route.info.name, why)
            reader.bytes_read = message.end  # the progress's estimate of the total
            if not route.result.rows_read:
                route.started = time.perf_counter()
            if isinstance(message, Unmapped):
                await map_batch(route, message.rows)
                continue
            await _put_mapped(run, target, route, message, width, queue)
        why = check.finish()
        if why:
            raise ReadInProcess(route.info.name, why)
    WORKER_PEAKS[route.info.name] = workers.peak_rss


async def _put_mapped(
    run: RunView, target: Target, route: Route, chunk: Mapped, width: int, queue: asyncio.Queue[Any]
) -> None:
    """Queue a chunk the workers mapped as :func:`~ferry.load.route.map_rows` would have, in
    batches of at most ``batch_size`` rows (what the writer does per batch on the event loop
    stays what it is in process)."""
    for text, key in chunk.warnings:
        route.mapper.warn(text, key)
    if chunk.keys is not None and route.prints is not None:
        await asyncio.to_thread(route.prints.note_keys, chunk.keys)
    size = max(run.plan.options.batch_size, 1)
    prepared = chunk.prepared
    rejected, skipped, read = chunk.rejected, chunk.skipped, len(chunk.rejected) + chunk.skipped
    for start in range(0, max(len(prepared), 1), size):
        rows = prepared[start : start + size]
        encoded, rows = await asyncio.to_thread(_encode, target, route, rows, width)
        work = Work(route, 0, rows, rejected, skipped, encoded, chunk.seconds if not start else 0)
        route.result.rows_read += len(rows) + read
        work.rows_read = route.result.rows_read
        rejected, skipped, read = [], 0, 0  # told with the first batch
        await queue.put(work)


def _encode(target: Target, route: Route, rows: list[tuple[Any, ...]], width: int) -> Any:
    """The rows of a mapped chunk as the target takes them (a worker thread)."""
    added = len(route.mapper.columns) - width
    if added:
        # Columns added for a field first met in a chunk mapped here (Unmapped): the rows of
        # this chunk do not hold the field (they would have come back as read), so each
        # column's value is what its mapping gives a missing field: null.
        rows = [(*values, *(None,) * added) for values in rows]
    return route.strategy.encode(target, route.stage, rows), rows


__all__ = [
    "WORKERS",
    "WORKER_MIN_BYTES",
    "WORKER_PEAKS",
    "ArrayCheck",
    "MapWorkers",
    "ReadInProcess",
    "idle_cores",
    "in_worker",
    "map_job",
    "stream_in_worker",
    "worker_blocker",
]
