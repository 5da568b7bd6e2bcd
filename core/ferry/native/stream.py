"""Streaming the tables SQLite maps itself (:mod:`ferry.native.load`), chunk after chunk.

A target that attaches SQLite files copies each chunk inside its own engine (``INSERT …
SELECT``, in the target's thread); any other target takes the chunks as COPY data (binary
where every column's type allows, else CSV), the chunks of several tables sent in turns. The
rows SQLite leaves out are read again and mapped by Python, so results are those of the
Python mapping. The run's pipeline (:mod:`ferry.load.stream`) calls :func:`load_natives`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..load.direct import NativeDirectLoad
from ..load.route import RestartStaged, Route, RunView, Work, map_rows, share_read
from ..shape.ddl import index_sql
from ..shape.identifiers import quote
from ..sources import SourceTable
from ..targets import Target
from ..targets.base import DirectLoadRefused, Encoded, NativeInsert
from ..targets.sqlitecopy import WholeCopy
from ..values.textbytes import all_utf8, chunk_sql, rows_sql
from .load import NativeLoad

if TYPE_CHECKING:
    from ..sources.sqlite import SqliteSource

#: COPY text per chunk of a native load (bounds memory; big enough that SQLite streams)
CHUNK_BYTES = 2 * 1024 * 1024
#: columns whose text values are checked for UTF-8 (``any``: its blobs too, so a chunk with a
#: blob that is not UTF-8 goes to Python, which copies it as it is all the same)
_CHECKED_TEXT = ("text", "any")


class Writer(Protocol):
    """The pipeline's side a native load writes through (:class:`ferry.load.stream.Pipeline`)."""

    run: RunView

    async def write(self, target: Target, work: Work) -> None: ...

    def progress(self, route: Route, rows_read: int) -> None: ...


def native_of(route: Route) -> NativeLoad:
    """The SQL of ``route``'s native load."""
    strategy = route.strategy
    assert isinstance(strategy, NativeDirectLoad)
    return strategy.native


async def load_natives(
    writer: Writer,
    target: Target,
    routes: list[Route],
    reader: SqliteSource,
    queue: asyncio.Queue[Any],
) -> None:
    """Load the tables SQLite maps itself, chunk after chunk.

    Into a server the tables' chunks are interleaved so each table has read the same share
    of its rows: a table of long texts keeps the server busy, one of many small rows keeps
    the reader busy, and in turns both work at once (first run 0.75× the time of table after
    table on the benchmark's data)."""
    if target.capabilities.attaches_sqlite:
        await queue.join()  # SQLite copies in the target's own thread: no pipeline
        for route in routes:
            await _insert_native(writer, target, route, reader)
        return
    streams = [(route, native_chunks(writer, target, route, reader)) for route in routes]
    try:
        while streams:
            stream = min(streams, key=lambda s: share_read(s[0]))
            work = await anext(stream[1], None)
            if work is None:
                streams.remove(stream)
            else:
                await queue.put(work)
    finally:  # a cancel or an error: close the tables' chunk readers now, not at exit
        for _, chunks in streams:
            await chunks.aclose()


async def native_chunks(
    writer: Writer, target: Target, route: Route, reader: SqliteSource
) -> AsyncGenerator[Work, None]:
    """``route``'s table, chunk after chunk, as SQLite maps it: binary COPY where every
    column's type takes it (the server copies values instead of parsing text), else CSV;
    then the rows SQLite leaves out, mapped by Python."""
    native = native_of(route)
    run = writer.run
    source = run.source_tables[route.spec.source]
    rows = await _start_native(route, reader)
    types = native.binary_types
    encode = await target.binary_encoder(types) if types is not None else None
    sql = native.csv_sql() if encode is None else native.binary_sql()
    after = -(2**63)
    dense = True  # rowids without gaps so far: a chunk is a span of rowids (_binary_chunk)
    while True:
        run.cancel.raise_if_cancelled()
        began = time.perf_counter()
        if encode is None:
            text, count, mapped, last = await asyncio.to_thread(
                reader.query_one, sql, (after, rows), native.origin
            )
            # COPY takes a last line without \n
            encoded = Encoded(0, text or b"", csv=True)
        else:
            data, count, mapped, last = await asyncio.to_thread(
                _binary_chunk, reader, native, route.info.name, sql, encode, (after, rows), dense
            )
            encoded = Encoded(0, data, binary=True)
            dense = dense and count == rows
        if not count:
            return
        route.result.rows_read += count
        seconds = time.perf_counter() - began
        yield Work(route, route.result.rows_read, [], [], 0, encoded, seconds, native_rows=mapped)
        if mapped < count:
            flagged = await _rowid_work(route, target, reader, source, after, last, flagged=True)
            flagged.rows_read = route.result.rows_read
            yield flagged
        after = last


async def _start_native(route: Route, reader: SqliteSource) -> int:
    """Start ``route``'s native load; the rows per chunk (about ``CHUNK_BYTES`` of source
    values, 1000 to 100,000)."""
    native = native_of(route)
    route.started = time.perf_counter()
    route.row_fn = route.mapper.row_function(route.adapters)  # for the rows SQLite leaves
    width = await asyncio.to_thread(reader.row_bytes, native.origin, native.source_columns)
    return max(1000, min(100_000, CHUNK_BYTES // max(width, 16)))


async def _insert_native(
    writer: Writer, target: Target, route: Route, reader: SqliteSource
) -> None:
    """A target that attaches the source copies the rows from it, a chunk at a time."""
    rows = await _start_native(route, reader)
    schema = await target.attach(reader.path)
    if await _copied_whole(writer, target, route, schema, rows):
        return
    if not route.info.created:
        await _insert_chunks(writer, target, route, reader, (schema, rows))
        return
    # A new table's foreign keys are checked once after its chunks: one parent lookup per
    # row read a page each (the run then starts over staged, as a refused row would make it).
    try:
        async with target.references_checked_after(route.info.name):
            await _insert_chunks(writer, target, route, reader, (schema, rows))
    except DirectLoadRefused as exc:
        raise RestartStaged(exc) from None


async def _insert_chunks(
    writer: Writer, target: Target, route: Route, reader: SqliteSource, place: tuple[str, int]
) -> None:
    """``route``'s rows chunk after chunk, read from the source attached as ``place[0]``
    (``place[1]`` rows a chunk)."""
    native = native_of(route)
    run = writer.run
    source = run.source_tables[route.spec.source]
    schema, rows = place
    sql = native.insert_sql(route.info.name, schema)
    # The next chunk is found and its text checked (in the reader's thread) while SQLite
    # copies this one (in the target's): the check costs about as much as the copy. The
    # reader does one thing at a time: Python reads rows only once the check is done.
    after = -(2**63)
    ahead: asyncio.Future[tuple[int | None, int, int, bool]] | None = _chunk_ahead(
        reader, native, after, rows
    )
    try:
        while ahead is not None:
            run.cancel.raise_if_cancelled()
            began = time.perf_counter()
            end, last, count, utf8 = await ahead
            ahead = None if end is None else _chunk_ahead(reader, native, end, rows)
            if count and not utf8:
                # Text that is not UTF-8, which SQLite would copy as it is: Python maps
                # the chunk (the plan's invalid_text decides).
                await _idle(ahead)
                work = await _rowid_work(route, target, reader, source, after, last)
                await writer.write(target, work)
            elif count:
                insert = NativeInsert(reader.path, sql, (after, last))
                try:
                    loaded = await target.load_direct(route.stage, Encoded(0, insert))
                except DirectLoadRefused as exc:
                    raise RestartStaged(exc) from None
                route.loaded += loaded or 0
                route.result.mapped_by_sqlite += loaded or 0
                route.result.rows_read += count
                route.busy += time.perf_counter() - began
                if (loaded or 0) < count:
                    await _idle(ahead)
                    flagged = await _rowid_work(
                        route, target, reader, source, after, last, flagged=True
                    )
                    flagged.rows_read = route.result.rows_read
                    await writer.write(target, flagged)
                else:
                    writer.progress(route, route.result.rows_read)
            after = last
    finally:
        await _idle(ahead)  # the reader's thread is done before the reader is reused


async def _copied_whole(
    writer: Writer, target: Target, route: Route, schema: str, rows: int
) -> bool:
    """True when the target copied ``route``'s table whole, record for record (a table this
    run created, fed column for column by plain copies: :mod:`ferry.targets.sqlitecopy`)."""
    native = native_of(route)
    if not route.info.created or any(c.cell.value != quote(c.field) for c in native.columns):
        return False
    writer.run.cancel.raise_if_cancelled()
    began = time.perf_counter()
    shape = route.info.shape
    copy = WholeCopy(
        route.info.name,
        schema,
        native.origin,
        native.target_columns,
        [c.field for c in native.columns],
        native.row_ok(),
        [c.field for c in native.columns if c.type in _CHECKED_TEXT],
        rows,
        [index_sql(route.info.name, i) for i in shape.indexes] if shape is not None else [],
        writer.run.cancel.raise_if_cancelled,
    )
    copied = await target.copy_whole(copy)
    if copied is None:
        return False
    route.indexed = copied.indexed
    route.loaded += copied.rows
    route.result.mapped_by_sqlite += copied.rows
    route.result.rows_read += copied.rows
    route.busy += time.perf_counter() - began
    writer.progress(route, route.result.rows_read)
    return True


async def _rowid_work(
    route: Route,
    target: Target,
    reader: SqliteSource,
    source: SourceTable,
    after: int,
    last: int,
    *,
    flagged: bool = False,
) -> Work:
    """The rows of rowids ``(after, last]`` mapped by Python: every row (counted as read
    here), or with ``flagged`` only those SQLite left to Python (read with its chunk)."""
    native = native_of(route)
    sql = native.flagged_sql() if flagged else rows_sql(native.origin, native.source_columns)
    rows = await asyncio.to_thread(
        reader.rows_where, source, sql, (after, last), native.source_columns
    )
    work = await asyncio.to_thread(map_rows, route, target, rows)
    if not flagged:
        route.result.rows_read += len(rows)
        work.rows_read = route.result.rows_read
    return work


def _binary_chunk(
    reader: SqliteSource,
    native: NativeLoad,
    table: str,
    sql: str,
    encode: Callable[[list[tuple[Any, ...]]], bytearray],
    span: tuple[int, int],
    dense: bool = False,
) -> tuple[bytearray, int, int, int]:
    """One chunk, at most ``rows`` rows after rowid ``after`` (``span``), as binary COPY (in a
    worker thread): (data, rows in the chunk, rows in the data, last rowid of the chunk).

    ``dense`` (no rowid gap met so far): the chunk is the next ``rows`` rowids from the first
    one after ``after``, so a table is read once; it holds ``rows`` rows exactly when SQLite
    mapped that many, else they are counted (a gap, a row left to Python, the table's end).
    Otherwise the ``rows``-th rowid is found first, a second read of the chunk's pages."""
    after, rows = span
    found: list[tuple[Any, ...]] | None = None
    if dense:
        first = reader.chunk_end(native.origin, after, 1)
        last = 2**63 - 1 if first is None else min(first - 1 + rows, 2**63 - 1)
        found = [] if first is None else reader.query_all(sql, (after, last), native.origin)
        count = rows if len(found) == rows else reader.count_range(native.origin, after, last)
    else:
        end = reader.chunk_end(native.origin, after, rows)
        last = end if end is not None else 2**63 - 1
        count = rows if end is not None else reader.count_range(native.origin, after, last)
    if not count:
        return bytearray(), 0, 0, last
    if found is None:
        found = reader.query_all(sql, (after, last), native.origin)
    try:
        data = encode(found)
    except (TypeError, ValueError, OverflowError) as exc:  # not a value the SQL promises
        raise RestartStaged(DirectLoadRefused(table, f"binary COPY: {exc}")) from None
    return data, count, len(found), last


def _chunk_ahead(
    reader: SqliteSource, native: NativeLoad, after: int, rows: int
) -> asyncio.Future[tuple[int | None, int, int, bool]]:
    """:func:`_sqlite_chunk` started in a worker thread."""
    return asyncio.ensure_future(asyncio.to_thread(_sqlite_chunk, reader, native, after, rows))


async def _idle(ahead: asyncio.Future[Any] | None) -> None:
    """Wait until ``ahead`` is done (its outcome is read later, or not at all)."""
    if ahead is not None:
        if not ahead.done():
            await asyncio.wait({ahead})
        if not ahead.cancelled():
            ahead.exception()  # seen: an error is raised where it is awaited, if it is


def _sqlite_chunk(
    reader: SqliteSource, native: NativeLoad, after: int, rows: int
) -> tuple[int | None, int, int, bool]:
    """The native chunk of at most ``rows`` rows after rowid ``after`` (in a worker thread):
    (its end rowid, None for the last chunk; its last rowid; its rows; True when every text
    value in it is UTF-8, checked by one decode of each text column's values joined)."""
    end = reader.chunk_end(native.origin, after, rows)
    last = end if end is not None else 2**63 - 1
    count = rows if end is not None else reader.count_range(native.origin, after, last)
    texts = [c.field for c in native.columns if c.type in _CHECKED_TEXT]
    if not count or not texts:
        return end, last, count, True
    joined = reader.query_one(chunk_sql(native.origin, texts), (after, last), native.origin)
    return end, last, count, all_utf8(joined)


__all__ = ["CHUNK_BYTES", "Writer", "load_natives", "native_chunks", "native_of"]
