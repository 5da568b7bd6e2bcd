"""Open questions (ferry.scan.questions): `ferry init` asks whether newer target rows are kept,
`check` lists open questions, preview and migrate wait for the answers, and an answer is one
line in the plan, a prompt of `init --interactive` or `answer_and_save`."""

from __future__ import annotations

import difflib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pgkit import pg_exec, pg_rows

from ferry.cli.command import cli
from ferry.errors import PlanError
from ferry.plan import load_plan
from ferry.scan.questions import answer_and_save, open_questions

SOURCE = [
    {"id": 1, "item": "disc", "updated_at": "2024-03-01T10:00:00Z"},
    {"id": 2, "item": "case", "updated_at": "2024-03-01T10:00:00Z"},
    {"id": 3, "item": "label", "updated_at": "2024-03-01T10:00:00Z"},
    {"id": 4, "item": "sleeve", "updated_at": "2024-03-01T10:00:00Z"},
]
#: ids 1 and 2 were edited in the app after the export; 3 is older; 9 only in the target
TARGET = [
    (1, "disc (edited)", "2024-03-05 08:00:00"),
    (2, "case (edited)", "2024-03-04 08:00:00"),
    (3, "label (old)", "2024-02-01 08:00:00"),
    (9, "poster", "2024-01-01 08:00:00"),
]


def ferry(*args: str | Path, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def app_folder(tmp_path: Path) -> Path:
    """``export/orders.json`` and an app database ``app.db`` whose orders table has rows."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "orders.json").write_text(json.dumps(SOURCE), encoding="utf-8")
    conn = sqlite3.connect(tmp_path / "app.db")
    conn.execute(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL, updated_at TIMESTAMP)"
    )
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", TARGET)
    conn.commit()
    conn.close()
    return folder


def drafted(tmp_path: Path, *extra: str, input: str | None = None) -> Path:
    folder = app_folder(tmp_path)
    plan = tmp_path / "ferry.toml"
    result = ferry("init", folder, "--target", "sqlite:///app.db", "-o", plan, *extra, input=input)
    assert result.exit_code == 0, result.output
    return plan


def orders(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT id, item FROM orders ORDER BY id").fetchall()
    finally:
        conn.close()


def test_init_asks_whether_newer_target_rows_are_kept_and_drafts_the_safe_rule(
    tmp_path: Path,
) -> None:
    plan = load_plan(drafted(tmp_path))
    (asked,) = plan.questions
    assert asked.id == "orders.conflict"
    assert asked.evidence == [
        "3 of the 4 source keys are already in orders (4 target rows)",
        "by updated_at: 2 target rows newer than the source, 1 older, 0 the same",
        "first keys newer in the target: 1, 2",
    ]
    assert (asked.choices, asked.default, asked.answer) == (["keep", "newer", "update"], "keep", "")
    assert asked.sets["newer"] == {
        "tables.orders.conflict": "newer",
        "tables.orders.newer_by": "updated_at",
    }
    assert plan.tables[0].conflict == "insert"


def test_check_lists_the_open_question_and_fails_on_it(tmp_path: Path) -> None:
    result = ferry("check", drafted(tmp_path))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-1] == (
        "FAIL 1 open question(s): preview and migrate wait for the answers "
        '(answer = "..." in the plan, or ferry init --interactive)'
    )
    assert lines[-2].startswith("open question: orders.conflict: orders already holds 3 of")
    assert not [line for line in lines[:-1] if line.startswith("FAIL")]


@pytest.mark.parametrize("command", ["preview", "migrate"])
def test_preview_and_migrate_refuse_an_open_question_with_exit_3(
    tmp_path: Path, command: str
) -> None:
    plan = drafted(tmp_path)
    before = (tmp_path / "app.db").read_bytes()
    result = ferry(command, plan)
    assert result.exit_code == 3
    assert result.output.splitlines()[:2] == [
        "open question: orders.conflict: orders already holds 3 of these rows: keep the "
        "target's rows (keep), let the row with the newer updated_at win (newer), or overwrite "
        "them with the source (update)? Choices: keep (default), newer, update. [3 of the 4 "
        "source keys are already in orders (4 target rows); by updated_at: 2 target rows newer "
        "than the source, 1 older, 0 the same; first keys newer in the target: 1, 2]",
        "error: the plan has 1 open question(s): orders.conflict",
    ]
    assert (tmp_path / "app.db").read_bytes() == before
    assert not (tmp_path / "ferry-backups").exists()


def test_an_answer_line_in_the_plan_applies_its_settings(tmp_path: Path) -> None:
    plan_file = drafted(tmp_path)
    text = plan_file.read_text(encoding="utf-8")
    plan_file.write_text(text.replace('answer = ""', 'answer = "newer"'), encoding="utf-8")
    plan = load_plan(plan_file)
    assert (plan.tables[0].conflict, plan.tables[0].newer_by) == ("newer", "updated_at")
    assert open_questions(plan) == []
    result = ferry("migrate", plan_file, "-q")
    assert result.exit_code == 0, result.output
    assert orders(tmp_path / "app.db") == [
        (1, "disc (edited)"),
        (2, "case (edited)"),
        (3, "label"),
        (4, "sleeve"),
        (9, "poster"),
    ]


def test_the_safe_default_keeps_every_target_row(tmp_path: Path) -> None:
    plan_file = drafted(tmp_path)
    answer_and_save(plan_file, "orders.conflict", "keep")
    assert ferry("migrate", plan_file, "-q").exit_code == 0
    assert orders(tmp_path / "app.db") == [
        (1, "disc (edited)"),
        (2, "case (edited)"),
        (3, "label (old)"),
        (4, "sleeve"),
        (9, "poster"),
    ]


def test_init_interactive_asks_the_question_and_writes_the_answer(tmp_path: Path) -> None:
    plan_file = drafted(tmp_path, "--interactive", input="newer\n")
    plan = load_plan(plan_file)
    assert plan.questions[0].answer == "newer"
    text = plan_file.read_text(encoding="utf-8")
    assert 'answer = "newer"' in text
    assert 'conflict = "newer"' in text and 'newer_by = "updated_at"' in text
    assert ferry("preview", plan_file, "-q").exit_code == 0


def test_answering_through_the_api_changes_only_the_answered_lines(tmp_path: Path) -> None:
    plan_file = drafted(tmp_path)
    before = plan_file.read_text(encoding="utf-8")
    answer_and_save(plan_file, "orders.conflict", "newer")
    after = plan_file.read_text(encoding="utf-8")
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
    assert [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        '-answer = ""',
        '+answer = "newer"',
        '-conflict = "insert"',
        '+conflict = "newer"',
        '+newer_by = "updated_at"',
    ]


def test_preview_shows_what_the_answer_sets_with_the_table_counts(tmp_path: Path) -> None:
    plan_file = drafted(tmp_path)
    answer_and_save(plan_file, "orders.conflict", "newer")
    result = ferry("preview", plan_file, "-q")
    assert result.exit_code == 0, result.output
    assert (
        "answer orders.conflict = newer: sets tables.orders.conflict = 'newer', "
        "tables.orders.newer_by = 'updated_at' (orders: 1 inserted, 1 updated, 0 unchanged, "
        "2 conflicts)"
    ) in result.output.replace("\n", " ")


def test_an_answer_that_is_not_a_choice_is_refused_naming_the_choices(tmp_path: Path) -> None:
    plan_file = drafted(tmp_path)
    with pytest.raises(PlanError, match="'overwrite' is not a choice of question"):
        answer_and_save(plan_file, "orders.conflict", "overwrite")
    text = plan_file.read_text(encoding="utf-8")
    plan_file.write_text(text.replace('answer = ""', 'answer = "overwrite"'), encoding="utf-8")
    result = ferry("check", plan_file)
    assert result.exit_code == 3
    assert "answer 'overwrite' is not one of the choices (keep, newer, update)" in result.output


def test_a_question_setting_an_unknown_table_is_a_plan_error(tmp_path: Path) -> None:
    plan_file = drafted(tmp_path)
    text = plan_file.read_text(encoding="utf-8")
    plan_file.write_text(text.replace('"tables.orders.', '"tables.order.'), encoding="utf-8")
    with pytest.raises(PlanError, match="choice 'keep': the plan has no table named 'order'"):
        load_plan(plan_file)


@pytest.mark.pg
def test_init_on_a_postgres_target_with_newer_rows_asks_too(tmp_path: Path, pg_url: str) -> None:
    pg_exec(
        pg_url,
        "CREATE TABLE orders (id integer PRIMARY KEY, item text NOT NULL, updated_at timestamptz)",
        *(f"INSERT INTO orders VALUES ({i}, '{item}', '{at}+00')" for i, item, at in TARGET),
    )
    folder = app_folder(tmp_path)
    plan_file = tmp_path / "ferry.toml"
    result = ferry("init", folder, "--target", pg_url, "-o", plan_file)
    assert result.exit_code == 0, result.output
    (asked,) = load_plan(plan_file).questions
    assert asked.evidence[:2] == [
        "3 of the 4 source keys are already in orders (4 target rows)",
        "by updated_at: 2 target rows newer than the source, 1 older, 0 the same",
    ]
    answer_and_save(plan_file, "orders.conflict", "newer")
    assert ferry("migrate", plan_file, "-q").exit_code == 0
    assert pg_rows(pg_url, "SELECT id, item FROM orders ORDER BY id") == [
        (1, "disc (edited)"),
        (2, "case (edited)"),
        (3, "label"),
        (4, "sleeve"),
        (9, "poster"),
    ]


def test_check_json_and_preview_json_carry_the_questions_and_answers(tmp_path: Path) -> None:
    plan_file = drafted(tmp_path)
    checked = json.loads(ferry("check", plan_file, "--json").output)
    assert [(q["id"], q["answer"]) for q in checked["open_questions"]] == [("orders.conflict", "")]
    answer_and_save(plan_file, "orders.conflict", "keep")
    previewed = json.loads(ferry("preview", plan_file, "--json").output)
    assert previewed["answers"] == [
        {
            "question": "orders.conflict",
            "answer": "keep",
            "sets": ["tables.orders.conflict = 'insert'"],
            "tables": {"orders": {"inserted": 1, "updated": 0, "unchanged": 0, "conflicts": 3}},
        }
    ]
