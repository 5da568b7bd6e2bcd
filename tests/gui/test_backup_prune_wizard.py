"""The wizard's Backup page: earlier backups with their sizes, and pruning to the newest N."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from ferry.backup.create import backup_root, create_backup
from ferry_gui.wizard import FerryWizard, PageId

WAIT = 120_000


def test_the_backup_page_lists_backups_with_sizes_and_prunes_to_the_newest_n(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert wizard.start_page.open_demo(tmp_path / "demo")
    plan = wizard.plan
    assert plan is not None
    with ThreadPoolExecutor(1) as pool:  # the wizard's qasync loop owns this thread
        older = [pool.submit(asyncio.run, create_backup(plan)).result() for _ in range(2)]
    wizard.next()
    assert wizard.currentId() == PageId.BACKUP
    box = wizard.backup_page.backups
    assert [row[0] for row in box.model.rows] == [older[1].id, older[0].id]
    assert all(row[2].endswith(("KB", "MB", "KiB", "MiB")) for row in box.model.rows)
    wizard.backup_page.start_backup()
    qtbot.waitUntil(lambda: wizard.backup is not None and not wizard.runner.busy, timeout=WAIT)
    assert wizard.backup is not None
    assert len(box.model.rows) == 3  # the new one is listed as soon as it is taken
    box.keep.setCurrentText("1")
    assert [row[3] for row in box.model.rows] == ["kept", "older: prunable", "older: prunable"]
    asked: list[str] = []

    def yes(*args: Any) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    box.prune_button.click()
    assert older[0].id in asked[0] and older[1].id in asked[0]
    assert sorted(p.name for p in backup_root(plan).iterdir()) == [wizard.backup.id]
    assert [row[0] for row in box.model.rows] == [wizard.backup.id]
    assert box.summary.text().startswith("Deleted 2 older backups")
