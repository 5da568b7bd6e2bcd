"""Loading the tables a run created apart, each on a connection of its own (``parallel``).

A first load into PostgreSQL is bound by the server's work for one connection: one backend on
one core. A ``parallel`` decision (:mod:`ferry.load.decide`) loads a table this run created
on a connection of its own, into a private table with the same ``CREATE TABLE``
(:meth:`~ferry.targets.base.Target.open_apart`), builds its indexes there and commits it
there; several tables load at once, each with its own server backend, while the SQLite
reader maps the chunks of all of them in turns. The run's own transaction then swaps every
private table into place (:func:`swap_in`) before the tables are finished (foreign keys,
identities, fingerprints, undo's row version): the app sees the loaded tables only at the
run's one commit, with its journal row. Until then nothing of the app's schema changed; a run
that fails or is cancelled drops its private tables (:func:`discard`), and the next run drops
those a killed one left (:meth:`~ferry.targets.base.Target.drop_apart_leftovers`).

Values, rejects and warnings are the native load's own (:func:`~ferry.native.stream.native_chunks`
reads the chunks; the rows SQLite leaves out are mapped by Python): a value the server refuses
restarts the run with the table staged, as for a native load.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from ..load.direct import ApartNativeLoad
from ..load.route import Route, RunView
from ..shape.ddl import index_sql
from ..targets import Target
from ..targets.afterload import after_load_failed
from ..targets.base import ApartLoad
from .stream import Writer, native_chunks

if TYPE_CHECKING:
    from ..sources.sqlite import SqliteSource

#: tables loading apart at once: each takes a connection and a server backend (the benchmark's
#: two tables keep two cores busy with the reader's thread)
CONNECTIONS = 2
#: chunks of a table read and mapped ahead of its connection
AHEAD = 2


def loaded_apart(routes: list[Route]) -> list[tuple[Route, ApartLoad]]:
    """The routes loaded apart whose private table is open or committed."""
    found = []
    for route in routes:
        strategy = route.strategy
        if isinstance(strategy, ApartNativeLoad) and strategy.apart is not None:
            found.append((route, strategy.apart))
    return found


async def load_apart(
    writer: Writer, target: Target, routes: list[Route], reader: SqliteSource
) -> None:
    """Load ``routes`` (``parallel`` decisions), at most ``CONNECTIONS`` at once, each
    committed in its private table with its indexes; the first failure stops all."""
    gate = asyncio.Semaphore(CONNECTIONS)
    reading = asyncio.Lock()
    tasks = [
        asyncio.ensure_future(_load_one(writer, target, route, reader, gate, reading, number))
        for number, route in enumerate(routes)
    ]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # the first failure, raised here
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _load_one(
    writer: Writer,
    target: Target,
    route: Route,
    reader: SqliteSource,
    gate: asyncio.Semaphore,
    reading: asyncio.Lock,
    number: int,
) -> None:
    strategy = route.strategy
    assert isinstance(strategy, ApartNativeLoad)
    run = writer.run
    info = route.info
    async with gate:
        run.cancel.raise_if_cancelled()
        # (a name of its own per attempt: a restarted run's may still be being dropped)
        label = f"{run.result.run_id}_{number}_{uuid.uuid4().hex[:6]}"
        strategy.apart = apart = await target.open_apart(info, info.ddl, label)
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=AHEAD)
        producer = asyncio.ensure_future(_produce(writer, target, route, reader, reading, queue))
        try:
            while (work := await queue.get()) is not None:
                if isinstance(work, BaseException):
                    raise work
                run.cancel.raise_if_cancelled()
                await writer.write(target, work)
        finally:
            if not producer.done():
                producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
        began = time.perf_counter()
        for index in info.shape.indexes if info.shape is not None else []:
            run.cancel.raise_if_cancelled()
            statement = index_sql(info.name, index)
            try:
                await apart.execute(statement)
            except DBAPIError as exc:
                raise after_load_failed(info.name, statement, exc) from None
            run.result.ddl.append(statement)
        await apart.commit()
        route.busy += time.perf_counter() - began


async def _produce(
    writer: Writer,
    target: Target,
    route: Route,
    reader: SqliteSource,
    reading: asyncio.Lock,
    queue: asyncio.Queue[Any],
) -> None:
    """The table's chunks into ``queue``; ends with None, or with the error that stopped it.

    One table's chunk is read and formatted at a time (``reading``): two reading threads
    would take turns at the GIL row by row (the fetch and the formatting hold it), each
    waiting for a forced switch; in turns, the reader works on one chunk while the server
    backends load the others."""
    chunks = native_chunks(writer, target, route, reader)
    try:
        while True:
            async with reading:
                work = await anext(chunks, None)
            if work is None:
                break
            await queue.put(work)
    except Exception as exc:  # raised by the writing side, in order
        await queue.put(exc)
        return
    finally:
        await chunks.aclose()
    await queue.put(None)


async def swap_in(run: RunView, target: Target, routes: list[Route]) -> set[str]:
    """Put every table loaded apart in place, in the run's transaction; their names (their
    indexes are built)."""
    if any(r.decision.mode == "parallel" for r in routes):
        await target.idle_while_apart(False)
    swapped = set()
    for route, apart in loaded_apart(routes):
        run.cancel.raise_if_cancelled()
        await apart.swap_in()
        swapped.add(route.info.name)
    return swapped


async def discard(routes: list[Route]) -> None:
    """Drop the private tables of ``routes`` after the run's transaction ended (it may hold
    their locks); after a commit there is nothing left to drop (the swap dropped them)."""
    for route, apart in loaded_apart(routes):
        await apart.discard()
        strategy = route.strategy
        assert isinstance(strategy, ApartNativeLoad)
        strategy.apart = None


__all__ = ["AHEAD", "CONNECTIONS", "discard", "load_apart", "loaded_apart", "swap_in"]
