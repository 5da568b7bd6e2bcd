"""What the engine needs from a target database, and the SQL both targets share.

Loading goes through a staging table per target table: rows are bulk-written into the stage
(a temporary table in the same connection and transaction), then classified against the
target (insert / update / unchanged / conflict) and merged with two set-based statements.
The same classification is the preview's count, so a preview and a migration agree exactly.
A merge that hits a constraint falls back to row-by-row under savepoints, so the offending
rows are rejected with the database's reason and the rest loads.
The statements' SQL text is written by :mod:`ferry.load.mergesql` from the target's
:attr:`Target.merge_dialect`; the target runs them.

Two shortcuts skip most of that work: :meth:`Target.load_direct` writes straight into a table
that is empty (the engine starts over with a stage when the database refuses a row), and
:meth:`Target.existing_rows` lets the engine stage a row the target already holds unchanged as
its key alone (``_ferry_same``), which every statement below leaves out of change detection.

The module is long because :class:`Target` is the one contract every dialect implements (its
abstract methods, the capability-backed questions, and the staging and merge both share):
split further, a reader would follow one class across files. Catalog SQL lives in
:mod:`ferry.targets.sqlitecatalog` and :mod:`ferry.targets.pgcatalog`, the merge SQL text in
:mod:`ferry.load.mergesql`.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from sqlalchemy import Select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import CursorResult

from ..capabilities import TargetCapabilities
from ..errors import TargetError
from ..events import Emit, ignore_events
from ..load import mergesql
from ..load.mergesql import MergeDialect, MergeTable
from ..plan import ConflictRule, TargetSpec
from ..shape.identifiers import quote
from ..shape.schema import ColumnInfo, TableInfo, reflect_tables
from ..shape.textorder import BYTE_ORDER, TextOrder
from .asyncengine import AsyncConnection, AsyncEngine

if TYPE_CHECKING:
    from .cascades import Cascade
    from .sqlitecopy import Copied, WholeCopy

#: SQLSTATEs of "already exists": duplicate table/relation, object, function, schema
_ALREADY_EXISTS = frozenset({"42P07", "42710", "42723", "42P06"})


@dataclass
class Stage:
    """A staging table for one target table."""

    table: TableInfo
    name: str
    columns: list[str]
    key: list[str]
    #: columns whose differences count as a change (not the key, not ``now`` columns)
    compare: list[str]
    #: rows in the stage
    rows: int = 0
    #: the next source order number (``_ferry_seq``); rows refused by the stage still use one
    seq: int = 0
    #: the SQL type of a one-column key (PostgreSQL looks keys up by an array of it)
    key_type: str | None = None
    #: the next order number :meth:`Target.encode_rows` hands out (it runs ahead of ``seq``:
    #: batches are encoded in a worker thread while earlier ones are still being written)
    encoded: int = 0


@dataclass
class Encoded:
    """One batch of mapped rows made ready for the driver (in a worker thread)."""

    #: the ``_ferry_seq`` of the first row (stage loads)
    start: int
    #: what the driver takes: COPY text for PostgreSQL, parameter tuples for SQLite
    data: Any
    #: rows carry ``_ferry_same`` after ``_ferry_seq`` (some are unchanged-row markers)
    marked: bool = False
    #: ``data`` is COPY text in CSV format (made by SQLite: :mod:`ferry.native.load`)
    csv: bool = False
    #: ``data`` is binary COPY (a native chunk, header and trailer included)
    binary: bool = False


#: the schema name a native load attaches its SQLite source under (SQLite targets)
NATIVE_SCHEMA = "ferry_src"
#: SQLite source files a SQLite target attaches at most (SQLite's default
#: ``SQLITE_MAX_ATTACHED``; more are refused with "too many attached databases")
ATTACHED_FILES = 10


@dataclass(frozen=True)
class NativeInsert:
    """Rows a SQLite target copies itself from a SQLite source file it attaches read-only
    (``INSERT … SELECT``, :mod:`ferry.native.load`): the ``data`` of an :class:`Encoded`."""

    source: Path
    #: the statement, reading the source under the schema :meth:`Target.attach` gave
    sql: str
    params: tuple[Any, ...]


class ApartLoad(Protocol):
    """A created table loaded on a connection of its own (``Target.open_apart``)."""

    #: committed on its own connection: its private schema exists until dropped
    committed: bool

    async def execute(self, statement: str) -> None:
        """Run ``statement`` in its transaction (unqualified names find its table)."""

    async def copy(self, columns: list[str], encoded: Encoded) -> None:
        """COPY a chunk in (raises :class:`DirectLoadRefused` when the server refuses it)."""

    async def commit(self) -> None:
        """Commit it and close its connection."""

    async def swap_in(self) -> None:
        """In the run's transaction: put it in place of the empty table the run created."""

    async def discard(self) -> None:
        """Drop it (best effort; the next run drops what stays)."""


class DirectLoadRefused(Exception):
    """The target refused a batch loaded straight into an empty table (a constraint or a
    value): the run then loads that table through a stage, which rejects only the bad rows."""

    def __init__(self, table: str, reason: str) -> None:
        super().__init__(f"{table}: {reason}")
        self.table = table
        self.reason = reason


@dataclass(frozen=True)
class Privilege:
    """One finding of :meth:`Target.privileges`: may the run write ``subject``?"""

    subject: str
    ok: bool
    message: str
    hint: str = ""


@dataclass
class MergeCounts:
    """What a merge did (or, in a preview, would do) to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    deleted: int = 0
    rejected: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    #: the row versions the rows it wrote carry, where the merge returned them
    #: (:mod:`ferry.load.recordedmerge`; None: not known)
    versions: list[str] | None = None


class Target(ABC):
    """An open connection to the target with one transaction around everything."""

    dialect_name = ""
    #: what this target can do; the orchestrators read this, never ``dialect_name``
    capabilities: ClassVar[TargetCapabilities] = TargetCapabilities()
    #: what the merge SQL (:mod:`ferry.load.mergesql`) needs to know of this dialect
    merge_dialect: ClassVar[MergeDialect]

    def __init__(self, spec: TargetSpec, base_dir: Path) -> None:
        self.spec = spec
        self.base_dir = base_dir
        self.engine: AsyncEngine | None = None
        self._conn: AsyncConnection | None = None
        self._stage_counter = 0
        #: where the target reports what it waits for (a lock another session holds)
        self.emit: Emit = ignore_events
        #: PostgreSQL: the ``pg_schema`` open() created (in the run's transaction), else None
        self.created_schema: str | None = None
        #: SQLite: a file this run creates goes into WAL mode once it commits, as the app's
        #: own SQLite files are (:mod:`ferry.sources.journalmode`); elsewhere nothing
        self.wal_after_commit = False
        #: SQLite: a source file only its owner may read; a file this run creates is made
        #: owner-only too (:mod:`ferry.sources.privatefiles`); elsewhere nothing
        self.private_source: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def conn(self) -> AsyncConnection:
        """The open connection (inside the run's transaction)."""
        if self._conn is None:
            raise RuntimeError("target is not open")
        return self._conn

    @abstractmethod
    def describe(self) -> str:
        """The target for messages (path or ``host:port/db``), never with a password."""

    @abstractmethod
    async def open(self, read_only: bool = False) -> None:
        """Connect and begin the run's transaction; ``read_only`` for work that only reads
        (verification): no write lock, and the database refuses any write."""

    async def finish(self, commit: bool) -> None:
        """Commit or roll back, then close the connection."""
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                try:
                    if commit:
                        await conn.commit()
                    else:
                        await conn.rollback()
                finally:
                    await conn.close()
        except sa_exc.DBAPIError as exc:
            raise self.wrap(exc, "finishing the transaction") from None
        finally:
            if self.engine is not None:
                await self.engine.dispose()
                self.engine = None

    # -- schema ------------------------------------------------------------------------------
    async def reflect(self) -> dict[str, TableInfo]:
        """The tables the target holds now (inside the run's transaction)."""
        from sqlalchemy import inspect

        try:
            return await self.conn.run_sync(lambda sync: reflect_tables(inspect(sync)))
        except sa_exc.DBAPIError as exc:
            raise self.wrap(exc, "reading the target's schema") from None

    def driver_sql(self, sql: str) -> str:
        """SQL as the driver must receive it (PostgreSQL's psycopg reads ``%`` specially)."""
        return sql

    async def _exec(self, sql: str) -> CursorResult[Any]:
        return await self.conn.exec_driver_sql(self.driver_sql(sql))

    async def execute(self, sql: str, what: str) -> int:
        """Run one statement; a driver error becomes a TargetError naming ``what``."""
        try:
            result = await self._exec(sql)
        except sa_exc.DBAPIError as exc:
            raise self.wrap(exc, what) from None
        return max(result.rowcount, 0)

    async def fetch_binary(self, query: Select[Any], what: str) -> list[tuple[Any, ...]]:
        """All rows of ``query`` (SQLAlchemy Core), in the run's transaction: a query of
        large blobs (Ferry's kept row prints and page maps), which a target may fetch in its
        driver's binary form (PostgreSQL); a driver error becomes a TargetError naming
        ``what``."""
        try:
            result = await self.conn.execute(query)
        except sa_exc.DBAPIError as exc:
            raise self.wrap(exc, what) from None
        return [tuple(row) for row in result]

    async def stream_rows(
        self, sql: str, what: str, size: int
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        """The rows of one query (``sql`` as :meth:`driver_sql` writes it), ``size`` at a
        time, in the run's transaction, blobs as ``bytes``: a target with server-side cursors
        never holds them all (PostgreSQL); another reads them at once. A driver error
        becomes a TargetError naming ``what``."""
        try:
            rows = [tuple(row) for row in (await self.conn.exec_driver_sql(sql)).all()]
        except sa_exc.DBAPIError as exc:
            raise self.wrap(exc, what) from None
        for start in range(0, len(rows), size):
            yield rows[start : start + size]

    async def scalar(self, sql: str, what: str) -> Any:
        """The first column of the first row of a query."""
        try:
            result = await self._exec(sql)
        except sa_exc.DBAPIError as exc:
            raise self.wrap(exc, what) from None
        return result.scalar()

    async def run_schema_sql(self, statements: list[str], origin: str) -> list[str]:
        """Apply a schema.sql statement by statement; ones for objects that already exist are
        skipped (each runs under a savepoint so a failure does not spoil the transaction)."""
        ran = []
        for number, statement in enumerate(statements, start=1):
            try:
                async with self.conn.begin_nested():
                    await self._exec(statement)
                ran.append(statement)
            except sa_exc.DBAPIError as exc:
                # PostgreSQL's messages may be translated (lc_messages): its SQLSTATE is not.
                sqlstate = getattr(exc.orig, "sqlstate", None)
                if "already exists" in str(exc.orig) or sqlstate in _ALREADY_EXISTS:
                    continue
                # `sqlite3 db .schema` lists sqlite_sequence and sqlite_stat1, which SQLite
                # makes itself and refuses to be given.
                if "reserved for internal use" in str(exc.orig):
                    continue
                raise TargetError(
                    f"{origin}: statement {number} failed: {first_line(exc.orig)}",
                    hint="Fix the schema file; nothing was written to the target.",
                    details=statement,
                ) from None
        return ran

    @abstractmethod
    async def create_table(self, table: TableInfo) -> str:
        """Create a table Ferry inferred; returns the DDL that ran."""

    async def add_column(self, table: TableInfo, column: ColumnInfo) -> str:
        """Add a column to a table Ferry created in this run (data showed a new field); a
        name this target cannot hold is refused first (a PlanError)."""
        from ..shape.schema import check_names, sqlalchemy_type

        check_names(
            TableInfo(table.name, {column.name: column}), self.capabilities.max_identifier_bytes
        )
        assert self.engine is not None
        type_sql = sqlalchemy_type(column.type, self.capabilities.binary_json).compile(
            dialect=self.engine.dialect
        )
        ddl = f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {type_sql}"
        await self.execute(ddl, f"adding column {column.name} to {table.name}")
        table.columns[column.name] = column
        return ddl

    # -- what the database is and holds (dialect SQL, so callers never branch) -------------
    def database_file(self) -> Path | None:
        """The file the target is (SQLite), None for a server."""
        return None

    def file_missing(self) -> bool:
        """True when the target is a database file that does not exist: opening it would
        create an empty one (``capabilities.created_by_opening``)."""
        path = self.database_file()
        return self.capabilities.created_by_opening and path is not None and not path.exists()

    @abstractmethod
    async def server_version(self) -> str:
        """The database's product and version, for ``check`` (``SQLite 3.45.1``)."""

    @abstractmethod
    async def privileges(self, existing: list[str]) -> list[Privilege]:
        """Whether the run may create tables and write the ``existing`` ones it loads."""

    @abstractmethod
    async def relation_exists(self, name: str) -> bool:
        """True when the target has a table or view of that name (as the target compares)."""

    @abstractmethod
    async def names_taken(self) -> list[tuple[str, str]]:
        """``(name, kind)`` of every relation in the schema Ferry creates tables in (``kind``
        is ``table``, ``view``, ``index`` …): an index must not take one of those names."""

    async def has_extension(self, name: str) -> bool:
        """True when the database has extension ``name`` (``capabilities.citext``)."""
        return False

    async def text_order(self) -> TextOrder:
        """How the target sorts text a column does not collate itself: byte by byte (SQLite's
        ``BINARY``) unless the target says otherwise (:mod:`ferry.shape.textorder`)."""
        return BYTE_ORDER

    async def column_sql_type(self, table: str, column: str) -> str:
        """A column's declared SQL type as the database spells it, where a copy of the column
        must keep it (exact undo's image tables); "" where columns take any value (SQLite)."""
        return ""

    async def defer_references(self) -> None:
        """Check foreign keys at commit instead of at each statement, for tables whose
        references form a cycle (``capabilities.defers_cyclic_references``)."""
        raise NotImplementedError(f"{self.dialect_name} targets defer no references")

    async def reference_violations(self, table: str) -> int | None:
        """Rows of ``table`` whose foreign key finds no parent, by the database's own check;
        None where it has none beyond the orphan queries verify runs itself."""
        return None

    async def user_sql_value(self, sql: str) -> Any:
        """The first column of the first row of a user's query (None: no row), under a
        savepoint so a failing query leaves the transaction usable. The SQL goes to the driver
        as it is written (no parameter markers)."""
        async with self.conn.begin_nested():
            result = await self.conn.exec_driver_sql(sql)
            row = result.first() if result.returns_rows else None
        return row[0] if row else None

    # -- staging -----------------------------------------------------------------------------
    def _stage_name(self) -> str:
        self._stage_counter += 1
        return f"ferry_stage_{self._stage_counter}"

    @abstractmethod
    async def create_stage(
        self, table: TableInfo, columns: list[str], key: list[str], compare: list[str]
    ) -> Stage:
        """A temporary table shaped like ``columns`` of ``table`` plus a row sequence."""

    @abstractmethod
    async def add_stage_column(self, stage: Stage, column: ColumnInfo) -> None:
        """Widen a stage with a column added to its table during the run."""

    @abstractmethod
    async def write_stage(
        self, stage: Stage, rows: list[tuple[Any, ...]], encoded: Encoded | None = None
    ) -> list[tuple[int, str]]:
        """Bulk-write rows (values in ``stage.columns`` order) into the stage; ``encoded`` is
        the same rows from :meth:`encode_rows` (made when not given).

        Returns the rows the stage refused (a value its column type cannot hold) as
        ``(index in rows, the database's reason)``; the other rows are staged.
        """

    def encode_rows(
        self,
        stage: Stage,
        rows: list[tuple[Any, ...]],
        direct: bool,
        same: list[bool] | None = None,
    ) -> Encoded:
        """The rows as the driver takes them, for :meth:`write_stage` (each numbered in source
        order) or, ``direct``, for :meth:`load_direct`. Called from a worker thread, one batch
        after another in source order.

        ``same`` marks rows the target already holds unchanged (:meth:`existing_rows`): each
        is staged as its key alone with ``_ferry_same`` set, so the merge counts it unchanged,
        deduplication and ``delete_missing`` still see its key, and nothing else is written.
        """
        start = stage.encoded
        stage.encoded += len(rows)
        if direct:
            return Encoded(start, rows)
        if same is None or not any(same):
            return Encoded(start, [(*row, start + i) for i, row in enumerate(rows)])
        keys = {stage.columns.index(k) for k in stage.key}
        blank = [i in keys for i in range(len(stage.columns))]
        marked = [
            (*(v if k else None for v, k in zip(row, blank, strict=True)), start + i, True)
            if unchanged
            else (*row, start + i, None)
            for i, (row, unchanged) in enumerate(zip(rows, same, strict=True))
        ]
        return Encoded(start, marked, marked=True)

    async def existing_rows(self, stage: Stage, keys: list[Any]) -> dict[Any, tuple[Any, ...]]:
        """The target's rows for ``keys`` of a single-column key, as ``key -> values of
        stage.compare``, values as this driver returns them (aware timestamps as naive UTC,
        like the adapters make them). Equal values mean an unchanged row; any other
        difference (another type, another spelling) only means the row is staged and
        compared by the merge."""
        stamps = [
            i for i, c in enumerate(stage.compare) if stage.table.columns[c].type == "timestamp"
        ]
        found: dict[Any, tuple[Any, ...]] = {}
        for row in await self._rows_by_key(stage, keys):
            values = tuple(row[1:])
            if stamps:
                listed = list(values)
                for i in stamps:
                    moment = listed[i]
                    if isinstance(moment, datetime) and moment.tzinfo is not None:
                        listed[i] = moment.astimezone(UTC).replace(tzinfo=None)
                values = tuple(listed)
            found[row[0]] = values
        return found

    @abstractmethod
    async def _rows_by_key(self, stage: Stage, keys: list[Any]) -> list[tuple[Any, ...]]:
        """``(key, *compare columns)`` of the target rows with these keys."""

    def change_counter(self) -> int | None:
        """A number every commit to the target moves on, read when the run's transaction
        began (SQLite's file change counter, :mod:`ferry.targets.sqliteheader`); None where
        the target keeps none (then a table's state is read from its rows)."""
        return None

    def change_counter_after_commit(self) -> int | None:
        """:meth:`change_counter` as this run's commit leaves it (the run writes)."""
        return None

    async def is_empty(self, table: TableInfo) -> bool:
        """True when the table holds no row (read inside the run's transaction)."""
        found = await self.scalar(
            f"SELECT 1 FROM {quote(table.name)} LIMIT 1", f"reading table {table.name}"
        )
        return found is None

    async def takes_native(self) -> bool:
        """True when this target takes rows SQLite maps itself (:mod:`ferry.native.load`)."""
        return False

    async def apart_blocker(self) -> str:
        """Why a table this run created cannot be loaded on a connection of its own ("" when
        it can; only asked where ``capabilities.loads_apart``)."""
        return "the target loads every table in its one transaction"

    async def open_apart(self, table: TableInfo, ddl: str, label: str) -> ApartLoad:
        """A connection of its own loading ``table`` (created by this run with ``ddl``) into
        a private table, its name made with ``label`` (unique in the run)
        (``capabilities.loads_apart``; :mod:`ferry.native.apart`)."""
        raise NotImplementedError(f"{self.dialect_name} targets load tables in one transaction")

    async def idle_while_apart(self, idle: bool) -> None:
        """The run's own connection waits (``idle``) while tables load apart, or works again:
        a target that ends idle transactions lets this one wait that long."""
        return None

    async def apart_leftovers(self) -> list[str]:
        """The private schemas of loads apart a killed run left (``check`` lists them)."""
        return []

    async def drop_apart_leftovers(self) -> list[str]:
        """Drop the private schemas of loads apart a killed run left; their names."""
        return []

    async def binary_encoder(
        self, types: list[str]
    ) -> Callable[[list[tuple[Any, ...]]], bytearray] | None:
        """A function making native rows one binary COPY (PostgreSQL); None: not taken."""
        return None

    async def attach(self, source: Path) -> str:
        """Attach SQLite file ``source`` for :class:`NativeInsert` loads; the schema name."""
        raise NotImplementedError(f"{self.dialect_name} targets attach no SQLite file")

    async def copy_whole(self, copy: WholeCopy) -> Copied | None:
        """Copy a table whole from an attached SQLite source (:mod:`.sqlitecopy`), or return
        None having written nothing (and so does a target that does not copy tables)."""
        return None

    @contextlib.asynccontextmanager
    async def references_checked_after(self, table: str) -> AsyncIterator[None]:
        """Load ``table`` (created by this run, empty) inside the block with its foreign keys
        checked once at the end instead of row by row, where that refuses the load exactly
        where they would (:mod:`.sqlitekeys`); raises :class:`DirectLoadRefused` after the
        block when a row lacks its parent. A target without that shortcut changes nothing."""
        yield

    async def cascades_into(self, table: str) -> list[Cascade]:
        """The target's foreign keys into ``table`` that change their rows when one of its
        rows is deleted (:mod:`.cascades`); none on a target without foreign keys."""
        return []

    @contextlib.asynccontextmanager
    async def key_lookups(self) -> AsyncIterator[None]:
        """Run many short statements that each read a few key ranges inside the block (a
        hashed comparison's differing buckets): a target may plan them for that (PostgreSQL:
        no JIT, no parallel scans of the whole table, which its estimate of a range join buys).
        The same rows, the same results; a target without such a setting changes nothing."""
        yield

    @contextlib.asynccontextmanager
    async def foreign_key_checked(
        self, table: str, columns: tuple[str, ...], ref_table: str
    ) -> AsyncIterator[None]:
        """Add the foreign key of ``table`` (created by this run, its rows loaded) on
        ``columns`` to ``ref_table`` inside the block: a target may check the loaded rows
        against it more cheaply there (PostgreSQL: :mod:`.pgforeignkeys`). The same check,
        the same result; a target without such a way changes nothing."""
        yield

    @abstractmethod
    async def load_direct(self, stage: Stage, encoded: Encoded) -> int | None:
        """Write encoded rows straight into the stage's (empty) target table; returns how
        many when the database says (a :class:`NativeInsert`), else None.

        Raises :class:`DirectLoadRefused` when the database refuses any of them; the
        transaction must then be rolled back to before the first direct load.
        """

    @abstractmethod
    def adapt(self, type_name: str, sql_type: str = "") -> Callable[[Any], Any]:
        """A function turning a cast Python value into what this driver stores for a type
        (``sql_type``: the column's own, where the target tells columns of one type apart)."""

    async def index_stage(self, stage: Stage) -> None:
        """Index the stage on its key once loaded (for the joins that follow)."""
        if stage.key:
            cols = ", ".join(quote(k) for k in stage.key)
            await self.execute(
                f"CREATE INDEX {self.stage_index_name(stage)} ON {quote(stage.name)} ({cols})",
                f"indexing the staged rows of {stage.table.name}",
            )

    def stage_ref(self, stage: Stage) -> str:
        """How SQL refers to the stage table."""
        return quote(stage.name)

    def stage_index_name(self, stage: Stage) -> str:
        """The name of the stage's key index (qualified where the dialect needs it)."""
        return quote(stage.name + "_key")

    # -- merging ---------------------------------------------------------------------------
    def merge_table(self, stage: Stage) -> MergeTable:
        """The names the merge SQL of ``stage`` works with."""
        return MergeTable(
            table=stage.table.name,
            stage=self.stage_ref(stage),
            columns=tuple(stage.columns),
            key=tuple(stage.key),
            compare=tuple(stage.table.columns[c] for c in stage.compare),
        )

    @staticmethod
    def _newer_by(stage: Stage, rule: ConflictRule, newer_by: str | None) -> ColumnInfo | None:
        """The column of the ``newer`` rule (looked up only under that rule)."""
        return stage.table.columns[newer_by] if rule == "newer" and newer_by is not None else None

    async def dedupe_stage(self, stage: Stage, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """Drop staged rows whose key comes again later in the source (the last one wins).

        Returns how many were dropped and up to ``limit`` of them, for the report.
        """
        if not stage.key:
            return 0, []
        merge = self.merge_table(stage)
        dropped = await self.fetch_dicts(
            mergesql.duplicates(merge, limit), f"looking for duplicate keys in {stage.table.name}"
        )
        if not dropped:
            return 0, []
        count = await self.execute(
            mergesql.drop_duplicates(merge),
            f"dropping duplicate keys in {stage.table.name}",
        )
        stage.rows -= count
        return count, dropped

    async def fetch_dicts(self, sql: str, what: str) -> list[dict[str, Any]]:
        """All rows of a (small) query as dicts."""
        try:
            result = await self._exec(sql)
        except sa_exc.DBAPIError as exc:
            raise self.wrap(exc, what) from None
        return [dict(row._mapping) for row in result]

    async def classify(self, stage: Stage, rule: ConflictRule, newer_by: str | None) -> MergeCounts:
        """Count rows to insert / update / leave unchanged / keep as conflicts, writing nothing.

        ``update``: changed rows are updated. ``newer``: changed rows are updated when the
        source's ``newer_by`` is newer, else kept (a conflict). ``insert`` and ``error``: every
        changed row is a conflict (kept; ``error`` stops the run).
        """
        merge = self.merge_table(stage)
        if not stage.key:  # appended rows (mode append/replace): every one is an insert
            total = await self.scalar(
                mergesql.count_staged(merge), f"counting staged rows of {stage.table.name}"
            )
            return MergeCounts(inserted=int(total or 0))
        sql = mergesql.classify(
            self.merge_dialect, merge, rule, self._newer_by(stage, rule, newer_by)
        )
        try:
            row = (await self._exec(sql)).one()
        except sa_exc.DBAPIError as exc:
            raise self.wrap(exc, f"comparing staged rows with {stage.table.name}") from None
        total, missing, changed, newer_count = (int(v or 0) for v in row)
        counts = MergeCounts(inserted=missing, unchanged=total - missing - changed)
        if rule == "update":
            counts.updated = changed
        elif rule == "newer":
            counts.updated, counts.conflicts = newer_count, changed - newer_count
        else:
            counts.conflicts = changed
        return counts

    async def conflict_keys(self, stage: Stage, limit: int) -> list[dict[str, Any]]:
        """Keys of staged rows that differ from the target (for a conflict rule ``error``)."""
        return await self.fetch_dicts(
            mergesql.conflict_keys(self.merge_dialect, self.merge_table(stage), limit),
            f"listing conflicting keys of {stage.table.name}",
        )

    async def changed_rows(
        self, stage: Stage, rule: ConflictRule, newer_by: str | None, limit: int
    ) -> list[tuple[dict[str, Any], dict[str, Any], bool]]:
        """Up to ``limit`` staged rows that differ from the target row with the same key, as
        (target row, staged row, applied) where ``applied`` tells the rule updates the row
        (False: a conflict, the target row is kept). Read before the merge."""
        columns = [c for c in stage.columns if c in stage.table.columns]
        rows = await self.fetch_dicts(
            mergesql.changed_rows(
                self.merge_dialect,
                self.merge_table(stage),
                rule,
                self._newer_by(stage, rule, newer_by),
                columns,
                limit,
            ),
            f"listing changed rows of {stage.table.name}",
        )
        return [
            (
                {c: row[f"t{i}"] for i, c in enumerate(columns)},
                {c: row[f"s{i}"] for i, c in enumerate(columns)},
                bool(row["ferry_applied"]),
            )
            for row in rows
        ]

    async def inserted_rows(self, stage: Stage, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` staged rows whose key is not in the target: the rows the merge
        inserts. Read before the merge."""
        columns = [c for c in stage.columns if c in stage.table.columns]
        return await self.fetch_dicts(
            mergesql.inserted_rows(self.merge_table(stage), columns, limit),
            f"listing rows to insert into {stage.table.name}",
        )

    async def loaded_rows(self, stage: Stage, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` rows of a table this run loaded directly (it was empty before)."""
        columns = [c for c in stage.columns if c in stage.table.columns]
        cols = ", ".join(quote(c) for c in columns)
        return await self.fetch_dicts(
            f"SELECT {cols} FROM {quote(stage.table.name)} LIMIT {int(limit)}",
            f"listing rows loaded into {stage.table.name}",
        )

    def _merge_statements(
        self,
        stage: Stage,
        rule: ConflictRule,
        newer_by: str | None,
        seqs: tuple[int, int] | None = None,
    ) -> list[tuple[str, str]]:
        return mergesql.merge_statements(
            self.merge_dialect,
            self.merge_table(stage),
            rule,
            self._newer_by(stage, rule, newer_by),
            seqs,
        )

    async def merge(
        self, stage: Stage, rule: ConflictRule, newer_by: str | None, delete_missing: bool = False
    ) -> MergeCounts:
        """Apply the staged rows to the target; returns the counts and rejected rows."""
        counts = await self.classify(stage, rule, newer_by)
        statements = self._merge_statements(stage, rule, newer_by)
        try:
            async with self.conn.begin_nested():
                for kind, sql in statements:
                    result = await self._exec(sql)
                    setattr(counts, kind, max(result.rowcount, 0))
        except (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.InternalError):
            # Some rows break a constraint: apply row by row and reject the ones that fail.
            counts.inserted = counts.updated = 0
            await self._merge_row_by_row(stage, rule, newer_by, counts)
        except sa_exc.DBAPIError as exc:
            raise self.wrap(exc, f"merging rows into {stage.table.name}") from None
        if delete_missing:
            counts.deleted = await self.delete_missing(stage)
        return counts

    async def delete_missing(self, stage: Stage) -> int:
        """Delete the target rows whose key ``stage`` lacks; the rows missing before, as a
        cascade within the table (a self-reference) leaves the statement's own count short."""
        merge = self.merge_table(stage)
        what = f"deleting rows missing from the source in {stage.table.name}"
        missing = await self.scalar(mergesql.count_missing(merge), what)
        await self.execute(mergesql.delete_missing(self.merge_dialect, merge), what)
        return int(missing or 0)

    async def _merge_row_by_row(
        self, stage: Stage, rule: ConflictRule, newer_by: str | None, counts: MergeCounts
    ) -> None:
        """Some staged rows break a constraint: apply the stage range by range, halving a range
        that fails, so the good rows still load in a few set-based statements and every bad row
        ends up alone and is rejected with the database's reason (k bad rows among n cost
        about 2k·log2(n) statements, not n)."""
        merge = self.merge_table(stage)
        bounds = await self.fetch_dicts(
            mergesql.stage_bounds(merge),
            f"reading staged rows of {stage.table.name}",
        )
        pending = [] if bounds[0]["lo"] is None else [(int(bounds[0]["lo"]), int(bounds[0]["hi"]))]
        while pending:
            lo, hi = pending.pop()
            applied: dict[str, int] = {}
            try:
                async with self.conn.begin_nested():
                    for kind, sql in self._merge_statements(stage, rule, newer_by, seqs=(lo, hi)):
                        result = await self._exec(sql)
                        applied[kind] = max(result.rowcount, 0)
            except (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.InternalError) as exc:
                if lo < hi:
                    middle = (lo + hi) // 2
                    pending += [(middle + 1, hi), (lo, middle)]  # the lower half goes first
                    continue
                rows = await self.fetch_dicts(
                    mergesql.staged_row(merge, lo),
                    f"reading a rejected row of {stage.table.name}",
                )
                counts.rejected.append((rows[0] if rows else {}, first_line(exc.orig)))
                continue
            for kind, done in applied.items():
                setattr(counts, kind, getattr(counts, kind) + done)
        # Rejected rows were neither inserted nor updated nor unchanged.
        counts.unchanged = max(
            stage.rows - counts.inserted - counts.updated - counts.conflicts - len(counts.rejected),
            0,
        )

    # -- errors ------------------------------------------------------------------------------
    @abstractmethod
    def wrap(self, exc: BaseException, what: str) -> TargetError:
        """A TargetError for a driver error that happened while doing ``what``."""


def first_line(exc: BaseException | None) -> str:
    """The first line of a driver message (PostgreSQL adds DETAIL/CONTEXT lines)."""
    text = str(exc or "").strip()
    return text.splitlines()[0] if text else type(exc).__name__


def elapsed(start: float) -> float:
    """Seconds since ``start`` (a ``time.perf_counter()`` value)."""
    return time.perf_counter() - start
