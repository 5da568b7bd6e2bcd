"""Keyboard use and sizes: Tab order, Alt shortcuts, Enter, and layouts at the extreme sizes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from guikit import walk_demo_pages
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QWidget,
    QWizard,
)

from ferry_gui.pages.base import FerryPage
from ferry_gui.wizard import FerryWizard, PageId

#: the inputs Tab visits on each page, in order, as the walk leaves them
TAB_ORDER = {
    "StartPage": [
        "plan_edit",
        "browse_button",
        "open_button",
        "recent",
        "folder_button",
        "demo_button",
        "runs_button",
        "cutover_button",
        "plan_tabs",
        "sources_view",
    ],
    # (the prune button is disabled in the demo: it has no earlier backups)
    "BackupPage": ["items_view", "backup_button", "skip_box", "backups_view", "keep_box"],
    "ConnectPage": ["sqlite_radio", "sqlite_path", "sqlite_browse", "test_button", "items_view"],
    "PreviewPage": ["tabs", "mapping_view", "columns_button", "again"],
    # (the interval is disabled until "Keep in sync" is ticked)
    "MigratePage": ["sync_box", "start_button", "log"],
    "VerifyPage": ["tables_view", "assertions_view", "report_button", "again_button"],
    "FinishPage": ["summary"],
}


def activate(wizard: FerryWizard) -> None:
    """Make the wizard the active window (shortcuts and focus need one)."""
    wizard.activateWindow()
    handle = wizard.windowHandle()
    if handle is not None:
        handle.requestActivate()
    for _ in range(50):
        QApplication.processEvents()
        if QApplication.activeWindow() is wizard:
            return
        QTest.qWait(10)
    raise AssertionError("the wizard never became the active window")


def wizard_buttons(wizard: FerryWizard) -> list[QAbstractButton]:
    """The wizard's own Back, Next, Commit, Finish and Cancel buttons."""
    found = [wizard.button(b) for b in QWizard.WizardButton if b.value <= 4]
    return [b for b in found if b is not None]


def name_of(page: FerryPage, widget: QWidget | None) -> str:
    """The page attribute holding ``widget`` (or its parent: a tab widget's tab bar)."""
    for candidate in (widget, widget.parent() if widget is not None else None):
        for name, value in vars(page).items():
            if value is candidate:
                return name
    return repr(widget)


def test_tab_walks_every_page_in_the_intended_order(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    walked: dict[str, list[str]] = {}

    def visit(page: FerryPage) -> None:
        activate(wizard)
        expected = TAB_ORDER[type(page).__name__]
        first = getattr(page, expected[0])
        first.setFocus(Qt.FocusReason.TabFocusReason)
        QApplication.processEvents()
        seen = [name_of(page, QApplication.focusWidget())]
        for _ in expected[1:]:
            QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
            seen.append(name_of(page, QApplication.focusWidget()))
        walked[type(page).__name__] = seen
        # After the page's last input, Tab reaches the wizard's own buttons (a text browser
        # steps through its links first).
        last = QApplication.focusWidget()
        for _ in range(10):
            QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
            if QApplication.focusWidget() is not last:
                break
        assert QApplication.focusWidget() in wizard_buttons(wizard), type(page).__name__

    walk_demo_pages(wizard, qtbot, tmp_path / "demo", visit)
    assert walked == TAB_ORDER


def mnemonic(text: str) -> str | None:
    match = re.search(r"&([^&])", text)
    return match.group(1).lower() if match else None


def test_alt_shortcuts_are_unique_on_every_page(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    clashes: dict[str, list[str]] = {}

    def visit(page: FerryPage) -> None:
        texts = [b.text() for b in wizard_buttons(wizard) if b.isVisible()]
        for widget in page.findChildren(QWidget):
            if not widget.isVisible():
                continue
            if isinstance(widget, QAbstractButton) or (
                isinstance(widget, QLabel) and widget.buddy() is not None
            ):
                texts.append(widget.text())
            elif isinstance(widget, QTabWidget):
                texts += [widget.tabText(i) for i in range(widget.count())]
        letters = [m for m in map(mnemonic, texts) if m]
        twice = sorted({t for t in texts if letters.count(mnemonic(t) or "") > 1})
        if twice:
            clashes[type(page).__name__] = twice

    walk_demo_pages(wizard, qtbot, tmp_path / "demo", visit)
    assert clashes == {}


def test_alt_n_alt_b_and_enter_move_through_the_wizard(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    # A shortcut "animates" the button's click: it lands some 100 ms later.
    assert wizard.start_page.open_demo(tmp_path / "demo")
    activate(wizard)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.BACKUP, timeout=2_000)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.START, timeout=2_000)
    wizard.start_page.sources_view.setFocus()
    QTest.keyClick(wizard.start_page.sources_view, Qt.Key.Key_Return)
    assert wizard.currentId() == PageId.BACKUP
    # Not before the page is complete: Enter does nothing until the backup is taken.
    wizard.backup_page.items_view.setFocus()
    QTest.keyClick(wizard.backup_page.items_view, Qt.Key.Key_Return)
    QTest.qWait(300)
    assert wizard.currentId() == PageId.BACKUP


def clipped(page: QWidget) -> list[str]:
    """Visible texts and inputs smaller than they need, or outside the page."""
    problems = []
    area = QRect(QPoint(0, 0), page.size())
    for widget in page.findChildren(QWidget):
        if not widget.isVisible() or not isinstance(
            widget, QLabel | QAbstractButton | QLineEdit | QComboBox | QSpinBox
        ):
            continue
        size, hint = widget.size(), widget.minimumSizeHint()
        label = f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()[:30]!r}"
        if isinstance(widget, QLabel) and widget.wordWrap():
            if widget.text() and size.height() < widget.heightForWidth(size.width()):
                problems.append(f"{label}: {size.height()} < {widget.heightForWidth(size.width())}")
        elif isinstance(widget, QLabel | QAbstractButton):
            need = widget.sizeHint()
            if size.width() < need.width() or size.height() < need.height():
                problems.append(f"{label}: {size.toTuple()} < {need.toTuple()}")
        elif size.width() < hint.width() or size.height() < hint.height():
            problems.append(f"{label}: {size.toTuple()} < {hint.toTuple()}")
        where = QRect(widget.mapTo(page, QPoint(0, 0)), size)
        if not area.contains(where):
            problems.append(f"{label}: outside the page at {where.getRect()}")
    return problems


def test_no_page_clips_its_texts_at_the_minimum_size_or_full_hd(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    problems: dict[str, list[str]] = {}

    def visit(page: FerryPage) -> None:
        for size in (wizard.minimumSize(), QSize(1920, 1080)):
            wizard.resize(size)
            QApplication.processEvents()
            QApplication.processEvents()
            assert wizard.size() == size
            found = clipped(page)
            if found:
                problems[f"{type(page).__name__} at {size.toTuple()}"] = found

    walk_demo_pages(wizard, qtbot, tmp_path / "demo", visit)
    assert problems == {}
