"""Shapes a Prefect server's SQLite database showed on its way to PostgreSQL (SQLAlchemy's
ORM, as many apps): empty ``CHAR(36)`` foreign keys beside ``uuid`` keys, durations kept as
date-times since 1970, and foreign keys in a cycle between tables the app made itself."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from draftkit import draft, ferry
from pgkit import pg_exec, pg_rows

POOL = "07d6645b-ed39-4d73-9027-2038e7484ff5"
QUEUE = "2ce7a890-946b-42bf-ac6a-c9cb07fa2be2"


def test_an_empty_uuid_column_beside_columns_of_uuids_becomes_uuid(
    tmp_path: Path, pg_url: str
) -> None:
    # block_document_reference.parent_block_document_id: empty, references a uuid key;
    # left text, the run failed adding the key (incompatible types: text and uuid)
    plan = draft(
        tmp_path,
        "CREATE TABLE doc (id CHAR(36) PRIMARY KEY, name TEXT);"
        "CREATE TABLE ref (id CHAR(36) PRIMARY KEY, parent_id CHAR(36) REFERENCES doc (id));"
        f"INSERT INTO doc VALUES ('{POOL}', 'a');",
        pg_url,
    )
    assert "drafted as UUIDs like every CHAR(36) column" in plan.read_text()
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    found = pg_rows(
        pg_url,
        "SELECT table_name::text, data_type::text FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_name IN ('id', 'parent_id') "
        "ORDER BY 1, column_name",
    )
    assert found == [("doc", "uuid"), ("ref", "uuid"), ("ref", "uuid")]


def test_an_empty_uuid_column_stays_text_when_another_holds_other_text(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(
        tmp_path,
        "CREATE TABLE doc (id CHAR(36) PRIMARY KEY, code CHAR(36), other CHAR(36));"
        f"INSERT INTO doc VALUES ('{POOL}', 'legacy-7', NULL);",
        pg_url,
    )
    assert "drafted as UUIDs" not in plan.read_text()
    assert 'other = "uuid"' not in plan.read_text()


def test_a_sqlalchemy_interval_goes_into_an_interval_column_as_its_duration(
    tmp_path: Path, pg_url: str
) -> None:
    # SQLAlchemy's Interval keeps epoch + delta in SQLite; PostgreSQL refused that text
    plan = draft(
        tmp_path,
        "CREATE TABLE run (id INTEGER PRIMARY KEY, total DATETIME);"
        "INSERT INTO run VALUES (1, '1970-01-01 00:01:30.009459'), "
        "(2, '1970-01-03 01:00:00.000000');",
        pg_url,
    )
    pg_exec(pg_url, "CREATE TABLE run (id bigint PRIMARY KEY, total interval NOT NULL)")
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, "SELECT total::text FROM run ORDER BY id") == [
        ("00:01:30.009459",),
        ("2 days 01:00:00",),
    ]


def cyclic_app(tmp_path: Path, pg_url: str, queue_pool: str) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    with sqlite3.connect(folder / "app.db") as conn:
        conn.executescript(
            "CREATE TABLE work_pool (id TEXT PRIMARY KEY, default_queue_id TEXT);"
            "CREATE TABLE work_queue (id TEXT PRIMARY KEY, work_pool_id TEXT);"
            f"INSERT INTO work_pool VALUES ('{POOL}', '{QUEUE}');"
            f"INSERT INTO work_queue VALUES ('{QUEUE}', '{queue_pool}');"
        )
    conn.close()
    # the app's own schema: each table references the other, not deferrable
    pg_exec(
        pg_url,
        "CREATE TABLE work_pool (id text PRIMARY KEY, default_queue_id text);"
        "CREATE TABLE work_queue (id text PRIMARY KEY, work_pool_id text NOT NULL "
        "CONSTRAINT fk_queue_pool REFERENCES work_pool (id) ON DELETE CASCADE);"
        "ALTER TABLE work_pool ADD CONSTRAINT fk_pool_queue FOREIGN KEY (default_queue_id) "
        "REFERENCES work_queue (id) ON DELETE RESTRICT",
    )
    plan = tmp_path / "plan.toml"
    assert ferry("init", folder, "--target", pg_url, "-o", plan).exit_code == 0
    return plan


def test_rows_of_tables_referencing_each_other_go_into_the_apps_schema(
    tmp_path: Path, pg_url: str
) -> None:
    result = ferry("migrate", cyclic_app(tmp_path, pg_url, POOL))
    assert result.exit_code == 0, result.output
    assert "foreign keys in a cycle" in result.output
    assert pg_rows(pg_url, "SELECT work_pool_id FROM work_queue") == [(POOL,)]
    # the keys are as the app made them again
    assert pg_rows(
        pg_url,
        "SELECT conname::text, condeferrable FROM pg_constraint WHERE contype = 'f' ORDER BY 1",
    ) == [("fk_pool_queue", False), ("fk_queue_pool", False)]


def test_a_missing_parent_in_a_cycle_stops_the_run_naming_the_key(
    tmp_path: Path, pg_url: str
) -> None:
    result = ferry("migrate", cyclic_app(tmp_path, pg_url, "no-such-pool"))
    assert result.exit_code == 5, result.output
    assert "fk_queue_pool" in result.output
    assert pg_rows(pg_url, "SELECT count(*) FROM work_queue") == [(0,)]


def test_the_apps_own_alembic_revision_in_the_target_is_kept_alone(
    tmp_path: Path, pg_url: str
) -> None:
    # Prefect's SQLite and PostgreSQL histories differ: a second row named a SQLite revision
    # and the server refused to start (Can't locate revision identified by '27d8f4e1a6c9')
    pg_exec(
        pg_url,
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('91e2b8f3d6a4');"
        "CREATE TABLE flow (id text PRIMARY KEY, name text)",
    )
    plan = draft(
        tmp_path,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('27d8f4e1a6c9');"
        "CREATE TABLE flow (id TEXT PRIMARY KEY, name TEXT);"
        "INSERT INTO flow VALUES ('a', 'etl');",
        pg_url,
    )
    assert "left out app.alembic_version: Alembic's revision" in plan.read_text()
    again = ferry("init", tmp_path / "app", "--target", pg_url, "-o", tmp_path / "again.toml")
    assert "alembic_version of the target: no source matched it" not in again.output
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert "no [[tables]] entry reads" not in result.output
    assert pg_rows(pg_url, "SELECT version_num FROM alembic_version") == [("91e2b8f3d6a4",)]
    assert pg_rows(pg_url, "SELECT name FROM flow") == [("etl",)]


def test_rows_of_tables_referencing_each_other_go_into_the_apps_sqlite_file(
    tmp_path: Path,
) -> None:
    # the way back: the app made its schema in a new SQLite file; every such row was rejected
    folder = tmp_path / "app"
    folder.mkdir()
    with sqlite3.connect(folder / "app.db") as conn:
        conn.executescript(
            "CREATE TABLE work_pool (id TEXT PRIMARY KEY, default_queue_id TEXT);"
            "CREATE TABLE work_queue (id TEXT PRIMARY KEY, work_pool_id TEXT);"
            f"INSERT INTO work_pool VALUES ('{POOL}', '{QUEUE}');"
            f"INSERT INTO work_queue VALUES ('{QUEUE}', '{POOL}');"
        )
    conn.close()
    out = tmp_path / "out.db"
    with sqlite3.connect(out) as conn:
        conn.executescript(
            "CREATE TABLE work_pool (id TEXT PRIMARY KEY, default_queue_id TEXT "
            "REFERENCES work_queue (id) ON DELETE RESTRICT);"
            "CREATE TABLE work_queue (id TEXT PRIMARY KEY, work_pool_id TEXT NOT NULL "
            "REFERENCES work_pool (id) ON DELETE CASCADE);"
        )
    conn.close()
    plan = tmp_path / "plan.toml"
    assert ferry("init", folder, "--target", f"sqlite:///{out}", "-o", plan).exit_code == 0
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT work_pool_id FROM work_queue").fetchall() == [(POOL,)]
    conn.close()


def test_a_postgres_interval_goes_into_a_sqlite_datetime_column_as_sqlalchemy_keeps_it(
    tmp_path: Path, pg_url: str
) -> None:
    # the way back: the app's SQLite file keeps durations as 1970-01-01 + the duration
    pg_exec(
        pg_url,
        "CREATE TABLE run (id bigint PRIMARY KEY, total interval NOT NULL);"
        "INSERT INTO run VALUES (1, '1.128438 seconds'), (2, '2 days 01:00:00')",
    )
    out = tmp_path / "out.db"
    with sqlite3.connect(out) as conn:
        conn.execute("CREATE TABLE run (id INTEGER PRIMARY KEY, total DATETIME NOT NULL)")
    conn.close()
    plan = tmp_path / "plan.toml"
    assert ferry("init", pg_url, "--target", f"sqlite:///{out}", "-o", plan).exit_code == 0
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(out) as conn:
        found = conn.execute("SELECT total FROM run ORDER BY id").fetchall()
    conn.close()
    assert found == [("1970-01-01 00:00:01.128438",), ("1970-01-03 01:00:00.000000",)]


def test_a_default_written_over_several_lines_is_named_on_one_line(
    tmp_path: Path, pg_url: str
) -> None:
    # SQLAlchemy's UUID default in SQLite spans 11 lines: check's line said only "DEFAULT ("
    plan = draft(
        tmp_path,
        "CREATE TABLE flow (id CHAR(36) DEFAULT ((\n    lower(hex(randomblob(4)))\n"
        "    || '-'\n    || lower(hex(randomblob(6)))\n)) NOT NULL PRIMARY KEY, name TEXT);"
        f"INSERT INTO flow VALUES ('{POOL}', 'etl');",
        pg_url,
    )
    result = ferry("check", "--json", plan)
    details = [i["detail"] for i in json.loads(result.output)["items"] if i.get("warning")]
    assert (
        "not carried to the target: DEFAULT ( lower(hex(randomblob(4))) || '-' || "
        "lower(hex(randomblob(6))) ) of column id"
    ) in details
