"""A PostgreSQL partitioned table with its identity inside a composite key (found moving a
time-series table, ``PRIMARY KEY (id, ts) … PARTITION BY RANGE (ts)``: the rows came across
once, but the app's next INSERT without an id failed, since only a one-column key kept its
identity, and nothing said the partitioning was gone)."""

from __future__ import annotations

from pathlib import Path

from draftkit import ferry
from pgkit import pg_exec, pg_rows

SCHEMA = (
    "CREATE TABLE reading (id bigint GENERATED ALWAYS AS IDENTITY, ts timestamptz NOT NULL, "
    "v double precision, PRIMARY KEY (id, ts)) PARTITION BY RANGE (ts)",
    "CREATE TABLE reading_2024 PARTITION OF reading FOR VALUES FROM ('2024-01-01') TO "
    "('2025-01-01')",
    "CREATE TABLE reading_2025 PARTITION OF reading FOR VALUES FROM ('2025-01-01') TO "
    "('2026-01-01')",
    "INSERT INTO reading (ts, v) VALUES ('2024-05-01', 1), ('2025-05-01', 2)",
)


def _plan(tmp_path: Path, source: str, target: str) -> Path:
    pg_exec(source, *SCHEMA)
    plan = tmp_path / "plan.toml"
    result = ferry("init", source, "--target", target, "-o", plan)
    assert result.exit_code == 0, result.output
    return plan


def test_the_identity_in_a_composite_key_numbers_new_rows(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    plan = _plan(tmp_path, pg_source, pg_url)
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    assert pg_rows(pg_url, "SELECT count(*) FROM reading") == [(2,)]
    assert pg_rows(pg_url, "INSERT INTO reading (ts, v) VALUES (now(), 3) RETURNING id") == [(3,)]


def test_the_partitioning_is_named_as_not_carried(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    check = " ".join(ferry("check", _plan(tmp_path, pg_source, pg_url)).output.split())
    assert (
        "warn table reading: not carried to the target: PARTITION BY RANGE (ts) (2 partitions): "
        "created as one table holding every partition's rows"
    ) in check


def test_a_sqlite_target_names_the_numbering_it_cannot_keep(tmp_path: Path, pg_source: str) -> None:
    plan = _plan(tmp_path, pg_source, f"sqlite:///{tmp_path / 'out.db'}")
    check = " ".join(ferry("check", plan).output.split())
    assert "not carried to the target: the numbering of column id (an identity within a " in check
