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

The SQL each side runs is in :mod:`ferry.verify.fastsql`, the SQLite source side (a large
table in two halves at once) in :mod:`ferry.verify.fastsource`; this module decides which
checks qualify and runs both sides at once. PostgreSQL computes the digests in parallel
workers (:data:`~ferry.verify.fastsql.PG_PARALLEL`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from ..errors import Cancelled
from ..events import CancelToken, Emit, Event, TableProgress
from ..native.cells import SQL_TYPES
from ..shape.identifiers import quote
from ..sources import SourceReader, SourceTable
from ..targets import Target
from ..values.transform import PLAIN_FIELDS
from .checksum import checksum_hex
from .fastsource import BATCH_ROWS, SourceTableSide, digest_sum, source_columns
from .fastsql import (
    MOD,
    PG_PARALLEL,
    TABLE_INFO,
    Cell,
    Fingerprint,
    SqliteColumns,
    f64,
    pg_fingerprint,
    pg_sql,
    pg_type_problem,
    sqlite_row_sql,
)
from .read import SpecCheck
from .result import PASS

if TYPE_CHECKING:
    from ..sources.sqlite import SqliteSource


@dataclass
class FastCheck:
    """A check the fast path tries, with both sides' SQL."""

    check: SpecCheck
    source_path: Path
    busy_timeout: float
    source_sql: str
    target_sql: str
    #: the source table (read in two halves by rowid when large)
    source_table: str = ""
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
    if not info.primary_key or not set(info.primary_key) <= set(mapper.key):
        return "the key is not the table's primary key"
    skip = set(spec.skip_when_null)
    mapped = {c.name: c for c in mapper.mapped_columns()}
    cells = []
    for column in [*mapper.key, *check.compared]:
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
        postgres = self.target.capabilities.sums_row_hashes
        if postgres and not await self._pg_usable():
            for check, *_ in chosen:
                self.skipped[check.label] = "the database's encoding is not UTF-8"
            return []
        fast = []
        for check, reader, source, cells in chosen:
            zone = check.mapper.timezone
            declared = await asyncio.to_thread(
                source_columns, reader.path, reader.busy_timeout, source.origin
            )
            if declared is None:
                self.skipped[check.label] = "the source's columns cannot be read"
                continue
            source_sql = sqlite_row_sql(
                source.origin, cells, source=True, zone=zone, columns=declared
            )
            if postgres:
                types, not_null = await self._pg_types(check.info.name)
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
                    check, reader.path, reader.busy_timeout, source_sql, target_sql, source.origin
                )
            )
        return fast

    async def run(self, fast: list[FastCheck]) -> None:
        """Fingerprint both sides of every check in ``fast``, the two sides at once."""
        loop = asyncio.get_running_loop()

        def report(event: Event) -> None:
            loop.call_soon_threadsafe(self.emit, event)

        sources = asyncio.ensure_future(asyncio.to_thread(self._sources, fast, report))
        targets = asyncio.ensure_future(self._targets(fast))
        try:
            await asyncio.gather(sources, targets)
        finally:
            self._halt.set()  # a thread is not cancelled with its future
            for task in (sources, targets):
                task.cancel()
            await asyncio.gather(sources, targets, return_exceptions=True)

    # -- the source side (a worker thread) -----------------------------------------------------

    def _sources(self, fast: list[FastCheck], report: Callable[[Event], None]) -> None:
        for item in fast:
            if self._halt.is_set():
                return
            item.source = self._source(item, report)

    def _source(self, item: FastCheck, report: Callable[[Event], None]) -> Fingerprint | None:
        source = SourceTableSide(
            item.source_path, item.busy_timeout, item.source_table, item.source_sql
        )
        return source.fingerprint(item.check.label, item.check.total, report, self._stop)

    def _stop(self) -> bool:
        """Whether the source side stops (raises Cancelled when the run was cancelled)."""
        if self.cancel.cancelled:
            raise Cancelled()
        return self._halt.is_set()

    # -- the target side -------------------------------------------------------------------------

    async def _targets(self, fast: list[FastCheck]) -> None:
        for item in fast:
            self.cancel.raise_if_cancelled()
            started = time.perf_counter()
            if self.target.capabilities.sums_row_hashes:
                item.target = await self._pg_target(item)
            else:
                item.target = await self._sqlite_target(item)
            if item.target is not None:
                rows = item.target.rows
                rate = rows / max(time.perf_counter() - started, 1e-6)
                self.emit(TableProgress(f"{item.check.label} (target)", rows, None, rate))

    async def _pg_target(self, item: FastCheck) -> Fingerprint | None:
        conn = self.target.conn
        try:
            async with conn.begin_nested() as savepoint:
                for setting in PG_PARALLEL:
                    await conn.exec_driver_sql(setting)
                result = await conn.exec_driver_sql(self.target.driver_sql(item.target_sql))
                row = result.one()
                await savepoint.rollback()  # the settings end with the savepoint
        except sa_exc.DBAPIError as exc:
            await self._still_usable(exc, f"reading table {item.check.info.name}")
            return None  # the general path reads the table and reports what is wrong
        return pg_fingerprint(row)

    async def _still_usable(self, exc: sa_exc.DBAPIError, what: str) -> None:
        """After a failed statement (rolled back to its savepoint): raise the target's error
        when the connection is gone, as the general path would."""
        conn = self.target.conn
        if not exc.connection_invalidated and not conn.invalidated:
            try:
                async with conn.begin_nested():
                    await conn.exec_driver_sql("SELECT 1")
                return
            except sa_exc.SQLAlchemyError:
                pass
        raise self.target.wrap(exc, what) from None

    async def _sqlite_target(self, item: FastCheck) -> Fingerprint | None:
        raw = await self.target.conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        rows = total = 0
        try:
            await driver.create_function("ferry_f64", 1, f64, deterministic=True)
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

    # -- PostgreSQL's catalog ----------------------------------------------------------------

    async def _pg_usable(self) -> bool:
        """UTF-8 text (``md5`` hashes the bytes Python encodes) and literal backslashes."""
        try:
            async with self.target.conn.begin_nested():
                result = await self.target.conn.execute(
                    text(
                        "SELECT current_setting('server_encoding'), "
                        "current_setting('standard_conforming_strings')"
                    )
                )
                encoding, conforming = result.one()
        except sa_exc.DBAPIError as exc:
            await self._still_usable(exc, "reading the server's settings")
            return False
        return bool(encoding == "UTF8" and conforming == "on")

    async def _pg_types(self, table: str) -> tuple[dict[str, str], frozenset[str]]:
        """Column to type name, and the columns declared NOT NULL, for a plain table (none
        for a partitioned or inherited one, whose rows a primary key does not make unique)."""
        sql = text(
            "SELECT a.attname, t.typname, a.attnotnull, c.relkind, c.relhassubclass "
            "FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = to_regclass(:name) AND a.attnum > 0 AND NOT a.attisdropped"
        )
        try:
            async with self.target.conn.begin_nested():
                rows = (await self.target.conn.execute(sql, {"name": quote(table)})).all()
        except sa_exc.DBAPIError as exc:
            await self._still_usable(exc, f"reading the columns of {table}")
            return {}, frozenset()
        if any(kind != "r" or children for *_, kind, children in rows):
            return {}, frozenset()
        types = {str(name): str(typname) for name, typname, *_ in rows}
        return types, frozenset(str(name) for name, _, not_null, *_ in rows if not_null)


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
    "pg_sql",
    "plan_cells",
    "sqlite_row_sql",
]
