"""ferry init: questions whose answer is a value only the operator knows (ferry.scan.valuequestions)
— the one value of a NOT NULL column no field fills, the value of rows a NOT NULL column's field
is missing from, the application's names for JSON type names — and how such answers apply."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.errors import PlanError
from ferry.plan import load_plan, plan_from_dict
from ferry.scan.questions import answer, answer_and_save, open_questions, question


def _init(tmp_path: Path, files: dict[str, Any], schema: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name, content in files.items():
        (data / name).write_text(json.dumps(content), encoding="utf-8")
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


BEATS = "CREATE TABLE beats (service TEXT PRIMARY KEY, host TEXT, status VARCHAR(20) NOT NULL);"
BEAT_ROWS = [{"service": "polling", "host": "a"}, {"service": "web", "host": "b"}]


def test_a_not_null_column_no_field_fills_is_asked_for_its_one_value(tmp_path: Path) -> None:
    plan = _init(tmp_path, {"beats.json": BEAT_ROWS}, BEATS)

    asked = question(load_plan(plan), "beats.status")
    assert asked.is_open
    assert (asked.choices, asked.default) == (["leave"], "leave")
    assert asked.evidence == [
        "status (VARCHAR(20)): NOT NULL without a default in beats; no field of beats matches it"
    ]
    assert "Answer with the value (it becomes columns.status.const)" in asked.ask


def test_migrate_refuses_until_the_value_is_given_and_then_every_row_takes_it(
    tmp_path: Path,
) -> None:
    plan = _init(tmp_path, {"beats.json": BEAT_ROWS}, BEATS)

    refused = _migrate(plan)
    assert refused.exit_code == 3
    assert "beats.status" in refused.output
    answer_and_save(plan, "beats.status", "alive")
    assert _migrate(plan).exit_code == 0
    assert _rows(tmp_path, "SELECT service, status FROM beats ORDER BY 1") == [
        ("polling", "alive"),
        ("web", "alive"),
    ]


def test_ferry_check_lists_the_value_question(tmp_path: Path) -> None:
    plan = _init(tmp_path, {"beats.json": BEAT_ROWS}, BEATS)

    result = CliRunner().invoke(cli, ["check", str(plan)])
    assert result.exit_code != 0
    assert "beats.status" in result.output
    assert "or your own value" in result.output


JOBS = "CREATE TABLE jobs (id TEXT PRIMARY KEY, lang TEXT NOT NULL, kind TEXT);"


def test_rows_missing_a_not_null_columns_field_are_asked_for_with_the_count(
    tmp_path: Path,
) -> None:
    rows = [{"id": "j1", "lang": "en"}, {"id": "j2"}, {"id": "j3", "lang": "en"}, {"id": "j4"}]
    plan = _init(tmp_path, {"jobs.json": rows}, JOBS)

    asked = question(load_plan(plan), "jobs.lang.missing")
    assert asked.evidence == [
        "2 of 4 rows of jobs have no 'lang' (first: id='j2', id='j4')",
        "lang (TEXT): NOT NULL without a default in jobs",
        "every row that has 'lang' holds 'en' (2 rows)",
    ]
    assert (asked.choices, asked.default) == (["en", "empty", "leave"], "leave")


def test_the_value_given_for_rows_missing_a_field_becomes_its_default(tmp_path: Path) -> None:
    rows = [{"id": "j1", "lang": "en", "kind": "a"}, {"id": "j2", "kind": "b"}]
    plan = _init(tmp_path, {"jobs.json": rows}, JOBS)

    answer_and_save(plan, "jobs.lang.missing", "de")
    assert _migrate(plan).exit_code == 0
    assert _rows(tmp_path, "SELECT id, lang, kind FROM jobs ORDER BY 1") == [
        ("j1", "en", "a"),
        ("j2", "de", "b"),
    ]


def test_leaving_rows_missing_a_field_rejects_them(tmp_path: Path) -> None:
    rows = [{"id": "j1", "lang": "en"}, {"id": "j2"}]
    plan = _init(tmp_path, {"jobs.json": rows}, JOBS)

    answer_and_save(plan, "jobs.lang.missing", "leave")
    result = _migrate(plan)
    assert "j2" in result.output
    assert _rows(tmp_path, "SELECT id, lang FROM jobs") == [("j1", "en")]


def test_a_check_listing_values_offers_them_for_rows_missing_the_field(tmp_path: Path) -> None:
    schema = (
        "CREATE TABLE jobs (id TEXT PRIMARY KEY, lang TEXT NOT NULL CHECK (lang IN ('en', 'de')));"
    )
    rows = [{"id": "j1", "lang": "en"}, {"id": "j2", "lang": "de"}, {"id": "j3"}]
    plan = _init(tmp_path, {"jobs.json": rows}, schema)

    asked = question(load_plan(plan), "jobs.lang.missing")
    assert asked.choices == ["en", "de", "leave"]
    assert "its CHECK allows 'en', 'de'" in asked.evidence


SETTINGS = "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT, value_type TEXT);"
SETTINGS_JSON = {"dry_run": False, "model": "medium", "retries": 3}


def test_json_type_names_feeding_a_text_column_are_asked_about(tmp_path: Path) -> None:
    plan = _init(tmp_path, {"settings.json": SETTINGS_JSON}, SETTINGS)

    asked = question(load_plan(plan), "settings.value_type.names")
    assert (asked.choices, asked.default) == (["keep"], "keep")
    assert (
        asked.evidence[0]
        == "'value_type' holds only JSON type names: boolean 1, integer 1, string 1"
    )


def test_the_applications_names_answered_as_pairs_become_a_lookup(tmp_path: Path) -> None:
    plan = _init(tmp_path, {"settings.json": SETTINGS_JSON}, SETTINGS)

    answer_and_save(plan, "settings.value_type.names", "boolean=bool, integer=int")
    assert load_plan(plan).tables[0].columns["value_type"].lookup == {
        "boolean": "bool",
        "integer": "int",
    }
    assert _migrate(plan).exit_code == 0
    assert _rows(tmp_path, "SELECT key, value_type FROM settings ORDER BY 1") == [
        ("dry_run", "bool"),
        ("model", "string"),
        ("retries", "int"),
    ]


def test_a_names_answer_that_is_not_pairs_is_refused_naming_the_part(tmp_path: Path) -> None:
    plan = _init(tmp_path, {"settings.json": SETTINGS_JSON}, SETTINGS)

    with pytest.raises(PlanError, match="'integer' is not NAME=VALUE"):
        answer(load_plan(plan), "settings.value_type.names", "boolean=bool, integer")


# -- the answer machinery ----------------------------------------------------------------------


def _plan(**asked: Any) -> Any:
    return plan_from_dict(
        {
            "version": 1,
            "name": "p",
            "target": {"url": "sqlite:///t.db"},
            "sources": [{"name": "s", "kind": "json", "path": "s.json"}],
            "tables": [
                {
                    "name": "t",
                    "source": "s",
                    "columns": {"lang": {"from": "language", "ops": ["trim"]}, "x": "y"},
                }
            ],
            "questions": [
                {
                    "id": "q",
                    "ask": "?",
                    "choices": ["leave"],
                    "default": "leave",
                    **asked,
                }
            ],
        },
        Path("."),
    )


def test_a_value_answer_sets_one_key_of_a_column_and_keeps_its_others() -> None:
    plan = _plan(value_sets={"tables.t.columns.lang.default": "{answer}"})

    answer(plan, "q", "en")

    columns = plan.tables[0].columns
    assert (columns["lang"].from_, columns["lang"].ops, columns["lang"].default) == (
        "language",
        ["trim"],
        "en",
    )
    assert columns["x"].from_ == "y"


def test_a_value_answer_applies_when_the_plan_is_loaded() -> None:
    plan = _plan(value_sets={"tables.t.columns.lang.default": "{answer}"}, answer="de")

    assert not open_questions(plan)
    assert plan.tables[0].columns["lang"].default == "de"


def test_a_question_without_value_sets_refuses_an_answer_that_is_no_choice() -> None:
    with pytest.raises(PlanError, match="a question offers at least two choices"):
        _plan()


def test_init_interactive_takes_a_typed_value_for_a_question_that_takes_one(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "beats.json").write_text(json.dumps(BEAT_ROWS), encoding="utf-8")
    (tmp_path / "schema.sql").write_text(BEATS, encoding="utf-8")
    plan = tmp_path / "p.toml"
    command = ["init", str(data), "--schema", str(tmp_path / "schema.sql"), "-o", str(plan)]

    result = CliRunner().invoke(cli, [*command, "--interactive"], input="alive\n")

    assert result.exit_code == 0, result.output
    assert "Answer (leave or a value) [leave]:" in result.output
    saved = load_plan(plan)
    assert not open_questions(saved)
    assert saved.tables[0].columns["status"].const == "alive"
