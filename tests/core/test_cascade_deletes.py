"""Deletions a run propagates (``delete_missing``) into a target whose foreign keys cascade.

Found on a task-tracker app (projects → tasks → task_tags, ``ON DELETE CASCADE``): the app
deleted a project, the next run deleted it from the target, and SQLite's cascade took its tasks
with it. The run counted the project only, and ``ferry undo`` put the project back but not its
tasks, with a proof that passed. Now the rows missing from the source are deleted children
first (:func:`ferry.load.finish.merge_tables`), each table's counted and recorded.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from pgkit import pg_rows

from ferry.migrate import migrate
from ferry.plan import Plan, plan_from_dict
from ferry.undo.engine import undo


def _app(folder: Path, target: str = "sqlite:///new.db") -> Plan:
    db = sqlite3.connect(folder / "app.db")
    db.executescript(
        """
        PRAGMA foreign_keys = ON;
        CREATE TABLE projects (id INTEGER PRIMARY KEY, title TEXT NOT NULL);
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            title TEXT NOT NULL
        );
        INSERT INTO projects VALUES (1, 'kept'), (2, 'deleted by the app');
        INSERT INTO tasks VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 2, 'c');
        """
    )
    db.close()
    return plan_from_dict(
        {
            "name": "cascade",
            "target": {"url": target},
            "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
            "tables": [
                {"name": "projects", "source": "app.projects", "key": ["id"],
                 "delete_missing": True},
                {"name": "tasks", "source": "app.tasks", "key": ["id"], "delete_missing": True},
            ],
            "options": {"undo_first_loads": True},
        },
        folder,
    )  # fmt: skip


def _delete_project(folder: Path) -> None:
    db = sqlite3.connect(folder / "app.db")
    db.execute("PRAGMA foreign_keys = ON")
    with db:
        db.execute("DELETE FROM projects WHERE id = 2")  # its tasks 2 and 3 cascade
    db.close()


def _tasks(folder: Path, target: str = "") -> list[tuple[int, int, str]]:
    query = "SELECT id, project_id, title FROM tasks ORDER BY id"
    if target:
        return [(int(i), int(p), str(t)) for i, p, t in pg_rows(target, query)]
    db = sqlite3.connect(folder / "new.db")
    rows = db.execute(query).fetchall()
    db.close()
    return rows


def test_a_run_counts_the_rows_a_cascade_deleted(tmp_path: Path) -> None:
    plan = _app(tmp_path)
    asyncio.run(migrate(plan))
    _delete_project(tmp_path)

    result = asyncio.run(migrate(plan))

    assert _tasks(tmp_path) == [(1, 1, "a")]
    deleted = {t.name: t.deleted for t in result.tables}
    assert deleted == {"projects": 1, "tasks": 2}


def test_undo_puts_back_the_rows_a_cascade_deleted(tmp_path: Path) -> None:
    plan = _app(tmp_path)
    asyncio.run(migrate(plan))
    before = _tasks(tmp_path)
    _delete_project(tmp_path)
    run = asyncio.run(migrate(plan))

    asyncio.run(undo(plan, run_id=run.run_id, write_reports=False))

    assert _tasks(tmp_path) == before


def test_undo_puts_back_the_rows_a_cascade_deleted_on_postgres(tmp_path: Path, pg_url: str) -> None:
    plan = _app(tmp_path, pg_url)
    asyncio.run(migrate(plan))
    before = _tasks(tmp_path, pg_url)
    _delete_project(tmp_path)
    run = asyncio.run(migrate(plan))
    assert {t.name: t.deleted for t in run.tables} == {"projects": 1, "tasks": 2}

    asyncio.run(undo(plan, run_id=run.run_id, write_reports=False))

    assert _tasks(tmp_path, pg_url) == before
