"""ferry init: a field holding JSON objects feeds the columns its keys name (json_path)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import load_plan

SCHEMA = """
CREATE TABLE videos (
    video_id TEXT PRIMARY KEY,
    title TEXT,
    analysis_json TEXT,
    topics_json TEXT,
    content_type TEXT
);
"""


def test_json_text_feeds_the_columns_named_by_its_keys_and_the_whole_json_column(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "legacy.db") as conn:
        conn.execute("CREATE TABLE videos (video_id TEXT PRIMARY KEY, title TEXT, analysis TEXT)")
        conn.executemany(
            "INSERT INTO videos VALUES (?, ?, ?)",
            [
                ("v1", "Übersicht", json.dumps({"content_type": "lecture", "key_topics": ["a"]})),
                ("v2", "日本", json.dumps({"content_type": "review", "key_topics": []})),
            ],
        )
    conn.close()
    (tmp_path / "schema.sql").write_text(SCHEMA, encoding="utf-8")
    plan = tmp_path / "p.toml"
    result = CliRunner().invoke(
        cli, ["init", str(data), "--schema", str(tmp_path / "schema.sql"), "-o", str(plan)]
    )
    assert result.exit_code == 0, result.output

    [spec] = load_plan(plan).tables
    settings = {
        name: (c.from_, c.parse_json, c.json_path, c.on_error) for name, c in spec.columns.items()
    }
    assert settings == {
        "analysis_json": ("analysis", True, None, "warn"),
        "topics_json": ("analysis", True, "$.key_topics", "warn"),
        "content_type": ("analysis", True, "$.content_type", "warn"),
    }
    assert spec.notes[-1] == (
        "field 'analysis' holds JSON objects (2 of the 2 rows sampled; keys content_type, "
        "key_topics): it feeds analysis_json; topics_json <- key_topics; content_type <- "
        "content_type (on_error = warn: a value that is not JSON leaves the column NULL, "
        "named in the report)"
    )
    assert not [n for n in spec.notes if n.startswith("columns no source field fills")]

    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        rows = conn.execute(
            "SELECT video_id, topics_json, content_type FROM videos ORDER BY video_id"
        ).fetchall()
    conn.close()
    assert rows == [("v1", '["a"]', "lecture"), ("v2", "[]", "review")]


def test_a_has_flag_is_whether_the_field_it_names_holds_a_value(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    rows = [
        {"video_id": "v1", "audio_file": "exports/audio/v1.mp3"},
        {"video_id": "v2", "audio_file": None},
    ]
    (data / "videos.json").write_text(json.dumps(rows), encoding="utf-8")
    schema = "CREATE TABLE videos (video_id TEXT PRIMARY KEY, has_audio BOOLEAN);"
    (tmp_path / "schema.sql").write_text(schema, encoding="utf-8")
    plan = tmp_path / "p.toml"
    result = CliRunner().invoke(
        cli, ["init", str(data), "--schema", str(tmp_path / "schema.sql"), "-o", str(plan)]
    )
    assert result.exit_code == 0, result.output

    [spec] = load_plan(plan).tables
    flag = spec.columns["has_audio"]
    assert (flag.from_, flag.is_not_null) == ("audio_file", True)
    assert (
        spec.notes[-1]
        == "column 'has_audio' is whether field 'audio_file' holds a value (is_not_null)"
    )
    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        found = conn.execute("SELECT video_id, has_audio FROM videos ORDER BY 1").fetchall()
    conn.close()
    assert found == [("v1", 1), ("v2", 0)]
