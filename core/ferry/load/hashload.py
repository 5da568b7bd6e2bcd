"""Compare-first by row hashes: a ``compare-first`` table whose rows SQL maps on both sides
(a SQLite source table feeding the spec alone, an integer key, plain columns, a PostgreSQL
target) is compared *before* any row is read into Python.

Both databases write each row as the bytes verification's fast path hashes
(:mod:`ferry.verify.fastsql`: the mapped row, exactly, or NULL where SQL cannot write it so):
SQLite in key order, on the reader's connection inside the run's one snapshot (Python takes the
MD5 of those bytes), PostgreSQL its rows' MD5s in key order, a page of keys at a time. A
merge-join by key, streamed, tells the rows apart:

- same key, same hash: the row is unchanged (counted, never read, mapped or staged);
- same key, another hash or a NULL on either side: the row is read, mapped and staged, and the
  merge compares it as any compare-first row (a NULL proves nothing, so never ``unchanged``);
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
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..shape.identifiers import quote
from ..shape.schema import TableInfo
from ..sources import SourceTable
from ..targets import Target
from ..targets.base import DirectLoadRefused
from ..values.targetstyles import TableStyles
from ..values.transform import RowMapper
from ..verify.fast import mapped_cells
from ..verify.fastpg import PgSide
from ..verify.fastsource import connect
from ..verify.fastsql import (
    TABLE_INFO,
    SqliteColumns,
    f64,
    pg_row_md5,
    pg_type_problem,
    sqlite_row_value,
)
from .decide import LoadDecision
from .delta import delete_keys, queue_changed
from .printbook import print_key_field
from .route import RestartStaged, Route, RunView
from .staged import StagedLoad

if TYPE_CHECKING:
    from ..plan import TableSpec
    from ..sources.sqlite import SqliteSource

#: source rows hashed per fetch
_SOURCE_ROWS = 10_000
#: target rows per page of keys
_TARGET_ROWS = 20_000
#: keys per statement when rows missing from the source are recorded and deleted
_KEYS_PER_DELETE = 500
_LOW, _HIGH = -(2**63), 2**63


@dataclass(frozen=True)
class HashSql:
    """Both sides' row-hash SQL of one table."""

    #: the source field holding the key
    field: str
    #: the target's key column
    key: str
    #: SQLite: ``(key, row bytes)`` of every source row, in key order
    source_sql: str
    #: PostgreSQL: ``(key, row MD5)`` in key order, rows after ``{after}`` (when set)
    target_sql: str


async def hash_sql(
    target: Target,
    reader: SqliteSource,
    spec: TableSpec,
    info: TableInfo,
    mapper: RowMapper,
    source: SourceTable,
    styles: TableStyles,
    kept_text: set[str],
) -> HashSql | str:
    """The row-hash SQL of a compare-first table fed by SQLite source table ``source`` alone,
    or why its rows are compared the ordinary way."""
    if not target.capabilities.sums_row_hashes:
        return "the target does not hash rows in SQL"
    field_name = print_key_field(spec, mapper)
    if field_name is None or mapper.hook is not None:
        return "the key is not one integer column copied as it is"
    if set(styles.chosen) & set(mapper.columns) or kept_text:
        return "the target table keeps its own spelling of values"
    compared = [c for c in mapper.columns if c not in mapper.key and c not in mapper.now_columns]
    cells = mapped_cells(spec, mapper, info, compared, source)
    if isinstance(cells, str):
        return cells
    pg = PgSide(target)
    if not await pg.usable():
        return "the database's encoding is not UTF-8"
    types, not_null = await pg.types(info.name)
    problem = pg_type_problem(cells, types)
    if problem is not None:
        return problem
    declared = await asyncio.to_thread(_source_columns, reader, source.origin)
    if declared is None:
        return "the source's columns cannot be read"
    row = sqlite_row_value(cells, source=True, zone=mapper.timezone, columns=declared)
    by = quote(field_name)
    key = quote(mapper.key[0])
    md5 = pg_row_md5(cells, types, not_null)
    return HashSql(
        field_name,
        mapper.key[0],
        f"SELECT {by}, {row} FROM {quote(source.origin)} ORDER BY {by}",
        target.driver_sql(f"SELECT {key}, {md5} FROM {quote(info.name)}")
        + " {after} "
        + f"ORDER BY {key} LIMIT {_TARGET_ROWS}",
    )


def _source_columns(reader: SqliteSource, table: str) -> SqliteColumns | None:
    conn = connect(reader.path, reader.busy_timeout)
    try:
        return SqliteColumns.of(conn.execute(TABLE_INFO, (table,)).fetchall())
    except Exception:
        return None
    finally:
        conn.close()


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

    async def finish(self, run: RunView, target: Target, route: Route) -> None:
        spec, result, info = route.spec, route.result, route.info
        vanished = self.diff.vanished if self.diff is not None else array("q")
        self.skipped_unchanged = self.diff.same if self.diff is not None else 0
        if spec.delete_missing and result.rejected:
            # (as compare-first: a rejected row's key would look missing from the source)
            run.warn(
                f"{info.name}: rows missing from the source were not deleted because "
                f"{result.rejected} source rows were rejected",
                info.name,
            )
        elif spec.delete_missing and vanished:
            for start in range(0, len(vanished), _KEYS_PER_DELETE):
                part = vanished[start : start + _KEYS_PER_DELETE].tolist()
                if run.changes is not None:  # undo: the rows' before-images
                    await run.changes.deleting_keys(info, list(route.stage.key), spec.mode, part)
                result.deleted += await delete_keys(target, info.name, self.sql.key, part)
        await super().finish(run, target, route)


@dataclass
class HashDiff:
    """What the merge-join of both sides' row hashes found."""

    #: rows whose hashes match
    same: int = 0
    #: source keys to read: another hash, a NULL hash, or not in the target
    changed: array[int] = field(default_factory=lambda: array("q"))
    #: target keys the source lacks
    vanished: array[int] = field(default_factory=lambda: array("q"))


class NotHashed(Exception):
    """The source's keys do not allow the comparison (the table is compared the usual way)."""


def _hashed(batches: Iterator[list[tuple[Any, ...]]], last: list[int]) -> list[tuple[int, Any]]:
    """The next source rows as ``(key, MD5 hex or None)``; keys must ascend (``last``: the
    previous one)."""
    rows = next(batches, None)
    if not rows:
        return []
    md5 = hashlib.md5
    out = []
    previous = last[0]
    for key, written in rows:
        if type(key) is not int or not previous < key < _HIGH:
            why = "repeats" if type(key) is int and key <= previous else "is not a 64-bit integer"
            raise NotHashed(f"a source key {why}")
        previous = key
        out.append((key, None if written is None else md5(written).hexdigest()))
    last[0] = previous
    return out


async def compare_hashes(
    run: RunView, target: Target, reader: SqliteSource, sql: HashSql, origin: str
) -> HashDiff:
    """Merge-join both sides' ``(key, hash)`` streams (the source hashed in a worker thread
    while the target sends its next page)."""
    reader.begin().create_function("ferry_f64", 1, f64, deterministic=True)
    batches = reader.iter_query(sql.source_sql, (), origin, _SOURCE_ROWS)
    last = [_LOW - 1]
    diff = HashDiff()
    src: list[tuple[int, Any]] = []
    tgt: list[tuple[Any, ...]] = []
    si = ti = 0
    src_done = tgt_done = False
    after: int | None = None
    while not (src_done and tgt_done and si == len(src) and ti == len(tgt)):
        run.cancel.raise_if_cancelled()
        pending = None
        if si == len(src) and not src_done:
            pending = asyncio.ensure_future(asyncio.to_thread(_hashed, batches, last))
        try:
            if ti == len(tgt) and not tgt_done:
                where = "" if after is None else f"WHERE {quote(sql.key)} > {after}"
                found = await target.conn.exec_driver_sql(sql.target_sql.format(after=where))
                tgt, ti = [tuple(r) for r in found.all()], 0
                tgt_done = len(tgt) < _TARGET_ROWS
                if tgt:
                    after = int(tgt[-1][0])
        finally:
            if pending is not None:
                await asyncio.wait({pending})  # a thread is not cancelled with its future
        if pending is not None:
            src, si = pending.result(), 0
            src_done = not src
        si, ti = _join(diff, src, si, tgt, ti, src_done, tgt_done)
    return diff


def _join(
    diff: HashDiff,
    src: list[tuple[int, Any]],
    si: int,
    tgt: list[tuple[Any, ...]],
    ti: int,
    src_done: bool,
    tgt_done: bool,
) -> tuple[int, int]:
    """Join what both sides sent so far; where one side has ended, the rest of the other
    is new (source) or gone (target). The positions reached."""
    changed, vanished = diff.changed, diff.vanished
    ns, nt = len(src), len(tgt)
    same = 0
    while si < ns and ti < nt:
        sk, sh = src[si]
        tk, th = tgt[ti]
        if sk == tk:
            if sh is not None and sh == th:
                same += 1
            else:  # another row, or one SQL could not write: compared by the merge
                changed.append(sk)
            si += 1
            ti += 1
        elif sk < tk:
            changed.append(sk)
            si += 1
        else:
            vanished.append(int(tk))
            ti += 1
    if tgt_done and ti == nt:
        changed.extend(k for k, _ in src[si:])
        si = ns
    if src_done and si == ns:
        vanished.extend(int(k) for k, *_ in tgt[ti:])
        ti = nt
    diff.same += same
    return si, ti


async def load_hashed(
    pipeline: Any,
    target: Target,
    routes: list[Route],
    reader: SqliteSource,
    queue: asyncio.Queue[Any],
) -> None:
    """Compare every route's rows by hash (all before any row is queued: the comparison
    reads the target, which the writer then uses), then read, map and queue only the rows
    that may differ."""
    run: RunView = pipeline.run
    for route in routes:
        strategy = route.strategy
        assert isinstance(strategy, HashedCompareLoad)
        route.started = time.perf_counter()
        origin = run.source_tables[route.spec.source].origin
        try:
            strategy.diff = await compare_hashes(run, target, reader, strategy.sql, origin)
        except NotHashed as exc:
            raise RestartStaged(DirectLoadRefused(route.info.name, str(exc))) from None
        route.busy += time.perf_counter() - route.started
    for route in routes:
        strategy = route.strategy
        assert isinstance(strategy, HashedCompareLoad) and strategy.diff is not None
        route.row_fn = route.mapper.row_function(route.adapters)
        diff = strategy.diff
        await queue_changed(
            run, target, route, reader, strategy.sql.field, diff.changed.tolist(), queue, diff.same
        )


__all__ = ["HashDiff", "HashSql", "HashedCompareLoad", "compare_hashes", "hash_sql", "load_hashed"]
