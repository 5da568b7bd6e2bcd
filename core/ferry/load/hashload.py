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
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from operator import lt
from typing import TYPE_CHECKING, Any

from ..events import CancelToken
from ..targets import Target
from ..targets.base import DirectLoadRefused
from ..verify.fastsource import SMALL_ROW_BYTES, small_md5
from ..verify.fastsql import MOD, f64, pg_fingerprint
from .decide import LoadDecision
from .delta import delete_keys, queue_changed
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
_LOW, _HIGH = -(2**63), 2**63
_SPAN = (1 << BUCKET_BITS) - 1

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
        return False  # the keys missing from the source are known: deleted by key

    async def delete_missing_first(self, run: RunView, target: Target, route: Route) -> None:
        """Delete the keys the source lacks, by key, before any table is merged (children
        first: :func:`ferry.load.finish.merge_tables`), recording their before-images."""
        spec, result, info = route.spec, route.result, route.info
        diff = self.diff or HashDiff()
        if self.deleted_first or not spec.delete_missing or result.rejected:
            return  # (finish warns of the rejected rows and deletes nothing)
        self.deleted_first = True
        for start in range(0, len(diff.vanished), _KEYS_PER_DELETE):
            part = diff.vanished[start : start + _KEYS_PER_DELETE].tolist()
            if run.changes is not None:  # undo: the rows' before-images
                await run.changes.deleting_keys(info, list(route.stage.key), spec.mode, part)
            result.deleted += await delete_keys(target, info.name, self.sql.key, part)

    async def finish(self, run: RunView, target: Target, route: Route) -> None:
        spec, result, info = route.spec, route.result, route.info
        diff = self.diff or HashDiff()
        self.skipped_unchanged = diff.same
        if spec.delete_missing and result.rejected:
            # (as compare-first: a rejected row's key would look missing from the source)
            run.warn(
                f"{info.name}: rows missing from the source were not deleted because "
                f"{result.rejected} source rows were rejected",
                info.name,
            )
        await self.delete_missing_first(run, target, route)  # (done already, as a rule)
        await super().finish(run, target, route)


@dataclass
class HashDiff:
    """What the comparison of both sides' row hashes found."""

    #: rows whose hashes match
    same: int = 0
    #: source keys to read: another hash, a NULL hash, or not in the target
    changed: array[int] = field(default_factory=lambda: array("q"))
    #: target keys the source lacks
    vanished: array[int] = field(default_factory=lambda: array("q"))


class NotHashed(Exception):
    """The source's keys do not allow the comparison (the table is compared the usual way)."""

    #: the position of the table among those compared
    table = 0


class _Keys:
    """Checks that source keys are 64-bit integers, strictly ascending."""

    def __init__(self) -> None:
        self.last = _LOW - 1

    def check(self, key: Any) -> None:
        if type(key) is not int or not self.last < key < _HIGH:
            why = "repeats" if type(key) is int and key <= self.last else "is not a 64-bit integer"
            raise NotHashed(f"a source key {why}")
        self.last = key


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
    keys = _Keys()
    found: dict[int, Sums] = {}
    hashed = 0
    for batch in reader.iter_query(sql, (), origin, size):
        cancel.raise_if_cancelled()
        hashed += len(batch)
        if report is not None:
            report(hashed)
        ordered = [key for key, _ in batch]
        if not _ascending(ordered, keys.last):
            for key in ordered:  # which key, and why
                keys.check(key)
        keys.last = ordered[-1]
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


def _ascending(keys: list[Any], last: int) -> bool:
    """The keys are 64-bit integers, each above the one before (``last``: the one before
    the first)."""
    if any(type(key) is not int for key in keys):
        return False
    return last < keys[0] and keys[-1] < _HIGH and all(map(lt, keys, islice(keys, 1, None)))


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
    keys = _Keys()
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


async def compare_hashes(
    run: RunView,
    target: Target,
    reader: SqliteSource,
    routes: list[Route],
    queue: asyncio.Queue[Any],
    progress: Callable[[Route, int], None],
) -> None:
    """Compare every route's rows by hash: the bucket sums of every table, the source's in a
    worker thread while the server sums the target's, then the differing buckets row by
    row. Sets each route's :attr:`HashedCompareLoad.diff`; ``progress`` is told the source
    rows hashed (as rows read: the table is read, in SQL). The rows already queued (another
    source's) are written first: the comparison's statements take the target's connection."""
    await queue.join()
    loop = asyncio.get_running_loop()
    for route in routes:
        route.started = time.perf_counter()
    reader.begin().create_function("ferry_f64", 1, f64, deterministic=True)
    plans = []
    for route in routes:
        strategy = route.strategy
        assert isinstance(strategy, HashedCompareLoad)
        plans.append((strategy, run.source_tables[route.spec.source].origin))

    def sources() -> list[dict[int, Sums]]:
        found = []
        for at, (strategy, origin) in enumerate(plans):
            route = routes[at]

            def report(rows: int, route: Route = route) -> None:
                loop.call_soon_threadsafe(progress, route, rows)

            columns = list(run.source_tables[route.spec.source].columns)
            width = reader.row_bytes(origin, columns)
            size = max(1000, min(_SOURCE_ROWS, _SOURCE_BYTES // max(width, 16)))
            try:
                sql = strategy.sql.source_all
                found.append(source_buckets(reader, sql, origin, run.cancel, report, size))
            except NotHashed as exc:
                exc.table = at
                raise
        return found

    started = time.perf_counter()
    mine = asyncio.ensure_future(asyncio.to_thread(sources))
    try:
        theirs = [await target_buckets(target, s.sql) for s, _ in plans]
    finally:
        await asyncio.wait({mine})
    try:
        found = mine.result()
    except NotHashed as exc:
        raise RestartStaged(DirectLoadRefused(routes[exc.table].info.name, str(exc))) from None
    for route, (strategy, origin), source, target_sums in zip(
        routes, plans, found, theirs, strict=True
    ):
        base = HashDiff()
        buckets = _differing(source, target_sums, base)
        try:
            diff = await compare_rows(target, reader, strategy.sql, origin, buckets)
        except NotHashed as exc:
            raise RestartStaged(DirectLoadRefused(route.info.name, str(exc))) from None
        diff.same += base.same
        strategy.diff = diff
        route.busy += (time.perf_counter() - started) / len(routes)


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
