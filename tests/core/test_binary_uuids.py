"""UUIDs kept as 16 bytes in SQLite (SQLAlchemy-Utils' ``UUIDType(binary=True)``: Apache
Superset's ``uuid NUMERIC(16)`` columns) and a native ``uuid`` on PostgreSQL. Found moving a
Superset metadata database: the draft called the column's values rejected numbers and made it
text, every row with a UUID (each database connection, dataset, chart, dashboard) was
rejected as "not a valid text", and the run stopped on the next foreign key."""

from __future__ import annotations

import tomllib
import uuid
from pathlib import Path

from draftkit import draft, ferry
from pgkit import pg_exec, pg_rows

CHART = uuid.UUID("58d6ce20-87b6-47b2-a686-4a2030510f33")
SUPERSET = (
    "CREATE TABLE slices (id INTEGER NOT NULL, slice_name VARCHAR(250), uuid NUMERIC(16), "
    "PRIMARY KEY (id), CONSTRAINT uq_slices_uuid UNIQUE (uuid));"
    f"INSERT INTO slices VALUES (1, 'Revenue', X'{CHART.hex}');"
)


def test_a_column_of_16_byte_values_is_drafted_a_uuid_and_moves_as_its_uuids(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path, SUPERSET, pg_url)
    (table,) = tomllib.loads(plan.read_text(encoding="utf-8"))["tables"]
    assert table["target_types"] == {"uuid": "uuid"}
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, "SELECT uuid, pg_typeof(uuid)::text FROM slices") == [(CHART, "uuid")]


def test_16_bytes_go_into_the_apps_own_uuid_column_as_that_uuid(
    tmp_path: Path, pg_url: str
) -> None:
    # the schema Superset makes on PostgreSQL (superset db upgrade)
    pg_exec(
        pg_url,
        "CREATE TABLE slices (id SERIAL PRIMARY KEY, slice_name VARCHAR(250), uuid UUID UNIQUE)",
    )
    plan = draft(tmp_path, SUPERSET, pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, "SELECT uuid FROM slices") == [(CHART,)]
