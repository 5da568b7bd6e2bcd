"""A SQLite target's file synced early after a whole copy (ferry.targets.writeback): the run's
result is the same, the sync ran while the run went on, and no thread outlives the run.

Real files: the whole-copy tests' source and plan (two tables copied record for record).
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from test_whole_copy import good_rows, load, outcome, source_db, whole_plan

from ferry.errors import FerryError
from ferry.migrate import migrate
from ferry.targets import writeback


@pytest.fixture
def syncs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files the write-back synced, in order; each sync made slow (a big file's), so a
    run that did not wait for it would end with it still running."""
    seen: list[Path] = []
    original = writeback.WriteBack._sync

    def spy(self: writeback.WriteBack) -> None:
        time.sleep(0.5)
        original(self)
        seen.append(self.path)

    monkeypatch.setattr(writeback.WriteBack, "_sync", spy)
    return seen


def writebacks_alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ferry-writeback"]


def test_a_whole_copy_syncs_the_target_early_with_the_same_result(
    tmp_path: Path, syncs: list[Path]
) -> None:
    source = source_db(tmp_path, *good_rows())

    early, state = load(tmp_path, source, native=True)
    assert syncs and set(syncs) == {tmp_path / "target-True.db"}
    assert not writebacks_alive()
    python, python_state = load(tmp_path, source, native=False)
    assert (outcome(early), state) == (outcome(python), python_state)


def test_a_failing_run_leaves_no_sync_running(tmp_path: Path, syncs: list[Path]) -> None:
    """``content`` is copied whole (its sync starts), then a row of ``steps`` lacks its parent
    and ``on_reject = "stop"`` fails the run: the new file is removed, and the sync started
    for it has ended first."""
    content, steps = good_rows()
    source = source_db(tmp_path, content, [*steps, (999, 12345, "orphan", None)])
    target = tmp_path / "target.db"
    plan = whole_plan(target, source, tmp_path)
    plan.tables[1].on_reject = "stop"

    with pytest.raises(FerryError):
        asyncio.run(migrate(plan, write_reports=False))
    assert syncs and set(syncs) == {target}
    assert not writebacks_alive()
    assert not target.exists()
