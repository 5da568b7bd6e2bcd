"""Rollback to a backup, the same on SQLite and PostgreSQL (ferry.rollback).

Each test runs once per dialect (``target``: tests/core/contract/conftest.py) on the app of
tests/core/backupkit.py: its file sources, and a target table ``jobs`` holding jobs 1 and 2.
How each dialect puts a target back (a file copy; rows, columns, sequences and functions) and
what it refuses is in test_rollback.py and test_rollback_pg.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from backupkit import JOBS_JSON, backup, dump, load, make_app, pg_plan, sqlite_exec
from targetkit import Target
from test_rollback_pg import snapshot

from ferry.migrate import migrate
from ferry.plan import Plan
from ferry.rollback import RollbackResult, rollback


def roll(plan: Plan, **kwargs: Any) -> RollbackResult:
    return asyncio.run(rollback(plan, **kwargs))


@pytest.fixture
def app(target: Target) -> Path:
    """The app's plan file; its target holds jobs (1, 'old') and (2, 'mux')."""
    if target.is_sqlite:
        return make_app(target.folder)
    target.exec(
        "CREATE TABLE jobs (id bigint PRIMARY KEY, name text NOT NULL)",
        "INSERT INTO jobs VALUES (1, 'old'), (2, 'mux')",
    )
    return pg_plan(target.folder, target.url)


def state(target: Target) -> object:
    """The app's part of the target: its dump without Ferry's journal (SQLite), the public
    schema's tables, columns and rows (PostgreSQL; the journal has a schema of its own)."""
    if target.is_sqlite:
        return [line for line in dump(target.file()) if "_ferry_" not in line]
    return snapshot(target.url)


def test_rollback_undoes_a_real_migration(app: Path, target: Target) -> None:
    plan = load(app)
    before = state(target)
    backup(plan)
    asyncio.run(migrate(plan))
    assert target.rows("SELECT id, name FROM jobs ORDER BY id") == [
        (1, "probe"),
        (2, "mux"),
        (3, "publish"),
    ]

    done = roll(plan)

    # The app's tables are as backed up; Ferry's journal keeps the run, rolled back
    # (ferry.runhistory), and the rollback's own run.
    assert state(target) == before
    assert target.rows(f"SELECT mode, status FROM {target.runs_table} ORDER BY started_at") == [
        ("migrate", "rolled_back"),
        ("rollback", "completed"),
    ]
    assert done.run_id and len(done.rolled_back_runs) == 1


def test_rollback_leaves_sources_alone_unless_asked(app: Path, target: Target) -> None:
    plan = load(app)
    backup(plan)
    (target.folder / "jobs.json").write_text("[]\n", encoding="utf-8")

    result = roll(plan)

    assert (target.folder / "jobs.json").read_text(encoding="utf-8") == "[]\n"
    assert result.sources == []


def test_rollback_with_sources_restores_every_source_file(app: Path, target: Target) -> None:
    folder = target.folder
    plan = load(app)
    state_before = dump(folder / "state.db")
    backup(plan)
    (folder / "jobs.json").write_text("[]\n", encoding="utf-8")
    (folder / "heartbeat_b.txt").unlink()
    sqlite_exec(folder / "state.db", "DELETE FROM progress", "CREATE TABLE more (y)")

    result = roll(plan, restore_sources=True)

    assert (folder / "jobs.json").read_text(encoding="utf-8") == JOBS_JSON
    assert (folder / "heartbeat_b.txt").read_text(encoding="utf-8") == "2026-11-21T07:00:05Z\n"
    assert dump(folder / "state.db") == state_before
    assert len(result.sources) == 4
    assert result.sources == [
        f"{folder / 'jobs.json'}: restored from sources/000-jobs.json (hash checked)",
        f"{folder / 'state.db'}: restored from sources/001-state.db (hash checked)",
        f"{folder / 'heartbeat_a.txt'}: restored from sources/002-heartbeat_a.txt (hash checked)",
        f"{folder / 'heartbeat_b.txt'}: restored from sources/003-heartbeat_b.txt (hash checked)",
    ]
