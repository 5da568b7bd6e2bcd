"""Verification's fast path: prove a table equal to its source with one checksum per side,
each computed inside its own database, before the general path reads a row into Python.

For a table spec that reads a SQLite source table with plain columns only (no transform, no
hook: the columns :func:`ferry.native.cells.plain_cell` maps), SQLite writes each source row as
the migration maps it, and the target database (PostgreSQL or SQLite) each target row, both as
the exact bytes :func:`ferry.verify.checksum.digest_bytes` gives for the row's key and compared
values in hash form (floats as their IEEE 754 bits). PostgreSQL sums the rows' MD5s itself; for a
SQLite side Python does, while SQLite writes the next rows in another thread (without the
GIL). The two sides run at once. Equal row counts and equal sums mean the target holds exactly
the mapped source rows (its primary key, which the fast path requires on the plan's key, makes
every key appear once), so the table's result is what the general path gives a table whose
rows all match: every row matched, and both checksums the sum of
:func:`~ferry.verify.checksum.row_digest`, which is also the general path's checksum.

SQL only ever writes a row's bytes when they are exactly Python's, or bytes no row of the
other side can have (a time the migration would reject written as text no valid time has);
otherwise the row is NULL. Everything else is left to the general path, which is the
authority: a table that is not eligible (:func:`plan_cells` says why), a row SQL cannot write
(a value :func:`~ferry.native.cells.plain_cell` leaves to Python, a NULL key or
``skip_when_null`` column, a target value of another storage class or out of range), any
difference in count or sum, and any error. So rows the mapping rejects or skips, rows
journaled as rejected, conflict rules, extra rows in the target and several specs feeding one
table all reach the general path, and its verdicts and counts are never changed.

The SQL each side runs is in :mod:`ferry.verify.fastsql`; the SQLite source side (rowid
spans, a second worker once the target's side is done: see :attr:`FastPath.second`) in
:mod:`ferry.verify.fastsource` and :mod:`ferry.verify.fastchunks`; a
PostgreSQL target's catalog reads and statement in :mod:`ferry.verify.fastpg`. This module
decides which checks qualify and runs both sides at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlalchemy import exc as sa_exc

from ..events import CancelToken, Emit, Event, TableProgress
from ..native.cells import SQL_TYPES
from ..sources import SourceReader, SourceTable
from ..targets import Target
from ..values.transform import PLAIN_FIELDS, RowMapper
from .checksum import checksum_hex
from .fastpg import PgSide
from .fastrows import digest_sum
from .fastsource import BATCH_ROWS, HashedTable, SourceSide, connect
from .fastsql import (
    MOD,
    TABLE_INFO,
    Cell,
    Fingerprint,
    SqliteColumns,
    pg_sql,
    pg_type_problem,
    sqlite_row_sql,
    sqlite_row_value,
)
from .read import SpecCheck
from .result import PASS
from .sqlfunctions import SQL_FUNCTIONS

if TYPE_CHECKING:
    from ..plan import TableSpec
    from ..shape.schema import TableInfo
    from ..sources.sqlite import SqliteSource


@dataclass
class FastCheck:
    """A check the fast path tries, with both sides' SQL."""

    check: SpecCheck
    source_path: Path
    busy_timeout: float
    source_table: str
    #: the source row's bytes (:func:`~ferry.verify.fastsql.sqlite_row_value`)
    source_value: str
    target_sql: str
    source: Fingerprint | None = None
    target: Fingerprint | None = None

    @property
    def proven(self) -> bool:
        """Both sides were fingerprinted and agree."""
        return self.source is not None and self.source == self.target


# -- which checks qualify ----------------------------------------------------------------------


def plan_cells(
    check: SpecCheck, reader: SourceReader, source: SourceTable, specs_of_table: int
) -> list[Cell] | str:
    """The canonical row's cells of ``check``, or why the fast path does not apply."""
    mapper, info, spec = check.mapper, check.info, check.spec
    if not check.exists:
        return "the table is missing"
    if not reader.capabilities.sqlite_file:
        return "the source is not a SQLite file"
    if spec.hook or mapper.hook is not None:
        return "a hook maps the rows"
    if specs_of_table != 1:
        return "several table specs feed the table"
    return mapped_cells(spec, mapper, info, check.compared, source)


def mapped_cells(
    spec: TableSpec, mapper: RowMapper, info: TableInfo, compared: list[str], source: SourceTable
) -> list[Cell] | str:
    """The canonical row's cells (the key, then ``compared``) of a table spec whose columns
    are all plain copies SQL maps, or why not."""
    if not info.primary_key or not set(info.primary_key) <= set(mapper.key):
        return "the key is not the table's primary key"
    skip = set(spec.skip_when_null)
    mapped = {c.name: c for c in mapper.mapped_columns()}
    cells = []
    for column in [*mapper.key, *compared]:
        column_spec, declared = mapped[column].spec, mapped[column].type
        field = column_spec.from_
        if (
            field is None
            or not column_spec.model_fields_set <= PLAIN_FIELDS
            or mapped[column].steps is not None
        ):
            return f"column {column} is not a plain copy of a source field"
        if declared != info.columns[column].type or declared not in SQL_TYPES:
            return f"column {column} ({declared}) is not mapped by SQL"
        # A JSON field is parsed by the reader before mapping; SQL sees the text.
        if source.columns.get(field) in (None, "json"):
            return f"field {field} is not a plain column of {source.name}"
        key = column in mapper.key
        if key and declared == "float":
            return f"key column {column} is a float"
        cells.append(Cell(column, field, declared, key or column in skip))
    return cells


def _source_columns(reader: SqliteSource, table: str) -> SqliteColumns | None:
    """The declared schema of a source table (None when it cannot be read)."""
    try:
        conn = connect(reader.path, reader.busy_timeout)
    except sqlite3.Error:
        return None
    try:
        return SqliteColumns.of(conn.execute(TABLE_INFO, (table,)).fetchall())
    except sqlite3.Error:
        return None
    finally:
        conn.close()


# -- running both sides ----------------------------------------------------------------------


class FastPath:
    """Tries the fast path on a verification's checks: :meth:`prepare` picks them and writes
    their SQL, :meth:`run` fingerprints the sources (a worker thread) and the target (the
    target's own connection, inside the verification's read transaction) at the same time."""

    def __init__(self, target: Target, emit: Emit, cancel: CancelToken) -> None:
        self.target = target
        self.emit = emit
        self.cancel = cancel
        #: why each check that was not tried was left to the general path, by label
        self.skipped: dict[str, str] = {}
        #: set when the run stops: the source thread stops at its next batch
        self._halt = threading.Event()
        #: set once the target's side is done: a second worker joins the source side, and
        #: spans are read a chunk of rows at a time (a row at a time, two readers would hand
        #: the GIL over once a row: docs/benchmarks.md, 2026-12-07 04:55 and 16:40)
        self.second = threading.Event()
        #: the target's side when the server sums the row hashes (PostgreSQL)
        self.pg = PgSide(target) if target.capabilities.sums_row_hashes else None

    async def prepare(
        self,
        checks: list[SpecCheck],
        readers: dict[str, SourceReader],
        source_tables: dict[str, SourceTable],
    ) -> list[FastCheck]:
        """The checks to try, with their SQL."""
        tables = [c.spec.name for c in checks]
        chosen: list[tuple[SpecCheck, SqliteSource, SourceTable, list[Cell]]] = []
        for check in checks:
            source = source_tables[check.spec.source]
            reader = readers[check.spec.source.split(".", 1)[0]]
            cells = plan_cells(check, reader, source, tables.count(check.spec.name))
            if isinstance(cells, str):
                self.skipped[check.label] = cells
            else:
                # a SQLite file (plan_cells said so): its path and lock wait are read below
                chosen.append((check, cast("SqliteSource", reader), source, cells))
        if not chosen:
            return []
        # The server sums the row hashes (PostgreSQL's md5 over its own catalog's types).
        if self.pg and not await self.pg.usable():
            for check, *_ in chosen:
                self.skipped[check.label] = "the database's encoding is not UTF-8"
            return []
        fast = []
        for check, reader, source, cells in chosen:
            zone = check.mapper.timezone
            declared = await asyncio.to_thread(_source_columns, reader, source.origin)
            if declared is None:
                self.skipped[check.label] = "the source's columns cannot be read"
                continue
            source_value = sqlite_row_value(cells, source=True, zone=zone, columns=declared)
            if self.pg:
                types, not_null = await self.pg.types(check.info.name)
                problem = pg_type_problem(cells, types)
                if problem is not None:
                    self.skipped[check.label] = problem
                    continue
                target_sql = pg_sql(check.info.name, cells, types, not_null)
            else:
                columns = await self._sqlite_columns(check.info.name)
                target_sql = sqlite_row_sql(check.info.name, cells, source=False, columns=columns)
            fast.append(
                FastCheck(
                    check, reader.path, reader.busy_timeout, source.origin, source_value, target_sql
                )
            )
        return fast

    async def run(
        self, fast: list[FastCheck], meanwhile: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Fingerprint both sides of every check in ``fast``, the two sides at once. When the
        target's side is done first, ``meanwhile`` (which must not raise) runs on the target
        while the sources are still hashed."""
        loop = asyncio.get_running_loop()

        def report(event: Event) -> None:
            loop.call_soon_threadsafe(self.emit, event)

        sources = asyncio.ensure_future(asyncio.to_thread(self._sources, fast, report))
        targets = asyncio.ensure_future(self._targets(fast, sources, meanwhile))
        try:
            await asyncio.gather(sources, targets)
        finally:
            self._halt.set()  # a thread is not cancelled with its future
            for task in (sources, targets):
                task.cancel()
            await asyncio.gather(sources, targets, return_exceptions=True)

    # -- the source side (a worker thread) -----------------------------------------------------

    def _sources(self, fast: list[FastCheck], report: Callable[[Event], None]) -> None:
        tables = [
            HashedTable(
                item.check.label,
                item.source_path,
                item.busy_timeout,
                item.source_table,
                item.source_value,
                item.check.total,
            )
            for item in fast
        ]
        SourceSide(tables, self.cancel, self._halt, self.second, report).run()
        for item, table in zip(fast, tables, strict=True):
            item.source = table.fingerprint

    # -- the target side -------------------------------------------------------------------------

    async def _targets(
        self,
        fast: list[FastCheck],
        sources: asyncio.Future[None],
        meanwhile: Callable[[], Awaitable[None]] | None,
    ) -> None:
        serial = await self.pg.no_parallel_workers() if self.pg else None
        await self._fingerprint_targets(fast)
        if meanwhile is not None and not sources.done():
            await meanwhile()
        self.second.set()  # the server's core is free: a second source worker takes it
        if self.pg and serial is not None:
            await self.pg.set_parallel_workers(serial)

    async def _fingerprint_targets(self, fast: list[FastCheck]) -> None:
        for item in fast:
            self.cancel.raise_if_cancelled()
            started = time.perf_counter()
            if self.pg:
                item.target = await self.pg.fingerprint(item.target_sql, item.check.info.name)
            else:
                item.target = await self._sqlite_target(item)
            if item.target is not None:
                rows = item.target.rows
                rate = rows / max(time.perf_counter() - started, 1e-6)
                self.emit(TableProgress(f"{item.check.label} (target)", rows, None, rate))

    async def _sqlite_target(self, item: FastCheck) -> Fingerprint | None:
        raw = await self.target.conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        rows = total = 0
        try:
            for name, function in SQL_FUNCTIONS.items():
                await driver.create_function(name, 1, function, deterministic=True)
            async with driver.execute(item.target_sql) as cursor:
                while batch := await cursor.fetchmany(BATCH_ROWS):
                    self.cancel.raise_if_cancelled()
                    # Valid UTF-8 on this side: a source row whose text is not cannot match.
                    part = await asyncio.to_thread(digest_sum, batch, utf8=True)
                    if part is None:
                        return None
                    total += part
                    rows += len(batch)
        except sqlite3.Error:
            return None
        return Fingerprint(rows, total % MOD)

    async def _sqlite_columns(self, table: str) -> SqliteColumns:
        try:
            result = await self.target.conn.exec_driver_sql(TABLE_INFO, (table,))
            return SqliteColumns.of(result.all())
        except sa_exc.DBAPIError:
            return SqliteColumns()


def fill_result(check: SpecCheck, fingerprint: Fingerprint) -> None:
    """The result of a table whose target rows are exactly its mapped source rows: what the
    general path gives when every row matches."""
    result = check.result
    result.expected_rows = result.target_rows = result.matched = fingerprint.rows
    result.mismatched = result.missing = result.extra = result.kept = 0
    result.rejected = check.transform_rejected
    result.source_checksum = result.target_checksum = checksum_hex(fingerprint.checksum)
    result.checksum = PASS
    result.mismatches = []


__all__ = [
    "FastCheck",
    "FastPath",
    "Fingerprint",
    "digest_sum",
    "fill_result",
    "mapped_cells",
    "pg_sql",
    "plan_cells",
    "sqlite_row_sql",
]
