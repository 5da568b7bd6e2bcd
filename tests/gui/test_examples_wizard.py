"""Two of the seed examples (``examples/``) driven through the real wizard, page by page,
offscreen: presentation jobs (conflicts with the dual-write database on the preview page)
and Boz Ripper (seven tables with foreign keys created from its schema)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from ferry_gui.wizard import FerryWizard, PageId

WAIT = 120_000
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def generate(name: str, folder: Path, rows: int) -> Path:
    """Run ``examples/<name>/generate.py``; the plan it copies beside the data."""
    script = EXAMPLES / name / "generate.py"
    proc = subprocess.run(
        [sys.executable, str(script), str(folder), "--rows", str(rows)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return folder / "ferry.toml"


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
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


def migrate_and_verify(qtbot: Any, wizard: FerryWizard) -> None:
    wizard.next()
    wizard.migrate_page.start_migration()
    qtbot.waitUntil(lambda: complete(wizard, PageId.MIGRATE), timeout=WAIT)
    wizard.next()
    qtbot.waitUntil(lambda: complete(wizard, PageId.VERIFY), timeout=WAIT)
    assert wizard.verify_result is not None and wizard.verify_result.verdict == "PASS"
    assert wizard.verify_page.verdict.text() == "PASS"
    wizard.next()
    assert wizard.currentId() == PageId.FINISH


def test_presentation_jobs_conflicts_show_on_the_preview_page_and_are_kept(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = tmp_path / "svc"
    plan = generate("presentation-jobs", folder, rows=40)
    db = folder / "presentation_jobs.db"
    before = dict((row[0], row) for row in query(db, "SELECT * FROM presentation_jobs"))

    walk_to_preview(qtbot, wizard, plan)

    preview = wizard.preview_result
    assert preview is not None
    conflicts = preview.table("presentation_jobs").conflicts
    assert conflicts > 0
    shown = {row[1] for row in wizard.preview_page.diffs.rows if row[2] == "conflict"}
    assert len(shown) == conflicts
    assert query(db, "SELECT count(*) FROM presentation_jobs")[0][0] == len(before)

    migrate_and_verify(qtbot, wizard)

    assert wizard.run_result is not None
    assert wizard.run_result.table("presentation_jobs").conflicts == conflicts
    after = dict((row[0], row) for row in query(db, "SELECT * FROM presentation_jobs"))
    kept = [key for key in shown if key.startswith("job_id=")]
    for key in kept:
        job_id = key.split("=", 1)[1].strip("'")
        assert after[job_id] == before[job_id]  # the newer database row was not overwritten


def test_boz_ripper_goes_through_every_page_into_seven_tables(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = tmp_path / "server"
    plan = generate("boz-ripper", folder, rows=24)
    state = json.loads((folder / "data" / "server_state.json").read_text(encoding="utf-8"))
    db = folder / "database" / "boz_ripper.db"

    walk_to_preview(qtbot, wizard, plan)

    assert not db.exists()  # the preview created it and took it away again
    assert wizard.preview_page.counts.rowCount() == 7
    assert wizard.preview_result is not None and wizard.preview_result.rejected_total > 0

    migrate_and_verify(qtbot, wizard)

    assert query(db, "PRAGMA foreign_key_check") == []
    assert set(query(db, "SELECT season_id, last_episode_assigned FROM tv_seasons")) == {
        (s["season_id"], s["last_episode_assigned"]) for s in state["tv_seasons"]
    }
