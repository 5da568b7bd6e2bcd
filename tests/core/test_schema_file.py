"""A ``schema.sql`` runs as the ``sqlite3`` shell (or ``psql``) would run it: statement by
statement, however they are laid out, in init, check, preview and migrate alike."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from ferry.cli.command import cli
from ferry.shape.schemafile import split_statements


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


# Two statements on one line, as people write index lists.
ONE_LINE_SCHEMA = """CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);
CREATE INDEX users_name ON users(name); CREATE INDEX users_email ON users(email);
"""

# What `sqlite3 app.db .dump` and `.schema` write: transaction control, sqlite_sequence, a
# trigger whose body holds semicolons, semicolons in strings and comments.
DUMP_SCHEMA = """PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT DEFAULT 'a;b', email TEXT);
CREATE TABLE sqlite_sequence(name,seq); -- made by SQLite itself; not ours
CREATE TABLE log (note TEXT); /* one; two */ CREATE TRIGGER users_log AFTER INSERT ON users
BEGIN INSERT INTO log VALUES ('added;'); INSERT INTO log VALUES (new.name); END;
COMMIT;
"""


def users_plan(folder: Path, schema: str) -> Path:
    (folder / "users.json").write_text(
        json.dumps([{"id": 1, "name": "Ada", "email": "a@x"}, {"id": 2, "name": "Bob"}]),
        encoding="utf-8",
    )
    (folder / "schema.sql").write_text(schema, encoding="utf-8")
    plan = folder / "ferry.toml"
    plan.write_text(
        """[target]
url = "sqlite:///app.db"
schema = "schema.sql"

[[sources]]
name = "users"
kind = "json"
path = "users.json"

[[tables]]
name = "users"
source = "users"
key = ["id"]
""",
        encoding="utf-8",
    )
    return plan


def indexes(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        found = conn.execute(
            "SELECT name FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = 'users' ORDER BY name"
        ).fetchall()
    finally:
        conn.close()
    return [name for (name,) in found]


def test_split_keeps_two_statements_on_one_line_apart() -> None:
    assert split_statements(ONE_LINE_SCHEMA, "sqlite") == [
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT);",
        "CREATE INDEX users_name ON users(name);",
        "CREATE INDEX users_email ON users(email);",
    ]


def test_split_keeps_strings_comments_and_trigger_bodies_whole() -> None:
    assert split_statements(DUMP_SCHEMA, "sqlite") == [
        "PRAGMA foreign_keys=OFF;",
        "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT DEFAULT 'a;b', "
        "email TEXT);",
        "CREATE TABLE sqlite_sequence(name,seq);",
        "-- made by SQLite itself; not ours\nCREATE TABLE log (note TEXT);",
        "/* one; two */ CREATE TRIGGER users_log AFTER INSERT ON users\n"
        "BEGIN INSERT INTO log VALUES ('added;'); INSERT INTO log VALUES (new.name); END;",
    ]


def test_init_with_a_schema_of_two_statements_on_one_line_matches_its_tables(
    tmp_path: Path,
) -> None:
    users_plan(tmp_path, ONE_LINE_SCHEMA)
    state = tmp_path / "state"
    state.mkdir()
    (tmp_path / "users.json").rename(state / "users.json")

    result = ferry("init", state, "--schema", tmp_path / "schema.sql", "-o", tmp_path / "new.toml")

    assert result.exit_code == 0, result.output
    assert 'name = "users"' in (tmp_path / "new.toml").read_text(encoding="utf-8")


def test_check_with_a_schema_of_two_statements_on_one_line_passes(tmp_path: Path) -> None:
    plan = users_plan(tmp_path, ONE_LINE_SCHEMA)

    result = ferry("check", plan)

    assert result.exit_code == 0, result.output
    assert (
        "ok   table users: will be created from schema.sql; 3 columns mapped, key id"
        in result.stdout
    )


def test_preview_with_a_schema_of_two_statements_on_one_line_shows_both_indexes(
    tmp_path: Path,
) -> None:
    plan = users_plan(tmp_path, ONE_LINE_SCHEMA)

    result = ferry("preview", plan)

    assert result.exit_code == 0, result.output
    assert "CREATE INDEX users_name ON users(name);" in result.stdout
    assert "CREATE INDEX users_email ON users(email);" in result.stdout
    assert not (tmp_path / "app.db").exists()


def test_migrate_with_a_schema_of_two_statements_on_one_line_creates_both_indexes(
    tmp_path: Path,
) -> None:
    plan = users_plan(tmp_path, ONE_LINE_SCHEMA)

    result = ferry("migrate", plan, "--no-backup")

    assert result.exit_code == 0, result.output
    assert indexes(tmp_path / "app.db") == ["users_email", "users_name"]


def test_migrate_with_a_sqlite_dump_style_schema_runs_it_in_its_own_transaction(
    tmp_path: Path,
) -> None:
    plan = users_plan(tmp_path, DUMP_SCHEMA)

    result = ferry("migrate", plan, "--no-backup")

    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(tmp_path / "app.db")
    try:
        log = conn.execute("SELECT note FROM log ORDER BY rowid").fetchall()
    finally:
        conn.close()
    assert log == [("added;",), ("Ada",), ("added;",), ("Bob",)]


def test_a_failing_statement_after_commit_leaves_a_sqlite_target_unchanged(
    tmp_path: Path,
) -> None:
    plan = users_plan(tmp_path, "BEGIN;\nCREATE TABLE users (id INTEGER PRIMARY KEY);\nCOMMIT;\n"
                      "CREATE TABLEX oops (x);\n")  # fmt: skip

    result = ferry("migrate", plan, "--no-backup")

    assert result.exit_code == 5
    assert "statement 2 failed" in result.output
    assert not (tmp_path / "app.db").exists()


def test_postgres_schema_with_transaction_control_and_one_line_statements(
    tmp_path: Path, pg_url: str
) -> None:
    plan = users_plan(
        tmp_path,
        "BEGIN;\nCREATE TABLE users (id bigint PRIMARY KEY, name text, email text);\n"
        "CREATE INDEX users_name ON users(name); CREATE INDEX users_email ON users(email);\n"
        "COMMIT;\nCREATE TABLEX oops (x int);\n",
    )
    text = plan.read_text(encoding="utf-8").replace('"sqlite:///app.db"', json.dumps(pg_url))
    plan.write_text(text, encoding="utf-8")

    failed = ferry("migrate", plan, "--no-backup")
    (tmp_path / "schema.sql").write_text(
        (tmp_path / "schema.sql").read_text(encoding="utf-8").replace("CREATE TABLEX", "--"),
        encoding="utf-8",
    )
    with psycopg.connect(pg_url) as conn:
        after_failure = conn.execute("SELECT to_regclass('users') IS NULL").fetchone()
    done = ferry("migrate", plan, "--no-backup")

    assert failed.exit_code == 5, failed.output
    assert after_failure == (True,)
    assert done.exit_code == 0, done.output
    with psycopg.connect(pg_url) as conn:
        found = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY 1"
        ).fetchall()
    assert found == [("users_email",), ("users_name",), ("users_pkey",)]


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
