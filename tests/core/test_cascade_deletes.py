"""Deletions a run propagates (``delete_missing``) into a target whose foreign keys cascade.

Found on a task-tracker app (projects → tasks → task_tags, ``ON DELETE CASCADE``): the app
deleted a project, the next run deleted it from the target, and SQLite's cascade took its tasks
with it. The run counted the project only, and ``ferry undo`` put the project back but not its
tasks, with a proof that passed. Now every table's deletes run before any merge, children
first (``LoadStrategy.delete_first``): the cascade finds nothing left to take.
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


def _app(folder: Path, url: str = "sqlite:///new.db", tasks_delete: bool = True) -> Plan:
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
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
            "tables": [
                {"name": "projects", "source": "app.projects", "key": ["id"],
                 "delete_missing": True},
                {"name": "tasks", "source": "app.tasks", "key": ["id"],
                 "delete_missing": tasks_delete},
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


def _tasks(folder: Path) -> list[tuple[int, int, str]]:
    db = sqlite3.connect(folder / "new.db")
    rows = db.execute("SELECT id, project_id, title FROM tasks ORDER BY id").fetchall()
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


def test_undo_puts_back_the_rows_a_postgresql_cascade_deleted(tmp_path: Path, pg_url: str) -> None:
    plan = _app(tmp_path, pg_url)
    asyncio.run(migrate(plan))
    _delete_project(tmp_path)
    run = asyncio.run(migrate(plan))
    assert {t.name: t.deleted for t in run.tables} == {"projects": 1, "tasks": 2}

    asyncio.run(undo(plan, run_id=run.run_id, write_reports=False))

    tasks = pg_rows(pg_url, "SELECT id, project_id, title FROM tasks ORDER BY id")
    assert [tuple(r) for r in tasks] == [(1, 1, "a"), (2, 2, "b"), (3, 2, "c")]


def test_a_cascade_into_a_table_that_deletes_nothing_is_named(tmp_path: Path) -> None:
    plan = _app(tmp_path, tasks_delete=False)
    asyncio.run(migrate(plan))
    _delete_project(tmp_path)

    result = asyncio.run(migrate(plan))

    assert _tasks(tmp_path) == [(1, 1, "a")]
    [named] = [w for w in result.warnings if "ON DELETE CASCADE" in w]
    assert named.startswith("deleting 1 rows of projects deleted 2 rows of tasks")
    assert "`ferry undo` of this run cannot put them back" in named


def test_undo_of_a_run_whose_deletes_cascaded_unrecorded_refuses(tmp_path: Path) -> None:
    plan = _app(tmp_path, tasks_delete=False)
    asyncio.run(migrate(plan))
    _delete_project(tmp_path)
    run = asyncio.run(migrate(plan))

    with pytest.raises(UndoRefused) as refused:
        asyncio.run(undo(plan, run_id=run.run_id, write_reports=False))

    assert "tasks: deleting 1 rows of projects deleted 2 rows of tasks" in refused.value.message
    assert _tasks(tmp_path) == [(1, 1, "a")]


def test_a_set_null_into_a_table_not_in_the_plan_is_named(tmp_path: Path, pg_url: str) -> None:
    plan = _app(tmp_path, pg_url)
    asyncio.run(migrate(plan))
    pg_exec(
        pg_url,
        "CREATE TABLE notes (id int PRIMARY KEY, "
        "project_id bigint REFERENCES projects (id) ON DELETE SET NULL)",
        "INSERT INTO notes VALUES (1, 2), (2, 2), (3, 1)",
    )
    _delete_project(tmp_path)

    result = asyncio.run(migrate(plan))

    [named] = [w for w in result.warnings if "SET NULL" in w]
    assert named.startswith("deleting 1 rows of projects changed (SET NULL) 2 rows of notes")


def test_a_self_referencing_cascade_counts_each_row_once_and_undoes(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "app.db")
    db.executescript(
        "PRAGMA foreign_keys = ON;"
        "CREATE TABLE comments (id INTEGER PRIMARY KEY, "
        "parent_id INTEGER REFERENCES comments(id) ON DELETE CASCADE, body TEXT);"
        "INSERT INTO comments VALUES (1, NULL, 'root'), (2, 1, 'reply'), (3, NULL, 'kept');"
    )
    db.close()
    plan = plan_from_dict(
        {
            "name": "thread",
            "target": {"url": "sqlite:///new.db"},
            "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
            "tables": [
                {
                    "name": "comments",
                    "source": "app.comments",
                    "key": ["id"],
                    "delete_missing": True,
                }
            ],
            "options": {"undo_first_loads": True},
        },
        tmp_path,
    )
    asyncio.run(migrate(plan))
    db = sqlite3.connect(tmp_path / "app.db")
    db.execute("PRAGMA foreign_keys = ON")
    with db:
        db.execute("DELETE FROM comments WHERE id = 1")  # its reply cascades
    db.close()

    run = asyncio.run(migrate(plan))

    assert run.tables[0].deleted == 2
    assert not [w for w in run.warnings if "ON DELETE" in w]
    asyncio.run(undo(plan, run_id=run.run_id, write_reports=False))
    with sqlite3.connect(tmp_path / "new.db") as back:
        assert back.execute("SELECT id FROM comments ORDER BY id").fetchall() == [(1,), (2,), (3,)]
