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

The SQL each side runs is in :mod:`ferry.verify.fastsql`; this module decides which checks
qualify and runs both sides at once (threads, batches, cancellation), which is why it is
still somewhat long.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import queue
import sqlite3
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote as url_quote

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
from .fastsql import (
    MOD,
    TABLE_INFO,
    Cell,
    Fingerprint,
    SqliteColumns,
    f64,
    pg_fingerprint,
    pg_sql,
    pg_type_problem,
    register_functions,
    sqlite_row_sql,
)
from .read import SpecCheck
from .result import PASS

if TYPE_CHECKING:
    from ..sources.sqlite import SqliteSource

#: rows fetched at a time from a SQLite side (one bytes object each)
BATCH_ROWS = 2000


@dataclass
class FastCheck:
    """A check the fast path tries, with both sides' SQL."""

    check: SpecCheck
    source_path: Path
    busy_timeout: float
    source_sql: str
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


# -- hashing rows in Python ------------------------------------------------------------------


def _builtin_md5() -> Callable[[bytes], Any]:
    try:
        return cast("Callable[[bytes], Any]", importlib.import_module("_md5").md5)
    except (ImportError, AttributeError):  # a Python built without its own MD5
        return hashlib.md5


#: CPython's own MD5: the same digests as OpenSSL's, and about half the cost a short row
#: (OpenSSL's is mostly setting up its context); long rows keep OpenSSL's, which hashes faster
#: and lets the fetching thread run meanwhile (it releases the GIL from 2 KiB)
small_md5 = _builtin_md5()
#: average bytes a row below which a batch is hashed with :data:`small_md5`
SMALL_ROW_BYTES = 1024


def digest_sum(rows: Sequence[Sequence[Any]], *, utf8: bool = False) -> int | None:
    """The sum of the MD5s of the rows of :func:`sqlite_row_sql`, None when one is NULL (or,
    with ``utf8``, is not valid UTF-8)."""
    try:
        written = [row[0] for row in rows]
        if utf8:
            for one in written:
                one.decode("utf-8")
        short = sum(map(len, written)) < SMALL_ROW_BYTES * len(written)
        md5 = small_md5 if short else hashlib.md5
        digests = b"".join([md5(one).digest() for one in written])
    except (TypeError, AttributeError, UnicodeDecodeError):
        return None
    words: tuple[int, ...] = struct.unpack(f">{2 * len(rows)}Q", digests)
    return (sum(words[0::2]) << 64) + sum(words[1::2])


def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    uri = f"file:{url_quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(
        uri, uri=True, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )


def _source_columns(reader: SqliteSource, table: str) -> SqliteColumns | None:
    """The declared schema of a source table (None when it cannot be read)."""
    try:
        conn = _connect(reader.path, reader.busy_timeout)
    except sqlite3.Error:
        return None
    try:
        return SqliteColumns.of(conn.execute(TABLE_INFO, (table,)).fetchall())
    except sqlite3.Error:
        return None
    finally:
        conn.close()


class _Fetcher:
    """Fetches a cursor's batches in a thread of its own, one batch ahead: SQLite writes the
    next rows (without the GIL) while the caller hashes these."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor
        self._queue: queue.Queue[list[Any] | BaseException] = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ferry-verify-fetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                batch = self._cursor.fetchmany(BATCH_ROWS)
                self._put(batch)
                if not batch:
                    return
        except BaseException as exc:
            self._put(exc)

    def _put(self, item: list[Any] | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def next(self) -> list[Any]:
        """The next batch (empty at the end); raises what fetching raised."""
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self, conn: sqlite3.Connection) -> None:
        """Stop fetching (the connection may be closed afterwards)."""
        self._stop.set()
        if self._thread.is_alive():
            conn.interrupt()
        self._thread.join()


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
            declared = await asyncio.to_thread(_source_columns, reader, source.origin)
            if declared is None:
                self.skipped[check.label] = "the source's columns cannot be read"
                continue
            source_sql = sqlite_row_sql(
                source.origin, cells, source=True, zone=zone, columns=declared
            )
            if postgres:
                types = await self._pg_types(check.info.name)
                problem = pg_type_problem(cells, types)
                if problem is not None:
                    self.skipped[check.label] = problem
                    continue
                target_sql = pg_sql(check.info.name, cells, types)
            else:
                columns = await self._sqlite_columns(check.info.name)
                target_sql = sqlite_row_sql(check.info.name, cells, source=False, columns=columns)
            fast.append(FastCheck(check, reader.path, reader.busy_timeout, source_sql, target_sql))
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
        for item in fast:
            if self._halt.is_set():
                return
            item.source = self._source(item, report)

    def _source(self, item: FastCheck, report: Callable[[Event], None]) -> Fingerprint | None:
        check = item.check
        try:
            conn = _connect(item.source_path, item.busy_timeout)
        except sqlite3.Error:
            return None
        fetcher = None
        try:
            register_functions(conn)
            fetcher = _Fetcher(conn.execute(item.source_sql))
            rows = total = 0
            started = shown = time.perf_counter()
            while batch := fetcher.next():
                if self.cancel.cancelled:
                    raise Cancelled()
                if self._halt.is_set():
                    return None
                part = digest_sum(batch)
                if part is None:
                    return None  # a row for the general path
                total += part
                rows += len(batch)
                now = time.perf_counter()
                if now - shown > 0.2:
                    shown = now
                    rate = rows / max(now - started, 1e-6)
                    report(TableProgress(check.label, rows, check.total, rate))
            rate = rows / max(time.perf_counter() - started, 1e-6)
            report(TableProgress(check.label, rows, check.total, rate))
            return Fingerprint(rows, total % MOD)
        except sqlite3.Error:
            return None  # the general path reads it again and says what is wrong
        finally:
            if fetcher is not None:
                fetcher.close(conn)
            conn.close()

    # -- the target side -------------------------------------------------------------------------

    async def _targets(
        self,
        fast: list[FastCheck],
        sources: asyncio.Future[None],
        meanwhile: Callable[[], Awaitable[None]] | None,
    ) -> None:
        await self._fingerprint_targets(fast)
        if meanwhile is not None and not sources.done():
            await meanwhile()

    async def _fingerprint_targets(self, fast: list[FastCheck]) -> None:
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
            async with conn.begin_nested():
                result = await conn.exec_driver_sql(self.target.driver_sql(item.target_sql))
                row = result.one()
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

    async def _pg_types(self, table: str) -> dict[str, str]:
        """Column to type name, for a plain table (none for a partitioned or inherited one,
        whose rows a primary key does not make unique)."""
        sql = text(
            "SELECT a.attname, t.typname, c.relkind, c.relhassubclass FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = to_regclass(:name) AND a.attnum > 0 AND NOT a.attisdropped"
        )
        try:
            async with self.target.conn.begin_nested():
                rows = (await self.target.conn.execute(sql, {"name": quote(table)})).all()
        except sa_exc.DBAPIError as exc:
            await self._still_usable(exc, f"reading the columns of {table}")
            return {}
        if any(kind != "r" or children for _, _, kind, children in rows):
            return {}
        return {str(name): str(typname) for name, typname, _, _ in rows}


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
