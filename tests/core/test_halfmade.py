"""The next start removes only a killed run's own half-made new SQLite file, nothing else."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from ferry.safety.halfmade import clear_half_made, marker_path


def dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def write_marker(db: Path, pid: int, host: str | None = None) -> None:
    record = {"pid": pid, "host": host or socket.gethostname(), "started_at": "2026-01-01"}
    marker_path(db).write_text(json.dumps(record), encoding="utf-8")


def make_db(db: Path, tables: int) -> None:
    conn = sqlite3.connect(db)
    for n in range(tables):
        conn.execute(f"CREATE TABLE t{n} (id INTEGER)")
    conn.commit()
    conn.close()


def test_an_empty_file_of_a_dead_run_is_removed_with_its_marker(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    make_db(db, 0)
    pid = dead_pid()
    write_marker(db, pid)

    note = clear_half_made(db)

    assert note is not None and note.startswith(f"removed {db}: an empty database file")
    assert f"(pid {pid}," in note
    assert not db.exists() and not marker_path(db).exists()


def test_a_file_that_holds_tables_is_kept_and_only_the_marker_goes(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    make_db(db, 1)
    write_marker(db, dead_pid())

    assert clear_half_made(db) is None
    assert db.exists() and not marker_path(db).exists()


def test_a_file_without_a_marker_is_never_touched(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    make_db(db, 0)

    assert clear_half_made(db) is None
    assert db.exists()


def test_the_file_of_a_run_still_alive_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    make_db(db, 0)
    write_marker(db, os.getpid())

    assert clear_half_made(db) is None
    assert db.exists() and marker_path(db).exists()


def test_another_hosts_marker_and_a_marker_not_written_by_ferry_are_left_alone(
    tmp_path: Path,
) -> None:
    db = tmp_path / "app.db"
    make_db(db, 0)
    write_marker(db, dead_pid(), host="another-machine")
    assert clear_half_made(db) is None
    marker_path(db).write_text("not json", encoding="utf-8")
    assert clear_half_made(db) is None
    assert db.exists() and marker_path(db).exists()


def test_a_file_that_is_not_sqlite_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    db.write_text("my notes", encoding="utf-8")
    write_marker(db, dead_pid())

    assert clear_half_made(db) is None
    assert db.read_text(encoding="utf-8") == "my notes"
