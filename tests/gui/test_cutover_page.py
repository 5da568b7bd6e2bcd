"""The Cutover page: the quiet check with its countdown and one line per source, then the
final sync's verdict, the reverse plan, the report and what to switch; a cutover refused while
a source file keeps changing. Real JSON and SQLite sources into real SQLite files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from guikit import migrate_in_wizard, reopen, to_preview, write_big_plan, write_records
from PySide6.QtCore import QTimer, QUrl

from ferry.sync.cutover import CutoverResult
from ferry_gui.pages.cutover import cutover_html
from ferry_gui.wizard import FerryWizard, PageId

WAIT = 120_000


def sqlite_plan(folder: Path, rows: int) -> Path:
    """A plan moving a SQLite file's ``items`` into ``new.db`` (a reverse plan is written)."""
    folder.mkdir(parents=True)
    conn = sqlite3.connect(folder / "old.db")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    conn.executemany("INSERT INTO items VALUES (?, ?)", [(i, f"item {i}") for i in range(rows)])
    conn.commit()
    conn.close()
    plan = folder / "ferry.toml"
    plan.write_text(
        'version = 1\nname = "old"\n\n[target]\nurl = "sqlite:///new.db"\n\n'
        '[[sources]]\nname = "old"\nkind = "sqlite"\npath = "old.db"\ntables = ["items"]\n\n'
        '[[tables]]\nname = "items"\nsource = "old.items"\nkey = ["id"]\n',
        encoding="utf-8",
    )
    return plan


def checked(qtbot: Any, wizard: FerryWizard, settle: int) -> None:
    page = wizard.cutover_page
    page.settle.set_seconds(settle)
    countdown: list[str] = []
    page.countdown.valueChanged.connect(lambda _v: countdown.append(page.countdown.format()))
    page.check_button.click()
    assert wizard.runner.busy and not page.cutover_button.isEnabled()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert any(text.endswith("s left") for text in countdown)


def test_cutover_after_keep_in_sync_shows_pass_the_report_and_what_to_switch(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = sqlite_plan(tmp_path / "app", 25)
    to_preview(qtbot, wizard, plan)
    wizard.next()
    migrate = wizard.migrate_page
    migrate.sync_box.setChecked(True)
    migrate.every.set_seconds(0)
    migrate.start_button.click()
    qtbot.waitUntil(lambda: len(migrate.seen_cycles) >= 2, timeout=WAIT)
    migrate.cancel_button.click()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    # the app writes once more before it is stopped: the final sync picks it up
    conn = sqlite3.connect(plan.parent / "old.db")
    conn.execute("INSERT INTO items VALUES (100, 'late')")
    conn.commit()
    conn.close()
    wizard.next()
    assert wizard.currentId() == PageId.CUTOVER
    page = wizard.cutover_page
    assert not page.cutover_button.isEnabled()  # check the sources first
    checked(qtbot, wizard, settle=1)
    assert [row[:3] for row in page.sources.rows] == [["old", "sqlite", "quiet"]]
    assert "Quiet" in page.status.text() and page.cutover_button.isEnabled()
    page.cutover_button.click()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    result = wizard.cutover_result
    assert result is not None and result.passed and result.verdict == "PASS"
    assert result.final_changed == {"items": 1}
    assert page.verdict.text() == "PASS"
    html = page.outcome.toHtml()
    assert "What to switch" in html and str(plan.parent / "new.db") in html
    assert result.reverse_plan and Path(result.reverse_plan).is_file()
    assert Path(result.reverse_plan).name in html
    assert result.report_path and Path(result.report_path).is_file()
    opened: list[QUrl] = []
    page.open_url = opened.append  # type: ignore[assignment]
    assert page.report_button.isEnabled()
    page.report_button.click()
    assert [Path(u.toLocalFile()) for u in opened] == [Path(result.report_path)]
    wizard.next()
    assert wizard.currentId() == PageId.FINISH
    summary = wizard.finish_page.summary.toPlainText()
    assert "Kept in sync" in summary and "Cutover: PASS" in summary


def test_a_cutover_is_refused_while_a_source_file_changes(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = write_big_plan(tmp_path / "app", 20)
    migrate_in_wizard(qtbot, wizard, plan)
    reopen(qtbot, wizard, plan, PageId.CUTOVER)
    page = wizard.cutover_page
    checked(qtbot, wizard, settle=1)
    assert page.sources.rows[0][2] == "quiet" and page.cutover_button.isEnabled()
    # the app starts writing again
    rows = [20]

    def write() -> None:
        rows[0] += 1
        write_records(plan.parent / "data" / "items.json", rows[0])

    writer = QTimer()
    writer.timeout.connect(write)
    writer.start(150)
    page.settle.set_seconds(2)
    page.cutover_button.click()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    writer.stop()
    assert wizard.cutover_result is None and page.refused is not None
    assert page.verdict.text() == "REFUSED"
    text = page.outcome.toPlainText()
    assert "refused" in text and "not quiet" in text and "items" in text
    assert page.report_path and Path(page.report_path).is_file()
    assert wizard.runner.last_dialog is None  # shown on the page, not as an error
    # checked again: not quiet, with the reason, and no cutover offered
    writer.start(150)
    checked(qtbot, wizard, settle=1)
    writer.stop()
    assert page.sources.rows[0][2] == "NOT QUIET" and not page.cutover_button.isEnabled()
    assert "Not quiet" in page.status.text()


def test_the_outcome_lists_the_reverse_plans_notes() -> None:
    now = datetime.now(UTC)
    result = CutoverResult(
        "r1", "app", "new.db", "new.db", now, now, 1.0, status="completed", verdict="PASS"
    )
    result.reverse_plan = "ferry.reverse.toml"
    result.reverse_notes = ["settings (from settings.json) is not carried back"]

    html = cutover_html(result)

    assert "<li>settings (from settings.json) is not carried back</li>" in html
