"""``x INTEGER PRIMARY KEY DESC`` is not SQLite's rowid (a documented quirk of the column
constraint form: https://www.sqlite.org/lang_createtable.html#rowid); ``PRIMARY KEY (x DESC)``
as a table constraint is.

Ferry took every ``INTEGER`` primary key for the rowid: the target numbered the key itself (a
PostgreSQL identity, a SQLite rowid alias) where the source's numbers nothing, and a row the
app inserted without a key got a number on the target instead of being refused. Real SQLite
files, real PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from pgkit import pg_rows, settled
from sqlalchemy import create_engine, inspect

from ferry.api import migrate
from ferry.plan import Plan, plan_from_dict
from ferry.shape.schema import reflect_tables

SCHEMA = """
CREATE TABLE job (x INTEGER PRIMARY KEY DESC, name TEXT NOT NULL);
CREATE TABLE step (x INTEGER, name TEXT NOT NULL, PRIMARY KEY (x DESC));
"""
#: keys given out of rowid order: the rowids of ``job`` are 1, 2, 3, its keys 30, 10, 20
ROWS = [(30, "a"), (10, "b"), (20, "c")]


def _plan(folder: Path, url: str) -> Plan:
    with sqlite3.connect(folder / "app.db") as conn:
        conn.executescript(SCHEMA)
        for table in ("job", "step"):
            conn.executemany(f"INSERT INTO {table} (x, name) VALUES (?, ?)", ROWS)
    conn.close()
    return plan_from_dict(
        {
            "version": 1,
            "name": "desc",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [{"name": t, "source": f"app.{t}", "key": ["x"]} for t in ("job", "step")],
            "options": {"row_prints": True},
        },
        base_dir=folder,
    )


def _migrated(plan: Plan) -> None:
    asyncio.run(migrate(plan, write_reports=False))
    if not plan.target.url.startswith("sqlite"):
        settled(plan.target.url)


def _target_rows(url: str, folder: Path, table: str) -> list[tuple[object, ...]]:
    sql = f"SELECT x, name FROM {table} ORDER BY x"
    if url.startswith("sqlite"):
        with sqlite3.connect(folder / "target.db") as conn:
            return conn.execute(sql).fetchall()
    return [tuple(r) for r in pg_rows(url, sql)]


def _numbers_its_key(url: str, folder: Path, table: str) -> bool:
    """Whether the target fills ``x`` for a row given without one."""
    if url.startswith("sqlite"):
        with sqlite3.connect(folder / "target.db") as conn:
            try:
                conn.execute(f"INSERT INTO {table} (name) VALUES ('new')")
            except sqlite3.IntegrityError:
                return False
            finally:
                conn.rollback()
        return True
    found = pg_rows(
        url,
        "SELECT attidentity <> '' FROM pg_attribute "
        f"WHERE attrelid = '{table}'::regclass AND attname = 'x'",
    )
    return bool(found[0][0])


@pytest.fixture
def moved(tmp_path: Path, target_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Plan, str]:
    monkeypatch.chdir(tmp_path)
    plan = _plan(tmp_path, target_url)
    _migrated(plan)
    return plan, target_url


def test_a_desc_integer_key_is_not_numbered_by_the_target(
    moved: tuple[Plan, str], tmp_path: Path
) -> None:
    _, url = moved
    assert not _numbers_its_key(url, tmp_path, "job")


def test_a_desc_table_key_is_still_the_rowid(moved: tuple[Plan, str], tmp_path: Path) -> None:
    _, url = moved
    assert _numbers_its_key(url, tmp_path, "step")


def test_a_desc_integer_key_carries_its_values(moved: tuple[Plan, str], tmp_path: Path) -> None:
    _, url = moved
    assert _target_rows(url, tmp_path, "job") == sorted(ROWS)


def test_a_one_row_change_reaches_the_target(moved: tuple[Plan, str], tmp_path: Path) -> None:
    plan, url = moved
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("UPDATE job SET name = 'B' WHERE x = 10")
        conn.execute("INSERT INTO job (x, name) VALUES (5, 'e')")
    conn.close()
    _migrated(plan)
    assert _target_rows(url, tmp_path, "job") == [(5, "e"), (10, "B"), (20, "c"), (30, "a")]


def test_an_existing_desc_integer_key_is_not_filled_by_sqlite(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "target.db") as conn:
        conn.executescript(SCHEMA)
    conn.close()
    engine = create_engine(f"sqlite:///{tmp_path / 'target.db'}")
    with engine.connect() as conn:
        tables = reflect_tables(inspect(conn))
    engine.dispose()
    assert not tables["job"].columns["x"].has_default
    assert tables["step"].columns["x"].has_default
