"""A column's ``COLLATE`` written after its ``DEFAULT`` (calibre's ``title TEXT NOT NULL
DEFAULT 'Unknown' COLLATE NOCASE``): sqlglot reads it into the default's expression, so the
collation was lost without a word — a moved calibre library compared titles case-sensitively
on SQLite, and ``check`` did not name ``books.title`` on PostgreSQL. Real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from draftkit import one_table_plan

from ferry.api import migrate
from ferry.shape.sqlitenames import sqlite_collations

SCHEMA = (
    "CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT 'Unknown' "
    'COLLATE NOCASE, isbn TEXT DEFAULT "" COLLATE NOCASE, n INTEGER DEFAULT (1 + 2))'
)


def test_the_collation_after_a_default_is_read() -> None:
    assert sqlite_collations(SCHEMA) == {"title": "NOCASE", "isbn": "NOCASE"}


def test_a_sqlite_target_keeps_it_and_the_default(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.executescript(f"{SCHEMA}; INSERT INTO books (id, title) VALUES (1, 'Emma');")
    conn.close()
    plan = one_table_plan(tmp_path, "books")

    asyncio.run(migrate(plan, write_reports=False))

    with sqlite3.connect(tmp_path / "new.db") as conn:
        found = conn.execute("SELECT count(*) FROM books WHERE title = 'EMMA'").fetchone()
        conn.execute("INSERT INTO books (id) VALUES (2)")
        default = conn.execute("SELECT title FROM books WHERE id = 2").fetchone()
    conn.close()
    assert found == (1,) and default == ("Unknown",)
