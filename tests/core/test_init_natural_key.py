"""ferry init: a map keyed by a natural key (paths) into a table whose ``id`` the database
generates and whose key column is UNIQUE, matched by its fields though names differ."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import load_plan

SCHEMA = """
CREATE TABLE watch_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path VARCHAR(1000) UNIQUE NOT NULL,
    skip_subtitles BOOLEAN DEFAULT 0 NOT NULL,
    verbosity VARCHAR(50) DEFAULT 'NORMAL' NOT NULL,
    priority INTEGER DEFAULT 0 NOT NULL
);
"""
OPTIONS = {
    "/media/Übersicht (0).mpg": {"skip_subtitles": True, "verbosity": "DEBUG"},
    "/media/日本 (1).mpg": {"skip_subtitles": False, "verbosity": "NORMAL"},
}


def test_a_map_of_paths_feeds_the_unique_path_of_a_table_matched_by_its_fields(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "state.json").write_text(
        json.dumps({"last_timestamp": "2025-11-10T14:03:22+00:00", "manual_paths": OPTIONS}),
        encoding="utf-8",
    )
    (tmp_path / "schema.sql").write_text(SCHEMA, encoding="utf-8")
    plan = tmp_path / "p.toml"
    result = CliRunner().invoke(
        cli, ["init", str(data), "--schema", str(tmp_path / "schema.sql"), "-o", str(plan)]
    )
    assert result.exit_code == 0, result.output

    [spec] = load_plan(plan).tables
    assert (spec.name, spec.key, spec.columns["path"].from_) == ("watch_queue", ["path"], "id")
    assert (
        "matched to watch_queue by fields: all 3 of the source's fields are its columns "
        "(3 of 4 columns)"
    ) in spec.notes
    assert "the source's key 'id' feeds the unique column 'path'" in spec.notes

    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        rows = conn.execute(
            "SELECT path, skip_subtitles, verbosity FROM watch_queue ORDER BY path"
        ).fetchall()
    conn.close()
    assert rows == [("/media/Übersicht (0).mpg", 1, "DEBUG"), ("/media/日本 (1).mpg", 0, "NORMAL")]
