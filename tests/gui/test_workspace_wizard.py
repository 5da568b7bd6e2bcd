"""The wizard's "Create from a folder" asks for the plan's workspace (default: the folder's own,
under ``FERRY_WORKSPACE_DIR`` here) and never writes into the app's data folder unless the
operator picks it; the Start and Finish pages show the workspace. The real wizard, offscreen;
only the OS folder chooser is answered by the test."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog

from ferry.demo import demo_source
from ferry.scan.workspace import default_workspace
from ferry_gui.wizard import FerryWizard, PageId
from ferry_gui.workspacechoice import WorkspaceDialog

WAIT = 60_000


def make_app(folder: Path) -> Path:
    folder.mkdir(parents=True)
    users = [{"id": i, "name": f"user {i}"} for i in range(1, 6)]
    (folder / "users.json").write_text(json.dumps(users), encoding="utf-8")
    (folder / ".env").write_text("MODE=prod\n", encoding="utf-8")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(folder.rglob("*"))
    }


def folder_chooser(monkeypatch: pytest.MonkeyPatch, *answers: Path) -> list[str]:
    """Answer QFileDialog.getExistingDirectory with ``answers`` in turn; the titles asked."""
    asked: list[str] = []
    queue = [str(a) for a in answers]

    def chooser(parent: Any, title: str, *args: Any, **kwargs: Any) -> str:
        asked.append(title)
        return queue.pop(0)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", chooser)
    return asked


def open_workspace_dialog(wizard: FerryWizard) -> WorkspaceDialog:
    page = wizard.start_page
    page.folder_button.click()
    dialog = page.workspace_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def drafted(wizard: FerryWizard) -> Callable[[], bool]:
    return lambda: wizard.plan is not None and not wizard.runner.busy


def test_the_dialog_proposes_the_folders_own_workspace(
    wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_app(tmp_path / "app")
    folder_chooser(monkeypatch, folder)

    dialog = open_workspace_dialog(wizard)

    assert dialog.edit.text() == str(default_workspace(folder))
    assert f"Ferry reads <b>{folder}</b> and writes nothing into it." in dialog.intro.text()


def test_the_default_workspace_gets_the_plan_and_the_folder_stays_byte_identical(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_app(tmp_path / "app")
    before = snapshot(folder)
    folder_chooser(monkeypatch, folder)
    dialog = open_workspace_dialog(wizard)

    dialog.ok_button.click()
    qtbot.waitUntil(drafted(wizard), timeout=WAIT)
    wizard.next()
    wizard.backup_page.start_backup()
    qtbot.waitUntil(
        lambda: wizard.currentId() == PageId.BACKUP and wizard.backup_page.isComplete(),
        timeout=WAIT,
    )

    workspace = default_workspace(folder)
    assert wizard.plan_path == workspace / "ferry.toml"
    assert wizard.backup is not None and workspace in wizard.backup.path.parents
    assert snapshot(folder) == before


def test_the_start_page_shows_the_workspace(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = make_app(tmp_path / "app")
    workspace = default_workspace(folder)

    assert wizard.start_page.create_from_folder(folder)
    qtbot.waitUntil(drafted(wizard), timeout=WAIT)

    label = wizard.start_page.workspace_label
    assert label.isVisible()
    assert label.text() == (
        f"Workspace: <code>{workspace}</code> (backups in <code>ferry-backups</code>, "
        "reports in <code>ferry-reports</code> there, as the plan says)"
    )


def test_the_finish_page_shows_the_workspace(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = make_app(tmp_path / "app")
    assert wizard.start_page.create_from_folder(folder)
    qtbot.waitUntil(drafted(wizard), timeout=WAIT)

    summary = wizard.finish_page.summary_html()

    assert f"Workspace: <code>{default_workspace(folder)}</code>" in summary


def test_another_workspace_picked_with_the_chooser_gets_the_plan(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_app(tmp_path / "app")
    chosen = tmp_path / "plans"
    chosen.mkdir()
    asked = folder_chooser(monkeypatch, folder, chosen)
    dialog = open_workspace_dialog(wizard)

    dialog.choose_button.click()
    dialog.ok_button.click()
    qtbot.waitUntil(drafted(wizard), timeout=WAIT)

    assert asked == ["The app's data folder", "The plan's workspace"]
    assert wizard.plan_path == chosen / "ferry.toml"
    assert not default_workspace(folder).exists()


def test_the_data_folder_as_workspace_is_written_only_when_chosen(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_app(tmp_path / "app")
    folder_chooser(monkeypatch, folder)
    dialog = open_workspace_dialog(wizard)

    dialog.edit.setText(str(folder))
    assert "Inside the app's data folder" in dialog.note.text()
    dialog.ok_button.click()
    qtbot.waitUntil(drafted(wizard), timeout=WAIT)

    assert wizard.plan_path == folder / "ferry.toml"
    assert wizard.plan is not None
    assert sorted(s.path or "" for s in wizard.plan.sources) == [".env", "users.json"]


def test_cancelling_the_workspace_dialog_scans_nothing(
    wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_app(tmp_path / "app")
    folder_chooser(monkeypatch, folder)
    dialog = open_workspace_dialog(wizard)

    dialog.reject()

    assert wizard.plan is None and not wizard.runner.busy
    assert not default_workspace(folder).exists()


def test_the_demo_is_copied_into_the_workspaces_not_the_package(
    wizard: FerryWizard, ferry_workspace_dir: Path
) -> None:
    package = snapshot(demo_source())

    assert wizard.start_page.open_demo()

    assert wizard.plan_path == ferry_workspace_dir / "demo" / "ferry.toml"
    assert snapshot(demo_source()) == package
