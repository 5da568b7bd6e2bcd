"""ferry init: a text field mixing epoch numbers and ISO timestamps that feeds a date/time
column is that column's time in two spellings (``cast``), not text."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import load_plan

SCHEMA = "CREATE TABLE videos (video_id TEXT PRIMARY KEY, indexed_at TIMESTAMP);"


def _init(tmp_path: Path, rows: list[tuple[str, str | None]]) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "legacy.db") as conn:
        conn.execute("CREATE TABLE videos (video_id TEXT PRIMARY KEY, indexed_at TEXT)")
        conn.executemany("INSERT INTO videos VALUES (?, ?)", rows)
    conn.close()
    (tmp_path / "schema.sql").write_text(SCHEMA, encoding="utf-8")
    plan = tmp_path / "p.toml"
    command = ["init", str(data), "--schema", str(tmp_path / "schema.sql"), "-o", str(plan)]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    return plan


def test_epoch_text_and_iso_text_into_a_timestamp_column_are_cast_as_timestamps(
    tmp_path: Path,
) -> None:
    rows = [
        ("v1", "2025-10-01T12:00:00"),
        ("v2", "1761678000"),
        ("v3", "2025-10-02 08:30:00"),
        ("v4", None),
    ]
    plan = _init(tmp_path, rows)

    [spec] = load_plan(plan).tables
    assert spec.columns["indexed_at"].cast == "timestamp"
    assert spec.notes[-1] == (
        "column 'indexed_at' is a timestamp column and field 'indexed_at' spells its time two "
        "ways: 2 ISO text and 1 numbers as text ('1761678000'), each a plausible epoch time: "
        'cast = "timestamp" reads both (numbers as epoch seconds, milliseconds from 10^10 on)'
    )
    assert not [n for n in spec.notes if "holds mixed values" in n]
    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        got = conn.execute("SELECT video_id, indexed_at FROM videos ORDER BY video_id").fetchall()
    conn.close()
    moments = [(key, value and datetime.fromisoformat(value)) for key, value in got]
    assert moments == [
        ("v1", datetime(2025, 10, 1, 12, 0)),
        ("v2", datetime(2025, 10, 28, 19, 0)),
        ("v3", datetime(2025, 10, 2, 8, 30)),
        ("v4", None),
    ]


def test_numbers_that_give_no_plausible_epoch_time_leave_the_field_as_scanned(
    tmp_path: Path,
) -> None:
    plan = _init(tmp_path, [("v1", "2025-10-01T12:00:00"), ("v2", "2024")])

    [spec] = load_plan(plan).tables
    assert "indexed_at" not in spec.columns
