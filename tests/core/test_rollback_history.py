"""Rollback keeps the run history (issue 20 item 5, :mod:`ferry.runhistory`): the runs since
the restored backup stay listed, marked rolled back, and the rollback is a journaled run with a
report. Real SQLite files and a real PostgreSQL database."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from pgkit import pg_rows
from runskit import change_source, ferry, history_plan, load, migrate_with_backup, runs_json

import ferry.runhistory as runhistory
from ferry.errors import TargetError
from ferry.rollback import rollback
from ferry.runs import list_runs
from ferry.verify.run import verify


def items(url: str, folder: Path) -> list[tuple[object, ...]]:
    sql = "SELECT id, name FROM items ORDER BY id"
    if url.startswith("sqlite"):
        db = sqlite3.connect(folder / "target.db")
        try:
            return [tuple(r) for r in db.execute(sql).fetchall()]
        finally:
            db.close()
    return [tuple(r) for r in pg_rows(url, sql)]


def test_rollback_to_the_second_backup_keeps_every_run(tmp_path: Path, target_url: str) -> None:
    plan_file = history_plan(tmp_path, target_url)
    plan = load(plan_file)
    first = migrate_with_backup(plan)
    after_first = items(target_url, tmp_path)
    change_source(tmp_path)
    second = migrate_with_backup(plan)
    checked = asyncio.run(verify(plan))

    done = ferry("rollback", plan_file, "--backup", str(second.backup_id), "--yes")

    assert done.exit_code == 0, done.output
    assert items(target_url, tmp_path) == after_first
    runs = asyncio.run(list_runs(plan))
    assert [(r.run_id, r.kind, r.status, r.rolled_back) for r in runs[:3]] == [
        (first.run_id, "migrate", "completed", False),
        (second.run_id, "migrate", "rolled_back", True),
        (checked.run_id, "verify", "PASS", False),
    ]
    back = runs[3]
    assert (back.kind, back.status, back.backup_id, back.journaled) == (
        "rollback",
        "completed",
        second.backup_id,
        True,
    )
    assert runs[1].rolled_back_by == back.run_id and len(runs) == 4
    assert (runs[1].inserted, runs[1].updated) == (1, 1)  # its counts are kept
    assert back.report_path and Path(back.report_path).exists()
    report = json.loads(Path(back.report_path).with_suffix(".json").read_text(encoding="utf-8"))
    assert report["kind"] == "rollback" and report["result"]["rolled_back_runs"] == [second.run_id]
    assert f"Rollback journaled as run {back.run_id}" in done.stdout
    # A later verify judges against the run the backup holds, not the rolled-back one.
    again = asyncio.run(verify(plan))
    assert again.migration_run_id == first.run_id
    # The listed JSON parses and says the same.
    data = runs_json(plan_file)
    assert [r["status"] for r in data["runs"]] == [
        "completed",
        "rolled_back",
        "PASS",
        "completed",
        "FAIL",  # the sources moved on since the first run
    ]


def test_rollback_to_the_first_backup_keeps_the_history(tmp_path: Path, target_url: str) -> None:
    plan_file = history_plan(tmp_path, target_url)
    plan = load(plan_file)
    first = migrate_with_backup(plan)
    change_source(tmp_path)
    second = migrate_with_backup(plan)
    checked = asyncio.run(verify(plan))

    done = asyncio.run(rollback(plan, backup_id=first.backup_id))

    runs = asyncio.run(list_runs(plan))
    assert [(r.run_id, r.rolled_back) for r in runs] == [
        (first.run_id, True),
        (second.run_id, True),
        (checked.run_id, False),
        (done.run_id, False),
    ]
    assert runs[-1].kind == "rollback" and runs[-1].backup_id == first.backup_id
    assert {r.rolled_back_by for r in runs[:2]} == {runs[-1].run_id}
    assert done.report_path and Path(done.report_path).exists()
    if target_url.startswith("sqlite"):
        # The target did not exist at backup time: it is gone again, and the history is
        # known from the reports (the rollback's names the runs it rolled back).
        assert not (tmp_path / "target.db").exists()
        assert not runs[0].journaled and not runs[-1].journaled
        assert any(first.run_id in w and second.run_id in w for w in done.warnings)
        shown = ferry("runs", plan_file)
        assert shown.exit_code == 0 and "known from their reports only" in shown.stdout
    else:
        assert pg_rows(target_url, "SELECT to_regclass('public.items') IS NULL") == [(True,)]
        assert pg_rows(target_url, "SELECT mode, status FROM ferry.runs ORDER BY started_at") == [
            ("migrate", "rolled_back"),
            ("migrate", "rolled_back"),
            ("rollback", "completed"),
        ]
        # the rejected rows of the runs come back with them
        rejects = pg_rows(target_url, "SELECT run_id FROM ferry.rejects ORDER BY 1")
        assert sorted(r[0] for r in rejects) == sorted([first.run_id, second.run_id])


def test_a_failed_write_back_keeps_the_restore_and_names_what_was_lost(
    tmp_path: Path, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_file = history_plan(tmp_path, target_url)
    plan = load(plan_file)
    first = migrate_with_backup(plan)
    after_first = items(target_url, tmp_path)
    change_source(tmp_path)
    second = migrate_with_backup(plan)

    async def refuse(_target: object) -> None:
        raise TargetError("the journal cannot be written (injected)")

    monkeypatch.setattr(runhistory, "ensure_journal", refuse)
    done = asyncio.run(rollback(plan, backup_id=second.backup_id))

    assert items(target_url, tmp_path) == after_first  # the restore stands
    assert done.rolled_back_runs == [second.run_id]
    assert any("injected" in w and second.run_id in w for w in done.warnings)
    runs = asyncio.run(list_runs(plan))
    # The journal is exactly as restored (no half state): the first run only; the second is
    # known from its report, marked rolled back by the rollback's report.
    assert [(r.run_id, r.journaled, r.rolled_back) for r in runs] == [
        (first.run_id, True, False),
        (second.run_id, False, True),
        (done.run_id, False, False),
    ]
    assert runs[2].kind == "rollback"
