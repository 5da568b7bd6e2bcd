"""Every long job has a visible Cancel button that stops it cleanly and says so."""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from guikit import write_big_plan

from ferry.scan.workspace import default_workspace
from ferry_gui.wizard import FerryWizard

WAIT = 120_000


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_many_files_plan(folder: Path, files: int) -> Path:
    """A plan whose one text source is ``files`` small files: the backup copies (and fsyncs)
    each on its own, so it runs long enough to be cancelled half-way."""
    (folder / "beats").mkdir(parents=True)
    for i in range(files):
        (folder / "beats" / f"beat{i:05d}.txt").write_text("2024-05-01T10:00:00Z\n", "utf-8")
    plan = folder / "ferry.toml"
    plan.write_text(
        'version = 1\nname = "beats"\n\n[target]\nurl = "sqlite:///app.db"\n\n'
        '[[sources]]\nname = "beats"\nkind = "text"\npath = "beats"\n',
        encoding="utf-8",
    )
    return plan


def test_cancelling_the_backup_removes_the_unfinished_backup(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    assert wizard.start_page.open_plan(write_many_files_plan(folder, 3000))
    wizard.next()
    page = wizard.backup_page
    assert not page.cancel_button.isEnabled()
    assert page.start_backup()
    assert page.cancel_button.isVisible() and page.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: "Backing up: source" in page.status.text(), timeout=WAIT)
    assert wizard.runner.busy  # the cancel lands in the middle of the copy
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert "the unfinished backup was removed" in page.status.text()
    assert wizard.backup is None and not page.isComplete()
    backups = folder / "ferry-backups"
    assert not backups.exists() or list(backups.iterdir()) == []
    assert page.backup_button.isEnabled() and not page.cancel_button.isEnabled()


@pytest.fixture
def big_plan(tmp_path: Path) -> Iterator[Path]:
    """200k generated records and an existing target file holding one unrelated table."""
    plan = write_big_plan(tmp_path / "big", 200_000, batch_size=1000)
    with sqlite3.connect(tmp_path / "big" / "app.db") as conn:
        conn.execute("CREATE TABLE keep (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO keep VALUES (1, 'before')")
    yield plan


def test_cancelling_the_verification_says_so_and_gives_no_verdict(
    qtbot: Any, wizard: FerryWizard, big_plan: Path
) -> None:
    db = big_plan.parent / "app.db"
    before = sha256(db)
    assert wizard.start_page.open_plan(big_plan)
    page = wizard.verify_page
    assert page.start_verify()
    qtbot.waitUntil(lambda: "Reading items" in page.status.text(), timeout=WAIT)
    assert wizard.runner.busy
    assert page.cancel_button.isVisibleTo(page) and page.cancel_button.isEnabled()
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert page.verdict.text() == "Not verified"
    assert "Verification cancelled" in page.status.text()
    assert wizard.verify_result is None and not page.isComplete()
    assert not list((big_plan.parent / "ferry-reports").glob("*.html"))
    assert sha256(db) == before
    assert page.again_button.isEnabled()


def test_cancelling_the_preview_says_so_and_writes_nothing(
    qtbot: Any, wizard: FerryWizard, big_plan: Path
) -> None:
    db = big_plan.parent / "app.db"
    before = sha256(db)
    assert wizard.start_page.open_plan(big_plan)
    page = wizard.preview_page
    assert page.start_preview()
    qtbot.waitUntil(lambda: "rows read" in page.summary.text(), timeout=WAIT)
    assert wizard.runner.busy
    assert page.cancel_button.isVisibleTo(page) and page.cancel_button.isEnabled()
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert "Preview cancelled" in page.summary.text()
    assert wizard.preview_result is None and not page.isComplete()
    assert sha256(db) == before
    assert page.again.isEnabled() and page.mapping.editable


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung database server)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def test_cancelling_the_connection_test_stops_waiting_for_the_server(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, silent_server: int
) -> None:
    assert wizard.start_page.open_demo(tmp_path / "demo")
    page = wizard.connect_page
    page.pg_radio.setChecked(True)
    page.host.setText("127.0.0.1")
    page.port.setValue(silent_server)
    page.database.setText("app")
    page.user.setText("ferry")
    assert page.test_connection()
    qtbot.wait(500)
    assert wizard.runner.busy and page.server.text() == "Connecting …"
    assert page.cancel_button.isVisibleTo(page) and page.cancel_button.isEnabled()
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=5_000)  # not the 10 s timeout
    assert "Test cancelled" in page.server.text()
    assert page.report is None and not page.isComplete()
    assert wizard.runner.last_dialog is None  # a cancel is no error


def _big_json_folder(tmp_path: Path) -> Path:
    """A folder whose scan takes a while: 300,000 records."""
    folder = tmp_path / "app"
    folder.mkdir()
    records = [{"id": i, "name": f"job {i}", "size": i * 3} for i in range(300_000)]
    (folder / "jobs.json").write_text(json.dumps(records), encoding="utf-8")
    return folder


def test_the_folder_scan_tells_how_many_rows_it_has_read(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = _big_json_folder(tmp_path)
    page = wizard.start_page
    assert page.create_from_folder(folder)

    qtbot.waitUntil(lambda: "rows read" in page.status.text(), timeout=WAIT)

    assert f"Scanning {folder} … jobs." in page.status.text()
    page.cancel_button.click()  # (not needed to the end)
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)


def test_cancelling_the_folder_scan_writes_no_plan(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = _big_json_folder(tmp_path)
    page = wizard.start_page
    assert not page.cancel_button.isEnabled()
    assert page.create_from_folder(folder)
    assert page.cancel_button.isVisible() and page.cancel_button.isEnabled()
    assert wizard.runner.busy  # the scan reads 300,000 records: the cancel lands in it
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert page.status.text() == "Scan cancelled: no plan was written."
    assert not default_workspace(folder).exists()
    assert sorted(p.name for p in folder.iterdir()) == ["jobs.json"]
    assert wizard.plan is None and not page.isComplete()
    assert page.folder_button.isEnabled() and not page.cancel_button.isEnabled()
