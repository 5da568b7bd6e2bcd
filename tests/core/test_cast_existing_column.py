"""A ``cast`` into an existing column of another type: the value is read as the cast says,
then stored as the column's type; a value that cannot be is rejected with its key, never a
crash."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner, Result

from ferry.cli.command import cli

SQLITE_TYPES = {
    "integer": "INTEGER",
    "float": "REAL",
    "boolean": "BOOLEAN",
    "text": "TEXT",
    "timestamp": "DATETIME",
    "date": "DATE",
    "json": "JSON",
    "bytes": "BLOB",
}
PG_TYPES = {
    "integer": "bigint",
    "float": "double precision",
    "boolean": "boolean",
    "text": "text",
    "timestamp": "timestamp",
    "date": "date",
    "json": "jsonb",
    "bytes": "bytea",
}
VALUES: list[Any] = ["2024-03-01 10:00", "12", "true", {"a": 1}, 1.5, 7, None, "x", [1], False]


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def events_plan(folder: Path, url: str = "sqlite:///app.db") -> Path:
    (folder / "events.json").write_text(
        json.dumps([{"id": 1, "at": "2024-03-01T10:00:00"}, {"id": 2, "at": "yesterday"}]),
        encoding="utf-8",
    )
    plan = folder / "ferry.toml"
    plan.write_text(
        f"""[target]
url = {json.dumps(url)}

[[sources]]
name = "events"
kind = "json"
path = "events.json"

[[tables]]
name = "events"
source = "events"
columns.at = {{ from = "at", cast = "text" }}
""",
        encoding="utf-8",
    )
    return plan


def test_cast_text_into_an_existing_datetime_column_stores_timestamps_and_rejects_the_rest(
    tmp_path: Path,
) -> None:
    plan = events_plan(tmp_path)
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME)")
    conn.close()

    result = ferry("migrate", plan, "--no-backup")

    assert result.exit_code == 0, result.output
    assert (
        "events id=2: column 'at': 'yesterday' is not a timestamp (cast to text, then stored "
        "in the table's timestamp column)" in result.output
    )
    conn = sqlite3.connect(tmp_path / "app.db")
    try:
        assert conn.execute("SELECT id, at FROM events").fetchall() == [
            (1, "2024-03-01 10:00:00.000000")
        ]
    finally:
        conn.close()
    assert ferry("verify", plan).exit_code == 0


def test_cast_text_into_an_existing_postgres_timestamp_column(tmp_path: Path, pg_url: str) -> None:
    plan = events_plan(tmp_path, pg_url)
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, at timestamp)")

    result = ferry("migrate", plan, "--no-backup")

    assert result.exit_code == 0, result.output
    assert "events id=2: column 'at': 'yesterday' is not a timestamp" in result.output
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT id, at::text FROM events").fetchall() == [
            (1, "2024-03-01 10:00:00")
        ]


def every_cast_into_every_column(folder: Path, url: str, types: dict[str, str]) -> Path:
    """One table per (cast, column type) pair, all fed the same mixed values."""
    (folder / "values.json").write_text(
        json.dumps([{"id": i, "v": v} for i, v in enumerate(VALUES)]), encoding="utf-8"
    )
    key_type = "INTEGER" if url.startswith("sqlite") else "bigint"
    lines = [f"[target]\nurl = {json.dumps(url)}\nschema = 'schema.sql'\n"]
    lines.append('[[sources]]\nname = "values"\nkind = "json"\npath = "values.json"\n')
    ddl = []
    for cast in types:
        for column_type, sql_type in types.items():
            name = f"{cast}_into_{column_type}"
            ddl.append(f"CREATE TABLE {name} (id {key_type} PRIMARY KEY, c {sql_type});")
            lines.append(
                f'[[tables]]\nname = "{name}"\nsource = "values"\n'
                f'columns.c = {{ from = "v", cast = "{cast}" }}\n'
            )
    (folder / "schema.sql").write_text("\n".join(ddl), encoding="utf-8")
    plan = folder / "ferry.toml"
    plan.write_text("\n".join(lines), encoding="utf-8")
    return plan


def test_every_cast_into_every_sqlite_column_type_loads_or_rejects_and_verifies(
    tmp_path: Path,
) -> None:
    plan = every_cast_into_every_column(tmp_path, "sqlite:///app.db", SQLITE_TYPES)

    migrated = ferry("migrate", plan, "--no-backup", "--json")
    verified = ferry("verify", plan)

    assert migrated.exit_code == 0, migrated.output
    tables = {t["name"]: t for t in json.loads(migrated.stdout)["tables"]}
    assert len(tables) == 64
    assert all(t["inserted"] + t["rejected"] == len(VALUES) for t in tables.values())
    assert (tables["text_into_timestamp"]["inserted"], tables["json_into_text"]["inserted"]) == (
        5,
        10,
    )
    assert verified.exit_code == 0, verified.output


def test_every_cast_into_every_postgres_column_type_loads_or_rejects_and_verifies(
    tmp_path: Path, pg_url: str
) -> None:
    plan = every_cast_into_every_column(tmp_path, pg_url, PG_TYPES)

    migrated = ferry("migrate", plan, "--no-backup", "--json")
    verified = ferry("verify", plan)

    assert migrated.exit_code == 0, migrated.output
    tables = {t["name"]: t for t in json.loads(migrated.stdout)["tables"]}
    assert len(tables) == 64
    assert all(t["inserted"] + t["rejected"] == len(VALUES) for t in tables.values())
    assert verified.exit_code == 0, verified.output
