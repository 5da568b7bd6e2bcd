"""The Start page's Questions tab: a draft's open questions as a checklist with their evidence
and choices; a saved choice is `answer = "…"` in the plan (comments kept); Next waits while a
question is open; the Preview page shows what each answer changed."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from guikit import question_plan
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWizard

from ferry.plan import load_plan
from ferry_gui.pages.start import QUESTIONS_TAB
from ferry_gui.wizard import FerryWizard, PageId


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def test_an_open_question_shows_in_a_checklist_with_its_evidence_and_choices(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    page = wizard.start_page
    assert page.open_plan(question_plan(tmp_path))
    assert page.plan_tabs.currentIndex() == QUESTIONS_TAB
    assert page.plan_tabs.tabText(QUESTIONS_TAB) == "&Questions (1)"
    tab = page.questions
    assert [tab.checklist.item(i).text() for i in range(tab.checklist.count())] == [
        "☐ orders.conflict — open"
    ]
    evidence = tab.evidence.text()
    assert "2 of the 3 source keys are already in orders (2 target rows)" in evidence
    assert "by updated_at: 1 target rows newer than the source, 1 older, 0 the same" in evidence
    assert {c: b.text() for c, b in tab.choice_buttons.items()} == {
        "keep": "keep (safe default) — sets tables.orders.conflict = 'insert'",
        "newer": "newer — sets tables.orders.conflict = 'newer', "
        "tables.orders.newer_by = 'updated_at'",
        "update": "update — sets tables.orders.conflict = 'update'",
    }
    assert tab.choice_buttons["keep"].isChecked()


def test_next_waits_while_a_question_is_open_even_with_the_default_selected(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    page = wizard.start_page
    assert page.open_plan(question_plan(tmp_path))
    assert not page.isComplete()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert page.blocked.isVisible()
    assert page.blocked.text() == (
        "<span style='color:#c0392b'><b>Next waits:</b> 1 open question(s) (orders.conflict): "
        "answer each on the Questions tab (choose, then Save answer) before going on. Preview "
        "and migrate do not run while a question is open; the pre-selected safe default counts "
        "only once saved.</span>"
    )
    wizard.next()
    assert wizard.currentId() == PageId.START


def test_saving_a_choice_writes_the_answer_into_the_plan_keeping_every_comment(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    plan_file = question_plan(tmp_path)
    before = plan_file.read_text(encoding="utf-8")
    page = wizard.start_page
    assert page.open_plan(plan_file)
    page.questions.choose("newer")
    assert page.questions.save_answer()
    after = plan_file.read_text(encoding="utf-8")
    assert comments(after) == comments(before) and len(comments(before)) > 5
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
    assert [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        '-answer = ""',
        '+answer = "newer"',
        '-conflict = "insert"',
        '+conflict = "newer"',
        '+newer_by = "updated_at"',
    ]
    assert page.questions.checklist.item(0).text() == "☑ orders.conflict — answered: newer"
    assert page.plan_tabs.tabText(QUESTIONS_TAB) == "&Questions (0)"
    assert 'answer = "newer"' in page.plan_view.toPlainText()
    assert page.isComplete() and not page.blocked.isVisible()


def test_after_answering_the_preview_runs_and_shows_what_the_answer_changed(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    page = wizard.start_page
    assert page.open_plan(question_plan(tmp_path))
    page.questions.choose("newer")
    assert page.questions.save_answer()
    wizard.next()
    assert wizard.currentId() == PageId.BACKUP
    assert wizard.backup_page.start_backup()
    qtbot.waitUntil(wizard.backup_page.isComplete, timeout=60_000)
    wizard.next()
    qtbot.waitUntil(wizard.connect_page.isComplete, timeout=60_000)
    wizard.next()
    qtbot.waitUntil(wizard.preview_page.isComplete, timeout=60_000)
    assert wizard.preview_page.answers.isVisible()
    assert wizard.preview_page.answers.text() == (
        "answer orders.conflict = newer: sets tables.orders.conflict = &#x27;newer&#x27;, "
        "tables.orders.newer_by = &#x27;updated_at&#x27; "
        "(orders: 1 inserted, 1 updated, 0 unchanged, 1 conflicts)"
    )


def value_question_plan(tmp_path: Path) -> Path:
    """A draft whose one question takes the operator's own value: ``beats.status``."""
    from concurrent.futures import ThreadPoolExecutor

    from click.testing import CliRunner

    from ferry.cli.command import cli

    folder = tmp_path / "export"
    folder.mkdir()
    rows = [{"service": "polling"}, {"service": "web"}]
    (folder / "beats.json").write_text(json.dumps(rows), encoding="utf-8")
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE beats (service TEXT PRIMARY KEY, status TEXT NOT NULL);")
    plan = tmp_path / "ferry.toml"
    args = ["init", str(folder), "--schema", str(schema), "-o", str(plan)]
    with ThreadPoolExecutor(1) as pool:  # the tests' qasync loop counts as running here
        result = pool.submit(CliRunner().invoke, cli, args).result()
    assert result.exit_code == 0, result.output
    return plan


def test_a_question_taking_a_value_saves_the_value_typed(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    plan_file = value_question_plan(tmp_path)
    page = wizard.start_page
    assert page.open_plan(plan_file)
    tab = page.questions
    assert tab.value_button is not None and tab.value_edit is not None
    assert list(tab.choice_buttons) == ["leave"]
    assert tab.choice_buttons["leave"].isChecked()
    tab.value_edit.setFocus()
    QTest.keyClicks(tab.value_edit, "alive")
    assert tab.value_button.isChecked()
    assert tab.save_answer()
    saved = load_plan(plan_file)
    assert saved.questions[0].answer == "alive"
    assert saved.tables[0].columns["status"].const == "alive"
    assert tab.value_edit.text() == "alive"  # shown again as the answer
