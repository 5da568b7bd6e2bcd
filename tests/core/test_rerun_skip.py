"""A re-run skips a table whose source files and target rows are as the last run left them.

Real SQLite source files and the real PostgreSQL; every case compares with what a normal
re-run gives. A table is skipped when it emits no progress (nothing of it was read).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from pgkit import pg_exec, pg_rows

from ferry.events import TableProgress
from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult

ROWS = 300


def source_db(folder: Path) -> Path:
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, at TEXT)")
    with db:
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?)",
            [(i, f"item {i}", f"2024-05-01T10:00:{i % 60:02d}Z") for i in range(1, ROWS + 1)],
        )
    db.close()
    # Older than the racy window: equal file times then prove an unchanged file.
    old = time.time() - 60
    os.utime(path, (old, old))
    return path


def plan_for(folder: Path, url: str, **table: Any) -> Any:
    return plan_from_dict(
        {
            "name": "rerun",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [{"name": "items", "source": "app.items", "key": ["id"], **table}],
        },
        folder,
    )


def run(plan: Any) -> tuple[RunResult, bool]:
    """The result and whether the table was read (progress events came)."""
    events: list[Any] = []
    result = asyncio.run(migrate(plan, emit=events.append, write_reports=False))
    return result, any(isinstance(e, TableProgress) for e in events)


def prepared(tmp_path: Path, pg_url: str) -> Any:
    source_db(tmp_path)
    pg_exec(pg_url, "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, at TIMESTAMPTZ)")
    plan = plan_for(tmp_path, pg_url)
    first, _ = run(plan)
    assert first.tables[0].inserted == ROWS
    return plan


def test_unchanged_rerun_reads_nothing_and_counts_every_row_unchanged(
    tmp_path: Path, pg_url: str
) -> None:
    plan = prepared(tmp_path, pg_url)
    result, read = run(plan)
    assert not read
    assert result.tables[0].counts()["unchanged"] == ROWS
    assert result.tables[0].counts()["read"] == ROWS


def test_third_run_still_skips(tmp_path: Path, pg_url: str) -> None:
    plan = prepared(tmp_path, pg_url)
    run(plan)
    result, read = run(plan)
    assert not read and result.tables[0].unchanged == ROWS


def test_row_edited_in_target_is_restored(tmp_path: Path, pg_url: str) -> None:
    plan = prepared(tmp_path, pg_url)
    pg_exec(pg_url, "UPDATE items SET name = 'edited' WHERE id = 7")
    result, read = run(plan)
    assert read
    assert (result.tables[0].updated, result.tables[0].unchanged) == (1, ROWS - 1)
    assert pg_rows(pg_url, "SELECT name FROM items WHERE id = 7") == [("item 7",)]


def test_row_deleted_in_target_is_inserted_again(tmp_path: Path, pg_url: str) -> None:
    plan = prepared(tmp_path, pg_url)
    pg_exec(pg_url, "DELETE FROM items WHERE id = 9")
    result, read = run(plan)
    assert read and result.tables[0].inserted == 1


def test_row_added_in_target_makes_a_full_rerun(tmp_path: Path, pg_url: str) -> None:
    plan = prepared(tmp_path, pg_url)
    pg_exec(pg_url, "INSERT INTO items VALUES (9999, 'app', now())")
    result, read = run(plan)
    assert read and result.tables[0].unchanged == ROWS


def test_changed_source_file_is_read(tmp_path: Path, pg_url: str) -> None:
    plan = prepared(tmp_path, pg_url)
    db = sqlite3.connect(tmp_path / "app.db")
    with db:
        db.execute("UPDATE items SET name = 'new' WHERE id = 3")
    db.close()
    old = time.time() - 30
    os.utime(tmp_path / "app.db", (old, old))  # even with old times: the ctime moved
    result, read = run(plan)
    assert read and result.tables[0].updated == 1


def test_another_plan_reads_again(tmp_path: Path, pg_url: str) -> None:
    prepared(tmp_path, pg_url)
    _, read = run(plan_for(tmp_path, pg_url, ignore=["at"]))
    assert read


def test_run_with_a_rejected_row_journals_no_fingerprint(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    db = sqlite3.connect(tmp_path / "app.db")
    with db:
        db.execute("UPDATE items SET at = 'not a time' WHERE id = 4")
    db.close()
    pg_exec(pg_url, "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, at TIMESTAMPTZ)")
    plan = plan_for(tmp_path, pg_url)
    first, _ = run(plan)
    assert first.tables[0].rejected == 1 and first.tables[0].fingerprint is None
    second, read = run(plan)
    assert read and second.tables[0].rejected == 1
