"""The Preview page's Changes and DDL tabs show what the run will really do to the target."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from ferry_gui.wizard import FerryWizard, PageId

WAIT = 120_000

PLAN = """name = "jobs"

[target]
url = "sqlite:///app.db"
{target}

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
conflict = "{conflict}"
"""


def jobs_app(folder: Path, conflict: str = "insert", target: str = "") -> Path:
    """``jobs.json`` (job 1 is now called "new") and a plan moving it into ``app.db``."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [{"id": 1, "name": "new"}, {"id": 2, "name": "mux"}]
    (folder / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    plan = folder / "ferry.toml"
    plan.write_text(PLAN.format(conflict=conflict, target=target), encoding="utf-8")
    return plan


def existing_target(folder: Path) -> None:
    """``app.db`` already holds job 1 under its old name."""
    conn = sqlite3.connect(folder / "app.db")
    conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO jobs VALUES (1, 'old')")
    conn.commit()
    conn.close()


def complete(wizard: FerryWizard, page: PageId) -> bool:
    return wizard.currentId() == page and wizard.page(page).isComplete()


def walk_to_preview(qtbot: Any, wizard: FerryWizard, plan: Path) -> None:
    """Open the plan, take the backup, check the target and wait for the preview."""
    assert wizard.start_page.open_plan(plan)
    qtbot.waitUntil(lambda: complete(wizard, PageId.START), timeout=WAIT)
    wizard.next()
    wizard.backup_page.start_backup()
    qtbot.waitUntil(lambda: complete(wizard, PageId.BACKUP), timeout=WAIT)
    wizard.next()
    qtbot.waitUntil(lambda: complete(wizard, PageId.CONNECT), timeout=WAIT)
    wizard.next()
    qtbot.waitUntil(lambda: complete(wizard, PageId.PREVIEW), timeout=WAIT)


def shown(model: Any, row: int) -> list[str]:
    return [model.data(model.index(row, c)) or "" for c in range(model.columnCount())]


def test_a_conflict_shows_the_kept_value_as_after_and_the_source_value_not_applied(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    existing_target(tmp_path)
    walk_to_preview(qtbot, wizard, jobs_app(tmp_path, conflict="insert"))

    diffs = wizard.preview_page.diffs
    assert diffs.headers[6] == "source (not applied)"
    assert diffs.rowCount() == 1
    assert shown(diffs, 0) == ["jobs", "id=1", "conflict", "name", "old", "old", "new"]
    after = diffs.index(0, 5)
    assert diffs.data(after, Qt.ItemDataRole.BackgroundRole) is None  # not shown as a change
    source = diffs.index(0, 6)
    assert diffs.data(source, Qt.ItemDataRole.BackgroundRole) is not None
    assert diffs.data(source, Qt.ItemDataRole.ToolTipRole) == (
        "new: the source's value, not applied (the target keeps its own)"
    )


def test_an_update_shows_the_source_value_as_after(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    existing_target(tmp_path)
    walk_to_preview(qtbot, wizard, jobs_app(tmp_path, conflict="update"))

    diffs = wizard.preview_page.diffs
    assert shown(diffs, 0) == ["jobs", "id=1", "update", "name", "old", "new", ""]
    assert diffs.data(diffs.index(0, 5), Qt.ItemDataRole.BackgroundRole) is not None


def test_the_ddl_tab_ends_each_schema_sql_statement_with_one_semicolon(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = jobs_app(tmp_path, target='schema = "schema.sql"')
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT);\n", encoding="utf-8"
    )
    walk_to_preview(qtbot, wizard, plan)

    assert wizard.preview_page.ddl.toPlainText() == (
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT);"
    )


def test_the_inserts_tab_shows_the_rows_to_insert_as_a_grid(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    existing_target(tmp_path)
    walk_to_preview(qtbot, wizard, jobs_app(tmp_path, conflict="update"))

    page = wizard.preview_page
    assert page.tabs.tabText(3) == "Inser&ts (1)"
    assert page.inserts_note.text() == "1 row to insert into jobs, all shown."
    assert page.insert_table.currentText() == "jobs"
    assert page.insert_rows.headers == ["id", "name"]
    assert shown(page.insert_rows, 0) == ["2", "mux"]
    assert page.insert_rows.rowCount() == 1
