"""The process :mod:`ferry.earlydelta` starts with the command: what a delta run of a SQLite
source into PostgreSQL needs from both sides, found while the run still imports its engine.

It runs this file alone (``python -S -P …/earlyprep.py``, the page reader
:mod:`ferry.sources.sqlitepages` loaded from beside it, psycopg from the caller's path), reads
what the caller sends on stdin (the target's connection settings, the tables and their
SQLite source tables) and writes pickles of plain values to stdout, each as it is found:

- ``("entries", {table: row})``: the target's ``ferry.row_print_tables`` rows of those tables;
- ``("state", table, rows, others)``: the table's row count and its rows whose ``xmin`` is not
  one the entry's state keeps (the state check of :func:`ferry.load.rerun.rows_as_left`);
- ``("scan", table, facts, leaves, *map)``: the table's leaf pages compared with the page map
  kept for it, as :class:`ferry.sources.sqlitepages.SideDelta` does, in a read transaction of
  its own on the file (``facts``: the file's identity and change counter under that lock, the
  table's root page and seed, a digest of the map it compared with), or
  ``("scan-failed", table, why)``. With two tables or more, every other one is compared by a
  forked copy of this process at the same time (CPU work, and the run mostly waits for it).

The state checks run with no parallel workers: the server's workers would take the cores the
run's imports and the page comparisons need, for a scan nobody waits on yet.

Nothing is written anywhere: the target session is read-only, the file is opened read-only.
It ends with the process that started it, and on any failure ends saying nothing more
(``FERRY_EARLY_DEBUG=1``: with the traceback).
The caller takes a result only where its own reads prove it is the one it would have found
(:mod:`ferry.earlydelta`); otherwise it does the work itself, as before.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pickle
import sqlite3
import sys
import threading
from typing import Any

#: the columns of a table's kept entry (``ferry.row_print_tables``) read and sent
_ENTRY_COLUMNS = (
    "table_name",
    "run_id",
    "plan_hash",
    "source",
    "key_field",
    "rows",
    "state",
    "form",
)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _emit(out: Any, lock: threading.Lock, item: tuple[Any, ...]) -> None:
    with lock:
        pickle.dump(item, out, 5)
        out.flush()


def _states(conn: Any, schema: str | None, entries: dict[str, dict[str, Any]], emit: Any) -> None:
    """Each table's state check, on the target's session (a thread: the server works while
    this process reads pages)."""
    import json

    for table, row in entries.items():
        state = json.loads(row["state"])
        xmins = [str(x) for x in state.get("xmins", [])]
        if not xmins or not all(x.isdigit() for x in xmins):
            continue
        name = _ident(table) if schema is None else f"{_ident(schema)}.{_ident(table)}"
        found = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT (xmin = ANY(CAST("
            f"'{{{','.join(xmins)}}}' AS xid[])))) FROM {name}"
        ).fetchone()
        emit(("state", table, int(found[0]), int(found[1])))


def _page_maps(conn: Any, tables: list[str], pages: Any) -> dict[str, Any]:
    """The page maps kept for ``tables`` (those that have one)."""
    found = {}
    for table in tables:
        rows = conn.execute(
            "SELECT chunk, keys, prints FROM ferry.row_prints WHERE table_name = %s AND "
            "chunk < 0 ORDER BY chunk DESC",
            (table,),
        ).fetchall()
        if rows:
            found[table] = pages.page_map_of([(c, bytes(k), bytes(p)) for c, k, p in rows])
    return found


def _scan(path: str, uri: str, jobs: list[tuple[str, str, Any]], pages: Any, emit: Any) -> None:
    """Compare each (table, source table, kept map) of ``jobs`` in one read transaction on
    the file at ``path`` (opened by ``uri``: :func:`ferry.sources.readonly.read_only_uri`)."""
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=0)
    reader = None
    try:
        conn.execute("BEGIN")
        roots = {origin: pages.table_root(conn, origin) for _, origin, _ in jobs}
        reader = pages.PageFile(path)
        head = reader.header()
        stat = os.fstat(reader.handle.fileno())
        identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        for table, origin, kept in jobs:
            root, seed = roots[origin]
            try:
                leaves, new = pages.scan_table(reader, root, seed, kept)
            except pages.PagesUnreadable as exc:
                emit(("scan-failed", table, str(exc)))
                continue
            facts = (identity, head.change_counter, root, seed, pages.map_digest(kept))
            emit(("scan", table, facts, pages.coded_leaves(leaves), *pages.map_fields(new)))
    finally:
        conn.close()  # (the lock goes with the connection; then the pages' own handle)
        if reader is not None:
            reader.close()


Unit = tuple[str, str, str, Any]
"""A table to compare: (SQLite file, target table, source table, kept page map)."""


def _scan_all(units: list[Unit], uris: dict[str, str], pages: Any, emit: Any) -> None:
    """Compare every table of ``units``, a read transaction per file."""
    by_file: dict[str, list[tuple[str, str, Any]]] = {}
    for path, table, origin, kept in units:
        by_file.setdefault(path, []).append((table, origin, kept))
    for path, jobs in by_file.items():
        try:
            _scan(path, uris[path], jobs, pages, emit)
        except (OSError, sqlite3.Error) as exc:
            for table, _, _ in jobs:
                emit(("scan-failed", table, f"the file could not be read ({exc})"))


def _fork_half(
    units: list[Unit], uris: dict[str, str], pages: Any, emit: Any
) -> tuple[threading.Thread | None, list[Unit]]:
    """Every other table compared by a copy of this process (``fork``: no second start-up,
    the maps already read), beside this one's: the comparisons are CPU work and the run's
    own process mostly waits for them. Its findings come back through a pipe and are said
    from here (a thread relays them); the tables left to this process are returned."""
    if len(units) < 2 or not hasattr(os, "fork"):
        return None, units
    theirs, mine = units[0::2], units[1::2]
    me = os.getpid()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the copy: compares its tables, touches nothing else of this process
        code = 1
        try:
            os.close(read_end)
            _die_with(me)
            with os.fdopen(write_end, "wb") as out:
                lock = threading.Lock()
                _scan_all(theirs, uris, pages, lambda item: _emit(out, lock, item))
            code = 0
        finally:
            os._exit(code)  # (no clean-up of the parent's objects: its session is not ours)
    os.close(write_end)
    tables = [table for _, table, _, _ in theirs]
    relay = threading.Thread(target=_relay, args=(read_end, child, tables, emit))
    relay.start()
    return relay, mine


def _relay(read_end: int, child: int, tables: list[str], emit: Any) -> None:
    """Say what the forked copy found; a table it said nothing of, as not compared."""
    said: set[str] = set()
    with os.fdopen(read_end, "rb") as found:
        while True:
            try:
                item = pickle.load(found)
            except (EOFError, pickle.UnpicklingError, ValueError, OSError):
                break
            said.add(item[1])
            emit(item)
    os.waitpid(child, 0)
    for table in tables:
        if table not in said:
            emit(("scan-failed", table, "the copy of the early process comparing it failed"))


def _die_with(parent: int) -> None:
    """End with the process that started this one (Linux: the kernel ends it when that
    process dies; a killed run leaves no session of this one behind)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # (it died before that took hold)
        sys.exit(1)


def main() -> None:
    """Read the job from stdin, write what is found to stdout (module docstring)."""
    # the page reader from beside this file, by its path: that folder on sys.path would hide
    # the stdlib's json behind ferry.sources.json
    where = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sqlitepages.py")
    spec = importlib.util.spec_from_file_location("sqlitepages", where)
    assert spec is not None and spec.loader is not None
    pages = importlib.util.module_from_spec(spec)
    sys.modules["sqlitepages"] = pages  # (its dataclasses look their module up)
    spec.loader.exec_module(pages)
    job = pickle.load(sys.stdin.buffer)
    _die_with(job["parent"])
    out, lock = sys.stdout.buffer, threading.Lock()

    def emit(item: tuple[Any, ...]) -> None:
        _emit(out, lock, item)

    import psycopg

    schema, wanted = job["schema"], job["tables"]
    extra = dict(job["params"])
    if job["password"]:
        extra["password"] = job["password"]
    with psycopg.connect(
        job["conninfo"],
        autocommit=True,
        application_name="ferry (early reads)",
        options="-c default_transaction_read_only=on -c max_parallel_workers_per_gather=0",
        **extra,
    ) as conn:
        names = [table for table, _, _ in wanted]
        kept = conn.execute("SELECT to_regclass('ferry.row_print_tables')").fetchone()
        if kept is None or kept[0] is None:
            emit(("entries", {}))  # (a first run: nothing kept, and no error in the server's log)
            return
        columns = ", ".join(_ENTRY_COLUMNS)
        rows = conn.execute(
            f"SELECT {columns} FROM ferry.row_print_tables WHERE table_name = ANY(%s)", (names,)
        ).fetchall()
        entries = {row[0]: dict(zip(_ENTRY_COLUMNS, row, strict=True)) for row in rows}
        emit(("entries", entries))
        if not entries:
            return
        maps = _page_maps(conn, [t for t in names if t in entries], pages)
        units = [(path, t, origin, maps[t]) for t, path, origin in wanted if t in maps]
        forked, units = _fork_half(units, job["uris"], pages, emit)
        states = threading.Thread(target=_states, args=(conn, schema, entries, emit))
        states.start()
        try:
            _scan_all(units, job["uris"], pages, emit)
        finally:
            states.join()
            if forked is not None:
                forked.join()


if __name__ == "__main__":
    try:
        main()
    except Exception:  # (any failure: the caller does the work itself, nothing is taken)
        if os.environ.get("FERRY_EARLY_DEBUG"):
            raise
        sys.exit(1)
