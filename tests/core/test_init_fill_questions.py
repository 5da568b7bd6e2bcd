"""ferry init: questions about values a NULLable column would otherwise get silently
(ferry.scan.fillquestions) — text that is not JSON feeding a JSON column, rows lacking a field
the app validates with a CHECK (values listed or a pattern), and rows lacking a field that
(nearly) every row holds with one value — and how their answers apply."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.errors import PlanError
from ferry.plan import load_plan
from ferry.scan.questions import answer_and_save, question


def _init(tmp_path: Path, rows: list[dict[str, Any]], schema: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "videos.json").write_text(json.dumps(rows), encoding="utf-8")
    (tmp_path / "schema.sql").write_text(schema, encoding="utf-8")
    plan = tmp_path / "p.toml"
    command = ["init", str(data), "--schema", str(tmp_path / "schema.sql"), "-o", str(plan)]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    return plan


def _migrate(plan: Path) -> Any:
    return CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])


def _rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        got = conn.execute(sql).fetchall()
    conn.close()
    return got


JSON_SCHEMA = "CREATE TABLE videos (id TEXT PRIMARY KEY, analysis_json JSON);"
ANALYSED = [{"id": f"v{n:02}", "analysis": json.dumps({"n": n})} for n in range(10)]
HALF_WRITTEN = [*ANALYSED, {"id": "v10", "analysis": '{"n": 1'}]


def test_text_that_is_not_json_feeding_a_json_column_is_asked_about(tmp_path: Path) -> None:
    plan = _init(tmp_path, HALF_WRITTEN, JSON_SCHEMA)

    asked = question(load_plan(plan), "videos.analysis_json.not_json")
    assert asked.is_open
    assert (asked.choices, asked.default) == (["reject", "null"], "reject")
    assert asked.evidence[0] == (
        "1 of 11 rows of videos hold 'analysis' text that is not JSON (first: id='v10')"
    )


def test_json_text_that_parses_everywhere_is_not_asked_about(tmp_path: Path) -> None:
    plan = _init(tmp_path, ANALYSED, JSON_SCHEMA)

    assert not load_plan(plan).questions


def test_the_json_value_answered_is_stored_for_text_that_is_not_json(tmp_path: Path) -> None:
    plan = _init(tmp_path, HALF_WRITTEN, JSON_SCHEMA)
    answer_and_save(plan, "videos.analysis_json.not_json", "{}")

    assert _migrate(plan).exit_code == 0
    assert _rows(tmp_path, "SELECT analysis_json FROM videos WHERE id = 'v10'") == [("{}",)]


def test_answering_reject_rejects_the_row_whose_text_is_not_json(tmp_path: Path) -> None:
    plan = _init(tmp_path, HALF_WRITTEN, JSON_SCHEMA)
    answer_and_save(plan, "videos.analysis_json.not_json", "reject")

    assert _migrate(plan).exit_code == 0
    assert _rows(tmp_path, "SELECT count(*), max(id) FROM videos") == [(10, "v09")]


def test_an_answer_that_is_not_json_is_refused(tmp_path: Path) -> None:
    plan = _init(tmp_path, HALF_WRITTEN, JSON_SCHEMA)

    with pytest.raises(PlanError, match="is not a JSON value"):
        answer_and_save(plan, "videos.analysis_json.not_json", "{oops")


LANG_SCHEMA = "CREATE TABLE videos (id TEXT PRIMARY KEY, lang TEXT);"


def test_rows_lacking_a_value_nearly_every_row_holds_are_asked_about(tmp_path: Path) -> None:
    rows = [{"id": f"v{n:02}", "lang": "en"} for n in range(10)] + [{"id": "v10"}]
    plan = _init(tmp_path, rows, LANG_SCHEMA)

    asked = question(load_plan(plan), "videos.lang.missing")
    assert (asked.choices, asked.default) == (["en", "leave"], "leave")
    assert asked.evidence[:2] == [
        "10 of the 11 rows of videos hold 'en' in 'lang'",
        "1 of 11 rows have none (first: id='v10')",
    ]
    answer_and_save(plan, "videos.lang.missing", "en")
    assert _migrate(plan).exit_code == 0
    assert _rows(tmp_path, "SELECT lang FROM videos WHERE id = 'v10'") == [("en",)]


def test_one_value_among_only_the_rows_holding_one_is_not_asked_about(tmp_path: Path) -> None:
    # a preset only some jobs have: one value where there is one, but no evidence for the rest
    rows = [{"id": f"v{n:02}", "lang": "en" if n % 2 else None} for n in range(30)]
    plan = _init(tmp_path, rows, LANG_SCHEMA)

    assert not load_plan(plan).questions


CHECKED_SCHEMA = (
    "CREATE TABLE videos (id TEXT PRIMARY KEY, lang TEXT CHECK (lang IN ('en', 'de', 'fr')));"
)
# 'en' is only half the rows: far below the share at which an unchecked column is asked about
SPLIT = [{"id": f"v{n:02}", "lang": ["en", " EN", "de", "fr"][n % 4]} for n in range(12)]
CHECKED = [*SPLIT, {"id": "v12"}, {"id": "v13", "lang": None}]


def test_rows_lacking_a_value_of_a_column_whose_check_lists_values_are_asked_about(
    tmp_path: Path,
) -> None:
    plan = _init(tmp_path, CHECKED, CHECKED_SCHEMA)

    asked = question(load_plan(plan), "videos.lang.missing")
    assert (asked.choices, asked.default) == (["en", "de", "fr", "leave"], "leave")
    assert asked.evidence[:2] == [
        "2 of 14 rows of videos have no 'lang' (first: id='v12', id='v13')",
        "the values 'lang' holds most (after trim, lower): 'en' (6 rows), 'de' (3 rows), "
        "'fr' (3 rows)",
    ]


def test_the_value_answered_for_a_checked_column_keeps_its_drafted_ops(tmp_path: Path) -> None:
    plan = _init(tmp_path, CHECKED, CHECKED_SCHEMA)
    answer_and_save(plan, "videos.lang.missing", "fr")

    column = load_plan(plan).tables[0].columns["lang"]
    assert (column.from_, column.ops, column.default) == ("lang", ["trim", "lower"], "fr")
    assert _migrate(plan).exit_code == 0
    got = _rows(tmp_path, "SELECT id, lang FROM videos WHERE id IN ('v01', 'v12', 'v13')")
    assert sorted(got) == [("v01", "en"), ("v12", "fr"), ("v13", "fr")]


def test_leave_keeps_the_rows_lacking_a_checked_value_null(tmp_path: Path) -> None:
    plan = _init(tmp_path, CHECKED, CHECKED_SCHEMA)
    answer_and_save(plan, "videos.lang.missing", "leave")

    assert _migrate(plan).exit_code == 0
    assert _rows(tmp_path, "SELECT id FROM videos WHERE lang IS NULL") == [("v12",), ("v13",)]


def test_a_pattern_check_offers_the_value_held_most_and_takes_your_own(
    tmp_path: Path, pg_url: str
) -> None:
    schema = (
        "CREATE TABLE videos (id TEXT PRIMARY KEY, lang TEXT, "
        "CONSTRAINT valid_lang CHECK (lang ~ '^[a-z]{2}$' OR lang IS NULL));"
    )
    data = tmp_path / "data"
    data.mkdir()
    (data / "videos.json").write_text(json.dumps(CHECKED), encoding="utf-8")
    (tmp_path / "schema.sql").write_text(schema, encoding="utf-8")
    plan = tmp_path / "p.toml"
    command = ["init", str(data), "--schema", str(tmp_path / "schema.sql"), "-o", str(plan)]
    result = CliRunner().invoke(cli, [*command, "--target", pg_url])
    assert result.exit_code == 0, result.output

    asked = question(load_plan(plan), "videos.lang.missing")
    assert (asked.choices, asked.default) == (["en", "leave"], "leave")
    answer_and_save(plan, "videos.lang.missing", "it")
    assert load_plan(plan).tables[0].columns["lang"].default == "it"
