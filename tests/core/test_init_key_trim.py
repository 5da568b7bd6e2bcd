"""ferry init: a key or UNIQUE text column fed by values with surrounding spaces is trimmed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import load_plan

SCHEMA = """
CREATE TABLE queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path VARCHAR(1000) UNIQUE NOT NULL,
    verbosity TEXT
);
"""


def _init(tmp_path: Path, queue: list[dict[str, str]]) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "queue.json").write_text(json.dumps(queue), encoding="utf-8")
    (tmp_path / "schema.sql").write_text(SCHEMA, encoding="utf-8")
    plan = tmp_path / "p.toml"
    command = ["init", str(data), "--schema", str(tmp_path / "schema.sql"), "-o", str(plan)]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    return plan


def test_unique_column_values_with_surrounding_spaces_are_trimmed(tmp_path: Path) -> None:
    queue = [
        {"path": "/media/a.mkv", "verbosity": " LOW "},
        {"path": " /media/b.mkv", "verbosity": "HIGH"},
        {"path": "/media/c.mkv\t", "verbosity": "LOW"},
    ]
    plan = _init(tmp_path, queue)

    [spec] = load_plan(plan).tables
    assert spec.columns["path"].ops == ["trim"]
    assert "verbosity" not in spec.columns
    assert spec.notes[-1] == (
        "column 'path' identifies a row and 2 of 3 values of field 'path' carry surrounding "
        "spaces (' /media/b.mkv', '/media/c.mkv\\t'): ops = ['trim']"
    )
    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        got = conn.execute("SELECT path FROM queue ORDER BY path").fetchall()
    conn.close()
    assert got == [("/media/a.mkv",), ("/media/b.mkv",), ("/media/c.mkv",)]


def test_key_values_without_spaces_are_left_as_they_are(tmp_path: Path) -> None:
    plan = _init(tmp_path, [{"path": "/media/a.mkv", "verbosity": "LOW"}])

    [spec] = load_plan(plan).tables
    assert not any(c.ops for c in spec.columns.values())
