"""``ferry check``: the preflight opens every source and the target, reports and writes nothing."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result

from ferry.cli.command import cli


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_plan(folder: Path, toml: str) -> Path:
    path = folder / "ferry.toml"
    path.write_text(toml, encoding="utf-8")
    return path


USERS_PLAN = """
[target]
url = "sqlite:///app.db"

[[sources]]
name = "users"
kind = "json"
path = "users.json"

[[tables]]
name = "users"
source = "users"
key = ["id"]
"""


def users_folder(tmp_path: Path) -> Path:
    (tmp_path / "users.json").write_text(
        json.dumps([{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}]), encoding="utf-8"
    )
    return write_plan(tmp_path, USERS_PLAN)


def test_check_of_a_good_plan_on_a_new_sqlite_target_passes_and_creates_nothing(
    tmp_path: Path,
) -> None:
    plan = users_folder(tmp_path)

    result = ferry("check", plan)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "ok   source users: readable (users)"
    assert re.fullmatch(rf"ok   target {tmp_path / 'app.db'}: SQLite 3\.\d+\.\d+", lines[1])
    assert lines[2].startswith("ok   privileges: ")
    assert lines[3:5] == [
        "ok   table users: will be created from the source data; 2 columns mapped, key id",
        "A run creates:",
    ]
    assert lines[5] == 'CREATE TABLE "users" ('
    assert not (tmp_path / "app.db").exists()


def test_check_leaves_an_existing_sqlite_target_byte_identical(tmp_path: Path) -> None:
    plan = users_folder(tmp_path)
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE other (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO other VALUES (7)")
    conn.close()
    before = sha256(tmp_path / "app.db")

    result = ferry("check", plan)

    assert result.exit_code == 0, result.output
    assert sha256(tmp_path / "app.db") == before


def test_check_fails_a_table_whose_not_null_column_gets_no_value(tmp_path: Path) -> None:
    plan = users_folder(tmp_path)
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT NOT NULL)")
    conn.close()

    result = ferry("check", plan)

    assert result.exit_code == 1
    assert (
        "FAIL table users: table 'users': column 'email' is NOT NULL without a default, "
        "and the plan gives it no value" in result.stdout
    )
    assert "hint: Map a source field to 'email', or give it a const or default." in result.stdout


def test_check_fails_a_table_from_schema_sql_whose_not_null_column_gets_no_value(
    tmp_path: Path,
) -> None:
    plan = users_folder(tmp_path)
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT NOT NULL);\n",
        encoding="utf-8",
    )
    plan.write_text(
        USERS_PLAN.replace(
            'url = "sqlite:///app.db"', 'url = "sqlite:///app.db"\nschema = "schema.sql"'
        ),
        encoding="utf-8",
    )

    result = ferry("check", plan)

    assert result.exit_code == 1
    assert "FAIL table users: table 'users': column 'email' is NOT NULL" in result.stdout
    assert not (tmp_path / "app.db").exists()


def test_check_passes_a_table_from_schema_sql_that_is_fully_mapped(tmp_path: Path) -> None:
    plan = users_folder(tmp_path)
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT);\n",
        encoding="utf-8",
    )
    plan.write_text(
        USERS_PLAN.replace(
            'url = "sqlite:///app.db"', 'url = "sqlite:///app.db"\nschema = "schema.sql"'
        ),
        encoding="utf-8",
    )

    result = ferry("check", plan, "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["existing_tables"] == []
    assert report["tables_to_create"] == ["users"]
    assert report["items"][-1] == {
        "subject": "table users",
        "ok": True,
        "detail": "will be created from schema.sql; 2 columns mapped, key id",
        "hint": "",
    }


def test_check_fails_a_table_ferry_would_create_without_a_key(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "legacy.db") as conn:
        conn.execute("CREATE TABLE log (at TEXT, line TEXT)")
        conn.execute("INSERT INTO log VALUES ('2025-01-01', 'started')")
    conn.close()
    plan = write_plan(
        tmp_path,
        """
[[sources]]
name = "legacy"
kind = "sqlite"
path = "legacy.db"

[[tables]]
name = "log"
source = "legacy.log"
""",
    )

    result = ferry("check", plan)

    assert result.exit_code == 1
    assert "FAIL table log: table 'log' needs a key: it has no primary key" in result.stdout


def test_check_fails_a_table_reading_a_source_table_that_does_not_exist(tmp_path: Path) -> None:
    plan = users_folder(tmp_path)
    plan.write_text(USERS_PLAN.replace('source = "users"', 'source = "users.tags"'))

    result = ferry("check", plan)

    assert result.exit_code == 1
    assert (
        "FAIL table users: reads 'users.tags', which the sources do not provide "
        "(they provide: users)" in result.stdout
    )


def test_check_fails_an_unreadable_source_and_goes_on(tmp_path: Path) -> None:
    plan = users_folder(tmp_path)
    (tmp_path / "users.json").write_text('[{"id": 1},\n{"id": 2,,}]\n', encoding="utf-8")

    result = ferry("check", plan)

    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("FAIL source users: ")
    assert "users.json" in first and "line 2" in first
    assert f"ok   target {tmp_path / 'app.db'}: SQLite" in result.stdout


def test_check_fails_an_unreachable_target(tmp_path: Path) -> None:
    plan = users_folder(tmp_path)
    unreachable = 'url = "postgresql://postgres@127.0.0.1:1/x"\nconnect_timeout = 2'
    plan.write_text(USERS_PLAN.replace('url = "sqlite:///app.db"', unreachable), encoding="utf-8")

    result = ferry("check", plan, "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    target = report["items"][-1]
    assert target["subject"].startswith("target ")
    assert target["ok"] is False
    assert "connection refused" in target["detail"].lower()


def test_check_on_postgres_reports_the_version_and_the_right_to_create(
    tmp_path: Path, pg_url: str
) -> None:
    plan = users_folder(tmp_path)
    plan.write_text(USERS_PLAN.replace("sqlite:///app.db", pg_url), encoding="utf-8")

    result = ferry("check", plan)

    assert result.exit_code == 0, result.output
    assert re.search(r"^ok   target .*: PostgreSQL \d+", result.stdout, re.MULTILINE)
    assert "ok   privileges: may create tables" in result.stdout
    assert (
        "ok   table users: will be created from the source data; 2 columns mapped, key id"
        in result.stdout
    )
    import psycopg

    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


def test_check_on_postgres_fails_a_not_null_column_without_value(
    tmp_path: Path, pg_url: str
) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT, email TEXT NOT NULL)")
    plan = users_folder(tmp_path)
    plan.write_text(USERS_PLAN.replace("sqlite:///app.db", pg_url), encoding="utf-8")

    result = ferry("check", plan)

    assert result.exit_code == 1
    assert "FAIL table users: table 'users': column 'email' is NOT NULL" in result.stdout


def test_check_does_not_promise_a_table_when_the_schema_step_failed(tmp_path: Path) -> None:
    plan = users_folder(tmp_path)
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABEL oops (x);\n",
        encoding="utf-8",
    )
    plan.write_text(
        USERS_PLAN.replace(
            'url = "sqlite:///app.db"', 'url = "sqlite:///app.db"\nschema = "schema.sql"'
        ),
        encoding="utf-8",
    )

    result = ferry("check", plan, "--json")

    assert result.exit_code == 1
    items = json.loads(result.stdout)["items"]
    assert [item["subject"] for item in items[-2:]] == ["schema", "table users"]
    assert items[-1] == {
        "subject": "table users",
        "ok": False,
        "detail": "missing, and not created: a run stops at the failed schema step",
        "hint": "Fix the schema problem above, then check again.",
    }
    assert not (tmp_path / "app.db").exists()


def test_check_fails_a_table_whose_hook_the_run_cannot_load(tmp_path: Path) -> None:
    # check builds its row mappers as the run does (ferry.load.mapping.row_mapper), hook included
    plan = users_folder(tmp_path)
    plan.write_text(USERS_PLAN + 'hook = "hooks.py:fix"\n', encoding="utf-8")
    (tmp_path / "hooks.py").write_text("def other(row):\n    return row\n", encoding="utf-8")

    checked = ferry("check", plan)
    migrated = ferry("migrate", plan)

    assert checked.exit_code == 1
    assert "FAIL table users: cannot load hook 'hooks.py:fix'" in checked.stdout
    assert migrated.exit_code != 0
    assert "cannot load hook 'hooks.py:fix'" in migrated.output
    assert not (tmp_path / "app.db").exists()


def test_check_warns_of_a_database_table_no_entry_reads_and_a_tables_list_leaves_it_out(
    tmp_path: Path,
) -> None:
    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("CREATE TABLE comments (id INTEGER PRIMARY KEY, body TEXT)")  # added later
    db.close()
    toml = (
        '[target]\nurl = "sqlite:///new.db"\n[[sources]]\nname = "app"\nkind = "sqlite"\n'
        'path = "app.db"\n{}[[tables]]\nname = "jobs"\nsource = "app.jobs"\nkey = ["id"]\n'
    )
    plan = write_plan(tmp_path, toml.format(""))

    warned = ferry("check", plan, "--json")
    left_out = ferry("check", write_plan(tmp_path, toml.format('tables = ["jobs"]\n')), "--json")

    assert warned.exit_code == 0, warned.output  # a warning does not fail the check
    items = json.loads(warned.output)["items"]
    item = next(i for i in items if i["detail"].startswith("app.comments"))
    assert item["warning"] is True
    assert item["detail"].startswith(
        "app.comments: a table of source app that no [[tables]] entry reads: it is not migrated"
    )
    assert left_out.exit_code == 0, left_out.output
    assert "app.comments" not in left_out.output
