"""Verification's fast path, the SQLite source side (:mod:`ferry.verify.fast` runs it in a
worker thread): each table's rows written by SQLite as :func:`~ferry.verify.fastsql.sqlite_row_sql`
gives them and their MD5s summed in Python.

A table is read in rowid spans (its row SQL with ``WHERE rowid BETWEEN ? AND ?``; one span
when it has no usable rowid), taken in order from one shared list. One worker takes spans
from the start, fetching in a thread of its own while it hashes (SQLite writes rows without
the GIL). Once :attr:`SourceSide.second` is set (the fast path sets it when the target's side
is done, and the server's core is free) a second worker joins, and from then on every span
with a rowid is read a chunk of rows at a time (:mod:`ferry.verify.fastchunks`): read a row
at a time, two readers would hand the GIL over once a row. The sums are order-free, so any
split gives the same checksum.

A table read in several statements is no longer one read transaction, so each table has a
sentinel connection whose ``PRAGMA data_version`` is read before its first span and after its
last: if another connection committed in between, the table's source side gives no fingerprint
and the general path reads it (as for any row SQL cannot write).
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Cancelled
from ..events import CancelToken, Event, TableProgress
from ..shape.identifiers import quote
from ..sources.readonly import open_read_only
from .fastchunks import chunk_sql, read_chunks
from .fastrows import SMALL_ROW_BYTES, digest_sum, small_md5
from .fastsql import MOD, Fingerprint
from .sqlfunctions import register_functions

# (re-exported: the first run's hashing uses the same MD5 choice)
__all__ = ["SMALL_ROW_BYTES", "digest_sum", "small_md5"]

#: rows fetched at a time from a SQLite side (one bytes object each)
BATCH_ROWS = 2000
#: rowid spans a source table is read in (the second worker's share is taken span by span)
SPANS_PER_TABLE = 16
_ROWIDS = (-(2**63), 2**63 - 1)


# -- SQLite connections ----------------------------------------------------------------------


def connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A read-only connection usable from any thread (one at a time)."""
    return open_read_only(path, timeout=busy_timeout, autocommit=True, any_thread=True)


class Fetcher:
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


# -- one table, in spans ---------------------------------------------------------------------


@dataclass(eq=False)
class HashedTable:
    """One source table to fingerprint: where it is, its row SQL, and its spans' progress."""

    label: str
    path: Path
    busy_timeout: float
    table: str
    #: the row's bytes (:func:`~ferry.verify.fastsql.sqlite_row_value`)
    row_value: str
    total: int | None
    #: set by :meth:`SourceSide.run`: None when the general path must decide
    fingerprint: Fingerprint | None = None
    spans_left: int = 0
    rows: int = 0
    checksum: int = 0
    failed: bool = False
    sentinel: sqlite3.Connection | None = None
    version: int | None = None
    started: float = 0.0
    shown: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def row_sql(self) -> str:
        """Every row's bytes, a row at a time."""
        return f"SELECT {self.row_value} FROM {quote(self.table)}"


def _rowid_name(conn: sqlite3.Connection, table: str) -> str | None:
    """A name the table's rowid answers to (no column shadows it), None without one."""
    names = conn.execute("SELECT name FROM pragma_table_xinfo(?)", (table,)).fetchall()
    columns = {str(name).lower() for (name,) in names}
    for name in ("rowid", "_rowid_", "oid"):
        if name not in columns:
            try:
                conn.execute(f"SELECT {name} FROM {quote(table)} LIMIT 0")
            except sqlite3.Error:
                return None  # a WITHOUT ROWID table (or a view)
            return name
    return None


@dataclass(frozen=True)
class _Span:
    item: HashedTable
    sql: str
    params: tuple[int, ...]
    #: the span's rows a chunk at a time (:func:`~ferry.verify.fastchunks.chunk_sql`), when
    #: the table has a rowid
    chunks: str | None = None


def _spans(conn: sqlite3.Connection, item: HashedTable) -> list[_Span]:
    """The statements that read ``item`` a span at a time (together: every row once)."""
    rowid = _rowid_name(conn, item.table)
    if rowid is None:
        return [_Span(item, item.row_sql, ())]
    bounds_sql = f"SELECT min({rowid}), max({rowid}) FROM {quote(item.table)}"
    low, high = conn.execute(bounds_sql).fetchone()
    if low is None:
        return [_Span(item, item.row_sql, ())]
    step = max(1, -(-(high - low + 1) // SPANS_PER_TABLE))
    bounds = [low + i * step for i in range(1, SPANS_PER_TABLE) if low + i * step <= high]
    starts, ends = [_ROWIDS[0], *bounds], [b - 1 for b in bounds] + [_ROWIDS[1]]
    sql = f"{item.row_sql} WHERE {rowid} BETWEEN ? AND ?"
    chunks = chunk_sql(item.table, rowid, item.row_value)
    return [_Span(item, sql, (a, b), chunks) for a, b in zip(starts, ends, strict=True)]


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


class SourceSide:
    """Fingerprints source tables a rowid span at a time: :meth:`run` works in the calling
    thread from the start, and a second worker joins once ``second`` is set."""

    def __init__(
        self,
        tables: list[HashedTable],
        cancel: CancelToken,
        halt: threading.Event,
        second: threading.Event,
        report: Callable[[Event], None],
    ) -> None:
        self.tables = tables
        self.cancel = cancel
        #: set by the caller to stop at the next batch
        self.halt = halt
        #: set by the caller when a second worker may take spans (the target's side is done)
        self.second = second
        self.report = report
        self._spans: list[_Span] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._errors: list[BaseException] = []

    def run(self) -> None:
        """Set each table's :attr:`~HashedTable.fingerprint` (None: the general path decides)."""
        try:
            self._plan()
            helper = threading.Thread(target=self._second, name="ferry-verify-source", daemon=True)
            helper.start()
            try:
                self._work()
            finally:
                self._done.set()
                helper.join()
            if self._errors:
                raise self._errors[0]
        finally:
            for item in self.tables:
                if item.sentinel is not None:
                    item.sentinel.close()

    def _plan(self) -> None:
        for item in self.tables:
            try:
                item.sentinel = connect(item.path, item.busy_timeout)
                spans = _spans(item.sentinel, item)
            except sqlite3.Error:
                item.failed = True
                continue
            item.spans_left = len(spans)
            self._spans.extend(spans)
        self._spans.reverse()  # popped from the end: the tables' order, span by span

    def _second(self) -> None:
        while not self.second.wait(0.05):
            if self._done.is_set():
                return
        self._work()

    def _stopped(self) -> bool:
        return self.halt.is_set() or bool(self._errors)

    def _work(self) -> None:
        try:
            while not self._stopped():
                with self._lock:
                    if not self._spans:
                        return
                    span = self._spans.pop()
                self._read(span)
        except BaseException as exc:
            self._errors.append(exc)

    def _read(self, span: _Span) -> None:
        item = span.item
        with item.lock:
            if item.failed:
                return
            if item.version is None:
                assert item.sentinel is not None
                item.version = _data_version(item.sentinel)
                item.started = item.shown = time.perf_counter()
        part = self._hash(span)
        with item.lock:
            item.spans_left -= 1
            if part is None:
                item.failed = True
                return
            item.checksum += part
            if item.spans_left or item.failed:
                return
            assert item.sentinel is not None
            if _data_version(item.sentinel) != item.version:
                item.failed = True  # written meanwhile: the spans are not one snapshot
                return
            item.fingerprint = Fingerprint(item.rows, item.checksum % MOD)
        self._progress(item, force=True)

    def _hash(self, span: _Span) -> int | None:
        """The span's digest sum (its rows counted into the table's), None for the general
        path."""
        item = span.item
        try:
            conn = connect(item.path, item.busy_timeout)
        except sqlite3.Error:
            return None
        try:
            register_functions(conn)
            if span.chunks is not None and self.second.is_set():
                return read_chunks(
                    conn,
                    span.chunks,
                    span.sql,
                    (span.params[0], span.params[1]),
                    lambda rows: self._counted(item, rows),
                )
            return self._fetched(conn, span)
        except sqlite3.Error:
            return None  # the general path reads it again and says what is wrong
        finally:
            conn.close()

    def _counted(self, item: HashedTable, rows: int) -> bool:
        """Count a part's rows into its table's; False when the read is to stop."""
        if self.cancel.cancelled:
            raise Cancelled()
        if self._stopped():
            return False
        with item.lock:
            item.rows += rows
        self._progress(item)
        return True

    def _fetched(self, conn: sqlite3.Connection, span: _Span) -> int | None:
        """The span's digest sum, its rows fetched a batch at a time in a thread of their
        own."""
        fetcher = Fetcher(conn.execute(span.sql, span.params))
        try:
            total = 0
            while batch := fetcher.next():
                part = digest_sum(batch)
                if part is None or not self._counted(span.item, len(batch)):
                    return None  # a row for the general path, or stopped
                total += part
            return total
        finally:
            fetcher.close(conn)

    def _progress(self, item: HashedTable, *, force: bool = False) -> None:
        now = time.perf_counter()
        with item.lock:
            if not force and now - item.shown <= 0.2:
                return
            item.shown, rows = now, item.rows
        rate = rows / max(now - item.started, 1e-6)
        self.report(TableProgress(item.label, rows, item.total, rate))
