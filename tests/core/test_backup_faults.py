"""Faults `ferry migrate`'s automatic backup meets first exit as they do with `--no-backup`.

The backup runs before anything is read, so a missing or non-SQLite source file and a locked
source or target are met by it first. Each test runs the real process twice (with the
backup and with ``--no-backup``) and expects the same exit code, message and hint.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PLAN = """name = "jobs"

[target]
url = "sqlite:///app.db"

[[sources]]
name = "legacy"
kind = "sqlite"
path = "legacy.db"

[[tables]]
name = "jobs"
source = "legacy.jobs"
key = ["id"]
"""


def legacy_app(folder: Path) -> Path:
    """``legacy.db`` (a jobs table) and a plan moving it into ``app.db``."""
    conn = sqlite3.connect(folder / "legacy.db")
    conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO jobs VALUES (1, 'probe'), (2, 'mux')")
    conn.commit()
    conn.close()
    plan = folder / "ferry.toml"
    plan.write_text(PLAN, encoding="utf-8")
    return plan


def both_ways(plan: Path) -> tuple[tuple[int, list[str]], tuple[int, list[str]]]:
    """Exit code and error/hint lines of `migrate` with the backup and with --no-backup, one
    after the other (at once, the second would meet the first's run lock: exit 9)."""
    results = []
    for extra in ([], ["--no-backup"]):
        proc = subprocess.run(
            [sys.executable, "-m", "ferry.cli.command", "migrate", str(plan), "-q", *extra],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "80"},
            timeout=60,
        )
        lines = [line for line in proc.stderr.splitlines() if line.startswith(("error:", "hint:"))]
        results.append((proc.returncode, lines))
    return results[0], results[1]


@contextmanager
def write_locked(db: Path) -> Iterator[None]:
    """Another program holds the write lock of ``db`` (readers are shut out too)."""
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE IF NOT EXISTS app_state (k TEXT)")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO app_state VALUES ('busy')")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_missing_source_file_exits_4_with_the_readers_hint(tmp_path: Path) -> None:
    plan = legacy_app(tmp_path)
    (tmp_path / "legacy.db").unlink()

    with_backup, without = both_ways(plan)

    assert (
        with_backup
        == without
        == (
            4,
            [
                f"error: SQLite file {tmp_path / 'legacy.db'} not found (source 'legacy')",
                "hint: Check the source's path in the plan; a relative path starts at the "
                "plan's folder.",
            ],
        )
    )
    assert not (tmp_path / "ferry-backups").exists()
    assert not (tmp_path / "app.db").exists()


def test_a_source_that_is_not_sqlite_exits_4_with_the_readers_hint(tmp_path: Path) -> None:
    plan = legacy_app(tmp_path)
    (tmp_path / "legacy.db").write_text("name,size\nprobe,10\n", encoding="utf-8")

    with_backup, without = both_ways(plan)

    assert (
        with_backup
        == without
        == (
            4,
            [
                f"error: {tmp_path / 'legacy.db'} is not a SQLite database",
                "hint: Check the source's path and kind; the file may be encrypted, damaged or "
                "of another format.",
            ],
        )
    )
    assert not (tmp_path / "ferry-backups").exists()
    assert not (tmp_path / "app.db").exists()


def test_a_locked_source_exits_4_with_the_readers_hint(tmp_path: Path) -> None:
    plan = legacy_app(tmp_path)

    with write_locked(tmp_path / "legacy.db"):
        with_backup, without = both_ways(plan)

    assert (
        with_backup
        == without
        == (
            4,
            [
                f"error: SQLite file {tmp_path / 'legacy.db'} is locked: another program is "
                "writing to it",
                "hint: Stop the application that uses it (or wait for it to finish writing) and "
                "run again.",
            ],
        )
    )
    assert not (tmp_path / "ferry-backups").exists()
    assert not (tmp_path / "app.db").exists()


def test_a_locked_target_exits_5_with_the_targets_hint(tmp_path: Path) -> None:
    plan = legacy_app(tmp_path)

    with write_locked(tmp_path / "app.db"):
        (code, lines), without = both_ways(plan)

    assert (code, lines) == (
        5,
        [
            f"error: target {tmp_path / 'app.db'} is locked by another program (backing up "
            "the target)",
            "hint: Stop the application that writes to it, or retry when it is idle.",
        ],
    )
    assert without == (
        5,
        [
            f"error: target {tmp_path / 'app.db'} is locked by another program (opening "
            "the target)",
            "hint: Stop the application that writes to it, or retry when it is idle.",
        ],
    )
    assert not (tmp_path / "ferry-backups").exists()
    conn = sqlite3.connect(tmp_path / "app.db")
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("app_state",)]
    conn.close()
