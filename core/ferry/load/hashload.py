"""Compare-first by row hashes: a ``compare-first`` table whose rows SQL maps on both sides
(a SQLite source table feeding the spec alone, an integer key, plain columns, a PostgreSQL
target) is compared *before* any row is read into Python.

Both databases write each row as the bytes verification's fast path hashes (the SQL is in
:mod:`ferry.load.hashsql`). PostgreSQL sums the rows' MD5s per bucket of 128 consecutive keys;
SQLite writes every source row in key order, on the reader's connection inside the run's one
snapshot, and Python sums their MD5s per bucket in a worker thread meanwhile. A bucket with the
same row count and sum on both sides and no row SQL could not write holds the same rows (keys
are unique on both sides: the target's primary key, the source's keys checked ascending): its
rows are unchanged, never read, mapped or staged. Each other bucket is compared row by row,
both sides' ``(key, MD5)`` merged by key:

- same key, same hash: unchanged;
- same key, another hash or a NULL on either side: read, mapped and staged, and the merge
  compares it as any compare-first row (a NULL proves nothing, so never ``unchanged``);
- a source key the target lacks: read, mapped and staged (an insert, or a reject);
- a target key the source lacks: with ``delete_missing`` (and no rejected row, as in
  compare-first) deleted by key, its before-image recorded for undo first.

A table whose buckets mostly differ (a first sync right after a first run: 1% of the rows
changed, spread over the table) would have every row of those buckets written and hashed
twice on both sides. So a few buckets spread over the key range are compared row by row first
(:func:`many_differ`); when a quarter of them differ, the table is compared in one pass
instead, every row's ``(key, MD5)`` from both sides merged by key as it comes
(:mod:`ferry.load.hashrows`), with the same outcome.

So the merge sees only the rows that may differ, and its counts, rejects, changeset and journal
are compare-first's. A source key that is not a 64-bit integer, or repeats, starts the run over
with the table compared the ordinary way (:class:`~ferry.load.route.RestartStaged`). The row
prints the next run needs are kept as for any compare-first table (:mod:`ferry.load.delta`).
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..events import CancelToken
from ..targets import Target
from ..targets.base import DirectLoadRefused
from ..verify.fastsource import SMALL_ROW_BYTES, small_md5
from ..verify.fastsql import MOD, pg_fingerprint
from ..verify.sqlfunctions import f64
from .decide import LoadDecision
from .delta import delete_keys, queue_changed
from .hashrows import HashDiff, KeyCheck, NotHashed, compare_streams
from .hashsql import BUCKET_BITS, HashSql
from .route import RestartStaged, Route, RunView
from .staged import StagedLoad

if TYPE_CHECKING:
    from ..sources.sqlite import SqliteSource

#: source rows hashed per fetch, at most; fewer for wide rows (about ``_SOURCE_BYTES``)
_SOURCE_ROWS = 10_000
_SOURCE_BYTES = 4 << 20
#: buckets compared row by row per statement
_BUCKETS_PER_QUERY = 64
#: keys per statement when rows missing from the source are recorded and deleted
_KEYS_PER_DELETE = 500
_SPAN = (1 << BUCKET_BITS) - 1
#: buckets compared first, spread over the key range, to choose how a table is compared
_SAMPLE_BUCKETS = 32
#: the share of sampled buckets that differ from which the table is compared in one pass
#: (the bucket path would read every row of those buckets twice on both sides)
_ROWS_FROM = 0.25
#: buckets a table spans from which they are sampled
_SAMPLED_FROM = 16 * _SAMPLE_BUCKETS

#: a bucket's row count and MD5 sum (None: a row SQL could not write)
Sums = tuple[int, int | None]


class HashedCompareLoad(StagedLoad):
    """Compare-first whose rows were compared by hash first (module docstring): only rows
    that may differ are read and staged; rows missing from the source are deleted by key."""

    reads_rows = False

    def __init__(self, decision: LoadDecision, sql: HashSql) -> None:
        super().__init__(decision)
        self.sql = sql
        #: what the comparison found (set before the rows are read)
        self.diff: HashDiff | None = None

    def deletes_missing(self, route: Route) -> bool:
        return False  # the keys missing from the source are known: deleted in finish()

    async def delete_first(self, run: RunView, target: Target, route: Route) -> None:
        """The target keys the source lacks, deleted by key before any merge, their
        before-images recorded; none while a source row was rejected (:meth:`finish`)."""
        spec, result, info = route.spec, route.result, route.info
        diff = self.diff or HashDiff()
        if not spec.delete_missing or result.rejected or not diff.vanished:
            return
        for start in range(0, len(diff.vanished), _KEYS_PER_DELETE):
            part = diff.vanished[start : start + _KEYS_PER_DELETE].tolist()
            if run.changes is not None:  # undo: the rows' before-images
                await run.changes.deleting_keys(info, list(route.stage.key), spec.mode, part)
            result.deleted += await delete_keys(target, info.name, self.sql.key, part)

    async def finish(self, run: RunView, target: Target, route: Route) -> None:
        spec, result, info = route.spec, route.result, route.info
        self.skipped_unchanged = (self.diff or HashDiff()).same
        if spec.delete_missing and result.rejected:
            # (as compare-first: a rejected row's key would look missing from the source)
            run.warn(
                f"{info.name}: rows missing from the source were not deleted because "
                f"{result.rejected} source rows were rejected",
                info.name,
            )
        await super().finish(run, target, route)


def source_buckets(
    reader: SqliteSource,
    sql: str,
    origin: str,
    cancel: CancelToken,
    report: Callable[[int], None] | None = None,
    size: int = _SOURCE_ROWS,
) -> dict[int, Sums]:
    """Every source row's bucket sums (a worker thread: SQLite writes the next rows without
    the GIL while Python hashes these). Per batch, not per row, where it can: the keys
    checked at once, the digests joined and read as 64-bit words, summed per bucket;
    ``report``: told the rows hashed so far, a batch at a time."""
    keys = KeyCheck()
    found: dict[int, Sums] = {}
    hashed = 0
    for batch in reader.iter_query(sql, (), origin, size):
        cancel.raise_if_cancelled()
        hashed += len(batch)
        if report is not None:
            report(hashed)
        ordered = [key for key, _ in batch]
        keys.batch(ordered)
        written = [row for _, row in batch]
        words: tuple[int, ...] = ()
        if None not in written:
            md5 = small_md5 if len(written[0]) < SMALL_ROW_BYTES else hashlib.md5
            digests = b"".join([md5(one).digest() for one in written])
            words = struct.unpack(f">{2 * len(written)}Q", digests)
        start = 0
        while start < len(ordered):
            bucket = ordered[start] >> BUCKET_BITS
            end = bisect_left(ordered, (bucket + 1) << BUCKET_BITS, start)
            total: int | None = None
            if words:
                total = (sum(words[2 * start : 2 * end : 2]) << 64) + sum(
                    words[2 * start + 1 : 2 * end : 2]
                )
            elif None not in written[start:end]:
                total = sum(int.from_bytes(hashlib.md5(w).digest()) for w in written[start:end])
            rows, before = found.get(bucket, (0, 0))  # (a bucket may span two batches)
            summed = None if total is None or before is None else (before + total) % MOD
            found[bucket] = (rows + end - start, summed)
            start = end
    return found


async def target_buckets(target: Target, sql: HashSql) -> dict[int, Sums]:
    """Every target row's bucket sums (the server sums them)."""
    found: dict[int, Sums] = {}
    for row in (await target.conn.exec_driver_sql(sql.target_buckets)).all():
        values: tuple[Any, ...] = tuple(row)
        sums = pg_fingerprint(values[1:])
        found[int(values[0])] = (int(values[1]), None if sums is None else sums.checksum)
    return found


def _differing(source: dict[int, Sums], target: dict[int, Sums], diff: HashDiff) -> list[int]:
    """The buckets to compare row by row, in order; the rows of the others count the same."""
    out = []
    for bucket in sorted(source.keys() | target.keys()):
        mine, theirs = source.get(bucket), target.get(bucket)
        if mine is not None and mine == theirs and mine[1] is not None:
            diff.same += mine[0]
        else:
            out.append(bucket)
    return out


def _source_rows(
    reader: SqliteSource, sql: HashSql, origin: str, buckets: list[int]
) -> list[tuple[int, str | None]]:
    """``(key, MD5 hex)`` of the source rows of ``buckets`` (ascending), in key order."""
    keys = KeyCheck()
    md5 = hashlib.md5
    out: list[tuple[int, str | None]] = []
    for bucket in buckets:
        low = bucket << BUCKET_BITS
        for key, written in reader.query_all(sql.source_range, (low, low + _SPAN), origin):
            keys.check(key)
            out.append((key, None if written is None else md5(written).hexdigest()))
    return out


async def compare_rows(
    target: Target, reader: SqliteSource, sql: HashSql, origin: str, buckets: list[int]
) -> HashDiff:
    """Merge both sides' ``(key, MD5)`` of ``buckets`` by key."""
    diff = HashDiff()
    async with target.key_lookups():
        await _compare_parts(diff, target, reader, sql, origin, buckets)
    return diff


async def _compare_parts(
    diff: HashDiff,
    target: Target,
    reader: SqliteSource,
    sql: HashSql,
    origin: str,
    buckets: list[int],
) -> None:
    for start in range(0, len(buckets), _BUCKETS_PER_QUERY):
        part = buckets[start : start + _BUCKETS_PER_QUERY]
        mine = asyncio.ensure_future(asyncio.to_thread(_source_rows, reader, sql, origin, part))
        try:
            listed = ",".join(str(int(b)) for b in part)
            found = await target.conn.exec_driver_sql(sql.target_rows.replace("{buckets}", listed))
            rows: list[tuple[Any, ...]] = [tuple(r) for r in found.all()]
            theirs = [(int(k), h) for k, h in rows]
        finally:
            await asyncio.wait({mine})  # a thread is not cancelled with its future
        _join(diff, mine.result(), theirs)


def _join(
    diff: HashDiff, src: list[tuple[int, str | None]], tgt: Iterable[tuple[int, str | None]]
) -> None:
    """Merge the rows of the same buckets of both sides by key."""
    changed, vanished = diff.changed, diff.vanished
    mine = iter(src)
    here = next(mine, None)
    for key, theirs in tgt:
        while here is not None and here[0] < key:
            changed.append(here[0])  # not in the target
            here = next(mine, None)
        if here is not None and here[0] == key:
            if here[1] is not None and here[1] == theirs:
                diff.same += 1
            else:  # another row, or one SQL could not write: compared by the merge
                changed.append(key)
            here = next(mine, None)
        else:
            vanished.append(key)
    while here is not None:
        changed.append(here[0])
        here = next(mine, None)


async def many_differ(target: Target, reader: SqliteSource, sql: HashSql, origin: str) -> bool:
    """Whether many of the table's buckets would differ (:data:`_ROWS_FROM`), judged by a few
    spread over the key range (compared row by row, as differing buckets are): then the table
    is compared in one pass (:func:`~ferry.load.hashrows.compare_streams`). A table of few
    buckets is not sampled: its buckets are compared first, whatever differs."""
    low, high = await asyncio.to_thread(reader.query_one, sql.source_bounds, (), origin)
    if type(low) is not int or type(high) is not int:
        return False  # (no row, or keys the bucket pass refuses with a reason)
    first, last = low >> BUCKET_BITS, high >> BUCKET_BITS
    if last - first < _SAMPLED_FROM:
        return False
    step = (last - first) / (_SAMPLE_BUCKETS - 1)
    sample = sorted({first + round(step * at) for at in range(_SAMPLE_BUCKETS)})
    found = await compare_rows(target, reader, sql, origin, sample)
    differing = {key >> BUCKET_BITS for key in (*found.changed, *found.vanished)}
    return len(differing) >= _ROWS_FROM * len(sample)


async def compare_hashes(
    run: RunView,
    target: Target,
    reader: SqliteSource,
    routes: list[Route],
    queue: asyncio.Queue[Any],
    progress: Callable[[Route, int], None],
) -> None:
    """Compare every route's rows by hash: a few buckets first (:func:`many_differ`); a
    table whose sampled buckets often differ row by row in one pass, the others by bucket
    sums (the source's in a worker thread while the server sums the target's), then their
    differing buckets row by row. Sets each route's :attr:`HashedCompareLoad.diff`;
    ``progress`` is told the source rows hashed (as rows read: the table is read, in SQL).
    The rows already queued (another source's) are written first: the comparison's
    statements take the target's connection."""
    await queue.join()
    loop = asyncio.get_running_loop()
    for route in routes:
        route.started = time.perf_counter()
    reader.begin().create_function("ferry_f64", 1, f64, deterministic=True)
    tables = []
    for route in routes:
        strategy = route.strategy
        assert isinstance(strategy, HashedCompareLoad)
        source = run.source_tables[route.spec.source]
        width = reader.row_bytes(source.origin, list(source.columns))
        size = max(1000, min(_SOURCE_ROWS, _SOURCE_BYTES // max(width, 16)))

        def report(rows: int, route: Route = route) -> None:
            loop.call_soon_threadsafe(progress, route, rows)

        tables.append(_Compared(route, strategy, source.origin, size, report))
    started = time.perf_counter()
    whole: list[_Compared] = []
    bucketed: list[_Compared] = []
    for table in tables:
        with _refusing(table):
            sql = table.strategy.sql
            many = await many_differ(target, reader, sql, table.origin)
        (whole if many else bucketed).append(table)
    await _compare_buckets(run, target, reader, bucketed)
    for table in whole:
        with _refusing(table):
            table.strategy.diff = await compare_streams(
                target,
                reader,
                table.strategy.sql,
                table.origin,
                run.cancel,
                table.report,
                table.size,
            )
    for route in routes:
        route.busy += (time.perf_counter() - started) / len(routes)


@dataclass
class _Compared:
    """One table to compare, and how its source is read."""

    route: Route
    strategy: HashedCompareLoad
    origin: str
    #: source rows per fetch
    size: int
    report: Callable[[int], None]


@contextmanager
def _refusing(table: _Compared) -> Iterator[None]:
    """Keys the comparison cannot take start the run over, the table compared the usual way."""
    try:
        yield
    except NotHashed as exc:
        refused = DirectLoadRefused(table.route.info.name, str(exc))
        raise RestartStaged(refused) from None


async def _compare_buckets(
    run: RunView, target: Target, reader: SqliteSource, tables: list[_Compared]
) -> None:
    """The bucket sums of ``tables``, the source's in a worker thread while the server sums
    the target's; then the differing buckets row by row."""
    if not tables:
        return

    def sources() -> list[dict[int, Sums]]:
        found = []
        for table in tables:
            with _refusing(table):
                sql = table.strategy.sql.source_all
                found.append(
                    source_buckets(reader, sql, table.origin, run.cancel, table.report, table.size)
                )
        return found

    mine = asyncio.ensure_future(asyncio.to_thread(sources))
    try:
        theirs = [await target_buckets(target, t.strategy.sql) for t in tables]
    finally:
        await asyncio.wait({mine})
    for table, source, target_sums in zip(tables, mine.result(), theirs, strict=True):
        base = HashDiff()
        buckets = _differing(source, target_sums, base)
        with _refusing(table):
            diff = await compare_rows(target, reader, table.strategy.sql, table.origin, buckets)
        diff.same += base.same
        table.strategy.diff = diff


async def load_hashed(
    run: RunView,
    target: Target,
    routes: list[Route],
    reader: SqliteSource,
    queue: asyncio.Queue[Any],
) -> None:
    """Read, map and queue the rows :func:`compare_hashes` found may differ."""
    for route in routes:
        strategy = route.strategy
        assert isinstance(strategy, HashedCompareLoad) and strategy.diff is not None
        route.row_fn = route.mapper.row_function(route.adapters)
        diff = strategy.diff
        await queue_changed(
            run, target, route, reader, strategy.sql.field, diff.changed.tolist(), queue, diff.same
        )


__all__ = [
    "HashDiff",
    "HashedCompareLoad",
    "compare_hashes",
    "compare_rows",
    "load_hashed",
    "source_buckets",
    "target_buckets",
]
