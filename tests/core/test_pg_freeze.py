"""A first load into a table the run created writes its rows frozen (``COPY … FREEZE``,
ferry.targets.pgfreeze); a load into an empty table that was there before does not."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgkit import pg_exec, pg_rows

from ferry.migrate import migrate
from ferry.plan import plan_from_dict

pytestmark = pytest.mark.pg


def _plan(folder: Path, url: str) -> Any:
    db = sqlite3.connect(folder / "app.db")
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    with db:
        db.executemany("INSERT INTO notes VALUES (?, ?)", [(i, f"note {i}") for i in range(5)])
    db.close()
    return plan_from_dict(
        {
            "name": "freeze",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [{"name": "notes", "source": "app.notes", "key": ["id"]}],
        },
        folder,
    )


def _rows_seen_by_a_snapshot_taken_before_the_run(plan: Any, url: str) -> int:
    """Rows of ``notes`` a REPEATABLE READ snapshot taken before the run reads after it:
    frozen rows are visible to it, rows of an ordinary committed insert are not."""
    with psycopg.connect(url) as old:
        old.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        old.execute("SELECT 1")  # the snapshot
        result = asyncio.run(migrate(plan, write_reports=False))
        assert result.status == "completed"
        row = old.execute("SELECT count(*) FROM notes").fetchone()
        return int(row[0]) if row else -1


def test_a_first_load_writes_its_rows_frozen(tmp_path: Path, pg_url: str) -> None:
    assert _rows_seen_by_a_snapshot_taken_before_the_run(_plan(tmp_path, pg_url), pg_url) == 5


def test_an_empty_table_made_before_the_run_is_loaded_unfrozen(tmp_path: Path, pg_url: str) -> None:
    # The server takes FREEZE only for a table created in the loading subtransaction.
    pg_exec(pg_url, "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT)")
    assert _rows_seen_by_a_snapshot_taken_before_the_run(_plan(tmp_path, pg_url), pg_url) == 0
    assert pg_rows(pg_url, "SELECT count(*) FROM notes") == [(5,)]


def test_frozen_rows_keep_the_loading_transactions_xmin(tmp_path: Path, pg_url: str) -> None:
    # undo's row version and the re-run fingerprint read it
    asyncio.run(migrate(_plan(tmp_path, pg_url), write_reports=False))
    xmins = pg_rows(pg_url, "SELECT DISTINCT xmin::text FROM notes")
    recorded = pg_rows(
        pg_url, "SELECT loaded_version FROM ferry.changesets WHERE table_name = 'notes'"
    )
    assert xmins == recorded
    assert xmins != [("2",)]  # not FrozenTransactionId


def test_a_savepoint_rolled_back_before_the_load_leaves_the_rows_unfrozen(
    tmp_path: Path, pg_url: str
) -> None:
    """``tally`` (the app's, staged) refuses a row first: its batch's savepoint is rolled back,
    which leaves later statements in a newer subtransaction than ``notes``' creation; the
    server would refuse FREEZE there, so ``notes`` is loaded unfrozen and the run completes."""
    pg_exec(pg_url, "CREATE TABLE tally (id BIGINT PRIMARY KEY, n INTEGER)")
    _plan(tmp_path, pg_url)  # app.db with its notes
    db = sqlite3.connect(tmp_path / "app.db")
    db.execute("CREATE TABLE tally (id INTEGER PRIMARY KEY, n TEXT)")
    with db:
        db.executemany("INSERT INTO tally VALUES (?, ?)", [(1, "7"), (2, "99999999999")])
    db.close()
    plan = plan_from_dict(
        {
            "name": "freeze",
            "target": {"url": pg_url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(tmp_path / "app.db")}],
            "tables": [
                {"name": "tally", "source": "app.tally", "key": ["id"]},
                {"name": "notes", "source": "app.notes", "key": ["id"]},
            ],
        },
        tmp_path,
    )
    assert _rows_seen_by_a_snapshot_taken_before_the_run(plan, pg_url) == 0
    assert pg_rows(pg_url, "SELECT count(*) FROM notes") == [(5,)]
    assert pg_rows(pg_url, "SELECT id, n FROM tally") == [(1, 7)]
