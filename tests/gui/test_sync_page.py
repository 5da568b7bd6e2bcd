"""The Migrate page's "Keep in sync": the engine's sync loop with its cycles as a live table,
the freeze-window line, Stop between cycles, and a stop during a cycle rolled back; real JSON
sources into real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from guikit import to_preview, write_big_plan, write_records
from PySide6.QtCore import QTimer

from ferry_gui.wizard import FerryWizard, PageId

WAIT = 120_000


def count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        return conn.execute("SELECT count(*) FROM items").fetchone()[0] if "items" in tables else 0
    finally:
        conn.close()


def test_keep_in_sync_runs_cycles_live_and_stops_between_them(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = write_big_plan(tmp_path / "app", 30)
    to_preview(qtbot, wizard, plan)
    wizard.next()
    page = wizard.migrate_page
    assert not page.every.isEnabled() and page.sync_panel.isHidden()
    page.sync_box.setChecked(True)
    assert page.every.isEnabled() and page.sync_panel.isVisible()
    assert page.start_button.text() == "Start &syncing"
    page.every.set_seconds(1)
    ticks: list[int] = []
    beat = QTimer()
    beat.timeout.connect(lambda: ticks.append(1))
    beat.start(50)
    page.start_button.click()
    assert wizard.runner.busy and page.cancel_button.text() == "S&top syncing"
    qtbot.waitUntil(lambda: len(page.seen_cycles) >= 1, timeout=WAIT)
    first = page.seen_cycles[0]
    assert first.changed == {"items": 30}
    # the app keeps writing: 5 new rows, picked up by a later cycle
    write_records(plan.parent / "data" / "items.json", 35)
    qtbot.waitUntil(
        lambda: any(c.changed.get("items") == 5 for c in page.seen_cycles), timeout=WAIT
    )
    qtbot.waitUntil(lambda: len(page.seen_cycles) >= 3, timeout=WAIT)
    beat.stop()
    assert len(ticks) > 20  # the event loop kept running while the cycles did
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    result = wizard.sync_result
    assert result is not None and result.stopped == "cancelled"
    assert len(result.cycles) >= 3
    # the live table: one row per cycle (cycle, started, duration, changed, per table, behind)
    assert page.cycles.rowCount() == len(result.cycles)
    assert [row[0] for row in page.cycles.rows] == [c.cycle for c in result.cycles]
    assert page.cycles.rows[0][3] == 30 and page.cycles.rows[0][4] == "items 30"
    assert any(row[4] == "no rows changed" for row in page.cycles.rows)
    assert "freeze window will need about" in page.freeze.text()
    assert "Sync stopped" in page.status.text()
    assert count(plan.parent / "app.db") == 35
    # each cycle is a journaled run
    assert len({c.run_id for c in result.cycles}) == len(result.cycles)
    # next: the cutover (it verifies), not the verification
    assert page.isComplete() and page.nextId() == PageId.CUTOVER
    wizard.next()
    assert wizard.currentId() == PageId.CUTOVER


def test_a_stop_during_a_cycle_rolls_that_cycle_back_and_says_so(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = write_big_plan(tmp_path / "big", 150_000, batch_size=1000)
    to_preview(qtbot, wizard, plan)
    wizard.next()
    page = wizard.migrate_page
    page.sync_box.setChecked(True)
    page.every.set_seconds(0)
    assert page.start_migration()
    qtbot.waitUntil(lambda: any(line.done for line in page.lines.values()), timeout=WAIT)
    assert not page.seen_cycles
    page.cancel_button.click()
    assert "Stopping" in page.status.text()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert wizard.sync_result is None and not page.isComplete()
    assert page.cycles.rows[-1][0] == 1
    assert "rolled back" in page.cycles.rows[-1][4]
    assert "rolled back" in page.status.text()
    assert count(plan.parent / "app.db") == 0
    # the loop may be started again
    assert page.start_button.isEnabled() and page.sync_box.isEnabled()
