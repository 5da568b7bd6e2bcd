"""The wizard saves a plan as a document: the Connect page changes the target's line only."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from typing import Any

from ferry.demo import demo_source
from ferry_gui.wizard import FerryWizard

WAIT = 120_000


def test_the_connect_page_changes_the_target_line_and_keeps_every_comment(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    shutil.copytree(demo_source(), tmp_path / "demo")
    path = tmp_path / "demo" / "ferry.toml"
    before = path.read_text(encoding="utf-8")
    assert wizard.start_page.open_plan(path)
    page = wizard.connect_page
    page.initializePage()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    page.sqlite_path.setText("other.db")
    assert page.apply_target()
    after = path.read_text(encoding="utf-8")
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
    assert [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        '-url = "sqlite:///app.db"    # the embedded default: a file beside this plan',
        '+url = "sqlite:///other.db"    # the embedded default: a file beside this plan',
    ]


def test_a_folder_scanned_in_the_wizard_becomes_a_commented_draft(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "jobs.json").write_text('[{"id": 1, "t": "a"}, {"id": 2, "t": "b"}]', "utf-8")
    assert wizard.start_page.create_from_folder(folder)
    qtbot.waitUntil(lambda: wizard.plan is not None and not wizard.runner.busy, timeout=WAIT)
    assert wizard.plan_path is not None
    lines = wizard.plan_path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(f"# Draft plan written by `ferry init` from {folder} on ")
    assert "# jobs: a table Ferry creates, fed by jobs (2 rows)" in lines
