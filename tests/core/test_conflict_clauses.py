"""SQLite's conflict clauses (``UNIQUE ON CONFLICT REPLACE``) change what an app's plain
INSERT does: kept on a SQLite target, named on PostgreSQL (found moving a table with
``email TEXT UNIQUE ON CONFLICT REPLACE, name TEXT COLLATE NOCASE``: neither was named, the
clause silently gone and, since the statement did not parse, the collation too)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from draftkit import draft, ferry

from ferry.shape.conflicts import sqlite_conflicts

APP = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE ON CONFLICT REPLACE,
    name TEXT COLLATE NOCASE
);
INSERT INTO users VALUES (1, 'a@x', 'Ana');
"""


def test_the_clauses_are_read_from_the_tables_sql() -> None:
    sql = (
        'CREATE TABLE t (id INTEGER PRIMARY KEY ON CONFLICT REPLACE, "a b" TEXT NOT NULL '
        "ON CONFLICT IGNORE, c TEXT UNIQUE ON CONFLICT ABORT, d INT, e INT, "
        "CONSTRAINT u UNIQUE (d, e) ON CONFLICT FAIL)"
    )
    assert sqlite_conflicts(sql) == {
        ("pk",): "REPLACE",
        ("not null", "a b"): "IGNORE",
        ("unique", "d", "e"): "FAIL",
    }


def test_a_sqlite_target_keeps_replace(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan = draft(tmp_path, APP, f"sqlite:///{target}")
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    with sqlite3.connect(target) as conn:
        conn.execute("INSERT INTO users (email, name) VALUES ('a@x', 'Ana again')")
        rows = conn.execute("SELECT email, name FROM users").fetchall()
    conn.close()
    assert rows == [("a@x", "Ana again")]


def test_a_postgres_target_names_the_clause(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, APP, pg_url)
    check = " ".join(ferry("check", plan).output.split())
    assert (
        "warn table users: not carried to the target: ON CONFLICT REPLACE of UNIQUE (email): "
        "SQLite replaced the row holding it"
    ) in check


def test_the_collation_beside_a_clause_is_still_named(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, APP, pg_url)
    check = " ".join(ferry("check", plan).output.split())
    assert "warn collation users.name: not carried: COLLATE NOCASE" in check
