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
"""

from __future__ import annotations

import asyncio
import hashlib
import queue
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote as url_quote

from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from ..errors import Cancelled
from ..events import CancelToken, Emit, Event, TableProgress
from ..native.cells import SQL_TYPES, plain_cell
from ..shape.identifiers import quote
from ..sources import SourceReader, SourceTable
from ..targets import Target
from ..values.logical import LogicalType
from ..values.transform import PLAIN_FIELDS
from .checksum import checksum_hex
from .read import SpecCheck
from .result import PASS

if TYPE_CHECKING:
    from ..sources.sqlite import SqliteSource

#: rows fetched at a time from a SQLite side (one bytes object each)
BATCH_ROWS = 2000
_MOD = 1 << 128
#: PostgreSQL types whose text the target side writes exactly, by logical type
_PG_TYPES: dict[str, frozenset[str]] = {
    "text": frozenset({"text", "varchar"}),
    "integer": frozenset({"int2", "int4", "int8"}),
    "float": frozenset({"float8"}),
    "boolean": frozenset({"bool"}),
    "timestamp": frozenset({"timestamptz", "timestamp"}),
    "bytes": frozenset({"bytea"}),
}
#: arguments per SQLite printf call (SQLite allows 127 per function by default)
_PRINTF_ARGS = 120
#: arguments per PostgreSQL concat call (functions take at most 100)
_CONCAT_ARGS = 90


@dataclass(frozen=True)
class Fingerprint:
    """A side's row count and checksum (the sum of its rows' digests modulo 2**128)."""

    rows: int
    checksum: int


@dataclass(frozen=True)
class Cell:
    """One column of the canonical row: the key columns first, then the compared ones."""

    column: str
    #: the source field it is mapped from
    field: str
    type: LogicalType
    #: NULL is not written but refused (a key, or a ``skip_when_null`` column)
    required: bool


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


def pg_type_problem(cells: list[Cell], types: dict[str, str]) -> str | None:
    """Why PostgreSQL column types (``types``: column to ``typname``) rule the fast path out."""
    for cell in cells:
        typname = types.get(cell.column, "")
        if typname not in _PG_TYPES[cell.type]:
            return f"column {cell.column} is PostgreSQL {typname or 'unknown'}"
    return None


# -- SQL: SQLite ------------------------------------------------------------------------------


def _literal(text_: str) -> str:
    return "'" + text_.replace("'", "''") + "'"


@dataclass(frozen=True)
class _SqliteValue:
    #: holds when SQL writes the value exactly, NULL included (None: ``value`` is NULL for
    #: a value SQL cannot write, which makes the whole row NULL)
    check: str | None
    #: the value's text in hash form (NULL for NULL)
    value: str
    #: its length in bytes (None: always ``width``)
    size: str | None
    width: int = 0


def _utc_shapes(x: str, naive_utc: bool) -> str:
    """ISO text already in UTC with a six-digit fraction: ``...+00:00``, ``...-00:00``, ``...Z``
    (and naive text when naive means UTC). Its first 26 characters, with ``T``, are the hash
    form whenever Python reads the value; when Python does not, they are no time the target
    side writes (it writes valid ASCII times only), so such a row never matches."""
    # substr(x, 27) is the whole suffix only when x has 32 (or 27) characters.
    utc = f"substr({x}, 27) IN ('+00:00', '-00:00', 'Z')"
    if naive_utc:
        utc = f"({utc} OR length({x}) = 26)"
    return f"typeof({x}) = 'text' AND {utc}"


def _sqlite_value(cell: Cell, x: str, *, source: bool, zone: tzinfo | None) -> _SqliteValue:
    """How SQLite writes one cell; on the target side it reads what the database holds."""
    type_ = cell.type
    if type_ == "float" and not source:
        # Python reads an integer in a float column as that float.
        return _SqliteValue(
            f"typeof({x}) IN ('real', 'integer', 'null')", f"ferry_f64({x})", None, 16
        )
    name = cell.field if source else cell.column
    # Naive source times in UTC are UTC as they stand, as on the target side.
    naive_utc = zone is None or zone is UTC
    mapped = plain_cell(type_, name, not naive_utc if source else False)
    assert mapped is not None  # SQL_TYPES
    check, v = mapped.check, mapped.value
    if type_ == "text":
        return _SqliteValue(check, x, f"length(CAST({x} AS BLOB))")
    if type_ == "integer":
        return _SqliteValue(check, x, f"length({x})")
    if type_ == "float":
        return _SqliteValue(None, f"CASE WHEN {check} THEN ferry_f64({x}) END", None, 16)
    if type_ == "boolean":
        return _SqliteValue(
            check, f"CASE {x} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END", f"(5 - {x})"
        )
    if type_ == "bytes":
        return _SqliteValue(check, f"lower(hex({x}))", f"(2 * length({x}))")
    # timestamp: UTC as 26 characters with Python's "T"; the usual UTC spellings of a source
    # directly, anything else (and the target side always) through plain_cell's checks
    exact = f"WHEN {check} THEN replace({v}, ' ', 'T')"
    if source:
        utc = _utc_shapes(x, naive_utc)
        value = f"CASE WHEN {utc} THEN replace(substr({x}, 1, 26), ' ', 'T') {exact} END"
    else:
        value = f"CASE {exact} END"
    return _SqliteValue(None, value, None, 26)


@dataclass(frozen=True)
class SqliteColumns:
    """What a SQLite table's declared schema promises about its columns."""

    #: declared NOT NULL
    not_null: frozenset[str] = frozenset()
    #: TEXT affinity: only text, blobs and NULL (SQLite stores numbers there as text)
    text_only: frozenset[str] = frozenset()

    @classmethod
    def of(cls, rows: Sequence[Sequence[Any]]) -> SqliteColumns:
        """From ``(name, declared type, notnull)`` rows of ``pragma_table_info``."""
        not_null = {str(name) for name, _, notnull in rows if notnull}
        text_only = {str(name) for name, declared, _ in rows if _text_affinity(str(declared))}
        return cls(frozenset(not_null), frozenset(text_only))


#: the query :meth:`SqliteColumns.of` reads
TABLE_INFO = 'SELECT name, type, "notnull" FROM pragma_table_info(?)'


def _text_affinity(declared: str) -> bool:
    word = declared.upper()
    return "INT" not in word and any(part in word for part in ("CHAR", "CLOB", "TEXT"))


def sqlite_row_sql(
    table: str,
    cells: list[Cell],
    *,
    source: bool,
    zone: tzinfo | None = None,
    columns: SqliteColumns | None = None,
) -> str:
    """Per row of ``table``: the bytes its row digest hashes (:func:`digest_bytes`), or NULL
    when SQL cannot write the row exactly as Python does (then the general path decides).
    The lengths come from one ``printf``, the values are concatenated with ``||`` (which keeps
    a NUL character, where ``printf`` would stop)."""
    columns = columns or SqliteColumns()
    checks: list[str] = []
    formats: list[list[str]] = [[]]
    args: list[list[str]] = [[]]
    values: list[str] = []
    trailing_nulls = False
    for cell in cells:
        name = cell.field if source else cell.column
        x = quote(name)
        spec = _sqlite_value(cell, x, source=source, zone=zone)
        if spec.check is not None and not (cell.type == "text" and name in columns.text_only):
            # (a blob in a text column is its UTF-8 text to Python, and these bytes to SQL)
            checks.append(f"({spec.check})")
        if cell.required:
            checks.append(f"{x} IS NOT NULL")
        never_null = cell.required or name in columns.not_null
        if spec.size is None:
            # A value SQL cannot write is NULL: the row becomes NULL (so goes to Python).
            size_format, size_args = (
                (str(spec.width), [])
                if never_null
                else (
                    "%s",
                    [f"CASE WHEN {x} IS NOT NULL THEN {spec.width} END"],
                )
            )
            value = spec.value if never_null else f"iif({x} IS NULL, '', {spec.value})"
        else:
            size_format, size_args = ("%d" if never_null else "%s"), [spec.size]
            value = spec.value if never_null else f"ifnull({spec.value}, '')"
        trailing_nulls = not never_null
        if len(args[-1]) + len(size_args) > _PRINTF_ARGS:
            formats.append([])
            args.append([])
        formats[-1].append(size_format)
        args[-1].extend(size_args)
        values.append(value)
    sizes = " || ',' || ".join(
        f"printf({_literal(','.join(fmt))}{''.join(', ' + a for a in arg)})"
        for fmt, arg in zip(formats, args, strict=True)
        if fmt
    )
    if trailing_nulls:
        sizes = f"rtrim({sizes}, ',')"
    written = " || ".join([sizes or "''", "';'", *values])
    row = f"CASE WHEN {' AND '.join(checks)} THEN {written} END" if checks else written
    return f"SELECT CAST({row} AS BLOB) FROM {quote(table)}"


def _f64(value: Any) -> str | None:
    """``ferry_f64``: a number's IEEE 754 double bits as 16 hex digits."""
    return None if value is None else struct.pack(">d", value).hex()


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the SQLite side's queries call."""
    conn.create_function("ferry_f64", 1, _f64, deterministic=True)


# -- SQL: PostgreSQL -------------------------------------------------------------------------

_UTC_TEXT = "'YYYY-MM-DD\"T\"HH24:MI:SS.US'"


def _pg_cell(cell: Cell, typname: str) -> tuple[str, str, str | None]:
    """One cell's length in bytes and value in hash form (both NULL for NULL), and the
    condition under which it is exact (None: always)."""
    x = quote(cell.column)
    if cell.type == "text":
        return f"octet_length({x})", x, None
    if cell.type == "integer":
        return f"octet_length({x}::text)", f"{x}::text", None
    if cell.type == "float":
        return f"CASE WHEN {x} IS NOT NULL THEN 16 END", f"encode(float8send({x}), 'hex')", None
    if cell.type == "boolean":
        return (
            f"CASE WHEN {x} THEN 4 WHEN NOT {x} THEN 5 END",
            f"CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END",
            None,
        )
    if cell.type == "bytes":
        return f"2 * octet_length({x})", f"encode({x}, 'hex')", None
    # timestamp: four-digit years only (Python's isoformat; to_char's YYYY has no era)
    if typname == "timestamptz":
        moment, low, high = (
            f"{x} AT TIME ZONE 'UTC'",
            "'1000-01-01 00:00:00+00'",
            "'10000-01-01 00:00:00+00'",
        )
    else:
        moment, low, high = x, "'1000-01-01 00:00:00'", "'10000-01-01 00:00:00'"
    exact = f"({x} IS NULL OR ({x} >= {low} AND {x} < {high}))"
    return f"CASE WHEN {x} IS NOT NULL THEN 26 END", f"to_char({moment}, {_UTC_TEXT})", exact


def _pg_chunks(function: str, parts: list[str], glue: str) -> str:
    """``function(parts...)`` within PostgreSQL's 100 arguments a call, chunks joined by
    ``glue``."""
    return glue.join(
        f"{function}({', '.join(parts[i : i + _CONCAT_ARGS])})"
        for i in range(0, len(parts), _CONCAT_ARGS)
    )


def pg_sql(table: str, cells: list[Cell], types: dict[str, str]) -> str:
    """One row: the table's row count, how many rows SQL wrote exactly, and the sums of the
    rows' MD5 digests (:func:`digest_bytes`) in three parts (bits 127-64 signed, 63-32 and
    31-0 unsigned)."""
    sizes, values, exact = [], [], []
    for cell in cells:
        size, value, condition = _pg_cell(cell, types[cell.column])
        sizes.append(size)
        values.append(value)
        if condition:
            exact.append(condition)
        if cell.required:
            exact.append(f"{quote(cell.column)} IS NOT NULL")
    if cells:
        # concat writes a NULL as nothing, and leaves it out of the values, as digest_bytes
        commas = [
            f"concat({', '.join(_interleave(chunk))})"
            for chunk in (
                sizes[i : i + _CONCAT_ARGS // 2] for i in range(0, len(sizes), _CONCAT_ARGS // 2)
            )
        ]
        header = " || ',' || ".join(commas)
        row = f"md5(rtrim({header}, ',') || ';' || {_pg_chunks('concat', values, ' || ')})"
    else:
        row = "md5(';')"
    if exact:
        row = f"CASE WHEN {' AND '.join(exact)} THEN {row} END"
    # The digest as 128 bits once (OFFSET 0 keeps the subquery, so md5 runs once a row).
    return (
        "SELECT count(*), count(b), "
        "coalesce(sum(substring(b from 1 for 64)::bigint), 0), "
        "coalesce(sum(substring(b from 65 for 32)::bigint), 0), "
        "coalesce(sum(substring(b from 97 for 32)::bigint), 0) "
        f"FROM (SELECT ('x' || {row})::bit(128) AS b FROM {quote(table)} OFFSET 0) AS rows"
    )


def _interleave(sizes: list[str]) -> list[str]:
    out = []
    for size in sizes:
        out.extend([size, "','"])
    return out[:-1]


def _pg_fingerprint(row: Sequence[Any]) -> Fingerprint | None:
    count, written, high, middle, low = (int(v) for v in row)
    if written != count:
        return None
    return Fingerprint(count, ((high << 64) + (middle << 32) + low) % _MOD)


# -- hashing rows in Python ------------------------------------------------------------------


def digest_sum(rows: Sequence[Sequence[Any]], *, utf8: bool = False) -> int | None:
    """The sum of the MD5s of the rows of :func:`sqlite_row_sql`, None when one is NULL (or,
    with ``utf8``, is not valid UTF-8)."""
    md5 = hashlib.md5
    try:
        written = [row[0] for row in rows]
        if utf8:
            for one in written:
                one.decode("utf-8")
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
            return Fingerprint(rows, total % _MOD)
        except sqlite3.Error:
            return None  # the general path reads it again and says what is wrong
        finally:
            if fetcher is not None:
                fetcher.close(conn)
            conn.close()

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
            async with conn.begin_nested():
                result = await conn.exec_driver_sql(self.target.driver_sql(item.target_sql))
                row = result.one()
        except sa_exc.DBAPIError as exc:
            await self._still_usable(exc, f"reading table {item.check.info.name}")
            return None  # the general path reads the table and reports what is wrong
        return _pg_fingerprint(row)

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
            await driver.create_function("ferry_f64", 1, _f64, deterministic=True)
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
        return Fingerprint(rows, total % _MOD)

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
