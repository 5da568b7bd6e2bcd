"""A process Ferry starts beside its SQLite reader never makes the app's write time out.

In rollback-journal mode the run's reader holds its read lock until the read ends; an app
committing meanwhile holds the PENDING lock and waits for it. A side process that then asked
for a read lock of its own would wait for the app while the app waited for the reader, until
the app's write failed with "database is locked" (seen with a Django app during `ferry sync`).
The side processes give up at once instead (``ferry.sources.sqlite.SIDE_TIMEOUT``), and the
run does that work itself. Real SQLite files, real processes."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from ferry.errors import SourceError
from ferry.load.rowprints import print_sql
from ferry.plan import SourceSpec
from ferry.sources import open_source
from ferry.sources.sqlite import SqliteSource

#: the app's busy timeout: shorter than a side process's old 5 s wait
APP_TIMEOUT = 3.0


def app_db(folder: Path) -> Path:
    path = folder / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO jobs VALUES (?, ?)", [(i, f"job {i}") for i in range(500)])
    db.close()
    return path


def app_write(path: Path, outcome: dict[str, str]) -> None:
    """The app: one insert, committed with its own busy timeout."""
    conn = sqlite3.connect(path, timeout=APP_TIMEOUT, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO jobs (name) VALUES ('new')")
        conn.execute("COMMIT")
        outcome["app"] = "committed"
    except sqlite3.OperationalError as exc:
        outcome["app"] = str(exc)
    finally:
        conn.close()


def waiting_to_commit(path: Path) -> None:
    """Until the app holds the PENDING lock (a new reader is refused), at most 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN")
            probe.execute("SELECT count(*) FROM jobs").fetchone()
        except sqlite3.OperationalError:
            return
        finally:
            probe.close()
        time.sleep(0.02)
    raise AssertionError("the app never came to wait for its commit")


def with_app_waiting(tmp_path: Path, side: object) -> str:
    """Run ``side(reader)`` while the run's reader holds its lock and the app waits to
    commit; then end the read. What became of the app's write."""
    path = app_db(tmp_path)
    reader = open_source(SourceSpec(name="app", kind="sqlite", path="app.db"), tmp_path)
    assert isinstance(reader, SqliteSource)
    reader.begin()  # the run's read lock, held while the run reads
    outcome: dict[str, str] = {}
    app = threading.Thread(target=app_write, args=(path, outcome))
    app.start()
    try:
        waiting_to_commit(path)
        side(reader)  # type: ignore[operator]
    finally:
        reader.close()  # the read ends: the app may commit
        app.join()
    return outcome["app"]


def test_a_side_page_scan_lets_the_waiting_app_commit(tmp_path: Path) -> None:
    found: dict[str, object] = {}

    def scan(reader: SqliteSource) -> None:
        found.update(reader.side_pages(["jobs"], lambda *rows: None))

    assert with_app_waiting(tmp_path, scan) == "committed"
    assert "locked" in str(found["jobs"])  # not read: the run scans the table itself


def test_side_row_prints_let_the_waiting_app_commit(tmp_path: Path) -> None:
    sql = f"SELECT id, {print_sql(['id', 'name'])} FROM jobs ORDER BY id"

    def prints(reader: SqliteSource) -> None:
        with pytest.raises(SourceError, match="locked"):  # the prints are not kept
            list(reader.side_prints(sql, "jobs"))

    assert with_app_waiting(tmp_path, prints) == "committed"
