"""The embedded default target: one SQLite file, written through aiosqlite in one transaction.

pysqlite's implicit transaction handling does not cover DDL, so the connection runs in
autocommit mode and Ferry issues ``BEGIN IMMEDIATE`` itself (SQLAlchemy's documented recipe):
every CREATE, INSERT and UPDATE of a run then commits or rolls back together, and another
writer is told at once that the file is busy instead of failing half-way.

Long because it is one class implementing the whole :class:`~ferry.targets.base.Target`
contract for SQLite (open and its locks, staging, direct and native loads, adapters); the
catalog questions are in :mod:`ferry.targets.sqlitecatalog`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ..capabilities import TargetCapabilities
from ..errors import TargetError
from ..events import RunWarning
from ..load.changesql import SQLITE_FUNCTION, row_fingerprint
from ..load.mergesql import MergeDialect
from ..plan import TargetSpec
from ..safety.halfmade import clear_half_made, mark_new, unmark
from ..safety.tempspace import full_disk_error
from ..shape.identifiers import quote
from ..shape.schema import ColumnInfo, TableInfo, create_table_ddl
from ..sources.appcollations import register_app_collations
from ..sources.readonly import read_only_uri
from ..values.drivervalues import SQLITE_ADAPTERS, sqlite_timestamp
from ..values.logical import identity, parse_timestamp
from ..values.rowprint import row_print
from ..values.sqlitenumbers import SqliteDecimals, numeric_affinity
from ..values.textbytes import decode_text
from . import sqlitecatalog
from .asyncengine import create_async_engine
from .base import (
    NATIVE_SCHEMA,
    DirectLoadRefused,
    Encoded,
    NativeInsert,
    Privilege,
    Stage,
    Target,
    first_line,
)
from .cascades import Cascade, sqlite_cascades
from .sqlitecopy import Copied, WholeCopy, copy_whole
from .sqliteheader import FileCounter
from .sqlitekeys import MISSING_PARENT, MissingParent, keys_checked_after
from .writeback import WriteBack

BUSY_TIMEOUT_SECONDS = 5.0
#: keys looked up per query (SQLite allows 32766 parameters)
_KEYS_PER_QUERY = 10_000
_ROWS_PER_INSERT = 500


def sqlite_path(spec: TargetSpec, base_dir: Path) -> Path:
    """The target file a ``sqlite:///`` URL names, relative to the plan's folder."""
    database = make_url(spec.url).database or ""
    if not database or database == ":memory:":
        raise TargetError(
            f"target URL {spec.url!r} names no file",
            hint="Use sqlite:///app.db (relative to the plan) or sqlite:////abs/path/app.db.",
        )
    path = Path(database).expanduser()
    return path if path.is_absolute() else base_dir / path


@functools.cache
def _max_parameters() -> int:
    """The most ``?`` one statement may hold in this SQLite build (999 before 3.32)."""
    with contextlib.closing(sqlite3.connect(":memory:")) as probe:
        return probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


def _rows_per_insert(width: int) -> int:
    """Rows one INSERT statement takes: 500, or fewer where that many parameters are more than
    the build allows."""
    return max(1, min(_ROWS_PER_INSERT, _max_parameters() // max(width, 1)))


async def _insert_rows(driver: Any, head: str, width: int, rows: Sequence[tuple[Any, ...]]) -> None:
    """``head VALUES (…), (…), …``: many rows a statement. executemany of one row a statement
    steps SQLite once per row and takes Python's GIL back after each step, which, while the
    mapping thread holds it, waits for a forced switch (and moves the work between cores).
    200k rows alone: 0.87 s one a statement, 0.32 s 500 a statement; the benchmark's
    `medium` JSON load: 4.5–4.8 s at 200 rows a statement, 3.9–4.1 s at 500."""
    per = _rows_per_insert(width)
    one = f"({', '.join('?' * width)})"
    cut = len(rows) - len(rows) % per
    if cut:
        full = [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, cut, per)]
        await driver.executemany(f"{head} VALUES {', '.join([one] * per)}", full)
    # The rest in blocks of a power of two rows (256, 128, ..., 1): a statement of every length
    # would each stay in the connection's statement cache (128 of them; JSON worker chunks
    # end in rests of every length, 20 MiB of SQLite's memory by a full run), these few once.
    block = 1 << (per.bit_length() - 1)
    while cut < len(rows):
        while block > len(rows) - cut:
            block //= 2
        part = tuple(chain.from_iterable(rows[cut : cut + block]))
        await driver.execute(f"{head} VALUES {', '.join([one] * block)}", part)
        cut += block


class SqliteTarget(Target):
    """A SQLite file; created when missing, and removed again if the run does not commit."""

    dialect_name = "sqlite"
    capabilities = TargetCapabilities(
        attaches_sqlite=True,
        defers_cyclic_references=True,
        stores_value_text=True,
        sqlite_collations=True,
        created_by_opening=True,
        case_blind_names=True,
        sqlite_virtual_tables=True,
        sqlite_header=True,
        sqlite_triggers=True,
        nulls_sort_first=True,
    )
    #: ``IS NOT``; timestamps compared as points in time (an app's ``2024-05-01T10:00:00Z`` is
    #: the same as Ferry's ``2024-05-01 10:00:00.000000``) and ordered by ``julianday``; JSON
    #: compared after ``json()`` minifies it
    merge_dialect = MergeDialect(
        distinct="IS NOT",
        delete_alias=False,
        moment="ferry_timestamp",
        ordinal="julianday",
        json_form="(CASE WHEN json_valid({x}) THEN json({x}) ELSE {x} END)",
    )

    def __init__(self, spec: TargetSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self.path = sqlite_path(spec, base_dir)
        self._created_file = False
        #: the file's change counter, read under the run's lock (:mod:`.sqliteheader`)
        self._counter = FileCounter()
        #: SQLite sources attached for native loads (:class:`NativeInsert`): schema names
        self._attached: dict[Path, str] = {}
        #: the file's pages a whole copy wrote, synced while the run goes on (:mod:`.writeback`)
        self._writeback = WriteBack(self.path)

    def describe(self) -> str:
        """The target file's path."""
        return str(self.path)

    def database_file(self) -> Path:
        """The target file."""
        return self.path

    async def server_version(self) -> str:
        """``SQLite 3.45.1``."""
        return await sqlitecatalog.server_version(self)

    async def privileges(self, existing: list[str]) -> list[Privilege]:
        """The file (or its folder, before it exists) must be writable."""
        return sqlitecatalog.privileges(self.path)

    async def relation_exists(self, name: str) -> bool:
        """A table or view of that name, whatever its (ASCII) case."""
        return await sqlitecatalog.relation_exists(self, name)

    async def names_taken(self) -> list[tuple[str, str]]:
        """Everything ``sqlite_master`` lists."""
        return await sqlitecatalog.names_taken(self)

    async def defer_references(self) -> None:
        """``PRAGMA defer_foreign_keys``: checked at commit (the run checks them itself
        before, see :mod:`ferry.migrate`)."""
        await self.execute("PRAGMA defer_foreign_keys = ON", "deferring foreign keys")

    async def cascades_into(self, table: str) -> list[Cascade]:
        """The foreign keys into ``table`` with an action on delete (:mod:`.cascades`)."""
        return await sqlite_cascades(self, table)

    async def reference_violations(self, table: str) -> int:
        """``PRAGMA foreign_key_check`` of ``table``."""
        return await sqlitecatalog.reference_violations(self, table)

    async def open(self, read_only: bool = False) -> None:
        """Connect, switch foreign keys on and take the write lock (``BEGIN IMMEDIATE``); a
        read-only open takes no lock (a deferred ``BEGIN``) and sets ``query_only``, so the
        app keeps writing while Ferry reads."""
        if not self.path.parent.is_dir():
            raise TargetError(
                f"the folder of the target {self.path} does not exist",
                hint="Create the folder or point [target] url at an existing one.",
            )
        # A new file a killed run had begun (empty once its journal is rolled back) goes,
        # with a note; a file this run creates is recorded first, so the next start knows.
        note = clear_half_made(self.path)
        if note is not None:
            self.emit(RunWarning(note))
        self._created_file = not self.path.exists()
        if self._created_file:
            with contextlib.suppress(OSError):  # (an unwritable folder fails just below)
                mark_new(self.path)
                self._make_private()
        engine = create_async_engine(
            f"sqlite+aiosqlite:///{self.path}",
            poolclass=NullPool,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS},
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()
            dbapi_connection.create_function(
                "ferry_timestamp", 1, _comparable_timestamp, deterministic=True
            )
            # the row fingerprints of `ferry undo`'s changesets (ferry.load.changesql)
            dbapi_connection.create_function(
                SQLITE_FUNCTION, -1, row_fingerprint, deterministic=True
            )
            # a table's state for delta runs: its rows' prints summed (ferry.load.rowprints)
            dbapi_connection.create_function("ferry_row_print", -1, row_print, deterministic=True)

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            if read_only:
                connection.exec_driver_sql("PRAGMA query_only = ON")
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        self.engine = engine
        try:
            self._conn = await engine.connect()
            # Text that is not UTF-8 (an app's, or copied by an older Ferry) is read as its
            # bytes instead of stopping every verify and re-run (:mod:`ferry.values.textbytes`).
            (await self._driver()).text_factory = decode_text
            await self._conn.begin()
            # Reading the schema proves the file is a database (a text file fails here).
            await self._conn.exec_driver_sql("SELECT count(*) FROM sqlite_master")
            self._counter.read(self.path)
        except Exception as exc:
            await self._discard()
            raise self.wrap(exc, "opening the target") from None

    def _make_private(self) -> None:
        """The new file as readable by its owner only, when a source file is (SQLite gives
        its journal and WAL files the database file's mode)."""
        if self.private_source is None:
            return
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self.emit(
            RunWarning(
                f"{self.path.name} is created readable by its owner only (mode 0600), as the "
                f"source file {self.private_source} is: it holds that file's rows"
            )
        )

    async def _discard(self) -> None:
        await asyncio.to_thread(self._writeback.wait)
        with contextlib.suppress(Exception):
            if self._conn is not None:
                await self._conn.close()
        self._conn = None
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None
        self._counter.close()
        self._remove_if_created()

    def _remove_if_created(self) -> None:
        if self._created_file:
            for suffix in ("", "-journal", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(str(self.path) + suffix).unlink()
            unmark(self.path)

    async def finish(self, commit: bool) -> None:
        """Commit or roll back; a file this run created is removed when nothing committed.
        (A commit that fails keeps the new file's marker: the next start judges the file.)"""
        refused: TargetError | None = None
        try:
            try:
                await asyncio.to_thread(self._writeback.wait)
                if commit and self._conn is not None:
                    try:
                        await self._conn.commit()
                    except sa_exc.DBAPIError as exc:
                        refused, commit = await self._refused_commit(exc), False
                await super().finish(commit)
            finally:
                self._counter.close()  # the connection is closed: its locks are gone
            if refused is not None:
                raise refused
            if commit and self._created_file:
                unmark(self.path)
                if self.wal_after_commit:
                    await asyncio.to_thread(self._to_wal)
        finally:
            if not commit:
                self._remove_if_created()

    async def _refused_commit(self, exc: sa_exc.DBAPIError) -> TargetError:
        """The error of a refused commit. One refused by a deferred foreign key (Django declares
        every one ``DEFERRABLE INITIALLY DEFERRED``: a reverse plan's rows whose parent row was
        rejected) names the rows, read while SQLite keeps the transaction open, rather than a
        bare "FOREIGN KEY constraint failed"."""
        if "foreign key" not in first_line(getattr(exc, "orig", None) or exc).lower():
            return self.wrap(exc, "finishing the transaction")
        try:
            raw: Any = (await self.conn.get_raw_connection()).driver_connection
            cursor = await raw.execute(
                'SELECT "table", rowid, parent FROM pragma_foreign_key_check LIMIT 5'
            )
            rows = list(await cursor.fetchall())
        except (sqlite3.Error, AttributeError):
            rows = []
        if not rows:
            return self.wrap(exc, "finishing the transaction")
        shown = ", ".join(f"{table} rowid {rowid} -> {parent}" for table, rowid, parent in rows)
        return TargetError(
            f"target {self.path}: the commit was refused: rows reference rows missing from "
            f"their parent table (first: {shown})",
            hint="A parent row may have been rejected by this run (the preview lists rejected "
            "rows with their keys and why), or the file held such rows already. Nothing was "
            "written to the target.",
        )

    def _to_wal(self) -> None:
        """Put the committed new file in WAL mode (a failure is a warning: the rows are in)."""
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
            try:
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            finally:
                db.close()
        except sqlite3.Error as exc:
            mode = str(exc)
        if str(mode).lower() != "wal":
            self.emit(
                RunWarning(
                    f"{self.path}: not put in WAL mode as the source files are ({mode}); run "
                    "PRAGMA journal_mode=WAL on it once if the app relies on it"
                )
            )

    def change_counter(self) -> int | None:
        """The file's change counter when the run's transaction began (None in WAL mode)."""
        return self._counter.at_open

    def change_counter_after_commit(self) -> int | None:
        """The change counter this run's commit leaves, if it writes."""
        return self._counter.after_commit()

    async def create_table(self, table: TableInfo) -> str:
        """Create an inferred table in the target file."""
        assert self.engine is not None
        ddl = create_table_ddl(table, self.engine.dialect, self.capabilities)
        await self.execute(ddl, f"creating table {table.name}")
        return ddl

    def stage_ref(self, stage: Stage) -> str:
        """Stages live in SQLite's temp database, never in the target file."""
        return f"temp.{quote(stage.name)}"

    def stage_index_name(self, stage: Stage) -> str:
        """Indexes of temp tables are named in the temp schema."""
        return f"temp.{quote(stage.name + '_key')}"

    async def create_stage(
        self, table: TableInfo, columns: list[str], key: list[str], compare: list[str]
    ) -> Stage:
        """A temp table with the target columns' declared types (same affinities)."""
        stage = Stage(table, self._stage_name(), columns, key, compare)
        defs = ", ".join(f"{quote(c)} {table.columns[c].sql_type or ''}".rstrip() for c in columns)
        await self.execute(
            f"CREATE TEMP TABLE {quote(stage.name)} ({defs}{', ' if defs else ''}"
            f"_ferry_seq INTEGER, _ferry_same INTEGER)",
            f"creating a staging table for {table.name}",
        )
        return stage

    async def add_stage_column(self, stage: Stage, column: ColumnInfo) -> None:
        """Add a column to a stage (its table gained one during the run)."""
        await self.execute(
            f"ALTER TABLE {self.stage_ref(stage)} ADD COLUMN {quote(column.name)}",
            f"widening the staging table of {stage.table.name}",
        )
        stage.columns.append(column.name)
        stage.compare.append(column.name)

    async def write_stage(
        self, stage: Stage, rows: list[tuple[Any, ...]], encoded: Encoded | None = None
    ) -> list[tuple[int, str]]:
        """Rows into the temp table; each row gets its source order number.

        SQLite stores any value in any column, so the stage never refuses a row.
        """
        if not rows:
            return []
        if encoded is None:
            stage.encoded = stage.seq
            encoded = self.encode_rows(stage, rows, direct=False)
        extra = ["_ferry_seq", "_ferry_same"] if encoded.marked else ["_ferry_seq"]
        names = ", ".join([*map(quote, stage.columns), *extra])
        driver = await self._driver()
        try:
            await _insert_rows(driver, f"INSERT INTO {self.stage_ref(stage)} ({names})",
                               len(stage.columns) + len(extra), encoded.data)  # fmt: skip
        except Exception as exc:
            raise self.wrap(exc, f"staging rows for {stage.table.name}") from None
        stage.rows += len(rows)
        stage.seq += len(rows)
        return []

    async def load_direct(self, stage: Stage, encoded: Encoded) -> int | None:
        """Rows straight into the (empty) target table, or a :class:`NativeInsert`."""
        if isinstance(encoded.data, NativeInsert):
            return await self._native_insert(stage, encoded.data)
        if not encoded.data:
            return None
        names = ", ".join(map(quote, stage.columns))
        driver = await self._driver()
        try:
            await _insert_rows(driver, f"INSERT INTO {quote(stage.table.name)} ({names})",
                               len(stage.columns), encoded.data)  # fmt: skip
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.IntegrityError | sqlite3.DataError):
                raise DirectLoadRefused(stage.table.name, first_line(exc)) from None
            raise self.wrap(exc, f"loading rows into {stage.table.name}") from None
        return None

    async def takes_native(self) -> bool:
        """SQLite copies native loads from the attached source itself."""
        return True

    async def _native_insert(self, stage: Stage, insert: NativeInsert) -> int:
        """Run ``insert``, which reads a source :meth:`attach` attached."""
        driver = await self._driver()
        try:
            async with driver.execute(insert.sql, insert.params) as cursor:
                return int(cursor.rowcount)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.IntegrityError | sqlite3.DataError):
                raise DirectLoadRefused(stage.table.name, first_line(exc)) from None
            raise self.wrap(exc, f"loading rows into {stage.table.name}") from None

    async def copy_whole(self, copy: WholeCopy) -> Copied | None:
        """SQLite's record-for-record copy of an attached source table (:mod:`.sqlitecopy`)."""
        driver = await self._driver()
        try:
            # aiosqlite keeps its sqlite3 connection private; foreign keys are switched on it
            copied = await copy_whole(driver, driver._conn, copy)
        except sqlite3.DatabaseError as exc:
            raise self.wrap(exc, f"copying {copy.table} whole") from None
        if copied is not None:
            self._writeback.start()
        return copied

    @contextlib.asynccontextmanager
    async def references_checked_after(self, table: str) -> AsyncIterator[None]:
        """Foreign keys checked once after ``table``'s load (:mod:`.sqlitekeys`)."""
        driver = await self._driver()
        try:
            async with keys_checked_after(driver, driver._conn, table):
                yield
        except MissingParent:
            raise DirectLoadRefused(table, MISSING_PARENT) from None

    async def attach(self, source: Path) -> str:
        """Attach SQLite file ``source`` read-only (once per run) and return its schema name.
        It stays attached until the connection closes: SQLite refuses to detach a file read
        inside the open transaction."""
        if source in self._attached:
            return self._attached[source]
        name = f"{NATIVE_SCHEMA}{len(self._attached)}"
        uri = read_only_uri(source)
        driver = await self._driver()
        try:
            await driver.execute(f"ATTACH DATABASE ? AS {name}", (uri,))
            # (aiosqlite's own thread: the connection is bound to it)
            await driver._execute(register_app_collations, driver._conn, name)
            async with driver.execute("PRAGMA database_list") as cursor:
                files = {row[1]: row[2] for row in await cursor.fetchall()}
        except sqlite3.Error as exc:
            raise self.wrap(exc, f"attaching the source {source}") from None
        if Path(files.get(name) or "") != source.resolve():
            # This SQLite reads no URI in ATTACH: it opened (made) a file of that name.
            with contextlib.suppress(sqlite3.Error):
                await driver.execute(f"DETACH DATABASE {name}")
            raise TargetError(
                f"this SQLite library cannot attach {source} read-only",
                hint="Set native = false under [options] in the plan to load it through Python.",
            )
        self._attached[source] = name
        return name

    async def _rows_by_key(self, stage: Stage, keys: list[Any]) -> list[tuple[Any, ...]]:
        """One query with the keys as parameters (well under SQLite's limit of 32766)."""
        (key,) = stage.key
        cols = ", ".join(quote(c) for c in [key, *stage.compare])
        driver = await self._driver()
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            part = keys[start : start + _KEYS_PER_QUERY]
            marks = ", ".join("?" for _ in part)
            sql = f"SELECT {cols} FROM {quote(stage.table.name)} WHERE {quote(key)} IN ({marks})"
            try:
                async with driver.execute(sql, part) as cursor:
                    rows.extend(await cursor.fetchall())
            except Exception as exc:
                raise self.wrap(exc, f"reading rows of {stage.table.name}") from None
        return rows

    async def _driver(self) -> Any:
        raw = await self.conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        return driver

    def adapt(self, type_name: str, sql_type: str = "") -> Callable[[Any], Any]:
        """SQLite stores timestamps as text, booleans as 0/1 and JSON as text; decimals as
        their text, counting those a column of numeric affinity stores rounded."""
        if type_name == "decimal" and numeric_affinity(sql_type):
            return SqliteDecimals(sql_type)
        return SQLITE_ADAPTERS.get(type_name, identity)

    def wrap(self, exc: BaseException, what: str) -> TargetError:
        """A clear message for the SQLite errors people meet."""
        orig = getattr(exc, "orig", None) or exc
        message = first_line(orig)
        lowered = message.lower()
        where = f"target {self.path}"
        if "locked" in lowered or "busy" in lowered:
            return TargetError(
                f"{where} is locked by another program ({what})",
                hint="Stop the application that writes to it, or retry when it is idle.",
            )
        if "not a database" in lowered or "malformed" in lowered:
            return TargetError(
                f"{where} is not a usable SQLite database ({message})",
                hint="Point [target] url at a SQLite file, or at a new file name.",
            )
        if "disk is full" in lowered:  # (SQLITE_FULL: the target's disk or the temp folder)
            return full_disk_error(self.path, what)
        if "disk i/o" in lowered:
            return TargetError(
                f"{where}: the disk is full or failing ({what}); nothing was written",
                hint="Free some space and run again.",
            )
        if "readonly" in lowered or "unable to open" in lowered:
            return TargetError(
                f"{where} cannot be written ({message})",
                hint="Check the file's and folder's permissions.",
            )
        return TargetError(f"{where}: {what} failed: {message}")


def _comparable_timestamp(value: Any) -> Any:
    """SQL function ``ferry_timestamp``: timestamp text in Ferry's own format (UTC), so two
    spellings of one moment compare equal; anything unreadable is returned as it is."""
    if not isinstance(value, str):
        return value
    try:
        return sqlite_timestamp(parse_timestamp(value))
    except Exception:  # an exception must never reach SQLite from a SQL function
        return value
