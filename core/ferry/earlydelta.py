"""A delta run's reads begun with the command, while the engine is still being imported.

A re-run of a plan that copies SQLite tables into PostgreSQL and kept row prints spends most of
its first second before it reads a row: a third of a second importing the engine (one core
idle), then per table the kept page map read from the target, the table's state checked (a scan
of it on the server) and its leaf pages compared with the map (a side process). None of that
needs the engine. So ``ferry migrate`` and ``ferry sync`` (and the benchmark runner, likewise)
call :func:`begin_early_reads` first: it reads the plan with the stdlib's TOML reader (no
validation: a plan it cannot follow starts nothing), and for a PostgreSQL target starts one
process (:mod:`ferry.sources.earlyprep`) that opens a read-only session on the target (the
password from ``password_env`` or ``FERRY_PASSWORD`` only; a server that asks for another
starts nothing), reads the tables' kept entries and page maps, checks their state, and compares
each SQLite source table's pages with its map in a read transaction of its own.

The run takes a result only where its own reads prove it the one it would have found itself:

- a state check (:func:`state_for`) only when the entry the run reads under its run lock is the
  one the process checked (same run, same state): a write by the app between that check and the
  run is one during the run, which the state the run keeps leaves for the next run to find (as
  a write after the run's own check always was);
- a page comparison (:func:`scan_for`) only when, under the run's own read lock, the file's
  identity (device, inode, size, modification time) and header change counter, the table's root
  page and ``CREATE`` statement, and the kept map (a digest of it) are the ones the process read
  with: SQLite's own test of its page cache.

Anything else, and every failure of the process, leaves the run to do the work itself, as
before. The process is ended when the run's reader closes the file, or at exit.
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: the commands whose plan is read early (their first argument naming a file is the plan)
COMMANDS = ("migrate", "sync")
#: processes begun, a share of the tables each: two (one a table of the benchmark's pair)
#: ended the imports they run beside a third of a second later and the run no sooner
PROCESSES = 1
#: a plan file larger than this is not read early (the engine says what is wrong with it)
_LARGEST_PLAN = 1 << 20


class _Early:
    """The process and what it has said so far."""

    def __init__(self, child: subprocess.Popen[bytes], tables: list[tuple[str, str, str]]) -> None:
        self.child = child
        #: (target table, SQLite file, source table)
        self.tables = tables
        self.entries: dict[str, dict[str, Any]] | None = None
        self.states: dict[str, tuple[int, int]] = {}
        self.scans: dict[str, tuple[Any, ...] | str] = {}
        self.done = threading.Event()
        #: a run took one of its page comparisons (:func:`taken`)
        self.taken = False
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._collect, name="ferry-early", daemon=True)
        self.thread.start()

    def _collect(self) -> None:
        out = self.child.stdout
        assert out is not None
        try:
            while True:
                try:
                    kind, *rest = pickle.load(out)
                except (EOFError, pickle.UnpicklingError, ValueError, OSError):
                    break
                with self.changed:
                    if kind == "entries":
                        self.entries = rest[0]
                    elif kind == "state":
                        self.states[rest[0]] = (rest[1], rest[2])
                    elif kind == "scan":
                        self.scans[rest[0]] = tuple(rest[1:])
                    elif kind == "scan-failed":
                        self.scans[rest[0]] = str(rest[1])
                    self.changed.notify_all()
        finally:
            with self.changed:
                self.done.set()
                self.changed.notify_all()

    def wait_for(self, found: Any) -> None:
        """Wait until ``found()`` is true or the process has said all it will."""
        with self.changed:
            self.changed.wait_for(lambda: found() or self.done.is_set())

    def end(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
        self.thread.join()
        for pipe in (self.child.stdin, self.child.stdout):
            if pipe is not None:
                pipe.close()
        self.child.wait()


#: the processes begun, each with some of the tables
_started: list[_Early] = []


def begin_early_reads(data: Mapping[str, Any], base_dir: Path) -> bool:
    """Start the early reads for the plan ``data`` (as read from its TOML; relative paths from
    ``base_dir``); whether a process was started."""
    discard()
    if getattr(sys, "frozen", False):
        return False
    try:
        job = _job(data, base_dir)
    except (TypeError, AttributeError, ValueError, OSError):
        return False
    if job is None:
        return False
    script = Path(__file__).with_name("sources") / "earlyprep.py"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    tables = job["tables"]
    count = max(1, min(len(tables), PROCESSES))
    for part in range(count):
        mine = tables[part::count]
        try:
            child = subprocess.Popen(
                [sys.executable, "-S", "-P", str(script)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            assert child.stdin is not None
            with child.stdin:
                pickle.dump({**job, "tables": mine}, child.stdin, 5)
        except OSError:
            break
        _started.append(_Early(child, mine))
    atexit.register(discard)
    return bool(_started)


def begin_early_reads_for_command(argv: Sequence[str]) -> bool:
    """:func:`begin_early_reads` for a command line (``sys.argv[1:]``) that runs one of
    :data:`COMMANDS`: its first argument naming a TOML file with tables is the plan."""
    words = [word for word in argv if not word.startswith("-")]
    if not words or words[0] not in COMMANDS:
        return False
    for word in words[1:]:
        path = Path(word)
        data = _plan_data(path)
        if data is not None:
            return begin_early_reads(data, path.resolve().parent)
    return False


def _of(table: str) -> _Early | None:
    """The process begun with ``table`` among its tables."""
    return next((e for e in _started if any(t == table for t, _, _ in e.tables)), None)


def entry_for(table: str) -> dict[str, Any] | None:
    """The kept entry the process read for ``table`` (None: no process, or none read)."""
    early = _of(table)
    if early is None:
        return None
    early.wait_for(lambda: early.entries is not None)
    return (early.entries or {}).get(table)


def state_for(table: str, run_id: str, state: Mapping[str, Any]) -> tuple[int, int] | None:
    """``table``'s row count and rows of other versions than ``state`` keeps, as the process
    found them, when it checked the entry of run ``run_id`` with that state (None: it did
    not, or checked another)."""
    import json

    early = _of(table)
    row = entry_for(table)
    if early is None or row is None or row.get("run_id") != run_id:
        return None
    try:
        if json.loads(row["state"]) != dict(state):
            return None
    except (TypeError, ValueError):
        return None
    early.wait_for(lambda: table in early.states)
    return early.states.get(table)


def scans(table: str) -> bool:
    """Whether a process was started to compare ``table``'s pages."""
    return _of(table) is not None


def scan_for(table: str) -> tuple[Any, ...] | str | None:
    """``table``'s page comparison as the process made it: (facts, leaves, *map) (see
    :mod:`ferry.sources.earlyprep`), why it could not, or None (not asked of it)."""
    early = _of(table)
    if early is None:
        return None
    early.wait_for(lambda: table in early.scans)
    return early.scans.get(table)


def scanned(table: str) -> bool:
    """Whether :func:`scan_for` of ``table`` would answer at once (the process compared it,
    gave up, or was not asked)."""
    early = _of(table)
    return early is None or table in early.scans or early.done.is_set()


def take(table: str) -> None:
    """Note that the run takes ``table``'s page comparison (its process must not be ended
    before it is made)."""
    early = _of(table)
    if early is not None:
        early.taken = True


def discard_untaken() -> None:
    """End the processes none of whose page comparisons the run, planned, took (their state
    checks are all asked by then)."""
    for early in [e for e in _started if not e.taken]:
        _started.remove(early)
        early.end()


def discard() -> None:
    """End every process begun."""
    while _started:
        _started.pop().end()


def _plan_data(path: Path) -> dict[str, Any] | None:
    """The TOML at ``path`` when it is a plan's (it has tables), else None."""
    try:
        if not path.is_file() or path.stat().st_size > _LARGEST_PLAN:
            return None
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return data if isinstance(data.get("tables"), list) else None


def _job(data: Mapping[str, Any], base_dir: Path) -> dict[str, Any] | None:
    """What the process is to read: the target's connection and the (target table, SQLite
    file, source table) of each table fed from a SQLite file (None: nothing to read early)."""
    options = data.get("options") or {}
    if options.get("row_prints") is False:  # (no prints kept: no delta)
        return None
    target = data.get("target") or {}
    url = str(target.get("url", ""))
    scheme, _, rest = url.partition("://")
    if scheme.split("+", 1)[0] not in ("postgresql", "postgres") or not rest:
        return None
    files: dict[str, str] = {}
    for source in data.get("sources") or []:
        if source.get("kind") == "sqlite" and isinstance(source.get("path"), str):
            path = Path(source["path"]).expanduser()
            path = path if path.is_absolute() else base_dir / path
            if path.is_file():
                files[str(source.get("name"))] = str(path.resolve())
    tables: list[tuple[str, str, str]] = []
    for table in data.get("tables") or []:
        name, _, origin = str(table.get("source", "")).partition(".")
        if name in files and origin and table.get("name"):
            tables.append((str(table["name"]), files[name], origin))
    if not tables:
        return None
    from .safety.passwords import env_password
    from .sources.readonly import read_only_uri

    params: dict[str, Any] = {"connect_timeout": min(int(target.get("connect_timeout", 10)), 5)}
    for key in ("sslmode", "sslrootcert"):
        if target.get(key):
            params[key] = str(target[key])
    if "sslrootcert" in params and not Path(params["sslrootcert"]).expanduser().is_absolute():
        params["sslrootcert"] = str(base_dir / Path(params["sslrootcert"]).expanduser())
    return {
        "parent": os.getpid(),
        "conninfo": f"postgresql://{rest}",
        "params": params,
        "password": env_password(target.get("password_env")),
        "schema": target.get("pg_schema"),
        "tables": tables,
        # (the one read-only opener's URI; imported here, not before: ferry.sources' package)
        "uris": {path: read_only_uri(path) for path in set(files.values())},
    }


__all__ = [
    "COMMANDS",
    "PROCESSES",
    "begin_early_reads",
    "begin_early_reads_for_command",
    "discard",
    "discard_untaken",
    "entry_for",
    "scan_for",
    "scanned",
    "scans",
    "state_for",
    "take",
]
