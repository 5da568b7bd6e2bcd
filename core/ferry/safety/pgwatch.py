"""A PostgreSQL connection that stops answering must not leave Ferry (or the server) waiting.

Three layers:

* TCP keepalives on both ends (libpq's ``keepalives*`` and ``tcp_user_timeout``, the server's
  ``tcp_keepalives_*``), so a peer that vanished is noticed by the operating system;
* ``idle_in_transaction_session_timeout`` on the target's session, so the server ends Ferry's
  transaction (and frees its locks) by itself when Ferry is gone;
* a no-progress limit (``[target] stall_timeout``) checked while psycopg waits on the socket.
  Every byte that moves is progress, so a long COPY is never cut. When nothing has moved for
  a while, a side session asks the server what Ferry's session is doing: running a long
  statement is progress too, waiting for a lock is reported ("waiting for a lock on table X
  held by other-app pid N") and waited for, anything else (the server waits for Ferry, or the
  side session cannot get an answer either) is a stall once ``stall_timeout`` has passed.

The check runs inside psycopg's wait loop (:meth:`psycopg.Connection.wait`), which wakes up
every 0.1 s even when the socket is silent; the side query runs in a daemon thread, so
neither the event loop nor a source's reader ever blocks on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import pq

#: seconds without progress before a connection counts as stalled (``[target] stall_timeout``)
DEFAULT_STALL_TIMEOUT = 120

#: what Ferry's session is doing, as the server sees it; the table and the holders of a lock
#: it waits for (``application_name pid N``, from pg_locks and pg_stat_activity)
_PROBE_SQL = """
SELECT a.state, a.wait_event_type,
  (SELECT l.relation::regclass::text FROM pg_locks l
    WHERE l.pid = a.pid AND NOT l.granted AND l.relation IS NOT NULL LIMIT 1),
  (SELECT string_agg(coalesce(nullif(b.application_name, ''), 'a session without a name')
                     || ' pid ' || b.pid, ', ' ORDER BY b.pid)
    FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid)))
FROM pg_stat_activity a WHERE a.pid = %s
"""
#: the same, with the bytes a COPY has taken in so far (PostgreSQL 14 and later): a COPY the
#: network feeds slowly waits for data (``ClientRead``) most of the time, yet moves on
_PROBE_COPY_SQL = _PROBE_SQL.replace(
    "FROM pg_stat_activity a",
    ", (SELECT c.bytes_processed FROM pg_stat_progress_copy c WHERE c.pid = a.pid)\n"
    "FROM pg_stat_activity a",
)


class StalledError(psycopg.OperationalError):
    """Nothing moved on the connection for ``stall_timeout`` seconds and the server was not
    working on Ferry's statement (or could not be asked)."""


def keepalive_args(stall_timeout: float) -> dict[str, Any]:
    """libpq's TCP keepalive parameters: a peer that vanished is noticed within about
    ``stall_timeout`` seconds (``tcp_user_timeout`` where libpq has it: version 12 and later)."""
    idle = max(1, min(30, int(stall_timeout // 2)))
    args: dict[str, Any] = {
        "keepalives": 1,
        "keepalives_idle": idle,
        "keepalives_interval": max(1, min(10, idle // 3 or 1)),
        "keepalives_count": 3,
    }
    if pq.version() >= 120000:
        args["tcp_user_timeout"] = int(stall_timeout * 1000)
    return args


def server_options(stall_timeout: float, idle_in_transaction: bool) -> str:
    """``-c`` settings for the server side of Ferry's session: its own keepalives towards
    Ferry and, for the target (``idle_in_transaction``), an end to a transaction Ferry left
    idle for twice ``stall_timeout`` (Ferry's own check fires first, with a clear message)."""
    idle = max(1, min(30, int(stall_timeout // 2)))
    options = [
        f"-c tcp_keepalives_idle={idle}",
        f"-c tcp_keepalives_interval={max(1, min(10, idle // 3 or 1))}",
        "-c tcp_keepalives_count=3",
    ]
    if idle_in_transaction:
        options.append(f"-c idle_in_transaction_session_timeout={int(stall_timeout * 2000)}")
    return " ".join(options)


@dataclass(frozen=True)
class _Seen:
    """One answer of the side session about Ferry's session."""

    state: str | None
    wait_type: str | None
    table: str | None
    holders: str | None
    #: bytes the session's COPY has taken in so far (None: no COPY, or an older server)
    copied: int | None = None
    #: the COPY took bytes in since the previous answer
    copy_moved: bool = False

    @property
    def working(self) -> bool:
        """The server runs the statement, waits for a lock, or its COPY takes data in: not
        a stall."""
        return self.state == "active" and (self.wait_type != "Client" or self.copy_moved)


class StallWatch:
    """The no-progress limit of one connection (see the module's docstring)."""

    def __init__(self, stall_timeout: float, say: Callable[[str, str], None] | None = None) -> None:
        self.stall_timeout = float(stall_timeout)
        #: seconds of silence before the server is asked what it is doing, then between asks
        self.every = min(max(self.stall_timeout / 4, 0.5), 2.0)
        self._say = say
        #: how the side session connects: the main connection's own arguments
        self.connect_args: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})
        self._lock = threading.Lock()
        self._asking: threading.Thread | None = None
        self._answer: tuple[float, _Seen | None] | None = None
        self._asked = 0.0
        self._side: psycopg.Connection[Any] | None = None
        self._said: set[str] = set()
        self._copied: int | None = None

    def track(self, gen: Any, pid: int) -> Generator[Any, Any, Any]:
        """``gen`` (a psycopg wait generator of the session ``pid``) with the limit applied."""
        last = time.monotonic()
        try:
            state = next(gen)
            while True:
                ready = yield state
                now = time.monotonic()
                last = now if ready else self._silent(pid, last, now)
                state = gen.send(ready)
        except StopIteration as stop:
            return stop.value

    def _silent(self, pid: int, last: float, now: float) -> float:
        """Called while nothing moves; returns when progress was last seen."""
        answer = self._take()
        if answer is not None:
            asked, seen = answer
            if seen is not None and seen.working:
                last = max(last, asked)
                if seen.wait_type == "Lock" and self._say is not None:
                    self._tell_lock(seen)
        if now - last >= self.stall_timeout:
            raise StalledError(f"no answer from the server for {self.stall_timeout:g} s")
        if now - last >= self.every and self._asking is None and now - self._asked >= self.every:
            self._asked = now
            self._asking = threading.Thread(target=self._ask, args=(pid, now), daemon=True)
            self._asking.start()
        return last

    def _tell_lock(self, seen: _Seen) -> None:
        assert self._say is not None
        what = f"a lock on table {seen.table}" if seen.table else "a lock"
        held = f" held by {seen.holders}" if seen.holders else ""
        message = f"waiting for {what}{held}"
        if message not in self._said:
            self._said.add(message)
            self._say(message, seen.table or "")

    def _take(self) -> tuple[float, _Seen | None] | None:
        with self._lock:
            answer, self._answer = self._answer, None
        if answer is not None:
            self._asking = None
        return answer

    def _ask(self, pid: int, asked: float) -> None:
        """In a daemon thread: what is session ``pid`` doing? None when there is no answer."""
        seen: _Seen | None = None
        try:
            if self._side is None or self._side.closed:
                args, kwargs = self.connect_args
                kwargs = {
                    **kwargs,
                    "application_name": "ferry-watch",
                    "autocommit": True,
                    "connect_timeout": max(2, int(min(self.stall_timeout, 10))),
                }
                kwargs.pop("async_creator_fn", None)
                self._side = psycopg.connect(*args, **kwargs)
            copy_view = self._side.info.server_version >= 140000
            row = self._side.execute(
                _PROBE_COPY_SQL if copy_view else _PROBE_SQL, (pid,)
            ).fetchone()
            if row:
                copied = row[4] if len(row) > 4 else None
                moved = None not in (copied, self._copied) and copied != self._copied
                self._copied = copied
                seen = _Seen(row[0], row[1], row[2], row[3], copied, moved)
        except psycopg.Error:
            side, self._side = self._side, None
            if side is not None:
                side.close()
        with self._lock:
            self._answer = (asked, seen)

    def close(self) -> None:
        """Close the side session (unless a question is still on its way: it is left to its
        daemon thread)."""
        if self._asking is None or not self._asking.is_alive():
            side, self._side = self._side, None
            if side is not None:
                side.close()


def _watch_async(conn: psycopg.AsyncConnection[Any], watch: StallWatch) -> None:
    """Put ``watch`` on every wait of ``conn`` (a stall closes it) and close its side session
    with it. (On the instance: whoever made the connection, ``psycopg`` included, keeps its
    class.)"""
    plain_wait, plain_close = conn.wait, conn.close

    async def wait(gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        try:
            return await plain_wait(watch.track(gen, conn.info.backend_pid), interval, timeout)
        except StalledError:
            conn.pgconn.finish()  # nothing more can be said on it; the server is told by TCP
            raise

    async def close() -> None:
        try:
            await plain_close()
        finally:
            watch.close()

    setattr(conn, "wait", wait)  # noqa: B010 (mypy refuses assigning to a method)
    setattr(conn, "close", close)  # noqa: B010


def async_creator(watch: StallWatch) -> Callable[..., Any]:
    """For SQLAlchemy's psycopg dialect (``connect_args={"async_creator_fn": ...}``): connect
    with a :class:`StallWatch` and remember the arguments for its side session."""

    async def connect(*args: Any, **kwargs: Any) -> psycopg.AsyncConnection[Any]:
        watch.connect_args = (args, kwargs)
        conn = await psycopg.AsyncConnection.connect(*args, **kwargs)
        _watch_async(conn, watch)
        return conn

    return connect


def connect_watched(watch: StallWatch, *args: Any, **kwargs: Any) -> psycopg.Connection[Any]:
    """``psycopg.connect(*args, **kwargs)`` with ``watch`` on every wait (a stall closes the
    connection) and its side session closed with it."""
    watch.connect_args = (args, kwargs)
    conn = psycopg.connect(*args, **kwargs)
    plain_wait, plain_close = conn.wait, conn.close

    def wait(gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        try:
            return plain_wait(watch.track(gen, conn.info.backend_pid), interval, timeout)
        except StalledError:
            conn.pgconn.finish()
            raise

    def close() -> None:
        try:
            plain_close()
        finally:
            watch.close()

    setattr(conn, "wait", wait)  # noqa: B010
    setattr(conn, "close", close)  # noqa: B010
    return conn
