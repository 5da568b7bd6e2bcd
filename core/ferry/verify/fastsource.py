"""The SQLite source side of verification's fast path (:mod:`ferry.verify.fast`).

SQLite writes each row's bytes (:func:`ferry.verify.fastsql.sqlite_row_sql`) in a fetching
thread of its own (without the GIL) while Python sums the rows' MD5s (:func:`digest_sum`). A
table of at least :data:`SPLIT_ROWS` rowids is read in two halves by rowid at once, each with
its own read-only connection and fetching thread, so its work spreads over two cores as the
target's does (where PostgreSQL hashes in parallel workers); the halves' sums add up to the
table's."""

from __future__ import annotations

import hashlib
import queue
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

from ..events import Event, TableProgress
from ..shape.identifiers import quote
from .fastsql import MOD, TABLE_INFO, Fingerprint, SqliteColumns, register_functions

#: rows fetched at a time from a SQLite side (one bytes object each)
BATCH_ROWS = 2000
#: a source table spanning at least this many rowids is read in two halves at once
SPLIT_ROWS = 50_000

#: a query and its parameters
Part = tuple[str, tuple[int, ...]]


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


def connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A read-only connection to the source file, usable from any thread."""
    uri = f"file:{url_quote(str(path.resolve()))}?mode=ro"
    return sqlite3.connect(
        uri, uri=True, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )


def source_columns(path: Path, busy_timeout: float, table: str) -> SqliteColumns | None:
    """The declared schema of a source table (None when it cannot be read)."""
    try:
        conn = connect(path, busy_timeout)
    except sqlite3.Error:
        return None
    try:
        return SqliteColumns.of(conn.execute(TABLE_INFO, (table,)).fetchall())
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def source_parts(conn: sqlite3.Connection, table: str, sql: str) -> list[Part]:
    """``sql`` (which reads ``table``) whole, or in two halves by rowid for a table of at least
    :data:`SPLIT_ROWS` rowids (the halves partition it exactly: a rowid is never NULL)."""
    whole: list[Part] = [(sql, ())]
    try:
        names = {str(row[0]).lower() for row in conn.execute(TABLE_INFO, (table,))}
        if names & {"rowid", "_rowid_", "oid"}:
            return whole  # a column of that name hides the rowid
        low, high = conn.execute(f"SELECT min(rowid), max(rowid) FROM {quote(table)}").fetchone()
    except sqlite3.Error:
        return whole  # a WITHOUT ROWID table
    if low is None or high - low < SPLIT_ROWS:
        return whole
    middle = low + (high - low) // 2 + 1
    return [(f"{sql} WHERE rowid < ?", (middle,)), (f"{sql} WHERE rowid >= ?", (middle,))]


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


class _Progress:
    """A source table's rows hashed so far, over its parts, shown every 0.2 s."""

    def __init__(self, label: str, total: int | None, report: Callable[[Event], None]) -> None:
        self._label, self._total, self._report = label, total, report
        self._lock = threading.Lock()
        self.rows = 0
        self._started = self._shown = time.perf_counter()

    def add(self, rows: int) -> None:
        with self._lock:
            self.rows += rows
            if time.perf_counter() - self._shown > 0.2:
                self.show()

    def show(self) -> None:
        now = self._shown = time.perf_counter()
        rate = self.rows / max(now - self._started, 1e-6)
        self._report(TableProgress(self._label, self.rows, self._total, rate))


class SourceTableSide:
    """One source table's fingerprint: its SQL (:func:`sqlite_row_sql`) run on its file."""

    def __init__(self, path: Path, busy_timeout: float, table: str, sql: str) -> None:
        self.path, self.busy_timeout, self.table, self.sql = path, busy_timeout, table, sql

    def fingerprint(
        self,
        label: str,
        total: int | None,
        report: Callable[[Event], None],
        stop: Callable[[], bool],
    ) -> Fingerprint | None:
        """The rows' count and sum, None when a row is for the general path (or the file
        cannot be read) or ``stop()`` said so; ``stop`` may raise (a cancelled run)."""
        try:
            conn = connect(self.path, self.busy_timeout)
        except sqlite3.Error:
            return None
        try:
            parts = source_parts(conn, self.table, self.sql)
        finally:
            conn.close()
        progress = _Progress(label, total, report)
        given_up = threading.Event()
        if len(parts) == 1:
            found = [self._part(*parts[0], progress, stop, given_up)]
        else:
            # The first half that cannot be proven stops the other.
            with ThreadPoolExecutor(len(parts), thread_name_prefix="ferry-verify-half") as pool:
                futures = [
                    pool.submit(self._part, sql, params, progress, stop, given_up)
                    for sql, params in parts
                ]
                found = [future.result() for future in futures]
        progress.show()
        prints = [one for one in found if one is not None]
        if len(prints) != len(found):
            return None
        return Fingerprint(sum(p.rows for p in prints), sum(p.checksum for p in prints) % MOD)

    def _part(
        self,
        sql: str,
        params: tuple[int, ...],
        progress: _Progress,
        stop: Callable[[], bool],
        given_up: threading.Event,
    ) -> Fingerprint | None:
        try:
            conn = connect(self.path, self.busy_timeout)
        except sqlite3.Error:
            given_up.set()
            return None
        fetcher = None
        try:
            register_functions(conn)
            fetcher = _Fetcher(conn.execute(sql, params))
            rows = total = 0
            while batch := fetcher.next():
                if stop() or given_up.is_set():
                    return None
                part = digest_sum(batch)
                if part is None:
                    given_up.set()
                    return None  # a row for the general path
                total += part
                rows += len(batch)
                progress.add(len(batch))
            return Fingerprint(rows, total % MOD)
        except sqlite3.Error:
            given_up.set()
            return None  # the general path reads it again and says what is wrong
        except BaseException:
            given_up.set()
            raise
        finally:
            if fetcher is not None:
                fetcher.close(conn)
            conn.close()


__all__ = [
    "BATCH_ROWS",
    "SPLIT_ROWS",
    "SourceTableSide",
    "connect",
    "digest_sum",
    "source_columns",
    "source_parts",
]
