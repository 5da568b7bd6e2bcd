"""ferry init: values a CHECK constraint refuses only for their case or spacing get ``ops``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import load_plan
from ferry.scan.checkfold import allowed_by
from ferry.scan.questions import answer_and_save

SCHEMA = """
CREATE TABLE videos (
    video_id TEXT PRIMARY KEY,
    language TEXT CHECK (language IN ('en', 'de', 'fr'))
);
"""


def _init(tmp_path: Path, rows: list[dict[str, object]], schema: str, *target: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "videos.json").write_text(json.dumps(rows), encoding="utf-8")
    (tmp_path / "schema.sql").write_text(schema, encoding="utf-8")
    plan = tmp_path / "p.toml"
    command = ["init", str(data), "--schema", str(tmp_path / "schema.sql"), "-o", str(plan)]
    result = CliRunner().invoke(cli, [*command, *target])
    assert result.exit_code == 0, result.output
    return plan


def test_values_breaking_an_in_list_check_only_by_case_and_spaces_are_trimmed_and_lowered(
    tmp_path: Path,
) -> None:
    rows = [
        {"video_id": "v1", "language": "en"},
        {"video_id": "v2", "language": " de "},
        {"video_id": "v3", "language": "EN"},
        {"video_id": "v4", "language": "english"},
    ]
    plan = _init(tmp_path, rows, SCHEMA)

    [spec] = load_plan(plan).tables
    assert spec.columns["language"].ops == ["trim", "lower"]
    assert spec.notes[-1] == (
        "column 'language': 2 of 4 values of field 'language' break its CHECK only by case or "
        "spacing (' de ', 'EN'): ops = ['trim', 'lower']; 1 more break it whatever their case "
        "(rejected by key: review them)"
    )
    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code != 0 or "v4" in result.output
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        got = conn.execute("SELECT video_id, language FROM videos ORDER BY video_id").fetchall()
    conn.close()
    assert got == [("v1", "en"), ("v2", "de"), ("v3", "en")]


def test_values_with_surrounding_spaces_only_are_trimmed_not_lowered(tmp_path: Path) -> None:
    rows = [{"video_id": "v1", "language": "en "}, {"video_id": "v2", "language": "fr"}]
    plan = _init(tmp_path, rows, SCHEMA)

    [spec] = load_plan(plan).tables
    assert spec.columns["language"].ops == ["trim"]


def test_a_postgres_pattern_check_is_read_from_the_targets_reflection(
    tmp_path: Path, pg_url: str
) -> None:
    schema = (
        "CREATE TABLE videos (video_id TEXT PRIMARY KEY, language TEXT, "
        "CONSTRAINT valid_language CHECK (language ~ '^[a-z]{2}$' OR language IS NULL));"
    )
    rows = [{"video_id": "v1", "language": "En"}, {"video_id": "v2", "language": None}]
    plan = _init(tmp_path, rows, schema, "--target", pg_url)

    [spec] = load_plan(plan).tables
    assert spec.columns["language"].ops == ["trim", "lower"]


def test_a_check_on_another_column_or_of_another_form_is_not_read() -> None:
    assert allowed_by("lang IN ('x')", "language") is None
    assert allowed_by("length(language) = 2", "language") is None


def test_a_required_column_nothing_fills_asks_which_of_its_check_values_every_row_takes(
    tmp_path: Path,
) -> None:
    schema = (
        "CREATE TABLE videos (video_id TEXT PRIMARY KEY, "
        "status TEXT NOT NULL CHECK (status IN ('alive', 'stale')));"
    )
    plan = _init(tmp_path, [{"video_id": "v1"}, {"video_id": "v2"}], schema)

    [asked] = load_plan(plan).questions
    assert (asked.id, asked.choices, asked.default) == (
        "videos.status",
        ["alive", "stale", "leave"],
        "leave",
    )
    answer_and_save(plan, "videos.status", "alive")
    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        got = conn.execute("SELECT video_id, status FROM videos ORDER BY video_id").fetchall()
    conn.close()
    assert got == [("v1", "alive"), ("v2", "alive")]
