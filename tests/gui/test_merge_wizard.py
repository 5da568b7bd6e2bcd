"""YTV2 (examples/ytv2) through the real wizard into the real PostgreSQL server: the Preview
page's *Merged sources* tab shows what each SQLite copy gave and the rows taken for deletions,
and the migration verifies."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from test_examples_wizard import EXAMPLES, migrate_and_verify, walk_to_preview

from ferry_gui.pages.preview import MERGES_TAB
from ferry_gui.wizard import FerryWizard


def test_ytv2_preview_shows_the_merge_and_the_deletions(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, pg_url: str
) -> None:
    folder = tmp_path / "ytv2"
    subprocess.run(
        [sys.executable, str(EXAMPLES / "ytv2" / "generate.py"), str(folder), "--videos", "120"],
        check=True,
        capture_output=True,
    )
    plan = folder / "ferry.toml"
    text = re.sub(r'(?m)^url = "postgresql://[^"]*"', f'url = "{pg_url}"', plan.read_text())
    plan.write_text(text)
    expected = json.loads((folder / "data" / "expected.json").read_text())

    walk_to_preview(qtbot, wizard, plan)

    page = wizard.preview_page
    assert page.tabs.isTabVisible(MERGES_TAB)
    inputs = {row[1]: row[2:] for row in page.merges.inputs.rows}
    assert inputs["nas.content"][0] == expected["nas_rows"]
    assert inputs["dashboard.content"][2] == expected["enhanced"]  # values won
    deleted = [re.search(r"'(.+)'", row[1]).group(1) for row in page.merges.deletions.rows]  # type: ignore[union-attr]
    assert sorted(deleted) == sorted(expected["deleted"])
    assert f"{len(deleted)}</b> treated as deletions" in page.merges.summary.text()

    migrate_and_verify(qtbot, wizard)
