"""A killed first load into a new SQLite file: the next start removes the half-made file.

Before the fix the kill left a file of several MB with a hot journal where no file existed
before. Now the run records that it creates the file (``new.db.ferry-new``), and the next
start removes the file — only because the marker's process is gone and the file, its journal
rolled back, holds nothing — with a note, leaving the folder as it was before the first run.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from faultkit import FerryProcess, ferry_run, sqlite_query

from conftest import BIG_PLAN

pytestmark = pytest.mark.slow


def test_a_killed_first_load_into_a_new_file_is_removed_on_the_next_start_with_a_note(
    big_sources: Path, tmp_path: Path
) -> None:
    db = tmp_path / "new.db"
    plan = tmp_path / "ferry.toml"
    plan.write_text(BIG_PLAN.format(url=f"sqlite:///{db}", folder=big_sources), encoding="utf-8")
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    # Killed while the load's transaction is open in the new file (its journal is there). The
    # rows may still sit in SQLite's page cache: how much reached the file is up to the cache.
    journal = Path(f"{db}-journal")
    assert proc.wait_until(lambda: journal.exists() and db.exists(), "a load")
    assert proc.signal(signal.SIGKILL)
    proc.wait()
    assert db.exists() and journal.exists()  # what the kill leaves

    preview = ferry_run("preview", plan, cwd=tmp_path)

    assert preview.returncode == 0, preview.stderr
    said = " ".join(preview.stderr.split())  # (the console wraps long lines)
    assert f"removed {db}: an empty database file a killed Ferry run (pid {proc.proc.pid}" in said
    assert "no file was there before it" in said
    # A preview commits nothing: the folder is as it was before the first run.
    assert not db.exists() and not journal.exists()
    assert not Path(f"{db}.ferry-new").exists()
    done = ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sqlite_query(db, "SELECT count(*) FROM items") == [(60_000,)]
    assert not Path(f"{db}.ferry-new").exists()
