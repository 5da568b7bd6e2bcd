"""Helpers for the fault tests: a real ``ferry`` process watched from outside, target digests,
a size-limited folder (tmpfs) and a few PostgreSQL one-liners.

A :class:`FerryProcess` runs ``python -m ferry ...`` exactly as a user would and records every
line it writes to stderr with the time it appeared, so a test can act (kill, interrupt,
terminate the server session) when the run reaches a step (``- schema``, ``- merge``,
``- journal``) without any hook inside Ferry.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

#: seconds any wait in these tests may take before it is a failure (never a hang)
PATIENCE = 60.0


@dataclass
class FerryProcess:
    """A running ``ferry`` command; ``lines`` are ``(seconds since start, text)`` of stderr,
    ``out_lines`` the same of stdout (``ferry sync`` prints a line there per committed cycle)."""

    args: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    proc: subprocess.Popen[str] = field(init=False)
    lines: list[tuple[float, str]] = field(default_factory=list)
    out_lines: list[tuple[float, str]] = field(default_factory=list)
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ferry", *self.args],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._threads = [
            threading.Thread(target=self._read_stderr, daemon=True),
            threading.Thread(target=self._read_stdout, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.monotonic() - self.started, line.rstrip("\n")))

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.out_lines.append((time.monotonic() - self.started, line.rstrip("\n")))

    @property
    def stdout(self) -> str:
        return "".join(text + "\n" for _, text in self.out_lines)

    @property
    def stderr(self) -> str:
        return "\n".join(text for _, text in self.lines)

    def count(self, marker: str) -> int:
        """How many stderr lines equal to ``marker`` appeared so far (one per sync cycle)."""
        return sum(text.strip() == marker for _, text in self.lines)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def marker_time(self, marker: str) -> float | None:
        """When a stderr line equal to ``marker`` (e.g. ``- merge``) appeared, if it did."""
        return next((t for t, text in self.lines if text.strip() == marker), None)

    def wait_until(self, ready: Callable[[], bool], what: str) -> bool:
        """Poll ``ready`` until it holds; False when the process ended first."""
        deadline = time.monotonic() + PATIENCE
        while not ready():
            if self.proc.poll() is not None:
                return ready()
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {PATIENCE:.0f} s for {what}; stderr:\n{self.stderr}")
            time.sleep(0.005)
        return True

    def wait_for_marker(self, marker: str) -> bool:
        return self.wait_until(lambda: self.marker_time(marker) is not None, repr(marker))

    def signal(self, signum: int) -> bool:
        """Send a signal; False when the process had already ended."""
        if self.proc.poll() is not None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signum)
            return True
        return False

    def wait(self) -> int:
        try:
            code = self.proc.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"ferry did not end within {PATIENCE:.0f} s:\n{self.stderr}"
            ) from None
        for thread in self._threads:
            thread.join(timeout=PATIENCE)
        return code

    def last_step(self) -> str:
        """The last step line seen (``- schema`` ...) or ``startup``: where a kill landed."""
        steps = [text.strip()[2:] for _, text in self.lines if text.strip().startswith("- ")]
        return steps[-1] if steps else "startup"


def ferry_run(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ferry ARGS`` to its end."""
    return subprocess.run(
        [sys.executable, "-m", "ferry", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE * 2,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(stderr: str, code: int, expected_code: int) -> str:
    """The CLI failed the documented way: exit code, ``error:`` line, no traceback."""
    assert code == expected_code, f"exit {code}, expected {expected_code}:\n{stderr}"
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    return errors[0]


# ------------------------------------------------------------------------------ SQLite


def sqlite_query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query. Opening the file is also what rolls a hot journal back after a crash."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def sqlite_tables(db: Path) -> set[str]:
    return {
        r[0]
        for r in sqlite_query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")
        if not r[0].startswith("sqlite_")
    }


# ------------------------------------------------------------------------------ PostgreSQL


def pg_query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


def pg_exec(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def pg_tables(url: str) -> set[str]:
    return {
        r[0]
        for r in pg_query(
            url,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        )
    }


def wait_for_backend(
    admin_url: str,
    database: str,
    like: str | list[str],
    running: Callable[[], bool],
    active: bool = True,
) -> list[int]:
    """Poll pg_stat_activity until a Ferry session is running a statement matching ``like``
    (SQL ``ILIKE`` patterns, any of them; with ``active=False``: its last statement matched,
    it may be idle in its transaction); the PIDs, or [] when ``running()`` turned False first."""
    state = "AND state = 'active'" if active else ""
    query = (
        f"SELECT pid FROM pg_stat_activity WHERE application_name = 'ferry' {state} "
        "AND datname = %s AND query ILIKE ANY (%s)"
    )
    patterns = [like] if isinstance(like, str) else like
    deadline = time.monotonic() + PATIENCE
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        while running():
            pids = [int(r[0]) for r in conn.execute(query, (database, patterns)).fetchall()]
            if pids:
                return pids
            if time.monotonic() > deadline:
                raise AssertionError(f"no Ferry session ran {like!r} within {PATIENCE:.0f} s")
            time.sleep(0.001)
    return []


# ------------------------------------------------------------------------------ small disks


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """``folder`` as a tmpfs mounted with ``options`` (``size=2m``, ``nr_inodes=8`` ...);
    raises OSError when mounting is impossible (not root, no mount command)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"{options},mode=0755", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise OSError("no mount command") from exc
    if done.returncode != 0:
        raise OSError(f"cannot mount a tmpfs: {done.stderr.strip() or done.returncode}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def read_only(folder: Path) -> None:
    """Remount a tmpfs made by :func:`tmpfs` read-only (root ignores permission bits, so a
    chmod would not do)."""
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the file system of ``folder`` until at most ``leave`` bytes are free."""
    filler = folder / ".filler"
    chunk = b"\0" * 65536
    with filler.open("ab") as handle:
        while True:
            free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
            if free <= leave:
                break
            try:
                handle.write(chunk[: max(min(len(chunk), free - leave), 1)])
                handle.flush()
            except OSError:
                break


# ------------------------------------------------------------------------------ own server


@contextlib.contextmanager
def throwaway_cluster(prefix: str) -> Iterator[Any]:
    """An initdb'd (not yet started) cluster of our own, for tests that configure, stop or
    restart the server (see tests/pgcluster.py); stopped and deleted afterwards. Skips (fails
    in CI) without the server binaries."""
    import tempfile

    import pytest

    import pgcluster

    bindir = pgcluster.find_bindir()
    if bindir is None:
        message = "this test needs the PostgreSQL server binaries (initdb, pg_ctl)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    run_as = pgcluster._run_as()
    root = Path(tempfile.mkdtemp(prefix=prefix, dir=pgcluster._temp_parent(run_as)))
    cluster = pgcluster._Cluster(bindir, root, run_as)
    try:
        if run_as.uid is not None and run_as.gid is not None:
            os.chown(root, run_as.uid, run_as.gid)
        cluster.initdb()
        yield cluster
    finally:
        cluster.stop()


def stop_cluster(cluster: Any) -> None:
    """``pg_ctl stop -m fast``: every session is told the server shuts down."""
    cluster._run(
        str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data), "stop", "-m", "fast", "-w"
    )


# ------------------------------------------------------------------------------ a TCP relay


class Relay:
    """A TCP relay on 127.0.0.1 in front of a server that can stop forwarding at once (every
    socket kept open, nothing passed on, new connections accepted and left silent) — a network
    that stalls. ``freeze_on``: stop the moment a client sends bytes containing it (e.g.
    ``b"COPY"``: the server never sees that statement). ``cut()`` closes every socket instead
    (``cut_on``: when a client sends bytes containing it). Threads are daemons; :meth:`close`
    ends them."""

    def __init__(
        self, host: str, port: int, freeze_on: bytes | None = None, cut_on: bytes | None = None
    ) -> None:
        self.target = (host, port)
        self.freeze_on = freeze_on
        self.cut_on = cut_on
        #: bytes per second passed on from clients (None: as fast as they come), a slow network
        self.rate: float | None = None
        self.was_cut = threading.Event()
        self.frozen = threading.Event()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        """``url`` (a PostgreSQL URL of the relayed server) going through the relay."""
        return re.sub(r"@[^/]+/", f"@127.0.0.1:{self.port}/", url, count=1)

    def freeze(self) -> None:
        self.frozen.set()

    def cut(self) -> None:
        """Close every relayed connection (the network dropped them)."""
        self.was_cut.set()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._sockets.append(client)
            if self.frozen.is_set():
                continue  # accepted, never answered
            server = socket.create_connection(self.target, timeout=10)
            server.settimeout(None)
            self._sockets.append(server)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while not self._stop.is_set():
                data = source.recv(65536)
                if not data:
                    break
                if from_client and self.freeze_on is not None and self.freeze_on in data:
                    self.frozen.set()
                if from_client and self.cut_on is not None and self.cut_on in data:
                    self.cut()
                    return
                if self.frozen.is_set():
                    self._stop.wait()  # hold everything: read no more, send nothing
                    return
                if from_client and self.rate:
                    for at in range(0, len(data), 4096):
                        sink.sendall(data[at : at + 4096])
                        time.sleep(4096 / self.rate)
                else:
                    sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        self.cut()


def docs_and_steps(
    folder: Path, parents: int, children: int, body: int, started: Callable[[int], str]
) -> Path:
    """An app's SQLite file in ``folder``: ``docs`` (``parents`` rows, a body of ``body``
    characters) and ``steps`` (``children`` rows, each referring to a doc, ``started(i)`` its
    time), with two secondary indexes on ``steps``."""
    db = sqlite3.connect(folder / "app.db")
    db.executescript(
        """
        CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT);
        CREATE TABLE steps (
            id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL REFERENCES docs (id),
            step TEXT NOT NULL, started_at DATETIME
        );
        CREATE INDEX steps_doc ON steps (doc_id, step);
        CREATE INDEX steps_started ON steps (started_at DESC);
        """
    )
    with db:
        db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?)",
            ((i, f"doc {i}", "x" * body) for i in range(1, parents + 1)),
        )
        db.executemany(
            "INSERT INTO steps VALUES (?, ?, ?, ?)",
            ((i, 1 + i % parents, f"step {i % 7}", started(i)) for i in range(1, children + 1)),
        )
    db.close()
    return folder / "app.db"
