"""One Ferry run per target at a time: a lock taken before anything else touches the target.

Two runs on one PostgreSQL database used to collide late (the second waited for the whole first
run, then failed on ``pg_type_typname_nsp_index``); on one SQLite file the second waited for the
busy timeout and blamed "another program". Now the first thing a run does is take the target's
run lock, and a second run learns at once who holds it:

* PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock(FERRY_NAMESPACE, key of the
  database)``) held by a small autocommit session of its own, whose ``application_name`` carries
  the holder's pid, start time and host; the second run finds it through ``pg_locks`` and
  ``pg_stat_activity``. The server frees the lock when the session ends, a killed run included.
* SQLite: an OS lock (``flock``) on ``<target>.ferry-run`` beside the file, which holds the same
  facts as JSON; removed when the run ends, freed by the OS if the run is killed. Where no lock
  file can be made (a read-only folder, no ``fcntl``) SQLite's own locking still applies.

The lock is re-entrant within a process, so ``ferry migrate`` holds it across the backup and the
migration while :func:`ferry.migrate.migrate` (which every caller goes through) takes it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import TargetBusyError, TargetError
from ..events import CancelToken, Emit, StepStarted
from ..plan import TargetSpec

#: first key of Ferry's advisory locks ("FERY"): keeps them apart from the app's own
FERRY_NAMESPACE = 0x46455259
#: seconds between two tries while waiting (``--wait``)
POLL_SECONDS = 0.5
#: seconds between two "still waiting" lines
NOTIFY_SECONDS = 15.0
_TAG = re.compile(r"^ferry-run (?P<pid>\d+) (?P<started>\S+) ?(?P<host>.*)$")
#: tries before a holder that says nothing about itself is reported as unknown
_SILENT_TRIES = 20
#: lock name -> how many holders in this process (the lock is re-entrant)
_HELD: dict[str, int] = {}


@dataclass(frozen=True)
class Holder:
    """The run that holds a target's lock, as far as it can be known."""

    pid: int | None
    host: str
    started: str

    def describe(self) -> str:
        """``another Ferry run (pid 123, host box, started at …)``."""
        facts = [f"pid {self.pid}" if self.pid else "pid unknown"]
        facts.append(f"host {self.host or 'unknown'}")
        facts.append(f"started at {self.started or 'an unknown time'}")
        return f"another Ferry run ({', '.join(facts)})"


def _me() -> Holder:
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Holder(os.getpid(), socket.gethostname(), started)


def busy_error(holder: Holder, target: str) -> TargetBusyError:
    """The error a second run stops with (exit 9)."""
    return TargetBusyError(
        f"{holder.describe()} is writing to this target ({target}); nothing was changed",
        hint="Wait for that run to finish, or run again with --wait to wait for it.",
    )


class _PgLock:
    """The advisory lock of a PostgreSQL target, held by a session of its own."""

    def __init__(self, spec: TargetSpec, base_dir: Path) -> None:
        from ..backup.pgdump import pg_params

        self.params = pg_params(spec, base_dir, later=True)  # no keyring unless asked
        self.name = f"postgresql:{self.params.where.split('@', 1)[-1]}"
        self.target = self.params.where
        self._conn: Any = None

    def try_acquire(self) -> Holder | None:
        """None when the lock is now held (or cannot be had: the run's own connect then says
        why, as before), else who holds it."""
        import psycopg

        try:
            return self._try()
        except psycopg.Error:  # the lock session broke: the run's own session reports it
            self.release()
            return None

    def _try(self) -> Holder | None:
        if self._conn is None:
            me = _me()
            tag = f"ferry-run {me.pid} {me.started} {me.host}"
            self.params.kwargs["application_name"] = tag.encode()[:63].decode(errors="ignore")
            try:
                conn = self.params.connect()
            except TargetError:  # unreachable now: the run's own connect says why, as before
                return None
            conn.autocommit = True
            self._conn = conn
        database = self._conn.execute("SELECT current_database()").fetchone()[0]
        key = int.from_bytes(hashlib.sha256(database.encode()).digest()[:4], "big") & 0x7FFFFFFF
        row = self._conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (FERRY_NAMESPACE, key)
        ).fetchone()
        if row[0]:
            return None
        holder = self._conn.execute(
            "SELECT a.application_name, a.pid, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.classid = %s::oid AND l.objid = %s::oid "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (FERRY_NAMESPACE, key),
        ).fetchone()
        if holder is None:  # freed in between: the next try takes it
            return Holder(None, "", "")
        match = _TAG.match(holder[0] or "")
        if match:
            return Holder(int(match["pid"]), match["host"], match["started"])
        started = holder[2].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if holder[2] else ""
        return Holder(None, f"unknown (server session {holder[1]})", started)

    def release(self) -> None:
        """Close the session: the server frees the lock with it (no statement first: a
        connection that stopped answering would hold the run's exit)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class _FileLock:
    """``<target>.ferry-run`` beside a SQLite target, locked with ``flock``."""

    def __init__(self, spec: TargetSpec, base_dir: Path) -> None:
        from ..targets.sqlite import sqlite_path

        target = sqlite_path(spec, base_dir)
        self.path = Path(f"{target}.ferry-run")
        self.name = f"sqlite:{self.path.resolve()}"
        self.target = str(target)
        self._fd: int | None = None

    def try_acquire(self) -> Holder | None:
        """None when the lock is now held (or cannot be had here at all), else who holds it."""
        try:
            import fcntl
        except ImportError:  # Windows: SQLite's own lock still keeps runs apart
            return None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:  # a read-only or missing folder: the target's open says what is wrong
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = self._read(fd)
            os.close(fd)
            return holder
        try:
            same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the holder removed the file as we opened it: try the new one
            os.close(fd)
            return Holder(None, "", "")
        me = _me()
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": me.pid, "host": me.host, "started": me.started}).encode())
        self._fd = fd
        return None

    @staticmethod
    def _read(fd: int) -> Holder:
        try:
            data = json.loads(os.pread(fd, 4096, 0) or b"{}")
            pid = data.get("pid")
            return Holder(
                pid if isinstance(pid, int) else None,
                str(data.get("host", "")),
                str(data.get("started", "")),
            )
        except (OSError, ValueError, AttributeError):
            return Holder(None, "", "")

    def release(self) -> None:
        """Remove the file, then let the lock go (a waiting run then makes a new file)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(self._fd)
            self._fd = None


def _lock_for(spec: TargetSpec, base_dir: Path) -> _PgLock | _FileLock:
    return _FileLock(spec, base_dir) if spec.is_sqlite else _PgLock(spec, base_dir)


def _known(holder: Holder, tries: int) -> bool:
    """Whether to act on ``holder``: it said who it is, or stayed silent too long (a holder
    that said nothing has usually just freed the lock or not yet written its name). A holder
    on this machine whose process is gone (killed a moment ago: the server has not yet ended
    its session) is waited for the same way."""
    if tries >= _SILENT_TRIES:
        return True
    if holder.pid and holder.host == socket.gethostname() and not _alive(holder.pid):
        return False
    if holder.pid == os.getpid() and holder.host == socket.gethostname():
        # this process's own session, closed a moment ago (the server frees its lock when
        # the backend exits): a run right after in the same process (the CLI's undo after a
        # refused one) waits for that instead of stopping as busy with itself
        return False
    return bool(holder.pid or holder.host)


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate it there: assume it lives
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it exists
        return True
    return True


def _waiting(holder: Holder, target: str) -> str:
    return f"{holder.describe()} is writing to {target}; waiting for it to finish"


@contextlib.contextmanager
def _counted(name: str) -> Iterator[None]:
    """Count one more hold of the lock ``name`` by this process for the block (a nested hold
    only counts); the last one out forgets it."""
    _HELD[name] = _HELD.get(name, 0) + 1
    try:
        yield
    finally:
        if _HELD.get(name, 0) > 1:
            _HELD[name] -= 1
        else:
            _HELD.pop(name, None)


@contextlib.contextmanager
def hold_target(
    spec: TargetSpec,
    base_dir: Path,
    *,
    wait: bool = False,
    notify: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the target's run lock for the block (blocking calls: for the command line). Busy:
    raise :class:`TargetBusyError`, or with ``wait`` tell ``notify`` and try until it frees."""
    lock = _lock_for(spec, base_dir)
    if _HELD.get(lock.name):
        with _counted(lock.name):
            yield
        return
    told, tries, since = 0.0, 0, time.monotonic()
    try:
        while (holder := lock.try_acquire()) is not None:
            tries += 1
            if _known(holder, tries):
                if not wait:
                    raise busy_error(holder, lock.target)
                waited = time.monotonic() - since
                if notify is not None and (not told or waited - told >= NOTIFY_SECONDS):
                    notify(
                        f"{_waiting(holder, lock.target)} (Ctrl-C stops waiting)"
                        if not told
                        else f"still waiting for {holder.describe()} ({waited:.0f} s)"
                    )
                    told = max(waited, 1e-9)
            time.sleep(POLL_SECONDS)
        with _counted(lock.name):
            yield
    finally:
        lock.release()


@contextlib.asynccontextmanager
async def hold_target_async(
    spec: TargetSpec,
    base_dir: Path,
    *,
    wait: bool = False,
    emit: Emit | None = None,
    cancel: CancelToken | None = None,
) -> AsyncIterator[None]:
    """:func:`hold_target` for the engine: the blocking calls in a thread, the wait shown as a
    ``wait`` step and cancellable."""
    lock = await asyncio.to_thread(_lock_for, spec, base_dir)
    if _HELD.get(lock.name):
        with _counted(lock.name):
            yield
        return
    told, tries = False, 0
    try:
        while (holder := await asyncio.to_thread(lock.try_acquire)) is not None:
            tries += 1
            if _known(holder, tries):
                if not wait:
                    raise busy_error(holder, lock.target)
                if not told and emit is not None:
                    emit(StepStarted("wait", _waiting(holder, lock.target)))
                told = True
            if cancel is not None:
                cancel.raise_if_cancelled()
            await asyncio.sleep(POLL_SECONDS)
        with _counted(lock.name):
            yield
    finally:
        await asyncio.to_thread(lock.release)
