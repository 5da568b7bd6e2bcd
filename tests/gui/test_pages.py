"""Single pages and the command line, without running a whole migration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from guikit import write_big_plan
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from ferry.scan.workspace import default_workspace
from ferry_gui.cli import register
from ferry_gui.walk import SHOTS
from ferry_gui.wizard import FerryWizard, PageId


def test_skipping_the_backup_needs_a_confirmation(
    wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert wizard.start_page.open_demo(tmp_path / "demo")
    wizard.next()
    page = wizard.backup_page
    assert not page.isComplete()
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: answers.pop(0))
    page.skip_box.setChecked(True)
    assert (page.skip_box.isChecked(), wizard.backup_skipped, page.isComplete()) == (
        False,
        False,
        False,
    )
    page.skip_box.setChecked(True)
    assert (page.skip_box.isChecked(), wizard.backup_skipped, page.isComplete()) == (
        True,
        True,
        True,
    )


def test_the_backup_page_lists_what_will_be_saved_and_where(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    assert wizard.start_page.open_demo(tmp_path / "demo")
    wizard.next()
    page = wizard.backup_page
    roles = [row[0] for row in page.items.rows]
    assert roles == [
        "source settings",
        "source env",
        "source executions",
        "source progress",
        "source heartbeats",
        "source heartbeats",
        "target",
    ]
    assert str(tmp_path / "demo" / "ferry-backups") in page.where.text()


def test_a_socket_folder_host_goes_into_the_url_query(wizard: FerryWizard, tmp_path: Path) -> None:
    assert wizard.start_page.open_demo(tmp_path / "demo")
    page = wizard.connect_page
    page.pg_radio.setChecked(True)
    page.host.setText("/run/postgresql")
    page.database.setText("app")
    page.user.setText("me")
    assert page.target_url() == "postgresql://me@:5432/app?host=%2Frun%2Fpostgresql"


def test_a_scanned_folder_becomes_a_draft_plan(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "jobs.json").write_text('[{"id": 1, "t": "a"}, {"id": 2, "t": "b"}]', "utf-8")
    (folder / ".env").write_text("MODE=fast\n", "utf-8")
    assert wizard.start_page.create_from_folder(folder)
    qtbot.waitUntil(lambda: wizard.plan is not None and not wizard.runner.busy, timeout=60_000)
    rows = sorted((r[1], r[4]) for r in wizard.start_page.sources.rows)
    assert rows == [("env", 1), ("json", 2)]
    assert (default_workspace(folder) / "ferry.toml").is_file()
    assert wizard.start_page.isComplete()
    assert wizard.currentId() == PageId.START


def test_the_gui_command_refuses_screenshots_without_the_demo() -> None:
    @click.group()
    def cli() -> None:
        pass

    register(cli)
    result = CliRunner().invoke(cli, ["gui", "--screenshots", "shots"])
    assert result.exit_code == 2
    assert "--screenshots needs --demo" in result.output


@pytest.fixture(scope="module")
def demo_walk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ferry-gui --demo --screenshots shots`` run once, its temp dir ``tmp`` of its own."""
    folder = tmp_path_factory.mktemp("walk")
    (folder / "tmp").mkdir()
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(folder / "config"),
        "TMPDIR": str(folder / "tmp"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "ferry_gui", "--demo", "--screenshots", str(folder / "shots")],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return folder


@pytest.mark.slow
def test_the_demo_walk_writes_one_screenshot_per_page(demo_walk: Path) -> None:
    names = sorted(p.name for p in (demo_walk / "shots").iterdir())
    assert names == [f"{name}.png" for name in SHOTS]
    image = QImage(str(demo_walk / "shots" / "05-migrate.png"))
    assert image.width() >= 760 and image.height() >= 560


@pytest.mark.slow
def test_the_demo_walk_removes_its_demo_folder(demo_walk: Path) -> None:
    left = [p.name for p in (demo_walk / "tmp").iterdir() if p.name.startswith("ferry-demo-")]
    assert left == []


def test_the_shipped_font_files_load_as_dejavu_sans(qapp: Any) -> None:
    from PySide6.QtGui import QFontDatabase

    from ferry_gui.resources import font_paths

    paths = font_paths()
    assert [p.name for p in paths] == ["DejaVuSans-Bold.ttf", "DejaVuSans.ttf"]
    for path in paths:
        font_id = QFontDatabase.addApplicationFont(str(path))
        assert QFontDatabase.applicationFontFamilies(font_id) == ["DejaVu Sans"]


def test_an_opened_plan_lists_its_sources_with_size_and_rows_counted_in_a_worker(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = write_big_plan(tmp_path / "app", 1234)
    assert wizard.start_page.open_plan(plan)
    model = wizard.start_page.sources
    assert model.rows == [["items", "json", "data/items.json", "…", "…", "", ""]]
    qtbot.waitUntil(lambda: model.rows[0][4] != "…", timeout=60_000)
    name, kind, _path, size, rows, tables, problem = model.rows[0]
    assert (name, kind, rows, tables, problem) == ("items", "json", 1234, "items", "")
    assert size.endswith(" KiB")  # the CLI's units


def test_the_demo_plan_shows_the_row_count_ferry_init_would_show(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    from ferry.sources import open_source

    assert wizard.start_page.open_demo(tmp_path / "demo")
    plan = wizard.plan
    assert plan is not None
    expected = {}
    for spec in plan.sources:  # the scan `ferry init` runs: every row read and counted
        reader = open_source(spec, plan.base_dir, plan.sources)
        expected[spec.name] = sum(t.row_estimate or 0 for t in reader.scan())
        reader.close()
    model = wizard.start_page.sources
    qtbot.waitUntil(lambda: all(row[4] != "…" for row in model.rows), timeout=60_000)
    assert {row[0]: row[4] for row in model.rows} == expected
    assert all(rows > 0 for rows in expected.values())
