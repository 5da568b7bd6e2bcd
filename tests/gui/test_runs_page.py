"""The Run history page, reached from Start: the runs of the plan's target listed after a
migration in the wizard, and the actions on a past run (open its report, verify, undo it, roll
back to its backup) on real SQLite files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from guikit import migrate_in_wizard, reopen, write_big_plan
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMessageBox, QWizard

from ferry_gui.wizard import FerryWizard, PageId

WAIT = 120_000
ROWS = 40


def listed(qtbot: Any, wizard: FerryWizard) -> None:
    qtbot.waitUntil(lambda: not wizard.runner.busy and bool(wizard.runs_page.records), timeout=WAIT)


def kinds(wizard: FerryWizard) -> list[str]:
    return [r.kind for r in wizard.runs_page.records]


def button(wizard: FerryWizard, label: str) -> Any:
    page = wizard.runs_page
    return next(
        b for b, a in zip(page.action_buttons, page.actions, strict=True) if a.label == label
    )


@pytest.fixture
def migrated(qtbot: Any, wizard: FerryWizard, tmp_path: Path) -> Path:
    """A small JSON → SQLite plan migrated (and verified) in the wizard; then the run history
    opened from Start."""
    plan = write_big_plan(tmp_path / "app", ROWS)
    migrate_in_wizard(qtbot, wizard, plan)
    reopen(qtbot, wizard, plan, PageId.RUNS)
    listed(qtbot, wizard)
    return plan


def test_the_runs_of_a_migration_are_listed_with_their_reports(
    qtbot: Any, wizard: FerryWizard, migrated: Path
) -> None:
    page = wizard.runs_page
    assert "migrate" in kinds(wizard) and "verify" in kinds(wizard)
    run = next(r for r in page.records if r.kind == "migrate")
    row = page.records.index(run)
    assert page.model.rows[row][0] == run.run_id
    assert page.model.rows[row][3] == f"{ROWS} new · 0 changed · 0 same"
    assert page.model.rows[row][4] == "completed"
    assert run.backup_id and page.model.rows[row][5] == run.backup_id
    assert page.model.rows[row][6] == ""
    # Back returns to Start (the page is a last page, yet not a dead end)
    assert wizard.button(QWizard.WizardButton.BackButton).isVisible()
    # Open report: the run's HTML, in the browser
    opened: list[QUrl] = []
    page.open_url = opened.append  # type: ignore[assignment]
    assert page.select(run.run_id)
    report = button(wizard, "Open &report")
    assert report.isEnabled()
    report.click()
    assert [Path(u.toLocalFile()) for u in opened] == [Path(run.report_path or "")]
    assert Path(run.report_path or "").is_file()
    wizard.back()
    assert wizard.currentId() == PageId.START and wizard.detour is None


def test_verify_from_the_runs_page_adds_a_verification(
    qtbot: Any, wizard: FerryWizard, migrated: Path
) -> None:
    page = wizard.runs_page
    before = kinds(wizard).count("verify")
    assert page.select(next(r.run_id for r in page.records if r.kind == "migrate"))
    button(wizard, "&Verify the target now").click()
    qtbot.waitUntil(lambda: kinds(wizard).count("verify") == before + 1, timeout=WAIT)
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert wizard.verify_result is not None and wizard.verify_result.passed
    assert "PASS" in page.status.text()
    assert page.records[-1].kind == "verify" and page.records[-1].verdict == "PASS"


def test_roll_back_from_the_runs_page_keeps_the_history(
    qtbot: Any, wizard: FerryWizard, migrated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = wizard.runs_page
    run = next(r for r in page.records if r.kind == "migrate")
    asked: list[str] = []

    def yes(*args: Any) -> QMessageBox.StandardButton:
        asked.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "warning", yes)
    assert page.select(run.run_id)
    rollback = button(wizard, "R&oll back to its backup…")
    assert rollback.isEnabled()
    rollback.click()
    assert len(asked) == 1 and run.backup_id in asked[0]
    qtbot.waitUntil(lambda: "rollback" in kinds(wizard), timeout=WAIT)
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    result = wizard.rollback_result
    assert result is not None and result.backup_id == run.backup_id
    assert run.run_id in result.rolled_back_runs
    # the history survives the restore: the migration is still listed, marked rolled back
    again = next(r for r in page.records if r.run_id == run.run_id)
    assert again.rolled_back
    assert page.model.rows[page.records.index(again)][6].startswith("rolled back")
    # the target is as the backup had it: before the migration, no items
    conn = sqlite3.connect(migrated.parent / "app.db")
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        count = conn.execute("SELECT count(*) FROM items").fetchone()[0] if "items" in tables else 0
    finally:
        conn.close()
    assert count == 0


def test_the_run_history_of_a_plan_that_never_ran(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = write_big_plan(tmp_path / "fresh", 5)
    reopen(qtbot, wizard, plan, PageId.RUNS)
    qtbot.waitUntil(
        lambda: not wizard.runner.busy and wizard.runs_page.history is not None, timeout=WAIT
    )
    assert wizard.runs_page.records == []
    assert "No runs yet" in wizard.runs_page.status.text()
    assert not any(b.isEnabled() for b in wizard.runs_page.action_buttons)
    assert not (tmp_path / "fresh" / "app.db").exists()  # only read: not created


def test_undo_from_the_runs_page_reverts_exactly_that_run(
    qtbot: Any, wizard: FerryWizard, migrated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a second run that changes one row (a first load into SQLite is not undoable by default)
    data = migrated.parent / "data" / "items.json"
    records = json.loads(data.read_text(encoding="utf-8"))
    records[3]["name"] = "renamed"
    data.write_text(json.dumps(records), encoding="utf-8")
    again = subprocess.run(
        [sys.executable, "-m", "ferry", "migrate", str(migrated), "--no-backup"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    page = wizard.runs_page
    page.refresh()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    second = [r for r in page.records if r.kind == "migrate"][-1]
    assert second.updated == 1
    monkeypatch.setattr(QMessageBox, "question", lambda *_: QMessageBox.StandardButton.Yes)
    assert page.select(second.run_id)
    undo = button(wizard, "&Undo this run…")
    assert undo.isEnabled()
    undo.click()
    qtbot.waitUntil(lambda: "undo" in kinds(wizard), timeout=WAIT)
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert "Undid run" in page.status.text(), page.status.text()
    assert next(r for r in page.records if r.run_id == second.run_id).undone
    conn = sqlite3.connect(migrated.parent / "app.db")
    try:
        name = conn.execute("SELECT name FROM items WHERE id = 3").fetchone()[0]
    finally:
        conn.close()
    assert name == "item-3"
