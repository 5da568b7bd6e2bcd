"""SQLite source tables' leaf pages hashed from the command's start, beside its imports.

A delta run of a SQLite source compares each table's leaf pages with the page map the last
run kept (:mod:`ferry.load.earlyscan`). Hashing every leaf is most of that work (content's
200,400 leaves of the benchmark, some 0.4 CPU s) and needs nothing of the map, which sits in
the target; while the engine's modules are imported (a third of a second) one core idles.
So ``ferry migrate`` and ``ferry sync`` (and the benchmark runner, likewise) call
:func:`begin_early_hashes` before they import the engine: it reads only the plan's SQLite
sources and the tables they feed (the stdlib's TOML reader, no validation: a plan it cannot
follow starts nothing) and starts a process a table
(:func:`ferry.sources.sqlitepages._early_file`), which takes a read lock of its own without
waiting, hashes the leaves, lets the lock go and waits for the run.

When the run compares that table (:meth:`ferry.sources.sqlite.SqliteSource.side_delta`) it
takes the process (:func:`adopt`) instead of starting one, and hands it the kept map and the
change counter read under the run's own read lock. The hashes count only where the table
(its root page and ``CREATE`` statement), the file (device, inode, size, modification time)
and the change counter are the ones they were read with, SQLite's own test of its page
cache; otherwise the process scans the table in the run's snapshot as before. A process
nobody takes (another plan, a first run, no kept map) is ended when the run closes that
file's reader, or at exit (:func:`discard`). Nothing is written anywhere.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

#: tables hashed early at most (a process each: a plan of many small tables gains nothing)
MOST = 4
#: the commands whose plan is read early (their first argument naming a file is the plan)
COMMANDS = ("migrate", "sync")
#: a plan file larger than this is not read early (the engine says what is wrong with it)
_LARGEST_PLAN = 1 << 20

#: (the file, resolved; the table) -> its early process
_started: dict[tuple[str, str], subprocess.Popen[bytes]] = {}


def begin_early_hashes(data: Mapping[str, Any], base_dir: Path) -> int:
    """Start hashing the leaves of the SQLite source tables the plan ``data`` (as read
    from its TOML; relative paths from ``base_dir``) feeds its tables from, a process a
    table, up to :data:`MOST`; how many were started. A plan it cannot follow starts
    none."""
    _register()
    discard()  # (another plan's, begun before in this process and never taken)
    if getattr(sys, "frozen", False):
        return 0
    try:
        wanted = _tables(data, base_dir)
    except (TypeError, AttributeError, ValueError, OSError):
        return 0
    script = Path(__file__).with_name("sources") / "sqlitepages.py"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    for path, table in wanted[:MOST]:
        uri = f"file:{quote(path)}?mode=ro"
        try:
            _started[(path, table)] = subprocess.Popen(
                [sys.executable, "-S", "-P", str(script), "--early", uri, table],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError:
            break
    return len(_started)


def begin_early_hashes_for_command(argv: Sequence[str]) -> int:
    """:func:`begin_early_hashes` for a command line (``sys.argv[1:]``) that runs one of
    :data:`COMMANDS`: its first argument naming a TOML file with tables is the plan."""
    words = [word for word in argv if not word.startswith("-")]
    if not words or words[0] not in COMMANDS:
        return 0
    for word in words[1:]:
        path = Path(word)
        data = _plan_data(path)
        if data is not None:
            return begin_early_hashes(data, path.resolve().parent)
    return 0


def _plan_data(path: Path) -> dict[str, Any] | None:
    """The TOML at ``path`` when it is a plan's (it has tables), else None."""
    try:
        if not path.is_file() or path.stat().st_size > _LARGEST_PLAN:
            return None
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return data if isinstance(data.get("tables"), list) else None


def adopt(path: Path, table: str) -> subprocess.Popen[bytes] | None:
    """The early process of ``table`` in the file at ``path``, now the caller's (None:
    none was started, or it has ended)."""
    child = _started.pop((str(path.resolve()), table), None)
    if child is not None and child.poll() is not None:
        _end(child)
        return None
    return child


def discard(path: Path | None = None) -> None:
    """End the early processes nobody took, of the file at ``path`` (None: all)."""
    wanted = None if path is None else str(path.resolve())
    for key in [key for key in _started if wanted is None or key[0] == wanted]:
        _end(_started.pop(key))


def _tables(data: Mapping[str, Any], base_dir: Path) -> list[tuple[str, str]]:
    """(file, table) of each SQLite source table the plan's tables are fed from, in the
    plan's order, once each."""
    options = data.get("options") or {}
    if options.get("row_prints") is False:  # (no prints kept: no delta compares pages)
        return []
    files: dict[str, str] = {}
    for source in data.get("sources") or []:
        if source.get("kind") == "sqlite" and isinstance(source.get("path"), str):
            path = Path(source["path"]).expanduser()
            path = path if path.is_absolute() else base_dir / path
            if path.is_file():
                files[str(source.get("name"))] = str(path.resolve())
    found: list[tuple[str, str]] = []
    for table in data.get("tables") or []:
        name, _, origin = str(table.get("source", "")).partition(".")
        if name in files and origin and (files[name], origin) not in found:
            found.append((files[name], origin))
    return found


def _end(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.kill()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            pipe.close()
    child.wait()


_registered = False


def _register() -> None:
    """End every process nobody took at exit (registered once)."""
    global _registered
    if not _registered:
        _registered = True
        atexit.register(discard)


__all__ = [
    "COMMANDS",
    "MOST",
    "adopt",
    "begin_early_hashes",
    "begin_early_hashes_for_command",
    "discard",
]
