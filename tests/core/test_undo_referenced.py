"""Undo of a run whose inserted rows the app's own rows now reference.

Found keeping a task app in sync: the run inserted a project, the app (on the new store) added
tasks to it, and `ferry undo` (with or without ``--keep-app-changes``) stopped on the target's
"FOREIGN KEY constraint failed", naming neither the tasks nor the project; with ``ON DELETE
CASCADE`` it named the table only. Now it refuses before deleting, naming the app's rows and the
references, and the target is unchanged. Real SQLite files and the real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from pgkit import pg_exec, pg_rows

from ferry.migrate import migrate
from ferry.plan import Plan, plan_from_dict
from ferry.undo.engine import undo
from ferry.undo.result import UndoRefused


def _plan(folder: Path, url: str, on_delete: str = "") -> Plan:
    db = sqlite3.connect(folder / "app.db")
    db.executescript(
        f"""
        CREATE TABLE projects (id INTEGER PRIMARY KEY, title TEXT NOT NULL);
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) {on_delete},
            title TEXT NOT NULL
        );
        INSERT INTO projects VALUES (1, 'first');
        INSERT INTO tasks VALUES (1, 1, 'a');
        """
    )
    db.close()
    return plan_from_dict(
        {
            "name": "tasks",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
            "tables": [
                {"name": "projects", "source": "app.projects", "key": ["id"]},
                {"name": "tasks", "source": "app.tasks", "key": ["id"]},
            ],
            "options": {"undo_first_loads": True},
        },
        folder,
    )


def _second_run(folder: Path, plan: Plan) -> str:
    """A first run, then the source's new project 2 carried by a second run (its id)."""
    asyncio.run(migrate(plan))
    with sqlite3.connect(folder / "app.db") as db:
        db.execute("INSERT INTO projects VALUES (2, 'second')")
    db.close()
    return asyncio.run(migrate(plan)).run_id


def _app_task_sqlite(folder: Path) -> None:
    db = sqlite3.connect(folder / "new.db")
    db.execute("PRAGMA foreign_keys = ON")
    with db:
        db.execute("INSERT INTO tasks (id, project_id, title) VALUES (7, 2, 'the app''s')")
    db.close()


def _refusal(plan: Plan, run_id: str | None, keep: bool = False) -> str:
    with pytest.raises(UndoRefused) as refused:
        asyncio.run(undo(plan, run_id=run_id, keep_app_changes=keep, write_reports=False))
    return refused.value.message


def test_undo_names_the_app_rows_that_reference_an_inserted_row(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "sqlite:///new.db")
    run_id = _second_run(tmp_path, plan)
    _app_task_sqlite(tmp_path)

    message = _refusal(plan, run_id)

    assert "rows of tasks the undo leaves reference rows of projects" in message
    assert "(tasks: id=7, project_id=2)" in message


def test_keep_app_changes_names_them_too_and_changes_nothing(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "sqlite:///new.db")
    run_id = _second_run(tmp_path, plan)
    _app_task_sqlite(tmp_path)

    message = _refusal(plan, run_id, keep=True)

    assert "(tasks: id=7, project_id=2)" in message
    with sqlite3.connect(tmp_path / "new.db") as db:
        assert db.execute("SELECT id FROM projects ORDER BY id").fetchall() == [(1,), (2,)]
        assert db.execute("SELECT id FROM tasks ORDER BY id").fetchall() == [(1,), (7,)]
    db.close()


def test_a_cascade_that_would_take_the_app_rows_names_them(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "sqlite:///new.db", "ON DELETE CASCADE")
    run_id = _second_run(tmp_path, plan)
    _app_task_sqlite(tmp_path)

    message = _refusal(plan, run_id)

    assert "(tasks: id=7, project_id=2)" in message


def test_postgresql_names_them_for_a_later_run(tmp_path: Path, pg_url: str) -> None:
    plan = _plan(tmp_path, pg_url)
    run_id = _second_run(tmp_path, plan)
    pg_exec(pg_url, "INSERT INTO tasks (id, project_id, title) VALUES (7, 2, 'app')")

    message = _refusal(plan, run_id)

    assert "(tasks: id=7, project_id=2)" in message
    assert pg_rows(pg_url, "SELECT id FROM projects ORDER BY id") == [(1,), (2,)]


def test_postgresql_names_them_for_a_first_load(tmp_path: Path, pg_url: str) -> None:
    plan = _plan(tmp_path, pg_url)
    run_id = asyncio.run(migrate(plan)).run_id
    pg_exec(pg_url, "INSERT INTO tasks (id, project_id, title) VALUES (7, 1, 'app')")

    message = _refusal(plan, run_id, keep=True)

    assert "(tasks: id=7, project_id=1)" in message
    assert pg_rows(pg_url, "SELECT id FROM tasks ORDER BY id") == [(1,), (7,)]
