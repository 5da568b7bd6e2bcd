"""A re-run that read no row of a table (``unchanged``) keeps no row prints for it: it printed
none, and an empty set kept as the table's prints made the next run a delta against nothing
(every row read, mapped and staged again, the rows deleted from the source left in the
target). Real SQLite source files and the real PostgreSQL; row prints at their default."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from pgkit import pg_exec, pg_rows

from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import TableResult

ROWS = 300


def source_db(folder: Path) -> Path:
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    with db:
        db.executemany("INSERT INTO items VALUES (?, ?)", [(i, f"item {i}") for i in range(ROWS)])
    db.close()
    old = time.time() - 60  # older than the racy window: the re-run may skip the table
    os.utime(path, (old, old))
    return path


def plan_for(folder: Path, url: str) -> Any:
    return plan_from_dict(
        {
            "name": "unread",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [
                {"name": "items", "source": "app.items", "key": ["id"], "delete_missing": True}
            ],
        },
        folder,
    )


def run(plan: Any) -> TableResult:
    return asyncio.run(migrate(plan, write_reports=False)).tables[0]


def first_then_unchanged(folder: Path, url: str) -> Any:
    """A first run (a SQLite source's: keeps no prints), then a re-run that reads nothing."""
    source_db(folder)
    pg_exec(url, "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")
    plan = plan_for(folder, url)
    assert run(plan).inserted == ROWS
    again = run(plan)
    assert again.decision is not None and again.decision.mode == "unchanged"
    return plan


def test_an_unchanged_rerun_keeps_no_prints(tmp_path: Path, pg_url: str) -> None:
    first_then_unchanged(tmp_path, pg_url)
    kept = (
        pg_rows(pg_url, "SELECT count(*) FROM ferry.row_print_tables") if _present(pg_url) else []
    )
    assert not kept or kept[0][0] == 0


def test_a_row_deleted_after_an_unchanged_rerun_is_deleted(tmp_path: Path, pg_url: str) -> None:
    plan = first_then_unchanged(tmp_path, pg_url)
    db = sqlite3.connect(tmp_path / "app.db")
    with db:
        db.execute("DELETE FROM items WHERE id = 7")
    db.close()
    table = run(plan)
    assert table.deleted == 1
    assert pg_rows(pg_url, "SELECT count(*) FROM items WHERE id = 7")[0][0] == 0


def _present(url: str) -> bool:
    found = pg_rows(url, "SELECT to_regclass('ferry.row_print_tables') IS NOT NULL")
    return bool(found[0][0])
