"""Where Ferry keeps its own tables (issue 17 item 8): a PostgreSQL target's journal lives in
the schema ``ferry``, out of the app's sight; a SQLite file's is ``_ferry_runs`` and
``_ferry_rejects``. A journal an older version left in the app's schema is still read (re-run
detection, verify, rollback). Real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from backupkit import backup
from pgkit import pg_exec, pg_rows
from sqlalchemy import create_engine, inspect

from ferry.errors import TargetError
from ferry.events import TableProgress
from ferry.migrate import migrate
from ferry.plan import Plan, plan_from_dict
from ferry.results import RunResult
from ferry.rollback import rollback
from ferry.verify.run import verify

ROWS = 20


def source_db(folder: Path) -> None:
    db = sqlite3.connect(folder / "app.db")
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty TEXT)")
    with db:
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?)",
            [(i, f"item {i}", "lots" if i == 4 else str(i)) for i in range(1, ROWS + 1)],
        )
    db.close()


def plan_for(folder: Path, url: str) -> Plan:
    """Items from a SQLite file; row 4's qty is no number, so the run rejects it."""
    source_db(folder)
    return plan_from_dict(
        {
            "name": "journal",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [
                {"name": "items", "source": "app.items", "types": {"qty": "integer"}},
            ],
        },
        folder,
    )


def run(plan: Plan) -> tuple[RunResult, bool]:
    """The result, and whether the table was read (progress events came)."""
    events: list[Any] = []
    result = asyncio.run(migrate(plan, emit=events.append, write_reports=False))
    return result, any(isinstance(e, TableProgress) for e in events)


def public_tables(url: str) -> list[str]:
    """What an app's schema check sees: SQLAlchemy's table names of the default schema."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def to_old_layout_pg(url: str) -> None:
    """Make the target look as a Ferry without the ``ferry`` schema left it."""
    pg_exec(
        url,
        "ALTER TABLE ferry.runs SET SCHEMA public",
        "ALTER TABLE public.runs RENAME TO ferry_runs",
        "ALTER TABLE ferry.rejects SET SCHEMA public",
        "ALTER TABLE public.rejects RENAME TO ferry_rejects",
        "DROP SCHEMA ferry CASCADE",  # (changesets, row prints: an older Ferry lacked them)
    )


def test_postgres_journal_lives_in_the_ferry_schema(tmp_path: Path, pg_url: str) -> None:
    result, _ = run(plan_for(tmp_path, pg_url))
    assert public_tables(pg_url) == ["items"]
    assert pg_rows(pg_url, "SELECT run_id, status FROM ferry.runs") == [
        (result.run_id, "completed")
    ]
    assert pg_rows(pg_url, "SELECT table_name, key_text FROM ferry.rejects") == [("items", "id=4")]


def test_sqlite_journal_tables_start_with_an_underscore(tmp_path: Path) -> None:
    result, _ = run(plan_for(tmp_path, "sqlite:///target.db"))
    db = sqlite3.connect(tmp_path / "target.db")
    names = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1").fetchall()
    runs = db.execute("SELECT run_id FROM _ferry_runs").fetchall()
    db.close()
    # (the changeset for `ferry undo`: ferry.load.changeset)
    assert names == [
        ("_ferry_changesets",),
        ("_ferry_img_items",),
        ("_ferry_rejects",),
        ("_ferry_runs",),
        ("items",),
    ]
    assert runs == [(result.run_id,)]


def test_old_sqlite_journal_still_explains_rejected_rows(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, "sqlite:///target.db")
    run(plan)
    db = sqlite3.connect(tmp_path / "target.db")
    db.execute("ALTER TABLE _ferry_runs RENAME TO ferry_runs")
    db.execute("ALTER TABLE _ferry_rejects RENAME TO ferry_rejects")
    db.commit()
    db.close()
    result = asyncio.run(verify(plan))
    assert result.verdict == "PASS"
    assert (result.tables[0].rejected, result.tables[0].missing) == (1, 0)


def test_old_postgres_journal_still_lets_a_rerun_skip(tmp_path: Path, pg_url: str) -> None:
    folder = tmp_path
    db = sqlite3.connect(folder / "app.db")
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    with db:
        db.executemany("INSERT INTO items VALUES (?, ?)", [(i, f"n{i}") for i in range(ROWS)])
    db.close()
    old = time.time() - 60  # older than the racy window: equal file times prove no change
    os.utime(folder / "app.db", (old, old))
    plan = plan_from_dict(
        {
            "name": "journal",
            "target": {"url": pg_url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [{"name": "items", "source": "app.items"}],
        },
        folder,
    )
    first, _ = run(plan)
    to_old_layout_pg(pg_url)
    second, read = run(plan)
    assert not read and second.tables[0].unchanged == ROWS
    assert pg_rows(pg_url, "SELECT run_id FROM public.ferry_runs") == [(first.run_id,)]
    assert pg_rows(pg_url, "SELECT run_id FROM ferry.runs") == [(second.run_id,)]


def test_rollback_brings_an_old_postgres_journal_back(tmp_path: Path, pg_url: str) -> None:
    plan = plan_for(tmp_path, pg_url)
    first, _ = run(plan)
    to_old_layout_pg(pg_url)
    backup(plan)
    pg_exec(pg_url, "UPDATE items SET name = 'edited' WHERE id = 1")
    second, _ = run(plan)
    done = asyncio.run(rollback(plan))
    assert pg_rows(pg_url, "SELECT run_id FROM public.ferry_runs") == [(first.run_id,)]
    # The run since the backup stays in the history (this version's journal), rolled back,
    # beside the rollback itself (ferry.runhistory); nothing else of it is left.
    assert pg_rows(pg_url, "SELECT run_id, mode, status FROM ferry.runs ORDER BY started_at") == [
        (second.run_id, "migrate", "rolled_back"),
        (done.run_id, "rollback", "completed"),
    ]
    assert pg_rows(pg_url, "SELECT name FROM items WHERE id = 1") == [("item 1",)]


@pytest.fixture
def weak_role(pg_url: str) -> Any:
    """A role that may use the public schema but not create a schema in the database."""
    role = f"ferry_weak_{uuid.uuid4().hex[:8]}"
    database = pg_url.rsplit("/", 1)[1]
    pg_exec(
        pg_url,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT CONNECT ON DATABASE {database} TO {role}",
        f"GRANT USAGE, CREATE ON SCHEMA public TO {role}",
    )
    try:
        yield role, pg_url.replace("postgres@", f"{role}@", 1)
    finally:
        pg_exec(pg_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_a_role_that_cannot_create_the_schema_gets_a_clear_error(
    tmp_path: Path, pg_url: str, weak_role: tuple[str, str]
) -> None:
    _, url = weak_role
    with pytest.raises(TargetError) as caught:
        run(plan_for(tmp_path, url))
    assert caught.value.message.startswith("cannot create Ferry's journal ferry.runs: ")
    assert "CREATE SCHEMA ferry AUTHORIZATION <role>" in (caught.value.hint or "")
    assert pg_rows(pg_url, "SELECT to_regclass('public.items') IS NULL") == [(True,)]
