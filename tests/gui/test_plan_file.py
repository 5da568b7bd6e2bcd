"""The Start page shows the opened plan file and its notes; a broken plan, its problems by line."""

from __future__ import annotations

from pathlib import Path

from ferry_gui.wizard import FerryWizard

PLAN = """version = 1
name = "jobs"

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
notes = ["no existing table matched", "key guessed from id"]

[[tables]]
name = "tags"
source = "jobs"
conflict = "upsert"
"""


def test_an_opened_plan_shows_its_file_text_and_its_tables_notes(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = tmp_path / "ferry.toml"
    plan.write_text(PLAN.replace("upsert", "insert"), encoding="utf-8")
    page = wizard.start_page
    assert page.open_plan(plan)
    assert page.plan_view.toPlainText() == PLAN.replace("upsert", "insert")
    assert page.notes.rows == [
        ["jobs", "jobs", "no existing table matched"],
        ["jobs", "jobs", "key guessed from id"],
    ]
    assert page.plan_tabs.tabText(2) == "No&tes (2)"


def test_a_plan_that_fails_validation_keeps_its_path_and_marks_the_lines_at_fault(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = tmp_path / "ferry.toml"
    plan.write_text(PLAN, encoding="utf-8")
    page = wizard.start_page
    assert not page.open_plan(plan)
    assert page.plan_edit.text() == str(plan)
    assert wizard.plan is None
    assert [(p.line, p.message) for p in page.plan_problems] == [
        (
            17,
            "tables[1] (\"tags\").conflict: must be one of 'insert', 'update', 'newer' or "
            "'error' (got 'upsert')",
        )
    ]
    assert page.plan_view.toPlainText() == PLAN
    assert page.plan_tabs.currentWidget() is page.plan_view
    marks = page.plan_view.extraSelections()
    assert [m.cursor.blockNumber() + 1 for m in marks] == [17]
    assert "line 17: tables[1]" in page.status.text()


def test_a_plan_that_is_not_toml_is_marked_at_the_line_the_parser_names(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = tmp_path / "ferry.toml"
    plan.write_text(PLAN.replace('[[tables]]\nname = "tags"', '[[tables]\nname = "tags"'))
    page = wizard.start_page
    assert not page.open_plan(plan)
    assert [p.line for p in page.plan_problems] == [14]
    assert page.plan_problems[0].message.startswith("not valid TOML: ")
