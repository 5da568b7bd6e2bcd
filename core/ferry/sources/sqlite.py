"""Reading a SQLite database file: every table (or the plan's list), in one read transaction.

The file is opened read-only. All tables are read inside a single transaction, so an
application still writing to the file cannot produce a torn copy: in WAL mode the reader sees
one snapshot, in rollback-journal mode its shared lock keeps writers out until the read ends.
Values come as SQLite stores them (a date held as text stays text); column types come from the
declared types, following SQLite's affinity rules.

Long because one reader holds the whole SQLite side: the snapshot and its locks, describing
tables and their shapes, batched and rowid-chunked reads, SQL answers and error translation,
all around one connection that a split would have to share.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from array import array
from collections.abc import Generator, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from struct import error as struct_error
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from ..capabilities import SourceCapabilities
from ..errors import SourceError
from ..load.batching import SIZING_ROWS, rows_per_batch
from ..shape.identifiers import quote
from ..shape.schema import is_ferry_table
from ..shape.source import reflect_shapes
from ..shape.sqlitenames import sqlite_collations, sqlite_logical_type
from ..shape.textorder import BYTE_ORDER
from ..values.logical import LogicalType
from ..values.rowprint import row_print
from ..values.textbytes import BadText, Census, decode_text, is_decode_error, tolerate
from . import heldfiles
from .base import Batch, ParentLink, SourceReader, SourceTable, order_parents_first
from .readonly import connect_uri, open_read_only, read_only_uri
from .sqlitepages import (
    Leaf,
    PageFile,
    PageMap,
    PagesUnreadable,
    PartSink,
    SideDelta,
    SideScan,
    Sink,
    rowid_blocker,
    scan_table,
    side_scan,
    table_root,
)
from .sqlitevirtual import not_data

if TYPE_CHECKING:
    from ..plan import SourceSpec


_UTF8_ERROR = re.compile(r"Could not decode to UTF-8 column '(.*?)' with text")


#: How long a connection Ferry opens beside its reader's waits for the file's lock: not at
#: all. The reader holds its read lock (rollback-journal mode) until the read ends, so an app
#: waiting to commit waits on it; a new reader would wait on the app, and both would wait
#: until the app's own write timed out ("database is locked" in the app). Such a connection
#: gives up at once instead, and the run does that work on its reader.
SIDE_TIMEOUT = 0.0
#: the fewest bytes a row of a rowid table takes in the file: a leaf cell is at least 4
#: (SQLite's file format) and has a 2-byte pointer besides; 4 keeps the bound safe
MIN_ROW_BYTES = 4


class SqliteSource(SourceReader):
    """Reads the tables of a SQLite file (``kind = "sqlite"``, ``path`` = the file).

    Source tables are named ``<source>.<table>``; internal tables (``sqlite_*``) and Ferry's
    own ``ferry_runs`` are left out. ``spec.tables`` limits the read to the tables it names.
    """

    capabilities = SourceCapabilities(
        sqlite_file=True,
        skips_tables=True,
        rowid_chunks=True,
        samples_columns=True,
        answers_sql=True,
    )

    #: seconds to wait for a writer's lock before reporting the database as locked
    busy_timeout: float = 5.0

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        path = Path(spec.path or "").expanduser()
        self.path = path if path.is_absolute() else base_dir / path
        self._conn: sqlite3.Connection | None = None
        #: held while a statement runs on the connection: close() waits for it, since closing
        #: a connection another thread is stepping crashes the process (a worker thread of a
        #: cancelled read may still be in a query when the run closes its readers)
        self._busy = threading.RLock()
        #: source tables another reader already loads (:mod:`ferry.native.load`): not read
        self.skip_tables: set[str] = set()
        #: the file's pages, read under the connection's lock (:meth:`scan_pages`); closed
        #: only after the connection: closing a descriptor of the file drops SQLite's locks
        self._pages: PageFile | None = None
        #: the side processes reading the pages in this reader's snapshot: ended before
        #: its lock (:meth:`close`)
        self._sides: list[SideDelta] = []
        #: the file noted as read here (:mod:`ferry.sources.heldfiles`): descriptors of it are
        #: kept open while the connection is
        self._held: tuple[int, int] | None = None
        #: text values that are not UTF-8 met while reading: table -> column -> census

    # ------------------------------------------------------------------ public interface

    def describe(self) -> list[SourceTable]:
        """Tables with declared column types, primary key, first foreign key and row count."""
        conn = self._connect()
        own_transaction = not conn.in_transaction  # batches() may have one open already
        with self._errors():
            if own_transaction:
                conn.execute("BEGIN")
            try:
                tables = self._tables(conn)
                for table in tables:
                    with self._errors(table.origin):
                        table.row_estimate = self._row_count(conn, table.origin)
                self._add_shapes(tables)
            finally:
                if own_transaction and conn.in_transaction:
                    conn.execute("ROLLBACK")
        return tables

    def _add_shapes(self, tables: list[SourceTable]) -> None:
        """Each table's defaults, constraints and indexes, read on a connection of its own:
        SQLAlchemy ends the transactions it finds, and this one holds the read snapshot."""

        def connect() -> sqlite3.Connection:
            return open_read_only(self.path, timeout=self.busy_timeout)

        engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
        try:
            with self._errors(), engine.connect() as sa_conn:
                shapes = reflect_shapes(sa_conn, [t.origin for t in tables])
        except DBAPIError as exc:
            raise self._translate(exc.orig, None) from None  # type: ignore[arg-type]
        finally:
            engine.dispose()
        for table in tables:
            table.shape = shapes.get(table.origin)

    def _row_count(self, conn: sqlite3.Connection, table: str) -> int:
        """The table's rows; with :attr:`quick_counts` the span of its rowids (no table
        scan: counting a 1 GB table reads all of it, 0.3 s), which no count exceeds. A span
        the file could not hold is counted: rowids chosen by the app (Anki's are times in
        ms: ids 1 and 1796657849799 span 1.8e12 for 2 rows) made progress totals absurd."""
        if self.quick_counts:
            try:
                # Two subqueries: SQLite looks up a lone min() or max() in the b-tree, but
                # scans the whole table for both in one query.
                t = quote(table)
                row = conn.execute(
                    f"SELECT (SELECT max(rowid) FROM {t}) - (SELECT min(rowid) FROM {t}) + 1"
                ).fetchone()
            except sqlite3.OperationalError:  # WITHOUT ROWID: counted
                pass
            else:
                span = int(row[0] or 0)
                if span <= self._most_rows(conn):
                    return span
        row = conn.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()
        return int(row[0])

    @staticmethod
    def _most_rows(conn: sqlite3.Connection) -> int:
        """The most rows one table of this database (its snapshot) can hold: a row takes
        at least MIN_ROW_BYTES of a page (its cell and the cell's pointer)."""
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(page_size) // MIN_ROW_BYTES

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """Every row of every table, read inside one read transaction, ``batch_size`` at most
        per batch."""
        conn = self.begin()
        try:
            with self._errors():
                tables = self.in_read_order(self._tables(conn))
            for table in tables:
                if table.name not in self.skip_tables:
                    yield from self._read_table(conn, table, batch_size)
        finally:
            # close() may have closed the connection under a half-read generator already, or
            # be closing it now from the run's thread: under the lock, as every statement.
            with self._busy, suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")

    def begin(self) -> sqlite3.Connection:
        """Open the read transaction every read of this run shares (one snapshot), unless it
        is open already; :meth:`batches` ends it."""
        conn = self._connect()
        if not conn.in_transaction:
            with self._errors():
                conn.execute("BEGIN")
                # Take the read lock (the WAL snapshot) now, before any table is read.
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn

    def query_one(self, sql: str, params: tuple[Any, ...], table: str) -> tuple[Any, ...]:
        """One row of ``sql`` (read inside :meth:`begin`'s transaction)."""
        rows = self._fetch_all(sql, params, table)
        return rows[0] if rows else ()

    def query_all(self, sql: str, params: tuple[Any, ...], table: str) -> list[tuple[Any, ...]]:
        """Every row of ``sql`` (read inside :meth:`begin`'s transaction)."""
        return self._fetch_all(sql, params, table)

    def _fetch_all(self, sql: str, params: tuple[Any, ...], table: str) -> list[tuple[Any, ...]]:
        """Every row of ``sql``; text that is not UTF-8 comes as :class:`BadText`."""
        with self._busy:
            conn = self.begin()
            try:
                rows: list[tuple[Any, ...]] = conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                if not (is_decode_error(exc) and tolerate(conn)):
                    raise self._translate(exc, table) from exc
                with self._errors(table):
                    rows = conn.execute(sql, params).fetchall()
        return rows

    def iter_query(
        self, sql: str, params: tuple[Any, ...], table: str, size: int
    ) -> Generator[list[tuple[Any, ...]], None, None]:
        """The rows of ``sql``, ``size`` at a time (read inside :meth:`begin`'s transaction;
        for results too large to hold at once)."""
        with self._busy:
            conn = self.begin()
            with self._errors(table):
                cursor = conn.execute(sql, params)
        while True:
            with self._busy, self._errors(table):
                rows: list[tuple[Any, ...]] = cursor.fetchmany(size)
            if not rows:
                return
            yield rows

    def side_prints(self, sql: str, table: str) -> Iterator[list[tuple[int, int]]]:
        """The (key, print) rows of ``sql`` (``ferry_row_print``), read by a process of its
        own on a connection of its own, while this reader's connection serves a load: in a
        thread its Python calls waited for the load's and the load's for them. It sees the
        file as it is when it starts: the caller judges by the run's source watch whether
        that is the main read's snapshot. A frozen app (no interpreter to start) reads on a
        connection of its own in this process."""
        uri = read_only_uri(self.path)
        if getattr(sys, "frozen", False):
            conn = connect_uri(uri, timeout=SIDE_TIMEOUT)
            try:
                conn.create_function("ferry_row_print", -1, row_print, deterministic=True)
                with self._errors(table):
                    cursor = conn.execute(sql)
                    while rows := cursor.fetchmany(10_000):
                        yield rows
            finally:
                conn.close()
            return
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        with subprocess.Popen(
            [sys.executable, "-m", "ferry.values.rowprint", uri],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        ) as child:
            assert child.stdin is not None and child.stdout is not None
            try:
                child.stdin.write(sql.encode())
                child.stdin.close()
            except BrokenPipeError:
                pass  # it ended at once: its exit status and error say why, below
            while data := child.stdout.read(16 * 10_000):
                pairs = array("q", data)  # whole pairs: a pipe read of 16 * n bytes
                if sys.byteorder == "big":
                    pairs.byteswap()
                yield list(zip(pairs[0::2], pairs[1::2], strict=True))
            error = child.stderr.read().decode(errors="replace") if child.stderr else ""
            if child.wait() != 0:
                last = error.strip().splitlines()[-1] if error.strip() else child.returncode
                raise SourceError(
                    f"printing the rows of {table} in {self.path} failed: {last}",
                    hint="Run again; nothing was written.",
                )

    def page_blocker(self, table: str, key: str) -> str:
        """Why the rows of ``table`` keyed by ``key`` cannot be printed from the file's
        pages (:mod:`ferry.sources.sqlitepages`); "" when they can."""
        with self._busy:
            conn = self.begin()
            with self._errors(table):
                try:
                    if self._page_file().header().wal:
                        return "the file is in WAL mode (its pages may sit in the -wal file)"
                except (OSError, ValueError, PagesUnreadable) as exc:
                    return f"its pages cannot be read ({exc})"
                return rowid_blocker(conn, table, key)

    def scan_pages(
        self, table: str, kept: PageMap | None, parts: PartSink | None = None
    ) -> tuple[list[Leaf], PageMap]:
        """The leaves of ``table`` against the ``kept`` page map, read in this reader's
        snapshot (its read transaction holds the lock); :class:`PagesUnreadable` when the
        pages cannot be read so. ``parts``: with no kept map, where the rows go
        (:func:`ferry.sources.sqlitepages.scan_table`)."""
        with self._busy:
            conn = self.begin()
            with self._errors(table):
                root, seed = table_root(conn, table)
            try:
                return scan_table(self._page_file(), root, seed, kept, parts)
            except (OSError, ValueError, IndexError, struct_error) as exc:
                raise PagesUnreadable(f"the file's pages could not be parsed ({exc})") from None

    def side_pages(self, tables: list[str], sink: Sink) -> dict[str, SideScan]:
        """Per table of ``tables`` every row's key and cell print (into ``sink``, a part at
        a time), and its page map (or why not), read by one process of its own (as
        :meth:`side_prints`; the caller judges the snapshot the same way)."""
        uri = read_only_uri(self.path)
        return side_scan(uri, tables, os.pathsep.join(p for p in sys.path if p), sink)

    def side_delta(self, kept: dict[str, PageMap]) -> SideDelta | None:
        """The tables of ``kept`` scanned against their kept maps by a process of its own
        (started here, in this reader's snapshot: its read transaction is opened first and
        must stay open until the :class:`SideDelta` is closed); None when there is none to
        start (a frozen app) or the file's header cannot be read (the caller scans)."""
        if getattr(sys, "frozen", False):
            return None
        with self._busy:
            conn = self.begin()
            try:
                with self._errors():
                    jobs = [(t, *table_root(conn, t), pages) for t, pages in kept.items()]
                counter = self._page_file().header().change_counter
            except (OSError, ValueError, PagesUnreadable):
                return None
        path = os.pathsep.join(p for p in sys.path if p)
        side = SideDelta(str(self.path.resolve()), jobs, counter, path)
        self._sides.append(side)
        side.start()
        return side

    def page_facts(self, table: str) -> tuple[Any, ...] | None:
        """What tells this reader's snapshot of ``table``'s pages, read under its read lock:
        the file's identity (device, inode, size, modification time), its header's change
        counter, the table's root page and print seed (None: unreadable). A scan made under
        another read lock with the same facts read the same pages
        (:mod:`ferry.earlydelta`)."""
        with self._busy:
            conn = self.begin()
            try:
                with self._errors():
                    root, seed = table_root(conn, table)
                pages = self._page_file()
                counter = pages.header().change_counter
                stat = os.fstat(pages.handle.fileno())
            except (OSError, ValueError, PagesUnreadable):
                return None
        return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns), counter, root, seed

    def _page_file(self) -> PageFile:
        if self._pages is None:
            self._pages = PageFile(self.path)
        return self._pages

    def has_rowid(self, table: str) -> bool:
        """False for a WITHOUT ROWID table (native loads read by rowid)."""
        with self._busy:
            conn = self.begin()
            try:
                conn.execute(f"SELECT rowid FROM {quote(table)} LIMIT 0").fetchall()
            except sqlite3.OperationalError:
                return False
        return True

    def row_bytes(self, table: str, columns: list[str]) -> int:
        """About how many bytes the first rows of ``table`` hold in ``columns``."""
        lengths = " + ".join(f"coalesce(length(CAST({quote(c)} AS BLOB)), 1)" for c in columns)
        found = self.query_one(
            f"SELECT avg({lengths or 1}) FROM (SELECT * FROM {quote(table)} LIMIT 100)", (), table
        )
        return int(found[0] or 0) + len(columns) if found else 0

    def count_range(self, table: str, after: int, last: int) -> int:
        """Rows of ``table`` with rowids in ``(after, last]``."""
        found = self.query_one(
            f"SELECT count(*) FROM {quote(table)} WHERE rowid > ? AND rowid <= ?",
            (after, last),
            table,
        )
        return int(found[0]) if found else 0

    def chunk_end(self, table: str, after: int, rows: int) -> int | None:
        """The rowid ``rows`` rows after rowid ``after``, or None when fewer remain: chunks of
        rowids ``(after, end]`` for :mod:`ferry.native.load`."""
        found = self.query_one(
            f"SELECT rowid FROM {quote(table)} WHERE rowid > ? ORDER BY rowid LIMIT 1 OFFSET ?",
            (after, rows - 1),
            table,
        )
        return int(found[0]) if found else None

    def rows_where(
        self, table: SourceTable, sql: str, params: tuple[Any, ...], names: list[str]
    ) -> list[dict[str, Any]]:
        """Rows of ``sql`` (columns ``names`` of ``table``) as the reader gives them."""
        found = self._fetch_all(sql, params, table.origin)
        rows = [dict(zip(names, row, strict=True)) for row in found]
        json_columns = [n for n in names if table.columns.get(n) == "json"]
        if json_columns:
            _parse_json_columns(rows, json_columns)
        return rows

    def files(self) -> list[Path]:
        """The database file."""
        return [self.path]

    def close(self) -> None:
        """Close the connection: a statement another thread is running is interrupted and
        waited for first."""
        for side in self._sides:  # (they read in the snapshot this connection's lock holds)
            side.close()
        self._sides.clear()
        conn = self._conn
        if conn is not None:
            conn.interrupt()
            with self._busy:
                conn.close()
                self._conn = None
        if self._pages is not None:  # after the connection: see _pages
            self._pages.close()
            self._pages = None
        heldfiles.let_go(self._held)  # (after the connection, likewise)
        self._held = None

    # ------------------------------------------------------------------ connection

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        path = self.path
        if not path.exists():
            raise SourceError(
                f"SQLite file {path} not found (source {self.spec.name!r})",
                hint="Check the source's path in the plan; a relative path starts at the "
                "plan's folder.",
            )
        if not path.is_file():
            raise SourceError(
                f"{path} is not a file (source {self.spec.name!r})",
                hint="Point the source's path at the SQLite database file.",
            )
        if path.stat().st_size == 0:
            raise SourceError(
                f"{path} is empty (0 bytes): there is no SQLite database to read",
                hint="Check that this is the right file; an application may create it only "
                "when it first saves data.",
            )
        try:
            # transactions are explicit (BEGIN ... ROLLBACK); the engine reads from a worker
            conn = open_read_only(path, timeout=self.busy_timeout, autocommit=True, any_thread=True)
        except sqlite3.Error as exc:
            raise self._translate(exc, None) from exc
        # each row's print, computed inside the query (delta runs: ferry.load.delta)
        conn.create_function("ferry_row_print", -1, row_print, deterministic=True)
        self._conn = conn
        self._held = heldfiles.hold(path)
        return conn

    @contextmanager
    def _errors(self, table: str | None = None) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._translate(exc, table) from exc

    def translate_error(self, exc: BaseException) -> SourceError | None:
        """What SQLite's error means for this file (locked, not a database, …)."""
        return self._translate(exc, None) if isinstance(exc, sqlite3.Error) else None

    def _translate(self, exc: sqlite3.Error, table: str | None) -> SourceError:
        path = self.path
        text = str(exc)
        where = f" table {table!r} of" if table else ""
        code = getattr(exc, "sqlite_errorname", "")
        if code in ("SQLITE_BUSY", "SQLITE_LOCKED") or "database is locked" in text:
            return SourceError(
                f"SQLite file {path} is locked: another program is writing to it",
                hint="Stop the application that uses it (or wait for it to finish writing) "
                "and run again.",
                details=text,
            )
        if code == "SQLITE_NOTADB" or "file is not a database" in text:
            return SourceError(
                f"{path} is not a SQLite database",
                hint="Check the source's path and kind; the file may be encrypted, damaged "
                "or of another format.",
                details=text,
            )
        match = _UTF8_ERROR.search(text)
        if match:
            return SourceError(
                f"SQLite file {path}, table {table!r}, column {match.group(1)!r}: a value "
                "is text that is not valid UTF-8",
                hint="Fix the value in the database (or store it as a BLOB); Ferry reads "
                "SQLite text as UTF-8.",
                details=text,
            )
        if code == "SQLITE_CORRUPT" or "malformed" in text:
            return SourceError(
                f"SQLite file {path} is damaged ({text})",
                hint="Repair it first, e.g. with the sqlite3 shell's .recover command.",
                details=text,
            )
        return SourceError(
            f"Cannot read{where} SQLite file {path}: {text}",
            hint="Check that the file is readable and is a SQLite database.",
            details=text,
        )

    # ------------------------------------------------------------------ schema

    def _tables(self, conn: sqlite3.Connection) -> list[SourceTable]:
        names = [
            str(row[0])
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
            if not is_ferry_table(row[0])
        ]
        selected = self._select(names)
        by_folded = {name.casefold(): name for name in names}
        tables = [self._table(conn, name, by_folded) for name in selected]
        what = not_data(conn)
        for table in tables:
            table.not_data = what.get(table.origin, "")
        return order_parents_first(tables)

    def _select(self, names: list[str]) -> list[str]:
        if not self.spec.tables:
            return names
        by_folded = {name.casefold(): name for name in names}
        selected: list[str] = []
        for wanted in self.spec.tables:
            actual = wanted if wanted in names else by_folded.get(wanted.casefold())
            if actual is None:
                raise SourceError(
                    f"Table {wanted!r} is not in SQLite file {self.path} "
                    f"(source {self.spec.name!r})",
                    hint="Tables in it: " + (", ".join(names) or "none"),
                )
            if actual not in selected:
                selected.append(actual)
        return selected

    def _table(self, conn: sqlite3.Connection, name: str, by_folded: dict[str, str]) -> SourceTable:
        columns: dict[str, LogicalType] = {}
        declared_types: dict[str, str] = {}
        key: list[tuple[int, str]] = []
        # table_xinfo lists generated columns too; hidden = 1 marks a virtual table's hidden one.
        for column, declared, pk, hidden in conn.execute(
            "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid", (name,)
        ):
            if hidden == 1:
                continue
            columns[column] = sqlite_logical_type(declared or "")
            declared_types[column] = declared or ""
            if pk:
                key.append((int(pk), column))
        primary_key = tuple(column for _, column in sorted(key))
        create = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return SourceTable(
            name=f"{self.spec.name}.{name}",
            columns=columns,
            key=primary_key,
            parent=self._parent(conn, name, by_folded),
            references=tuple(
                f"{self.spec.name}.{by_folded.get(str(ref).casefold(), ref)}"
                for (ref,) in conn.execute(
                    'SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)', (name,)
                )
            ),
            origin=name,
            declared=declared_types,
            collations=sqlite_collations(create[0]) if create and create[0] else {},
            text_order=BYTE_ORDER,
            nulls_first=True,
        )

    def _parent(
        self, conn: sqlite3.Connection, name: str, by_folded: dict[str, str]
    ) -> ParentLink | None:
        links: dict[int, list[tuple[int, str, str, str | None]]] = {}
        for fk_id, seq, ref_table, column, ref_column in conn.execute(
            'SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?)', (name,)
        ):
            links.setdefault(int(fk_id), []).append((int(seq), ref_table, column, ref_column))
        if not links:
            return None
        # SQLite numbers foreign keys last-declared first: the highest id is the first one.
        parts = sorted(links[max(links)])
        ref_table = by_folded.get(parts[0][1].casefold(), parts[0][1])
        columns = tuple(column for _, _, column, _ in parts)
        parent_columns: tuple[str, ...]
        if all(ref is not None for _, _, _, ref in parts):
            parent_columns = tuple(str(ref) for _, _, _, ref in parts)
        else:  # REFERENCES parent (no column list): the parent's primary key
            parent_columns = tuple(
                str(row[0])
                for row in conn.execute(
                    "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (ref_table,)
                )
            )
        return ParentLink(
            parent=f"{self.spec.name}.{ref_table}", columns=columns, parent_columns=parent_columns
        )

    # ------------------------------------------------------------------ rows

    def _read_table(
        self, conn: sqlite3.Connection, table: SourceTable, batch_size: int
    ) -> Iterator[Batch]:
        names = list(table.columns)
        if not names:
            return
        # SQLite keeps JSON as text: parse it so a JSON target column gets the value, not a
        # JSON string holding the text.
        json_columns = [name for name, type_ in table.columns.items() if type_ == "json"]
        select = f"SELECT {', '.join(quote(c) for c in names)} FROM {quote(table.origin)}"
        with self._errors(table.origin):
            cursor = conn.execute(select)
        # The first rows are a small batch that sizes the others: wide rows (long texts)
        # make smaller batches, so memory stays flat whatever the row width.
        fetch = min(batch_size, SIZING_ROWS)
        done = 0
        try:
            while True:
                try:
                    with self._busy:
                        chunk: list[tuple[Any, ...]] = cursor.fetchmany(fetch)
                except sqlite3.Error as exc:
                    cursor = self._read_again(conn, exc, cursor, select, done, table.origin)
                    continue
                if not chunk:
                    return
                if conn.text_factory is decode_text:
                    self._count_invalid(table, names, chunk, done)
                done += len(chunk)
                if fetch == SIZING_ROWS and fetch < batch_size:
                    fetch = rows_per_batch(chunk, batch_size)
                rows = [dict(zip(names, row, strict=True)) for row in chunk]
                if json_columns:
                    _parse_json_columns(rows, json_columns)
                yield Batch(table.name, rows)
        finally:
            with self._busy, suppress(sqlite3.Error):
                cursor.close()

    def _read_again(
        self,
        conn: sqlite3.Connection,
        exc: sqlite3.Error,
        cursor: sqlite3.Cursor,
        select: str,
        done: int,
        table: str,
    ) -> sqlite3.Cursor:
        """After text that is not UTF-8 stopped a read: read the text through
        :func:`~ferry.values.textbytes.decode_text` from now on, run ``select`` again (same
        snapshot, same statement: same order) and pass the ``done`` rows already given."""
        if not (is_decode_error(exc) and tolerate(conn)):
            raise self._translate(exc, table) from exc
        with suppress(sqlite3.Error):
            cursor.close()
        with self._errors(table):
            cursor = conn.execute(select)
            while done > 0 and (passed := len(cursor.fetchmany(min(done, 10_000)))):
                done -= passed
        return cursor

    def _count_invalid(
        self, table: SourceTable, names: list[str], chunk: list[tuple[Any, ...]], done: int
    ) -> None:
        """Count the chunk's text values that are not UTF-8, per column, with the first keys
        (for ``ferry init``'s notes)."""
        key = [names.index(k) for k in table.key if k in names]
        found = self.invalid_text.setdefault(table.origin, {})
        for number, row in enumerate(chunk, start=done + 1):
            for index, value in enumerate(row):
                if value.__class__ is BadText:
                    shown = (
                        ", ".join(f"{names[k]}={row[k]!r}" for k in key) if key else f"row {number}"
                    )
                    found.setdefault(names[index], Census()).add(shown)


def _parse_json_columns(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Parse JSON text in declared-JSON columns in place; text that is not JSON stays text."""
    for row in rows:
        for name in columns:
            value = row[name]
            if isinstance(value, str):
                with suppress(ValueError):
                    row[name] = json.loads(value)
