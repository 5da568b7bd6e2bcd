"""Apache Airflow's metadata database, SQLite -> PostgreSQL: its times stay instants.

Airflow's ``UtcDateTime`` columns are ``TIMESTAMP`` in SQLite (UTC text without an offset) and
``timestamp with time zone`` on PostgreSQL; its naive ``DateTime`` ones (``ab_user``,
``trigger_timeout``) are ``DATETIME`` and ``timestamp without time zone``. The fixture is plain
SQL mirroring Airflow 2.10's DDL; the target database's sessions are in New York, not UTC.
"""

from __future__ import annotations

import sqlite3
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from pgkit import migrated, pg_exec, pg_rows

from ferry.cli.command import cli
from ferry.plan import load_plan

pytestmark = pytest.mark.pg

ZONE = "America/New_York"

#: Airflow 2.10's DDL in SQLite, the columns that matter here
AIRFLOW_DDL = """
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
CREATE TABLE dag (dag_id VARCHAR(250) NOT NULL, is_paused BOOLEAN,
    last_parsed_time TIMESTAMP, next_dagrun TIMESTAMP, CONSTRAINT dag_pkey PRIMARY KEY (dag_id));
CREATE TABLE dag_run (id INTEGER NOT NULL, dag_id VARCHAR(250) NOT NULL,
    execution_date TIMESTAMP NOT NULL, start_date TIMESTAMP, end_date TIMESTAMP,
    run_id VARCHAR(250) NOT NULL, conf BLOB, CONSTRAINT dag_run_pkey PRIMARY KEY (id),
    CONSTRAINT dag_run_dag_id_run_id_key UNIQUE (dag_id, run_id));
CREATE TABLE task_instance (task_id VARCHAR(250) NOT NULL, dag_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL, map_index INTEGER DEFAULT -1 NOT NULL,
    start_date TIMESTAMP, queued_dttm TIMESTAMP, trigger_timeout DATETIME,
    CONSTRAINT task_instance_pkey PRIMARY KEY (dag_id, task_id, run_id, map_index),
    CONSTRAINT task_instance_dag_run_fkey FOREIGN KEY(dag_id, run_id)
        REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE);
CREATE TABLE ab_user (id INTEGER NOT NULL, username VARCHAR(512) NOT NULL,
    last_login DATETIME, created_on DATETIME, CONSTRAINT ab_user_pkey PRIMARY KEY (id));
INSERT INTO alembic_version VALUES ('5f2621c13b39');
INSERT INTO dag VALUES ('etl', 0, '2026-12-07 19:03:11.123456', NULL);
INSERT INTO dag_run VALUES (1, 'etl', '2026-12-01 00:00:00.000000', '2026-12-07 19:03:39.277600',
    NULL, 'manual__2026-12-01T00:00:00+00:00', NULL);
INSERT INTO task_instance VALUES ('extract', 'etl', 'manual__2026-12-01T00:00:00+00:00', -1,
    '2026-12-07 19:03:40.000000', NULL, NULL);
INSERT INTO ab_user VALUES (1, 'admin', NULL, '2026-12-07 19:02:01.000000');
"""


def airflow_db(folder: Path) -> Path:
    path = folder / "airflow.db"
    db = sqlite3.connect(path)
    db.executescript(AIRFLOW_DDL)
    db.close()
    return path


def drafted(folder: Path, url: str) -> Path:
    plan = folder / "ferry.toml"
    result = CliRunner().invoke(
        cli, ["init", str(airflow_db(folder)), "--target", url, "-o", str(plan)]
    )
    assert result.exit_code == 0, result.output
    return plan


def in_zone(url: str) -> None:
    """The target database's sessions (Airflow's) in New York, not UTC."""
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    pg_exec(url, f"ALTER DATABASE {name} SET timezone = '{ZONE}'")


def types_of(plan: Path, name: str) -> dict[str, Any]:
    tables = tomllib.loads(plan.read_text())["tables"]
    return dict(next(t for t in tables if t["name"] == name).get("types", {}))


def column_types(url: str, table: str) -> dict[str, str]:
    rows = pg_rows(
        url,
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_name = '{table}'",
    )
    return {str(r[0]): str(r[1]) for r in rows}


def test_init_keeps_airflows_timestamp_columns_instants(tmp_path: Path, pg_url: str) -> None:
    """``TIMESTAMP`` (UtcDateTime) stays ``timestamp``, with values or empty; the naive
    ``DATETIME`` ones are ``datetime``, an empty one too, as Airflow makes them."""
    plan = drafted(tmp_path, pg_url)
    run, ti = types_of(plan, "dag_run"), types_of(plan, "task_instance")
    assert (run["execution_date"], run["end_date"]) == ("timestamp", "timestamp")
    assert (ti["start_date"], ti["queued_dttm"]) == ("timestamp", "timestamp")
    assert ti["trigger_timeout"] == "datetime"
    user = types_of(plan, "ab_user")
    assert (user["created_on"], user["last_login"]) == ("datetime", "datetime")


def test_airflows_utc_text_becomes_the_same_instant(tmp_path: Path, pg_url: str) -> None:
    in_zone(pg_url)
    migrated(load_plan(drafted(tmp_path, pg_url)))
    assert column_types(pg_url, "dag_run")["execution_date"] == "timestamp with time zone"
    assert column_types(pg_url, "ab_user")["created_on"] == "timestamp without time zone"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        row = conn.execute("SELECT execution_date FROM dag_run WHERE id = 1").fetchone()
    assert row is not None and row[0] == datetime(2026, 12, 1, tzinfo=UTC)


def test_airflows_later_write_reads_back_as_written(tmp_path: Path, pg_url: str) -> None:
    """Airflow binds aware UTC datetimes: in a session not in UTC the moved column gives
    back the same instant (a ``timestamp without time zone`` gave it five hours off)."""
    in_zone(pg_url)
    migrated(load_plan(drafted(tmp_path, pg_url)))
    written = datetime(2026, 12, 4, tzinfo=UTC)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO dag_run (dag_id, execution_date, run_id) VALUES ('etl', %s, 'm2')",
            (written,),
        )
        row = conn.execute("SELECT id, execution_date FROM dag_run WHERE run_id = 'm2'").fetchone()
    assert row is not None and (row[0], row[1]) == (2, written)


def test_another_apps_timestamp_column_keeps_its_wall_time(tmp_path: Path, pg_url: str) -> None:
    """Without Airflow's tables a naive ``TIMESTAMP`` column is drafted ``datetime`` as before."""
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE dag_run (id INTEGER PRIMARY KEY, at TIMESTAMP);"
        "INSERT INTO dag_run VALUES (1, '2026-12-01 00:00:00.000000');"
    )
    db.close()
    plan = tmp_path / "ferry.toml"
    result = CliRunner().invoke(cli, ["init", str(path), "--target", pg_url, "-o", str(plan)])
    assert result.exit_code == 0, result.output
    assert types_of(plan, "dag_run")["at"] == "datetime"
