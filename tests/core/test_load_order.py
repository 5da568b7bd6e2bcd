"""A run loads parents before children (ferry.load.loadorder), whatever the plan's order: a
child loaded straight into its empty table before its parent broke the target's foreign key,
and the run started over with that table staged (``read`` started again: one restart per such
table, three on a Prefect server's database). Real SQLite files, the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from pgkit import pg_exec, pg_rows

from ferry.events import Event, StepStarted
from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult

PARENT = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"

CHILD_BEFORE_PARENT = [
    {"name": "child", "source": "app.child"},
    {"name": "parent", "source": "app.parent"},
]


def source_file(folder: Path, schema: str, name: str = "app.db") -> Path:
    path = folder / name
    with sqlite3.connect(path) as conn:
        conn.executescript(schema)
    conn.close()
    return path


def keyed_app(folder: Path) -> Path:
    """A SQLite app file whose child table references its parent."""
    return source_file(
        folder,
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);"
        "CREATE TABLE child (id INTEGER PRIMARY KEY, "
        "parent_id INTEGER REFERENCES parent (id), v TEXT);"
        "INSERT INTO parent VALUES (1, 'a'), (2, 'b');"
        "INSERT INTO child VALUES (10, 1, 'x'), (11, 2, 'y'), (12, 1, 'z');",
    )


def run(folder: Path, sources: list[dict[str, Any]], target: str, tables: list[Any]) -> list[str]:
    """Migrate; the details of the run's ``read`` steps (a restart starts it ``again: …``)."""
    plan = plan_from_dict(
        {"name": "order", "sources": sources, "target": {"url": target}, "tables": tables},
        folder,
    )
    events: list[Event] = []
    result = asyncio.run(migrate(plan, emit=events.append, write_reports=False))
    assert result.rejected_total == 0
    return [e.detail for e in events if isinstance(e, StepStarted) and e.step == "read"]


def test_a_child_listed_before_its_parent_goes_into_the_apps_postgres_schema_without_a_restart(
    tmp_path: Path, pg_url: str
) -> None:
    app = keyed_app(tmp_path)
    pg_exec(
        pg_url,
        "CREATE TABLE parent (id bigint PRIMARY KEY, name text);"
        "CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent (id), "
        "v text)",
    )
    sources = [{"name": "app", "kind": "sqlite", "path": str(app)}]
    assert run(tmp_path, sources, pg_url, CHILD_BEFORE_PARENT) == [""]
    assert pg_rows(pg_url, "SELECT id, parent_id, v FROM child ORDER BY id") == [
        (10, 1, "x"),
        (11, 2, "y"),
        (12, 1, "z"),
    ]
    assert pg_rows(pg_url, "SELECT count(*) FROM parent") == [(2,)]


def test_a_child_listed_before_its_parent_goes_into_a_new_sqlite_file_without_a_restart(
    tmp_path: Path,
) -> None:
    # a SQLite target's foreign keys are part of CREATE TABLE: checked as the rows go in
    app = keyed_app(tmp_path)
    out = tmp_path / "out.db"
    sources = [{"name": "app", "kind": "sqlite", "path": str(app)}]
    assert run(tmp_path, sources, f"sqlite:///{out}", CHILD_BEFORE_PARENT) == [""]
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT id, parent_id, v FROM child ORDER BY id").fetchall() == [
            (10, 1, "x"),
            (11, 2, "y"),
            (12, 1, "z"),
        ]
        assert conn.execute("PRAGMA foreign_key_list(child)").fetchall() != []
    conn.close()


def test_a_file_that_declares_no_key_is_read_in_the_order_of_the_targets_keys(
    tmp_path: Path, pg_url: str
) -> None:
    # uuid columns: Python maps the rows (not SQLite), read as the file lists its tables
    # (child before parent by name, and the file says nothing of their relation)
    app = source_file(
        tmp_path,
        "CREATE TABLE parent (id CHAR(36) PRIMARY KEY, name TEXT);"
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id CHAR(36));"
        f"INSERT INTO parent VALUES ('{PARENT}', 'a'), ('{OTHER}', 'b');"
        f"INSERT INTO child VALUES (10, '{PARENT}'), (11, '{OTHER}');",
    )
    pg_exec(
        pg_url,
        "CREATE TABLE parent (id uuid PRIMARY KEY, name text);"
        "CREATE TABLE child (id bigint PRIMARY KEY, parent_id uuid REFERENCES parent (id))",
    )
    sources = [{"name": "app", "kind": "sqlite", "path": str(app)}]
    assert run(tmp_path, sources, pg_url, CHILD_BEFORE_PARENT) == [""]
    assert pg_rows(pg_url, "SELECT id, parent_id::text FROM child ORDER BY id") == [
        (10, PARENT),
        (11, OTHER),
    ]


def test_a_parent_in_the_second_source_is_read_before_its_child_in_the_first(
    tmp_path: Path, pg_url: str
) -> None:
    kids = source_file(
        tmp_path,
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER);"
        "INSERT INTO child VALUES (10, 1), (11, 2);",
        "kids.db",
    )
    parents = source_file(
        tmp_path,
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO parent VALUES (1, 'a'), (2, 'b');",
        "parents.db",
    )
    pg_exec(
        pg_url,
        "CREATE TABLE parent (id bigint PRIMARY KEY, name text);"
        "CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent (id))",
    )
    sources = [
        {"name": "kids", "kind": "sqlite", "path": str(kids)},
        {"name": "parents", "kind": "sqlite", "path": str(parents)},
    ]
    tables = [
        {"name": "child", "source": "kids.child"},
        {"name": "parent", "source": "parents.parent"},
    ]
    assert run(tmp_path, sources, pg_url, tables) == [""]
    assert pg_rows(pg_url, "SELECT id, parent_id FROM child ORDER BY id") == [(10, 1), (11, 2)]


def test_a_postgres_source_that_declares_no_key_is_read_in_the_order_of_the_targets_keys(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    pg_exec(
        pg_source,
        "CREATE TABLE parent (id bigint PRIMARY KEY, name text);"
        "CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint);"
        "INSERT INTO parent VALUES (1, 'a'), (2, 'b'); INSERT INTO child VALUES (10, 1), (11, 2)",
    )
    pg_exec(
        pg_url,
        "CREATE TABLE parent (id bigint PRIMARY KEY, name text);"
        "CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent (id))",
    )
    sources = [{"name": "app", "kind": "postgres", "url": pg_source}]
    assert run(tmp_path, sources, pg_url, CHILD_BEFORE_PARENT) == [""]
    assert pg_rows(pg_url, "SELECT id, parent_id FROM child ORDER BY id") == [(10, 1), (11, 2)]


def json_parent_app(folder: Path) -> Path:
    """A SQLite app file whose parent has a JSON column (Python maps its rows) and whose
    child has plain columns (SQLite could map them itself)."""
    return source_file(
        folder,
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, data JSON);"
        "CREATE TABLE child (id INTEGER PRIMARY KEY, "
        "parent_id INTEGER REFERENCES parent (id), v TEXT);"
        """INSERT INTO parent VALUES (1, '{"a": 1}'), (2, '{"b": 2}');"""
        "INSERT INTO child VALUES (10, 1, 'x'), (11, 2, 'y');",
    )


def migrate_parent_first(folder: Path, app: Path, target: str) -> tuple[RunResult, list[str]]:
    """Migrate parent then child from ``app``; the result and its ``read`` steps' details."""
    plan = plan_from_dict(
        {
            "name": "order",
            "sources": [{"name": "app", "kind": "sqlite", "path": str(app)}],
            "target": {"url": target},
            "tables": [
                {"name": "parent", "source": "app.parent"},
                {"name": "child", "source": "app.child"},
            ],
        },
        folder,
    )
    events: list[Event] = []
    result = asyncio.run(migrate(plan, emit=events.append, write_reports=False))
    assert result.rejected_total == 0
    return result, [e.detail for e in events if isinstance(e, StepStarted) and e.step == "read"]


def test_a_child_sqlite_could_map_goes_after_a_parent_python_maps(
    tmp_path: Path, pg_url: str
) -> None:
    # SQLite's own loads of a file run before the rows Python maps are read from it: the
    # child (plain columns) went in before its parent (JSON, mapped by Python), refused by
    # the existing table's key (an MLflow database restarted twelve times)
    app = json_parent_app(tmp_path)
    pg_exec(
        pg_url,
        "CREATE TABLE parent (id bigint PRIMARY KEY, data jsonb);"
        "CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent (id), "
        "v text)",
    )
    result, reads = migrate_parent_first(tmp_path, app, pg_url)
    assert reads == [""]
    child = result.table("child").decision
    assert child is not None and (child.mode, child.facts.native_blocker) == (
        "direct",
        "it references parent, whose rows go in after those SQLite maps (direct)",
    )
    assert pg_rows(pg_url, "SELECT id, parent_id, v FROM child ORDER BY id") == [
        (10, 1, "x"),
        (11, 2, "y"),
    ]


def test_a_new_sqlite_child_sqlite_could_map_goes_after_a_parent_python_maps(
    tmp_path: Path,
) -> None:
    # a new SQLite table's keys are checked right after SQLite's load (ferry.targets.sqlitekeys),
    # before the parent's rows Python maps are written
    app = json_parent_app(tmp_path)
    out = tmp_path / "out.db"
    result, reads = migrate_parent_first(tmp_path, app, f"sqlite:///{out}")
    assert reads == [""]
    child = result.table("child").decision
    assert child is not None and child.mode == "direct"
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT id, parent_id, v FROM child ORDER BY id").fetchall() == [
            (10, 1, "x"),
            (11, 2, "y"),
        ]
    conn.close()


def test_a_new_postgres_child_of_a_parent_python_maps_is_still_mapped_by_sqlite(
    tmp_path: Path, pg_url: str
) -> None:
    # a table the run creates in PostgreSQL gets its foreign keys once every row is in
    app = json_parent_app(tmp_path)
    result, reads = migrate_parent_first(tmp_path, app, pg_url)
    assert reads == [""]
    child = result.table("child").decision
    assert child is not None and child.mode == "native"
    assert pg_rows(pg_url, "SELECT id, parent_id, v FROM child ORDER BY id") == [
        (10, 1, "x"),
        (11, 2, "y"),
    ]
    assert pg_rows(
        pg_url,
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'child'::regclass AND contype = 'f'",
    ) == [(1,)]


def test_an_empty_child_of_a_table_holding_rows_is_merged_after_it(
    tmp_path: Path, pg_url: str
) -> None:
    # the app filled the parent itself (a Prefect server's block_type): its new rows are
    # merged once every row is read; the empty child's went in straight, before them
    app = keyed_app(tmp_path)
    pg_exec(
        pg_url,
        "CREATE TABLE parent (id bigint PRIMARY KEY, name text);"
        "CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent (id), "
        "v text); INSERT INTO parent VALUES (1, 'made by the app')",
    )
    plan = plan_from_dict(
        {
            "name": "order",
            "sources": [{"name": "app", "kind": "sqlite", "path": str(app)}],
            "target": {"url": pg_url},
            "tables": [
                {"name": "parent", "source": "app.parent"},
                {"name": "child", "source": "app.child"},
            ],
        },
        tmp_path,
    )
    events: list[Event] = []
    result = asyncio.run(migrate(plan, emit=events.append, write_reports=False))
    assert [e.detail for e in events if isinstance(e, StepStarted) and e.step == "read"] == [""]
    child = result.table("child")
    assert child.decision is not None and child.decision.why == (
        "empty, but its parent table parent is merged after the load: staged and merged "
        "after it, so its rows find their parents"
    )
    assert pg_rows(pg_url, "SELECT id, parent_id FROM child ORDER BY id") == [
        (10, 1),
        (11, 2),
        (12, 1),
    ]
