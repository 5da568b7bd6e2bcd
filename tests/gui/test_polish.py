"""Wizard polish: counts in words and colours, conflicts on the Finish page, no Back while a
job runs, Esc asks only when something would be lost, the preview's bar with a total."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from guikit import walk_demo_pages, write_big_plan
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWizard

from ferry_gui.wizard import FerryWizard

WAIT = 120_000


def back_enabled(wizard: FerryWizard) -> bool:
    return wizard.button(QWizard.WizardButton.BackButton).isEnabled()


def test_the_migrate_page_counts_in_words_with_colours(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    walk_demo_pages(wizard, qtbot, tmp_path / "demo", lambda page: None)

    label = wizard.migrate_page.lines["settings"].counts
    assert label.toolTip() == ""  # no legend to look up
    assert label.text() == (
        '<span style="color:#1b7f2a; font-weight:normal">13 new</span> · '
        '<span style="color:#1f5fbf; font-weight:normal">0 changed</span> · '
        '<span style="color:#b35c00; font-weight:bold">3 conflicts</span>'
    )


def test_the_finish_page_lists_the_conflicts_by_key(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    walk_demo_pages(wizard, qtbot, tmp_path / "demo", lambda page: None)

    text = wizard.finish_page.summary.toPlainText()
    assert "3 conflicts: the target kept its values" in text
    lines = [line for line in text.splitlines() if line.startswith("settings key=")]
    assert len(lines) == 3


def test_back_is_disabled_while_the_migration_runs(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    seen: list[bool] = []

    def visit(page: Any) -> None:
        if page is wizard.migrate_page:
            assert back_enabled(wizard)  # before the run: Back to the preview is fine
            assert page.start_migration()
            seen.append(back_enabled(wizard))

    walk_demo_pages(wizard, qtbot, tmp_path / "demo", visit)

    assert seen == [False]


def test_back_comes_back_when_the_job_ends(qtbot: Any, wizard: FerryWizard, tmp_path: Path) -> None:
    seen: list[bool] = []

    def visit(page: Any) -> None:
        if page is wizard.preview_page:
            assert page.start_preview()
            seen.append(back_enabled(wizard))
            qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
            seen.append(back_enabled(wizard))

    walk_demo_pages(wizard, qtbot, tmp_path / "demo", visit)

    assert seen == [False, True]


def asked_questions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record QMessageBox.question's texts and answer No."""
    asked: list[str] = []

    def question(_parent: Any, _title: str, text: str, *_args: Any) -> Any:
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def test_esc_with_nothing_to_lose_closes_without_asking(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = asked_questions(monkeypatch)
    assert wizard.start_page.open_demo(tmp_path / "demo")

    qtbot.keyClick(wizard, Qt.Key.Key_Escape)

    assert asked == []
    assert not wizard.isVisible()


def test_esc_with_typed_connection_settings_asks_and_no_keeps_the_wizard(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = asked_questions(monkeypatch)

    def visit(page: Any) -> None:
        if page is wizard.connect_page:
            page.sqlite_path.setText("elsewhere.db")
            qtbot.keyClick(wizard, Qt.Key.Key_Escape)
            assert asked == [
                "The connection settings typed on this page (not in the plan yet) would be "
                "lost. Close anyway?"
            ]
            assert wizard.isVisible()
            page.sqlite_path.setText("app.db")  # back to the plan's: the walk goes on
            raise _Stop

    with pytest.raises(_Stop):
        walk_demo_pages(wizard, qtbot, tmp_path / "demo", visit)


def test_closing_the_window_with_typed_connection_settings_asks(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = asked_questions(monkeypatch)

    def visit(page: Any) -> None:
        if page is wizard.connect_page:
            page.sqlite_path.setText("elsewhere.db")
            wizard.close()
            assert len(asked) == 1 and wizard.isVisible()
            page.sqlite_path.setText("app.db")
            raise _Stop

    with pytest.raises(_Stop):
        walk_demo_pages(wizard, qtbot, tmp_path / "demo", visit)


class _Stop(Exception):
    """Ends a walk at the page a test looked at."""


def test_the_preview_progress_bar_has_a_total(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = write_big_plan(tmp_path / "big", 150_000, batch_size=1000)
    assert wizard.start_page.open_plan(plan)
    page = wizard.preview_page
    assert page.start_preview()

    qtbot.waitUntil(lambda: page.progress.maximum() > 1, timeout=WAIT)

    assert wizard.runner.busy
    assert page.progress.isTextVisible()
    assert page.progress.value() <= page.progress.maximum()
    assert page.progress.format() == (
        f"{page.progress.value():,} / {page.progress.maximum():,} rows"
    )
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
